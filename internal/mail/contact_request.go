package mail

// ContactRequest brings an indirect provider a reseller's message sent
// through the provider directory, at the contact email of its listing.
type ContactRequest struct {
	To                Recipient
	Provider          string // the provider's name
	Reseller          string // the reseller's name
	ResellerPartnerID string
	SenderName        string // who sent it: a user's name, or "" for an API token
	SenderEmail       string // the sender's email, to reply to, or ""
	Message           string
	Link              string // the provider's inbox
}

func (ContactRequest) Template() string       { return "contact_request" }
func (m ContactRequest) Recipient() Recipient { return m.To }
