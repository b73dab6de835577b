package csphub

import "time"

// UserStatus says whether a user may sign in.
type UserStatus string

const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// User is a person who signs in to one organization.
type User struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"organization_id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Lang       string     `json:"lang"`
	Status     UserStatus `json:"status"`
	Roles      []string   `json:"roles"`
	MFAEnabled bool       `json:"mfa_enabled"`
	CreatedAt  time.Time  `json:"created_at"`
}

// APIToken is an organization's credential for automation. The secret is
// shown once, at creation; only its hash is kept.
type APIToken struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"organization_id"`
	Name       string     `json:"name"`
	Roles      []string   `json:"roles"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}
