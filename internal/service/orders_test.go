package service_test

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// oWorld is a cWorld with an indirect provider authorized for Europe, two
// signed French resellers in active relationships with it, and a French
// customer whose reseller relationship with the provider names the first.
type oWorld struct {
	*cWorld
	prov, res, res2 party
	cust            customer
	rels            map[string]string // partner organization id → cust's relationship id
	sales           csphub.Actor      // the provider's sales agent
	nOffer          int
}

func newOWorld(t *testing.T, engine string) *oWorld {
	t.Helper()
	w := &oWorld{cWorld: newCWorld(t, engine)}
	w.prov = w.cProvider("Fabrikam", "europe")
	w.res = w.cReseller("Contoso", "FR")
	w.sign(w.res)
	w.res2 = w.cReseller("Tailspin", "FR")
	w.sign(w.res2)
	w.active(w.prov, w.res)
	w.active(w.prov, w.res2)
	w.cust = w.customer("Northwind", "FR")
	w.rels = relationshipsOf(w.link(w.prov, w.res, w.cust))
	w.sales = w.user(w.prov.org, "sales@fabrikam.example", "en", csphub.RoleSalesAgent)
	return w
}

func relationshipsOf(a service.CustomerAcceptance) map[string]string {
	out := map[string]string{}
	for _, r := range a.Relationships {
		out[r.PartnerID] = r.ID
	}
	return out
}

// offer stores an offer of the catalogue, available since a month ago,
// priced 36.00 in currency.
func (w *oWorld) offer(market, currency, term string, min, max int, mod ...func(*csphub.Offer)) csphub.Offer {
	w.t.Helper()
	w.nOffer++
	o := csphub.Offer{ID: csphub.NewID(), Code: fmt.Sprintf("OFFER-%03d", w.nOffer), ProductCode: "M365", ProductName: "Microsoft 365",
		SKUCode: "E3-" + term, SKUName: fmt.Sprintf("Microsoft 365 E3 %s #%d", term, w.nOffer), Market: market, Currency: currency,
		PriceMinor: 3600, BillingCycle: csphub.BillingMonthly, Term: term, MinQuantity: min, MaxQuantity: max,
		AvailableFrom: w.clock.Now().AddDate(0, -1, 0)}
	for _, m := range mod {
		m(&o)
	}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		o.UpdatedAt = tx.Now()
		var err error
		o, _, err = tx.UpsertOffer(o)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

func oLine(o csphub.Offer, qty int, p party) service.OrderLineInput {
	return service.OrderLineInput{OfferID: o.ID, Quantity: qty, ResellerPartnerID: p.partnerID}
}

func (w *oWorld) place(actor csphub.Actor, customerID string, lines ...service.OrderLineInput) (csphub.Order, error) {
	return w.svc.PlaceOrder(w.ctx, actor, customerID, service.PlaceOrderInput{Lines: lines})
}

func (w *oWorld) mustPlace(actor csphub.Actor, customerID string, lines ...service.OrderLineInput) csphub.Order {
	w.t.Helper()
	o, err := w.place(actor, customerID, lines...)
	if err != nil {
		w.t.Fatalf("place order: %v", err)
	}
	return o
}

// orderSums counts every row an order writes, to show that a refusal wrote
// nothing.
func (w *oWorld) orderSums() string {
	w.t.Helper()
	var parts []string
	for _, table := range []string{"orders", "order_lines", "subscriptions", "audit_records", "events", "event_audience", "outbox"} {
		parts = append(parts, fmt.Sprintf("%s=%d", table, w.count(`SELECT COUNT(*) FROM `+table)))
	}
	return strings.Join(parts, " ")
}

// str reads one text value.
func (w *oWorld) str(q string, args ...any) string {
	w.t.Helper()
	if w.db.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	var s string
	if err := w.raw.QueryRow(q, args...).Scan(&s); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return s
}

// strs reads one text column.
func (w *oWorld) strs(q string, args ...any) []string {
	w.t.Helper()
	if w.db.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	rows, err := w.raw.Query(q, args...)
	if err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func wantErr(t *testing.T, what string, err error, kind csphub.Kind, code string) {
	t.Helper()
	if e := csphub.AsError(err); e == nil || e.Kind != kind || e.Code != code || e.Message == "" {
		t.Errorf("%s: got %v, want %s %s", what, err, kind, code)
	}
}

var ruleCodes = []string{service.RuleProviderEligible, service.RulePartnershipActive, service.RuleResellerEligible,
	service.RuleCustomerRelationship, service.RuleOfferSold, service.RuleOrderRole}

// TestOrderRulesTruthTable (quality.md C4): for each of the 64
// combinations of the six rules, a state where exactly those hold; the
// order is accepted only when all six hold, and otherwise refused with the
// code of the first failing rule and nothing written.
func TestOrderRulesTruthTable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		good := w.offer("FR", "EUR", csphub.TermYear, 1, 100)
		otherMarket := w.offer("DE", "EUR", csphub.TermYear, 1, 100)
		otherCurrency := w.offer("FR", "USD", csphub.TermYear, 1, 100)
		helpdesk := w.user(w.prov.org, "helpdesk@fabrikam.example", "en", csphub.RoleHelpdeskAgent)
		// Where an agreement acceptance is parked while its partner is
		// "unsigned".
		parkProv, parkRes := w.org(csphub.OrgPartner, "FR"), w.org(csphub.OrgPartner, "FR")
		pship := w.str(`SELECT id FROM partnerships WHERE provider_id = ? AND reseller_id = ? AND state = 'active'`, w.prov.org.ID, w.res.org.ID)
		link := w.str(`SELECT id FROM customer_links WHERE customer_id = ? AND provider_id = ? AND reseller_id = ? AND state = 'active'`,
			w.cust.org.ID, w.prov.org.ID, w.res.org.ID)
		rulesState := func() string {
			return strings.Join([]string{
				strings.Join(w.strs(`SELECT program || ':' || state FROM enrollments WHERE org_id = ? ORDER BY program`, w.prov.org.ID), ","),
				strings.Join(w.strs(`SELECT program || ':' || state FROM enrollments WHERE org_id = ? ORDER BY program`, w.res.org.ID), ","),
				strconv.Itoa(w.count(`SELECT COUNT(*) FROM agreement_acceptances WHERE org_id = ?`, w.prov.org.ID)),
				strconv.Itoa(w.count(`SELECT COUNT(*) FROM agreement_acceptances WHERE org_id = ?`, w.res.org.ID)),
				w.str(`SELECT state FROM partnerships WHERE id = ?`, pship),
				w.str(`SELECT state || ':' || reseller_id FROM customer_links WHERE id = ?`, link),
			}, " ")
		}
		baseline := rulesState()
		accepted := 0
		for mask := 0; mask < 64; mask++ {
			holds := func(rule int) bool { return mask&(1<<(rule-1)) != 0 }
			// Each failing rule has two smallest changes; both are used
			// across the table.
			variant := bits.OnesCount(uint(mask)) % 2
			var undo []func()
			set := func(do, redo string, args ...any) {
				w.exec(do, args...)
				undo = append(undo, func() { w.exec(redo, args...) })
			}
			if !holds(1) {
				if variant == 0 {
					set(`UPDATE enrollments SET state = 'in_review' WHERE org_id = ? AND program = 'indirect_provider'`, `UPDATE enrollments SET state = 'approved'
						WHERE org_id = ? AND program = 'indirect_provider'`, w.prov.org.ID)
				} else {
					w.exec(`UPDATE agreement_acceptances SET org_id = ? WHERE org_id = ?`, parkProv.ID, w.prov.org.ID)
					undo = append(undo, func() {
						w.exec(`UPDATE agreement_acceptances SET org_id = ? WHERE org_id = ?`, w.prov.org.ID, parkProv.ID)
					})
				}
			}
			if !holds(2) {
				state := []string{"suspended", "terminated"}[variant]
				set(`UPDATE partnerships SET state = '`+state+`' WHERE id = ?`, `UPDATE partnerships SET state = 'active' WHERE id = ?`, pship)
			}
			if !holds(3) {
				if variant == 0 {
					w.exec(`UPDATE agreement_acceptances SET org_id = ? WHERE org_id = ?`, parkRes.ID, w.res.org.ID)
					undo = append(undo, func() {
						w.exec(`UPDATE agreement_acceptances SET org_id = ? WHERE org_id = ?`, w.res.org.ID, parkRes.ID)
					})
				} else {
					set(`UPDATE enrollments SET state = 'in_review' WHERE org_id = ? AND program = 'indirect_reseller'`,
						`UPDATE enrollments SET state = 'approved' WHERE org_id = ? AND program = 'indirect_reseller'`, w.res.org.ID)
				}
			}
			if !holds(4) {
				if variant == 0 {
					set(`UPDATE customer_links SET state = 'removed' WHERE id = ?`, `UPDATE customer_links SET state = 'active' WHERE id = ?`, link)
				} else {
					// The link names another (active, signed) reseller.
					w.exec(`UPDATE customer_links SET reseller_id = ? WHERE id = ?`, w.res2.org.ID, link)
					undo = append(undo, func() { w.exec(`UPDATE customer_links SET reseller_id = ? WHERE id = ?`, w.res.org.ID, link) })
				}
			}
			offer := good
			if !holds(5) {
				offer = []csphub.Offer{otherMarket, otherCurrency}[variant]
			}
			actor := []csphub.Actor{w.prov.agent, w.sales}[variant]
			if !holds(6) {
				actor = helpdesk
			}

			before := w.orderSums()
			o, err := w.place(actor, w.cust.org.ID, oLine(offer, 3, w.res))
			after := w.orderSums()
			first := 0
			for r := 1; r <= 6; r++ {
				if !holds(r) {
					first = r
					break
				}
			}
			if first == 0 {
				accepted++
				if err != nil || o.State != csphub.OrderCompleted || len(o.Lines) != 1 || o.Lines[0].SubscriptionID == "" {
					t.Errorf("mask %06b: all rules hold, got %+v %v", mask, o, err)
				}
				if after == before {
					t.Errorf("mask %06b: the accepted order wrote nothing", mask)
				}
			} else {
				kind := csphub.KindUnprocessable
				if first == 6 {
					kind = csphub.KindForbidden
				}
				wantErr(t, fmt.Sprintf("mask %06b (variant %d)", mask, variant), err, kind, ruleCodes[first-1])
				if after != before {
					t.Errorf("mask %06b: a refused order wrote:\n%s\n%s", mask, before, after)
				}
			}
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			if got := rulesState(); got != baseline {
				t.Fatalf("mask %06b: state not reset:\n%s\n%s", mask, baseline, got)
			}
		}
		if accepted != 1 {
			t.Fatalf("%d accepted cases", accepted)
		}
	})
}

func TestPlaceOrderRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		now := w.clock.Now()
		good := w.offer("FR", "EUR", csphub.TermYear, 5, 20)
		ended := w.offer("FR", "EUR", csphub.TermYear, 1, 20, func(o *csphub.Offer) { to := now.Add(-time.Hour); o.AvailableTo = &to })
		future := w.offer("FR", "EUR", csphub.TermYear, 1, 20, func(o *csphub.Offer) { o.AvailableFrom = now.Add(time.Hour) })
		other := w.cProvider("Litware", "europe")
		before := w.orderSums()
		place := func(actor csphub.Actor, customerID string, lines ...service.OrderLineInput) error {
			_, err := w.place(actor, customerID, lines...)
			return err
		}

		// The reseller of record is required, never silently dropped.
		for _, pid := range []string{"", "   "} {
			agrWantFields(t, place(w.sales, w.cust.org.ID, service.OrderLineInput{OfferID: good.ID, Quantity: 5, ResellerPartnerID: pid}),
				"lines[0].reseller_partner_id/reseller_of_record_required")
		}
		agrWantFields(t, place(w.sales, w.cust.org.ID, oLine(good, 5, w.res), service.OrderLineInput{OfferID: good.ID, Quantity: 5}),
			"lines[1].reseller_partner_id/reseller_of_record_required")
		agrWantFields(t, place(w.sales, w.cust.org.ID, service.OrderLineInput{OfferID: good.ID, Quantity: 5, ResellerPartnerID: "0123"}),
			"lines[0].reseller_partner_id/invalid_partner_id")
		agrWantFields(t, place(w.sales, w.cust.org.ID, service.OrderLineInput{OfferID: good.ID, Quantity: 5, ResellerPartnerID: "9999999"}),
			"lines[0].reseller_partner_id/unknown_partner_id")
		agrWantFields(t, place(w.sales, w.cust.org.ID), "lines/out_of_range")
		many := make([]service.OrderLineInput, 51)
		for i := range many {
			many[i] = oLine(good, 5, w.res)
		}
		agrWantFields(t, place(w.sales, w.cust.org.ID, many...), "lines/out_of_range")

		// Quantities within the offer's limits.
		agrWantFields(t, place(w.sales, w.cust.org.ID, oLine(good, 0, w.res)), "lines[0].quantity/out_of_range")
		agrWantFields(t, place(w.sales, w.cust.org.ID, oLine(good, 4, w.res)), "lines[0].quantity/quantity_out_of_range")
		agrWantFields(t, place(w.sales, w.cust.org.ID, oLine(good, 21, w.res)), "lines[0].quantity/quantity_out_of_range")
		agrWantFields(t, place(w.sales, w.cust.org.ID, oLine(good, 5, w.res), oLine(good, 21, w.res)), "lines[1].quantity/quantity_out_of_range")

		// Unavailable and unknown offers.
		wantErr(t, "ended offer", place(w.sales, w.cust.org.ID, oLine(ended, 1, w.res)), csphub.KindUnprocessable, service.RuleOfferSold)
		wantErr(t, "future offer", place(w.sales, w.cust.org.ID, oLine(future, 1, w.res)), csphub.KindUnprocessable, service.RuleOfferSold)
		agrWantFields(t, place(w.sales, w.cust.org.ID, service.OrderLineInput{OfferID: csphub.NewID(), Quantity: 1, ResellerPartnerID: w.res.partnerID}),
			"lines[0].offer_id/unknown_offer")
		agrWantFields(t, place(w.sales, w.cust.org.ID, service.OrderLineInput{OfferID: "nope", Quantity: 1, ResellerPartnerID: w.res.partnerID}),
			"lines[0].offer_id/required")

		// A reseller with no link to this customer, on a later line.
		wantErr(t, "second line's reseller", place(w.sales, w.cust.org.ID, oLine(good, 5, w.res), oLine(good, 5, w.res2)),
			csphub.KindUnprocessable, service.RuleCustomerRelationship)

		// Customers the provider has no relationship with do not exist for it;
		// only partners order.
		wantErr(t, "other provider", place(other.agent, w.cust.org.ID, oLine(good, 5, w.res)), csphub.KindNotFound, "customer_not_found")
		wantErr(t, "unknown customer", place(w.sales, csphub.NewID(), oLine(good, 5, w.res)), csphub.KindNotFound, "customer_not_found")
		wantErr(t, "bad customer id", place(w.sales, "x", oLine(good, 5, w.res)), csphub.KindNotFound, "customer_not_found")
		wantErr(t, "customer", place(w.cust.ga, w.cust.org.ID, oLine(good, 5, w.res)), csphub.KindForbidden, "provider_required")
		wantErr(t, "operator", place(w.admin, w.cust.org.ID, oLine(good, 5, w.res)), csphub.KindForbidden, "provider_required")
		// The reseller itself does not order: the customer's relationship
		// with it as a provider does not exist.
		if err := place(w.res.agent, w.cust.org.ID, oLine(good, 5, w.res)); err == nil {
			t.Error("the reseller placed an order")
		}

		if after := w.orderSums(); after != before {
			t.Fatalf("refusals wrote:\n%s\n%s", before, after)
		}
		// And the same order, right, goes through.
		w.mustPlace(w.sales, w.cust.org.ID, oLine(good, 5, w.res))
	})
}

