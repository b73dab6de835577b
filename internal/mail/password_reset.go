package mail

import "time"

// PasswordReset carries a single-use link to choose a new password.
type PasswordReset struct {
	To        Recipient
	Link      string
	ExpiresAt time.Time
	// FirstTime: the account was just created for the recipient, who sets a
	// first password rather than resetting one.
	FirstTime bool
}

func (PasswordReset) Template() string       { return "password_reset" }
func (m PasswordReset) Recipient() Recipient { return m.To }
