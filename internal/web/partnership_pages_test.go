package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"csphub/internal/service"
	"csphub/internal/testdb"
)

// problemShown checks that a refusal of the whole form is shown in an
// error summary.
func problemShown(t *testing.T, body, msg string) {
	t.Helper()
	mustContain(t, body, `<div class="error-summary" role="alert" tabindex="-1" autofocus>`+"\n<p>"+msg+`</p>`)
}

// actionURL finds the action of a form or the link of a row by its end.
func actionURL(t *testing.T, body, suffix string) string {
	t.Helper()
	m := regexp.MustCompile(`(?:action|href)="(/partner/indirect-(?:resellers|providers)/[^"/]+/` + suffix + `)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s action in %s", suffix, body)
	}
	return m[1]
}

func TestPartnershipInvitationJourney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPartnershipWorld(t, engine, service.Options{}, providerReady)
		b := catalog(t)

		// The provider's page: nothing yet, and the invitation form.
		res := w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("indirect resellers: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		mustContain(t, res.body, msg(b, "en", "partnership.resellers.title"), msg(b, "en", "partnership.resellers.empty"),
			`aria-current="page">`+msg(b, "en", "partnership.nav.indirect_resellers"),
			`<form class="form" method="post" action="/partner/indirect-resellers" novalidate>`, `<option value="en" lang="en" selected>`)

		// Each bad field is shown next to it, and what was typed stays.
		res = w.postForm(t, indirectResellersPath, url.Values{"email": {"nope"}, "partner_id": {"12"}, "lang": {"fr"}}, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad invitation: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "email", msg(b, "en", "partnership.error.email.invalid_email"))
		fieldErrorShown(t, res.body, "partner_id", msg(b, "en", "partnership.error.partner_id.invalid_partner_id"))
		mustContain(t, res.body, `value="nope"`, `value="12"`, `<option value="fr" lang="fr" selected>`)
		if strings.Index(res.body, `<li><a href="#email">`) > strings.Index(res.body, `<li><a href="#partner_id">`) {
			t.Error("the summary is not in the order of the form")
		}
		// The provider's own partner ID is refused next to the field.
		res = w.postForm(t, indirectResellersPath, url.Values{"email": {resellerEmail}, "partner_id": {w.provider.partnerID}, "lang": {"en"}},
			w.as(w.provider, "fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("own partner ID: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "partner_id", msg(b, "fr", "partnership.error.invite.own_invitation"))

		// The invitation, naming the reseller's partner ID.
		link := w.invite(t, resellerEmail, w.reseller.partnerID)
		res = w.get(t, indirectResellersPath+"?done=invited", w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.resellers.notice.invited"), resellerEmail, w.reseller.partnerID,
			"<td>"+msg(b, "en", "partnership.state.invited"),
			msg(b, "en", "partnership.row.expires", "date", w.clock.Now().Add(30*24*time.Hour)),
			msg(b, "en", "partnership.action.cancel"))

		// A visitor reads who invites and what authorizing means, and how
		// to answer: sign in (which comes back here) or enrol.
		res = w.get(t, link, "Accept-Language", "fr")
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("invitation: %d %v", res.StatusCode, res.Header)
		}
		mustContain(t, res.body, msg(b, "fr", "partnership.invitation.lead", "provider", "Fabrikam SARL"),
			"<dd>"+w.provider.partnerID+"</dd>", "<dd>Europe</dd>", "<dd>"+w.reseller.partnerID+"</dd>",
			msg(b, "fr", "partnership.invitation.meaning.orders"),
			msg(b, "fr", "partnership.invitation.meaning.admin", "roles", msg(b, "fr", "role.admin_agent")),
			msg(b, "fr", "partnership.invitation.meaning.remove"),
			msg(b, "fr", "partnership.invitation.visitor.text"), `<a href="/enroll">`)
		if m := regexp.MustCompile(`<a class="button primary" href="/signin\?next=([^"]+)">`).FindStringSubmatch(res.body); m == nil {
			t.Fatal("no sign-in link")
		} else if back, err := url.QueryUnescape(m[1]); err != nil || back != link {
			t.Fatalf("sign-in comes back to %q, want %q", back, link)
		}
		mustNotContain(t, res.body, `name="authorize"`, `/decline"`)
		// Answering needs a session: the visitor is sent back to the page.
		wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}), link)

		// The reseller's global admin must tick the box.
		res = w.get(t, link, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, `<input type="checkbox" id="authorize" name="authorize" value="yes" required`,
			msg(b, "fr", "partnership.invitation.authorize.label"), msg(b, "fr", "partnership.invitation.authorize.submit"),
			`<input type="checkbox" id="auto_extend" name="auto_extend" value="yes" aria-describedby="auto_extend-hint">`,
			msg(b, "fr", "partnership.invitation.auto_extend.label"), `action="`+link+`/decline"`)
		res = w.postForm(t, link+"/accept", url.Values{"auto_extend": {"yes"}}, w.as(w.reseller, "fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unticked: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "authorize", msg(b, "fr", "partnership.error.authorize.required"))
		// The auto-extension box stays as the reader left it.
		mustContain(t, res.body, `name="auto_extend" value="yes" checked`)
		wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}, "auto_extend": {"yes"}}, w.as(w.reseller, "fr")...),
			indirectProvidersPath+"?done=authorized")
		// The grant lasts two years and extends itself, as asked.
		if given, err := w.svc.ListGrants(context.Background(), w.reseller.actor, "given", "", 10); err != nil || len(given.Items) != 1 ||
			!given.Items[0].AutoExtend || given.Items[0].DurationDays != 730 {
			t.Fatalf("grant: %+v %v", given, err)
		}

		// Both pages show the other party.
		res = w.get(t, indirectProvidersPath+"?done=authorized", w.as(w.reseller, "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("indirect providers: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "fr", "partnership.providers.notice.authorized"), "Fabrikam SARL", "<td>"+w.provider.partnerID+"</td>",
			"<td>"+msg(b, "fr", "partnership.state.active")+"</td>", "<td>Europe</td>", "<td>"+msg(b, "fr", "partnership.grant.active")+"</td>",
			`aria-current="page">`+msg(b, "fr", "partnership.nav.indirect_providers"), "/terminate\"")
		// The active provider's customers, and the invitation of new ones.
		mustContain(t, res.body, `<a href="/partner/customers?provider_id=`+w.provider.orgID+`" aria-describedby="p-`,
			msg(b, "fr", "customer.action.view_customers"),
			`<a href="/partner/customer-invitations/new?provider_id=`+w.provider.orgID+`" aria-describedby="p-`,
			msg(b, "fr", "customer.action.invite_customers"))
		mustNotContain(t, res.body, `href="#"`)
		res = w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, ">Contoso SAS</td>", "<td>"+w.reseller.partnerID+"</td>", "<td>"+msg(b, "en", "partnership.state.active")+"</td>",
			"<td>Europe</td>", msg(b, "en", "partnership.action.suspend"), msg(b, "en", "partnership.action.terminate"))
		mustNotContain(t, res.body, msg(b, "en", "partnership.action.cancel"))
		// Both sides were told.
		to := map[string]int{}
		for _, m := range w.outbox(t) {
			to[m.To]++
		}
		if to[providerEmail] == 0 || to[resellerEmail] == 0 {
			t.Errorf("emails after the acceptance: %v", to)
		}

		// The link worked once.
		res = w.get(t, link, w.as(w.reseller, "fr")...)
		if res.StatusCode != http.StatusGone {
			t.Fatalf("used link: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "fr", "partnership.invitation.invalid.used"), `href="/partner/indirect-providers"`)
		mustNotContain(t, res.body, `name="authorize"`)
		if r := w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...); r.StatusCode != http.StatusGone {
			t.Errorf("accepting again: %d", r.StatusCode)
		}
		// A link nobody sent.
		for _, bad := range []string{"/partnership-invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/partnership-invitations/a.b"} {
			res = w.get(t, bad, "Accept-Language", "en")
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d", bad, res.StatusCode)
			}
			mustContain(t, res.body, msg(b, "en", "partnership.invitation.invalid.unknown"))
		}
		w.noErrorsLogged(t)
	})
}

