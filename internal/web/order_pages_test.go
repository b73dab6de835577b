package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/catalogfile"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// orderWorld is the customer world ready to order: the reseller has
// accepted the agreement, the sample catalogue is in, Northwind (France)
// is a customer of Contoso for Fabrikam, and Fabrikam has a sales agent.
type orderWorld struct {
	*partnershipWorld
	customerID string
	customer   *http.Cookie
	sales      *http.Cookie
	offers     map[string]csphub.Offer // by code
}

func newOrderWorld(t *testing.T, engine string) *orderWorld {
	t.Helper()
	ctx := context.Background()
	w := &orderWorld{partnershipWorld: newCustomerWorld(t, engine)}
	agreements, err := w.svc.ListAgreements(ctx, w.op)
	if err != nil || len(agreements) == 0 {
		t.Fatalf("agreements: %v %d", err, len(agreements))
	}
	if _, err := w.svc.AcceptAgreement(ctx, w.reseller.actor, agreements[0].ID, service.AcceptAgreementInput{SignerName: "Jeanne Martin",
		SignerEmail: resellerEmail, SignerPhone: "+33 1 23 45 67 89"}); err != nil {
		t.Fatalf("the reseller accepts the agreement: %v", err)
	}
	rows, err := catalogfile.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := w.svc.ImportCatalog(ctx, w.op, rows); err != nil || len(rep.RowErrors()) > 0 {
		t.Fatalf("import the sample catalogue: %v %v", err, rep.RowErrors())
	}
	w.offers = map[string]csphub.Offer{}
	page, err := w.svc.ListOffers(ctx, w.reseller.actor, "FR", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range page.Items {
		w.offers[o.Code] = o
	}
	link := w.inviteCustomer(t, "it@northwind.example", nil)
	w.customer = w.acceptAsNewCustomer(t, link, newCustomerForm("Northwind", "northwind.example", "it@northwind.example"))
	customers, err := w.svc.ListCustomers(ctx, w.provider.actor, service.CustomerQuery{})
	if err != nil || len(customers.Items) != 1 {
		t.Fatalf("customers: %v %d", err, len(customers.Items))
	}
	w.customerID = customers.Items[0].ID
	w.sales = w.member(t, w.provider.actor, "paul@fabrikam.example", csphub.RoleSalesAgent)
	w.outbox(t)
	return w
}

func (w *orderWorld) asSales(lang string) []string {
	return append(w.withSession(w.sales), "Accept-Language", lang)
}

func (w *orderWorld) asCustomer(lang string) []string {
	return append(w.withSession(w.customer), "Accept-Language", lang)
}

func (w *orderWorld) orderCount(t *testing.T) int {
	t.Helper()
	page, err := w.svc.ListOrders(context.Background(), w.provider.actor, service.OrderQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

var formKeyShape = regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]{32})"`)

func formKey(t *testing.T, body string) string {
	t.Helper()
	m := formKeyShape.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no idempotency key in %.500s", body)
	}
	return m[1]
}

