package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/countries"
	"csphub/internal/i18n"
)

// The operator's regions and markets (/operator/regions): every region
// with the countries it sells in and their currencies. Operator admins
// create and rename regions, add a country or move it to another region
// or currency, and take a country out while no partner is located there;
// every other operator user reads.

type regionMarketRow struct {
	Country, CountryName, Currency string
	// EditURL fills the market form with this market; RemoveAction takes
	// it out of the program.
	EditURL, RemoveAction string
}

type regionRow struct {
	Code, Name string
	Markets    []regionMarketRow
}

type regionOption struct{ Code, Name string }

type operatorRegionsPage struct {
	Nav     programNav
	Regions []regionRow
	CanEdit bool
	// Each form keeps what was typed and its own messages; Removal holds
	// why a market could not be removed.
	RegionForm, MarketForm, Removal formState
	// The market form's choices: every country with a rule, by name, and
	// the regions.
	Countries     []countryOption
	RegionOptions []regionOption
	Done          string
	// prefill is the market "Change" fills the market form with.
	prefill string
}

// The order of the fields of the region and market forms; their ids are
// unique on the page.
var (
	regionFormFields = []string{"region_code", "region_name"}
	marketFormFields = []string{"market_country", "market_region", "market_currency"}
)

func regionFormField(path string) string {
	switch path {
	case "code":
		return "region_code"
	case "name":
		return "region_name"
	}
	return path
}

func marketFormField(path string) string {
	switch path {
	case "country":
		return "market_country"
	case "region":
		return "market_region"
	case "currency":
		return "market_currency"
	}
	return path
}

// marketCountries are the countries a market may be opened in: those
// with validation rules, named in the reader's language where the
// catalogs name them, sorted as a reader of it looks for them.
func marketCountries(l *i18n.Localizer) []countryOption {
	all := countries.All()
	out := make([]countryOption, 0, len(all))
	for _, rule := range all {
		name := rule.Name
		if key := countryKey(rule.Code); l.Has(key) {
			name = l.T(key)
		}
		out = append(out, countryOption{Code: rule.Code, Name: name})
	}
	slices.SortFunc(out, func(a, b countryOption) int { return strings.Compare(sortKey(a.Name), sortKey(b.Name)) })
	return out
}

func (h *Handler) operatorRegions(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	page := operatorRegionsPage{Done: doneOf(r, "region_saved", "market_saved", "market_removed")}
	// "Change" on a market fills the market form with it.
	page.prefill = strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("market")))
	h.renderOperatorRegions(w, r, v, http.StatusOK, page)
}

// renderOperatorRegions lists the regions into page, whose forms hold
// what was typed, and shows it.
func (h *Handler) renderOperatorRegions(w http.ResponseWriter, r *http.Request, v *viewer, status int, page operatorRegionsPage) {
	regions, err := h.svc.ListRegions(r.Context())
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	l := h.localizer(r)
	page.Nav = programNav{Current: "regions"}
	page.CanEdit = v.hasAnyRole(csphub.RoleOperatorAdmin)
	page.Countries = marketCountries(l)
	if page.MarketForm.Values == nil {
		page.MarketForm.Values = map[string]string{}
	}
	mf := page.MarketForm.Values
	for _, rg := range regions {
		row := regionRow{Code: rg.Code, Name: rg.Name}
		for _, m := range rg.Markets {
			name := countryName(l, m.Country)
			if name == m.Country && m.Name != "" {
				name = m.Name
			}
			row.Markets = append(row.Markets, regionMarketRow{Country: m.Country, CountryName: name, Currency: m.Currency,
				EditURL:      operatorRegionsPath + "?market=" + url.QueryEscape(m.Country) + "#market-form",
				RemoveAction: operatorRegionsPath + "/markets/" + url.PathEscape(m.Country) + "/remove"})
			// The market being changed shows its region and currency.
			if page.prefill != "" && m.Country == page.prefill {
				mf["market_country"], mf["market_region"], mf["market_currency"] = m.Country, rg.Code, m.Currency
			}
		}
		slices.SortStableFunc(row.Markets, func(a, b regionMarketRow) int {
			return strings.Compare(sortKey(a.CountryName), sortKey(b.CountryName))
		})
		page.Regions = append(page.Regions, row)
		page.RegionOptions = append(page.RegionOptions, regionOption{Code: rg.Code, Name: rg.Name})
	}
	noStore(w)
	h.render(w, r, status, pageOperatorRegions, "operator", page)
}

func (h *Handler) saveRegion(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	rg := csphub.Region{Code: strings.TrimSpace(r.PostForm.Get("region_code")), Name: strings.TrimSpace(r.PostForm.Get("region_name"))}
	_, err := h.svc.SaveRegion(r.Context(), v.actor, rg)
	if err == nil {
		redirect(w, r, operatorRegionsPath+"?done=region_saved")
		return
	}
	e := csphub.AsError(err)
	if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) == 0 {
		h.programFail(w, r, err)
		return
	}
	page := operatorRegionsPage{RegionForm: formState{Values: map[string]string{"region_code": rg.Code, "region_name": rg.Name}}}
	h.providerFieldErrors(r, h.localizer(r), &page.RegionForm, e.Fields, regionFormFields, regionFormField)
	h.renderOperatorRegions(w, r, v, http.StatusUnprocessableEntity, page)
}

func (h *Handler) saveMarket(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	m := csphub.Market{Country: strings.ToUpper(strings.TrimSpace(f.Get("market_country"))),
		RegionCode: strings.TrimSpace(f.Get("market_region")), Currency: strings.ToUpper(strings.TrimSpace(f.Get("market_currency")))}
	_, err := h.svc.SaveMarket(r.Context(), v.actor, m)
	if err == nil {
		redirect(w, r, operatorRegionsPath+"?done=market_saved")
		return
	}
	e := csphub.AsError(err)
	if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) == 0 {
		h.programFail(w, r, err)
		return
	}
	page := operatorRegionsPage{MarketForm: formState{Values: map[string]string{
		"market_country": m.Country, "market_region": m.RegionCode, "market_currency": m.Currency}}}
	h.providerFieldErrors(r, h.localizer(r), &page.MarketForm, e.Fields, marketFormFields, marketFormField)
	h.renderOperatorRegions(w, r, v, http.StatusUnprocessableEntity, page)
}

func (h *Handler) removeMarket(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	country := strings.ToUpper(strings.TrimSpace(r.PathValue("country")))
	err := h.svc.RemoveMarket(r.Context(), v.actor, country)
	if err == nil {
		redirect(w, r, operatorRegionsPath+"?done=market_removed")
		return
	}
	l := h.localizer(r)
	var page operatorRegionsPage
	status := http.StatusConflict
	switch e := csphub.AsError(err); {
	case e != nil && e.Code == "market_in_use":
		page.Removal.Problem = l.T("provider.error.market_in_use", "country", countryName(l, country))
	case e != nil && e.Kind == csphub.KindNotFound:
		// Removed meanwhile, or never a market: the list shows where
		// things stand.
		page.Removal.Problem, status = l.T("provider.error.market_not_found"), http.StatusNotFound
	default:
		h.programFail(w, r, err)
		return
	}
	h.renderOperatorRegions(w, r, v, status, page)
}
