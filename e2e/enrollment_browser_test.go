package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/mail"
	"csphub/internal/outbox"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
	"csphub/internal/totp"
	"csphub/internal/web"
)

// enrollmentStack is the API and the pages over SQLite, as cmd/csphub
// serves them, with the local mailbox and an outbox worker the test runs
// when it expects an email.
type enrollmentStack struct {
	srv    *httptest.Server
	svc    *service.Service
	db     *store.DB
	worker *outbox.Worker
}

func startEnrollmentStack(t *testing.T, clock csphub.Clock) *enrollmentStack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The emails link to the server, whose address is known once it runs.
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	db := testdb.Open(t, "sqlite", clock)
	svc := service.New(db, log, service.Options{BaseURL: srv.URL})
	mux := http.NewServeMux()
	api.New(mux, api.Options{Service: svc, Authenticator: api.Credentials{Service: svc}, MaxBodyBytes: 1 << 20, Logger: log})
	pages, err := web.New(web.Options{Logger: log, Service: svc, Mailbox: serviceMailbox{svc}, Clock: clock, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	pages.Register(mux)
	handler = api.Middleware(api.CrossOriginProtection(mux), log, nil, 1<<20)
	sender, err := mail.NewMailboxSender(db, "csphub@csphub.example", "csphub", log)
	if err != nil {
		t.Fatal(err)
	}
	worker, err := outbox.New(outbox.Config{DB: db, Sender: sender, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &enrollmentStack{srv: srv, svc: svc, db: db, worker: worker}
}

// deliver sends the queued emails to the local mailbox.
func (s *enrollmentStack) deliver(t *testing.T) {
	t.Helper()
	if _, err := s.worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// serviceMailbox shows the service's local mailbox to the pages.
type serviceMailbox struct{ svc *service.Service }

func (m serviceMailbox) ListMail(ctx context.Context, pageToken string, limit int) ([]web.MailSummary, string, error) {
	page, err := m.svc.ListMailbox(ctx, pageToken, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]web.MailSummary, 0, len(page.Items))
	for _, it := range page.Items {
		out = append(out, web.MailSummary{ID: it.ID, From: it.From, To: strings.Split(it.To, ", "), Subject: it.Subject, Date: it.CreatedAt})
	}
	return out, page.Next, nil
}

func (m serviceMailbox) GetMail(ctx context.Context, id string) (web.MailMessage, error) {
	it, err := m.svc.MailboxMessage(ctx, id)
	if err != nil {
		return web.MailMessage{}, err
	}
	return web.MailMessage{MailSummary: web.MailSummary{ID: it.ID, From: it.From, To: strings.Split(it.To, ", "), Subject: it.Subject, Date: it.CreatedAt},
		TextBody: it.Text, HTMLBody: it.HTML}, nil
}

// TestEnrollmentInBrowser walks the partner's journey in French: a
// visitor enrols as an indirect reseller, linking a partner ID the
// operator imported, sets up MFA, opens the verification link from the
// mailbox; the operator approves the application; the global admin
// accepts the partner agreement and the CSP overview shows the green
// confirmation banner.
func TestEnrollmentInBrowser(t *testing.T) {
	clock := csphub.NewManualClock(time.Now())
	st := startEnrollmentStack(t, clock)
	ctx := context.Background()
	_, fr := catalogs(t)

	// The operator's side, through the service: the deployment's operator
	// and its admin, a partner ID with its claim code, and the agreement
	// in force in Europe.
	opOrg, _, err := st.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Opérateur", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	const (
		opEmail   = "olga@operator.example"
		email     = "jeanne@contoso.example"
		password  = "correct horse battery staple"
		partnerID = "4123456"
	)
	opUser, link, err := st.svc.CreateOperatorAdmin(ctx, opEmail, "Olga Opératrice", "fr")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.svc.CompletePasswordReset(ctx, strings.TrimPrefix(u.Path, "/reset-password/"), service.CompletePasswordResetInput{Password: password}); err != nil {
		t.Fatal(err)
	}
	operator := csphub.Actor{Kind: csphub.ActorUser, ID: opUser.ID, OrgID: opOrg.ID, OrgKind: csphub.OrgOperator, Roles: opUser.Roles}
	imported, err := st.svc.ImportPartnerIDs(ctx, operator, []service.PartnerIDRow{{Row: 1, PartnerID: partnerID, LegalName: "Contoso SAS", Country: "FR", Status: "active"}})
	if err != nil || imported.Imported != 1 || imported.Results[0].ClaimCode == "" {
		t.Fatalf("import: %+v %v", imported, err)
	}
	claimCode := imported.Results[0].ClaimCode
	agreement, err := st.svc.PublishAgreement(ctx, operator, service.PublishAgreementInput{
		Version: "2026-01", Title: "Contrat partenaire CSP", Body: "Article 1. Le partenaire revend les services du programme.\n\nArticle 2. Le partenaire protège les données de ses clients.",
		EffectiveAt: clock.Now().Add(-time.Hour), Regions: []string{"europe"}})
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"},
	}); err != nil {
		t.Fatal(err)
	}
	step := 0
	shot := func(name string) {
		step++
		b.screenshot(t, fmt.Sprintf("enrollment-%02d-%s", step, name))
	}
	heading := func(want string) {
		t.Helper()
		if got := pageText(t, b, "main h1"); got != want {
			t.Errorf("heading = %q, want %q", got, want)
		}
	}
	path := func() string { return pageEval[string](t, b, `location.pathname`) }

	// 1. The guided enrollment: the country first, then the form.
	b.do(t, "open the enrollment", chromedp.Navigate(st.srv.URL+"/enroll"), chromedp.WaitVisible(chromedp.CSS(`form[action="/enroll"] select#country`)))
	heading(fr.T("enroll.title"))
	b.do(t, "choose France",
		chromedp.SetValue(chromedp.CSS("#country"), "FR"),
		chromedp.Focus(chromedp.CSS(`form[action="/enroll"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`form[method="post"][action="/enroll"]`)),
	)
	if got := pageText(t, b, "#postal_code-hint"); got != fr.T("enrollment.hint.postal_code", "example", "75001") {
		t.Errorf("postal code hint = %q", got)
	}
	b.do(t, "fill in the enrollment",
		chromedp.SendKeys(chromedp.CSS("#account_domain"), "contoso.example"),
		chromedp.SendKeys(chromedp.CSS("#account_name"), "Jeanne Martin"),
		chromedp.SendKeys(chromedp.CSS("#account_email"), email),
		chromedp.SendKeys(chromedp.CSS("#account_password"), password),
		chromedp.SendKeys(chromedp.CSS("#partner_id"), partnerID),
		chromedp.SendKeys(chromedp.CSS("#claim_code"), claimCode),
		chromedp.SendKeys(chromedp.CSS("#legal_name"), "Contoso SAS"),
		chromedp.SendKeys(chromedp.CSS("#address_line1"), "12 rue de la Paix"),
		chromedp.SendKeys(chromedp.CSS("#city"), "Paris"),
		chromedp.SendKeys(chromedp.CSS("#postal_code"), "7500"), // one digit short
		chromedp.SendKeys(chromedp.CSS("#primary_first_name"), "Jeanne"),
		chromedp.SendKeys(chromedp.CSS("#primary_last_name"), "Martin"),
		chromedp.SendKeys(chromedp.CSS("#primary_email"), email),
		chromedp.SendKeys(chromedp.CSS("#primary_phone"), "01 23 45 67 89"),
		chromedp.SendKeys(chromedp.CSS("#support_email"), "support@contoso.example"),
		chromedp.SendKeys(chromedp.CSS("#support_phone"), "01 98 76 54 32"),
		chromedp.SendKeys(chromedp.CSS("#support_website"), "https://support.contoso.example"),
	)
	if !pageEval[bool](t, b, `document.querySelector('#account_lang').value === 'fr' && document.querySelector('#primary_lang').value === 'fr'`) {
		t.Error("the form does not start in French")
	}
	shot("form")
	b.do(t, "submit with a short postal code",
		chromedp.Focus(chromedp.CSS(`form[method="post"][action="/enroll"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")),
	)
	if got, want := pageText(t, b, "#postal_code-error"), fr.T("enrollment.error.postal_code.invalid_postal_code_example", "example", "75001"); got != want {
		t.Errorf("postal code error = %q, want %q", got, want)
	}
	// The summary has the focus, its link leads to the field, and what was
	// typed is still there but the password.
	if !pageEval[bool](t, b, `document.activeElement.classList.contains('error-summary')`) {
		t.Error("the error summary does not have the focus")
	}
	if got := pageEval[string](t, b, `document.querySelector('#claim_code').value + '|' + document.querySelector('#legal_name').value + '|' + document.querySelector('#account_password').value`); got != claimCode+"|Contoso SAS|" {
		t.Errorf("values after the refusal: %q", got)
	}
	shot("form-error")
	b.do(t, "correct the postal code and submit",
		chromedp.Click(chromedp.CSS(`.error-summary a[href="#postal_code"]`)),
		chromedp.SendKeys(chromedp.CSS("#postal_code"), "2"),
		chromedp.SendKeys(chromedp.CSS("#account_password"), password),
		chromedp.Focus(chromedp.CSS(`form[method="post"][action="/enroll"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)),
	)
	heading(fr.T("mfa.setup.title"))

	// 2. MFA, as every partner user.
	secret := setUpMFA(t, b, clock)
	b.do(t, "open the enrollment", chromedp.Navigate(st.srv.URL+"/partner/enrollment"), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	heading(fr.T("enrollment.application.title"))
	if got := pageText(t, b, "dl.facts strong"); got != fr.T("enrollment.state.email_verification_pending") {
		t.Errorf("state = %q", got)
	}
	shot("application-pending")

	// 3. The verification link, from the mailbox.
	st.deliver(t)
	b.do(t, "open the mailbox", chromedp.Navigate(st.srv.URL+"/mailbox"), chromedp.WaitVisible(chromedp.CSS("main table")))
	mailURL := pageEval[string](t, b, `(() => { for (const tr of document.querySelectorAll('main tbody tr')) { if (tr.textContent.includes('`+email+`')) { const a = tr.querySelector('a'); if (a) return a.getAttribute('href'); } } return ''; })()`)
	if mailURL == "" {
		t.Fatalf("no email to %s in the mailbox", email)
	}
	b.do(t, "open the verification email", chromedp.Navigate(st.srv.URL+mailURL+"/html"), chromedp.WaitVisible(chromedp.CSS(`a[href*="/enrollments/verify/"]`)))
	verify := pageEval[string](t, b, `document.querySelector('a[href*="/enrollments/verify/"]').href`)
	if !strings.HasPrefix(verify, st.srv.URL+"/enrollments/verify/") {
		t.Fatalf("verification link %q", verify)
	}
	b.do(t, "follow the link", chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.CSS(`main form[method="post"]`)))
	heading(fr.T("enrollment.verify.title"))
	shot("verify")
	b.do(t, "confirm the address",
		chromedp.Focus(chromedp.CSS(`main form[method="post"] button`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main .notice[role="status"]`)),
	)
	if got, want := pageText(t, b, `main .notice[role="status"]`), fr.T("enrollment.verify.done", "email", email); got != want {
		t.Errorf("confirmation = %q, want %q", got, want)
	}
	shot("verified")
	signOut(t, b)

	// 4. The operator approves.
	signIn(t, b, st.srv.URL, opEmail, password)
	b.do(t, "reach MFA setup", chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)))
	setUpMFA(t, b, clock)
	b.do(t, "open the review queue", chromedp.Navigate(st.srv.URL+"/operator/enrollments"), chromedp.WaitVisible(chromedp.CSS("main table")))
	heading(fr.T("enrollment.queue.title"))
	shot("queue")
	b.do(t, "open the application",
		chromedp.Click(chromedp.CSS(`main tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/decision"]`)),
	)
	heading(fr.T("enrollment.review.heading", "name", "Contoso SAS"))
	shot("review")
	b.do(t, "approve",
		chromedp.Click(chromedp.CSS("#decision")),
		chromedp.Focus(chromedp.CSS(`form[action$="/decision"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main .notice[role="status"]`)),
	)
	if got := pageText(t, b, `main .notice[role="status"]`); got != fr.T("enrollment.review.notice.approve") {
		t.Errorf("notice = %q", got)
	}
	shot("approved")
	review := path()
	fitsNarrow(t, b, st.srv.URL+"/operator/enrollments")
	fitsNarrow(t, b, st.srv.URL+review)
	signOut(t, b)

	// 5. The global admin accepts the agreement; the overview confirms it.
	signIn(t, b, st.srv.URL, email, password)
	clock.Advance(totp.Period)
	enterCode(t, b, clock, secret)
	b.do(t, "open the CSP overview", chromedp.Navigate(st.srv.URL+"/partner"), chromedp.WaitVisible(chromedp.CSS(`a[href="/partner/agreement"]`)))
	heading(fr.T("enrollment.overview.title"))
	if got := pageText(t, b, "#admin-agent-heading"); got != fr.T("enrollment.overview.admin_agent.heading") {
		t.Errorf("admin agent step = %q", got)
	}
	if n := pageEval[int](t, b, `document.querySelectorAll('.notice-success').length`); n != 0 {
		t.Errorf("%d confirmation banners before the acceptance", n)
	}
	shot("overview-unsigned")
	b.do(t, "open the agreement",
		chromedp.Click(chromedp.CSS(`main a[href="/partner/agreement"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/partner/agreement"]`)),
	)
	b.do(t, "accept the agreement",
		chromedp.SetValue(chromedp.CSS("#signer_name"), "Jeanne Martin"),
		chromedp.SetValue(chromedp.CSS("#signer_email"), email),
		chromedp.SetValue(chromedp.CSS("#signer_phone"), "01 23 45 67 89"),
		chromedp.Click(chromedp.CSS("#accept")),
		chromedp.Focus(chromedp.CSS(`form[action="/partner/agreement"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`.notice-success`)),
	)
	shot("agreement-accepted")
	b.do(t, "back to the CSP overview", chromedp.Navigate(st.srv.URL+"/partner"), chromedp.WaitVisible(chromedp.CSS(`.notice-success`)))
	banner := pageText(t, b, ".notice-success")
	// The clock stood still since the acceptance: the banner dates it today.
	if want := fr.T("agreement.banner.signed", "version", agreement.Version, "date", clock.Now()); banner != want {
		t.Errorf("banner = %q, want %q", banner, want)
	}
	if path() != "/partner" {
		t.Errorf("at %s", path())
	}
	shot("overview-signed")
	for _, p := range []string{"/partner", "/partner/enrollment", "/partner/profile"} {
		fitsNarrow(t, b, st.srv.URL+p)
	}
	// The refused form was answered 422, which the browser reports; any
	// other message is a fault.
	b.checkConsoleCleanExcept(t, func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.HasSuffix(m.URL, "/enroll") && strings.Contains(m.Text, "status of 422")
	})
}

// checkConsoleCleanExcept is checkConsoleClean for a journey with an
// expected refusal: the messages expected matches are skipped.
func (b *browser) checkConsoleCleanExcept(t *testing.T, expected func(chromedp.ConsoleMessage) bool) {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if expected(m) {
			continue
		}
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			t.Errorf("console %s (%s) at %s: %s", m.Type, m.Source, m.URL, m.Text)
		}
	}
}

// fitsNarrow opens a page 360 pixels wide, as on a small phone, and
// checks that nothing but the tables' own scrolling regions is wider; the
// window is set back to its size afterwards.
func fitsNarrow(t *testing.T, b *browser, target string) {
	t.Helper()
	b.do(t, "open "+target+" 360 px wide",
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(target),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
	if w := pageEval[int](t, b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("%s is %d px wide at 360 px", target, w)
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	b.screenshot(t, "enrollment-narrow"+strings.ReplaceAll(u.Path, "/", "-"))
	b.do(t, "back to a wide window", chromedp.EmulateViewport(1280, 900))
}

// setUpMFA starts the authenticator setup on the page the browser is on,
// enters the first code, keeps the recovery codes and goes on; it returns
// the secret.
func setUpMFA(t *testing.T, b *browser, clock *csphub.ManualClock) string {
	t.Helper()
	b.do(t, "show the QR code",
		chromedp.Focus(chromedp.CSS(`main form[action="/mfa/setup"] button`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	)
	secret := strings.ReplaceAll(pageText(t, b, "#totp-secret"), " ", "")
	code, err := totp.Code(secret, clock.Now())
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	b.do(t, "enter the first code",
		chromedp.SendKeys(chromedp.CSS("#code"), code+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("ol.recovery-codes")),
	)
	// Partners land on their overview, the operator on its console.
	b.do(t, "continue",
		chromedp.Focus(chromedp.CSS(`main a.button.primary`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(chromedp.CSS("ol.recovery-codes")),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
	return secret
}

// enterCode passes MFA at sign-in with the authenticator's current code.
func enterCode(t *testing.T, b *browser, clock *csphub.ManualClock, secret string) {
	t.Helper()
	b.do(t, "reach MFA", chromedp.WaitVisible(chromedp.CSS(`form[action="/mfa/recovery"]`)))
	code, err := totp.Code(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, "enter the code",
		chromedp.SendKeys(chromedp.CSS("#code"), code+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("dl.facts")),
	)
}

func signIn(t *testing.T, b *browser, base, email, password string) {
	t.Helper()
	b.do(t, "sign in as "+email,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signin"]`)),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password+kb.Enter),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/signin"] #password`)),
	)
}

func signOut(t *testing.T, b *browser) {
	t.Helper()
	b.do(t, "sign out",
		chromedp.Focus(chromedp.CSS(`form.account button`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signin"]`)),
	)
}
