package csphub

import "time"

// Program is a membership of the partner program a partner enrols in.
type Program string

const (
	// ProgramIndirectReseller is where every new partner starts.
	ProgramIndirectReseller Program = "indirect_reseller"
	// ProgramIndirectProvider is the distributor's membership.
	ProgramIndirectProvider Program = "indirect_provider"
)

// EnrollmentState is where an application stands in its verification.
type EnrollmentState string

const (
	EnrollmentSubmitted         EnrollmentState = "submitted"
	EnrollmentEmailVerification EnrollmentState = "email_verification_pending"
	EnrollmentInReview          EnrollmentState = "in_review"
	EnrollmentInfoRequested     EnrollmentState = "info_requested"
	EnrollmentApproved          EnrollmentState = "approved"
	EnrollmentRejected          EnrollmentState = "rejected"
)

// enrollmentTransitions is the verification state machine: from each state,
// the states it may move to.
var enrollmentTransitions = map[EnrollmentState][]EnrollmentState{
	"":                          {EnrollmentSubmitted},
	EnrollmentSubmitted:         {EnrollmentEmailVerification, EnrollmentInReview},
	EnrollmentEmailVerification: {EnrollmentInReview},
	EnrollmentInReview:          {EnrollmentApproved, EnrollmentRejected, EnrollmentInfoRequested, EnrollmentEmailVerification},
	EnrollmentInfoRequested:     {EnrollmentInReview, EnrollmentEmailVerification},
	EnrollmentApproved:          {EnrollmentInReview},
}

// CanTransition reports whether an enrollment may move from one state to
// another. An application whose contact is already verified (a reseller
// applying as provider) goes from submitted straight to review. Besides
// the review path, a changed primary contact email sends
// an application back to email verification, and an approved partner whose
// legal name or country changes goes back to review.
func CanTransition(from, to EnrollmentState) bool {
	for _, s := range enrollmentTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Open reports whether the application still awaits an outcome.
func (s EnrollmentState) Open() bool {
	return s != EnrollmentApproved && s != EnrollmentRejected && s != ""
}

// CheckName names one verification check of an enrollment.
type CheckName string

const (
	CheckEmailOwnership    CheckName = "email_ownership"
	CheckEmailDomain       CheckName = "email_domain"
	CheckPartnerIDLocation CheckName = "partner_id_location"
	CheckBusiness          CheckName = "business"
)

// Checks lists every check in the order pages show them.
var Checks = []CheckName{CheckEmailOwnership, CheckEmailDomain, CheckPartnerIDLocation, CheckBusiness}

// CheckStatus is the outcome of one check so far. attention means the
// automated check found something the reviewer must look at (for example
// an email domain that differs from the organization's).
type CheckStatus string

const (
	CheckPending   CheckStatus = "pending"
	CheckPassed    CheckStatus = "passed"
	CheckFailed    CheckStatus = "failed"
	CheckAttention CheckStatus = "attention"
)

// EnrollmentCheck is the status of one check.
type EnrollmentCheck struct {
	Name      CheckName   `json:"name"`
	Status    CheckStatus `json:"status"`
	Reason    string      `json:"reason,omitempty"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// EnrollmentTransition is one step of an application's history.
type EnrollmentTransition struct {
	ID        string          `json:"id"`
	From      EnrollmentState `json:"from,omitempty"`
	To        EnrollmentState `json:"to"`
	ActorKind ActorKind       `json:"actor_kind"`
	ActorID   string          `json:"actor_id"`
	ActorName string          `json:"actor_name"`
	Reason    string          `json:"reason,omitempty"`
	At        time.Time       `json:"at"`
}

// Enrollment is an application to a program.
type Enrollment struct {
	ID          string          `json:"id"`
	OrgID       string          `json:"organization_id"`
	Program     Program         `json:"program"`
	State       EnrollmentState `json:"state"`
	Country     string          `json:"country"`
	Reason      string          `json:"reason,omitempty" doc:"The reviewer's last reason, shown to the applicant"`
	SubmittedAt time.Time       `json:"submitted_at"`
	DueAt       time.Time       `json:"due_at"`
	DecidedAt   *time.Time      `json:"decided_at,omitempty"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Version     int             `json:"version"`
}

// Overdue reports whether an open application has passed its due date.
func (e Enrollment) Overdue(now time.Time) bool {
	return e.State.Open() && now.After(e.DueAt)
}

// AddBusinessDays returns t moved forward by n working days (Monday to
// Friday), keeping the time of day.
func AddBusinessDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	State      string `json:"state,omitempty" doc:"Region or state; required where the country's rules say so"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country" doc:"ISO 3166-1 alpha-2"`
}

// PrimaryContact is the person the program writes to about the account.
type PrimaryContact struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone" doc:"International format, e.g. +33 1 23 45 67 89"`
	Lang      string `json:"lang,omitempty" enum:"en,fr" doc:"Language of the emails sent to the contact"`
}

// SupportContact is how the partner's customers reach its support.
type SupportContact struct {
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Website string `json:"website,omitempty"`
}

// PartnerProfile is a partner organization's legal business profile.
type PartnerProfile struct {
	OrgID          string         `json:"organization_id"`
	PartnerID      string         `json:"partner_id"`
	LegalName      string         `json:"legal_name"`
	Address        Address        `json:"address"`
	PrimaryContact PrimaryContact `json:"primary_contact"`
	SupportContact SupportContact `json:"support_contact"`
	Version        int            `json:"version"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// PartnerIDStatus says whether a partner ID may be linked and used.
type PartnerIDStatus string

const (
	PartnerIDActive   PartnerIDStatus = "active"
	PartnerIDInactive PartnerIDStatus = "inactive"
)

// PartnerID is one of the program's numeric partner identifiers.
type PartnerID struct {
	PartnerID string          `json:"partner_id"`
	LegalName string          `json:"legal_name"`
	Country   string          `json:"country"`
	Status    PartnerIDStatus `json:"status"`
	Source    string          `json:"source" enum:"imported,issued"`
	OrgID     string          `json:"organization_id,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	LinkedAt  *time.Time      `json:"linked_at,omitempty"`
}
