package web

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// customerWorld is the partnership world with the relationship between
// Fabrikam (provider) and Contoso (reseller) active.
func newCustomerWorld(t *testing.T, engine string) *partnershipWorld {
	t.Helper()
	w := newPartnershipWorld(t, engine, service.Options{}, providerReady)
	link := w.invite(t, resellerEmail, "")
	wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...),
		indirectProvidersPath+"?done=authorized")
	w.outbox(t)
	return w
}

var customerLinkShape = regexp.MustCompile(`https://csphub\.example(/customer-invitations/[A-Za-z0-9_-]+)`)

// customerLink claims the queued emails and returns the path of the
// customer invitation sent to email.
func (w *partnershipWorld) customerLink(t *testing.T, email string) string {
	t.Helper()
	for _, m := range w.outbox(t) {
		if l := customerLinkShape.FindStringSubmatch(m.Text); l != nil && m.To == email {
			return l[1]
		}
	}
	t.Fatalf("no customer invitation to %s", email)
	return ""
}

// inviteCustomer invites email from the reseller's form and returns the
// emailed link.
func (w *partnershipWorld) inviteCustomer(t *testing.T, email string, extra url.Values) string {
	t.Helper()
	form := url.Values{"provider_id": {w.provider.orgID}, "email": {email}, "company_name": {"Northwind Traders"}, "lang": {"fr"}}
	for k, v := range extra {
		form[k] = v
	}
	wantRedirect(t, w.postForm(t, customerInvitationsPath, form, w.as(w.reseller, "en")...), customerInvitationsPath+"?done=invited")
	return w.customerLink(t, email)
}

// newCustomerForm is a visitor's organization for the acceptance form.
func newCustomerForm(name, domain, email string) url.Values {
	return url.Values{"organization_name": {name}, "country": {"FR"}, "domain": {domain}, "name": {"Nadia Roux"},
		"email": {email}, "password": {goodPassword}}
}

// acceptAsNewCustomer creates the customer organization on the link's
// page and returns its global admin's session.
func (w *partnershipWorld) acceptAsNewCustomer(t *testing.T, link string, form url.Values) *http.Cookie {
	t.Helper()
	res := w.postForm(t, link+"/accept", form, "Accept-Language", "en")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("accept as a new customer: %d %s", res.StatusCode, res.body)
	}
	c := w.sessionCookie(res)
	if c == nil || c.Value == "" {
		t.Fatal("the new customer is not signed in")
	}
	return c
}

// customersShown lists the customer names of a list page, in order.
func customersShown(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td><a href="/partner/customers/[^"]+">([^<]+)</a></td>`).FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func wantCustomers(t *testing.T, res response, want ...string) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("customer list: %d %.500s", res.StatusCode, res.body)
	}
	if got := customersShown(res.body); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("customers shown %q, want %q", got, want)
	}
}

