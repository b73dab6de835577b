package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

var (
	agreementPublishers = Access{Roles: []string{csphub.RoleOperatorAdmin}}
	agreementAcceptors  = Access{Roles: []string{csphub.RoleGlobalAdmin}}
)

// agreementAccess: who may call the partner agreement routes. The use
// cases narrow each further: only a partner's global admin signed in as
// themselves accepts, only the operator's admins publish.
var agreementAccess = map[string]Access{
	"GET /api/v1/agreements":                   authenticated,
	"POST /api/v1/agreements/{id}/acceptances": agreementAcceptors,
	"GET /api/v1/agreement-status":             authenticated,
	"GET /api/v1/operator/agreements":          agreementPublishers,
	"POST /api/v1/operator/agreements":         agreementPublishers,
}

func (a *API) agreementRoutes() {
	register(a, huma.Operation{
		OperationID: "listAgreements", Method: http.MethodGet, Path: "/api/v1/agreements",
		Summary: "The partner agreement's versions",
		Description: "For a partner, the versions that took effect in its region (which follows from its legal country), the one in force first; " +
			"none before the partner has a partner profile. For the operator, every version, the latest effective first. Customers get 403.",
		Tags: []string{"agreement"},
	}, a.listAgreements)
	register(a, huma.Operation{
		OperationID: "acceptAgreement", Method: http.MethodPost, Path: "/api/v1/agreements/{id}/acceptances",
		Summary: "Accept the partner agreement for your organization",
		Description: "Only a global admin of the partner, signed in as themselves, accepts (403 `global_admin_required`; API tokens get 403 `user_required`), " +
			"and only the version in force for the partner's region (409 `not_current_agreement`); a partner with no partner profile yet gets 409 `not_enrolled`. " +
			"The signer's name, email and phone are required; the phone is stored in international form. " +
			"Accepting a version the partner accepted already answers the existing acceptance.",
		Tags:          []string{"agreement"},
		DefaultStatus: http.StatusCreated,
	}, a.acceptAgreement)
	register(a, huma.Operation{
		OperationID: "getAgreementStatus", Method: http.MethodGet, Path: "/api/v1/agreement-status",
		Summary: "Whether a partner accepted the agreement in force for its region",
		Description: "For providers checking their resellers, and for the operator. `signed` is true when the partner accepted the version in force; " +
			"`reacceptance_required` when it accepted an earlier version only. Who signed is shown to the partner itself and to the operator only. " +
			"An unknown partner ID answers 404; customers get 403.",
		Tags: []string{"agreement"},
	}, a.agreementStatus)
	register(a, huma.Operation{
		OperationID: "listAllAgreements", Method: http.MethodGet, Path: "/api/v1/operator/agreements",
		Summary:     "Every version of the partner agreement, the latest effective first",
		Description: "Operator admins only.",
		Tags:        []string{"agreement", "operator"},
	}, a.listAllAgreements)
	register(a, huma.Operation{
		OperationID: "publishAgreement", Method: http.MethodPost, Path: "/api/v1/operator/agreements",
		Summary: "Publish a version of the partner agreement",
		Description: "Operator admins only. Every field is checked and every refusal is reported at once: `version` unique (409 `agreement_version_exists` " +
			"when that is the only problem), `title` required, `body` (plain text) or `url` (https) required, `regions` existing, and `effective_at` after " +
			"the effective date of the previous version of each region. In a region, the version in force is the one that took effect last; " +
			"partners that accepted an earlier one must accept it again once it takes effect.",
		Tags:          []string{"agreement", "operator"},
		DefaultStatus: http.StatusCreated,
	}, a.publishAgreement)
}

// AgreementList is a bounded list of agreement versions.
type AgreementList struct {
	Items []csphub.Agreement `json:"items"`
}

type agreementListOutput struct{ Body AgreementList }

func (a *API) listAgreements(ctx context.Context, _ *struct{}) (*agreementListOutput, error) {
	list, err := a.svc.ListAgreements(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &agreementListOutput{Body: AgreementList{Items: list}}, nil
}

func (a *API) listAllAgreements(ctx context.Context, _ *struct{}) (*agreementListOutput, error) {
	list, err := a.svc.ListAllAgreements(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &agreementListOutput{Body: AgreementList{Items: list}}, nil
}

type acceptAgreementInput struct {
	ID             string `path:"id" maxLength:"36"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.AcceptAgreementInput
}

type acceptanceOutput struct{ Body csphub.AgreementAcceptance }

func (a *API) acceptAgreement(ctx context.Context, in *acceptAgreementInput) (*acceptanceOutput, error) {
	c, err := a.svc.AcceptAgreement(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &acceptanceOutput{Body: c}, nil
}

type agreementStatusInput struct {
	PartnerID string `query:"partner_id" maxLength:"20" doc:"The partner's partner ID"`
}

type agreementStatusOutput struct{ Body csphub.AgreementStatus }

func (a *API) agreementStatus(ctx context.Context, in *agreementStatusInput) (*agreementStatusOutput, error) {
	st, err := a.svc.AgreementStatusOf(ctx, actorFrom(ctx), in.PartnerID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &agreementStatusOutput{Body: st}, nil
}

type publishAgreementInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.PublishAgreementInput
}

type agreementOutput struct{ Body csphub.Agreement }

func (a *API) publishAgreement(ctx context.Context, in *publishAgreementInput) (*agreementOutput, error) {
	ag, err := a.svc.PublishAgreement(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &agreementOutput{Body: ag}, nil
}
