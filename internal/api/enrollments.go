package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

var (
	partnerAdmins = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin}}
	reviewers     = Access{Roles: []string{csphub.RoleVerificationReviewer, csphub.RoleOperatorAdmin}}
)

// enrollmentAccess: who may call the enrollment, verification and partner
// profile routes. The use cases narrow each further (an application is
// seen by its organization and the operator's reviewers only).
var enrollmentAccess = map[string]Access{
	"POST /api/v1/enrollments":                                  {Public: true, Identify: true},
	"GET /api/v1/enrollments":                                   authenticated,
	"GET /api/v1/enrollments/{id}":                              authenticated,
	"POST /api/v1/enrollments/{id}/email-verification":          public,
	"POST /api/v1/enrollments/{id}/email-verification/requests": partnerAdmins,
	"POST /api/v1/enrollments/{id}/info":                        partnerAdmins,
	"GET /api/v1/partner-profile":                               {Delegable: true}, // a provider reads its reseller's profile
	"PATCH /api/v1/partner-profile":                             partnerAdmins,
	"GET /api/v1/partner-overview":                              authenticated,
	"GET /api/v1/operator/enrollments":                          reviewers,
	"POST /api/v1/operator/enrollments/{id}/decision":           reviewers,
}

func (a *API) enrollmentRoutes() {
	register(a, huma.Operation{
		OperationID: "enroll", Method: http.MethodPost, Path: "/api/v1/enrollments",
		Summary: "Enrol in the partner program as an indirect reseller",
		Description: "Signed in as a global admin of a partner organization, enrols it; without credentials, `account` creates the organization " +
			"(named after the legal name, in the address's country) and its first user, the global admin, in the same transaction. " +
			"Linking an existing partner ID needs its claim code; without one a new partner ID is issued. Every refusal names its field: " +
			"web-mail primary contact (`webmail_domain`), partner ID and claim code that do not match (`claim_failed`), inactive partner ID " +
			"(`partner_id_inactive`), partner ID located elsewhere (`partner_id_location`), postal code, phone and state per the country's rules. " +
			"One open application per organization and program (409 `enrollment_exists`). The application is submitted, then waits for the " +
			"primary contact to confirm their email address with the emailed link (7 days).",
		Tags:          []string{"enrollment"},
		DefaultStatus: http.StatusCreated,
	}, a.enroll)
	register(a, huma.Operation{
		OperationID: "listEnrollments", Method: http.MethodGet, Path: "/api/v1/enrollments",
		Summary: "Your organization's applications, newest first", Tags: []string{"enrollment"},
	}, a.listEnrollments)
	register(a, huma.Operation{
		OperationID: "getEnrollment", Method: http.MethodGet, Path: "/api/v1/enrollments/{id}",
		Summary:     "An application: state, every check, history, age and due date",
		Description: "Seen by the applicant's organization and by the operator's verification reviewers and admins; anyone else gets 404.",
		Tags:        []string{"enrollment"},
	}, a.getEnrollment)
	register(a, huma.Operation{
		OperationID: "verifyEnrollmentEmail", Method: http.MethodPost, Path: "/api/v1/enrollments/{id}/email-verification",
		Summary: "Confirm the primary contact's email address with the emailed token",
		Description: "The token works once, for 7 days, for its own application and address. Used or replaced links answer 409 `link_used`, " +
			"expired ones 409 `link_expired`, unknown ones 404. An application waiting for the confirmation goes to review.",
		Tags: []string{"enrollment"},
	}, a.verifyEnrollmentEmail)
	register(a, huma.Operation{
		OperationID: "resendEnrollmentEmail", Method: http.MethodPost, Path: "/api/v1/enrollments/{id}/email-verification/requests",
		Summary:       "Email the primary contact a new verification link",
		Description:   "Earlier links stop working. At most one a minute (429 with Retry-After).",
		Tags:          []string{"enrollment"},
		DefaultStatus: http.StatusAccepted,
	}, a.resendEnrollmentEmail)
	register(a, huma.Operation{
		OperationID: "answerInfoRequest", Method: http.MethodPost, Path: "/api/v1/enrollments/{id}/info",
		Summary:     "Answer the reviewer's request for information",
		Description: "With a message and, optionally, corrections to the profile. The application goes back to review, or to email verification when the primary contact's address changed.",
		Tags:        []string{"enrollment"},
	}, a.answerInfoRequest)
	register(a, huma.Operation{
		OperationID: "getPartnerProfile", Method: http.MethodGet, Path: "/api/v1/partner-profile",
		Summary:     "Your partner profile and program information",
		Description: "Legal profile, contacts, partner ID, account type, memberships and the agreement. The ETag header is for If-Match on PATCH.",
		Tags:        []string{"enrollment"},
	}, a.getPartnerProfile)
	register(a, huma.Operation{
		OperationID: "updatePartnerProfile", Method: http.MethodPatch, Path: "/api/v1/partner-profile",
		Summary: "Change your partner profile",
		Description: "Absent fields stay as they are. A changed primary contact email must be confirmed again; after approval, a changed legal name " +
			"or country sends the membership back to review. With If-Match, a profile changed since it was read answers 412.",
		Tags: []string{"enrollment"},
	}, a.updatePartnerProfile)
	register(a, huma.Operation{
		OperationID: "getPartnerOverview", Method: http.MethodGet, Path: "/api/v1/partner-overview",
		Summary: "Where the partner stands: enrollment, agreement, next step", Tags: []string{"enrollment"},
	}, a.getPartnerOverview)
	register(a, huma.Operation{
		OperationID: "reviewQueue", Method: http.MethodGet, Path: "/api/v1/operator/enrollments",
		Summary:     "The review queue: open applications, due first",
		Description: "Oldest and overdue first (by due date). `state` picks one state (default: every open one), `country` one country.",
		Tags:        []string{"operator"},
	}, a.reviewQueue)
	register(a, huma.Operation{
		OperationID: "decideEnrollment", Method: http.MethodPost, Path: "/api/v1/operator/enrollments/{id}/decision",
		Summary: "Approve, reject, or ask for information about an application in review",
		Description: "Verification reviewers and operator admins only. A reason is required to reject or ask for information; the applicant " +
			"sees it and gets an email. Approving needs the primary contact's address confirmed.",
		Tags: []string{"operator"},
	}, a.decideEnrollment)
}

