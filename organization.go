package csphub

import "time"

// OrgKind says which side of the program an organization is on.
type OrgKind string

const (
	OrgOperator OrgKind = "operator"
	OrgPartner  OrgKind = "partner"
	OrgCustomer OrgKind = "customer"
)

// Organization is a tenant: the operator, a partner or a customer. Everything
// else belongs to exactly one organization.
type Organization struct {
	ID        string    `json:"id"`
	Kind      OrgKind   `json:"kind"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	Domain    string    `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
}