// eventAudience lists the organizations that see an event, sorted.
func (w *oWorld) eventAudience(eventID string) []string {
	aud := w.strs(`SELECT org_id FROM event_audience WHERE event_id = ?`, eventID)
	slices.Sort(aud)
	return aud
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestPlaceOrderCompleted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		w.link(w.prov, w.res2, w.cust)
		billing := w.user(w.cust.org, "billing@northwind.example", "fr", csphub.RoleBillingAdmin)
		monthly := w.offer("FR", "EUR", csphub.TermMonth, 1, 100)
		yearly := w.offer("FR", "EUR", csphub.TermYear, 1, 100, func(o *csphub.Offer) { o.PriceMinor = 1250 })
		three := w.offer("FR", "EUR", csphub.TermThreeYears, 1, 100, func(o *csphub.Offer) { o.BillingCycle = csphub.BillingAnnual })
		w.mail()
		now := w.clock.Now()

		o := w.mustPlace(w.sales, w.cust.org.ID, oLine(monthly, 2, w.res), oLine(yearly, 3, w.res), oLine(three, 1, w.res2))
		if o.State != csphub.OrderCompleted || o.CustomerID != w.cust.org.ID || o.ProviderID != w.prov.org.ID || o.Currency != "EUR" ||
			o.TotalMinor != 2*3600+3*1250+3600 || o.CreatedBy != w.sales.ID || !o.CreatedAt.Equal(now) || len(o.Lines) != 3 {
			t.Fatalf("order: %+v", o)
		}
		got, err := w.svc.GetOrder(w.ctx, w.prov.agent, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(got)
		oj, _ := json.Marshal(o)
		if string(gj) != string(oj) {
			t.Fatalf("read back:\n%s\n%s", gj, oj)
		}

		// One subscription per line, its term from the offer's.
		terms := map[string]time.Time{monthly.ID: now.AddDate(0, 1, 0), yearly.ID: now.AddDate(1, 0, 0), three.ID: now.AddDate(3, 0, 0)}
		var subIDs []string
		for i, l := range o.Lines {
			wantRes := []party{w.res, w.res, w.res2}[i]
			if l.ResellerID != wantRes.org.ID || l.ResellerPartnerID != wantRes.partnerID || l.SubscriptionID == "" || l.ID == "" {
				t.Fatalf("line %d: %+v", i, l)
			}
			s, err := w.svc.GetSubscription(w.ctx, w.prov.agent, l.SubscriptionID)
			if err != nil {
				t.Fatal(err)
			}
			if s.OrderID != o.ID || s.OfferID != l.OfferID || s.Quantity != l.Quantity || s.ResellerID != wantRes.org.ID ||
				s.CustomerID != w.cust.org.ID || s.ProviderID != w.prov.org.ID || s.Status != csphub.SubscriptionActive || !s.AutoRenew ||
				!s.TermStart.Equal(now) || !s.TermEnd.Equal(terms[l.OfferID]) || s.RenewedAt != nil || s.Version != 1 {
				t.Fatalf("subscription of line %d: %+v", i, s)
			}
			subIDs = append(subIDs, s.ID)
		}
		if !csphub.TermEnd(csphub.TermMonth, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)).Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) {
			t.Error("TermEnd P1M is not Go's AddDate")
		}

		// Audit records, by the acting user, with the order's and each
		// subscription's content.
		rows := w.strs(`SELECT action || ' ' || resource_id || ' ' || actor_id || ' ' || actor_org_id FROM audit_records
			WHERE action IN ('order.create', 'subscription.create') ORDER BY id`)
		want := []string{"order.create " + o.ID}
		for _, id := range subIDs {
			want = append(want, "subscription.create "+id)
		}
		if len(rows) != len(want) {
			t.Fatalf("audit: %v", rows)
		}
		for i := range want {
			if rows[i] != want[i]+" "+w.sales.ID+" "+w.prov.org.ID {
				t.Errorf("audit %d: %s, want %s", i, rows[i], want[i])
			}
		}
		var after csphub.Order
		if err := json.Unmarshal([]byte(w.str(`SELECT after_json FROM audit_records WHERE resource_id = ?`, o.ID)), &after); err != nil ||
			after.ID != o.ID || len(after.Lines) != 3 || after.TotalMinor != o.TotalMinor {
			t.Errorf("audited order: %+v %v", after, err)
		}

		// Events, with their audiences.
		if err := w.svc.SequenceJournal(w.ctx); err != nil {
			t.Fatal(err)
		}
		everyone := sorted(w.prov.org.ID, w.cust.org.ID, w.res.org.ID, w.res2.org.ID)
		wantEvents := map[string][]string{"order.created " + o.ID: everyone, "order.completed " + o.ID: everyone}
		for i, id := range subIDs {
			wantEvents["subscription.created "+id] = sorted(w.prov.org.ID, w.cust.org.ID, []party{w.res, w.res, w.res2}[i].org.ID)
		}
		evs := w.strs(`SELECT id || ' ' || type || ' ' || subject FROM events WHERE type LIKE 'order.%' OR type LIKE 'subscription.%' ORDER BY position`)
		if len(evs) != len(wantEvents) {
			t.Fatalf("events: %v", evs)
		}
		for i, e := range evs {
			f := strings.Fields(e)
			aud, ok := wantEvents[f[1]+" "+f[2]]
			if !ok {
				t.Fatalf("unexpected event %s", e)
			}
			if got := w.eventAudience(f[0]); !slices.Equal(got, aud) {
				t.Errorf("audience of %s: %v, want %v", e, got, aud)
			}
			if i < 2 && f[1] != []string{"order.created", "order.completed"}[i] {
				t.Errorf("event %d: %s", i, e)
			}
		}
		p, err := w.svc.ListEvents(w.ctx, w.res2.agent, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, e := range p.Events {
			if e.Subject == o.ID || slices.Contains(subIDs, e.Subject) {
				seen++
			}
		}
		if seen != 3 {
			t.Errorf("the second reseller sees %d of the order's events, want 3", seen)
		}

		// Emails: each reseller of record with its own lines, and the
		// customer's billing admin (not its global admin) with them all.
		mails := map[string]store.Email{}
		for _, m := range w.mail() {
			if m.Template == "order_placed" {
				if _, dup := mails[m.To]; dup {
					t.Errorf("two emails to %s", m.To)
				}
				mails[m.To] = m
			}
		}
		gaEmail := w.str(`SELECT email FROM users WHERE id = ?`, w.cust.ga.ID)
		if len(mails) != 3 {
			t.Fatalf("order emails to %v", mails)
		}
		for addr, lines := range map[string][]string{w.contact[w.res.org.ID]: {monthly.SKUName, yearly.SKUName},
			w.contact[w.res2.org.ID]: {three.SKUName}, "billing@northwind.example": {monthly.SKUName, yearly.SKUName, three.SKUName}} {
			m, ok := mails[addr]
			if !ok {
				t.Errorf("no order email to %s", addr)
				continue
			}
			for _, name := range []string{monthly.SKUName, yearly.SKUName, three.SKUName} {
				if strings.Contains(m.Text, name+" ") != slices.Contains(lines, name) {
					t.Errorf("email to %s, line %s: %s", addr, name, m.Text)
				}
			}
			if !strings.Contains(m.Text, o.ID) || !strings.Contains(m.Text, "Fabrikam") || !strings.Contains(m.Text, "Northwind") {
				t.Errorf("email to %s: %s", addr, m.Text)
			}
		}
		if !strings.Contains(mails[w.contact[w.res.org.ID]].Text, "12.50 EUR") {
			t.Errorf("price: %s", mails[w.contact[w.res.org.ID]].Text)
		}
		if _, ok := mails[gaEmail]; ok || billing.ID == "" {
			t.Error("the global admin was written to although the customer has a billing admin")
		}
		if mails["billing@northwind.example"].Lang != "fr" {
			t.Errorf("billing admin's email in %s", mails["billing@northwind.example"].Lang)
		}

		// A customer with no billing admin: its global admin.
		cust2 := w.customer("Litware", "FR")
		w.link(w.prov, w.res, cust2)
		w.mustPlace(w.prov.agent, cust2.org.ID, oLine(monthly, 1, w.res))
		ga2 := w.str(`SELECT email FROM users WHERE id = ?`, cust2.ga.ID)
		var to []string
		for _, m := range w.mail() {
			if m.Template == "order_placed" {
				to = append(to, m.To)
			}
		}
		if !slices.Equal(sorted(to...), sorted(ga2, w.contact[w.res.org.ID])) {
			t.Errorf("emails of the second order to %v", to)
		}
	})
}

