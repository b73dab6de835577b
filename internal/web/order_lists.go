package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Orders and subscriptions as each party sees them: the service decides
// what the reader's organization may read; the pages show it, filtered
// by state or status and, through links from a customer's page, by
// customer or reseller. Only the provider holding a subscription gets
// the forms that change it.

// orderGuard lets through a signed-in user past MFA of any organization:
// partners, customers and the operator all read orders.
func (h *Handler) orderGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	return h.requireMFAPassed(w, r)
}

// ordersNav says which tabs the order pages show: the partner's, the
// operator's, or none for a customer (the layout's nav has its links).
type ordersNav struct {
	Partner  bool
	Operator bool
	Program  programNav
}

func navFor(v *viewer, current string) ordersNav {
	return ordersNav{Partner: v.me.Organization.Kind == csphub.OrgPartner, Operator: v.me.Organization.Kind == csphub.OrgOperator,
		Program: programNav{Current: current}}
}

type choice struct {
	Value    string
	Label    string
	Selected bool
}

// listFilter is a filter the page was reached with: a customer or a
// reseller, kept in the links and the form.
type listFilter struct {
	CustomerID string
	ResellerID string
	OfferID    string
}

func readFilter(q url.Values) (listFilter, bool) {
	f := listFilter{CustomerID: strings.TrimSpace(q.Get("customer_id")), ResellerID: strings.TrimSpace(q.Get("reseller_id")),
		OfferID: strings.TrimSpace(q.Get("offer_id"))}
	return f, len(f.CustomerID) <= 64 && len(f.ResellerID) <= 64 && len(f.OfferID) <= 64
}

