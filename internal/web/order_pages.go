package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Orders is what the order and subscription pages need of the service.
// The idempotency calls let the order form be submitted twice (a double
// click, a reload of the answer) and still place one order.
type Orders interface {
	ListOffers(ctx context.Context, actor csphub.Actor, market, pageToken string, pageSize int) (service.OfferPage, error)
	PlaceOrder(ctx context.Context, actor csphub.Actor, customerID string, in service.PlaceOrderInput) (csphub.Order, error)
	ListOrders(ctx context.Context, actor csphub.Actor, q service.OrderQuery) (service.OrderPage, error)
	GetOrder(ctx context.Context, actor csphub.Actor, id string) (csphub.Order, error)
	ListSubscriptions(ctx context.Context, actor csphub.Actor, q service.SubscriptionQuery) (service.SubscriptionPage, error)
	GetSubscription(ctx context.Context, actor csphub.Actor, id string) (csphub.Subscription, error)
	UpdateSubscription(ctx context.Context, actor csphub.Actor, id string, in service.SubscriptionChange) (csphub.Subscription, error)
	BeginIdempotent(ctx context.Context, r service.IdempotencyRequest) (service.IdempotencyResult, error)
	FinishIdempotent(ctx context.Context, claim *csphub.IdempotencyClaim, status int, body []byte) error
}

// The order pages. A provider user orders for a customer it shares with a
// reseller from the customer's page: the cart (the offers of the
// customer's market with a quantity each, and the reseller of record),
// then its review with prices and totals, then the order. Orders and
// subscriptions are listed for every party (/orders, /subscriptions): the
// service shows a provider its own, a reseller those naming it, a
// customer its own and the operator all of them. Only the provider that
// holds a subscription changes it, from the subscription's page.
const (
	pageOrderCart     = "order_cart"
	pageOrders        = "orders"
	pageOrder         = "order"
	pageSubscriptions = "subscriptions"
	pageSubscription  = "subscription"

	ordersPath        = "/orders"
	subscriptionsPath = "/subscriptions"

	navOrders        = "orders"
	navSubscriptions = "subscriptions"

	// orderKeyLock and orderKeyTTL: how long a submitted order form holds
	// its key while it runs, and how long a second submission replays the
	// first one's outcome.
	orderKeyLock = time.Minute
	orderKeyTTL  = 24 * time.Hour
	// maxCartOffers bounds the offers a cart shows (one page of the
	// catalogue of a market).
	maxCartOffers = 200
)

var orderPageNames = []string{pageOrderCart, pageOrders, pageOrder, pageSubscriptions, pageSubscription}

func (h *Handler) registerOrdersPages(mux *http.ServeMux) {
	mux.Handle("GET "+partnerCustomersPath+"/{id}/orders/new", h.page(h.orderCart))
	mux.Handle("POST "+partnerCustomersPath+"/{id}/orders/review", h.post(h.orderReview))
	mux.Handle("POST "+partnerCustomersPath+"/{id}/orders", h.post(h.placeOrder))
	mux.Handle("GET "+ordersPath, h.page(h.ordersList))
	mux.Handle("GET "+ordersPath+"/{id}", h.page(h.orderDetail))
	mux.Handle("GET "+subscriptionsPath, h.page(h.subscriptionsList))
	mux.Handle("GET "+subscriptionsPath+"/{id}", h.page(h.subscriptionDetail))
	mux.Handle("POST "+subscriptionsPath+"/{id}", h.post(h.subscriptionChange))
}

// orderRoles are the provider roles that place orders and change
// subscriptions (rule 6); the pages offer the forms to them only.
var orderRoles = []string{csphub.RoleAdminAgent, csphub.RoleSalesAgent}

// orderRefusal is the message of a refused order or change.
func (h *Handler) orderRefusal(w http.ResponseWriter, r *http.Request, l *i18n.Localizer, err error) (string, int, bool) {
	return h.refusal(w, r, l, err, "order.error.")
}

func orderStateLabel(l *i18n.Localizer, s csphub.OrderState) string {
	if key := "order.state." + string(s); l.Has(key) {
		return l.T(key)
	}
	return string(s)
}

func subscriptionStatusLabel(l *i18n.Localizer, s csphub.SubscriptionStatus) string {
	if key := "subscription.status." + string(s); l.Has(key) {
		return l.T(key)
	}
	return string(s)
}

func termLabel(l *i18n.Localizer, term string) string {
	if key := "order.term." + strings.ToLower(term); l.Has(key) {
		return l.T(key)
	}
	return term
}

func billingLabel(l *i18n.Localizer, cycle string) string {
	if key := "order.billing." + cycle; l.Has(key) {
		return l.T(key)
	}
	return cycle
}

// --- the cart ---

