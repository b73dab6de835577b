package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// partnershipAgents may act on relationships between partners; the use
// cases check the side (provider or reseller) and the organization's kind.
var partnershipAgents = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}}

// partnershipAccess: who may call the provider–reseller relationship routes.
var partnershipAccess = map[string]Access{
	"POST /api/v1/reseller-invitations":                    partnershipAgents,
	"GET /api/v1/reseller-invitations/{token}":             public,
	"POST /api/v1/reseller-invitations/{token}/acceptance": partnershipAgents,
	"POST /api/v1/reseller-invitations/{token}/decline":    partnershipAgents,
	"POST /api/v1/partnerships/{id}/cancel":                partnershipAgents,
	"POST /api/v1/partnerships/{id}/suspend":               partnershipAgents,
	"POST /api/v1/partnerships/{id}/reactivate":            partnershipAgents,
	"POST /api/v1/partnerships/{id}/terminate":             partnershipAgents,
	"GET /api/v1/partnerships/{id}":                        authenticated,
	"GET /api/v1/indirect-resellers":                       authenticated,
	"GET /api/v1/indirect-providers":                       authenticated,
}

func (a *API) partnershipRoutes() {
	tags := []string{"partnerships"}
	register(a, huma.Operation{
		OperationID: "invitePartner", Method: http.MethodPost, Path: "/api/v1/reseller-invitations",
		Summary: "Invite a reseller to authorize your organization as its indirect provider",
		Description: "Emails a single-use link, valid 30 days, to the reseller's global admin or admin agent. Your organization must be an approved " +
			"indirect provider (409 `provider_not_approved`) whose global admin accepted the current partner agreement (409 `agreement_not_accepted`). " +
			"With `partner_id`, only that partner can accept, and a known partner must be located in a region you are authorized for " +
			"(422 `region_not_authorized`, checked again at acceptance in any case). At most 50 invitations in 24 hours and 1,000 waiting " +
			"for an answer (429 `invitation_limit`, `open_invitation_limit`, with Retry-After). `grant_roles` lists the delegated admin roles " +
			"the invitation asks for (partner roles but global_admin: 422 `role_not_grantable`, `invalid_role`; `admin_agent` when absent); " +
			"the acceptance page and the email show them, and accepting gives exactly these. Global admins and admin agents.",
		Tags:          tags,
		DefaultStatus: http.StatusCreated,
	}, a.invitePartner)
	register(a, huma.Operation{
		OperationID: "getResellerInvitation", Method: http.MethodGet, Path: "/api/v1/reseller-invitations/{token}",
		Summary: "Read an invitation with its link's token: who invites, and what authorizing means",
		Description: "Public: the token is the proof. Unknown tokens answer 404 `invitation_not_found`; used, declined, expired and cancelled " +
			"invitations 409 `invitation_used`, `invitation_expired`, `invitation_cancelled`.",
		Tags: tags,
	}, a.getResellerInvitation)
	register(a, huma.Operation{
		OperationID: "acceptResellerInvitation", Method: http.MethodPost, Path: "/api/v1/reseller-invitations/{token}/acceptance",
		Summary: "Authorize the indirect provider: accept its invitation",
		Description: "A global admin or admin agent of the reseller, signed in as themselves, with `authorize: true` (the ticked box). " +
			"The provider may then place orders and add subscriptions on behalf of the reseller's customers, and receives a delegated admin " +
			"grant of the reseller's organization (the invitation's `grant_roles`, for `duration_days`: 1 to 730, 730 by default; extended by 180 days at " +
			"each expiry with `auto_extend: true`). The reseller must be enrolled as an indirect reseller " +
			"(409 `not_enrolled`) and located in a region the provider is authorized for (422 `region_not_authorized`); an invitation " +
			"naming a partner ID is for that partner only (403 `partner_id_mismatch`). The link works once (409 `invitation_used`).",
		Tags: tags,
	}, a.acceptResellerInvitation)
	register(a, huma.Operation{
		OperationID: "declineResellerInvitation", Method: http.MethodPost, Path: "/api/v1/reseller-invitations/{token}/decline",
		Summary: "Decline an indirect provider's invitation", Tags: tags,
	}, a.declineResellerInvitation)
	register(a, huma.Operation{
		OperationID: "cancelResellerInvitation", Method: http.MethodPost, Path: "/api/v1/partnerships/{id}/cancel",
		Summary:     "Cancel an invitation that is still open (provider)",
		Description: "The link stops working. Only from `invited` (409 `invalid_transition` otherwise).",
		Tags:        tags,
	}, a.cancelResellerInvitation)
	register(a, huma.Operation{
		OperationID: "suspendPartnership", Method: http.MethodPost, Path: "/api/v1/partnerships/{id}/suspend",
		Summary: "Suspend an active relationship (provider)", Description: "The reason is optional; both sides are told.", Tags: tags,
	}, a.suspendPartnership)
	register(a, huma.Operation{
		OperationID: "reactivatePartnership", Method: http.MethodPost, Path: "/api/v1/partnerships/{id}/reactivate",
		Summary: "Reactivate a suspended relationship (provider)", Description: "The event is `partnership.active`.", Tags: tags,
	}, a.reactivatePartnership)
	register(a, huma.Operation{
		OperationID: "terminatePartnership", Method: http.MethodPost, Path: "/api/v1/partnerships/{id}/terminate",
		Summary:     "End a relationship (either side), with a reason",
		Description: "The delegated admin grants that came with it end too. A terminated relationship cannot be reactivated: the provider invites again.",
		Tags:        tags,
	}, a.terminatePartnership)
	register(a, huma.Operation{
		OperationID: "getPartnership", Method: http.MethodGet, Path: "/api/v1/partnerships/{id}",
		Summary: "Read one relationship your organization is a side of", Description: "Anyone else gets 404.", Tags: tags,
	}, a.getPartnership)
	register(a, huma.Operation{
		OperationID: "listIndirectResellers", Method: http.MethodGet, Path: "/api/v1/indirect-resellers",
		Summary: "Your indirect resellers (provider): relationships and invitations, newest invitation first",
		Description: "`q` keeps those whose reseller name or partner ID (or, before an answer, the invited email or partner ID) starts with it; " +
			"`state` keeps one state.",
		Tags: tags,
	}, a.listIndirectResellers)
	register(a, huma.Operation{
		OperationID: "listIndirectProviders", Method: http.MethodGet, Path: "/api/v1/indirect-providers",
		Summary:     "Your indirect providers (reseller): the providers you authorized, newest first",
		Description: "`q` keeps those whose provider name or partner ID starts with it; `state` keeps one state.",
		Tags:        tags,
	}, a.listIndirectProviders)
}