func TestOrderCartReviewAndPlace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOrderWorld(t, engine)
		b := catalog(t)
		std, sec := w.offers["CP-STANDARD-FR-P1M"], w.offers["CS-STANDARD-FR-P1Y"]
		customerPage := partnerCustomersPath + "/" + w.customerID
		cart := customerPage + "/orders/new"

		// The customer's page leads the sales agent to the cart; the
		// provider's global admin, without an ordering role, gets no button
		// and the cart says why.
		res := w.get(t, customerPage, w.asSales("en")...)
		mustContain(t, res.body, `<a class="button primary" href="`+cart+`">`+msg(b, "en", "order.action.new"),
			`href="/subscriptions?customer_id=`+w.customerID+`"`, `href="/orders?customer_id=`+w.customerID+`"`)
		res = w.get(t, customerPage, w.as(w.provider, "en")...)
		mustNotContain(t, res.body, `href="`+cart+`"`)
		res = w.get(t, cart, w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "order.cart.no_role"))
		// The reseller is not the customer's provider.
		res = w.get(t, cart, w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "order.cart.not_provider"))

		// The cart lists the offers of the customer's market, in French,
		// with the one reseller of record chosen.
		res = w.get(t, cart, w.asSales("fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("cart: %d %.300s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, msg(b, "fr", "order.cart.title", "customer", "Northwind"),
			`<option value="`+w.reseller.partnerID+`" selected>Contoso SAS (`+w.reseller.partnerID+`)</option>`,
			`<label class="visually-hidden" for="qty-`+std.ID+`">`, "CP-STANDARD-FR-P1M", "CS-STANDARD-FR-P1Y",
			b.For("fr").FormatMoney(1170, "EUR"))
		mustNotContain(t, res.body, "CP-STANDARD-DE-P1M", "CP-STANDARD-US-P1M")
		key := formKey(t, res.body)

		// Bad quantities are shown next to their line, and nothing is placed.
		bad := url.Values{"idempotency_key": {key}, "reseller_partner_id": {w.reseller.partnerID},
			"qty-" + std.ID: {"dix"}, "qty-" + sec.ID: {"999999"}}
		res = w.postForm(t, customerPage+"/orders/review", bad, w.asSales("en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad quantities: %d", res.StatusCode)
		}
		mustContain(t, res.body, `<p class="field-error" id="qty-`+std.ID+`-error">`+msg(b, "en", "order.error.quantity_invalid")+`</p>`,
			`<p class="field-error" id="qty-`+sec.ID+`-error">`+msg(b, "en", "order.error.quantity_range", "min", 1, "max", 5000)+`</p>`,
			`value="dix"`)
		res = w.postForm(t, customerPage+"/orders/review", url.Values{"idempotency_key": {key}, "reseller_partner_id": {w.reseller.partnerID}},
			w.asSales("en")...)
		mustContain(t, res.body, msg(b, "en", "order.error.empty_cart"))

		// The review prices the lines and totals them.
		good := url.Values{"idempotency_key": {key}, "reseller_partner_id": {w.reseller.partnerID},
			"qty-" + std.ID: {"10"}, "qty-" + sec.ID: {"2"}}
		res = w.postForm(t, customerPage+"/orders/review", good, w.asSales("en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("review: %d %.500s", res.StatusCode, res.body)
		}
		en := b.For("en")
		mustContain(t, res.body, msg(b, "en", "order.review.title", "customer", "Northwind"),
			"<td>"+en.FormatMoney(11700, "EUR")+"</td>", "<td>"+en.FormatMoney(11280, "EUR")+"</td>",
			"<td>"+en.FormatMoney(22980, "EUR")+"</td>", `name="idempotency_key" value="`+key+`"`,
			`formaction="`+cart+`"`, `action="`+customerPage+`/orders"`)
		if w.orderCount(t) != 0 {
			t.Fatal("the review placed an order")
		}

		// "Change the order" goes back to the cart as it was.
		back := url.Values{"reseller_partner_id": {w.reseller.partnerID}, "qty-" + std.ID: {"10"}}
		res = w.get(t, cart+"?"+back.Encode(), w.asSales("en")...)
		mustContain(t, res.body, `name="qty-`+std.ID+`" value="10"`)

		// A rule that fails is named, and nothing is written: Fabrikam
		// suspends its relationship with Contoso.
		ctx := context.Background()
		rels, err := w.svc.ListIndirectResellers(ctx, w.provider.actor, service.PartnershipQuery{})
		if err != nil || len(rels.Items) != 1 {
			t.Fatalf("relationships: %v", err)
		}
		if _, err := w.svc.SuspendPartnership(ctx, w.provider.actor, rels.Items[0].ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		refusedKey := newFormKey()
		refused := url.Values{"idempotency_key": {refusedKey}, "reseller_partner_id": {w.reseller.partnerID}, "qty-" + std.ID: {"10"}}
		res = w.postForm(t, customerPage+"/orders", refused, w.asSales("fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("refused order: %d %.300s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, msg(b, "fr", "order.error.partnership_not_active"))
		if k := formKey(t, res.body); k == refusedKey {
			t.Error("a refused order keeps its key: sending it again once fixed would replay the refusal")
		}
		if w.orderCount(t) != 0 {
			t.Fatal("a refused order was written")
		}
		if _, err := w.svc.ReactivatePartnership(ctx, w.provider.actor, rels.Items[0].ID); err != nil {
			t.Fatal(err)
		}

		// The order is placed once, however often the form is sent.
		res = w.postForm(t, customerPage+"/orders", good, w.asSales("en")...)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), ordersPath+"/") {
			t.Fatalf("place: %d %q %.300s", res.StatusCode, res.Header.Get("Location"), res.body)
		}
		placed := res.Header.Get("Location")
		wantRedirect(t, w.postForm(t, customerPage+"/orders", good, w.asSales("en")...), placed)
		if n := w.orderCount(t); n != 1 {
			t.Fatalf("%d orders, want 1", n)
		}
		// The same key with another cart is refused, not placed.
		other := url.Values{"idempotency_key": {key}, "reseller_partner_id": {w.reseller.partnerID}, "qty-" + std.ID: {"3"}}
		res = w.postForm(t, customerPage+"/orders", other, w.asSales("en")...)
		mustContain(t, res.body, msg(b, "en", "order.error.form_reused"))
		if n := w.orderCount(t); n != 1 {
			t.Fatalf("%d orders after a reused key, want 1", n)
		}

		res = w.get(t, placed, w.asSales("en")...)
		mustContain(t, res.body, msg(b, "en", "order.detail.notice.placed"), "<dd>Northwind</dd>", "<dd>Fabrikam SARL</dd>",
			"<dd>"+en.FormatMoney(22980, "EUR")+"</dd>", "Contoso SAS ("+w.reseller.partnerID+")",
			"<th scope=\"row\">Cloud Productivity Standard</th>", msg(b, "en", "order.detail.view_subscription"))
		mustNotContain(t, res.body, msg(b, "en", "order.detail.read_only"))
		w.noErrorsLogged(t)
	})
}

