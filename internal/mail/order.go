package mail

// OrderPlaced tells the reseller of record, or the customer's billing
// admin, that a provider placed an order.
type OrderPlaced struct {
	To       Recipient
	Side     string // reseller or customer
	Provider string
	Reseller string
	Customer string
	OrderID  string
	Lines    []OrderPlacedLine
	Link     string
}

// OrderPlacedLine is one line of the email.
type OrderPlacedLine struct {
	Offer    string
	Quantity int
	Price    string // unit price with its currency, e.g. "12.50 EUR"
}

func (OrderPlaced) Template() string       { return "order_placed" }
func (m OrderPlaced) Recipient() Recipient { return m.To }