func TestCustomerInvitationFormAndList(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b := catalog(t)

		// The Indirect providers page leads, per active provider, to its
		// customers and to the invitation form.
		res := w.get(t, indirectProvidersPath, w.as(w.reseller, "en")...)
		customers := partnerCustomersPath + "?provider_id=" + w.provider.orgID
		invite := customerInvitationsPath + "/new?provider_id=" + w.provider.orgID
		mustContain(t, res.body, `<a href="`+customers+`"`, msg(b, "en", "customer.action.view_customers"),
			`<a href="`+invite+`"`, msg(b, "en", "customer.action.invite_customers"))

		res = w.get(t, invite, w.as(w.reseller, "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("invitation form: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "fr", "customer.invite.title"), `<option value="`+w.provider.orgID+`" selected>Fabrikam SARL`,
			`<label for="email">`, `<label for="company_name">`, `<label for="lang">`, `name="reseller_roles" value="global_admin"`,
			`name="provider_roles" value="billing_admin"`, `<option value="fr" lang="fr" selected>`,
			`aria-current="page">`+msg(b, "fr", "customer.nav.invitations"))

		// Each bad field is shown next to it, and what was typed stays.
		res = w.postForm(t, customerInvitationsPath, url.Values{"provider_id": {""}, "email": {"nope"}, "company_name": {strings.Repeat("x", 201)},
			"lang": {"fr"}, "reseller_roles": {"user"}}, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad invitation: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "provider_id", msg(b, "en", "customer.error.provider_id.required"))
		fieldErrorShown(t, res.body, "email", msg(b, "en", "customer.error.email.invalid_email"))
		fieldErrorShown(t, res.body, "company_name", msg(b, "en", "customer.error.company_name.invalid_name"))
		mustContain(t, res.body, `value="nope"`, `name="reseller_roles" value="user" checked`, `<option value="fr" lang="fr" selected>`)
		if strings.Index(res.body, `<li><a href="#provider_id">`) > strings.Index(res.body, `<li><a href="#email">`) {
			t.Error("the summary is not in the order of the form")
		}
		// A provider the reseller does not work with is refused next to it.
		res = w.postForm(t, customerInvitationsPath, url.Values{"provider_id": {w.reseller.orgID}, "email": {"it@northwind.example"}},
			w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("own organization as provider: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "provider_id", msg(b, "en", "customer.error.relationship_not_active"))

		// The invitation, listed with its provider and actions.
		w.inviteCustomer(t, "it@northwind.example", url.Values{"reseller_roles": {"user"}})
		res = w.get(t, customerInvitationsPath+"?done=invited", w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "customer.invitations.notice.invited"), ">it@northwind.example</td>", "<td>Fabrikam SARL</td>",
			"<td>"+msg(b, "en", "customer.invitation_state.pending")+"</td>", msg(b, "en", "customer.action.resend"), msg(b, "en", "customer.action.cancel"))
		resend := regexp.MustCompile(`action="(/partner/customer-invitations/[^"/]+/resend)"`).FindStringSubmatch(res.body)
		if resend == nil {
			t.Fatal("no resend button")
		}
		// Sent again at once: too soon.
		res = w.postForm(t, resend[1], nil, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("resend at once: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "customer.error.resend_too_soon"))
		// Cancelled: the list says so, the actions are gone.
		wantRedirect(t, w.postForm(t, strings.TrimSuffix(resend[1], "/resend")+"/cancel", nil, w.as(w.reseller, "en")...),
			customerInvitationsPath+"?done=cancel")
		res = w.get(t, customerInvitationsPath+"?done=cancel", w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "customer.invitations.notice.cancelled"), "<td>"+msg(b, "en", "customer.invitation_state.cancelled")+"</td>")
		mustNotContain(t, res.body, `/resend"`)
		// The provider cannot use the reseller's buttons.
		if r := w.postForm(t, resend[1], nil, w.as(w.provider, "en")...); r.StatusCode != http.StatusNotFound {
			t.Errorf("provider resends: %d", r.StatusCode)
		}
		w.noErrorsLogged(t)
	})
}

// uploadCSV posts a CSV file to the bulk form.
func (w *partnershipWorld) uploadCSV(t *testing.T, a partnerAccount, content string) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	r := httptest.NewRequest(http.MethodPost, customerInvitationsPath+"/bulk", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	h := w.as(a, "en")
	for i := 0; i+1 < len(h); i += 2 {
		r.Header.Add(h[i], h[i+1])
	}
	return w.do(t, r)
}