type partnershipOutput struct{ Body service.PartnershipView }

type invitePartnerInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.InvitePartnerInput
}

func (a *API) invitePartner(ctx context.Context, in *invitePartnerInput) (*partnershipOutput, error) {
	v, err := a.svc.InvitePartner(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

type invitationTokenInput struct {
	Token string `path:"token" maxLength:"100" doc:"The token of the emailed link"`
}

type invitationOutput struct{ Body service.InvitationView }

func (a *API) getResellerInvitation(ctx context.Context, in *invitationTokenInput) (*invitationOutput, error) {
	v, err := a.svc.InvitationOf(ctx, in.Token)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &invitationOutput{Body: v}, nil
}

type acceptInvitationInput struct {
	Token string `path:"token" maxLength:"100" doc:"The token of the emailed link"`
	Body  service.AcceptInvitationInput
}

func (a *API) acceptResellerInvitation(ctx context.Context, in *acceptInvitationInput) (*partnershipOutput, error) {
	v, err := a.svc.AcceptInvitation(ctx, actorFrom(ctx), in.Token, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

func (a *API) declineResellerInvitation(ctx context.Context, in *invitationTokenInput) (*partnershipOutput, error) {
	v, err := a.svc.DeclineInvitation(ctx, actorFrom(ctx), in.Token)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

type partnershipIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

type partnershipChangeInput struct {
	ID   string `path:"id" maxLength:"36"`
	Body service.PartnershipChange
}

func (a *API) cancelResellerInvitation(ctx context.Context, in *partnershipIDInput) (*partnershipOutput, error) {
	v, err := a.svc.CancelInvitation(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

func (a *API) suspendPartnership(ctx context.Context, in *partnershipChangeInput) (*partnershipOutput, error) {
	v, err := a.svc.SuspendPartnership(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

func (a *API) reactivatePartnership(ctx context.Context, in *partnershipIDInput) (*partnershipOutput, error) {
	v, err := a.svc.ReactivatePartnership(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

func (a *API) terminatePartnership(ctx context.Context, in *partnershipChangeInput) (*partnershipOutput, error) {
	v, err := a.svc.TerminatePartnership(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

func (a *API) getPartnership(ctx context.Context, in *partnershipIDInput) (*partnershipOutput, error) {
	v, err := a.svc.GetPartnership(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipOutput{Body: v}, nil
}

type listPartnershipsInput struct {
	Q         string `query:"q" maxLength:"200" doc:"Prefix of the other party's name or partner ID"`
	State     string `query:"state" enum:"invited,active,suspended,terminated,declined,expired,cancelled" doc:"Keep one state; default every one"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

func (in *listPartnershipsInput) query() service.PartnershipQuery {
	return service.PartnershipQuery{Q: in.Q, State: in.State, PageToken: in.PageToken, PageSize: in.PageSize}
}

type partnershipPageOutput struct{ Body service.PartnershipPage }

func (a *API) listIndirectResellers(ctx context.Context, in *listPartnershipsInput) (*partnershipPageOutput, error) {
	p, err := a.svc.ListIndirectResellers(ctx, actorFrom(ctx), in.query())
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipPageOutput{Body: p}, nil
}

func (a *API) listIndirectProviders(ctx context.Context, in *listPartnershipsInput) (*partnershipPageOutput, error) {
	p, err := a.svc.ListIndirectProviders(ctx, actorFrom(ctx), in.query())
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnershipPageOutput{Body: p}, nil
}
