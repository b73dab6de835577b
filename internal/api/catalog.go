package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

var catalogManagers = Access{Roles: []string{csphub.RoleCatalogManager, csphub.RoleOperatorAdmin}}

// catalogAccess: who may call the catalogue routes. The import also checks
// that the caller acts in the operator organization; the reads, that it is
// a partner or the operator.
var catalogAccess = map[string]Access{
	"POST /api/v1/operator/catalog": catalogManagers,
	"GET /api/v1/offers":            authenticated,
	"GET /api/v1/offers/{id}":       authenticated,
}

// catalogRoutes registers the catalogue: the operator's import, and the
// offers every partner reads.
func (a *API) catalogRoutes() {
	register(a, huma.Operation{
		OperationID: "importCatalog", Method: http.MethodPost, Path: "/api/v1/operator/catalog",
		Summary: "Import offers into the catalogue",
		Description: "Catalogue managers and operator admins. Each row is one offer (a SKU sold in one market), named by its stable `code`: " +
			"a new code creates the offer, a known one updates it in place (its id stays), and a row equal to the stored offer changes nothing. " +
			"Every row is checked on its own: the market must be a market of the program, the currency that market's, the price a whole number " +
			"of minor units (0 or more), min_quantity between 1 and max_quantity, available_to after available_from. Rows that fail, or repeat " +
			"the code of an earlier row, are refused with every reason, by field; the others are imported anyway, together. " +
			"At most 5,000 rows per call, within the deployment's limit on request bodies (1 MiB by default).",
		Tags: []string{"catalog"},
	}, a.importCatalog)
	register(a, huma.Operation{
		OperationID: "listOffers", Method: http.MethodGet, Path: "/api/v1/offers",
		Summary:     "List the catalogue's offers",
		Description: "By product code, then offer code. `market` (a country code) keeps the offers sold in that market. Partner and operator users.",
		Tags:        []string{"catalog"},
	}, a.listOffers)
	register(a, huma.Operation{
		OperationID: "getOffer", Method: http.MethodGet, Path: "/api/v1/offers/{id}",
		Summary: "Read one offer", Tags: []string{"catalog"},
	}, a.getOffer)
}

type importCatalogInput struct {
	Body struct {
		Rows []service.CatalogRow `json:"rows" maxItems:"5000" doc:"The offers to import, at most 5,000"`
	}
}

type importCatalogOutput struct{ Body service.CatalogReport }

func (a *API) importCatalog(ctx context.Context, in *importCatalogInput) (*importCatalogOutput, error) {
	rows := in.Body.Rows
	for i := range rows {
		rows[i].Row, rows[i].Problems = i+1, nil
	}
	rep, err := a.svc.ImportCatalog(ctx, actorFrom(ctx), rows)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &importCatalogOutput{Body: rep}, nil
}

type listOffersInput struct {
	Market    string `query:"market" maxLength:"2" doc:"ISO 3166-1 alpha-2 country of a market, e.g. FR"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"400"`
}

type listOffersOutput struct{ Body service.OfferPage }

func (a *API) listOffers(ctx context.Context, in *listOffersInput) (*listOffersOutput, error) {
	p, err := a.svc.ListOffers(ctx, actorFrom(ctx), in.Market, in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listOffersOutput{Body: p}, nil
}

type offerIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type offerOutput struct{ Body csphub.Offer }

func (a *API) getOffer(ctx context.Context, in *offerIDInput) (*offerOutput, error) {
	o, err := a.svc.GetOffer(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &offerOutput{Body: o}, nil
}
