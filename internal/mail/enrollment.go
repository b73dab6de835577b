package mail

import "time"

// EnrollmentVerification asks an application's primary contact to confirm
// their email address with a single-use link.
type EnrollmentVerification struct {
	To        Recipient
	LegalName string // the applicant's legal name
	Program   string // indirect_reseller or indirect_provider
	Link      string
	ExpiresAt time.Time
}

func (EnrollmentVerification) Template() string       { return "enrollment_verification" }
func (m EnrollmentVerification) Recipient() Recipient { return m.To }

// EnrollmentStatus tells an application's primary contact that its state
// changed, with the reviewer's reason when there is one.
type EnrollmentStatus struct {
	To        Recipient
	LegalName string
	Program   string // indirect_reseller or indirect_provider
	State     string // the new state
	Reason    string
	Link      string // the application's page
}

func (EnrollmentStatus) Template() string       { return "enrollment_status" }
func (m EnrollmentStatus) Recipient() Recipient { return m.To }
