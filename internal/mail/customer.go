package mail

import "time"

// CustomerInvitation asks a customer for a reseller relationship with an
// indirect provider, naming the reseller: a single-use link to the
// acceptance page.
type CustomerInvitation struct {
	To            Recipient
	Reseller      string // the reseller's name
	Provider      string // the provider's name
	InvitedBy     string // who sent it (a name, or the reseller's)
	Company       string // the customer's company name, when the reseller gave one
	ResellerRoles []string
	ProviderRoles []string
	Link          string
	ExpiresAt     time.Time
}

func (CustomerInvitation) Template() string       { return "customer_invitation" }
func (m CustomerInvitation) Recipient() Recipient { return m.To }

// CustomerRelationshipStatus tells a reseller or a provider that a
// customer accepted or declined an invitation, or removed its relationship.
type CustomerRelationshipStatus struct {
	To       Recipient
	Customer string // the customer's name, or the invited email before an answer
	Reseller string
	Provider string
	// Change is what happened: accepted, declined, removed (the customer
	// ended its relationship with Partner) or created (a provider created
	// the customer for the reseller).
	Change  string
	Partner string // for removed: the partner whose relationship ended
	Link    string
}

func (CustomerRelationshipStatus) Template() string       { return "customer_relationship_status" }
func (m CustomerRelationshipStatus) Recipient() Recipient { return m.To }
