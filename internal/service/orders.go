package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"csphub"
	cmail "csphub/internal/mail"
	"csphub/internal/store"
)

// Orders and subscriptions behind the full chain of rules.
//
// Only an indirect provider orders, for a customer of one of its resellers,
// and each line names the reseller of record by partner ID. The order is
// refused, in the transaction that would write it and naming the first
// rule that fails, unless all hold (domain.md):
//
//  1. the provider's indirect provider membership is approved and its
//     agreement accepted (provider_not_eligible);
//  2. the provider–reseller relationship is active (partnership_not_active);
//  3. the reseller's enrollment is approved and its agreement accepted
//     (reseller_not_eligible);
//  4. the customer's reseller relationship with the provider names that
//     reseller (customer_relationship_missing);
//  5. the offer is sold in the customer's market, in that market's
//     currency, now, and the customer's country is in the regions of both
//     partners (offer_not_sold_to_customer);
//  6. the acting user holds admin_agent or sales_agent in the provider,
//     directly or through a grant carrying the role (order_role_required).
//
// The relationship and link rows the rules read are locked until commit,
// so a termination or removal that commits meanwhile is either seen (the
// order is refused) or waits for the order to commit first: no order ever
// commits after the revocation it depends on.

// Stable codes of the six rules, in the order they are checked.
const (
	RuleProviderEligible     = "provider_not_eligible"
	RulePartnershipActive    = "partnership_not_active"
	RuleResellerEligible     = "reseller_not_eligible"
	RuleCustomerRelationship = "customer_relationship_missing"
	RuleOfferSold            = "offer_not_sold_to_customer"
	RuleOrderRole            = "order_role_required"
)

const maxOrderLines = 50

// OrderLineInput is one line of an order.
type OrderLineInput struct {
	OfferID           string `json:"offer_id" maxLength:"36"`
	Quantity          int    `json:"quantity" doc:"Within the offer's limits"`
	ResellerPartnerID string `json:"reseller_partner_id" maxLength:"10" doc:"The partner ID of the reseller of record; required"`
}

// PlaceOrderInput is an order for a customer.
type PlaceOrderInput struct {
	Lines []OrderLineInput `json:"lines" minItems:"1" maxItems:"50"`
}