func listURL(path string, f listFilter, extra map[string]string) string {
	v := url.Values{}
	for k, val := range map[string]string{"customer_id": f.CustomerID, "reseller_id": f.ResellerID, "offer_id": f.OfferID} {
		if val != "" {
			v.Set(k, val)
		}
	}
	for k, val := range extra {
		if val != "" {
			v.Set(k, val)
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// --- orders ---

type orderRow struct {
	ID        string
	Short     string
	URL       string
	Customer  string
	Provider  string
	Resellers string
	Lines     int
	Total     string
	StateText string
	At        time.Time
}

type ordersPage struct {
	Nav       ordersNav
	Rows      []orderRow
	Filter    listFilter
	States    []choice
	State     string
	Filtered  bool
	First     string
	PageToken string
	NextURL   string
}

// shortID is the first block of an id, enough to tell rows apart.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return strings.ToUpper(id[:i])
	}
	return id
}

func orderRowOf(l *i18n.Localizer, o csphub.Order) orderRow {
	var resellers []string
	for _, line := range o.Lines {
		name := line.ResellerName
		if line.ResellerPartnerID != "" {
			name += " (" + line.ResellerPartnerID + ")"
		}
		if !slices.Contains(resellers, name) {
			resellers = append(resellers, name)
		}
	}
	return orderRow{ID: o.ID, Short: shortID(o.ID), URL: ordersPath + "/" + url.PathEscape(o.ID), Customer: o.CustomerName,
		Provider: o.ProviderName, Resellers: strings.Join(resellers, ", "), Lines: len(o.Lines),
		Total: l.FormatMoney(o.TotalMinor, o.Currency), StateText: orderStateLabel(l, o.State), At: o.CreatedAt}
}

func (h *Handler) ordersList(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orderGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	q := r.URL.Query()
	f, ok := readFilter(q)
	state := q.Get("state")
	if !ok || state != "" && !csphub.OrderState(state).Valid() {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	page := ordersPage{Nav: navFor(v, navOrders), Filter: f, State: state, PageToken: pageTokenOf(r),
		Filtered: state != "" || f.CustomerID != "" || f.ResellerID != ""}
	page.States = append(page.States, choice{Value: "", Label: l.T("order.filter.any_state"), Selected: state == ""})
	for _, s := range csphub.OrderStates {
		page.States = append(page.States, choice{Value: string(s), Label: orderStateLabel(l, s), Selected: string(s) == state})
	}
	res, err := h.svc.ListOrders(r.Context(), v.actor, service.OrderQuery{CustomerID: f.CustomerID, ResellerID: f.ResellerID,
		State: state, PageToken: page.PageToken, PageSize: h.settingsPageSize})
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	for _, o := range res.Items {
		page.Rows = append(page.Rows, orderRowOf(l, o))
	}
	page.First = listURL(ordersPath, f, map[string]string{"state": state})
	if res.NextPageToken != "" {
		page.NextURL = listURL(ordersPath, f, map[string]string{"state": state, "page": res.NextPageToken})
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageOrders, navOrders, page)
}

type orderLineRow struct {
	Offer           string
	Reseller        string
	Quantity        int
	UnitPrice       string
	Subtotal        string
	SubscriptionURL string
}

type orderPage struct {
	Nav   ordersNav
	Order orderRow
	Lines []orderLineRow
	Done  string
	// ReadOnly: the reader's organization is not the order's provider.
	ReadOnly bool
}

func (h *Handler) orderDetail(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orderGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	o, err := h.svc.GetOrder(r.Context(), v.actor, r.PathValue("id"))
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page := orderPage{Nav: navFor(v, navOrders), Order: orderRowOf(l, o), Done: doneOf(r, "placed"),
		ReadOnly: o.ProviderID != v.actor.TenantID()}
	for _, line := range o.Lines {
		row := orderLineRow{Offer: line.OfferName, Reseller: line.ResellerName, Quantity: line.Quantity,
			UnitPrice: l.FormatMoney(line.UnitPriceMinor, o.Currency), Subtotal: l.FormatMoney(line.UnitPriceMinor*int64(line.Quantity), o.Currency)}
		if line.ResellerPartnerID != "" {
			row.Reseller += " (" + line.ResellerPartnerID + ")"
		}
		if line.SubscriptionID != "" {
			row.SubscriptionURL = subscriptionsPath + "/" + url.PathEscape(line.SubscriptionID)
		}
		page.Lines = append(page.Lines, row)
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageOrder, navOrders, page)
}

// --- subscriptions ---

type subscriptionRow struct {
	ID         string
	URL        string
	Offer      string
	OfferCode  string
	Customer   string
	Provider   string
	Reseller   string
	Quantity   int
	Status     csphub.SubscriptionStatus
	StatusText string
	AutoRenew  bool
	TermStart  time.Time
	TermEnd    time.Time
	Term       string
	Billing    string
	UnitPrice  string
	OrderURL   string
	Created    time.Time
}

func subscriptionRowOf(l *i18n.Localizer, s csphub.Subscription) subscriptionRow {
	row := subscriptionRow{ID: s.ID, URL: subscriptionsPath + "/" + url.PathEscape(s.ID), Offer: s.OfferName, OfferCode: s.OfferCode,
		Customer: s.CustomerName, Provider: s.ProviderName, Reseller: s.ResellerName, Quantity: s.Quantity, Status: s.Status,
		StatusText: subscriptionStatusLabel(l, s.Status), AutoRenew: s.AutoRenew, TermStart: s.TermStart, TermEnd: s.TermEnd,
		Term: termLabel(l, s.Term), Billing: billingLabel(l, s.BillingCycle), UnitPrice: l.FormatMoney(s.UnitPriceMinor, s.Currency),
		OrderURL: ordersPath + "/" + url.PathEscape(s.OrderID), Created: s.CreatedAt}
	if s.ResellerPartnerID != "" {
		row.Reseller += " (" + s.ResellerPartnerID + ")"
	}
	return row
}

type subscriptionsPage struct {
	Nav       ordersNav
	Rows      []subscriptionRow
	Filter    listFilter
	Statuses  []choice
	Status    string
	Filtered  bool
	First     string
	PageToken string
	NextURL   string
}

var subscriptionStatuses = []csphub.SubscriptionStatus{csphub.SubscriptionActive, csphub.SubscriptionSuspended,
	csphub.SubscriptionCancelled, csphub.SubscriptionExpired}

func (h *Handler) subscriptionsList(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orderGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	q := r.URL.Query()
	f, ok := readFilter(q)
	status := q.Get("status")
	valid := status == ""
	for _, s := range subscriptionStatuses {
		valid = valid || string(s) == status
	}
	if !ok || !valid {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	page := subscriptionsPage{Nav: navFor(v, navSubscriptions), Filter: f, Status: status, PageToken: pageTokenOf(r),
		Filtered: status != "" || f.CustomerID != "" || f.ResellerID != "" || f.OfferID != ""}
	page.Statuses = append(page.Statuses, choice{Value: "", Label: l.T("subscription.filter.any_status"), Selected: status == ""})
	for _, s := range subscriptionStatuses {
		page.Statuses = append(page.Statuses, choice{Value: string(s), Label: subscriptionStatusLabel(l, s), Selected: string(s) == status})
	}
	res, err := h.svc.ListSubscriptions(r.Context(), v.actor, service.SubscriptionQuery{CustomerID: f.CustomerID, ResellerID: f.ResellerID,
		OfferID: f.OfferID, Status: status, PageToken: page.PageToken, PageSize: h.settingsPageSize})
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	for _, s := range res.Items {
		page.Rows = append(page.Rows, subscriptionRowOf(l, s))
	}
	page.First = listURL(subscriptionsPath, f, map[string]string{"status": status})
	if res.NextPageToken != "" {
		page.NextURL = listURL(subscriptionsPath, f, map[string]string{"status": status, "page": res.NextPageToken})
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageSubscriptions, navSubscriptions, page)
}

type subscriptionPage struct {
	Nav          ordersNav
	Subscription subscriptionRow
	DoneText     string
	Form         formState
	// CanManage: the reader is the provider's, with a role that changes
	// subscriptions, and the subscription has not ended.
	CanManage bool
	// ReadOnly: the reader's organization is not the provider.
	ReadOnly bool
	// CanCancel: within the cancellation window; past it, cancelling
	// turns off auto-renewal.
	CanCancel  bool
	WindowEnds time.Time
	Resellers  []partnerChoice
	Quantity   string
}

// subscriptionActions are the changes the page's forms send.
var subscriptionActions = []string{"quantity", "suspend", "reactivate", "cancel", "auto_renew_on", "auto_renew_off", "reseller"}

func (h *Handler) subscriptionBase(r *http.Request, v *viewer, s csphub.Subscription) (subscriptionPage, error) {
	l := h.localizer(r)
	page := subscriptionPage{Nav: navFor(v, navSubscriptions), Subscription: subscriptionRowOf(l, s),
		ReadOnly: s.ProviderID != v.actor.TenantID(), Quantity: strconv.Itoa(s.Quantity)}
	ended := s.Status == csphub.SubscriptionCancelled || s.Status == csphub.SubscriptionExpired
	page.CanManage = !page.ReadOnly && !ended && v.hasAnyRole(orderRoles...)
	since := s.CreatedAt
	if s.RenewedAt != nil {
		since = *s.RenewedAt
	}
	page.WindowEnds = since.Add(csphub.CancellationWindow)
	page.CanCancel = !h.clock.Now().After(page.WindowEnds)
	if page.CanManage {
		chain, err := h.svc.CustomerRelationships(r.Context(), v.actor, s.CustomerID)
		if err != nil {
			return page, err
		}
		page.Resellers = orderResellers(chain, s.ProviderID)
		page.Resellers, _ = selectPartner(page.Resellers, s.ResellerID)
	}
	return page, nil
}

func (h *Handler) subscriptionDetail(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orderGuard(w, r)
	if !ok {
		return
	}
	s, err := h.svc.GetSubscription(r.Context(), v.actor, r.PathValue("id"))
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page, err := h.subscriptionBase(r, v, s)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	if done := doneOf(r, subscriptionActions...); done != "" {
		page.DoneText = h.localizer(r).T("subscription.notice." + done)
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageSubscription, navSubscriptions, page)
}

func (h *Handler) subscriptionChange(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orderGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	id := r.PathValue("id")
	f := r.PostForm
	action := f.Get("action")
	var in service.SubscriptionChange
	var field string
	var formErr string
	switch action {
	case "quantity":
		field = "quantity"
		n, err := strconv.Atoi(strings.TrimSpace(f.Get("quantity")))
		if err != nil || n < 1 {
			formErr = l.T("order.error.quantity_invalid")
		}
		in.Quantity = &n
	case "suspend", "reactivate", "cancel":
		status := map[string]string{"suspend": "suspended", "reactivate": "active", "cancel": "cancelled"}[action]
		in.Status = &status
	case "auto_renew_on", "auto_renew_off":
		on := action == "auto_renew_on"
		in.AutoRenew = &on
	case "reseller":
		field = "reseller_partner_id"
		pid := strings.TrimSpace(f.Get("reseller_partner_id"))
		if pid == "" {
			formErr = l.T("order.error.reseller_required")
		}
		in.ResellerPartnerID = &pid
	default:
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	var err error
	if formErr == "" {
		if _, err = h.svc.UpdateSubscription(r.Context(), v.actor, id, in); err == nil {
			redirect(w, r, subscriptionsPath+"/"+url.PathEscape(id)+"?done="+action)
			return
		}
	}
	s, gerr := h.svc.GetSubscription(r.Context(), v.actor, id)
	if gerr != nil {
		h.programFail(w, r, gerr)
		return
	}
	page, perr := h.subscriptionBase(r, v, s)
	if perr != nil {
		h.programFail(w, r, perr)
		return
	}
	if action == "quantity" {
		page.Quantity = f.Get("quantity")
	}
	status := http.StatusUnprocessableEntity
	switch e := csphub.AsError(err); {
	case formErr != "":
		page.Form.fieldError(field, formErr)
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		for _, fe := range e.Fields {
			msg := l.T("order.error.refused")
			if key := "order.error." + fe.Code; l.Has(key) {
				msg = l.T(key)
			}
			if fe.Field == "quantity" || fe.Field == "reseller_partner_id" {
				page.Form.fieldError(fe.Field, msg)
			} else {
				page.Form.Problem = msg
			}
		}
	default:
		msg, st, ok := h.orderRefusal(w, r, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		status = st
		if field != "" && e.Kind != csphub.KindForbidden {
			page.Form.fieldError(field, msg)
		} else {
			page.Form.Problem = msg
		}
	}
	noStore(w)
	h.render(w, r, status, pageSubscription, navSubscriptions, page)
}