func TestOrdersAndSubscriptionsAsEachPartySeesThem(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOrderWorld(t, engine)
		b := catalog(t)
		ctx := context.Background()
		std := w.offers["CP-STANDARD-FR-P1M"]
		sales := w.actorOf(t, w.sales)
		order, err := w.svc.PlaceOrder(ctx, sales, w.customerID, service.PlaceOrderInput{Lines: []service.OrderLineInput{
			{OfferID: std.ID, Quantity: 10, ResellerPartnerID: w.reseller.partnerID}}})
		if err != nil {
			t.Fatal(err)
		}
		subID := order.Lines[0].SubscriptionID
		subPage := subscriptionsPath + "/" + subID

		// The reseller reads the order and its subscription, read-only.
		res := w.get(t, ordersPath, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, msg(b, "fr", "order.list.intro_partner"), `<a href="`+ordersPath+"/"+order.ID+`">`, "<td>Northwind</td>")
		res = w.get(t, ordersPath+"/"+order.ID, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, msg(b, "fr", "order.detail.read_only"))
		res = w.get(t, subscriptionsPath, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, `<a href="`+subPage+`">Cloud Productivity Standard</a>`, "<td>"+msg(b, "fr", "subscription.status.active")+"</td>")
		res = w.get(t, subPage, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, msg(b, "fr", "subscription.read_only"))
		mustNotContain(t, res.body, `name="action"`)
		// So does the customer, in its own nav.
		res = w.get(t, subscriptionsPath, w.asCustomer("en")...)
		mustContain(t, res.body, msg(b, "en", "subscription.list.intro_customer"), `<a href="`+subPage+`">Cloud Productivity Standard</a>`,
			`<a href="/subscriptions" aria-current="page">`+msg(b, "en", "order.nav.subscriptions"))
		res = w.get(t, subPage, w.asCustomer("en")...)
		mustContain(t, res.body, msg(b, "en", "subscription.read_only"), "Contoso SAS ("+w.reseller.partnerID+")")
		mustNotContain(t, res.body, `name="action"`)
		// A stranger's organization does not see it.
		stranger := w.signupWith(t, url.Values{"organization_name": {"Litware"}, "country": {"FR"}, "domain": {"litware.example"},
			"name": {"Léa"}, "email": {"lea@litware.example"}, "password": {goodPassword}, "kind": {"customer"}})
		if res := w.get(t, subPage, w.withSession(stranger)...); res.StatusCode != http.StatusNotFound {
			t.Errorf("a stranger reads the subscription: %d", res.StatusCode)
		}

		// The filters narrow the lists; a bad one is refused.
		res = w.get(t, subscriptionsPath+"?status=suspended", w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "subscription.list.none_matching"))
		if res := w.get(t, subscriptionsPath+"?status=nope", w.as(w.reseller, "en")...); res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad status filter: %d", res.StatusCode)
		}
		if res := w.get(t, ordersPath+"?state=nope", w.as(w.reseller, "en")...); res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad state filter: %d", res.StatusCode)
		}

		// The provider's sales agent changes it.
		res = w.get(t, subPage, w.asSales("en")...)
		mustContain(t, res.body, `name="action" value="quantity"`, `name="action" value="suspend"`, `name="action" value="cancel"`,
			`<option value="`+w.reseller.partnerID+`" selected>`)
		res = w.postForm(t, subPage, url.Values{"action": {"quantity"}, "quantity": {"100000"}}, w.asSales("en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("quantity out of range: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "quantity", msg(b, "en", "order.error.quantity_out_of_range"))
		mustContain(t, res.body, `value="100000"`)
		wantRedirect(t, w.postForm(t, subPage, url.Values{"action": {"quantity"}, "quantity": {"25"}}, w.asSales("en")...), subPage+"?done=quantity")
		res = w.get(t, subPage+"?done=quantity", w.asSales("en")...)
		mustContain(t, res.body, msg(b, "en", "subscription.notice.quantity"), "<dd>25</dd>")
		wantRedirect(t, w.postForm(t, subPage, url.Values{"action": {"suspend"}}, w.asSales("en")...), subPage+"?done=suspend")
		res = w.postForm(t, subPage, url.Values{"action": {"quantity"}, "quantity": {"30"}}, w.asSales("en")...)
		mustContain(t, res.body, msg(b, "en", "order.error.subscription_not_active"))
		wantRedirect(t, w.postForm(t, subPage, url.Values{"action": {"reactivate"}}, w.asSales("en")...), subPage+"?done=reactivate")
		wantRedirect(t, w.postForm(t, subPage, url.Values{"action": {"auto_renew_off"}}, w.asSales("en")...), subPage+"?done=auto_renew_off")
		// The reseller cannot change it, even by sending the form.
		res = w.postForm(t, subPage, url.Values{"action": {"suspend"}}, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("the reseller suspends: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "order.error.provider_only"))
		if res := w.postForm(t, subPage, url.Values{"action": {"explode"}}, w.asSales("en")...); res.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown action: %d", res.StatusCode)
		}
		// Within the window, cancelling cancels.
		wantRedirect(t, w.postForm(t, subPage, url.Values{"action": {"cancel"}}, w.asSales("en")...), subPage+"?done=cancel")
		sub, err := w.svc.GetSubscription(ctx, sales, subID)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != csphub.SubscriptionCancelled || sub.Quantity != 25 || sub.AutoRenew {
			t.Errorf("subscription after the changes: %+v", sub)
		}
		res = w.get(t, subPage, w.asSales("en")...)
		mustNotContain(t, res.body, `name="action"`)
		w.noErrorsLogged(t)
	})
}

