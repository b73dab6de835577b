package web

import (
	"bytes"
	"context"
	"database/sql"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// agreementServer is the UI over a SQLite database the test also reaches
// with plain SQL, to store the partner profiles enrollment writes in
// production.
type agreementServer struct {
	*identityServer
	raw *sql.DB
}

func newAgreementServer(t *testing.T) *agreementServer {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	opts := testdb.OptionsFor(t, "sqlite")
	opts.Clock = clock
	db, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(opts.DataDir, "csphub.db")+
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	svc := service.New(db, nil, service.Options{})
	if _, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"}); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{Service: svc, Clock: clock})
	return &agreementServer{identityServer: &identityServer{testServer: ts, db: db, svc: svc, clock: clock, cookie: "csphub_session"}, raw: raw}
}

// operator signs in the operator's first admin, past MFA.
func (s *agreementServer) operator(t *testing.T) (*http.Cookie, csphub.Actor) {
	t.Helper()
	ctx := context.Background()
	_, link, err := s.svc.CreateOperatorAdmin(ctx, "olga@operator.example", "Olga Operator", "en")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, s.postForm(t, u.Path, url.Values{"password": {goodPassword}}), "/signin?done=reset")
	res := s.signIn(t, "olga@operator.example", goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	_, _, c := s.enrol(t, s.sessionCookie(res))
	return c, s.actorOf(t, c)
}

func (s *agreementServer) actorOf(t *testing.T, c *http.Cookie) csphub.Actor {
	t.Helper()
	a, err := s.svc.SessionActor(context.Background(), c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// enrolled gives the organization a partner ID and a profile in country.
func (s *agreementServer) enrolled(t *testing.T, orgID, partnerID, country string) {
	t.Helper()
	if _, err := s.raw.Exec(`INSERT INTO partner_ids (partner_id, legal_name, country, status, source, org_id, created_at)
		VALUES (?, 'Contoso SAS', ?, 'active', 'issued', ?, ?)`, partnerID, country, orgID, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	p := csphub.PartnerProfile{OrgID: orgID, PartnerID: partnerID, LegalName: "Contoso SAS",
		Address:        csphub.Address{Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: country},
		PrimaryContact: csphub.PrimaryContact{FirstName: "Jeanne", LastName: "Martin", Email: "jeanne@contoso.example", Phone: "+33123456789", Lang: "fr"},
		SupportContact: csphub.SupportContact{Email: "support@contoso.example", Phone: "+33123456789"}, Version: 1}
	if err := s.db.Write(context.Background(), func(tx *store.Tx) error {
		p.UpdatedAt = tx.Now()
		return tx.InsertPartnerProfile(p)
	}); err != nil {
		t.Fatal(err)
	}
}

// member invites a user with roles into the admin's organization and
// signs them in, past MFA.
func (s *agreementServer) member(t *testing.T, admin csphub.Actor, email string, roles ...string) *http.Cookie {
	t.Helper()
	if _, err := s.svc.InviteUser(context.Background(), admin, service.InviteUserInput{Email: email, Name: "Paul Durand", Roles: roles}); err != nil {
		t.Fatal(err)
	}
	link := s.invitationEmails(t)[email]
	if link == "" {
		t.Fatalf("no invitation to %s", email)
	}
	wantRedirect(t, s.postForm(t, link, url.Values{"password": {goodPassword}}), "/signin?done=invited")
	res := s.signIn(t, email, goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	_, _, c := s.enrol(t, s.sessionCookie(res))
	return c
}

// msg is a message as pages show it: html/template escapes "+" too.
func msg(b *i18n.Bundle, lang, key string, args ...any) string {
	return strings.ReplaceAll(html.EscapeString(b.For(lang).T(key, args...)), "+", "&#43;")
}

func TestOperatorAgreementsPage(t *testing.T) {
	s := newAgreementServer(t)
	b := catalog(t)
	c, _ := s.operator(t)
	fr := append(s.withSession(c), "Accept-Language", "fr")

	res := s.get(t, "/operator/agreements", fr...)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("page: %d %s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, text(b, "fr", "agreement.operator.title"), text(b, "fr", "agreement.operator.versions.none"),
		`<a href="/operator/agreements" aria-current="page">`+text(b, "fr", "operator.nav.agreements")+`</a>`,
		`<input type="checkbox" id="regions" name="regions" value="asia_pacific">`,
		`<label for="regions-europe">Europe</label>`, text(b, "fr", "agreement.region.north_america"),
		`action="/operator/agreements"`, text(b, "fr", "agreement.operator.publish.submit"))

	// Every refusal shows by its field, and what was typed stays.
	res = s.postForm(t, "/operator/agreements", url.Values{"title": {"Contrat partenaire"}, "url": {"http://example.com/x.pdf"}}, fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty form: %d", res.StatusCode)
	}
	mustContain(t, res.body,
		`<p class="field-error" id="version-error">`+text(b, "fr", "agreement.error.version.required")+`</p>`,
		`<p class="field-error" id="effective_at-error">`+text(b, "fr", "agreement.error.effective_at.required")+`</p>`,
		`<p class="field-error" id="regions-error">`+text(b, "fr", "agreement.error.regions.required")+`</p>`,
		`<p class="field-error" id="url-error">`+text(b, "fr", "agreement.error.url.https_required")+`</p>`,
		`value="Contrat partenaire"`, `value="http://example.com/x.pdf"`, `<a href="#version">`)
	mustNotContain(t, res.body, `id="title-error"`)
	res = s.postForm(t, "/operator/agreements", url.Values{"version": {"2026-03"}, "title": {"Contrat"}, "effective_at": {"2026-02-30"},
		"regions": {"europe"}}, fr...)
	mustContain(t, res.body,
		`<p class="field-error" id="effective_at-error">`+text(b, "fr", "agreement.error.effective_at.invalid_date")+`</p>`,
		`<p class="field-error" id="body-error">`+text(b, "fr", "agreement.error.body.body_or_url_required")+`</p>`,
		`value="europe" checked`, `value="2026-02-30"`)

	// Published.
	form := url.Values{"version": {"2026-03"}, "title": {"Contrat partenaire 2026"}, "effective_at": {"2026-03-01"},
		"regions": {"europe", "north_america"}, "body": {"Article 1.\r\nLigne deux.\r\n\r\nArticle 2."}}
	wantRedirect(t, s.postForm(t, "/operator/agreements", form, fr...), "/operator/agreements?done=published")
	res = s.get(t, "/operator/agreements?done=published", fr...)
	mustContain(t, res.body, text(b, "fr", "agreement.operator.notice.published"), "<th scope=\"row\">2026-03</th>", "Contrat partenaire 2026",
		"Europe, "+text(b, "fr", "agreement.region.north_america"), text(b, "fr", "agreement.state.in_force"))
	// The same version name again is a conflict, shown by its field.
	form.Set("effective_at", "2026-04-01")
	res = s.postForm(t, "/operator/agreements", form, fr...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("same version: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="version-error">`+text(b, "fr", "agreement.error.version.version_taken")+`</p>`)
	// A date before the previous version's is refused.
	form.Set("version", "2026-02")
	form.Set("effective_at", "2026-02-01")
	res = s.postForm(t, "/operator/agreements", form, s.withSession(c)...)
	mustContain(t, res.body, `<p class="field-error" id="effective_at-error">`+text(b, "en", "agreement.error.effective_at.not_after_previous")+`</p>`)
	// A scheduled version.
	form.Set("version", "2026-09")
	form.Set("effective_at", "2026-09-01")
	wantRedirect(t, s.postForm(t, "/operator/agreements", form, s.withSession(c)...), "/operator/agreements?done=published")
	res = s.get(t, "/operator/agreements", s.withSession(c)...)
	mustContain(t, res.body, text(b, "en", "agreement.state.scheduled"), text(b, "en", "agreement.state.in_force"))

	// Partners never reach the operator's page.
	p := s.partnerAdmin(t)
	if res := s.get(t, "/operator/agreements", s.withSession(p)...); res.StatusCode != http.StatusForbidden {
		t.Errorf("partner on the operator page: %d", res.StatusCode)
	}
	if res := s.postForm(t, "/operator/agreements", form, s.withSession(p)...); res.StatusCode != http.StatusForbidden {
		t.Errorf("partner publishes: %d", res.StatusCode)
	}
}

var agreementField = regexp.MustCompile(`<input type="hidden" name="agreement" value="([^"]+)">`)

func TestPartnerAgreementPage(t *testing.T) {
	s := newAgreementServer(t)
	b := catalog(t)
	ctx := context.Background()
	_, op := s.operator(t)
	c := s.partnerAdmin(t)
	admin := s.actorOf(t, c)
	fr := append(s.withSession(c), "Accept-Language", "fr")

	// Not enrolled yet: nothing to accept.
	res := s.get(t, "/partner/agreement", fr...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("page: %d %s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, text(b, "fr", "agreement.partner.not_enrolled"),
		`<a href="/partner/agreement" aria-current="page">`+text(b, "fr", "partner.nav.agreement")+`</a>`)
	mustNotContain(t, res.body, `name="signer_name"`)

	// Enrolled, but no version in force for the region.
	s.enrolled(t, admin.OrgID, "9000001", "FR")
	mustContain(t, s.get(t, "/partner/agreement", fr...).body, msg(b, "fr", "agreement.partner.none_published", "region", "Europe"))

	v1, err := s.svc.PublishAgreement(ctx, op, service.PublishAgreementInput{Version: "2026-01", Title: "Contrat partenaire CSP",
		Body: "Article 1.\nSuite de l'article.\n\nArticle 2 <b>gras</b>.", URL: "https://example.com/contrat.pdf",
		EffectiveAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Regions: []string{"europe"}})
	if err != nil {
		t.Fatal(err)
	}
	res = s.get(t, "/partner/agreement", fr...)
	mustContain(t, res.body, "<h2 id=\"agreement-heading\">Contrat partenaire CSP</h2>", "<dd>2026-01</dd>",
		"<p>Article 1.<br>Suite de l&#39;article.</p>", "<p>Article 2 &lt;b&gt;gras&lt;/b&gt;.</p>",
		`<a href="https://example.com/contrat.pdf" rel="noopener noreferrer">`+text(b, "fr", "agreement.partner.document_link")+`</a>`,
		`value="Jeanne Martin"`, `value="jeanne@contoso.example"`, `<input type="hidden" name="agreement" value="`+v1.ID+`">`,
		msg(b, "fr", "agreement.field.accept", "version", "2026-01"))
	mustNotContain(t, res.body, "notice-success")

	// The box must be ticked; every field is checked; nothing is recorded.
	form := url.Values{"agreement": {v1.ID}, "signer_name": {"Jeanne Martin"}, "signer_email": {"jeanne@contoso.example"}, "signer_phone": {"01 23 45 67 89"}}
	res = s.postForm(t, "/partner/agreement", form, fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("box not ticked: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="accept-error">`+text(b, "fr", "agreement.error.accept.required")+`</p>`, `value="01 23 45 67 89"`)
	form.Set("accept", "yes")
	form.Set("signer_phone", "12")
	form.Set("signer_email", "jeanne@")
	res = s.postForm(t, "/partner/agreement", form, fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad phone: %d", res.StatusCode)
	}
	mustContain(t, res.body,
		`<p class="field-error" id="signer_phone-error">`+msg(b, "fr", "agreement.error.signer_phone.invalid_phone")+`</p>`,
		`<p class="field-error" id="signer_email-error">`+text(b, "fr", "agreement.error.signer_email.invalid_email")+`</p>`,
		`value="yes" required checked`)
	if st, _ := s.svc.OwnAgreementStatus(ctx, admin); st.Signed {
		t.Fatal("a refused form accepted the agreement")
	}

	// Another role reads the agreement and learns who can accept it.
	sales := s.member(t, admin, "paul@contoso.example", csphub.RoleSalesAgent, csphub.RoleAccountAdmin)
	res = s.get(t, "/partner/agreement", append(s.withSession(sales), "Accept-Language", "fr")...)
	mustContain(t, res.body, "Contrat partenaire CSP", text(b, "fr", "agreement.partner.accept.global_admin_only"))
	mustNotContain(t, res.body, `name="signer_name"`)
	form.Set("signer_phone", "01 23 45 67 89")
	form.Set("signer_email", "jeanne@contoso.example")
	if res := s.postForm(t, "/partner/agreement", form, s.withSession(sales)...); res.StatusCode != http.StatusForbidden {
		t.Fatalf("sales agent accepts: %d", res.StatusCode)
	}

	// The global admin accepts: the green confirmation shows.
	wantRedirect(t, s.postForm(t, "/partner/agreement", form, fr...), "/partner/agreement?done=accepted")
	res = s.get(t, "/partner/agreement?done=accepted", fr...)
	signed := msg(b, "fr", "agreement.banner.signed", "version", "2026-01", "date", s.clock.Now())
	mustContain(t, res.body, `<div class="notice notice-success" role="status">`, signed, "<dd>&#43;33123456789</dd>")
	mustNotContain(t, res.body, `name="signer_name"`)
	mustContain(t, s.get(t, "/partner/agreement", append(s.withSession(sales), "Accept-Language", "fr")...).body, signed)

	// A new version takes effect: the partner is asked to accept again.
	v2, err := s.svc.PublishAgreement(ctx, op, service.PublishAgreementInput{Version: "2026-03-b", Title: "Contrat partenaire CSP 2",
		Body: "Nouveau texte.", EffectiveAt: s.clock.Now().Add(2 * time.Hour), Regions: []string{"europe"}})
	if err != nil {
		t.Fatal(err)
	}
	// Scheduled: the partner's acceptance still stands.
	mustContain(t, s.get(t, "/partner/agreement", fr...).body, signed)
	s.clock.Advance(3 * time.Hour)
	res = s.get(t, "/partner/agreement", fr...)
	mustContain(t, res.body, "Contrat partenaire CSP 2", msg(b, "fr", "agreement.partner.accept.new_version", "version", "2026-03-b", "previous", "2026-01"))
	mustNotContain(t, res.body, "notice-success")
	if m := agreementField.FindStringSubmatch(res.body); m == nil || m[1] != v2.ID {
		t.Fatalf("the form does not name version 2: %v", m)
	}
	// Another version takes effect while the form of version 2 is open:
	// the form is refused and the page shows the version now in force.
	if _, err := s.svc.PublishAgreement(ctx, op, service.PublishAgreementInput{Version: "2026-03-c", Title: "Contrat partenaire CSP 3",
		Body: "Texte final.", EffectiveAt: s.clock.Now().Add(time.Hour), Regions: []string{"europe"}}); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(2 * time.Hour)
	form.Set("agreement", v2.ID)
	res = s.postForm(t, "/partner/agreement", form, fr...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("a version no longer in force: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "agreement.error.not_current"), "Contrat partenaire CSP 3")
	// The box ticked for version 2 is not carried over to version 3.
	mustNotContain(t, res.body, `name="accept" value="yes" required checked`)
	m := agreementField.FindStringSubmatch(res.body)
	if m == nil || m[1] == v2.ID {
		t.Fatalf("the form still names version 2: %v", m)
	}
	form.Set("agreement", m[1])
	wantRedirect(t, s.postForm(t, "/partner/agreement", form, fr...), "/partner/agreement?done=accepted")
	mustContain(t, s.get(t, "/partner/agreement", fr...).body, msg(b, "fr", "agreement.banner.signed", "version", "2026-03-c", "date", s.clock.Now()))
	// A form naming a version accepted already changes nothing.
	form.Set("agreement", v1.ID)
	wantRedirect(t, s.postForm(t, "/partner/agreement", form, fr...), "/partner/agreement?done=accepted")
	if st, _ := s.svc.OwnAgreementStatus(ctx, admin); !st.Signed || st.Accepted.Version != "2026-03-c" {
		t.Fatalf("status: %+v", st)
	}

	// Customers and the operator have no partner agreement page.
	cust, _ := s.customerAdmin(t)
	if res := s.get(t, "/partner/agreement", s.withSession(cust)...); res.StatusCode != http.StatusForbidden {
		t.Errorf("customer: %d", res.StatusCode)
	}
}

// The banner the partner's pages show, for each standing and reader.
func TestAgreementBanner(t *testing.T) {
	h, err := New(Options{Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	b := catalog(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	v1 := &csphub.Agreement{ID: "a1", Version: "2026-01"}
	v2 := &csphub.Agreement{ID: "a2", Version: "2026-06"}
	accepted := &csphub.AgreementAcceptance{AgreementID: "a1", Version: "2026-01", AcceptedAt: at}
	for _, lang := range []string{"en", "fr"} {
		l := h.i18n.For(lang)
		tmpl, err := parsePage(h.funcs(l), pagePartnerAgreement)
		if err != nil {
			t.Fatal(err)
		}
		render := func(st csphub.AgreementStatus, canAccept bool) string {
			var buf bytes.Buffer
			if err := tmpl.ExecuteTemplate(&buf, "agreement-banner", agreementBanner{Status: st, CanAccept: canAccept}); err != nil {
				t.Fatal(err)
			}
			return buf.String()
		}
		// Nothing in force, nothing to say.
		if out := strings.TrimSpace(render(csphub.AgreementStatus{Region: "europe"}, true)); out != "" {
			t.Errorf("%s: banner with no version in force: %q", lang, out)
		}
		out := render(csphub.AgreementStatus{Region: "europe", Current: v1, Signed: true, Accepted: accepted}, false)
		mustContain(t, out, `class="notice notice-success"`, msg(b, lang, "agreement.banner.signed", "version", "2026-01", "date", at))
		mustNotContain(t, out, "/partner/agreement")

		out = render(csphub.AgreementStatus{Region: "europe", Current: v1}, true)
		mustContain(t, out, `class="notice notice-warning"`, text(b, lang, "agreement.banner.unsigned.heading"),
			text(b, lang, "agreement.banner.unsigned.admin"), `<a href="/partner/agreement">`+text(b, lang, "agreement.banner.link.accept")+`</a>`)
		out = render(csphub.AgreementStatus{Region: "europe", Current: v1}, false)
		mustContain(t, out, text(b, lang, "agreement.banner.unsigned.other"), text(b, lang, "agreement.banner.link.read"))
		mustNotContain(t, out, text(b, lang, "agreement.banner.unsigned.admin"))

		out = render(csphub.AgreementStatus{Region: "europe", Current: v2, ReacceptanceRequired: true, Accepted: accepted}, true)
		mustContain(t, out, msg(b, lang, "agreement.banner.reaccept.heading", "version", "2026-06"),
			text(b, lang, "agreement.banner.reaccept.admin"), text(b, lang, "agreement.banner.link.accept"))
		mustNotContain(t, out, "notice-success")
		out = render(csphub.AgreementStatus{Region: "europe", Current: v2, ReacceptanceRequired: true, Accepted: accepted}, false)
		mustContain(t, out, text(b, lang, "agreement.banner.reaccept.other"), text(b, lang, "agreement.banner.link.read"))
	}
}

func TestAgreementParagraphs(t *testing.T) {
	got := paragraphsOf("\nOne.\r\nStill one.\r\n\r\n\r\nTwo.\n\n  \n\nThree.\n")
	want := [][]string{{"One.", "Still one."}, {"Two."}, {"Three."}}
	if len(got) != len(want) {
		t.Fatalf("%q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("paragraph %d: %q, want %q", i, got[i], want[i])
		}
	}
}
