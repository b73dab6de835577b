package mail

import "time"

// UserInvitation invites a person to join an organization on csphub: a
// single-use link to choose their password.
type UserInvitation struct {
	To           Recipient
	Organization string // the organization's name
	InvitedBy    string // who sent the invitation (a name, or the organization's)
	Link         string
	ExpiresAt    time.Time
}

func (UserInvitation) Template() string       { return "user_invitation" }
func (m UserInvitation) Recipient() Recipient { return m.To }
