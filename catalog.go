package csphub

import (
	"slices"
	"time"
)

// The catalogue: products, their SKUs, and offers per market. An offer is
// one SKU sold in one market (a country) at a price in the market's
// currency, in integer minor units, for a term and billing cycle, within
// quantity limits, between two dates.

// Billing cycles and terms of offers (ISO 8601 durations for terms).
const (
	BillingMonthly = "monthly"
	BillingAnnual  = "annual"
	TermMonth      = "P1M"
	TermYear       = "P1Y"
	TermThreeYears = "P3Y"
)

// Offer is a SKU sold in one market.
type Offer struct {
	ID            string     `json:"id"`
	Code          string     `json:"code" doc:"The operator's stable code of the offer"`
	ProductCode   string     `json:"product_code"`
	ProductName   string     `json:"product_name"`
	SKUCode       string     `json:"sku_code"`
	SKUName       string     `json:"sku_name"`
	Market        string     `json:"market" doc:"ISO 3166-1 alpha-2 country of the market"`
	Currency      string     `json:"currency" doc:"ISO 4217, the market's currency"`
	PriceMinor    int64      `json:"price_minor" doc:"Unit price per billing period, in minor units of the currency"`
	BillingCycle  string     `json:"billing_cycle" enum:"monthly,annual"`
	Term          string     `json:"term" enum:"P1M,P1Y,P3Y"`
	MinQuantity   int        `json:"min_quantity"`
	MaxQuantity   int        `json:"max_quantity"`
	AvailableFrom time.Time  `json:"available_from"`
	AvailableTo   *time.Time `json:"available_to,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// AvailableAt reports whether the offer may be bought at t.
func (o Offer) AvailableAt(t time.Time) bool {
	return !t.Before(o.AvailableFrom) && (o.AvailableTo == nil || t.Before(*o.AvailableTo))
}

// TermEnd is when a term of the offer that starts at start ends.
func TermEnd(term string, start time.Time) time.Time {
	switch term {
	case TermMonth:
		return start.AddDate(0, 1, 0)
	case TermThreeYears:
		return start.AddDate(3, 0, 0)
	}
	return start.AddDate(1, 0, 0)
}

// OrderState is where an order stands.
type OrderState string

const (
	OrderPending   OrderState = "pending"
	OrderCompleted OrderState = "completed"
	OrderFailed    OrderState = "failed"
	OrderCancelled OrderState = "cancelled"
)

// OrderStates lists the states of an order, in the order of its life.
var OrderStates = []OrderState{OrderPending, OrderCompleted, OrderFailed, OrderCancelled}

// Valid reports whether s is one of OrderStates.
func (s OrderState) Valid() bool { return slices.Contains(OrderStates, s) }

// Order is a provider's purchase for a customer.
type Order struct {
	ID         string      `json:"id"`
	CustomerID string      `json:"customer_id"`
	ProviderID string      `json:"provider_id"`
	State      OrderState  `json:"state"`
	Currency   string      `json:"currency"`
	TotalMinor int64       `json:"total_minor" doc:"Sum of the lines' prices for one billing period"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	Lines      []OrderLine `json:"lines"`
	// The names below are read with the order, for display; they are not
	// part of what is stored.
	CustomerName string `json:"customer_name"`
	ProviderName string `json:"provider_name"`
}

// OrderLine is one offer and quantity of an order, with its reseller of
// record and the subscription it created.
type OrderLine struct {
	ID                string `json:"id"`
	OfferID           string `json:"offer_id"`
	Quantity          int    `json:"quantity"`
	UnitPriceMinor    int64  `json:"unit_price_minor"`
	ResellerID        string `json:"reseller_id"`
	ResellerPartnerID string `json:"reseller_partner_id"`
	SubscriptionID    string `json:"subscription_id,omitempty"`
	// Read with the line, for display.
	OfferName    string `json:"offer_name" doc:"The SKU name of the offer"`
	ResellerName string `json:"reseller_name"`
}

// SubscriptionStatus is where a subscription stands.
type SubscriptionStatus string

const (
	SubscriptionActive    SubscriptionStatus = "active"
	SubscriptionSuspended SubscriptionStatus = "suspended"
	SubscriptionCancelled SubscriptionStatus = "cancelled"
	SubscriptionExpired   SubscriptionStatus = "expired"
)

// CancellationWindow is how long after a purchase or a renewal a
// subscription may still be cancelled; later, cancelling turns off
// auto-renewal instead.
const CancellationWindow = 7 * 24 * time.Hour

// Subscription is what a completed order line bought.
type Subscription struct {
	ID         string             `json:"id"`
	CustomerID string             `json:"customer_id"`
	ProviderID string             `json:"provider_id"`
	ResellerID string             `json:"reseller_id" doc:"The reseller of record"`
	OfferID    string             `json:"offer_id"`
	OrderID    string             `json:"order_id"`
	Quantity   int                `json:"quantity"`
	Status     SubscriptionStatus `json:"status"`
	AutoRenew  bool               `json:"auto_renew"`
	TermStart  time.Time          `json:"term_start"`
	TermEnd    time.Time          `json:"term_end"`
	RenewedAt  *time.Time         `json:"renewed_at,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
	Version    int                `json:"version"`
	// The names below are read with the subscription, for display; they
	// are not part of what is stored.
	CustomerName      string `json:"customer_name"`
	ProviderName      string `json:"provider_name"`
	ResellerName      string `json:"reseller_name"`
	ResellerPartnerID string `json:"reseller_partner_id"`
	OfferName         string `json:"offer_name" doc:"The SKU name of the offer"`
	OfferCode         string `json:"offer_code"`
	Currency          string `json:"currency"`
	UnitPriceMinor    int64  `json:"unit_price_minor" doc:"The offer's current unit price per billing period, in minor units"`
	BillingCycle      string `json:"billing_cycle"`
	Term              string `json:"term"`
}
