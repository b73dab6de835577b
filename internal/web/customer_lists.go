package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// "View customers": exactly the customers the service lets the reader's
// organization see, a keyset page at a time, searched by the beginning of
// a name or domain, sorted by name or by date. A reseller may narrow the
// list to the customers it shares with one of its providers, a provider
// to those it has through one of its resellers. A row links to the
// customer's chain of relationships.

type partnerOfRecordRow struct {
	Name      string
	PartnerID string
	Role      string
}

type customerRow struct {
	ID      string
	Name    string
	Domain  string
	Country string
	// CountryCode is the customer's country, which is its market.
	CountryCode string
	Since       time.Time
	Partners    []partnerOfRecordRow
	URL         string
}

type customerSortChoice struct {
	Value    string
	Label    string
	Selected bool
}

type partnerCustomersPage struct {
	Nav  programNav
	Rows []customerRow
	Q    string
	Sort string
	// The filters: one of the reader's providers or resellers.
	ProviderID   string
	ResellerID   string
	ProviderName string
	ResellerName string
	Providers    []partnerChoice
	Resellers    []partnerChoice
	Sorts        []customerSortChoice
	Filter       formState
	Filtered     bool
	First        string
	PageToken    string
	NextURL      string
	// CanCreate: the reader's organization supplies active resellers and
	// the reader holds a role that creates customers.
	CanCreate bool
	// InviteURL invites customers for the provider of the filter.
	InviteURL string
}

// customerListFields is the order of the filter form's fields.
var customerListFields = []string{"q", "provider_id", "reseller_id", "sort"}

func customersListURL(q, sort, providerID, resellerID, page string) string {
	v := url.Values{}
	for k, val := range map[string]string{"q": q, "sort": sort, "provider_id": providerID, "reseller_id": resellerID, "page": page} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if len(v) == 0 {
		return partnerCustomersPath
	}
	return partnerCustomersPath + "?" + v.Encode()
}

