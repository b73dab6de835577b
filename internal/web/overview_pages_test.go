package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

// figure is how the overviews show one number: what it counts, linked
// when a page lists those things, then the count.
func figure(label, link string, n int) string {
	if link == "" {
		return "<dt>" + label + "</dt>\n<dd>" + strconv.Itoa(n) + "</dd>"
	}
	return `<dt><a href="` + link + `">` + label + "</a></dt>\n<dd>" + strconv.Itoa(n) + "</dd>"
}

// newOverviewWorld is the order world with one order placed (two lines,
// so two subscriptions), one reseller invitation and one customer
// invitation waiting for an answer.
func newOverviewWorld(t *testing.T, engine string) *orderWorld {
	t.Helper()
	w := newOrderWorld(t, engine)
	sales := w.actorOf(t, w.sales)
	if _, err := w.svc.PlaceOrder(context.Background(), sales, w.customerID, service.PlaceOrderInput{Lines: []service.OrderLineInput{
		{OfferID: w.offers["CP-STANDARD-FR-P1M"].ID, Quantity: 10, ResellerPartnerID: w.reseller.partnerID},
		{OfferID: w.offers["CS-STANDARD-FR-P1Y"].ID, Quantity: 2, ResellerPartnerID: w.reseller.partnerID},
	}}); err != nil {
		t.Fatalf("place an order: %v", err)
	}
	w.inviteCustomer(t, "it@adventure.example", nil)
	w.invite(t, "admin@tailspin.example", "")
	return w
}

func TestPartnerOverviewShowsFiguresAndActivity(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOverviewWorld(t, engine)
		b := catalog(t)

		// The provider (whose global admin invited a reseller last): the
		// provider's figures, each linked to its list, and none of a
		// reseller's, since it has no provider of its own.
		res := w.get(t, "/partner", w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("provider overview: %d", res.StatusCode)
		}
		mustContain(t, res.body, `<h2 id="figures-heading">`+msg(b, "en", "overview.figures.heading")+`</h2>`,
			figure(msg(b, "en", "overview.figures.active_resellers"), "/partner/indirect-resellers?state=active", 1),
			figure(msg(b, "en", "overview.figures.open_partner_invitations"), "/partner/indirect-resellers?state=invited", 1),
			figure(msg(b, "en", "overview.figures.customers"), "/partner/customers", 1),
			figure(msg(b, "en", "overview.figures.active_subscriptions"), "/subscriptions?status=active", 2),
			figure(msg(b, "en", "overview.figures.recent_orders"), "/orders", 1))
		mustNotContain(t, res.body, msg(b, "en", "overview.figures.active_providers"), msg(b, "en", "overview.figures.pending_customer_invitations"))
		// Its recent activity, newest first: the invitation, by its global
		// admin, at the clock's time.
		mustContain(t, res.body, `<h2 id="activity-heading">`+msg(b, "en", "overview.activity.heading")+`</h2>`,
			`<caption id="activity-caption">`+msg(b, "en", "overview.activity.caption")+`</caption>`,
			`<th scope="col">`+msg(b, "en", "overview.activity.field.when")+`</th>`)
		body := res.body[strings.Index(res.body, `<caption id="activity-caption">`):]
		rows := body[strings.Index(body, "<tbody>"):strings.Index(body, "</tbody>")]
		first := rows[:strings.Index(rows, "</tr>")]
		mustContain(t, first, `<time datetime="`+w.clock.Now().UTC().Format(time.RFC3339)+`">`,
			"<td>"+msg(b, "en", "overview.activity.action.partnership.invite")+"</td>",
			"<td>"+msg(b, "en", "overview.activity.actor.user", "name", "Marc Dubois", "email", providerEmail)+"</td>")
		if n := strings.Count(rows, "<tr>"); n != 8 {
			t.Errorf("%d activity rows, want 8", n)
		}

		// The reseller, in French: its provider, customers, the invitation
		// it sent, the subscriptions naming it; none of a provider's.
		res = w.get(t, "/partner", w.as(w.reseller, "fr")...)
		mustContain(t, res.body,
			figure(msg(b, "fr", "overview.figures.active_providers"), "/partner/indirect-providers?state=active", 1),
			figure(msg(b, "fr", "overview.figures.pending_customer_invitations"), "/partner/customer-invitations?state=pending", 1),
			figure(msg(b, "fr", "overview.figures.customers"), "/partner/customers", 1),
			figure(msg(b, "fr", "overview.figures.active_subscriptions"), "/subscriptions?status=active", 2),
			msg(b, "fr", "overview.activity.heading"))
		mustNotContain(t, res.body, msg(b, "fr", "overview.figures.active_resellers"), msg(b, "fr", "overview.figures.recent_orders"))

		// The provider's sales agent sees the figures, not the audit log.
		res = w.get(t, "/partner", w.asSales("en")...)
		mustContain(t, res.body, figure(msg(b, "en", "overview.figures.recent_orders"), "/orders", 1))
		mustNotContain(t, res.body, `id="activity-heading"`)

		// Every figure's link leads to a page that exists.
		for _, link := range []string{"/partner/indirect-resellers?state=active", "/partner/indirect-resellers?state=invited",
			"/partner/indirect-providers?state=active", "/partner/customer-invitations?state=pending", "/partner/customers",
			"/subscriptions?status=active", "/orders"} {
			if r := w.get(t, link, w.as(w.reseller, "en")...); r.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", link, r.StatusCode)
			}
		}
		w.noErrorsLogged(t)
	})
}

