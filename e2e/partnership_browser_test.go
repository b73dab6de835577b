package e2e

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/totp"
)

// partnershipParty is a partner enrolled and approved through the
// service: its global admin signs in with a password in the browser.
type partnershipParty struct {
	email string
	name  string
	actor csphub.Actor
}

var enrollmentLink = regexp.MustCompile(`/enrollments/verify/([A-Za-z0-9_-]+)`)

// claimQueued takes the queued emails away from the outbox worker, so
// that the mailbox holds only what the journey sends, and returns the
// verification tokens they carry, by recipient.
func claimQueued(t *testing.T, st *enrollmentStack) map[string]string {
	t.Helper()
	msgs, err := st.db.ClaimOutbox(context.Background(), store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: 24 * time.Hour, Limit: 500, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, m := range msgs {
		mail, err := m.Email()
		if err != nil {
			t.Fatal(err)
		}
		if l := enrollmentLink.FindStringSubmatch(mail.Text); l != nil {
			tokens[mail.To] = l[1]
		}
	}
	return tokens
}

// approvedPartner enrols a French business as a visitor would, confirms
// its contact's email and has the operator approve it.
func approvedPartner(t *testing.T, st *enrollmentStack, operator csphub.Actor, legalName, domain, first, last, email, password string) partnershipParty {
	t.Helper()
	ctx := context.Background()
	res, err := st.svc.Enroll(ctx, csphub.Actor{}, service.EnrollmentInput{
		Account:        &service.EnrollmentAccount{Domain: domain, Name: first + " " + last, Email: email, Password: password, Lang: "fr"},
		LegalName:      legalName,
		Address:        csphub.Address{Line1: "12 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"},
		PrimaryContact: csphub.PrimaryContact{FirstName: first, LastName: last, Email: email, Phone: "01 23 45 67 89", Lang: "fr"},
		SupportContact: csphub.SupportContact{Email: "support@" + domain, Phone: "01 98 76 54 32"},
	})
	if err != nil {
		t.Fatalf("enrol %s: %v", legalName, err)
	}
	token := claimQueued(t, st)[email]
	if token == "" {
		t.Fatalf("no verification email to %s", email)
	}
	if _, err := st.svc.VerifyEnrollmentEmail(ctx, res.Enrollment.ID, token); err != nil {
		t.Fatalf("verify %s: %v", email, err)
	}
	if _, err := st.svc.DecideEnrollment(ctx, operator, res.Enrollment.ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatalf("approve %s: %v", legalName, err)
	}
	u := res.User
	return partnershipParty{email: email, name: legalName,
		actor: csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: u.OrgID, OrgKind: csphub.OrgPartner, Roles: u.Roles, MFAPassed: true}}
}