func orderIDs(p service.OrderPage) []string {
	var out []string
	for _, o := range p.Items {
		out = append(out, o.ID)
	}
	return out
}

func subIDs(p service.SubscriptionPage) []string {
	var out []string
	for _, s := range p.Items {
		out = append(out, s.ID)
	}
	return out
}

func TestOrderVisibility(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		w.link(w.prov, w.res2, w.cust)
		cust2 := w.customer("Litware", "FR")
		w.link(w.prov, w.res2, cust2)
		stranger := w.cProvider("Adatum", "europe")
		outsider := w.cReseller("Proseware", "FR")
		a := w.offer("FR", "EUR", csphub.TermYear, 1, 100)
		b := w.offer("FR", "EUR", csphub.TermMonth, 1, 100)

		o1 := w.mustPlace(w.sales, w.cust.org.ID, oLine(a, 1, w.res))
		w.clock.Advance(time.Minute)
		o2 := w.mustPlace(w.sales, w.cust.org.ID, oLine(b, 2, w.res2))
		o3 := w.mustPlace(w.sales, cust2.org.ID, oLine(b, 3, w.res2)) // same instant as o2
		w.clock.Advance(time.Minute)
		o4 := w.mustPlace(w.prov.agent, w.cust.org.ID, oLine(a, 4, w.res), oLine(b, 5, w.res2))
		all := []csphub.Order{o1, o2, o3, o4}
		// Newest first, ties by id descending.
		newest := func(list ...csphub.Order) []string {
			list = slices.Clone(list)
			slices.SortFunc(list, func(x, y csphub.Order) int {
				if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
					return c
				}
				return strings.Compare(y.ID, x.ID)
			})
			var ids []string
			for _, o := range list {
				ids = append(ids, o.ID)
			}
			return ids
		}
		subOf := func(o csphub.Order, i int) string { return o.Lines[i].SubscriptionID }

		cust2ga := cust2.ga
		viewers := []struct {
			name   string
			actor  csphub.Actor
			orders []csphub.Order
			subs   []string
		}{
			{"provider", w.prov.agent, all, []string{subOf(o1, 0), subOf(o2, 0), subOf(o3, 0), subOf(o4, 0), subOf(o4, 1)}},
			{"provider helpdesk", w.user(w.prov.org, "hd@fabrikam.example", "en", csphub.RoleHelpdeskAgent), all,
				[]string{subOf(o1, 0), subOf(o2, 0), subOf(o3, 0), subOf(o4, 0), subOf(o4, 1)}},
			{"reseller", w.res.agent, []csphub.Order{o1, o4}, []string{subOf(o1, 0), subOf(o4, 0)}},
			{"reseller 2", w.res2.ga, []csphub.Order{o2, o3, o4}, []string{subOf(o2, 0), subOf(o3, 0), subOf(o4, 1)}},
			{"customer", w.cust.ga, []csphub.Order{o1, o2, o4}, []string{subOf(o1, 0), subOf(o2, 0), subOf(o4, 0), subOf(o4, 1)}},
			{"customer 2", cust2ga, []csphub.Order{o3}, []string{subOf(o3, 0)}},
			{"another provider", stranger.agent, nil, nil},
			{"another reseller", outsider.agent, nil, nil},
			{"operator", w.admin, all, []string{subOf(o1, 0), subOf(o2, 0), subOf(o3, 0), subOf(o4, 0), subOf(o4, 1)}},
		}
		allSubs := viewers[0].subs
		for _, v := range viewers {
			p, err := w.svc.ListOrders(w.ctx, v.actor, service.OrderQuery{})
			if err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
			if got, want := orderIDs(p), newest(v.orders...); !slices.Equal(got, want) {
				t.Errorf("%s lists orders %v, want %v", v.name, got, want)
			}
			sp, err := w.svc.ListSubscriptions(w.ctx, v.actor, service.SubscriptionQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(subIDs(sp)...); !slices.Equal(got, sorted(v.subs...)) {
				t.Errorf("%s lists subscriptions %v, want %v", v.name, got, sorted(v.subs...))
			}
			for _, o := range all {
				_, err := w.svc.GetOrder(w.ctx, v.actor, o.ID)
				if visible := slices.ContainsFunc(v.orders, func(x csphub.Order) bool { return x.ID == o.ID }); visible {
					if err != nil {
						t.Errorf("%s reads order %s: %v", v.name, o.ID, err)
					}
				} else {
					wantErr(t, v.name+" reads another's order", err, csphub.KindNotFound, "order_not_found")
				}
			}
			for _, id := range allSubs {
				_, err := w.svc.GetSubscription(w.ctx, v.actor, id)
				if slices.Contains(v.subs, id) {
					if err != nil {
						t.Errorf("%s reads subscription %s: %v", v.name, id, err)
					}
				} else {
					wantErr(t, v.name+" reads another's subscription", err, csphub.KindNotFound, "subscription_not_found")
				}
			}
		}
		_, err := w.svc.GetOrder(w.ctx, w.prov.agent, csphub.NewID())
		wantErr(t, "unknown order", err, csphub.KindNotFound, "order_not_found")
		_, err = w.svc.GetOrder(w.ctx, w.prov.agent, "x")
		wantErr(t, "bad order id", err, csphub.KindNotFound, "order_not_found")

		// Filters.
		for _, c := range []struct {
			actor csphub.Actor
			q     service.OrderQuery
			want  []csphub.Order
		}{
			{w.prov.agent, service.OrderQuery{CustomerID: w.cust.org.ID}, []csphub.Order{o1, o2, o4}},
			{w.prov.agent, service.OrderQuery{ResellerID: w.res2.org.ID}, []csphub.Order{o2, o3, o4}},
			{w.prov.agent, service.OrderQuery{CustomerID: w.cust.org.ID, ResellerID: w.res2.org.ID}, []csphub.Order{o2, o4}},
			{w.prov.agent, service.OrderQuery{State: "completed"}, all},
			{w.prov.agent, service.OrderQuery{State: "failed"}, nil},
			{w.res2.agent, service.OrderQuery{CustomerID: cust2.org.ID}, []csphub.Order{o3}},
			{w.res.agent, service.OrderQuery{ResellerID: w.res2.org.ID}, []csphub.Order{o4}},
			{w.cust.ga, service.OrderQuery{CustomerID: cust2.org.ID}, nil},
			{w.admin, service.OrderQuery{ResellerID: w.res.org.ID}, []csphub.Order{o1, o4}},
		} {
			p, err := w.svc.ListOrders(w.ctx, c.actor, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := orderIDs(p), newest(c.want...); !slices.Equal(got, want) {
				t.Errorf("orders %+v: %v, want %v", c.q, got, want)
			}
		}
		for _, c := range []struct {
			q    service.SubscriptionQuery
			want []string
		}{
			{service.SubscriptionQuery{OfferID: a.ID}, []string{subOf(o1, 0), subOf(o4, 0)}},
			{service.SubscriptionQuery{OfferID: b.ID, CustomerID: w.cust.org.ID}, []string{subOf(o2, 0), subOf(o4, 1)}},
			{service.SubscriptionQuery{ResellerID: w.res.org.ID}, []string{subOf(o1, 0), subOf(o4, 0)}},
			{service.SubscriptionQuery{Status: "active"}, allSubs},
			{service.SubscriptionQuery{Status: "expired"}, nil},
		} {
			p, err := w.svc.ListSubscriptions(w.ctx, w.prov.agent, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(subIDs(p)...); !slices.Equal(got, sorted(c.want...)) {
				t.Errorf("subscriptions %+v: %v, want %v", c.q, got, sorted(c.want...))
			}
		}
		_, err = w.svc.ListOrders(w.ctx, w.prov.agent, service.OrderQuery{CustomerID: "x"})
		agrWantFields(t, err, "customer_id/invalid_id")
		_, err = w.svc.ListOrders(w.ctx, w.prov.agent, service.OrderQuery{State: "shipped"})
		agrWantFields(t, err, "state/invalid_state")
		_, err = w.svc.ListSubscriptions(w.ctx, w.prov.agent, service.SubscriptionQuery{Status: "gone", OfferID: "x"})
		if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindInvalid {
			t.Errorf("bad subscription filters: %v", err)
		}
		_, err = w.svc.ListOrders(w.ctx, w.prov.agent, service.OrderQuery{PageToken: "garbage"})
		if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindInvalid {
			t.Errorf("bad page token: %v", err)
		}

		// Keyset pages, through ties.
		for _, size := range []int{1, 2, 3} {
			var got []string
			token := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pages do not end")
				}
				p, err := w.svc.ListOrders(w.ctx, w.prov.agent, service.OrderQuery{PageSize: size, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) > size {
					t.Fatalf("page of %d items for size %d", len(p.Items), size)
				}
				got = append(got, orderIDs(p)...)
				if token = p.NextPageToken; token == "" {
					break
				}
			}
			if !slices.Equal(got, newest(all...)) {
				t.Errorf("pages of %d: %v, want %v", size, got, newest(all...))
			}
			var subs []string
			token = ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pages do not end")
				}
				p, err := w.svc.ListSubscriptions(w.ctx, w.res2.agent, service.SubscriptionQuery{PageSize: size, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				subs = append(subs, subIDs(p)...)
				if token = p.NextPageToken; token == "" {
					break
				}
			}
			if !slices.Equal(sorted(subs...), sorted(subOf(o2, 0), subOf(o3, 0), subOf(o4, 1))) || len(subs) != 3 {
				t.Errorf("subscription pages of %d: %v", size, subs)
			}
		}

		// Resellers and customers read, never change.
		before := w.orderSums()
		q := 7
		_, err = w.svc.UpdateSubscription(w.ctx, w.res.agent, subOf(o1, 0), service.SubscriptionChange{Quantity: &q})
		wantErr(t, "reseller changes", err, csphub.KindForbidden, "provider_only")
		_, err = w.svc.UpdateSubscription(w.ctx, w.res.ga, subOf(o1, 0), service.SubscriptionChange{Quantity: &q})
		wantErr(t, "reseller's global admin changes", err, csphub.KindForbidden, "provider_only")
		_, err = w.svc.UpdateSubscription(w.ctx, w.cust.ga, subOf(o1, 0), service.SubscriptionChange{Quantity: &q})
		wantErr(t, "customer changes", err, csphub.KindForbidden, "provider_required")
		_, err = w.svc.UpdateSubscription(w.ctx, stranger.agent, subOf(o1, 0), service.SubscriptionChange{Quantity: &q})
		wantErr(t, "another provider changes", err, csphub.KindNotFound, "subscription_not_found")
		_, err = w.svc.UpdateSubscription(w.ctx, w.res.agent, subOf(o3, 0), service.SubscriptionChange{Quantity: &q})
		wantErr(t, "reseller changes another's", err, csphub.KindNotFound, "subscription_not_found")
		if after := w.orderSums(); after != before {
			t.Fatalf("refused changes wrote:\n%s\n%s", before, after)
		}
		if s, _ := w.svc.GetSubscription(w.ctx, w.prov.agent, subOf(o1, 0)); s.Quantity != 1 || s.Version != 1 {
			t.Fatalf("subscription changed: %+v", s)
		}
	})
}

