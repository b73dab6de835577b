package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

var (
	partnerIDAdmins  = Access{Roles: []string{csphub.RoleOperatorAdmin}}
	partnerIDReaders = Access{Roles: []string{csphub.RoleOperatorAdmin, csphub.RoleVerificationReviewer}}
)

// partnerIDAccess: who may call the partner ID routes. The use cases also
// check that the caller acts in the operator organization.
var partnerIDAccess = map[string]Access{
	"POST /api/v1/operator/partner-ids":               partnerIDAdmins,
	"GET /api/v1/operator/partner-ids":                partnerIDReaders,
	"PATCH /api/v1/operator/partner-ids/{partner_id}": partnerIDAdmins,
}

// partnerIDRoutes registers the operator's partner ID registry: import
// with claim codes, list, activate and deactivate.
func (a *API) partnerIDRoutes() {
	register(a, huma.Operation{
		OperationID: "importPartnerIDs", Method: http.MethodPost, Path: "/api/v1/operator/partner-ids",
		Summary: "Import existing partner IDs and issue their claim codes",
		Description: "Operator admins only. Every item is checked on its own: the valid ones are imported together, and each gets a claim code " +
			"(six groups of five characters, e.g. `ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345`) that the partner enters at enrollment to link the ID; " +
			"compared without case, spaces or dashes. The claim codes are in this response only: csphub keeps their SHA-256, " +
			"so keep the response and hand each code to its partner. Items that are not valid, that repeat an ID of an earlier item, " +
			"or name an ID that exists already are refused with every reason, by field, and the others are imported anyway. " +
			"At most 5,000 items per call, within the deployment's limit on request bodies (1 MiB by default). " +
			"`Idempotency-Key` is ignored, since the response holds secrets.",
		Tags: []string{"operator"},
	}, a.importPartnerIDs)
	register(a, huma.Operation{
		OperationID: "listPartnerIDs", Method: http.MethodGet, Path: "/api/v1/operator/partner-ids",
		Summary:     "List partner IDs",
		Description: "Oldest first. `q` keeps the IDs that start with it or whose legal name does (ignoring case). Operator admins and verification reviewers.",
		Tags:        []string{"operator"},
	}, a.listPartnerIDs)
	register(a, huma.Operation{
		OperationID: "setPartnerIDStatus", Method: http.MethodPatch, Path: "/api/v1/operator/partner-ids/{partner_id}",
		Summary:     "Activate or deactivate a partner ID",
		Description: "Operator admins only. An inactive partner ID cannot be linked at enrollment; one that is linked already stays linked.",
		Tags:        []string{"operator"},
	}, a.setPartnerIDStatus)
}

type importPartnerIDsInput struct {
	Body struct {
		Items []service.PartnerIDRow `json:"items" maxItems:"5000" doc:"The partner IDs to import, at most 5,000"`
	}
}

type importPartnerIDsOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         service.PartnerIDImport
}

func (a *API) importPartnerIDs(ctx context.Context, in *importPartnerIDsInput) (*importPartnerIDsOutput, error) {
	rows := in.Body.Items
	for i := range rows {
		rows[i].Row = i + 1
	}
	im, err := a.svc.ImportPartnerIDs(ctx, actorFrom(ctx), rows)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &importPartnerIDsOutput{CacheControl: "no-store", Body: im}, nil
}

type listPartnerIDsInput struct {
	Q         string `query:"q" maxLength:"200" doc:"Prefix of the partner ID or of the legal name"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type listPartnerIDsOutput struct{ Body service.PartnerIDPage }

func (a *API) listPartnerIDs(ctx context.Context, in *listPartnerIDsInput) (*listPartnerIDsOutput, error) {
	p, err := a.svc.ListPartnerIDs(ctx, actorFrom(ctx), in.Q, in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listPartnerIDsOutput{Body: p}, nil
}

type setPartnerIDStatusInput struct {
	PartnerID string `path:"partner_id" maxLength:"20"`
	Body      struct {
		Status csphub.PartnerIDStatus `json:"status" enum:"active,inactive" doc:"inactive: the ID can no longer be linked at enrollment"`
	}
}

type partnerIDOutput struct{ Body csphub.PartnerID }

func (a *API) setPartnerIDStatus(ctx context.Context, in *setPartnerIDStatusInput) (*partnerIDOutput, error) {
	p, err := a.svc.SetPartnerIDStatus(ctx, actorFrom(ctx), in.PartnerID, in.Body.Status)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerIDOutput{Body: p}, nil
}