func TestCustomerBulkInvitationReport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b := catalog(t)
		csvFile := "email,provider,company_name\n" +
			"a@northwind.example," + w.provider.partnerID + ",Northwind\n" +
			"not-an-email," + w.provider.orgID + ",Tailspin\n" +
			"b@adatum.example,9999999,Adatum\n" +
			"c@litware.example," + w.provider.orgID + "\n"
		res := w.uploadCSV(t, w.reseller, csvFile)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("upload: %d %.500s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, msg(b, "en", "customer.bulk.report.summary", "sent", 2, "refused", 2),
			"<td>2</td>\n<td>a@northwind.example</td>\n<td>"+msg(b, "en", "customer.bulk.result.sent")+"</td>",
			"<td>3</td>\n<td>not-an-email</td>\n<td>"+msg(b, "en", "customer.bulk.result.refused", "reason", b.For("en").T("customer.error.email.invalid_email"))+"</td>",
			"<td>4</td>\n<td>b@adatum.example</td>\n<td>"+msg(b, "en", "customer.bulk.result.refused", "reason", b.For("en").T("customer.error.provider_id.required"))+"</td>",
			"<td>5</td>\n<td>c@litware.example</td>")
		sent := 0
		for _, m := range w.outbox(t) {
			if customerLinkShape.MatchString(m.Text) {
				sent++
			}
		}
		if sent != 2 {
			t.Errorf("%d invitations emailed, want 2", sent)
		}
		// A file that is not CSV, or empty, is refused next to the field.
		res = w.uploadCSV(t, w.reseller, "email,provider\n")
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty file: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "file", msg(b, "en", "customer.bulk.error.empty"))
		res = w.uploadCSV(t, w.reseller, "a@b.example,\"unclosed\n")
		fieldErrorShown(t, res.body, "file", msg(b, "en", "customer.bulk.error.malformed", "line", 1))
		w.noErrorsLogged(t)
	})
}