func TestOperatorOverview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOverviewWorld(t, engine)
		b := catalog(t)
		now := w.clock.Now()
		// Two applications in review: Tailspin's, sent ten days ago and
		// past its due date, and Litware's, sent now.
		apply := func(name, domain, email string) {
			f := enrollValuesFR()
			for k, v := range map[string]string{"account_domain": domain, "account_email": email, "primary_email": email, "legal_name": name} {
				f.Set(k, v)
			}
			w.enrolledAndVerifiedWithSecret(t, f)
		}
		w.clock.Set(now.AddDate(0, 0, -10))
		apply("Tailspin SAS", "tailspin.example", "eve@tailspin.example")
		w.clock.Set(now)
		apply("Litware SARL", "litware.example", "leo@litware.example")

		res := w.get(t, "/operator", append(w.withSession(w.opCookie), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("operator overview: %d %.300s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, `<li><a href="/operator" aria-current="page">`+msg(b, "en", "overview.nav.operator")+`</a></li>`,
			`<h1>`+msg(b, "en", "overview.operator.title")+`</h1>`,
			figure(msg(b, "en", "overview.program.partners_enrolling"), "", 2),
			figure(msg(b, "en", "overview.program.partners_approved"), "", 2),
			figure(msg(b, "en", "overview.program.providers_applying"), "", 0),
			figure(msg(b, "en", "overview.program.providers_approved"), "#regions-heading", 1),
			figure(msg(b, "en", "overview.program.active_providers"), "", 1),
			figure(msg(b, "en", "overview.program.active_resellers"), "", 1),
			figure(msg(b, "en", "overview.program.customers"), "", 1),
			figure(msg(b, "en", "overview.program.active_subscriptions"), "/subscriptions?status=active", 2),
			figure(msg(b, "en", "overview.program.recent_orders"), "/orders", 1),
			// The queue: counted, the overdue application first and marked
			// in words.
			`<p>`+msg(b, "en", "overview.queue.open", "count", 2)+` <strong>`+msg(b, "en", "overview.queue.overdue", "count", 1)+`</strong></p>`,
			`<caption id="queue-caption">`+msg(b, "en", "overview.queue.caption")+`</caption>`,
			`<a href="/operator/enrollments">`+msg(b, "en", "overview.queue.open_queue")+`</a>`,
			// Europe's provider, linked to its operator page; a region
			// without one says so.
			`<h3>`+msg(b, "en", "agreement.region.europe")+`</h3>`,
			`<li><a href="/operator/providers/`+w.provider.orgID+`">Fabrikam SARL</a> – `+msg(b, "en", "overview.regions.partner_id", "id", w.provider.partnerID)+`</li>`,
			msg(b, "en", "overview.regions.none"))
		tailspin, litware := strings.Index(res.body, ">Tailspin SAS</a>"), strings.Index(res.body, ">Litware SARL</a>")
		if tailspin < 0 || litware < 0 || tailspin > litware {
			t.Errorf("the overdue application is not listed first: %d, %d", tailspin, litware)
		}
		if n := strings.Count(res.body, `– <strong>`+msg(b, "en", "enrollment.overdue")+`</strong>`); n != 1 {
			t.Errorf("%d rows marked overdue, want 1", n)
		}
		if r := w.get(t, "/operator/providers/"+w.provider.orgID, w.withSession(w.opCookie)...); r.StatusCode != http.StatusOK {
			t.Errorf("the provider's page: %d", r.StatusCode)
		}

		// In French, the same page.
		res = w.get(t, "/operator", append(w.withSession(w.opCookie), "Accept-Language", "fr")...)
		mustContain(t, res.body, `<h1>`+msg(b, "fr", "overview.operator.title")+`</h1>`,
			msg(b, "fr", "overview.queue.open", "count", 2), msg(b, "fr", "overview.queue.overdue", "count", 1))

		// Partners are refused, visitors sent to sign in.
		if r := w.get(t, "/operator", w.as(w.provider, "en")...); r.StatusCode != http.StatusForbidden {
			t.Errorf("a partner: %d", r.StatusCode)
		}
		wantRedirect(t, w.get(t, "/operator"), "/signin")
		w.noErrorsLogged(t)
	})
}

