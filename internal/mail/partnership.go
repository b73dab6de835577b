package mail

import "time"

// PartnershipInvitation invites a reseller to authorize an indirect
// provider: a single-use link to the acceptance page.
type PartnershipInvitation struct {
	To                Recipient
	Provider          string // the provider's name
	ProviderPartnerID string
	InvitedBy         string // who sent the invitation (a name, or the provider's)
	PartnerID         string // the reseller's partner ID the invitation names, or ""
	// Roles are the delegated admin roles the invitation asks for (role
	// codes, named in the recipient's language by the templates).
	Roles     []string
	Link      string
	ExpiresAt time.Time
}

func (PartnershipInvitation) Template() string       { return "partnership_invitation" }
func (m PartnershipInvitation) Recipient() Recipient { return m.To }

// PartnershipStatus tells one side of a provider–reseller relationship that
// it changed.
type PartnershipStatus struct {
	To       Recipient
	Side     string // the recipient's side: provider or reseller
	Provider string // the provider's name
	Reseller string // the reseller's name, or the invited email before anyone accepted
	// Change is what happened: accepted, declined, cancelled, expired,
	// suspended, reactivated or terminated.
	Change  string
	EndedBy string // for a termination, the name of the side that ended it
	Reason  string
	Link    string // the recipient's list of relationships
}

func (PartnershipStatus) Template() string       { return "partnership_status" }
func (m PartnershipStatus) Recipient() Recipient { return m.To }
