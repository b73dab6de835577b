package service

import (
	"time"

	"csphub"
)

// InvitePartnerInput is a provider's invitation to a reseller.
type InvitePartnerInput struct {
	Email     string `json:"email" maxLength:"254" doc:"Work email of the reseller's global admin or admin agent"`
	PartnerID string `json:"partner_id,omitempty" maxLength:"10" doc:"The reseller's partner ID, when known: only that partner can accept"`
	Lang      string `json:"lang,omitempty" enum:"en,fr" doc:"Language of the invitation email (default: the inviter's)"`
	// GrantRoles are the roles of the delegated admin grant accepting
	// gives the provider.
	GrantRoles []string `json:"grant_roles,omitempty" maxItems:"10" doc:"The delegated admin roles asked for: partner roles but global_admin (account_admin, admin_agent, sales_agent, helpdesk_agent, billing_admin); admin_agent when absent or empty"`
}

// PartnershipView is a relationship with the names pages show.
type PartnershipView struct {
	csphub.Partnership
	ProviderName      string        `json:"provider_name"`
	ProviderPartnerID string        `json:"provider_partner_id"`
	ResellerName      string        `json:"reseller_name,omitempty"`
	ResellerPartnerID string        `json:"reseller_partner_id,omitempty"`
	Grant             *csphub.Grant `json:"grant,omitempty" doc:"The delegated admin grant the reseller gave the provider, while it lasts"`
}

// PartnershipQuery filters a list of relationships.
type PartnershipQuery struct {
	Q         string // prefix of the other party's name or partner ID
	State     string // one state, or "" for every one
	PageToken string
	PageSize  int
}

// PartnershipPage is one page of relationships, newest first.
type PartnershipPage struct {
	Items         []PartnershipView `json:"items"`
	NextPageToken string            `json:"next_page_token,omitempty"`
}

// InvitationView is what the acceptance page shows of an invitation,
// before anyone acts on it: who invites, for which regions, what
// authorizing means.
type InvitationView struct {
	PartnershipID     string                  `json:"partnership_id"`
	State             csphub.PartnershipState `json:"state"`
	ProviderName      string                  `json:"provider_name"`
	ProviderPartnerID string                  `json:"provider_partner_id"`
	ProviderRegions   []string                `json:"provider_regions"`
	InvitedEmail      string                  `json:"invited_email"`
	InvitedPartnerID  string                  `json:"invited_partner_id,omitempty"`
	ExpiresAt         time.Time               `json:"expires_at"`
	GrantRoles        []string                `json:"grant_roles" doc:"The roles of the delegated admin grant accepting gives the provider"`
}

// AcceptInvitationInput is the reseller's answer.
type AcceptInvitationInput struct {
	Authorize bool `json:"authorize" doc:"The ticked box: the provider may order for the reseller's customers and gets delegated admin"`
	// DurationDays and AutoExtend shape the delegated admin grant accepting
	// gives the provider.
	DurationDays int  `json:"duration_days,omitempty" doc:"How long the delegated admin grant lasts, in days: 1 to 730 (2 years, the default when 0 or absent)"`
	AutoExtend   bool `json:"auto_extend,omitempty" doc:"Extend the grant by 180 days each time it reaches its expiry, while the relationship lasts"`
}

// PartnershipChange carries the reason of a suspension or termination.
type PartnershipChange struct {
	Reason string `json:"reason,omitempty" maxLength:"2000" doc:"Required to terminate; both sides see it"`
}