// OrderPage is one page of orders, newest first.
type OrderPage struct {
	Items         []csphub.Order `json:"items"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

// SubscriptionPage is one page of subscriptions, newest first.
type SubscriptionPage struct {
	Items         []csphub.Subscription `json:"items"`
	NextPageToken string                `json:"next_page_token,omitempty"`
}

// OrderQuery filters a list of orders.
type OrderQuery struct {
	CustomerID, ResellerID, State string
	PageToken                     string
	PageSize                      int
}

// SubscriptionQuery filters a list of subscriptions.
type SubscriptionQuery struct {
	CustomerID, ResellerID, Status, OfferID string
	PageToken                               string
	PageSize                                int
}

// SubscriptionChange changes a subscription; absent fields stay.
type SubscriptionChange struct {
	Quantity          *int    `json:"quantity,omitempty" doc:"New quantity, within the offer's limits (active subscriptions)"`
	Status            *string `json:"status,omitempty" enum:"active,suspended,cancelled" doc:"suspended, active (reactivate) or cancelled: within 7 days of purchase or renewal it cancels, later it turns off auto-renewal"`
	AutoRenew         *bool   `json:"auto_renew,omitempty"`
	ResellerPartnerID *string `json:"reseller_partner_id,omitempty" maxLength:"10" doc:"Move the subscription to another active reseller of the same customer"`
}

func ruleError(code, format string, args ...any) error {
	kind := csphub.KindUnprocessable
	if code == RuleOrderRole {
		kind = csphub.KindForbidden
	}
	return csphub.Errorf(kind, code, format, args...)
}

// orderProvider checks that the organization the actor acts in is a
// partner, and returns it.
func orderProvider(tx *store.Tx, actor csphub.Actor) (csphub.Organization, error) {
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken || !csphub.ValidID(actor.TenantID()) {
		return csphub.Organization{}, errPartnershipPartner
	}
	org, err := tx.Organization(actor.TenantID(), actor.TenantID())
	if err != nil {
		return org, err
	}
	if org.Kind != csphub.OrgPartner {
		return org, csphub.Errorf(csphub.KindForbidden, "provider_required", "only an indirect provider places orders and changes subscriptions")
	}
	return org, nil
}

func checkOrderInput(in PlaceOrderInput) error {
	var fields []csphub.FieldError
	if len(in.Lines) == 0 || len(in.Lines) > maxOrderLines {
		fields = append(fields, csphub.FieldError{Field: "lines", Code: "out_of_range", Message: fmt.Sprintf("must hold 1 to %d lines", maxOrderLines)})
	}
	for i, l := range in.Lines {
		at := fmt.Sprintf("lines[%d].", i)
		if !csphub.ValidID(strings.TrimSpace(l.OfferID)) {
			fields = append(fields, csphub.FieldError{Field: at + "offer_id", Code: "required", Message: "must name an offer"})
		}
		if l.Quantity < 1 {
			fields = append(fields, csphub.FieldError{Field: at + "quantity", Code: "out_of_range", Message: "must be at least 1"})
		}
		switch pid := strings.TrimSpace(l.ResellerPartnerID); {
		case pid == "":
			fields = append(fields, csphub.FieldError{Field: at + "reseller_partner_id", Code: "reseller_of_record_required",
				Message: "is required: every line names its reseller of record, so that the reseller gets the credit"})
		case !ValidPartnerID(pid):
			fields = append(fields, csphub.FieldError{Field: at + "reseller_partner_id", Code: "invalid_partner_id",
				Message: "must be a partner ID: 6 to 10 digits, the first not 0"})
		}
	}
	if len(fields) > 0 {
		return csphub.Invalid(fields...)
	}
	return nil
}

// orderLine is a line with what the rules resolved.
type orderLine struct {
	in       OrderLineInput
	reseller csphub.Organization
	offer    csphub.Offer
}

// PlaceOrder: a provider orders for a customer. The six rules hold in the
// transaction that writes the order, its subscriptions, audit records,
// events and emails, or nothing is written.
func (s *Service) PlaceOrder(ctx context.Context, actor csphub.Actor, customerID string, in PlaceOrderInput) (csphub.Order, error) {
	if err := checkOrderInput(in); err != nil {
		return csphub.Order{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (csphub.Order, error) {
		provider, err := orderProvider(tx, actor)
		if err != nil {
			return csphub.Order{}, err
		}
		customer, err := providerCustomer(tx, provider.ID, customerID)
		if err != nil {
			return csphub.Order{}, err
		}
		lines, err := s.checkOrderRules(tx, actor, provider, customer, in.Lines)
		if err != nil {
			return csphub.Order{}, err
		}
		return s.writeOrder(tx, actor, provider, customer, lines)
	})
}

// providerCustomer reads a customer the provider has a live relationship
// with; any other customer does not exist for it. The relationship stays
// locked for share until commit, so that the customer cannot remove it
// (which needs no active subscription with the provider) around an order.
func providerCustomer(tx *store.Tx, providerID, customerID string) (csphub.Organization, error) {
	if !csphub.ValidID(customerID) {
		return csphub.Organization{}, csphub.NotFound("customer")
	}
	ok, err := tx.LockCustomerRelationship(customerID, providerID)
	if err != nil {
		return csphub.Organization{}, err
	}
	if !ok {
		return csphub.Organization{}, csphub.NotFound("customer")
	}
	return tx.CustomerOrganization(customerID)
}

// checkOrderRules checks the six rules for every line, in order, and
// returns the first that fails.
func (s *Service) checkOrderRules(tx *store.Tx, actor csphub.Actor, provider, customer csphub.Organization, in []OrderLineInput) ([]orderLine, error) {
	pst, err := s.partnerStanding(tx, provider.ID)
	if err != nil {
		return nil, err
	}
	if !pst.ProviderApproved || !pst.AgreementSigned {
		return nil, ruleError(RuleProviderEligible, "rule 1: your organization must be an approved indirect provider with the current partner agreement accepted")
	}
	market, err := tx.MarketOf(customer.Country)
	if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
		return nil, err
	}
	lines := make([]orderLine, len(in))
	standing := map[string]PartnerStanding{}
	for i, l := range in {
		pid := strings.TrimSpace(l.ResellerPartnerID)
		resellerID, err := tx.OrganizationByPartnerID(pid)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return nil, csphub.Invalid(csphub.FieldError{Field: fmt.Sprintf("lines[%d].reseller_partner_id", i), Code: "unknown_partner_id",
				Message: "no partner holds this partner ID"})
		}
		if err != nil {
			return nil, err
		}
		// Rule 2, with the relationship row locked until commit.
		p, err := tx.LivePartnership(provider.ID, resellerID, true)
		if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return nil, err
		}
		if err != nil || p.State != csphub.PartnershipActive {
			return nil, ruleError(RulePartnershipActive, "rule 2: your relationship with the reseller %s is not active", pid)
		}
		// Rule 3.
		rst, ok := standing[resellerID]
		if !ok {
			if rst, err = s.partnerStanding(tx, resellerID); err != nil {
				return nil, err
			}
			standing[resellerID] = rst
		}
		if !rst.ResellerApproved || !rst.AgreementSigned {
			return nil, ruleError(RuleResellerEligible, "rule 3: the reseller %s must be approved with the current partner agreement accepted", pid)
		}
		// Rule 4, with the customer's relationship with the reseller locked
		// for share (its removal needs the reseller's subscriptions
		// suspended, so it must not commit around this order) and the link
		// locked until commit.
		if ok, err := tx.LockCustomerRelationship(customer.ID, resellerID); err != nil {
			return nil, err
		} else if !ok {
			return nil, ruleError(RuleCustomerRelationship, "rule 4: the customer has no relationship with the reseller %s", pid)
		}
		if _, err := tx.LiveCustomerLink(customer.ID, provider.ID, resellerID, true); err != nil {
			if csphub.ErrorKind(err) != csphub.KindNotFound {
				return nil, err
			}
			return nil, ruleError(RuleCustomerRelationship, "rule 4: the customer's reseller relationship with your organization does not name the reseller %s", pid)
		}
		// Rule 5.
		offer, err := tx.Offer(strings.TrimSpace(l.OfferID))
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return nil, csphub.Invalid(csphub.FieldError{Field: fmt.Sprintf("lines[%d].offer_id", i), Code: "unknown_offer", Message: "no offer has this id"})
		}
		if err != nil {
			return nil, err
		}
		switch {
		case market.Country == "" || offer.Market != customer.Country || offer.Currency != market.Currency:
			return nil, ruleError(RuleOfferSold, "rule 5: the offer %s is sold in %s (%s), not in the customer's market %s", offer.Code, offer.Market, offer.Currency, customer.Country)
		case !offer.AvailableAt(tx.Now()):
			return nil, ruleError(RuleOfferSold, "rule 5: the offer %s is not on sale now", offer.Code)
		case market.RegionCode != rst.Region || !slices.Contains(pst.ProviderRegions, market.RegionCode):
			return nil, ruleError(RuleOfferSold, "rule 5: the customer's country %s is outside the regions of the reseller or of your organization", customer.Country)
		}
		if l.Quantity < offer.MinQuantity || l.Quantity > offer.MaxQuantity {
			return nil, csphub.Invalid(csphub.FieldError{Field: fmt.Sprintf("lines[%d].quantity", i), Code: "quantity_out_of_range",
				Message: fmt.Sprintf("must be between %d and %d for this offer", offer.MinQuantity, offer.MaxQuantity)})
		}
		lines[i] = orderLine{in: l, reseller: csphub.Organization{ID: resellerID}, offer: offer}
	}
	// Rule 6.
	if !actor.HasRole(csphub.RoleAdminAgent) && !actor.HasRole(csphub.RoleSalesAgent) {
		return nil, ruleError(RuleOrderRole, "rule 6: placing orders takes the admin agent or sales agent role in the provider")
	}
	for i := range lines {
		r, err := tx.Organization(lines[i].reseller.ID, lines[i].reseller.ID)
		if err != nil {
			return nil, err
		}
		lines[i].reseller = r
	}
	return lines, nil
}

// writeOrder stores a checked order, completed, with one subscription per
// line, and audits, publishes and emails it.
func (s *Service) writeOrder(tx *store.Tx, actor csphub.Actor, provider, customer csphub.Organization, lines []orderLine) (csphub.Order, error) {
	now := tx.Now()
	o := csphub.Order{ID: csphub.NewID(), CustomerID: customer.ID, ProviderID: provider.ID, State: csphub.OrderCompleted,
		Currency: lines[0].offer.Currency, CreatedBy: actor.ID, CreatedAt: now, CustomerName: customer.Name, ProviderName: provider.Name}
	var subs []csphub.Subscription
	for _, l := range lines {
		sub := csphub.Subscription{ID: csphub.NewID(), CustomerID: customer.ID, ProviderID: provider.ID, ResellerID: l.reseller.ID,
			OfferID: l.offer.ID, OrderID: o.ID, Quantity: l.in.Quantity, Status: csphub.SubscriptionActive, AutoRenew: true,
			TermStart: now, TermEnd: csphub.TermEnd(l.offer.Term, now), CreatedAt: now, UpdatedAt: now, Version: 1}
		pid := strings.TrimSpace(l.in.ResellerPartnerID)
		sub.CustomerName, sub.ProviderName, sub.ResellerName, sub.ResellerPartnerID = customer.Name, provider.Name, l.reseller.Name, pid
		sub.OfferName, sub.OfferCode, sub.Currency, sub.UnitPriceMinor = l.offer.SKUName, l.offer.Code, l.offer.Currency, l.offer.PriceMinor
		sub.BillingCycle, sub.Term = l.offer.BillingCycle, l.offer.Term
		subs = append(subs, sub)
		o.Lines = append(o.Lines, csphub.OrderLine{ID: csphub.NewID(), OfferID: l.offer.ID, Quantity: l.in.Quantity,
			UnitPriceMinor: l.offer.PriceMinor, ResellerID: l.reseller.ID, ResellerPartnerID: pid, SubscriptionID: sub.ID,
			OfferName: l.offer.SKUName, ResellerName: l.reseller.Name})
		o.TotalMinor += l.offer.PriceMinor * int64(l.in.Quantity)
	}
	if err := tx.InsertOrder(o); err != nil {
		return o, err
	}
	audience := []string{provider.ID, customer.ID}
	for _, l := range lines {
		if !slices.Contains(audience, l.reseller.ID) {
			audience = append(audience, l.reseller.ID)
		}
	}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "order.create", ResourceType: "order", ResourceID: o.ID, After: o}); err != nil {
		return o, err
	}
	for _, typ := range []string{"order.created", "order.completed"} {
		if err := tx.Emit(actor, csphub.EventEntry{Type: typ, Subject: o.ID, Data: o, Audience: audience}); err != nil {
			return o, err
		}
	}
	for _, sub := range subs {
		if err := tx.InsertSubscription(sub); err != nil {
			return o, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "subscription.create", ResourceType: "subscription", ResourceID: sub.ID, After: sub}); err != nil {
			return o, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "subscription.created", Subject: sub.ID, Data: sub,
			Audience: []string{provider.ID, customer.ID, sub.ResellerID}}); err != nil {
			return o, err
		}
	}
	return o, s.notifyOrder(tx, provider, customer, o, lines)
}

// notifyOrder emails each reseller of record and the customer's billing
// admin (or global admin when it has none).
func (s *Service) notifyOrder(tx *store.Tx, provider, customer csphub.Organization, o csphub.Order, lines []orderLine) error {
	byReseller := map[string][]cmail.OrderPlacedLine{}
	var resellers []csphub.Organization
	var all []cmail.OrderPlacedLine
	for _, l := range lines {
		ml := cmail.OrderPlacedLine{Offer: l.offer.SKUName, Quantity: l.in.Quantity, Price: formatMoney(l.offer.PriceMinor, l.offer.Currency)}
		if _, seen := byReseller[l.reseller.ID]; !seen {
			resellers = append(resellers, l.reseller)
		}
		byReseller[l.reseller.ID] = append(byReseller[l.reseller.ID], ml)
		all = append(all, ml)
	}
	for _, r := range resellers {
		to, ok, err := partnershipContact(tx, r.ID, "")
		if err != nil {
			return err
		}
		if ok {
			if _, err := cmail.Enqueue(tx, r.ID, cmail.OrderPlaced{To: to, Side: "reseller", Provider: provider.Name, Reseller: r.Name,
				Customer: customer.Name, OrderID: o.ID, Lines: byReseller[r.ID], Link: s.opts.BaseURL + "/partner/subscriptions"}); err != nil {
				return err
			}
		}
	}
	contacts, err := tx.UsersWithRole(customer.ID, csphub.RoleBillingAdmin, 1)
	if err != nil {
		return err
	}
	if len(contacts) == 0 {
		if contacts, err = tx.UsersWithRole(customer.ID, csphub.RoleGlobalAdmin, 1); err != nil {
			return err
		}
	}
	for _, c := range contacts {
		if _, err := cmail.Enqueue(tx, customer.ID, cmail.OrderPlaced{To: cmail.Recipient{Address: c.Email, Name: c.Name, Lang: cmail.Lang(c.Lang)},
			Side: "customer", Provider: provider.Name, Reseller: resellers[0].Name, Customer: customer.Name, OrderID: o.ID, Lines: all,
			Link: s.opts.BaseURL + "/customer/subscriptions"}); err != nil {
			return err
		}
	}
	return nil
}

// currencyDigits are the ISO 4217 minor units of the currencies that do
// not have two.
var currencyDigits = map[string]int{"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3}

// formatMoney writes an amount in minor units with its currency.
func formatMoney(minor int64, currency string) string {
	digits, ok := currencyDigits[currency]
	if !ok {
		digits = 2
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, minor, currency)
	}
	unit := int64(1)
	for range digits {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, minor/unit, digits, minor%unit, currency)
}

// orderScope is what the actor may read of orders and subscriptions: a
// partner its own (as provider, or as reseller of record), a customer its
// own, the operator everything.
func orderScope(tx *store.Tx, actor csphub.Actor) (store.Scope, csphub.OrgKind, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		// Through a grant, the grantor's own orders.
		actor = csphub.Actor{Kind: actor.Kind, OrgID: actor.OnBehalfOf}
	}
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken || !csphub.ValidID(actor.OrgID) {
		return store.Scope{}, "", errPartnershipPartner
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if err != nil {
		return store.Scope{}, "", err
	}
	switch org.Kind {
	case csphub.OrgOperator:
		return store.Scope{}, org.Kind, nil
	case csphub.OrgCustomer:
		return store.Scope{CustomerID: org.ID}, org.Kind, nil
	}
	return store.Scope{PartnerID: org.ID}, org.Kind, nil
}

func pageSize(n int) int {
	if n <= 0 || n > 500 {
		return 50
	}
	return n
}

func checkIDFilters(pairs ...string) error {
	var fields []csphub.FieldError
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" && !csphub.ValidID(pairs[i+1]) {
			fields = append(fields, csphub.FieldError{Field: pairs[i], Code: "invalid_id", Message: "must be an id"})
		}
	}
	if len(fields) > 0 {
		return csphub.Invalid(fields...)
	}
	return nil
}

// ListOrders lists the orders the actor may see, newest first.
func (s *Service) ListOrders(ctx context.Context, actor csphub.Actor, q OrderQuery) (OrderPage, error) {
	after, err := decodeKeyset(q.PageToken)
	if err != nil {
		return OrderPage{}, err
	}
	if err := checkIDFilters("customer_id", q.CustomerID, "reseller_id", q.ResellerID); err != nil {
		return OrderPage{}, err
	}
	if q.State != "" && !csphub.OrderState(q.State).Valid() {
		return OrderPage{}, csphub.Invalid(csphub.FieldError{Field: "state", Code: "invalid_state", Message: "must be pending, completed, failed or cancelled"})
	}
	size := pageSize(q.PageSize)
	return read(ctx, s, func(tx *store.Tx) (OrderPage, error) {
		scope, _, err := orderScope(tx, actor)
		if err != nil {
			return OrderPage{}, err
		}
		rows, err := tx.Orders(scope, store.OrderFilter{CustomerID: q.CustomerID, ResellerID: q.ResellerID, State: q.State}, after, size+1)
		if err != nil {
			return OrderPage{}, err
		}
		p := OrderPage{Items: rows[:min(len(rows), size)]}
		if len(rows) > size {
			last := p.Items[size-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// GetOrder reads one order the actor may see.
func (s *Service) GetOrder(ctx context.Context, actor csphub.Actor, id string) (csphub.Order, error) {
	return read(ctx, s, func(tx *store.Tx) (csphub.Order, error) {
		scope, _, err := orderScope(tx, actor)
		if err != nil {
			return csphub.Order{}, err
		}
		if !csphub.ValidID(id) {
			return csphub.Order{}, csphub.NotFound("order")
		}
		return tx.OrderOf(scope, id)
	})
}

// ListSubscriptions lists the subscriptions the actor may see, newest
// first.
func (s *Service) ListSubscriptions(ctx context.Context, actor csphub.Actor, q SubscriptionQuery) (SubscriptionPage, error) {
	after, err := decodeKeyset(q.PageToken)
	if err != nil {
		return SubscriptionPage{}, err
	}
	if err := checkIDFilters("customer_id", q.CustomerID, "reseller_id", q.ResellerID, "offer_id", q.OfferID); err != nil {
		return SubscriptionPage{}, err
	}
	if q.Status != "" && !slices.Contains([]string{"active", "suspended", "cancelled", "expired"}, q.Status) {
		return SubscriptionPage{}, csphub.Invalid(csphub.FieldError{Field: "status", Code: "invalid_status", Message: "must be active, suspended, cancelled or expired"})
	}
	size := pageSize(q.PageSize)
	return read(ctx, s, func(tx *store.Tx) (SubscriptionPage, error) {
		scope, _, err := orderScope(tx, actor)
		if err != nil {
			return SubscriptionPage{}, err
		}
		rows, err := tx.Subscriptions(scope, store.SubscriptionFilter{CustomerID: q.CustomerID, ResellerID: q.ResellerID,
			Status: q.Status, OfferID: q.OfferID}, after, size+1)
		if err != nil {
			return SubscriptionPage{}, err
		}
		p := SubscriptionPage{Items: rows[:min(len(rows), size)]}
		if len(rows) > size {
			last := p.Items[size-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// GetSubscription reads one subscription the actor may see.
func (s *Service) GetSubscription(ctx context.Context, actor csphub.Actor, id string) (csphub.Subscription, error) {
	return read(ctx, s, func(tx *store.Tx) (csphub.Subscription, error) {
		scope, _, err := orderScope(tx, actor)
		if err != nil {
			return csphub.Subscription{}, err
		}
		if !csphub.ValidID(id) {
			return csphub.Subscription{}, csphub.NotFound("subscription")
		}
		return tx.SubscriptionOf(scope, id, false)
	})
}

// UpdateSubscription: the provider changes a subscription's quantity,
// status, auto-renewal or reseller of record. Resellers and customers read
// subscriptions, never change them.
func (s *Service) UpdateSubscription(ctx context.Context, actor csphub.Actor, id string, in SubscriptionChange) (csphub.Subscription, error) {
	if in.Status != nil && !slices.Contains([]string{"active", "suspended", "cancelled"}, *in.Status) {
		return csphub.Subscription{}, csphub.Invalid(csphub.FieldError{Field: "status", Code: "invalid_status", Message: "must be active, suspended or cancelled"})
	}
	if in.ResellerPartnerID != nil && !ValidPartnerID(strings.TrimSpace(*in.ResellerPartnerID)) {
		return csphub.Subscription{}, csphub.Invalid(csphub.FieldError{Field: "reseller_partner_id", Code: "invalid_partner_id",
			Message: "must be a partner ID: 6 to 10 digits, the first not 0"})
	}
	return write(ctx, s, func(tx *store.Tx) (csphub.Subscription, error) {
		provider, err := orderProvider(tx, actor)
		if err != nil {
			return csphub.Subscription{}, err
		}
		if !csphub.ValidID(id) {
			return csphub.Subscription{}, csphub.NotFound("subscription")
		}
		sub, err := tx.SubscriptionOf(store.Scope{PartnerID: provider.ID}, id, true)
		if err != nil {
			return csphub.Subscription{}, err
		}
		if sub.ProviderID != provider.ID {
			return csphub.Subscription{}, csphub.Errorf(csphub.KindForbidden, "provider_only",
				"only the indirect provider changes a subscription; the reseller of record reads it")
		}
		if !actor.HasRole(csphub.RoleAdminAgent) && !actor.HasRole(csphub.RoleSalesAgent) {
			return csphub.Subscription{}, ruleError(RuleOrderRole, "changing subscriptions takes the admin agent or sales agent role")
		}
		before := sub
		now := tx.Now()
		event := "subscription.updated"
		switch {
		case sub.Status == csphub.SubscriptionCancelled || sub.Status == csphub.SubscriptionExpired:
			return csphub.Subscription{}, csphub.Conflict("subscription_ended", fmt.Sprintf("a %s subscription does not change", sub.Status))
		}
		if in.Quantity != nil {
			offer, err := tx.Offer(sub.OfferID)
			if err != nil {
				return csphub.Subscription{}, err
			}
			if *in.Quantity < offer.MinQuantity || *in.Quantity > offer.MaxQuantity {
				return csphub.Subscription{}, csphub.Invalid(csphub.FieldError{Field: "quantity", Code: "quantity_out_of_range",
					Message: fmt.Sprintf("must be between %d and %d for this offer", offer.MinQuantity, offer.MaxQuantity)})
			}
			if sub.Status != csphub.SubscriptionActive {
				return csphub.Subscription{}, csphub.Conflict("subscription_not_active", "only an active subscription changes quantity")
			}
			sub.Quantity = *in.Quantity
		}
		if in.AutoRenew != nil {
			sub.AutoRenew = *in.AutoRenew
		}
		if in.ResellerPartnerID != nil {
			pid := strings.TrimSpace(*in.ResellerPartnerID)
			resellerID, err := tx.OrganizationByPartnerID(pid)
			if csphub.ErrorKind(err) == csphub.KindNotFound {
				return csphub.Subscription{}, csphub.Invalid(csphub.FieldError{Field: "reseller_partner_id", Code: "unknown_partner_id", Message: "no partner holds this partner ID"})
			}
			if err != nil {
				return csphub.Subscription{}, err
			}
			if resellerID != sub.ResellerID {
				if err := s.checkResellerOfRecord(tx, provider.ID, sub.CustomerID, resellerID, pid); err != nil {
					return csphub.Subscription{}, err
				}
				sub.ResellerID = resellerID
				event = "subscription.reseller_changed"
			}
		}
		if in.Status != nil && csphub.SubscriptionStatus(*in.Status) != sub.Status {
			switch to := csphub.SubscriptionStatus(*in.Status); {
			case to == csphub.SubscriptionSuspended:
				sub.Status, event = to, "subscription.suspended"
			case to == csphub.SubscriptionActive:
				// Reactivating needs the chain that ordering needed.
				if err := s.checkResellerOfRecord(tx, provider.ID, sub.CustomerID, sub.ResellerID, ""); err != nil {
					return csphub.Subscription{}, err
				}
				sub.Status, event = to, "subscription.reactivated"
			default:
				since := sub.CreatedAt
				if sub.RenewedAt != nil {
					since = *sub.RenewedAt
				}
				if now.Sub(since) <= csphub.CancellationWindow {
					sub.Status, event = csphub.SubscriptionCancelled, "subscription.cancelled"
				} else {
					// Past the window, cancelling stops the next renewal.
					sub.AutoRenew, event = false, "subscription.auto_renew_off"
				}
			}
		}
		sub.UpdatedAt, sub.Version = now, sub.Version+1
		if ok, err := tx.SaveSubscription(sub); err != nil || !ok {
			return csphub.Subscription{}, orConflict(err, ok)
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "subscription.update", ResourceType: "subscription", ResourceID: sub.ID,
			Before: before, After: sub}); err != nil {
			return csphub.Subscription{}, err
		}
		audience := []string{sub.ProviderID, sub.CustomerID, sub.ResellerID}
		if before.ResellerID != sub.ResellerID {
			audience = append(audience, before.ResellerID)
		}
		return sub, tx.Emit(actor, csphub.EventEntry{Type: event, Subject: sub.ID, Data: sub, Audience: audience})
	})
}

// checkResellerOfRecord checks that a reseller may be the reseller of
// record of a provider's subscription for a customer: rules 2 to 4, with
// the rows locked.
func (s *Service) checkResellerOfRecord(tx *store.Tx, providerID, customerID, resellerID, pid string) error {
	// The customer's relationships with both partners, locked for share
	// first (as when ordering), so that a removal that needs no active
	// subscription with them cannot commit around this change.
	for _, partnerID := range []string{providerID, resellerID} {
		if ok, err := tx.LockCustomerRelationship(customerID, partnerID); err != nil {
			return err
		} else if !ok {
			return ruleError(RuleCustomerRelationship, "the customer's relationships with your organization and the reseller %s are not both active", pid)
		}
	}
	p, err := tx.LivePartnership(providerID, resellerID, true)
	if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
		return err
	}
	if err != nil || p.State != csphub.PartnershipActive {
		return ruleError(RulePartnershipActive, "your relationship with the reseller %s is not active", pid)
	}
	rst, err := s.partnerStanding(tx, resellerID)
	if err != nil {
		return err
	}
	if !rst.ResellerApproved || !rst.AgreementSigned {
		return ruleError(RuleResellerEligible, "the reseller %s must be approved with the current partner agreement accepted", pid)
	}
	if _, err := tx.LiveCustomerLink(customerID, providerID, resellerID, true); err != nil {
		if csphub.ErrorKind(err) != csphub.KindNotFound {
			return err
		}
		return ruleError(RuleCustomerRelationship, "the customer's reseller relationship with your organization does not name the reseller %s", pid)
	}
	return nil
}

// RenewSubscriptions renews the auto-renewing active subscriptions whose
// term ended and expires the others (the background job, driven by the
// injected clock); it returns how many it changed.
func (s *Service) RenewSubscriptions(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := write(ctx, s, func(tx *store.Tx) (int, error) {
			now := tx.Now()
			due, err := tx.DueSubscriptions(now, expiryBatch)
			if err != nil {
				return 0, err
			}
			for _, sub := range due {
				before := sub
				event := "subscription.expired"
				if sub.Status == csphub.SubscriptionActive && sub.AutoRenew {
					offer, err := tx.Offer(sub.OfferID)
					if err != nil {
						return 0, err
					}
					// Catch up on every term that ended, so that a late run
					// leaves the subscription in its current term.
					for !sub.TermEnd.After(now) {
						sub.TermStart, sub.TermEnd = sub.TermEnd, csphub.TermEnd(offer.Term, sub.TermEnd)
					}
					sub.RenewedAt, event = utcPtr(now), "subscription.renewed"
				} else {
					sub.Status = csphub.SubscriptionExpired
				}
				sub.UpdatedAt, sub.Version = now, sub.Version+1
				if ok, err := tx.SaveSubscription(sub); err != nil || !ok {
					return 0, orConflict(err, ok)
				}
				sys := csphub.System(csphub.RequestID(ctx))
				sys.OrgID = sub.ProviderID
				if err := tx.Audit(sys, csphub.AuditEntry{Action: event, ResourceType: "subscription",
					ResourceID: sub.ID, Before: before, After: sub}); err != nil {
					return 0, err
				}
				if err := tx.Emit(sys, csphub.EventEntry{Type: event, Subject: sub.ID, Data: sub,
					Audience: []string{sub.ProviderID, sub.CustomerID, sub.ResellerID}}); err != nil {
					return 0, err
				}
			}
			return len(due), nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < expiryBatch {
			return total, nil
		}
	}
}
