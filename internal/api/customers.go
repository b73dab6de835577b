package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// customerAgents invite customers for a provider; the use cases check that
// the organization is a partner with an active relationship.
var customerAgents = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent, csphub.RoleSalesAgent}}

// customerAccess: who may call the customer routes. The use cases decide
// which customers a caller sees (its own relationships; every customer for
// the operator) and answer 404 for the others.
var customerAccess = map[string]Access{
	"POST /api/v1/customer-invitations":                 customerAgents,
	"GET /api/v1/customer-invitations":                  customerAgents,
	"POST /api/v1/customer-invitations/batch":           customerAgents,
	"POST /api/v1/customer-invitations/{id}/resend":     customerAgents,
	"POST /api/v1/customer-invitations/{id}/cancel":     customerAgents,
	"GET /api/v1/customer-invitations/{token}":          public,
	"POST /api/v1/customer-invitations/{token}/accept":  {Public: true, Identify: true},
	"POST /api/v1/customer-invitations/{token}/decline": {Public: true, Identify: true},

	"POST /api/v1/customers":                            {Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}},
	"GET /api/v1/customers":                             authenticated,
	"GET /api/v1/customers/{id}":                        authenticated,
	"GET /api/v1/customers/{id}/relationships":          authenticated,
	"DELETE /api/v1/customers/{id}/relationships/{rid}": {Roles: []string{csphub.RoleGlobalAdmin}},
}

