package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// providerAccess: who may call the indirect provider routes.
var providerAccess = map[string]Access{
	"GET /api/v1/operator/providers/{org}":         reviewers,
	"PUT /api/v1/operator/providers/{org}/regions": {Roles: []string{csphub.RoleOperatorAdmin}},
	"PUT /api/v1/operator/regions/{code}":          {Roles: []string{csphub.RoleOperatorAdmin}},
	"PUT /api/v1/operator/markets/{country}":       {Roles: []string{csphub.RoleOperatorAdmin}},
	"DELETE /api/v1/operator/markets/{country}":    {Roles: []string{csphub.RoleOperatorAdmin}},
}

func (a *API) providerRoutes() {
	register(a, huma.Operation{
		OperationID: "getProvider", Method: http.MethodGet, Path: "/api/v1/operator/providers/{org}",
		Summary: "An approved indirect provider and the regions it is authorized for", Tags: []string{"operator"},
	}, a.getProvider)
	register(a, huma.Operation{
		OperationID: "authorizeProviderRegions", Method: http.MethodPut, Path: "/api/v1/operator/providers/{org}/regions",
		Summary: "Authorize an approved indirect provider for regions",
		Description: "Replaces the provider's regions: it may invite resellers located in them. The organization must hold an approved " +
			"indirect_provider membership (404 otherwise). Operator admins only.",
		Tags: []string{"operator"},
	}, a.authorizeProviderRegions)
	register(a, huma.Operation{
		OperationID: "saveRegion", Method: http.MethodPut, Path: "/api/v1/operator/regions/{code}",
		Summary: "Create or rename a region of the program", Tags: []string{"operator"},
	}, a.saveRegion)
	register(a, huma.Operation{
		OperationID: "saveMarket", Method: http.MethodPut, Path: "/api/v1/operator/markets/{country}",
		Summary:     "Add a country to a region with its market currency, or move it",
		Description: "The country's partners follow it to its new region. The country needs validation rules (GET /api/v1/countries).",
		Tags:        []string{"operator"},
	}, a.saveMarket)
	register(a, huma.Operation{
		OperationID: "removeMarket", Method: http.MethodDelete, Path: "/api/v1/operator/markets/{country}",
		Summary:       "Take a country out of the program",
		Description:   "Refused while partners are located there (409 `market_in_use`).",
		Tags:          []string{"operator"},
		DefaultStatus: http.StatusNoContent,
	}, a.removeMarket)
}

type saveRegionInput struct {
	Code string `path:"code" maxLength:"40"`
	Body struct {
		Name string `json:"name" maxLength:"100"`
	}
}

type regionOutput struct{ Body csphub.Region }

func (a *API) saveRegion(ctx context.Context, in *saveRegionInput) (*regionOutput, error) {
	r, err := a.svc.SaveRegion(ctx, actorFrom(ctx), csphub.Region{Code: in.Code, Name: in.Body.Name})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &regionOutput{Body: r}, nil
}

type saveMarketInput struct {
	Country string `path:"country" maxLength:"2"`
	Body    struct {
		Region   string `json:"region" maxLength:"40"`
		Currency string `json:"currency" maxLength:"3"`
	}
}

type marketOutput struct{ Body csphub.Market }

func (a *API) saveMarket(ctx context.Context, in *saveMarketInput) (*marketOutput, error) {
	m, err := a.svc.SaveMarket(ctx, actorFrom(ctx), csphub.Market{Country: in.Country, RegionCode: in.Body.Region, Currency: in.Body.Currency})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &marketOutput{Body: m}, nil
}

type marketCountryInput struct {
	Country string `path:"country" maxLength:"2"`
}

func (a *API) removeMarket(ctx context.Context, in *marketCountryInput) (*struct{}, error) {
	if err := a.svc.RemoveMarket(ctx, actorFrom(ctx), in.Country); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}

type providerInput struct {
	Org string `path:"org" maxLength:"36" doc:"The provider's organization id"`
}

type providerOutput struct{ Body service.ProviderView }

func (a *API) getProvider(ctx context.Context, in *providerInput) (*providerOutput, error) {
	v, err := a.svc.GetProvider(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &providerOutput{Body: v}, nil
}

type authorizeRegionsInput struct {
	Org  string `path:"org" maxLength:"36" doc:"The provider's organization id"`
	Body struct {
		Regions []string `json:"regions" maxItems:"50" doc:"Region codes, e.g. europe"`
	}
}

func (a *API) authorizeProviderRegions(ctx context.Context, in *authorizeRegionsInput) (*providerOutput, error) {
	v, err := a.svc.AuthorizeProviderRegions(ctx, actorFrom(ctx), in.Org, in.Body.Regions)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &providerOutput{Body: v}, nil
}