func TestPartnershipLifecycleOnThePages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPartnershipWorld(t, engine, service.Options{}, providerReady)
		b := catalog(t)
		link := w.invite(t, resellerEmail, "")
		wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...),
			indirectProvidersPath+"?done=authorized")
		w.outbox(t)

		// The provider suspends: both sides see it, both are told.
		res := w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		suspend := actionURL(t, res.body, "suspend")
		wantRedirect(t, w.postForm(t, suspend, nil, w.as(w.provider, "en")...), indirectResellersPath+"?done=suspend")
		res = w.get(t, indirectResellersPath+"?done=suspend", w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.resellers.notice.suspended"), "<td>"+msg(b, "en", "partnership.state.suspended"))
		reactivate := actionURL(t, res.body, "reactivate")
		mustContain(t, w.get(t, indirectProvidersPath, w.as(w.reseller, "en")...).body, "<td>"+msg(b, "en", "partnership.state.suspended"))
		to := map[string]int{}
		for _, m := range w.outbox(t) {
			to[m.To]++
		}
		if to[providerEmail] != 1 || to[resellerEmail] != 1 {
			t.Errorf("emails after the suspension: %v", to)
		}
		// A second suspension (an old page) says the relationship changed.
		res = w.postForm(t, suspend, nil, w.as(w.provider, "fr")...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("suspend twice: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "fr", "partnership.error.invalid_transition"))
		// The reseller cannot use the provider's actions.
		res = w.postForm(t, reactivate, nil, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("reseller reactivates: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.provider_only"))
		wantRedirect(t, w.postForm(t, reactivate, nil, w.as(w.provider, "en")...), indirectResellersPath+"?done=reactivate")
		mustContain(t, w.get(t, indirectResellersPath+"?done=reactivate", w.as(w.provider, "en")...).body,
			msg(b, "en", "partnership.resellers.notice.reactivated"), "<td>"+msg(b, "en", "partnership.state.active"))

		// Search by name or partner ID, filter by state.
		for q, found := range map[string]bool{"Cont": true, "contoso": true, w.reseller.partnerID: true, "Zzz": false} {
			res = w.get(t, indirectResellersPath+"?q="+url.QueryEscape(q), w.as(w.provider, "en")...)
			if res.StatusCode != http.StatusOK || strings.Contains(res.body, ">Contoso SAS</td>") != found {
				t.Errorf("search %q: %d, found %v", q, res.StatusCode, !found)
			}
			mustContain(t, res.body, `value="`+html.EscapeString(q)+`"`)
			if !found {
				mustContain(t, res.body, msg(b, "en", "partnership.resellers.none_matching"))
			}
		}
		res = w.get(t, indirectResellersPath+"?state=terminated", w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.resellers.none_matching"), `<option value="terminated" selected>`)
		res = w.get(t, indirectProvidersPath+"?q=Fab&state=active", w.as(w.reseller, "en")...)
		mustContain(t, res.body, "Fabrikam SARL", `<option value="active" selected>`)
		for _, bad := range []string{indirectResellersPath + "?state=bogus", indirectProvidersPath + "?state=invited", indirectProvidersPath + "?q=" + strings.Repeat("x", 201)} {
			if r := w.get(t, bad, w.as(w.reseller, "en")...); r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d", bad, r.StatusCode)
			}
		}

		// The reseller terminates, on a page of its own that asks why.
		res = w.get(t, indirectProvidersPath, w.as(w.reseller, "en")...)
		terminate := actionURL(t, res.body, "terminate")
		res = w.get(t, terminate, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("terminate page: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "partnership.terminate.title"), "<dd>Fabrikam SARL</dd>", msg(b, "en", "partnership.terminate.providers.intro"),
			`<textarea id="reason" name="reason" required maxlength="2000"`, `action="`+terminate+`"`)
		// The provider's path does not show the reseller's side.
		if r := w.get(t, strings.Replace(terminate, indirectProvidersPath, indirectResellersPath, 1), w.as(w.reseller, "en")...); r.StatusCode != http.StatusNotFound {
			t.Errorf("provider's path for the reseller: %d", r.StatusCode)
		}
		res = w.postForm(t, terminate, url.Values{"reason": {"  "}}, w.as(w.reseller, "fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("no reason: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "reason", msg(b, "fr", "partnership.error.reason.required"))
		res = w.postForm(t, terminate, url.Values{"reason": {strings.Repeat("é", 2001)}}, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("long reason: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "reason", msg(b, "en", "partnership.error.reason.too_long"))
		mustContain(t, res.body, strings.Repeat("é", 2001))
		const reason = "We now buy from another distributor."
		wantRedirect(t, w.postForm(t, terminate, url.Values{"reason": {reason}}, w.as(w.reseller, "en")...), indirectProvidersPath+"?done=terminated")
		res = w.get(t, indirectProvidersPath+"?done=terminated", w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.notice.terminated"), "<td>"+msg(b, "en", "partnership.state.terminated"),
			msg(b, "en", "partnership.row.reason", "reason", reason), "<td>"+msg(b, "en", "partnership.grant.none")+"</td>")
		res = w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, "<td>"+msg(b, "en", "partnership.state.terminated"), msg(b, "en", "partnership.row.reason", "reason", reason))
		mustNotContain(t, res.body, "/terminate\"", "/suspend\"")

		// Nothing more to end.
		again := strings.Replace(terminate, indirectProvidersPath, indirectResellersPath, 1)
		res = w.get(t, again, w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.terminate.not_allowed"))
		mustNotContain(t, res.body, `name="reason"`)
		res = w.postForm(t, again, url.Values{"reason": {"Again"}}, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("terminate twice: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.invalid_transition"))
		w.noErrorsLogged(t)
	})
}

func TestInvitationRefusedByTheProgramRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		b := catalog(t)
		invite := func(w *partnershipWorld, partnerID, lang string) response {
			return w.postForm(t, indirectResellersPath, url.Values{"email": {resellerEmail}, "partner_id": {partnerID}, "lang": {"en"}},
				w.as(w.provider, lang)...)
		}

		// A reseller that is not an approved provider.
		w := newPartnershipWorld(t, engine, service.Options{}, providerResellerOnly)
		res := invite(w, "", "en")
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("not a provider: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.invite.provider_not_approved"))
		mustContain(t, res.body, `value="`+resellerEmail+`"`)

		// An approved provider without the agreement accepted.
		w = newPartnershipWorld(t, engine, service.Options{}, providerNoAgreement)
		res = invite(w, "", "fr")
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("no agreement: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "fr", "partnership.error.invite.agreement_not_accepted"))

		// A provider authorized for North America only: a French reseller
		// is refused when named, and cannot accept when not.
		w = newPartnershipWorld(t, engine, service.Options{}, providerReady, "north_america")
		res = invite(w, w.reseller.partnerID, "en")
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("region: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "partner_id", msg(b, "en", "partnership.error.invite.region_not_authorized"))
		link := w.invite(t, resellerEmail, "")
		res = w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("accept across regions: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.answer.region_not_authorized"))
		mustContain(t, res.body, `value="yes" required checked`)
		if r := w.get(t, link, w.as(w.reseller, "en")...); r.StatusCode != http.StatusOK {
			t.Errorf("the refused invitation is still open: %d", r.StatusCode)
		}
		w.noErrorsLogged(t)
	})
}

func TestInvitationCaps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		b := catalog(t)
		w := newPartnershipWorld(t, engine, service.Options{PartnerInvitesPerDay: 3, OpenPartnerInvitations: 2}, providerReady)
		w.invite(t, "a@northwind.example", "")
		w.clock.Advance(time.Minute)
		w.invite(t, "b@northwind.example", "")

		// Two invitations wait for an answer: a third waits too.
		res := w.postForm(t, indirectResellersPath, url.Values{"email": {"c@northwind.example"}, "lang": {"en"}}, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("open cap: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
		}
		mustContain(t, res.body, msg(b, "en", "partnership.error.open_invitation_limit"), `value="c@northwind.example"`)

		// The list pages two at a time, the newest first.
		res = w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, "b@northwind.example", "a@northwind.example")
		// Cancelling one makes room.
		cancel := actionURL(t, res.body, "cancel")
		wantRedirect(t, w.postForm(t, cancel, nil, w.as(w.provider, "en")...), indirectResellersPath+"?done=cancel")
		mustContain(t, w.get(t, indirectResellersPath+"?done=cancel", w.as(w.provider, "en")...).body,
			msg(b, "en", "partnership.resellers.notice.cancelled"), msg(b, "en", "partnership.state.cancelled"))
		w.clock.Advance(time.Minute)
		w.invite(t, "c@northwind.example", "")

		// Three sent within 24 hours: the fourth is refused until a day
		// after the first.
		res = w.postForm(t, indirectResellersPath, url.Values{"email": {"d@northwind.example"}, "lang": {"en"}}, w.as(w.provider, "fr")...)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("daily cap: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "fr", "partnership.error.invitation_limit"))

		res = w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, "c@northwind.example", "b@northwind.example")
		mustNotContain(t, res.body, "a@northwind.example")
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(res.body)
		if next == nil {
			t.Fatalf("no next page: %s", res.body)
		}
		res = w.get(t, html.UnescapeString(next[1]), w.as(w.provider, "en")...)
		mustContain(t, res.body, "a@northwind.example", `href="/partner/indirect-resellers">`+msg(b, "en", "settings.pagination.first"))
		mustNotContain(t, res.body, "c@northwind.example")
		w.noErrorsLogged(t)
	})
}