func (a *API) customerRoutes() {
	tags := []string{"customers"}
	register(a, huma.Operation{
		OperationID: "inviteCustomer", Method: http.MethodPost, Path: "/api/v1/customer-invitations",
		Summary: "Invite a customer into a reseller relationship with one of your indirect providers (reseller)",
		Description: "Emails the customer a single-use link, valid 30 days. Your relationship with `provider_id` must be active " +
			"(422 `relationship_not_active`). `reseller_roles` and `provider_roles` ask the customer for delegated admin. " +
			"At most 1,000 invitations in 24 hours (429 `invitation_limit`). Global admins, admin agents and sales agents.",
		Tags: tags, DefaultStatus: http.StatusCreated,
	}, a.inviteCustomer)
	register(a, huma.Operation{
		OperationID: "listCustomerInvitations", Method: http.MethodGet, Path: "/api/v1/customer-invitations",
		Summary: "Your organization's customer invitations, newest first (reseller)", Tags: tags,
	}, a.listCustomerInvitations)
	register(a, huma.Operation{
		OperationID: "bulkInviteCustomers", Method: http.MethodPost, Path: "/api/v1/customer-invitations/batch",
		Summary: "Invite many customers at once, with a result per item (reseller)",
		Description: "Every item is checked first (format, duplicates, the provider relationship); the refused items are reported with " +
			"their reasons and nothing is sent for them; the others are sent, in one transaction. Up to 500 items.",
		Tags: tags,
	}, a.bulkInviteCustomers)
	register(a, huma.Operation{
		OperationID: "resendCustomerInvitation", Method: http.MethodPost, Path: "/api/v1/customer-invitations/{id}/resend",
		Summary: "Send a pending invitation again, with a new link (the old one stops working)",
		Description: "At most once an hour (429 `resend_too_soon`, with Retry-After) and five sends in all (429 `resend_limit`); " +
			"the new link is valid 30 days.",
		Tags: tags,
	}, a.resendCustomerInvitation)
	register(a, huma.Operation{
		OperationID: "cancelCustomerInvitation", Method: http.MethodPost, Path: "/api/v1/customer-invitations/{id}/cancel",
		Summary: "Cancel a pending invitation: its link stops working", Tags: tags,
	}, a.cancelCustomerInvitation)
	register(a, huma.Operation{
		OperationID: "getCustomerInvitation", Method: http.MethodGet, Path: "/api/v1/customer-invitations/{token}",
		Summary: "Read an invitation with its link's token: who asks for what, and where the customer must be located",
		Description: "Public: the token is the proof. `countries` lists where the customer may be located (the reseller's region, " +
			"when the provider is authorized for it). Unknown tokens 404 `invitation_not_found`; used, declined, cancelled and " +
			"expired invitations 409.",
		Tags: tags,
	}, a.getCustomerInvitation)
	register(a, huma.Operation{
		OperationID: "acceptCustomerInvitation", Method: http.MethodPost, Path: "/api/v1/customer-invitations/{token}/accept",
		Summary: "Accept a reseller relationship request (customer)",
		Description: "Signed in as a global admin of a customer organization, or with `new_customer` to create the customer " +
			"organization and its global admin in the same transaction. Creates the customer's reseller relationship with the " +
			"provider naming the reseller, the relationships with both partners, and the delegated admin grants agreed to " +
			"(`grant_reseller`, `grant_provider`). A customer located outside the allowed countries gets 422 " +
			"`customer_region_mismatch` and nothing is created. The link works once (409 `invitation_used`).",
		Tags: tags,
	}, a.acceptCustomerInvitation)
	register(a, huma.Operation{
		OperationID: "declineCustomerInvitation", Method: http.MethodPost, Path: "/api/v1/customer-invitations/{token}/decline",
		Summary: "Decline a reseller relationship request (customer)", Description: "The link is the proof; no account is needed.", Tags: tags,
	}, a.declineCustomerInvitation)

	register(a, huma.Operation{
		OperationID: "createCustomer", Method: http.MethodPost, Path: "/api/v1/customers",
		Summary: "Create a customer for one of your indirect resellers (provider)",
		Description: "Creates the customer organization, its first global admin (emailed a link to choose a password, valid 7 days) " +
			"and its reseller relationship with your organization naming the reseller. Your relationship with `reseller_id` must be " +
			"active (422 `relationship_not_active`) and the customer's country in the reseller's region (422 `customer_region_mismatch`). " +
			"Global admins and admin agents.",
		Tags: tags, DefaultStatus: http.StatusCreated,
	}, a.createCustomer)
	register(a, huma.Operation{
		OperationID: "listCustomers", Method: http.MethodGet, Path: "/api/v1/customers",
		Summary: "The customers you may see (View customers)",
		Description: "A provider: the customers it has a relationship with; `reseller_id` keeps those whose relationship names that reseller. " +
			"A reseller: its customers; `provider_id` keeps those it shares with that provider. The operator: every customer. " +
			"`q` is a prefix of the name or the domain; `sort` is name (default) or created (newest first). Each item lists its " +
			"partners of record that the caller may see.",
		Tags: tags,
	}, a.listCustomers)
	register(a, huma.Operation{
		OperationID: "getCustomer", Method: http.MethodGet, Path: "/api/v1/customers/{id}",
		Summary: "Read one customer you may see, with its partners of record", Description: "Anyone else gets 404.", Tags: tags,
	}, a.getCustomer)
	register(a, huma.Operation{
		OperationID: "getCustomerRelationships", Method: http.MethodGet, Path: "/api/v1/customers/{id}/relationships",
		Summary:     "A customer's chain: its relationships with partners and the links between its providers and resellers",
		Description: "The customer and the operator see all of it; a partner, the links it is a party to and the relationships of those partners.",
		Tags:        tags,
	}, a.getCustomerRelationships)
	register(a, huma.Operation{
		OperationID: "removeCustomerRelationship", Method: http.MethodDelete, Path: "/api/v1/customers/{id}/relationships/{rid}",
		Summary: "Remove a partner's relationship (customer global admin)",
		Description: "Ends the relationship, the reseller relationships naming that partner and the delegated admin grants the customer " +
			"gave it; the partner stops seeing the customer on its next request.",
		Tags: tags,
	}, a.removeCustomerRelationship)
}

type customerInvitationOutput struct {
	Body service.CustomerInvitationView
}

type inviteCustomerInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.InviteCustomerInput
}