type enrollInput struct{ Body service.EnrollmentInput }

type enrollOutput struct{ Body service.EnrollResult }

func (a *API) enroll(ctx context.Context, in *enrollInput) (*enrollOutput, error) {
	r, err := a.svc.Enroll(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &enrollOutput{Body: r}, nil
}

type enrollmentListOutput struct {
	Body struct {
		Items []service.EnrollmentView `json:"items"`
	}
}

func (a *API) listEnrollments(ctx context.Context, _ *struct{}) (*enrollmentListOutput, error) {
	list, err := a.svc.ListEnrollments(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &enrollmentListOutput{}
	out.Body.Items = list
	return out, nil
}

type enrollmentIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

type enrollmentOutput struct{ Body service.EnrollmentView }

func (a *API) getEnrollment(ctx context.Context, in *enrollmentIDInput) (*enrollmentOutput, error) {
	v, err := a.svc.GetEnrollment(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &enrollmentOutput{Body: v}, nil
}

type verifyEnrollmentEmailInput struct {
	ID   string `path:"id" maxLength:"36"`
	Body struct {
		Token string `json:"token" maxLength:"256" doc:"The token of the emailed link"`
	}
}

type verifyEnrollmentEmailOutput struct{ Body csphub.Enrollment }

func (a *API) verifyEnrollmentEmail(ctx context.Context, in *verifyEnrollmentEmailInput) (*verifyEnrollmentEmailOutput, error) {
	e, err := a.svc.VerifyEnrollmentEmail(ctx, in.ID, in.Body.Token)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &verifyEnrollmentEmailOutput{Body: e}, nil
}

func (a *API) resendEnrollmentEmail(ctx context.Context, in *enrollmentIDInput) (*struct{}, error) {
	if err := a.svc.ResendEnrollmentEmail(ctx, actorFrom(ctx), in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}

type answerInfoInput struct {
	ID   string `path:"id" maxLength:"36"`
	Body service.InfoAnswer
}

func (a *API) answerInfoRequest(ctx context.Context, in *answerInfoInput) (*enrollmentOutput, error) {
	v, err := a.svc.AnswerInfoRequest(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &enrollmentOutput{Body: v}, nil
}

type partnerProfileOutput struct {
	ETag string `header:"ETag"`
	Body service.PartnerProfileView
}

func (a *API) getPartnerProfile(ctx context.Context, _ *struct{}) (*partnerProfileOutput, error) {
	v, err := a.svc.GetPartnerProfile(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerProfileOutput{ETag: v.ETag, Body: v}, nil
}

type updatePartnerProfileInput struct {
	IfMatch string `header:"If-Match" maxLength:"100" doc:"The ETag read with the profile: a profile changed since answers 412"`
	Body    service.ProfilePatch
}

func (a *API) updatePartnerProfile(ctx context.Context, in *updatePartnerProfileInput) (*partnerProfileOutput, error) {
	v, err := a.svc.UpdatePartnerProfile(ctx, actorFrom(ctx), in.IfMatch, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerProfileOutput{ETag: v.ETag, Body: v}, nil
}

type partnerOverviewOutput struct{ Body service.PartnerOverview }

func (a *API) getPartnerOverview(ctx context.Context, _ *struct{}) (*partnerOverviewOutput, error) {
	v, err := a.svc.PartnerOverview(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerOverviewOutput{Body: v}, nil
}

type reviewQueueInput struct {
	State     string `query:"state" enum:"submitted,email_verification_pending,in_review,info_requested,approved,rejected" doc:"One state; default every open one"`
	Country   string `query:"country" maxLength:"2" doc:"ISO 3166-1 alpha-2"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"200" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type reviewQueueOutput struct{ Body service.ReviewQueuePage }

func (a *API) reviewQueue(ctx context.Context, in *reviewQueueInput) (*reviewQueueOutput, error) {
	p, err := a.svc.ReviewQueue(ctx, actorFrom(ctx), service.ReviewQueueQuery{State: in.State, Country: in.Country, PageToken: in.PageToken, PageSize: in.PageSize})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &reviewQueueOutput{Body: p}, nil
}

type decideEnrollmentInput struct {
	ID             string `path:"id" maxLength:"36"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.Decision
}

func (a *API) decideEnrollment(ctx context.Context, in *decideEnrollmentInput) (*enrollmentOutput, error) {
	v, err := a.svc.DecideEnrollment(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &enrollmentOutput{Body: v}, nil
}
