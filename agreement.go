package csphub

import "time"

// Agreement is one published version of the partner agreement, in force
// from EffectiveAt in the regions it lists.
type Agreement struct {
	ID          string    `json:"id"`
	Version     string    `json:"version"`
	Title       string    `json:"title"`
	Body        string    `json:"body,omitempty"`
	URL         string    `json:"url,omitempty"`
	EffectiveAt time.Time `json:"effective_at"`
	PublishedAt time.Time `json:"published_at"`
	Regions     []string  `json:"regions"`
}

// AgreementAcceptance records that a partner's global admin accepted a
// version for the partner's region.
type AgreementAcceptance struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"organization_id"`
	AgreementID string    `json:"agreement_id"`
	Version     string    `json:"version"`
	Region      string    `json:"region"`
	UserID      string    `json:"user_id"`
	SignerName  string    `json:"signer_name"`
	SignerEmail string    `json:"signer_email"`
	SignerPhone string    `json:"signer_phone"`
	AcceptedAt  time.Time `json:"accepted_at"`
}

// AgreementStatus says where a partner stands with the agreement of its
// region: Signed when it accepted the version in force;
// ReacceptanceRequired when it accepted an earlier version only.
type AgreementStatus struct {
	Region               string               `json:"region,omitempty"`
	Current              *Agreement           `json:"current,omitempty"`
	Signed               bool                 `json:"signed"`
	ReacceptanceRequired bool                 `json:"reacceptance_required"`
	Accepted             *AgreementAcceptance `json:"accepted,omitempty" doc:"The partner's latest acceptance, of any version"`
}