// auditOf returns the before and after of the last audit record of a
// subscription with action.
func (w *oWorld) auditOf(id, action string) (before, after csphub.Subscription) {
	w.t.Helper()
	rows := w.strs(`SELECT COALESCE(before_json, '') || '|' || after_json FROM audit_records WHERE resource_id = ? AND action = ? ORDER BY id`, id, action)
	if len(rows) == 0 {
		w.t.Fatalf("no %s audit record of %s", action, id)
	}
	b, a, _ := strings.Cut(rows[len(rows)-1], "|")
	if err := json.Unmarshal([]byte(b), &before); err != nil {
		w.t.Fatalf("before: %v %s", err, b)
	}
	if err := json.Unmarshal([]byte(a), &after); err != nil {
		w.t.Fatalf("after: %v %s", err, a)
	}
	return before, after
}

// lastEvent is the type of the newest event about subject, sequenced.
func (w *oWorld) lastEvent(subject string) (string, []string) {
	w.t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	rows := w.strs(`SELECT id || ' ' || type FROM events WHERE subject = ? ORDER BY position`, subject)
	if len(rows) == 0 {
		w.t.Fatalf("no event about %s", subject)
	}
	id, typ, _ := strings.Cut(rows[len(rows)-1], " ")
	return typ, w.eventAudience(id)
}

