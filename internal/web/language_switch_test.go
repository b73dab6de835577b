package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"csphub/internal/i18n"
)

func TestLanguageSwitchSetsCookieAndReturns(t *testing.T) {
	s := newTestServer(t, Options{})
	res := s.postForm(t, "/lang", url.Values{"lang": {"fr"}, "return": {"/mailbox?page=abc"}},
		"Sec-Fetch-Site", "same-origin")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	if got := res.Header.Get("Location"); got != "/mailbox?page=abc" {
		t.Errorf("Location = %q", got)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == i18n.CookieName {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "fr" || cookie.Path != "/" || !cookie.HttpOnly ||
		cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 {
		t.Fatalf("cookie = %+v", cookie)
	}
	// The cookie then decides the language, over Accept-Language.
	page := s.get(t, "/", "Cookie", cookie.String(), "Accept-Language", "en")
	if !strings.Contains(page.body, `<html lang="fr"`) {
		t.Error("cookie not honoured")
	}
}

func TestLanguageSwitchRefusals(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, lang := range []string{"", "de", "fr-FR", "en;q=1", "<script>"} {
		res := s.postForm(t, "/lang", url.Values{"lang": {lang}, "return": {"/"}})
		if res.StatusCode != http.StatusBadRequest || len(res.Cookies()) != 0 {
			t.Errorf("lang %q: status %d, cookies %v", lang, res.StatusCode, res.Cookies())
		}
	}
	// A cross-site form post must not change anything.
	res := s.postForm(t, "/lang", url.Values{"lang": {"fr"}, "return": {"/"}}, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
		t.Errorf("cross-site: status %d, cookies %v", res.StatusCode, res.Cookies())
	}
	res = s.postForm(t, "/lang", url.Values{"lang": {"fr"}}, "Origin", "https://evil.example")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: status %d", res.StatusCode)
	}
	// GET never changes state.
	res = s.get(t, "/lang?lang=fr&return=/")
	if res.StatusCode == http.StatusSeeOther || len(res.Cookies()) != 0 {
		t.Errorf("GET /lang: status %d, cookies %v", res.StatusCode, res.Cookies())
	}
	// An oversized body is refused.
	res = s.postForm(t, "/lang", url.Values{"lang": {"fr"}, "return": {"/" + strings.Repeat("a", 8<<10)}})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("oversized form: status %d", res.StatusCode)
	}
}

func TestSafeReturnPath(t *testing.T) {
	tests := map[string]string{
		"":                                       "/",
		"/":                                      "/",
		"/mailbox":                               "/mailbox",
		"/mailbox?page=x%2Fy":                    "/mailbox?page=x%2Fy",
		"/mailbox/a b":                           "/mailbox/a%20b",
		"/page#frag":                             "/page",
		"//evil.example/":                        "/",
		"/\\evil.example":                        "/",
		"\\\\evil.example":                       "/",
		"https://evil.example/":                  "/",
		"javascript:alert(1)":                    "/",
		"mailbox":                                "/",
		"/%2F%2Fevil.example":                    "/",
		"/a\r\nLocation: http://x/":              "/",
		"/a\x00":                                 "/",
		"/" + strings.Repeat("a", maxReturnPath): "/",
	}
	for in, want := range tests {
		if got := safeReturnPath(in); got != want {
			t.Errorf("safeReturnPath(%q) = %q, want %q", in, got, want)
		}
	}
}
