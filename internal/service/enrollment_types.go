package service

import (
	"time"

	"csphub"
)

// EnrollmentInput is an application to the partner program. A signed-in
// global admin of a partner organization enrols it; a visitor gives
// Account, and the organization and its first user (the global admin) are
// created with the enrollment.
type EnrollmentInput struct {
	Program        string                `json:"program" enum:"indirect_reseller,indirect_provider" doc:"Every new partner enrols as an indirect reseller first; an approved reseller then applies as indirect_provider with its support contact alone"`
	Account        *EnrollmentAccount    `json:"account,omitempty" doc:"For a visitor: the work account to create with the enrollment"`
	PartnerID      string                `json:"partner_id,omitempty" doc:"An existing partner ID to link; without one a new partner ID is issued"`
	ClaimCode      string                `json:"claim_code,omitempty" doc:"The claim code the operator issued with the partner ID"`
	LegalName      string                `json:"legal_name" required:"false" doc:"Legal name of the business (indirect_reseller)"`
	Address        csphub.Address        `json:"address" required:"false" doc:"Legal address (indirect_reseller)"`
	PrimaryContact csphub.PrimaryContact `json:"primary_contact" required:"false" doc:"indirect_reseller"`
	SupportContact csphub.SupportContact `json:"support_contact"`
}

// EnrollmentAccount is the work account a visitor creates while enrolling:
// the organization is named after the legal name and located in the
// address's country.
type EnrollmentAccount struct {
	Domain   string `json:"domain" doc:"Primary domain of the organization, e.g. contoso.com"`
	Name     string `json:"name" doc:"Full name of the first user, who becomes global admin"`
	Email    string `json:"email" doc:"Work email of the first user"`
	Password string `json:"password" doc:"At least 8 characters"`
	Lang     string `json:"lang,omitempty" enum:"en,fr"`
}

// EnrollmentView is an application as the applicant and the reviewer see
// it: its state, every check, the history and the profile under review.
type EnrollmentView struct {
	csphub.Enrollment
	OrganizationName string                        `json:"organization_name"`
	Profile          csphub.PartnerProfile         `json:"profile"`
	Checks           []csphub.EnrollmentCheck      `json:"checks"`
	History          []csphub.EnrollmentTransition `json:"history"`
	AgeDays          int                           `json:"age_days" doc:"Whole days since submission"`
	Overdue          bool                          `json:"overdue" doc:"Still open after its due date"`
}

// EnrollResult is a new application and, when the enrollment created
// them, the organization and its first user.
type EnrollResult struct {
	Enrollment   EnrollmentView       `json:"enrollment"`
	Organization *csphub.Organization `json:"organization,omitempty"`
	User         *csphub.User         `json:"user,omitempty"`
}

// EmailVerificationLink is what the verification page shows before the
// contact confirms: whose application, which address.
type EmailVerificationLink struct {
	EnrollmentID string    `json:"enrollment_id"`
	LegalName    string    `json:"legal_name"`
	Email        string    `json:"email"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// InfoAnswer answers a reviewer's request for information: a message and,
// optionally, corrections to the profile under review.
type InfoAnswer struct {
	Message string        `json:"message" doc:"What the reviewer asked for, answered"`
	Profile *ProfilePatch `json:"profile,omitempty"`
}

// ProfilePatch changes a partner profile; absent fields stay as they are.
// A changed primary contact email must be verified again; after approval,
// a changed legal name or country sends the membership back to review.
type ProfilePatch struct {
	LegalName      *string                `json:"legal_name,omitempty"`
	Address        *csphub.Address        `json:"address,omitempty"`
	PrimaryContact *csphub.PrimaryContact `json:"primary_contact,omitempty"`
	SupportContact *csphub.SupportContact `json:"support_contact,omitempty"`
}

// Decision is the reviewer's outcome for an application in review.
type Decision struct {
	Decision string `json:"decision" enum:"approve,reject,request_info"`
	Reason   string `json:"reason,omitempty" doc:"Shown to the applicant; required to reject or request information"`
}

// ReviewQueueQuery filters the operator's review queue.
type ReviewQueueQuery struct {
	State     string // one state, or "" for every open one
	Country   string // ISO 3166-1 alpha-2, or ""
	PageToken string
	PageSize  int
}

// ReviewQueueItem is one application in the review queue.
type ReviewQueueItem struct {
	csphub.Enrollment
	OrganizationName string `json:"organization_name"`
	LegalName        string `json:"legal_name"`
	PartnerID        string `json:"partner_id"`
	AgeDays          int    `json:"age_days"`
	Overdue          bool   `json:"overdue"`
}

// ReviewQueuePage is one page of the queue, due first (so the oldest and
// the overdue lead).
type ReviewQueuePage struct {
	Items         []ReviewQueueItem `json:"items"`
	NextPageToken string            `json:"next_page_token,omitempty"`
}

// Membership is one program the partner belongs to or applied for.
type Membership struct {
	Program      csphub.Program         `json:"program"`
	State        csphub.EnrollmentState `json:"state"`
	EnrollmentID string                 `json:"enrollment_id"`
	Since        time.Time              `json:"since" doc:"Submission, or approval once approved"`
}

// PartnerProfileView is the partner profile page: legal profile, contacts,
// partner ID, account type and the program information.
type PartnerProfileView struct {
	Organization csphub.Organization    `json:"organization"`
	Profile      csphub.PartnerProfile  `json:"profile"`
	AccountType  string                 `json:"account_type" doc:"indirect_reseller or indirect_provider: the partner's highest approved membership, else the program applied for"`
	Memberships  []Membership           `json:"memberships"`
	Agreement    csphub.AgreementStatus `json:"agreement"`
	ETag         string                 `json:"-"`
}

// PartnerOverview answers, for the partner's CSP overview page, "where do
// I stand and what do I do next".
type PartnerOverview struct {
	Organization csphub.Organization    `json:"organization"`
	Enrolled     bool                   `json:"enrolled" doc:"An indirect reseller enrollment exists"`
	Enrollment   *EnrollmentView        `json:"enrollment,omitempty" doc:"The latest indirect reseller enrollment"`
	Agreement    csphub.AgreementStatus `json:"agreement"`
	// CanAcceptAgreement: the caller is a global admin (the only role that
	// may accept the agreement).
	CanAcceptAgreement bool `json:"can_accept_agreement"`
	// AdminAgentStep: the enrollment is approved and the caller is a
	// global admin who is not yet an admin agent.
	AdminAgentStep bool `json:"admin_agent_step"`
	// Figures are the partner's numbers, once a membership is approved.
	Figures *PartnerFigures `json:"figures,omitempty" doc:"Once a membership is approved"`
	// Activity is the latest audit records, for the roles that read the
	// audit log (global and account admins); nil for the others.
	Activity *RecentActivity `json:"activity,omitempty" doc:"The latest audit records; global and account admins only"`
}