func TestUpdateSubscription(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		w.link(w.prov, w.res2, w.cust)
		// An active, signed reseller of the provider with no link to the
		// customer.
		res3 := w.cReseller("Proseware", "FR")
		w.sign(res3)
		w.active(w.prov, res3)
		offer := w.offer("FR", "EUR", csphub.TermYear, 1, 10)
		o := w.mustPlace(w.sales, w.cust.org.ID, oLine(offer, 2, w.res), oLine(offer, 2, w.res))
		id, id2 := o.Lines[0].SubscriptionID, o.Lines[1].SubscriptionID
		ptr := func(s string) *string { return &s }
		qty := func(n int) *int { return &n }
		update := func(actor csphub.Actor, c service.SubscriptionChange) (csphub.Subscription, error) {
			return w.svc.UpdateSubscription(w.ctx, actor, id, c)
		}
		must := func(actor csphub.Actor, c service.SubscriptionChange) csphub.Subscription {
			t.Helper()
			s, err := update(actor, c)
			if err != nil {
				t.Fatalf("update %+v: %v", c, err)
			}
			return s
		}

		// Quantity within the offer's limits.
		s := must(w.sales, service.SubscriptionChange{Quantity: qty(10)})
		if s.Quantity != 10 || s.Version != 2 || s.Status != csphub.SubscriptionActive {
			t.Fatalf("quantity: %+v", s)
		}
		if b, a := w.auditOf(id, "subscription.update"); b.Quantity != 2 || a.Quantity != 10 || a.Version != 2 {
			t.Errorf("audit of the quantity: %+v → %+v", b, a)
		}
		if typ, aud := w.lastEvent(id); typ != "subscription.updated" || !slices.Equal(aud, sorted(w.prov.org.ID, w.cust.org.ID, w.res.org.ID)) {
			t.Errorf("event %s to %v", typ, aud)
		}
		before := w.orderSums()
		_, err := update(w.sales, service.SubscriptionChange{Quantity: qty(11)})
		agrWantFields(t, err, "quantity/quantity_out_of_range")
		_, err = update(w.sales, service.SubscriptionChange{Quantity: qty(0)})
		agrWantFields(t, err, "quantity/quantity_out_of_range")
		_, err = update(w.sales, service.SubscriptionChange{Status: ptr("expired")})
		agrWantFields(t, err, "status/invalid_status")
		_, err = update(w.user(w.prov.org, "hd@fabrikam.example", "en", csphub.RoleHelpdeskAgent), service.SubscriptionChange{Quantity: qty(3)})
		wantErr(t, "helpdesk", err, csphub.KindForbidden, service.RuleOrderRole)
		if after := w.orderSums(); after != before {
			t.Fatalf("refusals wrote:\n%s\n%s", before, after)
		}

		// Suspend and reactivate.
		if s := must(w.prov.agent, service.SubscriptionChange{Status: ptr("suspended")}); s.Status != csphub.SubscriptionSuspended {
			t.Fatalf("suspend: %+v", s)
		}
		if typ, _ := w.lastEvent(id); typ != "subscription.suspended" {
			t.Errorf("event %s", typ)
		}
		_, err = update(w.sales, service.SubscriptionChange{Quantity: qty(3)})
		wantErr(t, "quantity of a suspended subscription", err, csphub.KindConflict, "subscription_not_active")
		if s := must(w.prov.agent, service.SubscriptionChange{Status: ptr("active")}); s.Status != csphub.SubscriptionActive {
			t.Fatalf("reactivate: %+v", s)
		}
		if b, a := w.auditOf(id, "subscription.update"); b.Status != csphub.SubscriptionSuspended || a.Status != csphub.SubscriptionActive {
			t.Errorf("audit of the reactivation: %s → %s", b.Status, a.Status)
		}

		// The reseller of record moves to another active reseller of the
		// same customer, never to one without a link.
		before = w.orderSums()
		_, err = update(w.sales, service.SubscriptionChange{ResellerPartnerID: ptr(res3.partnerID)})
		wantErr(t, "reseller without a link", err, csphub.KindUnprocessable, service.RuleCustomerRelationship)
		_, err = update(w.sales, service.SubscriptionChange{ResellerPartnerID: ptr("9999999")})
		agrWantFields(t, err, "reseller_partner_id/unknown_partner_id")
		_, err = update(w.sales, service.SubscriptionChange{ResellerPartnerID: ptr("12")})
		agrWantFields(t, err, "reseller_partner_id/invalid_partner_id")
		if after := w.orderSums(); after != before {
			t.Fatalf("refusals wrote:\n%s\n%s", before, after)
		}
		s = must(w.sales, service.SubscriptionChange{ResellerPartnerID: ptr(w.res2.partnerID)})
		if s.ResellerID != w.res2.org.ID {
			t.Fatalf("reseller change: %+v", s)
		}
		if b, a := w.auditOf(id, "subscription.update"); b.ResellerID != w.res.org.ID || a.ResellerID != w.res2.org.ID {
			t.Errorf("audit of the reseller change: %s → %s", b.ResellerID, a.ResellerID)
		}
		if typ, aud := w.lastEvent(id); typ != "subscription.reseller_changed" ||
			!slices.Equal(aud, sorted(w.prov.org.ID, w.cust.org.ID, w.res.org.ID, w.res2.org.ID)) {
			t.Errorf("event %s to %v", typ, aud)
		}
		// The old reseller no longer sees it; the new one does, read-only.
		_, err = w.svc.GetSubscription(w.ctx, w.res.agent, id)
		wantErr(t, "old reseller reads", err, csphub.KindNotFound, "subscription_not_found")
		if _, err := w.svc.GetSubscription(w.ctx, w.res2.agent, id); err != nil {
			t.Fatal(err)
		}
		// A suspended subscription whose reseller's relationship is no
		// longer active is not reactivated.
		if _, err := w.svc.UpdateSubscription(w.ctx, w.sales, id2, service.SubscriptionChange{Status: ptr("suspended")}); err != nil {
			t.Fatal(err)
		}
		w.exec(`UPDATE partnerships SET state = 'suspended' WHERE provider_id = ? AND reseller_id = ?`, w.prov.org.ID, w.res.org.ID)
		_, err = w.svc.UpdateSubscription(w.ctx, w.sales, id2, service.SubscriptionChange{Status: ptr("active")})
		wantErr(t, "reactivation with the relationship suspended", err, csphub.KindUnprocessable, service.RulePartnershipActive)
		w.exec(`UPDATE partnerships SET state = 'active' WHERE provider_id = ? AND reseller_id = ?`, w.prov.org.ID, w.res.org.ID)
		if _, err := w.svc.UpdateSubscription(w.ctx, w.sales, id2, service.SubscriptionChange{Status: ptr("active")}); err != nil {
			t.Fatal(err)
		}

		// Cancel within 7 days: cancelled, and then it no longer changes.
		w.clock.Advance(6 * 24 * time.Hour)
		if s := must(w.prov.agent, service.SubscriptionChange{Status: ptr("cancelled")}); s.Status != csphub.SubscriptionCancelled {
			t.Fatalf("cancel within 7 days: %+v", s)
		}
		if typ, _ := w.lastEvent(id); typ != "subscription.cancelled" {
			t.Errorf("event %s", typ)
		}
		_, err = update(w.prov.agent, service.SubscriptionChange{Status: ptr("active")})
		wantErr(t, "change a cancelled subscription", err, csphub.KindConflict, "subscription_ended")
		_, err = update(w.prov.agent, service.SubscriptionChange{AutoRenew: ptr2(true)})
		wantErr(t, "change a cancelled subscription", err, csphub.KindConflict, "subscription_ended")

		// After 7 days, cancelling turns off auto-renewal instead.
		w.clock.Advance(2 * 24 * time.Hour)
		s, err = w.svc.UpdateSubscription(w.ctx, w.prov.agent, id2, service.SubscriptionChange{Status: ptr("cancelled")})
		if err != nil || s.Status != csphub.SubscriptionActive || s.AutoRenew {
			t.Fatalf("cancel after 7 days: %+v %v", s, err)
		}
		if typ, _ := w.lastEvent(id2); typ != "subscription.auto_renew_off" {
			t.Errorf("event %s", typ)
		}
		if b, a := w.auditOf(id2, "subscription.update"); !b.AutoRenew || a.AutoRenew || a.Status != csphub.SubscriptionActive {
			t.Errorf("audit of the late cancel: %+v → %+v", b, a)
		}
		// Auto-renewal back on, explicitly.
		s, err = w.svc.UpdateSubscription(w.ctx, w.prov.agent, id2, service.SubscriptionChange{AutoRenew: ptr2(true)})
		if err != nil || !s.AutoRenew {
			t.Fatalf("auto-renew on: %+v %v", s, err)
		}
		// The version counts every change: suspend, reactivate, cancel, auto-renew.
		if s.Version != 5 {
			t.Errorf("version %d after four changes", s.Version)
		}
	})
}

