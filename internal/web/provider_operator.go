package web

import (
	"net/http"
	"net/url"
	"slices"

	"csphub"
	"csphub/internal/service"
)

// The operator's page of an approved indirect provider
// (/operator/providers/{org}): who it is, and the regions it is authorized
// to work in, which operator admins change and reviewers read.

type operatorProviderPage struct {
	Nav         programNav
	Provider    service.ProviderView
	CountryName string
	RegionName  string // its own region, from its legal country
	// Regions are every region of the program, the authorized ones
	// checked; Authorized names those alone, for the read-only view.
	Regions    []regionChoice
	Authorized []string
	CanEdit    bool
	Action     string
	Form       formState
	Done       string
}

// providerRegionFields is the order of the authorization form's fields.
var providerRegionFields = []string{"regions"}

func (h *Handler) operatorProvider(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	h.renderOperatorProvider(w, r, v, http.StatusOK, nil, formState{}, doneOf(r, "saved"))
}

// renderOperatorProvider shows the provider; checked, when not nil, are
// the regions the refused form had checked.
func (h *Handler) renderOperatorProvider(w http.ResponseWriter, r *http.Request, v *viewer, status int, checked []string, form formState, done string) {
	org := r.PathValue("org")
	p, err := h.svc.GetProvider(r.Context(), v.actor, org)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	regions, err := h.svc.ListRegions(r.Context())
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	l := h.localizer(r)
	if checked == nil {
		checked = p.Regions
	}
	page := operatorProviderPage{Nav: programNav{Current: "enrollments"}, Provider: p,
		CountryName: countryName(l, p.Country), CanEdit: v.hasAnyRole(csphub.RoleOperatorAdmin),
		Action: operatorProvidersPath + url.PathEscape(org) + "/regions", Form: form, Done: done}
	names := map[string]string{}
	for _, rg := range regions {
		name := regionName(l, rg.Code, rg.Name)
		names[rg.Code] = name
		page.Regions = append(page.Regions, regionChoice{Code: rg.Code, Name: name, Checked: slices.Contains(checked, rg.Code)})
	}
	if p.Region != "" {
		page.RegionName = regionName(l, p.Region, names[p.Region])
	}
	for _, code := range p.Regions {
		page.Authorized = append(page.Authorized, regionName(l, code, names[code]))
	}
	noStore(w)
	h.render(w, r, status, pageOperatorProvider, "operator", page)
}

func (h *Handler) authorizeProviderRegions(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	regions := r.PostForm["regions"]
	if regions == nil {
		regions = []string{}
	}
	_, err := h.svc.AuthorizeProviderRegions(r.Context(), v.actor, org, regions)
	if err == nil {
		redirect(w, r, operatorProvidersPath+url.PathEscape(org)+"?done=saved")
		return
	}
	l := h.localizer(r)
	e := csphub.AsError(err)
	if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) == 0 {
		// A reviewer or anyone else without the role gets the 403 page,
		// a partner that is no approved provider the 404 one.
		h.programFail(w, r, err)
		return
	}
	var form formState
	h.providerFieldErrors(r, l, &form, e.Fields, providerRegionFields, withoutIndex)
	h.renderOperatorProvider(w, r, v, http.StatusUnprocessableEntity, regions, form, "")
}