type cartOffer struct {
	ID       string
	Name     string
	Product  string
	Code     string
	Term     string
	Billing  string
	Price    string
	Min, Max int
	// PriceMinor and Currency price the line on review (the service
	// prices the order itself).
	PriceMinor int64
	Currency   string
	// Quantity is the form's value; Error its message.
	Quantity string
	Error    string
	// Subtotal is the line's price for one billing period, on review.
	Subtotal string
}

type orderCartPage struct {
	Nav       programNav
	Customer  customerRow
	Market    string
	Resellers []partnerChoice
	Offers    []cartOffer
	// Lines are the offers with a quantity, on review.
	Lines    []cartOffer
	Reseller partnerChoice
	Total    string
	Key      string
	Form     formState
	Review   bool
	// NotProvider: the reader's organization is not a provider of this
	// customer through an active reseller; NoRole: the reader lacks the
	// roles that order.
	NotProvider bool
	NoRole      bool
	NoOffers    bool
	CartURL     string
	ReviewURL   string
	PlaceURL    string
	CustomerURL string
}

// orderResellers are the resellers through which the reader's
// organization is the customer's provider, with their partner IDs.
func orderResellers(chain service.CustomerChain, providerID string) []partnerChoice {
	rels := map[string]service.CustomerRelationshipView{}
	for _, rel := range chain.Relationships {
		if rel.State == csphub.RelationshipActive {
			rels[rel.PartnerID] = rel
		}
	}
	var out []partnerChoice
	for _, lk := range chain.Links {
		rel, ok := rels[lk.ResellerID]
		if lk.ProviderID != providerID || lk.State != csphub.RelationshipActive || !ok || rel.PartnerPartnerID == "" {
			continue
		}
		if slices.ContainsFunc(out, func(p partnerChoice) bool { return p.OrgID == lk.ResellerID }) {
			continue
		}
		out = append(out, partnerChoice{OrgID: lk.ResellerID, Name: rel.PartnerName, PartnerID: rel.PartnerPartnerID})
	}
	slices.SortFunc(out, func(a, b partnerChoice) int { return strings.Compare(sortKey(a.Name), sortKey(b.Name)) })
	return out
}

// cartBase reads what the cart and its review show: the customer, the
// resellers of record the reader may name and the offers of the
// customer's market.
func (h *Handler) cartBase(r *http.Request, v *viewer, customerID string) (orderCartPage, error) {
	l := h.localizer(r)
	c, err := h.svc.GetCustomer(r.Context(), v.actor, customerID)
	if err != nil {
		return orderCartPage{}, err
	}
	chain, err := h.svc.CustomerRelationships(r.Context(), v.actor, customerID)
	if err != nil {
		return orderCartPage{}, err
	}
	base := partnerCustomersPath + "/" + url.PathEscape(c.ID)
	page := orderCartPage{Nav: programNav{Current: "customers"}, Customer: h.customerRowOf(l, c), Market: countryName(l, c.Country),
		Resellers: orderResellers(chain, v.actor.TenantID()), CartURL: base + "/orders/new", ReviewURL: base + "/orders/review",
		PlaceURL: base + "/orders", CustomerURL: base, NoRole: !v.hasAnyRole(orderRoles...)}
	page.NotProvider = len(page.Resellers) == 0
	if len(page.Resellers) == 1 {
		page.Resellers[0].Selected = true
	}
	if page.NotProvider || page.NoRole {
		return page, nil
	}
	offers, err := h.svc.ListOffers(r.Context(), v.actor, c.Country, "", maxCartOffers)
	if err != nil {
		return orderCartPage{}, err
	}
	now := h.clock.Now()
	for _, o := range offers.Items {
		if !o.AvailableAt(now) {
			continue
		}
		page.Offers = append(page.Offers, cartOffer{ID: o.ID, Name: o.SKUName, Product: o.ProductName, Code: o.Code,
			Term: termLabel(l, o.Term), Billing: billingLabel(l, o.BillingCycle), Price: l.FormatMoney(o.PriceMinor, o.Currency),
			Min: o.MinQuantity, Max: o.MaxQuantity, PriceMinor: o.PriceMinor, Currency: o.Currency})
	}
	page.NoOffers = len(page.Offers) == 0
	return page, nil
}

// quantityField names an offer's quantity field.
func quantityField(offerID string) string { return "qty-" + offerID }

var idempotencyKeyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fillCart reads the reseller and quantities of a cart from values (the
// query of the cart, the form of its review and of the order); it reports
// whether every quantity is a number within its offer's limits and at
// least one is set.
func fillCart(l *i18n.Localizer, page *orderCartPage, values url.Values) bool {
	pid := strings.TrimSpace(values.Get("reseller_partner_id"))
	for i := range page.Resellers {
		if page.Resellers[i].PartnerID == pid {
			page.Resellers[i].Selected = true
			page.Reseller = page.Resellers[i]
		}
	}
	if page.Reseller.PartnerID == "" && len(page.Resellers) == 1 {
		page.Resellers[0].Selected = true
		page.Reseller = page.Resellers[0]
	}
	ok := true
	var total int64
	currency := ""
	for i := range page.Offers {
		o := &page.Offers[i]
		raw := strings.TrimSpace(values.Get(quantityField(o.ID)))
		o.Quantity = raw
		if raw == "" || raw == "0" {
			continue
		}
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil || n < 0:
			o.Error = l.T("order.error.quantity_invalid")
		case n < o.Min || n > o.Max:
			o.Error = l.T("order.error.quantity_range", "min", o.Min, "max", o.Max)
		}
		if o.Error != "" {
			ok = false
			page.Form.fieldError(quantityField(o.ID), l.T("order.error.line", "offer", o.Name, "message", o.Error))
			continue
		}
		if n > 0 {
			sub := o.PriceMinor * int64(n)
			total += sub
			currency = o.Currency
			o.Subtotal = l.FormatMoney(sub, o.Currency)
			page.Lines = append(page.Lines, *o)
		}
	}
	if ok && len(page.Lines) == 0 {
		page.Form.Problem = l.T("order.error.empty_cart")
		ok = false
	}
	if page.Reseller.PartnerID == "" {
		page.Form.fieldError("reseller_partner_id", l.T("order.error.reseller_required"))
		ok = false
	}
	if currency != "" {
		page.Total = l.FormatMoney(total, currency)
	}
	return ok
}

func (h *Handler) orderCart(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	page, err := h.cartBase(r, v, r.PathValue("id"))
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	q := r.URL.Query()
	page.Key = newFormKey()
	if len(q) > 0 && !page.NotProvider && !page.NoRole {
		// Back from the review: the cart as it was, without its errors.
		l := h.localizer(r)
		fillCart(l, &page, q)
		page.Form, page.Lines = formState{}, nil
		for i := range page.Offers {
			page.Offers[i].Error = ""
		}
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageOrderCart, navCustomers, page)
}

func (h *Handler) orderReview(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	page, err := h.cartBase(r, v, r.PathValue("id"))
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	status := http.StatusOK
	if !page.NotProvider && !page.NoRole {
		page.Review = fillCart(h.localizer(r), &page, r.PostForm)
		if !page.Review {
			status = http.StatusUnprocessableEntity
		}
		page.Key = r.PostForm.Get("idempotency_key")
		if !idempotencyKeyPattern.MatchString(page.Key) {
			page.Key = newFormKey()
		}
	}
	noStore(w)
	h.render(w, r, status, pageOrderCart, navCustomers, page)
}

// orderOutcome is what a submitted order form stores under its key: the
// order placed, or the refusal, so that the same form sent again lands
// on the same answer.
type orderOutcome struct {
	OrderID string         `json:"order_id,omitempty"`
	Kind    csphub.Kind    `json:"kind,omitempty"`
	Code    string         `json:"code,omitempty"`
	Fields  []outcomeField `json:"fields,omitempty"`
}

type outcomeField struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

func (h *Handler) placeOrder(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	page, err := h.cartBase(r, v, r.PathValue("id"))
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	if page.NotProvider || page.NoRole {
		noStore(w)
		h.render(w, r, http.StatusForbidden, pageOrderCart, navCustomers, page)
		return
	}
	key := r.PostForm.Get("idempotency_key")
	if !fillCart(l, &page, r.PostForm) || !idempotencyKeyPattern.MatchString(key) {
		page.Key = newFormKey()
		page.Review = page.Form.Problem == "" && len(page.Form.Summary) == 0
		if page.Review {
			page.Form.Problem = l.T("order.error.form_expired")
		}
		noStore(w)
		h.render(w, r, http.StatusUnprocessableEntity, pageOrderCart, navCustomers, page)
		return
	}
	in := service.PlaceOrderInput{}
	hash := sha256.New()
	hash.Write([]byte(page.Customer.ID + "\x00" + page.Reseller.PartnerID))
	for _, line := range page.Lines {
		n, _ := strconv.Atoi(line.Quantity)
		in.Lines = append(in.Lines, service.OrderLineInput{OfferID: line.ID, Quantity: n, ResellerPartnerID: page.Reseller.PartnerID})
		hash.Write([]byte("\x00" + line.ID + ":" + line.Quantity))
	}
	out, err := h.placeOrderOnce(r.Context(), v.actor, key, hex.EncodeToString(hash.Sum(nil)), page.Customer.ID, in)
	if err == nil && out.OrderID != "" {
		redirect(w, r, ordersPath+"/"+url.PathEscape(out.OrderID)+"?done=placed")
		return
	}
	if err == nil {
		// A replayed refusal: the stored outcome stands for the error.
		replayed := &csphub.Error{Kind: out.Kind, Code: out.Code}
		for _, f := range out.Fields {
			replayed.Fields = append(replayed.Fields, csphub.FieldError{Field: f.Field, Code: f.Code})
		}
		err = replayed
	}
	// A refused order keeps the cart on its review, with a new key so
	// that it can be sent again once what failed is put right.
	page.Review, page.Key = true, newFormKey()
	status := http.StatusUnprocessableEntity
	e := csphub.AsError(err)
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		for _, f := range e.Fields {
			h.orderLineError(l, &page, f)
		}
	default:
		msg, st, ok := h.orderRefusal(w, r, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		page.Form.Problem, status = msg, st
	}
	noStore(w)
	h.render(w, r, status, pageOrderCart, navCustomers, page)
}