func TestCustomerAcceptanceByNewCustomer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b := catalog(t)
		link := w.inviteCustomer(t, "it@northwind.example", url.Values{"reseller_roles": {"user"}, "provider_roles": {"billing_admin"}})

		// A visitor reads it in the invitation's language (French), not
		// the browser's.
		res := w.get(t, link, "Accept-Language", "en")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Language") != "fr" || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("acceptance page: %d %v", res.StatusCode, res.Header)
		}
		mustContain(t, res.body, msg(b, "fr", "customer.accept.lead", "reseller", "Contoso SAS", "provider", "Fabrikam SARL"),
			msg(b, "fr", "customer.accept.meaning.relationship", "reseller", "Contoso SAS", "provider", "Fabrikam SARL"),
			msg(b, "fr", "customer.accept.meaning.admin", "partner", "Contoso SAS", "roles", msg(b, "fr", "role.user")),
			msg(b, "fr", "customer.accept.meaning.admin", "partner", "Fabrikam SARL", "roles", msg(b, "fr", "role.billing_admin")),
			`<input type="checkbox" id="grant_reseller" name="grant_reseller" value="yes"`,
			`<input type="checkbox" id="grant_provider" name="grant_provider" value="yes"`,
			`<option value="FR">France</option>`, `<label for="organization_name">`, `<label for="password">`,
			`value="Northwind Traders"`, `value="it@northwind.example"`, `action="`+link+`/decline"`)
		mustNotContain(t, res.body, `<option value="US">`)
		if m := regexp.MustCompile(`<a href="/signin\?next=([^"]+)">`).FindStringSubmatch(res.body); m == nil {
			t.Fatal("no sign-in link")
		} else if back, err := url.QueryUnescape(html.UnescapeString(m[1])); err != nil || back != link {
			t.Fatalf("sign-in comes back to %q, want %q", back, link)
		}
		// A reader who chose English reads English.
		r := httptest.NewRequest(http.MethodGet, link, nil)
		r.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
		if res := w.do(t, r); res.Header.Get("Content-Language") != "en" || !strings.Contains(res.body, msg(b, "en", "customer.accept.title")) {
			t.Errorf("chosen language: %q", res.Header.Get("Content-Language"))
		}

		// Each bad field is shown next to it.
		bad := newCustomerForm("Northwind", "not a domain", "it@northwind.example")
		bad.Set("password", "short")
		bad.Set("grant_reseller", "yes")
		res = w.postForm(t, link+"/accept", bad)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad organization: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "domain", msg(b, "fr", "form.error.domain.invalid_domain"))
		fieldErrorShown(t, res.body, "password", msg(b, "fr", "form.error.password.too_short"))
		mustContain(t, res.body, `value="not a domain"`, `name="grant_reseller" value="yes" checked`)
		// A country outside the reseller's region.
		outside := newCustomerForm("Northwind", "northwind.example", "it@northwind.example")
		outside.Set("country", "US")
		res = w.postForm(t, link+"/accept", outside)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("outside the region: %d", res.StatusCode)
		}
		countries := regexp.MustCompile(`<dd id="countries">([^<]+)</dd>`).FindStringSubmatch(res.body)
		if countries == nil {
			t.Fatal("no countries")
		}
		fieldErrorShown(t, res.body, "country", msg(b, "fr", "customer.error.country.outside", "countries", html.UnescapeString(countries[1])))

		// The organization is created and accepts at once, agreeing to the
		// reseller's roles only.
		good := newCustomerForm("Northwind", "northwind.example", "it@northwind.example")
		good.Set("grant_reseller", "yes")
		res = w.postForm(t, link+"/accept", good, "Accept-Language", "en")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("accept: %d %.500s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, msg(b, "fr", "customer.accept.accepted", "customer", "Northwind", "reseller", "Contoso SAS", "provider", "Fabrikam SARL"),
			`<a class="button primary" href="/customer/partners">`+msg(b, "fr", "customer.accept.to_partners"))
		customer := w.sessionCookie(res)
		if customer == nil {
			t.Fatal("the new customer is not signed in")
		}

		// The customer sees both partners and the grant it gave.
		res = w.get(t, customerPartnersPath, append(w.withSession(customer), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("customer partners: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "customer.partners.title"), ">Contoso SAS</td>", ">Fabrikam SARL</td>",
			"<td>"+msg(b, "en", "customer.partner_role.indirect_reseller")+"</td>", "<td>"+msg(b, "en", "customer.partner_role.indirect_provider")+"</td>",
			"<td>Fabrikam SARL</td>\n<td>Contoso SAS</td>", "<td>"+msg(b, "en", "role.user")+"</td>", msg(b, "en", "customer.action.terminate_grant"),
			`<a href="/customer/partners" aria-current="page">`+msg(b, "en", "customer.nav.partners"))
		mustNotContain(t, res.body, msg(b, "en", "role.billing_admin"))

		// Both partners' lists show it.
		wantCustomers(t, w.get(t, partnerCustomersPath+"?provider_id="+w.provider.orgID, w.as(w.reseller, "en")...), "Northwind")
		res = w.get(t, partnerCustomersPath+"?provider_id="+w.provider.orgID, w.as(w.reseller, "en")...)
		mustContain(t, res.body, "<h1>"+msg(b, "en", "customer.list.title_provider", "provider", "Fabrikam SARL")+"</h1>")
		wantCustomers(t, w.get(t, partnerCustomersPath, w.as(w.provider, "en")...), "Northwind")
		wantCustomers(t, w.get(t, partnerCustomersPath+"?reseller_id="+w.reseller.orgID, w.as(w.provider, "en")...), "Northwind")
		// Its chain, for the provider.
		res = w.get(t, partnerCustomersPath, w.as(w.provider, "en")...)
		detail := regexp.MustCompile(`<td><a href="(/partner/customers/[^"]+)">`).FindStringSubmatch(res.body)
		res = w.get(t, detail[1], w.as(w.provider, "en")...)
		mustContain(t, res.body, "<h1>Northwind</h1>", "<dd>northwind.example</dd>", "<td>Fabrikam SARL</td>\n<td>Contoso SAS</td>")

		// The link worked once.
		res = w.get(t, link)
		if res.StatusCode != http.StatusGone {
			t.Fatalf("used link: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "customer.accept.invalid.used"))
		if r := w.postForm(t, link+"/accept", good); r.StatusCode != http.StatusGone {
			t.Errorf("accepting again: %d", r.StatusCode)
		}
		w.noErrorsLogged(t)
	})
}

func TestCustomerWrongRegionIsSaidFirst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b := catalog(t)
		link := w.inviteCustomer(t, "it@adatum.example", nil)
		// A customer organization in the United States, signed in.
		form := signupForm("it@adatum.example")
		for k, v := range map[string]string{"kind": "customer", "country": "US", "domain": "adatum.example", "organization_name": "Adatum"} {
			form.Set(k, v)
		}
		us := w.signupWith(t, form)
		res := w.get(t, link, append(w.withSession(us), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("acceptance page: %d", res.StatusCode)
		}
		countries := regexp.MustCompile(`<dd id="countries">([^<]+)</dd>`).FindStringSubmatch(res.body)
		mustContain(t, res.body, `id="wrong-region"`, msg(b, "fr", "customer.accept.wrong_region", "organization", "Adatum",
			"country", msg(b, "fr", "country.us"), "countries", html.UnescapeString(countries[1])))
		mustNotContain(t, res.body, `action="`+link+`/accept"`, msg(b, "fr", "customer.accept.submit"))
		// Posting anyway creates nothing.
		if r := w.postForm(t, link+"/accept", nil, w.withSession(us)...); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("accept from the wrong region: %d", r.StatusCode)
		}
		wantCustomers(t, w.get(t, partnerCustomersPath, w.as(w.reseller, "en")...))
		// A French customer signed in as its global admin may accept.
		form = signupForm("it@northwind.example")
		for k, v := range map[string]string{"kind": "customer", "country": "FR", "domain": "northwind.example", "organization_name": "Northwind"} {
			form.Set(k, v)
		}
		fr := w.signupWith(t, form)
		res = w.get(t, link, append(w.withSession(fr), "Accept-Language", "en")...)
		mustContain(t, res.body, msg(b, "fr", "customer.accept.signed_in", "organization", "Northwind"), `action="`+link+`/accept"`)
		mustNotContain(t, res.body, `id="wrong-region"`, `name="password"`)
		res = w.postForm(t, link+"/accept", nil, w.withSession(fr)...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("signed-in accept: %d %.400s", res.StatusCode, res.body)
		}
		wantCustomers(t, w.get(t, partnerCustomersPath, w.as(w.reseller, "en")...), "Northwind")
		// A partner cannot answer for a customer.
		link = w.inviteCustomer(t, "other@northwind.example", nil)
		res = w.get(t, link, w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "fr", "customer.accept.not_allowed"))
		if r := w.postForm(t, link+"/accept", nil, w.as(w.provider, "en")...); r.StatusCode != http.StatusForbidden {
			t.Errorf("partner accepts: %d", r.StatusCode)
		}
		w.noErrorsLogged(t)
	})
}

