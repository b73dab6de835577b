package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// The catalogue, orders and subscriptions (migration 00009). Offers are
// the operator's reference data, read by every partner; orders and
// subscriptions are read through a scope naming the organization that
// asks (provider, reseller of record or customer), or by the operator.

const offerColumns = `f.id, f.code, f.product_code, f.product_name, f.sku_code, f.sku_name, f.market, f.currency, f.price_minor,
	f.billing_cycle, f.term, f.min_quantity, f.max_quantity, f.available_from, f.available_to, f.updated_at`

func scanOffer(row interface{ Scan(...any) error }) (csphub.Offer, error) {
	var o csphub.Offer
	var to sql.NullTime
	if err := row.Scan(&o.ID, &o.Code, &o.ProductCode, &o.ProductName, &o.SKUCode, &o.SKUName, &o.Market, &o.Currency, &o.PriceMinor,
		&o.BillingCycle, &o.Term, &o.MinQuantity, &o.MaxQuantity, &o.AvailableFrom, &to, &o.UpdatedAt); err != nil {
		return o, err
	}
	o.AvailableFrom, o.UpdatedAt, o.AvailableTo = o.AvailableFrom.UTC(), o.UpdatedAt.UTC(), partnershipTime(to)
	return o, nil
}

// UpsertOffer stores an offer by its code: a new one, or the new terms of
// an existing one (its id stays). It reports whether the offer is new.
func (tx *Tx) UpsertOffer(o csphub.Offer) (csphub.Offer, bool, error) {
	var id string
	err := tx.queryRow(`SELECT id FROM offers WHERE code = ?`+tx.db.dialect.lockClause(), o.Code).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.exec(`INSERT INTO offers (id, code, product_code, product_name, sku_code, sku_name, market, currency, price_minor,
			billing_cycle, term, min_quantity, max_quantity, available_from, available_to, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.Code, o.ProductCode, o.ProductName, o.SKUCode, o.SKUName, o.Market, o.Currency, o.PriceMinor,
			o.BillingCycle, o.Term, o.MinQuantity, o.MaxQuantity, o.AvailableFrom, o.AvailableTo, o.UpdatedAt)
		if err != nil {
			return o, false, fmt.Errorf("insert offer: %w", err)
		}
		return o, true, nil
	case err != nil:
		return o, false, fmt.Errorf("read offer: %w", err)
	}
	o.ID = id
	_, err = tx.exec(`UPDATE offers SET product_code = ?, product_name = ?, sku_code = ?, sku_name = ?, market = ?, currency = ?,
		price_minor = ?, billing_cycle = ?, term = ?, min_quantity = ?, max_quantity = ?, available_from = ?, available_to = ?,
		updated_at = ? WHERE id = ?`,
		o.ProductCode, o.ProductName, o.SKUCode, o.SKUName, o.Market, o.Currency, o.PriceMinor, o.BillingCycle, o.Term,
		o.MinQuantity, o.MaxQuantity, o.AvailableFrom, o.AvailableTo, o.UpdatedAt, id)
	if err != nil {
		return o, false, fmt.Errorf("update offer: %w", err)
	}
	return o, false, nil
}

// Offer reads one offer.
func (tx *Tx) Offer(id string) (csphub.Offer, error) {
	o, err := scanOffer(tx.queryRow(`SELECT `+offerColumns+` FROM offers f WHERE f.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, csphub.NotFound("offer")
	}
	if err != nil {
		return o, fmt.Errorf("read offer: %w", err)
	}
	return o, nil
}

// OfferKeyset is the position of the last offer of a page, in the order
// (product code, offer code).
type OfferKeyset struct {
	Product, Code string
}

