package csphub

import "time"

// PartnershipState is where a provider–reseller relationship stands.
type PartnershipState string

const (
	PartnershipInvited    PartnershipState = "invited"
	PartnershipActive     PartnershipState = "active"
	PartnershipSuspended  PartnershipState = "suspended"
	PartnershipTerminated PartnershipState = "terminated"
	PartnershipDeclined   PartnershipState = "declined"
	PartnershipExpired    PartnershipState = "expired"
	PartnershipCancelled  PartnershipState = "cancelled"
)

// partnershipTransitions: the provider invites; the reseller accepts or
// declines; an invitation expires or the provider cancels it; the provider
// suspends and reactivates; either side terminates.
var partnershipTransitions = map[PartnershipState][]PartnershipState{
	PartnershipInvited:   {PartnershipActive, PartnershipDeclined, PartnershipExpired, PartnershipCancelled},
	PartnershipActive:    {PartnershipSuspended, PartnershipTerminated},
	PartnershipSuspended: {PartnershipActive, PartnershipTerminated},
}

// CanMovePartnership reports whether a relationship may go from one state
// to another.
func CanMovePartnership(from, to PartnershipState) bool {
	for _, s := range partnershipTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Partnership is a provider–reseller relationship, from its invitation on.
type Partnership struct {
	ID               string           `json:"id"`
	ProviderID       string           `json:"provider_id"`
	ResellerID       string           `json:"reseller_id,omitempty"`
	State            PartnershipState `json:"state"`
	InvitedEmail     string           `json:"invited_email"`
	InvitedPartnerID string           `json:"invited_partner_id,omitempty"`
	InvitedBy        string           `json:"invited_by"`
	InvitedAt        time.Time        `json:"invited_at"`
	GrantRoles       []string         `json:"grant_roles" doc:"The roles of the delegated admin grant the invitation asks for: accepting gives the provider exactly these"`
	ExpiresAt        time.Time        `json:"expires_at"`
	Region           string           `json:"region,omitempty"`
	AcceptedBy       string           `json:"accepted_by,omitempty"`
	AcceptedAt       *time.Time       `json:"accepted_at,omitempty" doc:"Since when the relationship is active"`
	EndedByOrg       string           `json:"ended_by_organization_id,omitempty"`
	EndedReason      string           `json:"ended_reason,omitempty"`
	EndedAt          *time.Time       `json:"ended_at,omitempty"`
	UpdatedAt        time.Time        `json:"updated_at"`
	Version          int              `json:"version"`
}

// GrantState is where a delegated admin grant stands.
type GrantState string

const (
	GrantPending    GrantState = "pending"
	GrantActive     GrantState = "active"
	GrantTerminated GrantState = "terminated"
	GrantExpired    GrantState = "expired"
)

// Grant is a delegated admin grant: users of the grantee organization act
// in the grantor organization with the listed roles only, until it ends.
type Grant struct {
	ID            string     `json:"id"`
	GrantorID     string     `json:"grantor_id"`
	GranteeID     string     `json:"grantee_id"`
	PartnershipID string     `json:"partnership_id,omitempty"`
	Roles         []string   `json:"roles"`
	State         GrantState `json:"state"`
	DurationDays  int        `json:"duration_days"`
	AutoExtend    bool       `json:"auto_extend" doc:"Extended by 180 days at expiry"`
	CreatedAt     time.Time  `json:"created_at"`
	ActivatedAt   *time.Time `json:"activated_at,omitempty"`
	ExpiresAt     time.Time  `json:"expires_at"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	EndedBy       string     `json:"ended_by,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Version       int        `json:"version"`
}

// Grant durations and extensions, after Microsoft's GDAP.
const (
	GrantMinDays       = 1
	GrantMaxDays       = 730
	GrantDefaultDays   = 730
	GrantExtensionDays = 180
	GrantPendingDays   = 90
)

// ProviderServices are what a provider may offer resellers in its listing.
var ProviderServices = []string{"technical_training", "technical_support", "marketing_help", "credit_terms", "financing"}