// createCustomer creates a customer for Contoso from the provider's form.
func (w *partnershipWorld) createCustomer(t *testing.T, name, domain string) {
	t.Helper()
	res := w.postForm(t, partnerCustomersPath+"/new", url.Values{"reseller_id": {w.reseller.orgID}, "organization_name": {name}, "country": {"FR"},
		"domain": {domain}, "admin_name": {"Admin " + name}, "admin_email": {"admin@" + domain}, "lang": {"fr"}}, w.as(w.provider, "en")...)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), partnerCustomersPath+"/") {
		t.Fatalf("create %s: %d %.500s", name, res.StatusCode, res.body)
	}
}

func TestCustomerListsShowExactlyTheirCustomers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b := catalog(t)

		// The provider's form: errors next to the fields.
		res := w.get(t, partnerCustomersPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "customer.list.empty"), `<a class="button" href="/partner/customers/new">`)
		res = w.get(t, partnerCustomersPath+"/new", w.as(w.provider, "en")...)
		mustContain(t, res.body, `<option value="`+w.reseller.orgID+`">Contoso SAS`, `<label for="admin_email">`)
		res = w.postForm(t, partnerCustomersPath+"/new", url.Values{"organization_name": {"Alpha"}, "country": {"FR"}, "domain": {"x"},
			"admin_name": {"A"}, "admin_email": {"bad"}}, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad customer: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "reseller_id", msg(b, "en", "customer.error.reseller_id.required"))
		fieldErrorShown(t, res.body, "domain", msg(b, "en", "form.error.domain.invalid_domain"))
		fieldErrorShown(t, res.body, "admin_email", msg(b, "en", "customer.error.admin_email.invalid_email"))
		mustContain(t, res.body, `value="Alpha"`)
		// The reseller is no provider of Fabrikam's: it cannot create.
		res = w.postForm(t, partnerCustomersPath+"/new", url.Values{"reseller_id": {w.provider.orgID}, "organization_name": {"Alpha"}, "country": {"FR"},
			"domain": {"alpha.example"}, "admin_name": {"A"}, "admin_email": {"a@alpha.example"}}, w.as(w.reseller, "en")...)
		if res.StatusCode == http.StatusSeeOther {
			t.Fatal("the reseller created a customer for its provider")
		}

		for _, c := range []struct{ name, domain string }{{"Charlie", "charlie.example"}, {"Alpha", "alpha.example"}, {"Bravo", "bravo.example"}} {
			w.createCustomer(t, c.name, c.domain)
			w.clock.Advance(time.Minute)
		}
		// A customer with no relationship, and one of another reseller.
		form := signupForm("it@zulu.example")
		for k, v := range map[string]string{"kind": "customer", "domain": "zulu.example", "organization_name": "Zulu"} {
			form.Set(k, v)
		}
		w.signupWith(t, form)

		// Pages of two, by name; then by date, the newest first.
		res = w.get(t, partnerCustomersPath+"?provider_id="+w.provider.orgID, w.as(w.reseller, "en")...)
		wantCustomers(t, res, "Alpha", "Bravo")
		mustContain(t, res.body, msg(b, "en", "customer.partner_role.indirect_provider"), msg(b, "en", "customer.partner_role.indirect_reseller"))
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(res.body)
		if next == nil {
			t.Fatal("no next page")
		}
		res = w.get(t, html.UnescapeString(next[1]), w.as(w.reseller, "en")...)
		wantCustomers(t, res, "Charlie")
		mustNotContain(t, res.body, `rel="next"`)
		wantCustomers(t, w.get(t, partnerCustomersPath+"?sort=created", w.as(w.provider, "en")...), "Bravo", "Alpha")
		// Search by name or domain.
		wantCustomers(t, w.get(t, partnerCustomersPath+"?q=br", w.as(w.provider, "en")...), "Bravo")
		wantCustomers(t, w.get(t, partnerCustomersPath+"?q=charlie.ex", w.as(w.reseller, "en")...), "Charlie")
		res = w.get(t, partnerCustomersPath+"?q=zulu", w.as(w.reseller, "en")...)
		wantCustomers(t, res)
		mustContain(t, res.body, msg(b, "en", "customer.list.none_matching"))
		// Both filters at once are refused next to the field.
		res = w.get(t, partnerCustomersPath+"?provider_id="+w.provider.orgID+"&reseller_id="+w.reseller.orgID, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("two filters: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "reseller_id", msg(b, "en", "customer.error.one_filter"))
		// Another partner sees none of them, and cannot open them.
		form = signupForm("ann@tailspin.example")
		form.Set("domain", "tailspin.example")
		form.Set("organization_name", "Tailspin")
		_, _, tailspin := w.enrol(t, w.signupWith(t, form))
		wantCustomers(t, w.get(t, partnerCustomersPath, append(w.withSession(tailspin), "Accept-Language", "en")...))
		res = w.get(t, partnerCustomersPath, w.as(w.provider, "en")...)
		detail := regexp.MustCompile(`<td><a href="(/partner/customers/[^"]+)">`).FindStringSubmatch(res.body)
		if r := w.get(t, detail[1], append(w.withSession(tailspin), "Accept-Language", "en")...); r.StatusCode != http.StatusNotFound {
			t.Errorf("another partner opens a customer: %d", r.StatusCode)
		}
		// Visitors sign in; the operator and customers are not partners.
		wantRedirect(t, w.get(t, partnerCustomersPath), "/signin")
		if r := w.get(t, partnerCustomersPath, w.withSession(w.opCookie)...); r.StatusCode != http.StatusForbidden {
			t.Errorf("operator: %d", r.StatusCode)
		}
		if r := w.get(t, customerPartnersPath, w.as(w.reseller, "en")...); r.StatusCode != http.StatusForbidden {
			t.Errorf("partner on the customer's page: %d", r.StatusCode)
		}
		w.noErrorsLogged(t)
	})
}

