package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/countries"
	"csphub/internal/service"
)

// referenceAccess: who may call the reference data routes (countries,
// regions, web-mail domains). Countries, regions and markets are public:
// sign-up and enrollment forms need them before anyone signs in.
var referenceAccess = map[string]Access{
	"GET /api/v1/countries":              public,
	"GET /api/v1/countries/{iso2}/rules": public,
	"GET /api/v1/regions":                public,
	"GET /api/v1/markets":                public,

	"GET /api/v1/operator/webmail-domains":             webmailAdmins,
	"POST /api/v1/operator/webmail-domains":            webmailAdmins,
	"DELETE /api/v1/operator/webmail-domains/{domain}": webmailAdmins,
}

// webmailAdmins may reach the web-mail list; the use cases also require
// the operator organization.
var webmailAdmins = Access{Roles: []string{csphub.RoleOperatorAdmin}}

func (a *API) referenceRoutes() {
	register(a, huma.Operation{
		OperationID: "listCountries", Method: http.MethodGet, Path: "/api/v1/countries",
		Summary:     "List the countries csphub has address and phone rules for",
		Description: "By code, each with its calling code, whether a postal code and a state are required, and the region and currency of its market when the program sells there. The full rules are at /api/v1/countries/{iso2}/rules.",
		Tags:        []string{"reference"},
	}, a.listCountries)
	register(a, huma.Operation{
		OperationID: "getCountryRules", Method: http.MethodGet, Path: "/api/v1/countries/{iso2}/rules",
		Summary: "A country's rules for addresses and phone numbers",
		Description: "Whether a postal code is used and required, its pattern (matching the normalized code), format and example; whether a state is required and, where the country has a closed list, its ISO 3166-2 subdivisions; " +
			"the calling code and an example phone number. Enrollment and profile edits apply these rules; phone numbers are stored in E.164 form. Unknown countries answer 404 `country_not_found`.",
		Tags: []string{"reference"},
	}, a.getCountryRules)
	register(a, huma.Operation{
		OperationID: "listRegions", Method: http.MethodGet, Path: "/api/v1/regions",
		Summary:     "List the program's regions with their markets",
		Description: "A partner's region follows from its legal country. Regions by code, markets by country.",
		Tags:        []string{"reference"},
	}, a.listRegions)
	register(a, huma.Operation{
		OperationID: "listMarkets", Method: http.MethodGet, Path: "/api/v1/markets",
		Summary:     "List the countries where the program sells, with region and currency",
		Description: "By country code; `region` keeps one region's markets.",
		Tags:        []string{"reference"},
	}, a.listMarkets)

	register(a, huma.Operation{
		OperationID: "listWebmailDomains", Method: http.MethodGet, Path: "/api/v1/operator/webmail-domains",
		Summary: "List the web-mail domains refused for a primary contact",
		Description: "The built-in list (`name.*` stands for the service under any public top-level domain, such as yahoo.fr or yahoo.co.uk) and the operator's own list. " +
			"A domain is refused with its subdomains. Operator admins only.",
		Tags: []string{"operator"},
	}, a.listWebmailDomains)
	register(a, huma.Operation{
		OperationID: "addWebmailDomain", Method: http.MethodPost, Path: "/api/v1/operator/webmail-domains",
		Summary:       "Add a domain to the operator's web-mail list",
		Description:   "From then on, enrollments refuse a primary contact email on this domain or its subdomains. A domain already listed or built in is 409 (`webmail_domain_exists`, `webmail_domain_built_in`). Operator admins only.",
		Tags:          []string{"operator"},
		DefaultStatus: http.StatusNoContent,
	}, a.addWebmailDomain)
	register(a, huma.Operation{
		OperationID: "removeWebmailDomain", Method: http.MethodDelete, Path: "/api/v1/operator/webmail-domains/{domain}",
		Summary:       "Remove a domain from the operator's web-mail list",
		Description:   "Built-in domains cannot be removed (409 `webmail_domain_built_in`); a domain not on the list is 404. Operator admins only.",
		Tags:          []string{"operator"},
		DefaultStatus: http.StatusNoContent,
	}, a.removeWebmailDomain)
}

// CountrySummary is one country of the rules table, in short.
type CountrySummary struct {
	Code               string `json:"code" doc:"ISO 3166-1 alpha-2"`
	Name               string `json:"name"`
	CallingCode        string `json:"calling_code" doc:"e.g. +33"`
	PostalCodeRequired bool   `json:"postal_code_required"`
	StateRequired      bool   `json:"state_required"`
	Region             string `json:"region,omitempty" doc:"The region of the country's market; absent where the program does not sell"`
	Currency           string `json:"currency,omitempty" doc:"The currency of the country's market (ISO 4217)"`
}

