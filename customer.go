package csphub

import "time"

// Customers and the three-party reseller relationship.
//
// A reseller invites a customer for one of its indirect providers. When the
// customer's global admin accepts, one transaction creates:
//
//   - the link (CustomerLink): the customer's reseller relationship with
//     the provider, naming the reseller as indirect reseller; a provider
//     orders for the customer only through a live link naming the reseller
//     of record;
//   - the customer's relationships (CustomerRelationship) with the provider
//     and with the reseller, unless they exist already: what each partner's
//     customer list shows, and what the customer removes;
//   - the delegated admin grants the customer agreed to.
//
// What a partner sees of customers follows from these rows alone.

// PartnerRole says what a partner is to a customer.
type PartnerRole string

const (
	PartnerRoleProvider PartnerRole = "indirect_provider"
	PartnerRoleReseller PartnerRole = "indirect_reseller"
)

// RelationshipState is where a customer relationship or link stands.
type RelationshipState string

const (
	RelationshipActive  RelationshipState = "active"
	RelationshipRemoved RelationshipState = "removed"
)

// CustomerRelationship is a customer's relationship with one partner.
type CustomerRelationship struct {
	ID         string            `json:"id"`
	CustomerID string            `json:"customer_id"`
	PartnerID  string            `json:"partner_organization_id" doc:"The provider or reseller organization"`
	Role       PartnerRole       `json:"role" enum:"indirect_provider,indirect_reseller" doc:"What the partner is to the customer"`
	State      RelationshipState `json:"state" enum:"active,removed"`
	CreatedAt  time.Time         `json:"created_at"`
	RemovedAt  *time.Time        `json:"removed_at,omitempty"`
	RemovedBy  string            `json:"removed_by,omitempty"`
	Version    int               `json:"version"`
}

// CustomerLink is the customer's reseller relationship with an indirect
// provider, naming the indirect reseller.
type CustomerLink struct {
	ID           string            `json:"id"`
	CustomerID   string            `json:"customer_id"`
	ProviderID   string            `json:"provider_id"`
	ResellerID   string            `json:"reseller_id" doc:"The indirect reseller the relationship names"`
	State        RelationshipState `json:"state" enum:"active,removed"`
	InvitationID string            `json:"invitation_id,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	RemovedAt    *time.Time        `json:"removed_at,omitempty"`
	RemovedBy    string            `json:"removed_by,omitempty"`
	Version      int               `json:"version"`
}

// CustomerInvitationState is where a reseller's invitation of a customer
// stands.
type CustomerInvitationState string

const (
	CustomerInvitationPending   CustomerInvitationState = "pending"
	CustomerInvitationAccepted  CustomerInvitationState = "accepted"
	CustomerInvitationDeclined  CustomerInvitationState = "declined"
	CustomerInvitationCancelled CustomerInvitationState = "cancelled"
	CustomerInvitationExpired   CustomerInvitationState = "expired"
)

// CustomerInvitation is a reseller's emailed request to a customer for a
// reseller relationship with one of its providers.
type CustomerInvitation struct {
	ID          string                  `json:"id"`
	ResellerID  string                  `json:"reseller_id"`
	ProviderID  string                  `json:"provider_id"`
	Email       string                  `json:"email"`
	CompanyName string                  `json:"company_name,omitempty"`
	Lang        string                  `json:"lang"`
	State       CustomerInvitationState `json:"state"`
	// The delegated admin roles asked of the customer, for the reseller
	// and for the provider; empty asks for none.
	ResellerRoles []string   `json:"reseller_roles"`
	ProviderRoles []string   `json:"provider_roles"`
	InvitedBy     string     `json:"invited_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	LastSentAt    time.Time  `json:"last_sent_at"`
	SendCount     int        `json:"send_count"`
	CustomerID    string     `json:"customer_id,omitempty" doc:"The customer that answered"`
	AnsweredAt    *time.Time `json:"answered_at,omitempty"`
	Version       int        `json:"version"`
}

// CustomerGrantRoles are the customer roles a partner may ask for through
// delegated admin (Partner Center's GDAP roles map onto these).
var CustomerGrantRoles = []string{RoleGlobalAdmin, RoleBillingAdmin, RoleUser}