func (a *API) inviteCustomer(ctx context.Context, in *inviteCustomerInput) (*customerInvitationOutput, error) {
	v, err := a.svc.InviteCustomer(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerInvitationOutput{Body: v}, nil
}

type listCustomerInvitationsInput struct {
	State     string `query:"state" enum:"pending,accepted,declined,cancelled,expired" doc:"Keep one state; default every one"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type customerInvitationPageOutput struct {
	Body service.CustomerInvitationPage
}

func (a *API) listCustomerInvitations(ctx context.Context, in *listCustomerInvitationsInput) (*customerInvitationPageOutput, error) {
	p, err := a.svc.ListCustomerInvitations(ctx, actorFrom(ctx), in.State, in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerInvitationPageOutput{Body: p}, nil
}

type bulkInviteInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.BulkCustomerInvitations
}

type bulkInviteOutput struct {
	Body service.BulkInvitationReport
}

func (a *API) bulkInviteCustomers(ctx context.Context, in *bulkInviteInput) (*bulkInviteOutput, error) {
	r, err := a.svc.BulkInviteCustomers(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &bulkInviteOutput{Body: r}, nil
}

type customerInvitationIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

func (a *API) resendCustomerInvitation(ctx context.Context, in *customerInvitationIDInput) (*customerInvitationOutput, error) {
	v, err := a.svc.ResendCustomerInvitation(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerInvitationOutput{Body: v}, nil
}

func (a *API) cancelCustomerInvitation(ctx context.Context, in *customerInvitationIDInput) (*customerInvitationOutput, error) {
	v, err := a.svc.CancelCustomerInvitation(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerInvitationOutput{Body: v}, nil
}

type customerOfferOutput struct {
	Body service.CustomerInvitationOffer
}

func (a *API) getCustomerInvitation(ctx context.Context, in *invitationTokenInput) (*customerOfferOutput, error) {
	v, err := a.svc.CustomerInvitationOf(ctx, in.Token)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOfferOutput{Body: v}, nil
}

type acceptCustomerInvitationInput struct {
	Token string `path:"token" maxLength:"100" doc:"The token of the emailed link"`
	Body  service.AcceptCustomerInvitationInput
}

type customerAcceptanceOutput struct {
	Body service.CustomerAcceptance
}

func (a *API) acceptCustomerInvitation(ctx context.Context, in *acceptCustomerInvitationInput) (*customerAcceptanceOutput, error) {
	v, err := a.svc.AcceptCustomerInvitation(ctx, actorFrom(ctx), in.Token, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerAcceptanceOutput{Body: v}, nil
}

func (a *API) declineCustomerInvitation(ctx context.Context, in *invitationTokenInput) (*customerInvitationOutput, error) {
	v, err := a.svc.DeclineCustomerInvitation(ctx, actorFrom(ctx), in.Token)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerInvitationOutput{Body: v}, nil
}

type createCustomerInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.CreateCustomerInput
}

func (a *API) createCustomer(ctx context.Context, in *createCustomerInput) (*customerAcceptanceOutput, error) {
	v, err := a.svc.CreateCustomer(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerAcceptanceOutput{Body: v}, nil
}

type listCustomersInput struct {
	ProviderID string `query:"provider_id" maxLength:"36" doc:"Reseller: keep the customers shared with this provider"`
	ResellerID string `query:"reseller_id" maxLength:"36" doc:"Provider: keep the customers whose relationship names this reseller"`
	Q          string `query:"q" maxLength:"200" doc:"Prefix of the customer's name (any case) or domain"`
	Sort       string `query:"sort" enum:"name,created" default:"name"`
	PageSize   int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken  string `query:"page_token" maxLength:"600"`
}

type customerPageOutput struct {
	Body service.CustomerPage
}

func (a *API) listCustomers(ctx context.Context, in *listCustomersInput) (*customerPageOutput, error) {
	p, err := a.svc.ListCustomers(ctx, actorFrom(ctx), service.CustomerQuery{ProviderID: in.ProviderID, ResellerID: in.ResellerID,
		Q: in.Q, Sort: in.Sort, PageSize: in.PageSize, PageToken: in.PageToken})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerPageOutput{Body: p}, nil
}

type customerIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

type customerOutput struct {
	Body service.CustomerView
}

func (a *API) getCustomer(ctx context.Context, in *customerIDInput) (*customerOutput, error) {
	v, err := a.svc.GetCustomer(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOutput{Body: v}, nil
}

type customerChainOutput struct {
	Body service.CustomerChain
}

func (a *API) getCustomerRelationships(ctx context.Context, in *customerIDInput) (*customerChainOutput, error) {
	v, err := a.svc.CustomerRelationships(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerChainOutput{Body: v}, nil
}

type removeRelationshipInput struct {
	ID  string `path:"id" maxLength:"36"`
	RID string `path:"rid" maxLength:"36"`
}

type customerRelationshipOutput struct {
	Body service.CustomerRelationshipView
}

func (a *API) removeCustomerRelationship(ctx context.Context, in *removeRelationshipInput) (*customerRelationshipOutput, error) {
	v, err := a.svc.RemoveCustomerRelationship(ctx, actorFrom(ctx), in.ID, in.RID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerRelationshipOutput{Body: v}, nil
}