func TestPartnerOverviewDrawsTheChannel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOrderWorld(t, engine)
		b := catalog(t)
		resellerLink := partnerCustomersPath + "?reseller_id=" + url.QueryEscape(w.reseller.orgID)
		customerLink := partnerCustomersPath + "/" + w.customerID

		// The provider: itself, its reseller, and the customer it has
		// through that reseller, drawn and listed.
		res := w.get(t, "/partner", w.as(w.provider, "en")...)
		mustContain(t, res.body, `<svg class="channel" role="img" aria-labelledby="channel-svg-title channel-svg-desc"`,
			`<a href="`+html.EscapeString(resellerLink)+`">`, `<text class="channel-name" x="272" y="62">Contoso SAS</text>`,
			`<a href="`+customerLink+`">`, `>Northwind</text>`, msg(b, "en", "channel.heading.resellers"),
			`<li><a href="`+html.EscapeString(resellerLink)+`">Contoso SAS</a> – `+msg(b, "en", "partnership.state.active")+`</li>`,
			`<li><a href="`+customerLink+`">Northwind</a> – France</li>`)
		mustNotContain(t, res.body, `<text class="channel-heading" x="0" y="16">`+msg(b, "en", "channel.heading.providers"), "channel-edge-inactive")
		// The customer hangs from the reseller it buys through: one edge
		// from the provider to Contoso, one from Contoso to Northwind.
		if n := strings.Count(res.body, `<line class="channel-edge"`); n != 2 {
			t.Errorf("%d edges, want 2", n)
		}

		// The reseller, in French: its provider on the left, dashed once
		// the relationship is suspended.
		ctx := context.Background()
		rels, err := w.svc.ListIndirectResellers(ctx, w.provider.actor, service.PartnershipQuery{})
		if err != nil || len(rels.Items) != 1 {
			t.Fatalf("relationships: %v", err)
		}
		if _, err := w.svc.SuspendPartnership(ctx, w.provider.actor, rels.Items[0].ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		res = w.get(t, "/partner", w.as(w.reseller, "fr")...)
		mustContain(t, res.body, msg(b, "fr", "channel.title"), `<text class="channel-heading" x="0" y="16">`+msg(b, "fr", "channel.heading.providers"),
			`>Fabrikam SARL</text>`, `class="channel-node channel-node-inactive"`, `class="channel-edge channel-edge-inactive"`,
			msg(b, "fr", "partnership.state.suspended"), `>Northwind</text>`)
		w.noErrorsLogged(t)
	})
}
