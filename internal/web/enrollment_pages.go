package web

import (
	"context"
	"net/http"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Enrollments is what the enrollment, verification and partner profile pages need of the service.
type Enrollments interface {
	Enroll(ctx context.Context, actor csphub.Actor, in service.EnrollmentInput) (service.EnrollResult, error)
	ListEnrollments(ctx context.Context, actor csphub.Actor) ([]service.EnrollmentView, error)
	GetEnrollment(ctx context.Context, actor csphub.Actor, id string) (service.EnrollmentView, error)
	EmailVerificationLinkOf(ctx context.Context, token string) (service.EmailVerificationLink, error)
	VerifyEnrollmentEmail(ctx context.Context, id, token string) (csphub.Enrollment, error)
	ResendEnrollmentEmail(ctx context.Context, actor csphub.Actor, id string) error
	AnswerInfoRequest(ctx context.Context, actor csphub.Actor, id string, in service.InfoAnswer) (service.EnrollmentView, error)
	ReviewQueue(ctx context.Context, actor csphub.Actor, q service.ReviewQueueQuery) (service.ReviewQueuePage, error)
	DecideEnrollment(ctx context.Context, actor csphub.Actor, id string, in service.Decision) (service.EnrollmentView, error)
	GetPartnerProfile(ctx context.Context, actor csphub.Actor) (service.PartnerProfileView, error)
	UpdatePartnerProfile(ctx context.Context, actor csphub.Actor, ifMatch string, in service.ProfilePatch) (service.PartnerProfileView, error)
	PartnerOverview(ctx context.Context, actor csphub.Actor) (service.PartnerOverview, error)
}

// The enrollment pages: the guided enrollment, the applicant's
// application, the contact's email verification, the partner's overview
// and profile, and the operator's review console.
const (
	pageEnroll              = "enroll"
	pagePartnerEnrollment   = "partner_enrollment"
	pagePartnerOverview     = "partner_overview"
	pagePartnerProfile      = "partner_profile"
	pageEnrollmentVerify    = "enrollment_verify"
	pageOperatorEnrollments = "operator_enrollments"
	pageOperatorEnrollment  = "operator_enrollment"
)

var enrollmentPageNames = []string{
	pageEnroll, pagePartnerEnrollment, pagePartnerOverview, pagePartnerProfile,
	pageEnrollmentVerify, pageOperatorEnrollments, pageOperatorEnrollment,
}

func (h *Handler) registerEnrollmentsPages(mux *http.ServeMux) {
	mux.Handle("GET /enroll", h.page(h.enrollForm))
	mux.Handle("POST /enroll", h.post(h.enroll))
	mux.Handle("GET /partner", h.page(h.partnerOverview))
	mux.Handle("GET /partner/enrollment", h.page(h.partnerEnrollment))
	mux.Handle("POST /partner/enrollment/{id}/info", h.post(h.answerInfoRequest))
	mux.Handle("POST /partner/enrollment/{id}/resend", h.post(h.resendVerification))
	mux.Handle("GET /partner/profile", h.page(h.partnerProfile))
	mux.Handle("POST /partner/profile", h.post(h.partnerProfileUpdate))
	mux.Handle("GET /enrollments/verify/{token}", h.page(h.verificationForm))
	mux.Handle("POST /enrollments/verify/{token}", h.post(h.verificationConfirm))
	mux.Handle("GET /operator/enrollments", h.page(h.reviewQueue))
	mux.Handle("GET /operator/enrollments/{id}", h.page(h.reviewEnrollment))
	mux.Handle("POST /operator/enrollments/{id}/decision", h.post(h.decideEnrollment))
}

// programFail answers an error of the program pages that no form can
// show: a refusal is the 403 page, an absent or hidden record the 404 one.
func (h *Handler) programFail(w http.ResponseWriter, r *http.Request, err error) {
	switch csphub.ErrorKind(err) {
	case csphub.KindForbidden:
		h.renderError(w, r, http.StatusForbidden)
	case csphub.KindUnauthenticated:
		redirect(w, r, "/signin")
	default:
		h.fail(w, r, err)
	}
}

// partnerGuard lets through a signed-in partner user past MFA; anyone
// else signed in gets 403.
func (h *Handler) partnerGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireMFAPassed(w, r)
	if !ok {
		return nil, false
	}
	if v.me.Organization.Kind != csphub.OrgPartner {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	return v, true
}

// operatorGuard lets through a signed-in operator user past MFA; a partner
// or a customer gets 403. What each operator role may do is the service's
// decision.
func (h *Handler) operatorGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireMFAPassed(w, r)
	if !ok {
		return nil, false
	}
	if v.me.Organization.Kind != csphub.OrgOperator {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	return v, true
}

// hasAnyRole: the viewer is a user (not acting through a delegated grant)
// holding one of roles.
func (v *viewer) hasAnyRole(roles ...string) bool {
	if v == nil || v.me.User == nil || v.actor.OnBehalfOf != "" {
		return false
	}
	for _, r := range roles {
		if v.actor.HasRole(r) {
			return true
		}
	}
	return false
}

// reviewsApplications: an operator user who reviews applications (an admin
// or a verification reviewer), who opens the queue, the partner IDs and
// the providers' pages.
func (v *viewer) reviewsApplications() bool {
	return v.hasAnyRole(csphub.RoleOperatorAdmin, csphub.RoleVerificationReviewer)
}

// programNav is what the partner and operator tabs take.
// programNav is what the program tabs need: the current tab and, for the
// operator's, whether the reader may open the review pages (the queue and
// the partner IDs), which the layout fills in (OperatorNav).
type programNav struct {
	Current  string
	Reviewer bool
}

// profileFacts is what the profile's facts show: the profile, and its
// country by name.
type profileFacts struct {
	Profile     csphub.PartnerProfile
	CountryName string
}

// countryName names a country in the reader's language, or shows its code
// when the catalog has no name for it.
func countryName(l *i18n.Localizer, code string) string {
	if code == "" {
		return ""
	}
	if key := countryKey(code); l.Has(key) {
		return l.T(key)
	}
	return code
}

func factsOf(l *i18n.Localizer, p csphub.PartnerProfile) profileFacts {
	return profileFacts{Profile: p, CountryName: countryName(l, p.Address.Country)}
}

// programProblem translates a refusal a program form shows as a whole: a
// conflict with the application's current state, a rule of the review, a
// stale profile. The message is "enrollment.error.<code>" when the catalog
// has one, else a generic "the application changed meanwhile". ok is false
// for anything else (a missing right, an absent record, a server error).
func programProblem(l *i18n.Localizer, err error) (msg string, status int, ok bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", 0, false
	}
	switch e.Kind {
	case csphub.KindConflict:
		status = http.StatusConflict
	case csphub.KindPreconditionFailed:
		status = http.StatusPreconditionFailed
	case csphub.KindUnprocessable:
		status = http.StatusUnprocessableEntity
	default:
		return "", 0, false
	}
	if key := "enrollment.error." + e.Code; l.Has(key) {
		return l.T(key), status, true
	}
	return l.T("enrollment.error.state_changed"), status, true
}

// checksTable is what the checks table shows: the checks and, for the
// reviewer, the details recorded with each.
type checksTable struct {
	Checks  []csphub.EnrollmentCheck
	Details bool
}

// ChecksTable is called by the application page as ($.Page.ChecksTable .Checks).
func (partnerEnrollmentPage) ChecksTable(c []csphub.EnrollmentCheck) checksTable {
	return checksTable{Checks: c}
}

// ChecksTable is called by the review page as ($.Page.ChecksTable .Checks).
func (reviewPage) ChecksTable(c []csphub.EnrollmentCheck) checksTable {
	return checksTable{Checks: c, Details: true}
}
