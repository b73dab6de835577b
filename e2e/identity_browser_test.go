package e2e

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/testdb"
	"csphub/internal/totp"
	"csphub/internal/web"
)

// testLog sends warnings and errors of the server to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startStack serves the API and the pages on one mux behind the API's
// middleware, as cmd/csphub does, over SQLite and the given clock.
func startStack(t *testing.T, clock csphub.Clock) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db := testdb.Open(t, "sqlite", clock)
	svc := service.New(db, log, service.Options{})
	mux := http.NewServeMux()
	api.New(mux, api.Options{Service: svc, Authenticator: api.Credentials{Service: svc}, MaxBodyBytes: 1 << 20, Logger: log})
	pages, err := web.New(web.Options{Logger: log, Service: svc, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	pages.Register(mux)
	srv := httptest.NewServer(api.Middleware(api.CrossOriginProtection(mux), log, nil, 1<<20))
	t.Cleanup(srv.Close)
	return srv
}

// TestIdentityInBrowser signs up a partner in French with the keyboard,
// sets up MFA from the secret the page shows, keeps the recovery codes,
// signs out, signs back in with the next code and lands on the account's
// home page, with a screenshot of every step.
func TestIdentityInBrowser(t *testing.T) {
	// The cookie's expiry is read by the browser against its own clock, so
	// the server's clock starts at the real time and only moves forward.
	clock := csphub.NewManualClock(time.Now())
	srv := startStack(t, clock)
	_, fr := catalogs(t)
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"},
	}); err != nil {
		t.Fatal(err)
	}
	step := 0
	shot := func(name string) {
		step++
		b.screenshot(t, fmt.Sprintf("identity-%02d-%s", step, name))
	}
	heading := func(want string) {
		t.Helper()
		if got := pageText(t, b, "main h1"); got != want {
			t.Errorf("heading = %q, want %q", got, want)
		}
	}
	const (
		email    = "jeanne@contoso.example"
		password = "correct horse battery staple"
	)

	b.do(t, "open the sign-up page", chromedp.Navigate(srv.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS(`form[action="/signup"]`)))
	if got := pageEval[string](t, b, `document.documentElement.lang`); got != "fr" {
		t.Fatalf("<html lang> = %q", got)
	}
	heading(fr.T("signup.title"))
	b.do(t, "fill in the sign-up form",
		chromedp.SendKeys(chromedp.CSS("#organization_name"), "Contoso Partenaires"),
		chromedp.SetValue(chromedp.CSS("#country"), "FR"),
		chromedp.SendKeys(chromedp.CSS("#domain"), "contoso.example"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Jeanne Martin"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	)
	if !pageEval[bool](t, b, `document.querySelector('#kind').checked && document.querySelector('#lang').value === 'fr'`) {
		t.Error("the sign-up form does not start as a partner in French")
	}
	shot("signup")
	b.do(t, "create the account",
		chromedp.Focus(chromedp.CSS(`form[action="/signup"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)),
	)
	heading(fr.T("mfa.setup.title"))
	if got := pageEval[string](t, b, `location.pathname`); got != "/mfa/setup" {
		t.Errorf("after sign-up, at %s", got)
	}
	if c := pageEval[string](t, b, `document.cookie`); strings.Contains(c, "csphub_session") {
		t.Errorf("the session cookie is readable by script: %q", c)
	}
	shot("mfa-setup")

	b.do(t, "show the QR code",
		chromedp.Focus(chromedp.CSS(`main form[action="/mfa/setup"] button`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	)
	if w := pageEval[int](t, b, `document.querySelector('img.qr').naturalWidth`); w != 256 {
		t.Errorf("QR code image is %d px wide; did it load?", w)
	}
	secret := strings.ReplaceAll(pageText(t, b, "#totp-secret"), " ", "")
	shot("mfa-qr")
	code, err := totp.Code(secret, clock.Now())
	if err != nil {
		t.Fatalf("secret %q shown on the page: %v", secret, err)
	}
	b.do(t, "enter the first code",
		chromedp.SendKeys(chromedp.CSS("#code"), code+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("ol.recovery-codes")),
	)
	heading(fr.T("recovery.title"))
	if n := pageEval[int](t, b, `document.querySelectorAll('ol.recovery-codes li').length`); n != totp.RecoveryCodes {
		t.Errorf("%d recovery codes shown", n)
	}
	shot("recovery-codes")

	// A partner goes on to its CSP overview; the home page shows the account.
	b.do(t, "continue",
		chromedp.Focus(chromedp.CSS(`main a[href="/partner"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(chromedp.CSS("ol.recovery-codes")),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
	if got := pageEval[string](t, b, `location.pathname`); got != "/partner" {
		t.Errorf("after the recovery codes: %s", got)
	}
	b.do(t, "open the home page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	heading(fr.T("account.title"))
	if got, want := pageText(t, b, ".account-who"), fr.T("layout.account.signed_in_as", "name", "Jeanne Martin", "organization", "Contoso Partenaires"); got != want {
		t.Errorf("header says %q, want %q", got, want)
	}
	shot("home")

	b.do(t, "sign out",
		chromedp.Focus(chromedp.CSS(`form.account button`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signin"]`)),
	)
	if got := pageText(t, b, ".notice"); got != fr.T("signin.notice.signed_out") {
		t.Errorf("notice = %q", got)
	}
	shot("signed-out")

	b.do(t, "sign in",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/mfa/recovery"]`)),
	)
	heading(fr.T("mfa.title"))
	shot("mfa")

	// The first code is spent; the next one comes 30 seconds later.
	clock.Advance(totp.Period)
	code, err = totp.Code(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, "enter the next code",
		chromedp.SendKeys(chromedp.CSS("#code"), code+kb.Enter),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/mfa/recovery"]`)),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
	if got := pageEval[string](t, b, `location.pathname`); got != "/partner" {
		t.Errorf("after MFA, at %s", got)
	}
	b.do(t, "open the home page again", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	heading(fr.T("account.title"))
	shot("home-again")

	b.checkConsoleClean(t)
}