func TestInvitationLinksThatNoLongerWork(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		b := catalog(t)
		w := newPartnershipWorld(t, engine, service.Options{}, providerReady)

		// Declined: the reseller is told nothing was authorized, the link
		// stops working.
		link := w.invite(t, resellerEmail, "")
		res := w.postForm(t, link+"/decline", nil, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("decline: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "partnership.invitation.declined", "provider", "Fabrikam SARL"))
		res = w.get(t, link, "Accept-Language", "en")
		if res.StatusCode != http.StatusGone {
			t.Fatalf("declined link: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "partnership.invitation.invalid.used"))
		mustContain(t, w.get(t, indirectResellersPath, w.as(w.provider, "en")...).body, "<td>"+msg(b, "en", "partnership.state.declined"))

		// Cancelled by the provider.
		link = w.invite(t, resellerEmail, "")
		res = w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		wantRedirect(t, w.postForm(t, actionURL(t, res.body, "cancel"), nil, w.as(w.provider, "en")...), indirectResellersPath+"?done=cancel")
		res = w.get(t, link, "Accept-Language", "fr")
		if res.StatusCode != http.StatusGone {
			t.Fatalf("cancelled link: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "fr", "partnership.invitation.invalid.cancelled"), msg(b, "fr", "partnership.invitation.invalid.ask_again"))

		// For another partner ID: the reseller's admin cannot answer it.
		link = w.invite(t, resellerEmail, "4000001")
		res = w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("other partner ID: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.partner_id_mismatch"))

		// The provider opening its own link.
		link = w.invite(t, resellerEmail, "")
		res = w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("own link: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.answer.own_invitation"))

		// A user of the reseller without the right role reads it, cannot
		// answer it.
		helpdesk := w.member(t, w.reseller.actor, "paul@contoso.example", "helpdesk_agent")
		res = w.get(t, link, append(w.withSession(helpdesk), "Accept-Language", "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.invitation.not_allowed"), "Fabrikam SARL")
		mustNotContain(t, res.body, `name="authorize"`)
		if r := w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.withSession(helpdesk)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("helpdesk agent accepts: %d", r.StatusCode)
		}
		if r := w.postForm(t, link+"/decline", nil, w.withSession(helpdesk)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("helpdesk agent declines: %d", r.StatusCode)
		}
		// Signed in, MFA not passed yet: the page says to finish first.
		pending := w.sessionCookie(w.signIn(t, resellerEmail, goodPassword))
		res = w.get(t, link, append(w.withSession(pending), "Accept-Language", "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.invitation.mfa.text"), `<a href="/mfa">`)
		if !slices.ContainsFunc(res.Cookies(), func(c *http.Cookie) bool { return c.Name == "csphub_next" && c.Value == link }) {
			t.Errorf("the invitation is not where MFA returns to: %v", res.Cookies())
		}
		wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.withSession(pending)...), link)

		// A partner that never enrolled is sent to the enrollment.
		form := signupForm("ann@tailspin.example")
		form.Set("domain", "tailspin.example")
		form.Set("organization_name", "Tailspin")
		_, _, tailspin := w.enrol(t, w.signupWith(t, form))
		res = w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, append(w.withSession(tailspin), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("not enrolled: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "partnership.error.not_enrolled"))
		mustContain(t, res.body, `<a href="/enroll">`+msg(b, "en", "partnership.invitation.enrol_link"))

		// Past 30 days the link has expired.
		w.clock.Advance(31 * 24 * time.Hour)
		res = w.get(t, link, "Accept-Language", "en")
		if res.StatusCode != http.StatusGone {
			t.Fatalf("expired link: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "partnership.invitation.invalid.expired"))
		w.noErrorsLogged(t)
	})
}

func TestPartnershipPagesNeedAPartner(t *testing.T) {
	w := newPartnershipWorld(t, "sqlite", service.Options{}, providerResellerOnly)
	for _, p := range []string{indirectResellersPath, indirectProvidersPath} {
		wantRedirect(t, w.get(t, p), "/signin")
	}
	op := w.operatorSession(t)
	for _, p := range []string{indirectResellersPath, indirectProvidersPath} {
		if r := w.get(t, p, w.withSession(op)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("operator at %s: %d", p, r.StatusCode)
		}
	}
	if r := w.postForm(t, indirectResellersPath, url.Values{"email": {resellerEmail}}, w.withSession(op)...); r.StatusCode != http.StatusForbidden {
		t.Errorf("operator invites: %d", r.StatusCode)
	}
	// A cross-site form is refused before anything else.
	r := httpPost(indirectResellersPath, "https://evil.example")
	r.Header.Set("Cookie", w.reseller.cookie.Name+"="+w.reseller.cookie.Value)
	if res := w.do(t, r); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site invitation: %d", res.StatusCode)
	}
	// A member without the role reads the list, but is not offered the form.
	b := catalog(t)
	helpdesk := w.member(t, w.provider.actor, "lea@fabrikam.example", "helpdesk_agent")
	res := w.get(t, indirectResellersPath, append(w.withSession(helpdesk), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("helpdesk agent: %d", res.StatusCode)
	}
	mustContain(t, res.body, msg(b, "en", "partnership.invite.managers_only"))
	mustNotContain(t, res.body, `name="email"`)
	res = w.postForm(t, indirectResellersPath, url.Values{"email": {resellerEmail}}, append(w.withSession(helpdesk), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("helpdesk agent invites: %d", res.StatusCode)
	}
	// The partner's tabs lead to both pages.
	res = w.get(t, "/partner", w.as(w.reseller, "en")...)
	mustContain(t, res.body, `<a href="/partner/indirect-resellers">`+msg(b, "en", "partnership.nav.indirect_resellers"),
		`<a href="/partner/indirect-providers">`+msg(b, "en", "partnership.nav.indirect_providers"))
	w.noErrorsLogged(t)
}

// TestPartnershipStatesHaveLabels: every state of a relationship and of
// a grant is named in every language.
func TestPartnershipStatesHaveLabels(t *testing.T) {
	b := catalog(t)
	for _, tag := range b.Languages() {
		l := b.For(tag.String())
		for _, s := range providerSide.states() {
			if !l.Has("partnership.state." + string(s)) {
				t.Errorf("%s: no label for %s", tag, s)
			}
		}
		for _, s := range []string{"pending", "active", "terminated", "expired", "none"} {
			if !l.Has("partnership.grant." + s) {
				t.Errorf("%s: no label for the grant state %s", tag, s)
			}
		}
	}
}