func (h *Handler) partnerCustomers(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	q := r.URL.Query()
	page := partnerCustomersPage{Nav: programNav{Current: "customers"}, Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"),
		ProviderID: strings.TrimSpace(q.Get("provider_id")), ResellerID: strings.TrimSpace(q.Get("reseller_id"))}
	if utf8.RuneCountInString(page.Q) > maxPartnershipSearch || page.Sort != "" && page.Sort != "name" && page.Sort != "created" ||
		len(page.ProviderID) > 64 || len(page.ResellerID) > 64 {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	for _, s := range []string{"name", "created"} {
		page.Sorts = append(page.Sorts, customerSortChoice{Value: s, Label: l.T("customer.list.sort." + s), Selected: s == page.Sort || s == "name" && page.Sort == ""})
	}
	var err error
	if page.Providers, err = h.partnersOf(r.Context(), v.actor, resellerSide, ""); err != nil {
		h.programFail(w, r, err)
		return
	}
	if page.Resellers, err = h.partnersOf(r.Context(), v.actor, providerSide, ""); err != nil {
		h.programFail(w, r, err)
		return
	}
	for _, p := range page.Resellers {
		if p.State == csphub.PartnershipActive {
			page.CanCreate = v.hasAnyRole(customerCreators...)
			break
		}
	}
	var found bool
	if page.Providers, found = selectPartner(page.Providers, page.ProviderID); found {
		for _, p := range page.Providers {
			if p.Selected {
				page.ProviderName = p.Name
				if p.State == csphub.PartnershipActive && v.hasAnyRole(customerInviters...) {
					page.InviteURL = customerInvitationsPath + "/new?provider_id=" + url.QueryEscape(p.OrgID)
				}
			}
		}
	}
	if page.Resellers, found = selectPartner(page.Resellers, page.ResellerID); found {
		for _, p := range page.Resellers {
			if p.Selected {
				page.ResellerName = p.Name
			}
		}
	}
	page.Filtered = page.Q != "" || page.ProviderID != "" || page.ResellerID != ""
	page.First = customersListURL(page.Q, page.Sort, page.ProviderID, page.ResellerID, "")
	page.PageToken = pageTokenOf(r)
	status := http.StatusOK
	if page.ProviderID != "" && page.ResellerID != "" {
		// The list is either the customers shared with one provider or
		// those through one reseller.
		field := "provider_id"
		if len(page.Providers) == 0 {
			field = "reseller_id"
		}
		page.Filter.fieldError(field, l.T("customer.error.one_filter"))
		status = http.StatusUnprocessableEntity
	} else {
		res, err := h.svc.ListCustomers(r.Context(), v.actor, service.CustomerQuery{ProviderID: page.ProviderID, ResellerID: page.ResellerID,
			Q: page.Q, Sort: page.Sort, PageToken: page.PageToken, PageSize: h.settingsPageSize})
		if err != nil {
			h.programFail(w, r, err)
			return
		}
		for _, c := range res.Items {
			page.Rows = append(page.Rows, h.customerRowOf(l, c))
		}
		if res.NextPageToken != "" {
			page.NextURL = customersListURL(page.Q, page.Sort, page.ProviderID, page.ResellerID, res.NextPageToken)
		}
	}
	noStore(w)
	h.render(w, r, status, pagePartnerCustomers, navCustomers, page)
}

func (h *Handler) customerRowOf(l *i18n.Localizer, c service.CustomerView) customerRow {
	row := customerRow{ID: c.ID, Name: c.Name, Domain: c.Domain, Country: countryName(l, c.Country), CountryCode: c.Country, Since: c.Since,
		URL: partnerCustomersPath + "/" + url.PathEscape(c.ID)}
	for _, p := range c.Partners {
		row.Partners = append(row.Partners, partnerOfRecordRow{Name: p.Name, PartnerID: p.PartnerID, Role: partnerRoleLabel(l, p.Role)})
	}
	return row
}

// --- one customer ---

type relationshipRow struct {
	ID        string
	Partner   string
	PartnerID string
	Role      string
	State     csphub.RelationshipState
	StateText string
	Since     time.Time
	Removed   time.Time
	RemoveURL string
}

type linkRow struct {
	Provider  string
	Reseller  string
	StateText string
	Since     time.Time
	Removed   time.Time
}

type partnerCustomerPage struct {
	Nav           programNav
	Customer      customerRow
	Relationships []relationshipRow
	Links         []linkRow
	Done          string
	// CanManage is false: partners do not remove customers' relationships.
	CanManage bool
	// OrderURL is the cart, for a provider of the customer whose reader
	// may order; the other two list the customer's orders and
	// subscriptions the reader's organization sees.
	OrderURL         string
	OrdersURL        string
	SubscriptionsURL string
}

// chainRows shows a customer's relationships and links; removeBase, when
// set, is the base of the Remove action of an active relationship.
func chainRows(l *i18n.Localizer, chain service.CustomerChain, removeBase string) ([]relationshipRow, []linkRow) {
	names := map[string]string{}
	var rels []relationshipRow
	for _, rel := range chain.Relationships {
		names[rel.PartnerID] = rel.PartnerName
		row := relationshipRow{ID: rel.ID, Partner: rel.PartnerName, PartnerID: rel.PartnerPartnerID, Role: partnerRoleLabel(l, rel.Role),
			State: rel.State, StateText: relationshipStateLabel(l, rel.State), Since: rel.CreatedAt}
		if rel.RemovedAt != nil {
			row.Removed = *rel.RemovedAt
		}
		if removeBase != "" && rel.State == csphub.RelationshipActive {
			row.RemoveURL = removeBase + "/" + url.PathEscape(rel.ID) + "/remove"
		}
		rels = append(rels, row)
	}
	var links []linkRow
	for _, lk := range chain.Links {
		row := linkRow{Provider: names[lk.ProviderID], Reseller: names[lk.ResellerID], StateText: relationshipStateLabel(l, lk.State), Since: lk.CreatedAt}
		if row.Provider == "" {
			row.Provider = l.T("customer.chain.unknown_partner")
		}
		if row.Reseller == "" {
			row.Reseller = l.T("customer.chain.unknown_partner")
		}
		if lk.RemovedAt != nil {
			row.Removed = *lk.RemovedAt
		}
		links = append(links, row)
	}
	return rels, links
}

func (h *Handler) partnerCustomer(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	id := r.PathValue("id")
	c, err := h.svc.GetCustomer(r.Context(), v.actor, id)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	chain, err := h.svc.CustomerRelationships(r.Context(), v.actor, id)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page := partnerCustomerPage{Nav: programNav{Current: "customers"}, Customer: h.customerRowOf(l, c), Done: doneOf(r, "created")}
	page.Customer.Since = c.CreatedAt
	page.Relationships, page.Links = chainRows(l, chain, "")
	if len(orderResellers(chain, v.actor.TenantID())) > 0 && v.hasAnyRole(orderRoles...) {
		page.OrderURL = partnerCustomersPath + "/" + url.PathEscape(c.ID) + "/orders/new"
	}
	page.OrdersURL = listURL(ordersPath, listFilter{CustomerID: c.ID}, nil)
	page.SubscriptionsURL = listURL(subscriptionsPath, listFilter{CustomerID: c.ID}, nil)
	noStore(w)
	h.render(w, r, http.StatusOK, pagePartnerCustomer, navCustomers, page)
}

// --- "Create a customer", for a provider ---

// createCustomerFields is the order of the form's fields.
var createCustomerFields = []string{"reseller_id", "organization_name", "country", "domain", "admin_name", "admin_email", "lang"}

type customerNewPage struct {
	Nav       programNav
	Form      formState
	Resellers []partnerChoice
	Countries []countryOption
	Languages []string
	CanCreate bool
}

func (h *Handler) customerNewBase(r *http.Request, v *viewer, resellerID string) (customerNewPage, error) {
	l := h.localizer(r)
	resellers, err := h.partnersOf(r.Context(), v.actor, providerSide, csphub.PartnershipActive)
	if err != nil {
		return customerNewPage{}, err
	}
	resellers, _ = selectPartner(resellers, resellerID)
	return customerNewPage{Nav: programNav{Current: "customers"}, Resellers: resellers, Countries: h.countries[l.Lang()],
		Languages: h.languageTags(), Form: formState{Values: map[string]string{"lang": l.Lang(), "reseller_id": resellerID}},
		CanCreate: v.hasAnyRole(customerCreators...)}, nil
}

func (h *Handler) customerNewForm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	resellerID := r.URL.Query().Get("reseller_id")
	if len(resellerID) > 64 {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	page, err := h.customerNewBase(r, v, resellerID)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageCustomerNew, navCustomers, page)
}