// TestPartnershipInBrowser walks the heart of the program in French: an
// indirect provider invites a reseller from its Indirect resellers page;
// the reseller's global admin opens the link from the mailbox, reads what
// authorizing means, ticks the box and authorizes; each side's page then
// shows the other.
func TestPartnershipInBrowser(t *testing.T) {
	clock := csphub.NewManualClock(time.Now())
	st := startEnrollmentStack(t, clock)
	ctx := context.Background()
	_, fr := catalogs(t)
	const (
		password      = "correct horse battery staple"
		providerEmail = "marc@fabrikam.example"
		resellerEmail = "jeanne@contoso.example"
	)

	// The world, through the service: the operator; an approved provider
	// authorized for Europe that accepted the agreement; an approved
	// reseller in France.
	opOrg, _, err := st.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Opérateur", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	opUser, _, err := st.svc.CreateOperatorAdmin(ctx, "olga@operator.example", "Olga Opératrice", "fr")
	if err != nil {
		t.Fatal(err)
	}
	operator := csphub.Actor{Kind: csphub.ActorUser, ID: opUser.ID, OrgID: opOrg.ID, OrgKind: csphub.OrgOperator, Roles: opUser.Roles, MFAPassed: true}
	provider := approvedPartner(t, st, operator, "Fabrikam SARL", "fabrikam.example", "Marc", "Dubois", providerEmail, password)
	reseller := approvedPartner(t, st, operator, "Contoso SAS", "contoso.example", "Jeanne", "Martin", resellerEmail, password)
	applied, err := st.svc.Enroll(ctx, provider.actor, service.EnrollmentInput{Program: string(csphub.ProgramIndirectProvider),
		SupportContact: csphub.SupportContact{Email: "aide@fabrikam.example", Phone: "01 23 45 67 99"}})
	if err != nil {
		t.Fatalf("provider application: %v", err)
	}
	if _, err := st.svc.DecideEnrollment(ctx, operator, applied.Enrollment.ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.AuthorizeProviderRegions(ctx, operator, provider.actor.OrgID, []string{"europe"}); err != nil {
		t.Fatal(err)
	}
	agreement, err := st.svc.PublishAgreement(ctx, operator, service.PublishAgreementInput{Version: "2026-01", Title: "Contrat partenaire CSP",
		Body: "Article 1. Le partenaire revend les services du programme.", EffectiveAt: clock.Now().Add(-time.Hour), Regions: []string{"europe"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.AcceptAgreement(ctx, provider.actor, agreement.ID, service.AcceptAgreementInput{SignerName: "Marc Dubois",
		SignerEmail: providerEmail, SignerPhone: "01 23 45 67 89"}); err != nil {
		t.Fatal(err)
	}
	claimQueued(t, st)

	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"},
	}); err != nil {
		t.Fatal(err)
	}
	step := 0
	shot := func(name string) {
		step++
		b.screenshot(t, fmt.Sprintf("partnership-%02d-%s", step, name))
	}
	heading := func(want string) {
		t.Helper()
		if got := pageText(t, b, "main h1"); got != want {
			t.Errorf("heading = %q, want %q", got, want)
		}
	}
	tableText := func() string { return pageEval[string](t, b, `document.querySelector('main table').innerText`) }

	// 1. The provider invites the reseller.
	signIn(t, b, st.srv.URL, providerEmail, password)
	b.do(t, "reach MFA setup", chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)))
	providerSecret := setUpMFA(t, b, clock)
	b.do(t, "open the indirect resellers",
		chromedp.Click(chromedp.CSS(`nav.settings-nav a[href="/partner/indirect-resellers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[method="post"][action="/partner/indirect-resellers"]`)),
	)
	heading(fr.T("partnership.resellers.title"))
	if got := pageText(t, b, `nav.settings-nav a[aria-current="page"]`); got != fr.T("partnership.nav.indirect_resellers") {
		t.Errorf("current tab = %q", got)
	}
	if !pageEval[bool](t, b, `document.querySelector('#lang').value === 'fr'`) {
		t.Error("the invitation does not default to French")
	}
	shot("resellers-empty")
	b.do(t, "invite the reseller",
		chromedp.SendKeys(chromedp.CSS("#email"), resellerEmail),
		chromedp.Focus(chromedp.CSS(`form[method="post"][action="/partner/indirect-resellers"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main .notice-success`)),
	)
	if got := pageText(t, b, `main .notice-success`); got != fr.T("partnership.resellers.notice.invited") {
		t.Errorf("notice = %q", got)
	}
	if row := tableText(); !strings.Contains(row, resellerEmail) || !strings.Contains(row, fr.T("partnership.state.invited")) {
		t.Errorf("the invitation is not listed: %q", row)
	}
	shot("invited")
	signOut(t, b)

	// 2. The reseller's global admin opens the link from the mailbox.
	st.deliver(t)
	signIn(t, b, st.srv.URL, resellerEmail, password)
	b.do(t, "reach MFA setup", chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)))
	setUpMFA(t, b, clock)
	b.do(t, "open the mailbox", chromedp.Navigate(st.srv.URL+"/mailbox"), chromedp.WaitVisible(chromedp.CSS("main table")))
	mailURL := pageEval[string](t, b, `(() => { for (const tr of document.querySelectorAll('main tbody tr')) { if (tr.textContent.includes('`+resellerEmail+`')) { const a = tr.querySelector('a'); if (a) return a.getAttribute('href'); } } return ''; })()`)
	if mailURL == "" {
		t.Fatalf("no email to %s in the mailbox", resellerEmail)
	}
	b.do(t, "open the invitation email", chromedp.Navigate(st.srv.URL+mailURL+"/html"), chromedp.WaitVisible(chromedp.CSS(`a[href*="/partnership-invitations/"]`)))
	link := pageEval[string](t, b, `document.querySelector('a[href*="/partnership-invitations/"]').href`)
	if !strings.HasPrefix(link, st.srv.URL+"/partnership-invitations/") {
		t.Fatalf("invitation link %q", link)
	}
	b.do(t, "follow the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#authorize`)))
	heading(fr.T("partnership.invitation.title"))
	if got := pageText(t, b, "main .lead"); got != fr.T("partnership.invitation.lead", "provider", provider.name) {
		t.Errorf("lead = %q", got)
	}
	meaning := pageText(t, b, `section[aria-labelledby="meaning-heading"]`)
	for _, key := range []string{"partnership.invitation.meaning.orders", "partnership.invitation.meaning.remove"} {
		if !strings.Contains(meaning, fr.T(key)) {
			t.Errorf("what authorizing means lacks %q: %q", fr.T(key), meaning)
		}
	}
	if facts := pageText(t, b, "main dl.facts"); !strings.Contains(facts, provider.name) || !strings.Contains(facts, "Europe") {
		t.Errorf("facts = %q", facts)
	}
	shot("invitation")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	fitsNarrow(t, b, st.srv.URL+u.Path)

	// 3. Without the box ticked nothing happens; ticked, the provider is
	// authorized.
	b.do(t, "open the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#authorize`)))
	b.do(t, "authorize without ticking",
		chromedp.Focus(chromedp.CSS(`form[action$="/accept"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")),
	)
	if got := pageText(t, b, "#authorize-error"); got != fr.T("partnership.error.authorize.required") {
		t.Errorf("unticked = %q", got)
	}
	shot("unticked")
	b.do(t, "tick the box and authorize",
		chromedp.Click(chromedp.CSS(`.error-summary a[href="#authorize"]`)),
		chromedp.Click(chromedp.CSS("#authorize")),
		chromedp.Focus(chromedp.CSS(`form[action$="/accept"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main .notice-success`)),
	)
	heading(fr.T("partnership.providers.title"))
	if got := pageText(t, b, `main .notice-success`); got != fr.T("partnership.providers.notice.authorized") {
		t.Errorf("notice = %q", got)
	}
	row := tableText()
	for _, want := range []string{provider.name, fr.T("partnership.state.active"), "Europe", fr.T("customer.action.view_customers"), fr.T("customer.action.invite_customers")} {
		if !strings.Contains(row, want) {
			t.Errorf("the provider's row lacks %q: %q", want, row)
		}
	}
	shot("providers")
	fitsNarrow(t, b, st.srv.URL+"/partner/indirect-providers")
	signOut(t, b)

	// 4. The provider's page shows the reseller.
	signIn(t, b, st.srv.URL, providerEmail, password)
	clock.Advance(totp.Period)
	enterCode(t, b, clock, providerSecret)
	b.do(t, "open the indirect resellers", chromedp.Navigate(st.srv.URL+"/partner/indirect-resellers"), chromedp.WaitVisible(chromedp.CSS("main table")))
	row = tableText()
	for _, want := range []string{reseller.name, fr.T("partnership.state.active"), "Europe", fr.T("partnership.action.suspend")} {
		if !strings.Contains(row, want) {
			t.Errorf("the reseller's row lacks %q: %q", want, row)
		}
	}
	shot("resellers")
	fitsNarrow(t, b, st.srv.URL+"/partner/indirect-resellers")
	// The refused acceptance was answered 422, which the browser reports;
	// any other message is a fault.
	b.checkConsoleCleanExcept(t, func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.HasSuffix(m.URL, "/accept") && strings.Contains(m.Text, "status of 422")
	})
}
