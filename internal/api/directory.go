package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// directoryEditors change a listing or a business profile; the use cases
// also check that the caller is a partner acting in its own organization.
var directoryEditors = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin}}

// directoryAccess: who may call the provider directory and business profile routes.
// None is Delegable: a listing, an inbox and a marketing profile belong to
// the organization's own users.
var directoryAccess = map[string]Access{
	"GET /api/v1/provider-listing":                            authenticated,
	"PUT /api/v1/provider-listing":                            directoryEditors,
	"GET /api/v1/directory/providers":                         authenticated,
	"POST /api/v1/directory/providers/{org}/contact-requests": authenticated,
	"GET /api/v1/contact-requests":                            authenticated,
	"POST /api/v1/contact-requests/{id}/read":                 authenticated,
	"GET /api/v1/business-profile":                            authenticated,
	"PATCH /api/v1/business-profile":                          directoryEditors,
}

func (a *API) directoryRoutes() {
	tags := []string{"directory"}
	register(a, huma.Operation{
		OperationID: "getProviderListing", Method: http.MethodGet, Path: "/api/v1/provider-listing",
		Summary: "Your organization's listing in the provider directory",
		Description: "Approved indirect providers only (409 `provider_not_approved`); before the first save, an empty unpublished listing at " +
			"version 0. `regions` are the regions the operator authorized you for. The ETag header is for If-Match on PUT.",
		Tags: tags,
	}, a.getProviderListing)
	register(a, huma.Operation{
		OperationID: "updateProviderListing", Method: http.MethodPut, Path: "/api/v1/provider-listing",
		Summary: "Replace your organization's listing in the provider directory",
		Description: "Global admins and account admins of an approved indirect provider. Every field is checked and named when refused: " +
			"an https `website`, a `contact_phone` of your country, ISO 639-1 `languages`, `services` among technical_training, " +
			"technical_support, marketing_help, credit_terms and financing, `markets` within your authorized regions " +
			"(`market_not_authorized`). A published listing needs a description and a contact email, where contact requests are emailed. " +
			"With If-Match, a listing changed since it was read answers 412.",
		Tags: tags,
	}, a.updateProviderListing)
	register(a, huma.Operation{
		OperationID: "searchProviderDirectory", Method: http.MethodGet, Path: "/api/v1/directory/providers",
		Summary: "Find an indirect provider",
		Description: "The published listings of approved indirect providers. `region` keeps the providers authorized for a region, " +
			"`service` those offering a service, `q` those whose name or partner ID starts with it. Without `region`, the providers " +
			"of your own region come first (`in_your_region`), then the others, each by name. Any partner user.",
		Tags: tags,
	}, a.searchProviderDirectory)
	register(a, huma.Operation{
		OperationID: "sendContactRequest", Method: http.MethodPost, Path: "/api/v1/directory/providers/{org}/contact-requests",
		Summary: "Send a provider of the directory a contact request",
		Description: "A user of an approved indirect reseller (409 `reseller_not_approved`) writes to a provider with a published listing " +
			"(404 otherwise). The request reaches the provider's inbox and the contact email of its listing. At most 10 requests per " +
			"reseller in 24 hours (429 `contact_request_limit`, with Retry-After).",
		Tags:          tags,
		DefaultStatus: http.StatusCreated,
	}, a.sendContactRequest)
	register(a, huma.Operation{
		OperationID: "listContactRequests", Method: http.MethodGet, Path: "/api/v1/contact-requests",
		Summary:     "Your organization's inbox of contact requests, newest first",
		Description: "Approved indirect providers only (409 `provider_not_approved`). Any user of the provider.",
		Tags:        tags,
	}, a.listContactRequests)
	register(a, huma.Operation{
		OperationID: "markContactRequestRead", Method: http.MethodPost, Path: "/api/v1/contact-requests/{id}/read",
		Summary: "Mark a contact request read", Description: "Reading it again changes nothing.", Tags: tags,
	}, a.markContactRequestRead)
	register(a, huma.Operation{
		OperationID: "getBusinessProfile", Method: http.MethodGet, Path: "/api/v1/business-profile",
		Summary:     "Your organization's business (marketing) profile",
		Description: "Any partner; before the first save, an empty profile at version 0. The ETag header is for If-Match on PATCH.",
		Tags:        tags,
	}, a.getBusinessProfile)
	register(a, huma.Operation{
		OperationID: "updateBusinessProfile", Method: http.MethodPatch, Path: "/api/v1/business-profile",
		Summary: "Change your organization's business profile",
		Description: "Global admins and account admins. Absent fields stay as they are; `industries` replaces the list. With If-Match, " +
			"a profile changed since it was read answers 412.",
		Tags: tags,
	}, a.updateBusinessProfile)
}

