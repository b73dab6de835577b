package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// grantAdmins see and end delegated admin grants; the use cases narrow
// this further (only the grantor terminates; never through a grant).
var grantAdmins = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}}

// grantApprovers approve grant requests made to their organization.
var grantApprovers = Access{Roles: []string{csphub.RoleGlobalAdmin}}

// grantAccess: who may call the delegated admin grant routes. None is
// Delegable: a grant never reads, requests, approves, changes or extends
// grants.
var grantAccess = map[string]Access{
	"GET /api/v1/delegated-admin-grants":                 grantAdmins,
	"POST /api/v1/delegated-admin-grants":                grantAdmins,
	"GET /api/v1/delegated-admin-grants/{id}":            grantAdmins,
	"POST /api/v1/delegated-admin-grants/{id}/approve":   grantApprovers,
	"POST /api/v1/delegated-admin-grants/{id}/terminate": grantAdmins,
}

func (a *API) grantRoutes() {
	register(a, huma.Operation{
		OperationID: "listDelegatedAdminGrants", Method: http.MethodGet, Path: "/api/v1/delegated-admin-grants",
		Summary: "List the delegated admin grants your organization gave or received",
		Description: "`direction=given`: grants your organization gave (its users' organization is acted in); `direction=received`: grants " +
			"through which your users act in other organizations, with `On-Behalf-Of: <grantor id>`. Newest first. Global admins and admin agents only, never through a grant.",
		Tags: []string{"delegated admin"},
	}, a.listGrants)
	register(a, huma.Operation{
		OperationID: "requestDelegatedAdminGrant", Method: http.MethodPost, Path: "/api/v1/delegated-admin-grants",
		Summary: "Request a delegated admin grant from an organization your organization has a relationship with",
		Description: "Creates a grant in state `pending`, which the grantor's global admin approves (`/approve`) or declines (`/terminate`); " +
			"unanswered, it expires after 90 days. The grantor is a reseller whose active indirect provider your organization is (the grant " +
			"then ends with that relationship), or a customer with an active relationship with it; any other organization answers 404 " +
			"`organization_not_found`. `roles` must be roles of the grantor's kind of organization (422 `invalid_role`); `duration_days` " +
			"(1 to 730, 730 by default) counts from the approval. One pending request at a time between two organizations (409 " +
			"`grant_request_exists`). Global admins and admin agents of a partner, never through a grant.",
		Tags:          []string{"delegated admin"},
		DefaultStatus: http.StatusCreated,
	}, a.requestGrant)
	register(a, huma.Operation{
		OperationID: "approveDelegatedAdminGrant", Method: http.MethodPost, Path: "/api/v1/delegated-admin-grants/{id}/approve",
		Summary: "Approve a pending delegated admin grant request made to your organization",
		Description: "The grant becomes `active` at once and expires `duration_days` from now. Only a global admin of the grantor, signed in " +
			"as themselves (403 `global_admin_required` for an API token, `grantor_only` for the grantee), never through a grant. A grant " +
			"that is not pending answers 409 `grant_not_pending` or `grant_ended`; a request older than 90 days `grant_request_expired`; " +
			"one whose relationship is no longer active `partnership_not_active`.",
		Tags: []string{"delegated admin"},
	}, a.approveGrant)
	register(a, huma.Operation{
		OperationID: "getDelegatedAdminGrant", Method: http.MethodGet, Path: "/api/v1/delegated-admin-grants/{id}",
		Summary:     "Read one delegated admin grant your organization gave or received",
		Description: "Roles, state, duration, expiry and auto-extension. Anyone but the two organizations gets 404.",
		Tags:        []string{"delegated admin"},
	}, a.getGrant)
	register(a, huma.Operation{
		OperationID: "terminateDelegatedAdminGrant", Method: http.MethodPost, Path: "/api/v1/delegated-admin-grants/{id}/terminate",
		Summary: "Terminate a delegated admin grant your organization gave, or decline a pending request",
		Description: "Takes effect on the grantee's very next request; the relationship it came with goes on. Only the grantor's global admins " +
			"and admin agents (403 `grantor_only` for the grantee), never through a grant. An ended grant answers 409 `grant_ended`.",
		Tags: []string{"delegated admin"},
	}, a.terminateGrant)
}

type listGrantsInput struct {
	Direction string `query:"direction" enum:"given,received" default:"given" doc:"given: grants your organization gave; received: grants it holds in other organizations"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type listGrantsOutput struct{ Body service.GrantPage }

func (a *API) listGrants(ctx context.Context, in *listGrantsInput) (*listGrantsOutput, error) {
	p, err := a.svc.ListGrants(ctx, actorFrom(ctx), in.Direction, in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listGrantsOutput{Body: p}, nil
}

type grantIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

type grantOutput struct{ Body service.GrantView }

func (a *API) getGrant(ctx context.Context, in *grantIDInput) (*grantOutput, error) {
	g, err := a.svc.GetGrant(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &grantOutput{Body: g}, nil
}

type terminateGrantInput struct {
	ID             string `path:"id" maxLength:"36"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
}

func (a *API) terminateGrant(ctx context.Context, in *terminateGrantInput) (*grantOutput, error) {
	g, err := a.svc.TerminateGrant(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &grantOutput{Body: g}, nil
}

type requestGrantInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.RequestGrantInput
}

func (a *API) requestGrant(ctx context.Context, in *requestGrantInput) (*grantOutput, error) {
	g, err := a.svc.RequestGrant(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &grantOutput{Body: g}, nil
}

type approveGrantInput struct {
	ID             string `path:"id" maxLength:"36"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
}

func (a *API) approveGrant(ctx context.Context, in *approveGrantInput) (*grantOutput, error) {
	g, err := a.svc.ApproveGrant(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &grantOutput{Body: g}, nil
}