func ptr2[T any](v T) *T { return &v }

func TestRenewSubscriptions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		monthly := w.offer("FR", "EUR", csphub.TermMonth, 1, 10)
		yearly := w.offer("FR", "EUR", csphub.TermYear, 1, 10)
		start := w.clock.Now()
		o := w.mustPlace(w.sales, w.cust.org.ID, oLine(monthly, 1, w.res), oLine(monthly, 1, w.res), oLine(yearly, 1, w.res),
			oLine(monthly, 1, w.res))
		renew, noRenew, year, suspended := o.Lines[0].SubscriptionID, o.Lines[1].SubscriptionID, o.Lines[2].SubscriptionID, o.Lines[3].SubscriptionID
		if _, err := w.svc.UpdateSubscription(w.ctx, w.sales, noRenew, service.SubscriptionChange{AutoRenew: ptr2(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdateSubscription(w.ctx, w.sales, suspended, service.SubscriptionChange{Status: ptr2("suspended")}); err != nil {
			t.Fatal(err)
		}
		get := func(id string) csphub.Subscription {
			t.Helper()
			s, err := w.svc.GetSubscription(w.ctx, w.prov.agent, id)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		run := func(want int) {
			t.Helper()
			n, err := w.svc.RenewSubscriptions(w.ctx)
			if err != nil || n != want {
				t.Fatalf("renewal job: %d %v, want %d", n, err, want)
			}
		}

		// Nothing is due before the term ends.
		w.clock.Set(start.AddDate(0, 1, 0).Add(-time.Second))
		run(0)
		// At term end: the auto-renewing one renews, the others expire.
		w.clock.Set(start.AddDate(0, 1, 0).Add(time.Hour))
		now := w.clock.Now()
		run(3)
		s := get(renew)
		if s.Status != csphub.SubscriptionActive || !s.TermStart.Equal(start.AddDate(0, 1, 0)) || !s.TermEnd.Equal(start.AddDate(0, 2, 0)) ||
			s.RenewedAt == nil || !s.RenewedAt.Equal(now) {
			t.Fatalf("renewed: %+v", s)
		}
		for _, id := range []string{noRenew, suspended} {
			if s := get(id); s.Status != csphub.SubscriptionExpired || !s.TermEnd.Equal(start.AddDate(0, 1, 0)) {
				t.Fatalf("expired: %+v", s)
			}
		}
		if s := get(year); s.Status != csphub.SubscriptionActive || s.Version != 1 {
			t.Fatalf("untouched: %+v", s)
		}
		for id, want := range map[string]string{renew: "subscription.renewed", noRenew: "subscription.expired", suspended: "subscription.expired"} {
			if typ, aud := w.lastEvent(id); typ != want || !slices.Equal(aud, sorted(w.prov.org.ID, w.cust.org.ID, w.res.org.ID)) {
				t.Errorf("event of %s: %s to %v", id, typ, aud)
			}
			if b, a := w.auditOf(id, want); b.Version+1 != a.Version {
				t.Errorf("audit of %s: %+v → %+v", id, b, a)
			}
		}
		run(0) // done: a second run changes nothing

		// Cancellation counts from the renewal.
		w.clock.Advance(6 * 24 * time.Hour)
		if s, err := w.svc.UpdateSubscription(w.ctx, w.sales, renew, service.SubscriptionChange{Status: ptr2("cancelled")}); err != nil ||
			s.Status != csphub.SubscriptionCancelled {
			t.Fatalf("cancel after renewal: %+v %v", s, err)
		}

		// A late run catches up on every term that ended.
		o2 := w.mustPlace(w.sales, w.cust.org.ID, oLine(monthly, 1, w.res))
		late := o2.Lines[0].SubscriptionID
		start2 := w.clock.Now()
		w.clock.Set(start2.AddDate(0, 3, 0).Add(48 * time.Hour))
		run(1)
		s = get(late)
		if s.Status != csphub.SubscriptionActive || !s.TermStart.Equal(start2.AddDate(0, 3, 0)) || !s.TermEnd.Equal(start2.AddDate(0, 4, 0)) ||
			!s.TermEnd.After(w.clock.Now()) {
			t.Fatalf("caught up: %+v", s)
		}
		run(0)
		// The yearly one, a year on.
		w.clock.Set(start.AddDate(1, 0, 0))
		run(2)
		if s := get(year); !s.TermEnd.Equal(start.AddDate(2, 0, 0)) || s.Status != csphub.SubscriptionActive {
			t.Fatalf("yearly: %+v", s)
		}
	})
}

func TestRemoveCustomerRelationshipWithSubscriptions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOWorld(t, engine)
		offer := w.offer("FR", "EUR", csphub.TermYear, 1, 10)
		o := w.mustPlace(w.sales, w.cust.org.ID, oLine(offer, 1, w.res))
		sub := o.Lines[0].SubscriptionID
		for _, partner := range []string{w.res.org.ID, w.prov.org.ID} {
			_, err := w.svc.RemoveCustomerRelationship(w.ctx, w.cust.ga, w.cust.org.ID, w.rels[partner])
			wantErr(t, "removal with an active subscription", err, csphub.KindConflict, "active_subscriptions")
		}
		if _, err := w.svc.UpdateSubscription(w.ctx, w.sales, sub, service.SubscriptionChange{Status: ptr2("suspended")}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.RemoveCustomerRelationship(w.ctx, w.cust.ga, w.cust.org.ID, w.rels[w.res.org.ID]); err != nil {
			t.Fatalf("removal once suspended: %v", err)
		}
		// The chain is gone: no new order, no reactivation.
		_, err := w.place(w.sales, w.cust.org.ID, oLine(offer, 1, w.res))
		wantErr(t, "order after removal", err, csphub.KindUnprocessable, service.RuleCustomerRelationship)
		_, err = w.svc.UpdateSubscription(w.ctx, w.sales, sub, service.SubscriptionChange{Status: ptr2("active")})
		wantErr(t, "reactivation after removal", err, csphub.KindUnprocessable, service.RuleCustomerRelationship)
	})
}