func (h *Handler) createCustomer(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	in := service.CreateCustomerInput{ResellerID: strings.TrimSpace(f.Get("reseller_id")), OrgName: strings.TrimSpace(f.Get("organization_name")),
		Country: f.Get("country"), Domain: strings.TrimSpace(f.Get("domain")), AdminName: strings.TrimSpace(f.Get("admin_name")),
		AdminEmail: strings.TrimSpace(f.Get("admin_email")), Lang: f.Get("lang")}
	res, err := h.svc.CreateCustomer(r.Context(), v.actor, in)
	if err == nil {
		redirect(w, r, partnerCustomersPath+"/"+url.PathEscape(res.Customer.ID)+"?done=created")
		return
	}
	page, perr := h.customerNewBase(r, v, in.ResellerID)
	if perr != nil {
		h.programFail(w, r, perr)
		return
	}
	page.Form.Values = map[string]string{"reseller_id": in.ResellerID, "organization_name": in.OrgName, "country": in.Country,
		"domain": in.Domain, "admin_name": in.AdminName, "admin_email": in.AdminEmail, "lang": in.Lang}
	status := http.StatusUnprocessableEntity
	e := csphub.AsError(err)
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.customerFieldErrors(r, l, &page.Form, e.Fields, createCustomerFields, "")
	default:
		msg, st, ok := h.customerRefusal(w, r, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		status = st
		switch e.Code {
		case "relationship_not_active":
			page.Form.fieldError("reseller_id", l.T("customer.error.create.relationship_not_active"))
		case "customer_region_mismatch":
			page.Form.fieldError("country", msg)
		case "email_taken":
			page.Form.fieldError("admin_email", msg)
		default:
			page.Form.Problem = msg
		}
	}
	noStore(w)
	h.render(w, r, status, pageCustomerNew, navCustomers, page)
}