type listingOutput struct {
	ETag string `header:"ETag"`
	Body service.ProviderListing
}

func (a *API) getProviderListing(ctx context.Context, _ *struct{}) (*listingOutput, error) {
	l, err := a.svc.GetProviderListing(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listingOutput{ETag: service.ListingETag(l), Body: l}, nil
}

type updateListingInput struct {
	IfMatch string `header:"If-Match" maxLength:"1000" doc:"The ETag read with the listing: a listing changed since answers 412"`
	Body    service.ListingInput
}

func (a *API) updateProviderListing(ctx context.Context, in *updateListingInput) (*listingOutput, error) {
	l, err := a.svc.UpdateProviderListing(ctx, actorFrom(ctx), in.IfMatch, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listingOutput{ETag: service.ListingETag(l), Body: l}, nil
}

type searchDirectoryInput struct {
	Region    string `query:"region" maxLength:"40" doc:"A region code, e.g. europe"`
	Service   string `query:"service" maxLength:"40" doc:"One of technical_training, technical_support, marketing_help, credit_terms, financing"`
	Q         string `query:"q" maxLength:"100" doc:"Prefix of the provider's name or partner ID"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"100" default:"20"`
	PageToken string `query:"page_token" maxLength:"2000"`
}

type directoryOutput struct{ Body service.DirectoryPage }

func (a *API) searchProviderDirectory(ctx context.Context, in *searchDirectoryInput) (*directoryOutput, error) {
	p, err := a.svc.SearchProviderDirectory(ctx, actorFrom(ctx), service.DirectoryQuery{Region: in.Region, Service: in.Service, Q: in.Q,
		PageToken: in.PageToken, PageSize: in.PageSize})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &directoryOutput{Body: p}, nil
}

type sendContactRequestInput struct {
	Org            string `path:"org" maxLength:"36" doc:"The provider's organization id"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.ContactRequestInput
}

type contactRequestOutput struct{ Body service.ContactRequestView }

func (a *API) sendContactRequest(ctx context.Context, in *sendContactRequestInput) (*contactRequestOutput, error) {
	c, err := a.svc.SendContactRequest(ctx, actorFrom(ctx), in.Org, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactRequestOutput{Body: c}, nil
}

type listContactRequestsInput struct {
	PageSize  int    `query:"page_size" minimum:"1" maximum:"100" default:"20"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type contactRequestsOutput struct{ Body service.ContactRequestPage }

func (a *API) listContactRequests(ctx context.Context, in *listContactRequestsInput) (*contactRequestsOutput, error) {
	p, err := a.svc.ListContactRequests(ctx, actorFrom(ctx), in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactRequestsOutput{Body: p}, nil
}

type contactRequestIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

func (a *API) markContactRequestRead(ctx context.Context, in *contactRequestIDInput) (*contactRequestOutput, error) {
	c, err := a.svc.MarkContactRequestRead(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactRequestOutput{Body: c}, nil
}

type businessProfileOutput struct {
	ETag string `header:"ETag"`
	Body service.BusinessProfileView
}

func (a *API) getBusinessProfile(ctx context.Context, _ *struct{}) (*businessProfileOutput, error) {
	p, err := a.svc.GetBusinessProfile(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &businessProfileOutput{ETag: service.BusinessProfileETag(p), Body: p}, nil
}

type updateBusinessProfileInput struct {
	IfMatch string `header:"If-Match" maxLength:"1000" doc:"The ETag read with the profile: a profile changed since answers 412"`
	Body    service.BusinessProfilePatch
}

func (a *API) updateBusinessProfile(ctx context.Context, in *updateBusinessProfileInput) (*businessProfileOutput, error) {
	p, err := a.svc.UpdateBusinessProfile(ctx, actorFrom(ctx), in.IfMatch, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &businessProfileOutput{ETag: service.BusinessProfileETag(p), Body: p}, nil
}
