package web

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"csphub/internal/i18n"
)

func catalog(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := i18n.New(i18n.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// text is how a catalog value appears in a rendered page.
func text(b *i18n.Bundle, lang, key string) string {
	return html.EscapeString(b.For(lang).T(key))
}

func TestHomeFollowsLanguage(t *testing.T) {
	s := newTestServer(t, Options{})
	b := catalog(t)
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"default", "", "", "en"},
		{"accept french", "", "fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"accept unsupported", "", "de-DE", "en"},
		{"cookie wins", "en", "fr", "en"},
		{"cookie french", "fr", "en-US", "fr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.accept != "" {
				hdr = append(hdr, "Accept-Language", tc.accept)
			}
			if tc.cookie != "" {
				hdr = append(hdr, "Cookie", i18n.CookieName+"="+tc.cookie)
			}
			res := s.get(t, "/", hdr...)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, res.body)
			}
			mustContain(t, res.body,
				`<html lang="`+tc.want+`"`,
				"<title>"+text(b, tc.want, "home.title")+" – csphub</title>",
				text(b, tc.want, "home.heading"),
				text(b, tc.want, "home.chain.reseller.name"),
				text(b, tc.want, "home.features.delegated_admin.text"),
				text(b, tc.want, "layout.skip_to_content"),
			)
			if got := res.Header.Get("Content-Language"); got != tc.want {
				t.Errorf("Content-Language = %q", got)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
				t.Errorf("Vary = %q", res.Header.Get("Vary"))
			}
		})
	}
}

// The layout carries the landmarks and the switcher on every page.
func TestLayoutStructure(t *testing.T) {
	s := newTestServer(t, Options{Mailbox: &memoryMailbox{}})
	for _, path := range []string{"/", "/mailbox", "/no/such/page"} {
		res := s.get(t, path, "Accept-Language", "fr")
		mustContain(t, res.body,
			`<a class="skip-link" href="#main">`,
			`<header class="site-header">`,
			`<nav class="site-nav" aria-label="Principale">`,
			`<main id="main"`,
			`<footer class="site-footer">`,
			`<form class="lang-switch" method="post" action="/lang"`,
			`<button type="submit" name="lang" value="en" lang="en">English</button>`,
			`<button type="submit" name="lang" value="fr" lang="fr" aria-current="true">Français</button>`,
			`href="/mailbox"`,
		)
	}
	res := s.get(t, "/mailbox?page=mail-1")
	mustContain(t, res.body, `<input type="hidden" name="return" value="/mailbox?page=mail-1">`)
}

func TestSecurityHeadersOnPages(t *testing.T) {
	s := newTestServer(t, Options{Mailbox: &memoryMailbox{}})
	for _, path := range []string{"/", "/mailbox", "/missing", "/static/missing.css"} {
		res := s.get(t, path)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP lacks frame-ancestors: %q", path, csp)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
		if got := res.Header.Get("Referrer-Policy"); got == "" {
			t.Errorf("%s: no Referrer-Policy", path)
		}
		if strings.Contains(res.body, "<script") || strings.Contains(res.body, " style=") {
			t.Errorf("%s: inline script or style in the page", path)
		}
	}
}

func TestNotFoundIsLocalized(t *testing.T) {
	s := newTestServer(t, Options{})
	b := catalog(t)
	for _, path := range []string{"/nope", "/mailbox/anything/else", "/static/"} {
		res := s.get(t, path, "Accept-Language", "fr")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d", path, res.StatusCode)
		}
		mustContain(t, res.body, text(b, "fr", "error.not_found.title"), "Erreur 404", `<html lang="fr"`)
	}
	res := s.postForm(t, "/nope", nil)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("POST to an unknown path: %d", res.StatusCode)
	}
}

var cssLink = regexp.MustCompile(`<link rel="stylesheet" href="(/static/app\.[0-9a-f]{16}\.css)">`)

func TestStaticAssetsAreHashedAndImmutable(t *testing.T) {
	s := newTestServer(t, Options{})
	m := cssLink.FindStringSubmatch(s.get(t, "/").body)
	if m == nil {
		t.Fatal("no hashed stylesheet link in the home page")
	}
	want, err := staticFiles.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	res := s.get(t, m[1])
	if res.StatusCode != http.StatusOK || res.body != string(want) {
		t.Fatalf("GET %s: %d, %d bytes", m[1], res.StatusCode, len(res.body))
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q", got)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	revalidate := s.get(t, m[1], "If-None-Match", res.Header.Get("ETag"))
	if revalidate.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", revalidate.StatusCode)
	}
	for _, stale := range []string{"/static/app.css", "/static/app.0000000000000000.css", "/static/../templates/layout.html"} {
		// ServeMux redirects the dot-dot path to its clean form; what matters
		// is that nothing but a hashed name is ever served.
		if res := s.get(t, stale); res.StatusCode == http.StatusOK {
			t.Errorf("GET %s: %d", stale, res.StatusCode)
		}
	}
}

// No template can hand an unknown asset name to the browser.
func TestAssetURLRejectsUnknownNames(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.url("nope.css"); err == nil {
		t.Error("unknown asset accepted")
	}
}
