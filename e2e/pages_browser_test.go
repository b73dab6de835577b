package e2e

import (
	"context"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"csphub"
	"csphub/internal/demo"
	"csphub/internal/service"
)

// idSegment is a path segment that names one record: pages that differ by
// it alone are the same page for the crawl.
var idSegment = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[0-9]+$`)

// pageShape is a page's address with record ids and the query left out.
func pageShape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if idSegment.MatchString(s) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// crawlable says whether the crawl opens a link: the application's own
// pages, not its assets, the mailbox's raw bodies, or anything that acts.
func crawlable(href string) bool {
	if !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//") {
		return false
	}
	for _, p := range []string{"/static/", "/api/", "/mailbox", "/lang", "/signout"} {
		if strings.HasPrefix(href, p) {
			return false
		}
	}
	return true
}

// overflowing names the innermost elements that reach past the window's
// right edge, outside the tables' own scrolling regions.
const overflowing = `[...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5 &&
  !el.closest('.table-scroll') && ![...el.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' "' + el.textContent.trim().slice(0, 40) + '"').join(', ')`

// TestEveryPageInBrowser signs in to the demo world as one user of each
// kind of party, in English and in French, and opens every page its
// links reach (one of each kind of record page), 360 pixels wide: each
// must answer 200, pass the accessibility audit of the journey test, fit
// the width, and log nothing to the console.
func TestEveryPageInBrowser(t *testing.T) {
	clock := csphub.NewManualClock(time.Now())
	st := startEnrollmentStack(t, clock)
	ctx := context.Background()
	if _, _, err := st.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}); err != nil {
		t.Fatal(err)
	}
	report, err := demo.Seed(ctx, st.svc)
	if err != nil {
		t.Fatalf("seed the demo world: %v", err)
	}
	// One user of each standing: every operator user (each has one role),
	// a provider, a reseller of each stage, and a customer.
	var users []demo.User
	seen := map[string]bool{}
	for _, p := range report.Parties {
		if p.Kind == "operator" {
			users = append(users, p.Users...)
			continue
		}
		key := p.Kind + "|" + p.Standing
		if p.Kind == "customer" {
			key = p.Kind
		}
		if seen[key] || len(p.Users) == 0 {
			continue
		}
		seen[key] = true
		users = append(users, p.Users[0])
	}
	if len(users) < 5 {
		t.Fatalf("the demo world has %d kinds of users, want the operator, providers, resellers and a customer: %+v", len(users), report.Parties)
	}
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			for _, u := range users {
				t.Run(u.Email, func(t *testing.T) { crawlAs(t, st, clock, u, lang) })
			}
		})
	}
}

func crawlAs(t *testing.T, st *enrollmentStack, clock *csphub.ManualClock, u demo.User, lang string) {
	ctx := context.Background()
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": lang},
	}); err != nil {
		t.Fatal(err)
	}
	base := st.srv.URL
	j := &journey{t: t, cast: journeyCast{lang: lang}, st: st, b: b, clock: clock}
	j.signIn(u.Email, demo.Password)
	if u.MFA {
		// Codes are single-use: the clock moves on a step for each sign-in.
		clock.Advance(30 * time.Second)
		code, err := demo.Code(ctx, st.svc, u.Email, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.do(t, "enter the code", chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), code.Code+"\r"),
			chromedp.WaitNotPresent(chromedp.CSS(`form[action="/mfa"]`)))
	}
	// The user's pages in the browser's language, whatever the account's.
	b.do(t, "choose the language", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := pageEval[string](t, b, `document.documentElement.lang`); got != lang {
		b.do(t, "switch the language", chromedp.Click(chromedp.CSS(`form[action="/lang"] button[value="`+lang+`"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"]`)))
	}
	b.do(t, "narrow the window", chromedp.EmulateViewport(360, 740))

	queue := []string{"/"}
	shapes := map[string]bool{pageShape("/"): true}
	opened := 0
	for len(queue) > 0 && opened < 60 {
		target := queue[0]
		queue = queue[1:]
		opened++
		nctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		res, err := chromedp.Run(nctx, chromedp.NavigateResponse(base+target))
		if err == nil {
			_, err = chromedp.Run(nctx, chromedp.WaitVisible(chromedp.CSS("main h1")))
		}
		cancel()
		if err != nil {
			b.failureScreenshot(t)
			t.Fatalf("open %s: %v", target, err)
		}
		if res.Status != 200 {
			t.Errorf("%s answers %d to %s", target, res.Status, u.Email)
			continue
		}
		j.audit(target)
		if w := pageEval[int](t, b, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("%s is %d px wide at 360 px, past the edge: %s", target, w, pageEval[string](t, b, overflowing))
		}
		for _, href := range pageEval[[]string](t, b, `[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))`) {
			href, _, _ = strings.Cut(href, "#")
			if !crawlable(href) {
				continue
			}
			p, err := url.Parse(href)
			if err != nil {
				t.Errorf("%s links to %q: %v", target, href, err)
				continue
			}
			if shape := pageShape(p.Path); !shapes[shape] {
				shapes[shape] = true
				queue = append(queue, href)
			}
		}
	}
	if len(queue) > 0 {
		t.Errorf("%s: the crawl stopped at %d pages with %d still to open: %v", u.Email, opened, len(queue), queue)
	}
	if opened < 3 {
		t.Errorf("%s reached only %d pages", u.Email, opened)
	}
	t.Logf("%s (%s): %d pages: %s", u.Email, lang, opened, strings.Join(slices.Sorted(maps.Keys(shapes)), " "))
	b.checkConsoleClean(t)
}
