package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

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
	b.screenshot(t, "narrow"+strings.ReplaceAll(u.Path, "/", "-"))
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