// CountryList is every country of the rules table.
type CountryList struct {
	Items []CountrySummary `json:"items"`
}

type countryListOutput struct{ Body CountryList }

func (a *API) listCountries(ctx context.Context, _ *struct{}) (*countryListOutput, error) {
	regions, err := a.svc.ListRegions(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	type market struct{ region, currency string }
	markets := map[string]market{}
	for _, r := range regions {
		for _, m := range r.Markets {
			markets[m.Country] = market{r.Code, m.Currency}
		}
	}
	rules := countries.All()
	out := CountryList{Items: make([]CountrySummary, 0, len(rules))}
	for _, r := range rules {
		m := markets[r.Code]
		out.Items = append(out.Items, CountrySummary{Code: r.Code, Name: r.Name, CallingCode: r.Phone.CallingCode,
			PostalCodeRequired: r.PostalCode.Required, StateRequired: r.State.Required, Region: m.region, Currency: m.currency})
	}
	return &countryListOutput{Body: out}, nil
}

type countryRulesInput struct {
	ISO2 string `path:"iso2" maxLength:"8" doc:"ISO 3166-1 alpha-2 country code, either case"`
}

type countryRulesOutput struct{ Body countries.Rule }

func (a *API) getCountryRules(ctx context.Context, in *countryRulesInput) (*countryRulesOutput, error) {
	r, ok := countries.Lookup(in.ISO2)
	if !ok {
		return nil, a.fail(ctx, csphub.NotFound("country"))
	}
	return &countryRulesOutput{Body: r}, nil
}

// RegionList is the program's regions.
type RegionList struct {
	Items []service.RegionView `json:"items"`
}

type regionListOutput struct{ Body RegionList }

func (a *API) listRegions(ctx context.Context, _ *struct{}) (*regionListOutput, error) {
	regions, err := a.svc.ListRegions(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &regionListOutput{Body: RegionList{Items: regions}}, nil
}

// MarketView is one market of the program.
type MarketView struct {
	Country  string `json:"country" doc:"ISO 3166-1 alpha-2"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	Currency string `json:"currency" doc:"ISO 4217"`
}

// MarketList is the program's markets.
type MarketList struct {
	Items []MarketView `json:"items"`
}

type listMarketsInput struct {
	Region string `query:"region" maxLength:"64" doc:"Only the markets of this region, e.g. europe"`
}

type marketListOutput struct{ Body MarketList }

func (a *API) listMarkets(ctx context.Context, in *listMarketsInput) (*marketListOutput, error) {
	regions, err := a.svc.ListRegions(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := MarketList{Items: []MarketView{}}
	for _, r := range regions {
		if in.Region != "" && r.Code != in.Region {
			continue
		}
		for _, m := range r.Markets {
			out.Items = append(out.Items, MarketView{Country: m.Country, Name: m.Name, Region: r.Code, Currency: m.Currency})
		}
	}
	slices.SortFunc(out.Items, func(x, y MarketView) int { return strings.Compare(x.Country, y.Country) })
	return &marketListOutput{Body: out}, nil
}

type webmailListOutput struct{ Body service.WebmailDomains }

func (a *API) listWebmailDomains(ctx context.Context, _ *struct{}) (*webmailListOutput, error) {
	l, err := a.svc.ListWebmailDomains(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &webmailListOutput{Body: l}, nil
}

// WebmailDomainInput names a domain to refuse.
type WebmailDomainInput struct {
	Domain string `json:"domain" maxLength:"300" doc:"A domain like mail.example; its subdomains are refused too"`
}

type addWebmailDomainInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           WebmailDomainInput
}

func (a *API) addWebmailDomain(ctx context.Context, in *addWebmailDomainInput) (*struct{}, error) {
	if err := a.svc.AddWebmailDomain(ctx, actorFrom(ctx), in.Body.Domain); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}

type removeWebmailDomainInput struct {
	Domain string `path:"domain" maxLength:"300"`
}

func (a *API) removeWebmailDomain(ctx context.Context, in *removeWebmailDomainInput) (*struct{}, error) {
	if err := a.svc.RemoveWebmailDomain(ctx, actorFrom(ctx), in.Domain); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}