func TestCustomerRemovesARelationship(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b := catalog(t)
		link := w.inviteCustomer(t, "it@northwind.example", url.Values{"provider_roles": {"user"}})
		form := newCustomerForm("Northwind", "northwind.example", "it@northwind.example")
		form.Set("grant_provider", "yes")
		customer := w.acceptAsNewCustomer(t, link, form)
		as := append(w.withSession(customer), "Accept-Language", "en")

		res := w.get(t, customerPartnersPath, as...)
		remove := regexp.MustCompile(`<td id="r-[^"]+">Contoso SAS</td>(?s:.*?)<a href="(/customer/partners/[^"]+/remove)"`).FindStringSubmatch(res.body)
		if remove == nil {
			t.Fatalf("no remove link: %s", res.body)
		}
		// The confirmation names the partner and says what removing does.
		res = w.get(t, remove[1], as...)
		mustContain(t, res.body, msg(b, "en", "customer.remove.title"), "<dd>Contoso SAS</dd>",
			msg(b, "en", "customer.remove.intro", "partner", "Contoso SAS"), `<form class="form" method="post" action="`+remove[1]+`">`)
		wantRedirect(t, w.postForm(t, remove[1], nil, as...), customerPartnersPath+"?done=removed")
		res = w.get(t, customerPartnersPath+"?done=removed", as...)
		mustContain(t, res.body, msg(b, "en", "customer.partners.notice.removed"), "<td>"+msg(b, "en", "customer.relationship_state.removed"))
		// The reseller no longer sees the customer; the provider still does.
		wantCustomers(t, w.get(t, partnerCustomersPath, w.as(w.reseller, "en")...))
		wantCustomers(t, w.get(t, partnerCustomersPath, w.as(w.provider, "en")...), "Northwind")
		// Removing twice says it was done.
		res = w.postForm(t, remove[1], nil, as...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("remove twice: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "customer.error.relationship_removed"))

		// The provider's grant ends at once.
		terminate := regexp.MustCompile(`action="(/customer/partners/grants/[^"]+/terminate)"`).FindStringSubmatch(res.body)
		if terminate == nil {
			t.Fatal("no terminate button")
		}
		wantRedirect(t, w.postForm(t, terminate[1], nil, as...), customerPartnersPath+"?done=terminated")
		res = w.get(t, customerPartnersPath+"?done=terminated", as...)
		mustContain(t, res.body, msg(b, "en", "customer.partners.notice.terminated"), msg(b, "en", "customer.grants.empty"))
		if g, err := w.svc.ListGrants(context.Background(), w.provider.actor, service.GrantsReceived, "", 10); err != nil {
			t.Fatal(err)
		} else {
			for _, it := range g.Items {
				if it.GrantorName == "Northwind" && it.State == csphub.GrantActive {
					t.Error("the provider's grant is still active")
				}
			}
		}
		w.noErrorsLogged(t)
	})
}

func TestCustomerNavigation(t *testing.T) {
	w := newCustomerWorld(t, "sqlite")
	b := catalog(t)
	res := w.get(t, "/partner", w.as(w.reseller, "en")...)
	mustContain(t, res.body, `<li><a href="/partner/customers">`+msg(b, "en", "customer.nav.customers"),
		`<a href="/partner/customer-invitations">`+msg(b, "en", "customer.nav.invitations"))
	res = w.get(t, partnerCustomersPath, w.as(w.reseller, "en")...)
	mustContain(t, res.body, `<a href="/partner/customers" aria-current="page">`+msg(b, "en", "customer.nav.customers"))
	mustNotContain(t, res.body, `href="/customer/partners"`)
	w.noErrorsLogged(t)
}
