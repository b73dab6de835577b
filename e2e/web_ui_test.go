package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/web"
)

// startUI serves the web UI on 127.0.0.1 the way csphub mounts it.
func startUI(t *testing.T, mailbox web.Mailbox, pageSize int) *httptest.Server {
	t.Helper()
	h, err := web.New(web.Options{Mailbox: mailbox, MailboxPageSize: pageSize, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func catalogs(t *testing.T) (en, fr *i18n.Localizer) {
	t.Helper()
	b, err := i18n.New(i18n.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return b.For("en"), b.For("fr")
}

// TestHomePageInBrowser opens the home page as a French-speaking browser,
// switches to English with the keyboard through the language form, and
// checks that the stylesheet applies, focus is visible and the page fits a
// 360 px screen, all with no CSP violation in the console.
func TestHomePageInBrowser(t *testing.T) {
	srv := startUI(t, nil, 0)
	en, fr := catalogs(t)
	b := newBrowser(t)

	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"},
	}); err != nil {
		t.Fatal(err)
	}
	// Pin the light scheme so that the colours checked below are the ones
	// the stylesheet gives by default; focus emulation makes a headless tab
	// behave like a focused window for :focus-visible.
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}

	b.do(t, "open the home page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := pageEval[string](t, b, `document.documentElement.lang`); got != "fr" {
		t.Fatalf("<html lang> = %q with Accept-Language fr", got)
	}
	if got, want := pageText(t, b, "main h1"), fr.T("home.heading"); got != want {
		t.Errorf("French heading = %q, want %q", got, want)
	}
	if got := pageText(t, b, ".site-nav"); !strings.Contains(got, fr.T("layout.nav.home")) {
		t.Errorf("French nav = %q", got)
	}
	if got := pageEval[string](t, b, `document.title`); got != fr.T("home.title")+" – csphub" {
		t.Errorf("title = %q", got)
	}

	// The stylesheet is the hashed one, and it applies.
	href := pageEval[string](t, b, `document.querySelector('link[rel=stylesheet]').getAttribute('href')`)
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{16}\.css$`).MatchString(href) {
		t.Errorf("stylesheet href = %q", href)
	}
	if n := pageEval[int](t, b, `document.styleSheets[0].cssRules.length`); n < 20 {
		t.Errorf("stylesheet has %d rules; did it load?", n)
	}
	if bg := pageEval[string](t, b, `getComputedStyle(document.querySelector('.site-header')).backgroundColor`); bg != "rgb(16, 42, 67)" {
		t.Errorf("header background = %q, want the stylesheet's rgb(16, 42, 67)", bg)
	}
	if d := pageEval[string](t, b, `getComputedStyle(document.querySelector('.cards')).display`); d != "grid" {
		t.Errorf(".cards display = %q, want grid", d)
	}

	// The first Tab reaches the skip link, which then shows on screen with a
	// visible focus ring.
	b.do(t, "tab to the skip link", chromedp.KeyEvent(kb.Tab))
	if got := pageEval[string](t, b, `document.activeElement.className`); got != "skip-link" {
		t.Errorf("first Tab focused %q, want the skip link", got)
	}
	if top := pageEval[float64](t, b, `document.activeElement.getBoundingClientRect().top`); top < 0 {
		t.Errorf("focused skip link is off screen (top %v)", top)
	}
	if outline := pageEval[string](t, b, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("focused skip link has no outline")
	}
	b.screenshot(t, "home-fr")

	// Switch to English with the keyboard: focus the form's English button
	// and press Enter.
	b.do(t, "switch to English",
		chromedp.Focus(chromedp.CSS(`form.lang-switch button[value="en"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] main h1`)),
	)
	if got, want := pageText(t, b, "main h1"), en.T("home.heading"); got != want {
		t.Errorf("English heading = %q, want %q", got, want)
	}
	if got := pageEval[string](t, b, `location.pathname + location.search`); got != "/" {
		t.Errorf("after switching, at %q, want back at /", got)
	}
	if got := pageEval[string](t, b, `document.querySelector('form.lang-switch button[aria-current="true"]').value`); got != "en" {
		t.Errorf("current language button = %q", got)
	}

	// The cookie now wins over the browser's French Accept-Language.
	b.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := pageEval[string](t, b, `document.documentElement.lang`); got != "en" {
		t.Errorf("after reload, <html lang> = %q, want en from the cookie", got)
	}
	b.screenshot(t, "home-en")

	// At 360 px nothing overflows sideways.
	b.do(t, "narrow viewport", chromedp.EmulateViewport(360, 740), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if w := pageEval[int](t, b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("page is %d px wide at a 360 px viewport", w)
	}
	b.screenshot(t, "home-360")

	b.checkConsoleClean(t)
}

// memoryMailbox is a Mailbox held in memory: newest first, the page token
// being the id of the last email of the previous page.
type memoryMailbox struct {
	mu   sync.Mutex
	mail []web.MailMessage // oldest first
}

func (m *memoryMailbox) ListMail(_ context.Context, pageToken string, limit int) ([]web.MailSummary, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	newest := slices.Clone(m.mail)
	slices.Reverse(newest)
	start := 0
	if pageToken != "" {
		i := slices.IndexFunc(newest, func(msg web.MailMessage) bool { return msg.ID == pageToken })
		if i < 0 {
			return nil, "", csphub.Invalid()
		}
		start = i + 1
	}
	var out []web.MailSummary
	for _, msg := range newest[start:] {
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		out = append(out, msg.MailSummary)
	}
	return out, "", nil
}

func (m *memoryMailbox) GetMail(_ context.Context, id string) (web.MailMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range m.mail {
		if msg.ID == id {
			return msg, nil
		}
	}
	return web.MailMessage{}, csphub.NotFound("mail")
}

// TestMailboxInBrowser pages through the mailbox, opens an email, and
// checks that its HTML body renders sandboxed: its script does not run and
// its link opens in a new tab.
func TestMailboxInBrowser(t *testing.T) {
	mb := &memoryMailbox{}
	srv := startUI(t, mb, 2)
	base := time.Date(2026, time.March, 4, 9, 0, 0, 0, time.UTC)
	for i, subject := range []string{"Verify your email address", "You are invited to work with Fabrikam", "Order completed"} {
		mb.mail = append(mb.mail, web.MailMessage{
			MailSummary: web.MailSummary{
				ID:      fmt.Sprintf("mail-%d", i+1),
				From:    "csphub <no-reply@csphub.example>",
				To:      []string{"ada@contoso.example"},
				Subject: subject,
				Date:    base.Add(time.Duration(i) * time.Hour),
			},
			TextBody: "Hello Ada,\n\n" + subject + ".\n",
			HTMLBody: `<h1 id="mail-heading">` + subject + `</h1>` +
				`<p><a id="mail-link" href="` + srv.URL + `/">Accept the invitation</a></p>` +
				`<script>document.body.dataset.scriptRan = "yes"</script>`,
		})
	}
	en, _ := catalogs(t)
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "en-US,en;q=0.9"},
	}); err != nil {
		t.Fatal(err)
	}

	b.do(t, "open the mailbox", chromedp.Navigate(srv.URL+"/mailbox"), chromedp.WaitVisible(chromedp.CSS("table")))
	subjects := pageEval[[]string](t, b, `[...document.querySelectorAll('tbody tr td:first-child')].map(td => td.textContent.trim())`)
	if !slices.Equal(subjects, []string{"Order completed", "You are invited to work with Fabrikam"}) {
		t.Errorf("first page = %q, want the two newest, newest first", subjects)
	}
	b.screenshot(t, "mailbox-list")

	b.do(t, "next page",
		chromedp.Click(chromedp.CSS(`a[rel="next"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/mailbox/mail-1"]`)),
	)
	if got := pageText(t, b, ".pager"); !strings.Contains(got, en.T("mailbox.first")) || strings.Contains(got, en.T("mailbox.next")) {
		t.Errorf("last page pager = %q", got)
	}

	b.do(t, "open the oldest email",
		chromedp.Click(chromedp.CSS(`a[href="/mailbox/mail-1"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("iframe.mail-html")),
	)
	if got := pageText(t, b, "main h1"); got != "Verify your email address" {
		t.Errorf("subject = %q", got)
	}
	meta := pageText(t, b, ".mail-meta")
	for _, want := range []string{"csphub <no-reply@csphub.example>", "ada@contoso.example", "March 4, 2026, 9:00 AM UTC"} {
		if !strings.Contains(meta, want) {
			t.Errorf("details %q lack %q", meta, want)
		}
	}
	if got := pageText(t, b, "pre.mail-text"); got != "Hello Ada,\n\nVerify your email address." {
		t.Errorf("text body = %q", got)
	}
	frame := pageEval[map[string]string](t, b, `(() => { const f = document.querySelector('iframe.mail-html');
		return {src: f.getAttribute('src'), sandbox: f.getAttribute('sandbox'), title: f.title}; })()`)
	if frame["src"] != "/mailbox/mail-1/html" || strings.Contains(frame["sandbox"], "allow-scripts") || frame["sandbox"] == "" || frame["title"] == "" {
		t.Errorf("iframe = %v", frame)
	}
	if h := pageEval[float64](t, b, `document.querySelector('iframe.mail-html').getBoundingClientRect().height`); h < 100 {
		t.Errorf("iframe height %v", h)
	}

	// A sandboxed frame runs in its own process, as a target of its own:
	// attach to it to see what it shows. Script is off in it, so read the
	// DOM rather than evaluate.
	frameURL := srv.URL + "/mailbox/mail-1/html"
	body := inFrame(t, b, frameURL, chromedp.OuterHTML(chromedp.CSS("body"), chromedp.NodeVisible))
	if !strings.Contains(body, `<h1 id="mail-heading">Verify your email address</h1>`) {
		t.Errorf("frame shows %q", body)
	}
	if strings.Contains(body, "data-script-ran") {
		t.Error("a script in the email ran inside the frame")
	}
	clickOpensTab(t, b, func() {
		inFrame(t, b, frameURL, chromedp.Steps(chromedp.Click(chromedp.CSS("#mail-link"), chromedp.NodeVisible)))
	})
	b.screenshot(t, "mailbox-message")

	// The HTML body on its own: it renders, its script stays dead under the
	// sandbox, and its link opens a new tab.
	b.do(t, "open the HTML body", chromedp.Navigate(srv.URL+"/mailbox/mail-1/html"), chromedp.WaitVisible(chromedp.CSS("#mail-heading")))
	if got := pageText(t, b, "#mail-heading"); got != "Verify your email address" {
		t.Errorf("HTML body heading = %q", got)
	}
	if ran := pageEval[bool](t, b, `document.body.dataset.scriptRan === "yes"`); ran {
		t.Error("a script in the email ran")
	}
	clickOpensTab(t, b, func() {
		b.do(t, "click the link", chromedp.Click(chromedp.CSS("#mail-link"), chromedp.NodeVisible))
	})
}

// inFrame runs one action in the iframe target showing url, waiting for it
// to appear. Each call attaches afresh, and only detaches when done (a
// plain cancel would close the frame): a second query on one attached
// frame context does not return with this chromedp version.
func inFrame[T any](t *testing.T, b *browser, url string, action chromedp.Action[T]) T {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type != "iframe" || info.URL != url {
				continue
			}
			frameCtx, cancelFrame := chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
			defer cancelFrame()
			ctx, cancel := context.WithTimeout(frameCtx, 30*time.Second)
			defer cancel()
			v, err := chromedp.Run(ctx, action)
			if err != nil {
				t.Fatalf("in frame %s: %v", url, err)
			}
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no frame showing %s", url)
	var zero T
	return zero
}

// clickOpensTab runs click and expects the browser to open a new tab, as
// the email's base target asks of its links.
func clickOpensTab(t *testing.T, b *browser, click func()) {
	t.Helper()
	waitCtx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	created := chromedp.BrowserEvents(waitCtx, target.TargetCreated)
	click()
	for ev, err := range created {
		if err != nil {
			break
		}
		if ev.TargetInfo != nil && ev.TargetInfo.Type == "page" {
			return
		}
	}
	t.Error("clicking the link in the email opened no new tab")
}