// The operator lands on its overview after MFA; a catalog manager, who
// does not review applications, sees it without the queue.
func TestOperatorLandsOnTheOverview(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 10)
	b := catalog(t)
	_, secret := s.operatorAdminWithSecret(t)
	s.clock.Advance(totp.Period)
	res := s.signIn(t, "olga@operator.example", goodPassword)
	wantRedirect(t, res, "/mfa")
	code, err := totp.Code(secret, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = s.postForm(t, "/mfa", url.Values{"code": {code}}, s.withSession(s.sessionCookie(res))...)
	wantRedirect(t, res, "/operator")
	admin := s.sessionCookie(res)
	res = s.get(t, "/operator", s.withSession(admin)...)
	mustContain(t, res.body, `<li><a href="/operator" aria-current="page">`+msg(b, "en", "layout.nav.operator")+`</a></li>`,
		`<h2 id="queue-heading">`, msg(b, "en", "overview.queue.empty"))

	ctx := context.Background()
	actor, err := s.svc.SessionActor(ctx, admin.Value)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.InviteUser(ctx, actor, service.InviteUserInput{Email: "cat@operator.example", Name: "Cat Alog",
		Roles: []string{csphub.RoleCatalogManager}}); err != nil {
		t.Fatal(err)
	}
	link := s.invitationEmails(t)["cat@operator.example"]
	wantRedirect(t, s.postForm(t, link, url.Values{"password": {goodPassword}}), "/signin?done=invited")
	res = s.signIn(t, "cat@operator.example", goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	cat := s.passMFA(t, s.sessionCookie(res))
	res = s.get(t, "/operator", s.withSession(cat)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("catalog manager: %d", res.StatusCode)
	}
	mustContain(t, res.body, msg(b, "en", "overview.program.heading"), msg(b, "en", "overview.regions.heading"))
	mustNotContain(t, res.body, `id="queue-heading"`)
}