var lineFieldPattern = regexp.MustCompile(`^lines\[(\d+)\]\.(\w+)$`)

// orderLineError shows a field error of the order next to its line.
func (h *Handler) orderLineError(l *i18n.Localizer, page *orderCartPage, f csphub.FieldError) {
	msg := l.T("order.error.refused")
	if key := "order.error." + f.Code; l.Has(key) {
		msg = l.T(key)
	}
	m := lineFieldPattern.FindStringSubmatch(f.Field)
	if m == nil {
		page.Form.Problem = msg
		return
	}
	i, _ := strconv.Atoi(m[1])
	if m[2] == "reseller_partner_id" || i >= len(page.Lines) {
		page.Form.fieldError("reseller_partner_id", msg)
		return
	}
	page.Lines[i].Error = msg
	page.Form.fieldError(quantityField(page.Lines[i].ID), l.T("order.error.line", "offer", page.Lines[i].Name, "message", msg))
}

// placeOrderOnce places the order under the form's key: the first
// submission runs it, a later one with the same cart gets its outcome.
func (h *Handler) placeOrderOnce(ctx context.Context, actor csphub.Actor, key, requestHash, customerID string, in service.PlaceOrderInput) (orderOutcome, error) {
	org := actor.TenantID()
	fullKey := "web:" + actor.ID + ":" + key
	res, err := h.svc.BeginIdempotent(ctx, service.IdempotencyRequest{OrgID: org, Key: fullKey,
		Operation: "POST " + partnerCustomersPath + "/{id}/orders", RequestHash: requestHash, Lock: orderKeyLock, TTL: orderKeyTTL})
	if err != nil {
		return orderOutcome{}, err
	}
	switch res.Verdict {
	case service.IdempotencyReplay:
		var out orderOutcome
		if err := json.Unmarshal(res.Body, &out); err != nil {
			return orderOutcome{}, err
		}
		return out, nil
	case service.IdempotencyMismatch:
		return orderOutcome{}, csphub.Errorf(csphub.KindUnprocessable, "form_reused", "this order form was already sent with another cart")
	case service.IdempotencyInProgress:
		return orderOutcome{}, csphub.Errorf(csphub.KindConflict, "order_in_progress", "this order is still being placed")
	}
	claim := &csphub.IdempotencyClaim{OrgID: org, Key: fullKey, Status: http.StatusCreated, Render: func(v any) ([]byte, error) {
		return json.Marshal(orderOutcome{OrderID: v.(csphub.Order).ID})
	}}
	order, err := h.svc.PlaceOrder(csphub.WithIdempotency(ctx, claim), actor, customerID, in)
	status, out := http.StatusCreated, orderOutcome{OrderID: order.ID}
	if err != nil {
		out = orderOutcome{}
		status = http.StatusInternalServerError
		if e := csphub.AsError(err); e != nil {
			out.Kind, out.Code = e.Kind, e.Code
			for _, f := range e.Fields {
				out.Fields = append(out.Fields, outcomeField{Field: f.Field, Code: f.Code})
			}
			status = kindStatus(e.Kind)
		}
	}
	body, _ := json.Marshal(out)
	if ferr := h.svc.FinishIdempotent(context.WithoutCancel(ctx), claim, status, body); ferr != nil {
		h.log.ErrorContext(ctx, "web: settle an order form's key", "request_id", csphub.RequestID(ctx), "err", ferr)
	}
	return out, err
}

// kindStatus is the HTTP status a refusal of that kind answers.
func kindStatus(k csphub.Kind) int {
	switch k {
	case csphub.KindInvalid, csphub.KindUnprocessable:
		return http.StatusUnprocessableEntity
	case csphub.KindForbidden:
		return http.StatusForbidden
	case csphub.KindNotFound:
		return http.StatusNotFound
	case csphub.KindConflict:
		return http.StatusConflict
	case csphub.KindPreconditionFailed:
		return http.StatusPreconditionFailed
	case csphub.KindRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}
