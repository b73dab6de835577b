package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// orderWorld is a customerWorld with a French customer whose reseller
// relationship with the provider names the reseller, and two offers: one
// sold in France, one in Germany.
type orderWorld struct {
	*customerWorld
	cust          csphub.Organization
	custTok       string
	offer, german csphub.Offer
}

func newOrderWorld(t *testing.T, engine string) *orderWorld {
	t.Helper()
	w := &orderWorld{customerWorld: newCustomerWorld(t, engine)}
	_, token := w.inviteCustomer("admin@northwind.example", nil)
	r := w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", "", newCustomerBody("Northwind", "FR", false))
	if r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	var acc service.CustomerAcceptance
	r.json(t, &acc)
	w.cust, w.custTok = acc.Customer, w.member(acc.Customer, csphub.RoleGlobalAdmin)
	w.offer = w.putOffer("OFFER-FR", "FR")
	w.german = w.putOffer("OFFER-DE", "DE")
	w.delivered()
	return w
}

func (w *orderWorld) putOffer(code, market string) csphub.Offer {
	w.t.Helper()
	now := w.clock.Now()
	o := csphub.Offer{ID: csphub.NewID(), Code: code, ProductCode: "M365", ProductName: "Microsoft 365", SKUCode: "E3", SKUName: "Microsoft 365 E3",
		Market: market, Currency: "EUR", PriceMinor: 3600, BillingCycle: csphub.BillingMonthly, Term: csphub.TermYear, MinQuantity: 1,
		MaxQuantity: 100, AvailableFrom: now.AddDate(0, -1, 0), UpdatedAt: now}
	if err := w.db.Write(context.Background(), func(tx *store.Tx) error {
		var err error
		o, _, err = tx.UpsertOffer(o)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

func orderBody(offerID string, qty int, partnerID string) string {
	b, _ := json.Marshal(map[string]any{"lines": []map[string]any{{"offer_id": offerID, "quantity": qty, "reseller_partner_id": partnerID}}})
	return string(b)
}

// orders counts every order, as the operator sees them.
func (w *orderWorld) orders() int {
	w.t.Helper()
	var p service.OrderPage
	r := w.do("GET", "/api/v1/orders?page_size=500", w.root, "")
	if r.status != 200 {
		w.t.Fatalf("orders: %d %s", r.status, r.body)
	}
	r.json(w.t, &p)
	return len(p.Items)
}

func (w *orderWorld) placePath() string { return "/api/v1/customers/" + w.cust.ID + "/orders" }

func TestPlaceOrderAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOrderWorld(t, engine)
		body := orderBody(w.offer.ID, 2, w.res.partnerID)

		// The key is required.
		wantProblem(t, w.do("POST", w.placePath(), w.prov.agent, body), 400, "idempotency_key_required")
		if n := w.orders(); n != 0 {
			t.Fatalf("%d orders without a key", n)
		}

		// The happy path.
		r := w.do("POST", w.placePath(), w.prov.agent, body, "Idempotency-Key", "order-1")
		if r.status != 201 {
			t.Fatalf("place: %d %s", r.status, r.body)
		}
		var o csphub.Order
		r.json(t, &o)
		if o.State != csphub.OrderCompleted || o.CustomerID != w.cust.ID || o.ProviderID != w.prov.org.ID || len(o.Lines) != 1 ||
			o.Lines[0].ResellerID != w.res.org.ID || o.Lines[0].ResellerPartnerID != w.res.partnerID || o.Lines[0].SubscriptionID == "" ||
			o.TotalMinor != 7200 {
			t.Fatalf("order: %s", r.body)
		}
		mails := map[string]bool{}
		for _, m := range w.delivered() {
			if m.Template == "order_placed" {
				mails[m.To] = true
			}
		}
		if !mails["contact@contoso.example"] || !mails["admin@northwind.example"] || len(mails) != 2 {
			t.Errorf("order emails: %v", mails)
		}

		// E1: the same key and body replay the response, with one order
		// (the body's key order and spacing do not matter).
		respaced := fmt.Sprintf(`{ "lines" : [ {"reseller_partner_id": %q, "quantity": 2, "offer_id": %q} ] }`, w.res.partnerID, w.offer.ID)
		for _, b := range []string{body, respaced} {
			again := w.do("POST", w.placePath(), w.prov.agent, b, "Idempotency-Key", "order-1")
			if again.status != 201 || !sameBody(again, r) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay: %d %s", again.status, again.body)
			}
		}
		if n := w.orders(); n != 1 {
			t.Fatalf("%d orders after replays", n)
		}
		// E2: the same key with another body, or to another customer's
		// path, is refused.
		wantProblem(t, w.do("POST", w.placePath(), w.prov.agent, orderBody(w.offer.ID, 3, w.res.partnerID), "Idempotency-Key", "order-1"),
			422, "idempotency_key_reused")
		wantProblem(t, w.do("POST", "/api/v1/customers/"+csphub.NewID()+"/orders", w.prov.agent, body, "Idempotency-Key", "order-1"),
			422, "idempotency_key_reused")
		if n := w.orders(); n != 1 {
			t.Fatalf("%d orders after a reused key", n)
		}

		// Refusals over HTTP: the rule's code, problem+json, nothing written;
		// a deterministic refusal replays.
		german := orderBody(w.german.ID, 1, w.res.partnerID)
		p := wantProblem(t, w.do("POST", w.placePath(), w.prov.agent, german, "Idempotency-Key", "order-2"), 422, service.RuleOfferSold)
		if p.Detail == "" {
			t.Error("refusal without a detail")
		}
		again := w.do("POST", w.placePath(), w.prov.agent, german, "Idempotency-Key", "order-2")
		wantProblem(t, again, 422, service.RuleOfferSold)
		helpdesk := w.member(w.prov.org, csphub.RoleHelpdeskAgent)
		wantProblem(t, w.do("POST", w.placePath(), helpdesk, body, "Idempotency-Key", "order-3"), 403, service.RuleOrderRole)
		p = wantProblem(t, w.do("POST", w.placePath(), w.prov.agent, orderBody(w.offer.ID, 1, ""), "Idempotency-Key", "order-4"),
			422, "invalid_input")
		if len(p.Errors) != 1 || p.Errors[0].Code != "reseller_of_record_required" {
			t.Errorf("missing reseller: %+v", p.Errors)
		}
		wantProblem(t, w.do("POST", w.placePath(), w.res.agent, body, "Idempotency-Key", "order-5"), 422, service.RuleProviderEligible)
		wantProblem(t, w.do("POST", w.placePath(), w.custTok, body, "Idempotency-Key", "order-6"), 403, "provider_required")
		if n := w.orders(); n != 1 {
			t.Fatalf("%d orders after refusals", n)
		}

		// E3: 50 concurrent requests with one key: one order; the others
		// wait their turn (409) or replay it.
		const n = 50
		var wg sync.WaitGroup
		results := make([]response, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = w.do("POST", w.placePath(), w.prov.agent, body, "Idempotency-Key", "order-concurrent")
			}()
		}
		wg.Wait()
		var created string
		statuses := map[int]int{}
		for _, res := range results {
			statuses[res.status]++
			switch res.status {
			case 201:
				if created == "" {
					created = string(bytes.TrimSpace(res.body))
				} else if string(bytes.TrimSpace(res.body)) != created {
					t.Fatalf("two different responses for one key:\n%s\n%s", created, res.body)
				}
			case 409:
				wantProblem(t, res, 409, "idempotency_key_in_use")
			default:
				t.Fatalf("concurrent request: %d %s", res.status, res.body)
			}
		}
		if created == "" {
			t.Fatalf("no request succeeded: %v", statuses)
		}
		if got := w.orders(); got != 2 {
			t.Fatalf("%d orders after 50 concurrent requests with one key (%v), want 2", got, statuses)
		}
		if r := w.do("POST", w.placePath(), w.prov.agent, body, "Idempotency-Key", "order-concurrent"); r.status != 201 || string(bytes.TrimSpace(r.body)) != created {
			t.Fatalf("replay after the race: %d %s", r.status, r.body)
		}
		t.Logf("%s: concurrent statuses %v", engine, statuses)

		// The reseller and the customer read it; the reseller cannot change
		// the subscription; the provider can.
		sub := o.Lines[0].SubscriptionID
		for _, tok := range []string{w.res.agent, w.custTok, w.prov.agent} {
			var page service.SubscriptionPage
			r := w.do("GET", "/api/v1/subscriptions", tok, "")
			r.json(t, &page)
			if r.status != 200 || len(page.Items) != 2 {
				t.Errorf("subscriptions: %d %s", r.status, r.body)
			}
			if r := w.do("GET", "/api/v1/orders/"+o.ID, tok, ""); r.status != 200 {
				t.Errorf("order: %d %s", r.status, r.body)
			}
			var orders service.OrderPage
			r = w.do("GET", "/api/v1/customers/"+w.cust.ID+"/orders", tok, "")
			r.json(t, &orders)
			if r.status != 200 || len(orders.Items) != 2 {
				t.Errorf("customer's orders: %d %s", r.status, r.body)
			}
		}
		other := w.provider("Litware", "europe")
		wantProblem(t, w.do("GET", "/api/v1/orders/"+o.ID, other.agent, ""), 404, "order_not_found")
		wantProblem(t, w.do("GET", "/api/v1/subscriptions/"+sub, other.agent, ""), 404, "subscription_not_found")
		wantProblem(t, w.do("PATCH", "/api/v1/subscriptions/"+sub, w.res.agent, `{"quantity":5}`), 403, "provider_only")
		wantProblem(t, w.do("PATCH", "/api/v1/subscriptions/"+sub, w.custTok, `{"quantity":5}`), 403, "provider_required")
		wantProblem(t, w.do("PATCH", "/api/v1/subscriptions/"+sub, other.agent, `{"quantity":5}`), 404, "subscription_not_found")
		var s csphub.Subscription
		r = w.do("PATCH", "/api/v1/subscriptions/"+sub, w.prov.agent, `{"quantity":5}`)
		r.json(t, &s)
		if r.status != 200 || s.Quantity != 5 || s.Version != 2 {
			t.Fatalf("provider's change: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("PATCH", "/api/v1/subscriptions/"+sub, w.prov.agent, `{"quantity":500}`), 422, "invalid_input")
	})
}

// sameBody reports whether two responses carry the same body (a stored
// response is replayed without the encoder's final newline).
func sameBody(a, b response) bool {
	return bytes.Equal(bytes.TrimSpace(a.body), bytes.TrimSpace(b.body))
}