// raceResult is what one round of the revocation race saw.
type raceResult struct {
	mu       sync.Mutex
	orders   []string
	refusals map[string]int
	other    []error
}

func (r *raceResult) add(o csphub.Order, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := csphub.AsError(err); {
	case err == nil:
		r.orders = append(r.orders, o.ID)
	case e != nil:
		r.refusals[e.Code]++
	default:
		r.other = append(r.other, err)
	}
}

// TestOrderRevocationRace (quality.md C5): while the provider fires
// orders, the reseller terminates the relationship (or the customer
// removes the reseller's relationship). No order commits after the
// revocation commits: every order visible once the revocation returned was
// there already, and in the audit chain (numbered in commit order by the
// sequencer running throughout) every order precedes the revocation.
func TestOrderRevocationRace(t *testing.T) {
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	for _, variant := range []string{"terminate", "remove"} {
		t.Run(variant, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, engine string) {
				w := newOWorld(t, engine)
				offer := w.offer("FR", "EUR", csphub.TermMonth, 1, 1000)
				pship := w.str(`SELECT id FROM partnerships WHERE provider_id = ? AND reseller_id = ? AND state = 'active'`, w.prov.org.ID, w.res.org.ID)

				// The sequencer runs throughout, as in csphub serve.
				stop := make(chan struct{})
				var seqWG sync.WaitGroup
				seqWG.Add(1)
				var seqErr error
				go func() {
					defer seqWG.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if err := w.svc.SequenceJournal(w.ctx); err != nil {
							seqErr = err
							return
						}
						time.Sleep(100 * time.Microsecond)
					}
				}()
				stopSequencer := sync.OnceFunc(func() { close(stop); seqWG.Wait() })
				defer stopSequencer()

				committed, refusedRemovals, refusedAfter := 0, 0, 0
				for round := 0; round < rounds; round++ {
					cust := w.cust
					revocation, resource := "partnership.terminate", pship
					if variant == "terminate" {
						// A fresh active relationship (the customer's link stays).
						w.exec(`UPDATE partnerships SET state = 'active', ended_at = NULL, ended_by_org = NULL, ended_reason = '' WHERE id = ?`, pship)
					} else {
						cust = w.customer(fmt.Sprintf("Customer %d", round), "FR")
						resource = relationshipsOf(w.link(w.prov, w.res, cust))[w.res.org.ID]
						revocation = "customer_relationship.remove"
					}
					base := w.count(`SELECT COUNT(*) FROM orders WHERE customer_id = ?`, cust.org.ID)
					res := &raceResult{refusals: map[string]int{}}
					var wg sync.WaitGroup
					firstOrder := make(chan struct{})
					var once sync.Once
					var revoked atomic.Bool
					const clients, maxPerClient = 3, 100
					for c := 0; c < clients; c++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							// Until refused, or until the revocation returned.
							for i := 0; i < maxPerClient && !revoked.Load(); i++ {
								o, err := w.place(w.sales, cust.org.ID, oLine(offer, 1, w.res))
								res.add(o, err)
								if err != nil {
									return
								}
								once.Do(func() { close(firstOrder) })
							}
						}()
					}
					// Revoke at a random moment: right away, or once orders
					// have started committing.
					if rand.IntN(3) > 0 {
						select {
						case <-firstOrder:
						case <-time.After(50 * time.Millisecond):
						}
					}
					var revokeErr error
					if variant == "terminate" {
						_, revokeErr = w.svc.TerminatePartnership(w.ctx, w.res.agent, pship, service.PartnershipChange{Reason: "race"})
					} else {
						_, revokeErr = w.svc.RemoveCustomerRelationship(w.ctx, cust.ga, cust.org.ID, resource)
					}
					visibleAtRevoke := w.count(`SELECT COUNT(*) FROM orders WHERE customer_id = ?`, cust.org.ID) - base
					revoked.Store(true)
					wg.Wait()
					w.mail()

					if len(res.other) > 0 {
						t.Fatalf("round %d: %v", round, res.other)
					}
					final := w.count(`SELECT COUNT(*) FROM orders WHERE customer_id = ?`, cust.org.ID) - base
					if final != len(res.orders) {
						t.Fatalf("round %d: %d orders stored, %d acknowledged", round, final, len(res.orders))
					}
					switch {
					case revokeErr == nil:
						if final != visibleAtRevoke {
							t.Fatalf("round %d: %d orders committed after the revocation returned", round, final-visibleAtRevoke)
						}
						wantRefusal := service.RulePartnershipActive
						if variant == "remove" {
							wantRefusal = service.RuleCustomerRelationship
							// Removal needs the partner's active subscriptions
							// suspended first: none may have committed before it.
							if n := w.count(`SELECT COUNT(*) FROM subscriptions WHERE customer_id = ? AND status = 'active'`, cust.org.ID); n != 0 {
								t.Fatalf("round %d: the relationship was removed while %d active subscriptions existed", round, n)
							}
						}
						for code, n := range res.refusals {
							if code != wantRefusal {
								t.Fatalf("round %d: %d refusals %s", round, n, code)
							}
						}
						// Once revoked, the next order is refused.
						_, err := w.place(w.sales, cust.org.ID, oLine(offer, 1, w.res))
						wantErr(t, fmt.Sprintf("round %d: order after the revocation", round), err, csphub.KindUnprocessable, wantRefusal)
						refusedAfter += res.refusals[wantRefusal]
					case variant == "remove" && csphub.AsError(revokeErr) != nil && csphub.AsError(revokeErr).Code == "active_subscriptions":
						// Orders committed first: the removal is refused, as it
						// must be while active subscriptions exist.
						refusedRemovals++
						committed += len(res.orders)
						if len(res.orders) == 0 || len(res.refusals) != 0 {
							t.Fatalf("round %d: removal refused with %d orders, refusals %v", round, len(res.orders), res.refusals)
						}
						continue
					default:
						t.Fatalf("round %d: revocation: %v", round, revokeErr)
					}
					committed += len(res.orders)

					// The audit chain: every order's record precedes the
					// revocation's.
					var revPos int
					for tries := 0; ; tries++ {
						if err := w.svc.SequenceJournal(w.ctx); err != nil {
							t.Fatal(err)
						}
						revPos = w.count(`SELECT COALESCE(MAX(position), 0) FROM audit_records WHERE action = ? AND resource_id = ?`, revocation, resource)
						unchained := w.count(`SELECT COUNT(*) FROM audit_records WHERE position IS NULL`)
						if revPos > 0 && unchained == 0 {
							break
						}
						if tries > 1000 {
							t.Fatal("audit records never chained")
						}
						time.Sleep(time.Millisecond)
					}
					if len(res.orders) > 0 {
						args := []any{revPos}
						for _, id := range res.orders {
							args = append(args, id)
						}
						late := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'order.create' AND position > ? AND resource_id IN (?`+
							strings.Repeat(`, ?`, len(res.orders)-1)+`)`, args...)
						if late != 0 {
							t.Fatalf("round %d: %d orders chained after the revocation", round, late)
						}
					}
				}
				stopSequencer()
				if seqErr != nil {
					t.Fatal(seqErr)
				}
				t.Logf("%s/%s: %d rounds, %d orders committed before revocations (or before refused removals), %d refused by them, %d removals refused for active subscriptions",
					variant, engine, rounds, committed, refusedAfter, refusedRemovals)
			})
		})
	}
}