// Offers lists the offers of a market (every market when market is ""),
// by product and code, after the keyset position of the previous page.
func (tx *Tx) Offers(market string, after *OfferKeyset, limit int) ([]csphub.Offer, error) {
	q := `SELECT ` + offerColumns + ` FROM offers f WHERE 1 = 1`
	var args []any
	order := `f.product_code, f.code`
	if market != "" {
		q += ` AND f.market = ?`
		args = append(args, market)
	}
	if after != nil {
		q += ` AND (f.product_code, f.code) > (?, ?)`
		args = append(args, after.Product, after.Code)
	}
	rows, err := tx.query(q+` ORDER BY `+order+` LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list offers: %w", err)
	}
	defer rows.Close()
	out := []csphub.Offer{}
	for rows.Next() {
		o, err := scanOffer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// InsertOrder stores an order and its lines.
func (tx *Tx) InsertOrder(o csphub.Order) error {
	if _, err := tx.exec(`INSERT INTO orders (id, customer_id, provider_id, state, currency, total_minor, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, o.ID, o.CustomerID, o.ProviderID, string(o.State), o.Currency, o.TotalMinor, o.CreatedBy, o.CreatedAt); err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	for i, l := range o.Lines {
		if _, err := tx.exec(`INSERT INTO order_lines (id, order_id, position, offer_id, quantity, unit_price_minor, reseller_id, subscription_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.ID, o.ID, i, l.OfferID, l.Quantity, l.UnitPriceMinor, l.ResellerID, nullString(l.SubscriptionID)); err != nil {
			return fmt.Errorf("insert order line: %w", err)
		}
	}
	return nil
}

// InsertSubscription stores a new subscription.
func (tx *Tx) InsertSubscription(s csphub.Subscription) error {
	_, err := tx.exec(`INSERT INTO subscriptions (id, customer_id, provider_id, reseller_id, offer_id, order_id, quantity, status,
		auto_renew, term_start, term_end, renewed_at, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.CustomerID, s.ProviderID, s.ResellerID, s.OfferID, s.OrderID, s.Quantity, string(s.Status), s.AutoRenew,
		s.TermStart, s.TermEnd, s.RenewedAt, s.CreatedAt, s.UpdatedAt, s.Version)
	if err != nil {
		return fmt.Errorf("insert subscription: %w", err)
	}
	return nil
}

// Scope says whose orders and subscriptions a read may return: a
// partner's (as provider, or as reseller of record), a customer's, or
// (both empty) every one, for the operator.
type Scope struct {
	PartnerID, CustomerID string
}

func (s Scope) where(alias string, lines bool) (string, []any) {
	switch {
	case s.CustomerID != "":
		return ` AND ` + alias + `.customer_id = ?`, []any{s.CustomerID}
	case s.PartnerID != "" && lines:
		return ` AND (` + alias + `.provider_id = ? OR EXISTS (SELECT 1 FROM order_lines rl WHERE rl.order_id = ` + alias +
			`.id AND rl.reseller_id = ?))`, []any{s.PartnerID, s.PartnerID}
	case s.PartnerID != "":
		return ` AND (` + alias + `.provider_id = ? OR ` + alias + `.reseller_id = ?)`, []any{s.PartnerID, s.PartnerID}
	}
	return ``, nil
}

// OrderFilter narrows a list of orders.
type OrderFilter struct {
	CustomerID, ResellerID, State string
}

const orderColumns = `o.id, o.customer_id, o.provider_id, o.state, o.currency, o.total_minor, o.created_by, o.created_at,
	(SELECT c.name FROM organizations c WHERE c.id = o.customer_id), (SELECT p.name FROM organizations p WHERE p.id = o.provider_id)`

// Orders lists the orders of a scope, newest first, after the keyset
// position of the previous page, with their lines (in a second query).
func (tx *Tx) Orders(scope Scope, f OrderFilter, after *Keyset, limit int) ([]csphub.Order, error) {
	w, args := scope.where("o", true)
	q := `SELECT ` + orderColumns + ` FROM orders o WHERE 1 = 1` + w
	if f.CustomerID != "" {
		q += ` AND o.customer_id = ?`
		args = append(args, f.CustomerID)
	}
	if f.ResellerID != "" {
		q += ` AND EXISTS (SELECT 1 FROM order_lines fl WHERE fl.order_id = o.id AND fl.reseller_id = ?)`
		args = append(args, f.ResellerID)
	}
	if f.State != "" {
		q += ` AND o.state = ?`
		args = append(args, f.State)
	}
	if after != nil {
		q += ` AND (o.created_at, o.id) < (?, ?)`
		args = append(args, after.At, after.ID)
	}
	rows, err := tx.query(q+` ORDER BY o.created_at DESC, o.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	out := []csphub.Order{}
	for rows.Next() {
		var o csphub.Order
		var state string
		if err := rows.Scan(&o.ID, &o.CustomerID, &o.ProviderID, &state, &o.Currency, &o.TotalMinor, &o.CreatedBy, &o.CreatedAt, &o.CustomerName, &o.ProviderName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list orders: %w", err)
		}
		o.State, o.CreatedAt, o.Lines = csphub.OrderState(state), o.CreatedAt.UTC(), []csphub.OrderLine{}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	return out, tx.fillOrderLines(out)
}

// OrderOf reads one order of a scope.
func (tx *Tx) OrderOf(scope Scope, id string) (csphub.Order, error) {
	w, args := scope.where("o", true)
	var o csphub.Order
	var state string
	err := tx.queryRow(`SELECT `+orderColumns+` FROM orders o WHERE o.id = ?`+w, append([]any{id}, args...)...).
		Scan(&o.ID, &o.CustomerID, &o.ProviderID, &state, &o.Currency, &o.TotalMinor, &o.CreatedBy, &o.CreatedAt, &o.CustomerName, &o.ProviderName)
	if errors.Is(err, sql.ErrNoRows) {
		return o, csphub.NotFound("order")
	}
	if err != nil {
		return o, fmt.Errorf("read order: %w", err)
	}
	o.State, o.CreatedAt, o.Lines = csphub.OrderState(state), o.CreatedAt.UTC(), []csphub.OrderLine{}
	list := []csphub.Order{o}
	if err := tx.fillOrderLines(list); err != nil {
		return o, err
	}
	return list[0], nil
}

// fillOrderLines reads the lines of a page of orders in one query.
func (tx *Tx) fillOrderLines(orders []csphub.Order) error {
	if len(orders) == 0 {
		return nil
	}
	ids := make([]any, len(orders))
	at := map[string]int{}
	for i, o := range orders {
		ids[i], at[o.ID] = o.ID, i
	}
	rows, err := tx.query(`SELECT l.order_id, l.id, l.offer_id, l.quantity, l.unit_price_minor, l.reseller_id, pp.partner_id, l.subscription_id,
		f.sku_name, r.name
		FROM order_lines l JOIN offers f ON f.id = l.offer_id JOIN organizations r ON r.id = l.reseller_id
		LEFT JOIN partner_profiles pp ON pp.org_id = l.reseller_id
		WHERE l.order_id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`) ORDER BY l.order_id, l.position`, ids...)
	if err != nil {
		return fmt.Errorf("read order lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var orderID string
		var l csphub.OrderLine
		var pid, sub sql.NullString
		if err := rows.Scan(&orderID, &l.ID, &l.OfferID, &l.Quantity, &l.UnitPriceMinor, &l.ResellerID, &pid, &sub, &l.OfferName, &l.ResellerName); err != nil {
			return fmt.Errorf("read order lines: %w", err)
		}
		l.ResellerPartnerID, l.SubscriptionID = pid.String, sub.String
		i := at[orderID]
		orders[i].Lines = append(orders[i].Lines, l)
	}
	return rows.Err()
}

// subscriptionColumns are read FROM subscriptionsFrom: the stored fields,
// then the names shown with them. A read that locks locks only s.
const subscriptionColumns = `s.id, s.customer_id, s.provider_id, s.reseller_id, s.offer_id, s.order_id, s.quantity, s.status, s.auto_renew,
	s.term_start, s.term_end, s.renewed_at, s.created_at, s.updated_at, s.version,
	c.name, p.name, r.name, COALESCE((SELECT pp.partner_id FROM partner_profiles pp WHERE pp.org_id = s.reseller_id), ''),
	f.sku_name, f.code, f.currency, f.price_minor, f.billing_cycle, f.term`

const subscriptionsFrom = ` FROM subscriptions s JOIN offers f ON f.id = s.offer_id JOIN organizations c ON c.id = s.customer_id
	JOIN organizations p ON p.id = s.provider_id JOIN organizations r ON r.id = s.reseller_id`

func scanSubscription(row interface{ Scan(...any) error }) (csphub.Subscription, error) {
	var s csphub.Subscription
	var status string
	var renewed sql.NullTime
	if err := row.Scan(&s.ID, &s.CustomerID, &s.ProviderID, &s.ResellerID, &s.OfferID, &s.OrderID, &s.Quantity, &status, &s.AutoRenew,
		&s.TermStart, &s.TermEnd, &renewed, &s.CreatedAt, &s.UpdatedAt, &s.Version,
		&s.CustomerName, &s.ProviderName, &s.ResellerName, &s.ResellerPartnerID,
		&s.OfferName, &s.OfferCode, &s.Currency, &s.UnitPriceMinor, &s.BillingCycle, &s.Term); err != nil {
		return s, err
	}
	s.Status, s.RenewedAt = csphub.SubscriptionStatus(status), partnershipTime(renewed)
	s.TermStart, s.TermEnd, s.CreatedAt, s.UpdatedAt = s.TermStart.UTC(), s.TermEnd.UTC(), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

// SubscriptionFilter narrows a list of subscriptions.
type SubscriptionFilter struct {
	CustomerID, ResellerID, Status, OfferID string
}

// Subscriptions lists the subscriptions of a scope, newest first, after
// the keyset position of the previous page.
func (tx *Tx) Subscriptions(scope Scope, f SubscriptionFilter, after *Keyset, limit int) ([]csphub.Subscription, error) {
	w, args := scope.where("s", false)
	q := `SELECT ` + subscriptionColumns + subscriptionsFrom + ` WHERE 1 = 1` + w
	for _, c := range []struct{ col, v string }{{"s.customer_id", f.CustomerID}, {"s.reseller_id", f.ResellerID},
		{"s.status", f.Status}, {"s.offer_id", f.OfferID}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if after != nil {
		q += ` AND (s.created_at, s.id) < (?, ?)`
		args = append(args, after.At, after.ID)
	}
	rows, err := tx.query(q+` ORDER BY s.created_at DESC, s.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []csphub.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SubscriptionOf reads one subscription of a scope; with lock, its row
// stays locked until commit.
func (tx *Tx) SubscriptionOf(scope Scope, id string, lock bool) (csphub.Subscription, error) {
	w, args := scope.where("s", false)
	q := `SELECT ` + subscriptionColumns + subscriptionsFrom + ` WHERE s.id = ?` + w
	if lock {
		q += tx.db.dialect.lockOfClause("s")
	}
	s, err := scanSubscription(tx.queryRow(q, append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return s, csphub.NotFound("subscription")
	}
	if err != nil {
		return s, fmt.Errorf("read subscription: %w", err)
	}
	return s, nil
}

// SaveSubscription writes a subscription's changing fields, provided it is
// at version s.Version-1; false means another change came first.
func (tx *Tx) SaveSubscription(s csphub.Subscription) (bool, error) {
	res, err := tx.exec(`UPDATE subscriptions SET reseller_id = ?, quantity = ?, status = ?, auto_renew = ?, term_start = ?,
		term_end = ?, renewed_at = ?, updated_at = ?, version = ? WHERE id = ? AND provider_id = ? AND version = ?`,
		s.ResellerID, s.Quantity, string(s.Status), s.AutoRenew, s.TermStart, s.TermEnd, s.RenewedAt, s.UpdatedAt, s.Version,
		s.ID, s.ProviderID, s.Version-1)
	if err != nil {
		return false, fmt.Errorf("save subscription: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DueSubscriptions returns, locked, up to limit active or suspended
// subscriptions whose term ended at or before now; rows another
// transaction holds are skipped.
func (tx *Tx) DueSubscriptions(now time.Time, limit int) ([]csphub.Subscription, error) {
	rows, err := tx.query(`SELECT `+subscriptionColumns+subscriptionsFrom+`
		WHERE s.status IN ('active', 'suspended') AND s.term_end <= ? ORDER BY s.term_end, s.id LIMIT ?`+tx.db.dialect.skipLockedOfClause("s"), now, limit)
	if err != nil {
		return nil, fmt.Errorf("read due subscriptions: %w", err)
	}
	defer rows.Close()
	out := []csphub.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ActiveSubscriptionsWith counts a customer's active subscriptions in
// which partnerID is the provider or the reseller of record.
func (tx *Tx) ActiveSubscriptionsWith(customerID, partnerID string) (int, error) {
	var n int
	err := tx.queryRow(`SELECT COUNT(*) FROM subscriptions WHERE customer_id = ? AND status = 'active'
		AND (provider_id = ? OR reseller_id = ?)`, customerID, partnerID, partnerID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count subscriptions: %w", err)
	}
	return n, nil
}

// LockCustomerRelationship reports whether a customer has an active
// relationship with a partner, and keeps that row locked for share until
// commit: the customer's removal of the relationship (which locks it for
// update, then counts the partner's active subscriptions) either commits
// first, and the row is no longer active here, or waits for this
// transaction and then counts what it wrote.
func (tx *Tx) LockCustomerRelationship(customerID, partnerID string) (bool, error) {
	var id string
	err := tx.queryRow(`SELECT id FROM customer_relationships WHERE customer_id = ? AND partner_id = ? AND state = 'active'`+
		tx.db.dialect.shareClause(), customerID, partnerID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock customer relationship: %w", err)
	}
	return true, nil
}

// OrganizationByPartnerID returns the organization holding a partner ID.
func (tx *Tx) OrganizationByPartnerID(partnerID string) (string, error) {
	var id string
	err := tx.queryRow(`SELECT org_id FROM partner_profiles WHERE partner_id = ?`, partnerID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", csphub.NotFound("partner")
	}
	if err != nil {
		return "", fmt.Errorf("read partner: %w", err)
	}
	return id, nil
}

// Contact is someone to write to.
type Contact struct {
	Email, Name, Lang string
}

// UsersWithRole returns up to limit active users of an organization who
// hold role, oldest first.
func (tx *Tx) UsersWithRole(orgID, role string, limit int) ([]Contact, error) {
	rows, err := tx.query(`SELECT u.email, u.name, u.lang FROM users u
		JOIN user_roles r ON r.org_id = u.org_id AND r.user_id = u.id
		WHERE u.org_id = ? AND r.role = ? AND u.status = 'active' ORDER BY u.created_at, u.id LIMIT ?`, orgID, role, limit)
	if err != nil {
		return nil, fmt.Errorf("read users with role: %w", err)
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.Email, &c.Name, &c.Lang); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
