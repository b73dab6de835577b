package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// providerWorld is an operator (its first admin and a verification
// reviewer) and Contoso SAS, a French partner whose indirect reseller
// enrollment is approved, each signed in past MFA.
type providerWorld struct {
	*identityServer
	op, reviewer, partner *http.Cookie
	opActor, partnerActor csphub.Actor
	org                   string // Contoso's organization
}

func newProviderWorld(t *testing.T, engine string) *providerWorld {
	t.Helper()
	s := newEnrollmentServer(t, engine, 50)
	w := &providerWorld{identityServer: s}
	w.partner = s.enrolledAndVerified(t, enrollValuesFR())
	w.op = s.operatorAdmin(t)
	w.opActor = w.actorOf(t, w.op)
	w.partnerActor = w.actorOf(t, w.partner)
	w.org = w.partnerActor.TenantID()
	w.approve(t, w.partnerActor, csphub.ProgramIndirectReseller)
	w.reviewer = s.pidReviewer(t, w.opActor)
	return w
}

func (w *providerWorld) actorOf(t *testing.T, c *http.Cookie) csphub.Actor {
	t.Helper()
	a, err := w.svc.SessionActor(context.Background(), c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// applicationOf is the organization's latest application to program, ""
// for none.
func (w *providerWorld) applicationOf(t *testing.T, partner csphub.Actor, program csphub.Program) string {
	t.Helper()
	list, err := w.svc.ListEnrollments(context.Background(), partner)
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, e := range list {
		if e.Program == program && (id == "" || e.State.Open()) {
			id = e.ID
		}
	}
	return id
}

// approve has the operator approve the organization's application to
// program.
func (w *providerWorld) approve(t *testing.T, partner csphub.Actor, program csphub.Program) {
	t.Helper()
	id := w.applicationOf(t, partner, program)
	if id == "" {
		t.Fatalf("no %s application", program)
	}
	if _, err := w.svc.DecideEnrollment(context.Background(), w.opActor, id, service.Decision{Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
}

// provider has Contoso apply as an indirect provider through the page and
// the operator approve it.
func (w *providerWorld) provider(t *testing.T) {
	t.Helper()
	wantRedirect(t, w.postForm(t, providerApplicationPath, providerApplyValues(), w.withSession(w.partner)...),
		providerApplicationPath+"?done=submitted")
	w.approve(t, w.partnerActor, csphub.ProgramIndirectProvider)
}

func providerApplyValues() url.Values {
	return url.Values{"support_email": {"help@contoso.example"}, "support_phone": {"+33 1 23 45 67 99"},
		"support_website": {"https://contoso.example/help"}}
}

func TestApplyingAsAnIndirectProvider(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newProviderWorld(t, engine)
		b := catalog(t)
		en := func(c *http.Cookie) []string { return append(w.withSession(c), "Accept-Language", "en") }

		// A visitor signs in first; the operator has no partner pages.
		wantRedirect(t, w.get(t, providerApplicationPath), "/signin")
		if r := w.get(t, providerApplicationPath, w.withSession(w.op)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("operator opens the application: %d", r.StatusCode)
		}
		if r := w.postForm(t, providerApplicationPath, providerApplyValues(), w.withSession(w.op)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("operator applies: %d", r.StatusCode)
		}

		// The approved reseller's global admin is offered the membership
		// on the overview.
		res := w.get(t, "/partner", en(w.partner)...)
		mustContain(t, res.body, text(b, "en", "provider.overview.heading"), `href="/partner/provider-application"`)

		// The page says what an indirect provider is, with the support
		// contact prefilled from the profile and its country's example.
		res = w.get(t, providerApplicationPath, en(w.partner)...)
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		mustContain(t, res.body, text(b, "en", "provider.apply.title"), text(b, "en", "provider.apply.about.text"),
			text(b, "en", "provider.apply.about.credit"), text(b, "en", "provider.apply.about.marketing"),
			`<form class="form" method="post" action="/partner/provider-application" novalidate>`,
			`value="support@contoso.example"`, `value="https://support.contoso.example"`,
			textArgs(b, "en", "enrollment.hint.phone", "example", "+33 1 23 45 67 89"))

		// Each bad field is shown next to it, and what was typed stays.
		bad := url.Values{"support_email": {"help"}, "support_phone": {"12"}, "support_website": {"ftp://contoso"}}
		res = w.postForm(t, providerApplicationPath, bad, en(w.partner)...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad fields: %d %.2000s", res.StatusCode, res.body)
		}
		fieldErrorShown(t, res.body, "support_email", text(b, "en", "form.error.email.invalid_email"))
		fieldErrorShown(t, res.body, "support_phone", textArgs(b, "en", "enrollment.error.support_phone.invalid_phone_example", "example", "+33 1 23 45 67 89"))
		fieldErrorShown(t, res.body, "support_website", text(b, "en", "enrollment.error.support_website.invalid_url"))
		mustContain(t, res.body, `value="help"`, `value="12"`, `value="ftp://contoso"`)
		if id := w.applicationOf(t, w.partnerActor, csphub.ProgramIndirectProvider); id != "" {
			t.Fatal("a refused application was recorded")
		}

		// Another user of the organization reads the page but cannot apply.
		if _, err := w.svc.InviteUser(context.Background(), w.partnerActor, service.InviteUserInput{Email: "paul@contoso.example",
			Name: "Paul Durand", Roles: []string{csphub.RoleAccountAdmin}}); err != nil {
			t.Fatal(err)
		}
		paul := w.acceptInvitation(t, "paul@contoso.example")
		res = w.get(t, providerApplicationPath, en(paul)...)
		mustContain(t, res.body, text(b, "en", "provider.apply.global_admin_only"))
		mustNotContain(t, res.body, `name="support_email"`)
		if r := w.get(t, "/partner", en(paul)...); strings.Contains(r.body, text(b, "en", "provider.overview.heading")) {
			t.Error("the overview offers the membership to an account admin")
		}
		res = w.postForm(t, providerApplicationPath, providerApplyValues(), en(paul)...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("account admin applies: %d", res.StatusCode)
		}
		mustContain(t, res.body, text(b, "en", "provider.error.global_admin_required"))

		// The global admin applies: the application goes straight to review.
		wantRedirect(t, w.postForm(t, providerApplicationPath, providerApplyValues(), w.withSession(w.partner)...),
			providerApplicationPath+"?done=submitted")
		res = w.get(t, providerApplicationPath+"?done=submitted", en(w.partner)...)
		mustContain(t, res.body, text(b, "en", "provider.apply.notice.submitted"), text(b, "en", "provider.apply.application.heading"),
			text(b, "en", "enrollment.program.indirect_provider"), text(b, "en", "enrollment.state.in_review"),
			text(b, "en", "enrollment.check_status.pending"))
		mustNotContain(t, res.body, `name="support_email"`)
		p, err := w.svc.GetPartnerProfile(context.Background(), w.partnerActor)
		if err != nil || p.Profile.SupportContact.Email != "help@contoso.example" || p.Profile.SupportContact.Phone != "+33123456799" {
			t.Fatalf("profile: %+v %v", p.Profile.SupportContact, err)
		}
		// Applying twice is refused.
		res = w.postForm(t, providerApplicationPath, providerApplyValues(), en(w.partner)...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("second application: %d", res.StatusCode)
		}
		mustContain(t, res.body, text(b, "en", "provider.error.enrollment_exists"), text(b, "en", "enrollment.state.in_review"))

		// The overview shows where it stands instead of the offer.
		res = w.get(t, "/partner", en(w.partner)...)
		mustContain(t, res.body, text(b, "en", "provider.overview.application"), text(b, "en", "enrollment.state.in_review"))
		mustNotContain(t, res.body, text(b, "en", "provider.overview.text"))

		// The reviewer asks for information; the applicant answers on the page.
		id := w.applicationOf(t, w.partnerActor, csphub.ProgramIndirectProvider)
		if _, err := w.svc.DecideEnrollment(context.Background(), w.opActor, id, service.Decision{Decision: "request_info",
			Reason: "Name your main vendor agreements."}); err != nil {
			t.Fatal(err)
		}
		res = w.get(t, providerApplicationPath, en(w.partner)...)
		info := providerApplicationPath + "/" + id + "/info"
		mustContain(t, res.body, text(b, "en", "enrollment.state.info_requested"), `action="`+info+`"`,
			textArgs(b, "en", "enrollment.application.info.asked", "reason", "Name your main vendor agreements."))
		res = w.postForm(t, info, url.Values{"message": {" "}}, en(w.partner)...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty answer: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "message", text(b, "en", "enrollment.error.message.required"))
		wantRedirect(t, w.postForm(t, info, url.Values{"message": {"Contoso distributes for three vendors."}}, w.withSession(w.partner)...),
			providerApplicationPath+"?done=answered")
		res = w.get(t, providerApplicationPath+"?done=answered", en(w.partner)...)
		mustContain(t, res.body, text(b, "en", "provider.apply.notice.answered"), text(b, "en", "enrollment.state.in_review"))
		mustNotContain(t, res.body, `action="`+info+`"`)
		// Answering again finds the application in review.
		if r := w.postForm(t, info, url.Values{"message": {"again"}}, w.withSession(w.partner)...); r.StatusCode != http.StatusConflict {
			t.Errorf("second answer: %d", r.StatusCode)
		}

		// The reviewer's page links to the provider once it is approved.
		review := "/operator/enrollments/" + id
		res = w.get(t, review, en(w.op)...)
		mustContain(t, res.body, text(b, "en", "enrollment.program.indirect_provider"))
		mustNotContain(t, res.body, operatorProvidersPath)
		wantRedirect(t, w.postForm(t, review+"/decision", url.Values{"decision": {"approve"}}, w.withSession(w.op)...), review+"?done=approve")
		res = w.get(t, review, en(w.op)...)
		mustContain(t, res.body, `<a href="/operator/providers/`+w.org+`">`+text(b, "en", "provider.review.regions_link")+`</a>`)
		res = w.get(t, providerApplicationPath, append(w.withSession(w.partner), "Accept-Language", "fr")...)
		mustContain(t, res.body, `<html lang="fr"`, text(b, "fr", "provider.apply.title"), text(b, "fr", "provider.apply.application.approved"),
			text(b, "fr", "enrollment.state.approved"), text(b, "fr", "provider.apply.about.heading"))
		if strings.Contains(w.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", w.logs)
		}
	})
}

func TestProviderApplicationBeforeApproval(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)
	// Enrolled, email confirmed, still in review.
	partner := s.enrolledAndVerified(t, enrollValuesFR())
	res := s.get(t, providerApplicationPath, append(s.withSession(partner), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "provider.apply.reseller_not_approved"), `href="/partner/enrollment"`)
	mustNotContain(t, res.body, `name="support_email"`)
	if r := s.get(t, "/partner", s.withSession(partner)...); strings.Contains(r.body, `href="/partner/provider-application"`) {
		t.Error("the overview offers the membership before approval")
	}
	res = s.postForm(t, providerApplicationPath, providerApplyValues(), append(s.withSession(partner), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("apply before approval: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "provider.error.reseller_not_approved"))

	// A partner that never enrolled is told to enrol first.
	other := s.passMFA(t, s.signup(t, "ana@fabrikam.example"))
	res = s.get(t, providerApplicationPath, s.withSession(other)...)
	mustContain(t, res.body, text(b, "en", "provider.apply.not_enrolled"))
	res = s.postForm(t, providerApplicationPath, providerApplyValues(), s.withSession(other)...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("apply without enrollment: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "provider.error.reseller_not_approved"))
}

var checkedRegion = regexp.MustCompile(`name="regions" value="([a-z_]+)" checked`)

// checkedRegions lists the region boxes checked on a page.
func checkedRegions(body string) string {
	var out []string
	for _, m := range checkedRegion.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, ",")
}

func TestOperatorAuthorizesProviderRegions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newProviderWorld(t, engine)
		b := catalog(t)
		page := operatorProvidersPath + w.org
		action := page + "/regions"

		// An approved reseller is no provider yet.
		if r := w.get(t, page, w.withSession(w.op)...); r.StatusCode != http.StatusNotFound {
			t.Fatalf("not a provider yet: %d", r.StatusCode)
		}
		if r := w.postForm(t, action, url.Values{"regions": {"europe"}}, w.withSession(w.op)...); r.StatusCode != http.StatusNotFound {
			t.Fatalf("authorize a reseller: %d", r.StatusCode)
		}
		w.provider(t)

		res := w.get(t, page, append(w.withSession(w.op), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET: %d %s", res.StatusCode, res.body)
		}
		pv, err := w.svc.GetProvider(context.Background(), w.opActor, w.org)
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, res.body, textArgs(b, "en", "provider.operator.heading", "name", "Contoso SAS"), "<dd>"+pv.PartnerID+"</dd>",
			"<dd>France</dd>", "<dd>Europe</dd>", `action="`+action+`"`, `value="asia_pacific"`, `value="north_america"`)
		if got := checkedRegions(res.body); got != "" {
			t.Errorf("checked before any authorization: %q", got)
		}

		// An unknown region is refused next to the boxes; the choice stays.
		res = w.postForm(t, action, url.Values{"regions": {"europe", "atlantis"}}, append(w.withSession(w.op), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unknown region: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "regions", text(b, "fr", "provider.error.regions.unknown_region"))
		if got := checkedRegions(res.body); got != "europe" {
			t.Errorf("kept: %q", got)
		}

		wantRedirect(t, w.postForm(t, action, url.Values{"regions": {"europe", "north_america"}}, w.withSession(w.op)...), page+"?done=saved")
		res = w.get(t, page+"?done=saved", w.withSession(w.op)...)
		mustContain(t, res.body, text(b, "en", "provider.operator.notice.saved"))
		if got := checkedRegions(res.body); got != "europe,north_america" {
			t.Errorf("checked: %q", got)
		}
		if pv, _ := w.svc.GetProvider(context.Background(), w.opActor, w.org); strings.Join(pv.Regions, ",") != "europe,north_america" {
			t.Errorf("authorized: %v", pv.Regions)
		}

		// The reviewer reads the regions, without the form, and cannot save.
		res = w.get(t, page, append(w.withSession(w.reviewer), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("reviewer: %d", res.StatusCode)
		}
		mustContain(t, res.body, "<li>Europe</li>", "<li>Amérique du Nord</li>", text(b, "fr", "provider.operator.regions.admins_only"))
		mustNotContain(t, res.body, `name="regions"`, `action="`+action+`"`)
		if r := w.postForm(t, action, url.Values{"regions": {"asia_pacific"}}, w.withSession(w.reviewer)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("reviewer saves: %d", r.StatusCode)
		}
		// The partner reaches none of it.
		if r := w.get(t, page, w.withSession(w.partner)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("partner reads: %d", r.StatusCode)
		}
		if r := w.postForm(t, action, url.Values{"regions": {"asia_pacific"}}, w.withSession(w.partner)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("partner saves: %d", r.StatusCode)
		}
		if pv, _ := w.svc.GetProvider(context.Background(), w.opActor, w.org); strings.Join(pv.Regions, ",") != "europe,north_america" {
			t.Errorf("changed by a refused request: %v", pv.Regions)
		}

		// No box checked takes every region away.
		wantRedirect(t, w.postForm(t, action, url.Values{}, w.withSession(w.op)...), page+"?done=saved")
		res = w.get(t, page, append(w.withSession(w.reviewer), "Accept-Language", "en")...)
		mustContain(t, res.body, text(b, "en", "provider.operator.regions.none"))

		// Unknown organizations are 404.
		for _, p := range []string{operatorProvidersPath + csphub.NewID(), operatorProvidersPath + "nope"} {
			if r := w.get(t, p, w.withSession(w.op)...); r.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d", p, r.StatusCode)
			}
		}
		if strings.Contains(w.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", w.logs)
		}
	})
}

// marketRow matches a market's row in a region's table.
func marketRowOf(country, code, currency string) string {
	return `<th scope="row">` + country + `</th>
<td>` + code + `</td>
<td>` + currency + `</td>`
}

func TestOperatorRegionsPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newProviderWorld(t, engine)
		b := catalog(t)
		en := func(c *http.Cookie) []string { return append(w.withSession(c), "Accept-Language", "en") }

		res := w.get(t, operatorRegionsPath, en(w.op)...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET: %d %s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, `aria-current="page">`+text(b, "en", "provider.nav.regions"), `<h2 id="region-europe">`,
			marketRowOf("France", "FR", "EUR"), marketRowOf("United Kingdom", "GB", "GBP"), marketRowOf("Switzerland", "CH", "CHF"),
			marketRowOf("United States", "US", "USD"), marketRowOf("Canada", "CA", "CAD"),
			`action="/operator/regions"`, `action="/operator/regions/markets"`, `action="/operator/regions/markets/DK/remove"`,
			`<option value="KR">`, `<option value="europe">`)

		// Reviewers and other operator users read; partners do not.
		res = w.get(t, operatorRegionsPath, en(w.reviewer)...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("reviewer: %d", res.StatusCode)
		}
		mustContain(t, res.body, marketRowOf("France", "FR", "EUR"), text(b, "en", "provider.regions.admins_only"))
		mustNotContain(t, res.body, `action="/operator/regions"`, `/remove"`, `name="market_country"`)
		for path, form := range map[string]url.Values{
			operatorRegionsPath:                        {"region_code": {"nordics"}, "region_name": {"Nordics"}},
			operatorRegionsPath + "/markets":           {"market_country": {"FR"}, "market_region": {"north_america"}, "market_currency": {"USD"}},
			operatorRegionsPath + "/markets/DK/remove": nil,
		} {
			if r := w.postForm(t, path, form, w.withSession(w.reviewer)...); r.StatusCode != http.StatusForbidden {
				t.Errorf("reviewer POST %s: %d", path, r.StatusCode)
			}
			if r := w.postForm(t, path, form, w.withSession(w.partner)...); r.StatusCode != http.StatusForbidden {
				t.Errorf("partner POST %s: %d", path, r.StatusCode)
			}
		}
		if r := w.get(t, operatorRegionsPath, w.withSession(w.partner)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("partner reads: %d", r.StatusCode)
		}
		wantRedirect(t, w.get(t, operatorRegionsPath), "/signin")

		// A region: each bad field next to it, what was typed kept.
		res = w.postForm(t, operatorRegionsPath, url.Values{"region_code": {"No Way"}, "region_name": {" "}}, en(w.op)...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad region: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "region_code", text(b, "en", "provider.error.region_code.invalid_region_code"))
		fieldErrorShown(t, res.body, "region_name", text(b, "en", "provider.error.region_name.invalid_name"))
		mustContain(t, res.body, `value="No Way"`)
		wantRedirect(t, w.postForm(t, operatorRegionsPath, url.Values{"region_code": {"western_europe"}, "region_name": {"Western Europe"}}, w.withSession(w.op)...),
			operatorRegionsPath+"?done=region_saved")
		res = w.get(t, operatorRegionsPath+"?done=region_saved", en(w.op)...)
		mustContain(t, res.body, text(b, "en", "provider.regions.notice.region_saved"), `<h2 id="region-western_europe">Western Europe <code>western_europe</code></h2>`,
			text(b, "en", "provider.regions.markets.none"), `<option value="western_europe">Western Europe</option>`)
		// The same code renames it.
		wantRedirect(t, w.postForm(t, operatorRegionsPath, url.Values{"region_code": {"western_europe"}, "region_name": {"West Europe"}}, w.withSession(w.op)...),
			operatorRegionsPath+"?done=region_saved")

		// A market: an unknown country and currency, then an unknown region.
		res = w.postForm(t, operatorRegionsPath+"/markets", url.Values{"market_country": {"ZZ"}, "market_region": {"europe"}, "market_currency": {"XYZ"}}, en(w.op)...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad market: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "market_country", text(b, "en", "provider.error.market_country.country_not_supported"))
		fieldErrorShown(t, res.body, "market_currency", text(b, "en", "provider.error.market_currency.invalid_currency"))
		mustContain(t, res.body, `value="XYZ"`)
		res = w.postForm(t, operatorRegionsPath+"/markets", url.Values{"market_country": {"FR"}, "market_region": {"atlantis"}, "market_currency": {"eur"}}, en(w.op)...)
		fieldErrorShown(t, res.body, "market_region", text(b, "en", "provider.error.market_region.unknown_region"))
		mustContain(t, res.body, `<option value="FR" selected>`, `value="EUR"`)

		// France moves to the new region; "Change" fills the form with it.
		wantRedirect(t, w.postForm(t, operatorRegionsPath+"/markets", url.Values{"market_country": {"FR"}, "market_region": {"western_europe"}, "market_currency": {"EUR"}}, w.withSession(w.op)...),
			operatorRegionsPath+"?done=market_saved")
		res = w.get(t, operatorRegionsPath+"?market=FR", en(w.op)...)
		if i, j := strings.Index(res.body, `id="region-western_europe"`), strings.Index(res.body, marketRowOf("France", "FR", "EUR")); i < 0 || j < i {
			t.Errorf("France is not under Western Europe")
		}
		mustContain(t, res.body, `<option value="FR" selected>`, `<option value="western_europe" selected>`, `id="market_currency" name="market_currency" value="EUR"`)
		pv, err := w.svc.GetPartnerProfile(context.Background(), w.partnerActor)
		if err != nil || pv.Agreement.Region != "western_europe" {
			t.Errorf("Contoso's region: %q %v", pv.Agreement.Region, err)
		}

		// A market where partners are located stays; another one goes.
		res = w.postForm(t, operatorRegionsPath+"/markets/FR/remove", nil, en(w.op)...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("remove France: %d", res.StatusCode)
		}
		mustContain(t, res.body, textArgs(b, "en", "provider.error.market_in_use", "country", "France"), marketRowOf("France", "FR", "EUR"))
		wantRedirect(t, w.postForm(t, operatorRegionsPath+"/markets/DK/remove", nil, w.withSession(w.op)...), operatorRegionsPath+"?done=market_removed")
		res = w.get(t, operatorRegionsPath+"?done=market_removed", en(w.op)...)
		mustContain(t, res.body, text(b, "en", "provider.regions.notice.market_removed"))
		mustNotContain(t, res.body, marketRowOf("Denmark", "DK", "DKK"))
		res = w.postForm(t, operatorRegionsPath+"/markets/DK/remove", nil, en(w.op)...)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("remove twice: %d", res.StatusCode)
		}
		mustContain(t, res.body, text(b, "en", "provider.error.market_not_found"))

		// In French, the countries are named in French.
		res = w.get(t, operatorRegionsPath, append(w.withSession(w.op), "Accept-Language", "fr")...)
		mustContain(t, res.body, `<html lang="fr"`, text(b, "fr", "provider.regions.title"), marketRowOf("Royaume-Uni", "GB", "GBP"),
			marketRowOf("États-Unis", "US", "USD"), textArgs(b, "fr", "provider.regions.market.remove", "country", "Suisse"))
		if strings.Contains(w.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", w.logs)
		}
	})
}
