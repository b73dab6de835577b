package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"csphub/internal/totp"
)

// A page that sends a visitor to sign in gets them back once signed in,
// MFA included; only paths on this site are followed.
func TestSignInReturnsToTheNextPage(t *testing.T) {
	s := newIdentityServer(t, false)
	c := s.signup(t, "jeanne@contoso.example")
	secret, _, _ := s.enrol(t, c)
	const next = "/partnership-invitations/abc?x=1"

	res := s.get(t, "/signin?next="+url.QueryEscape(next))
	mustContain(t, res.body, `<input type="hidden" name="next" value="/partnership-invitations/abc?x=1">`)
	for _, bad := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		if r := s.get(t, "/signin?next="+url.QueryEscape(bad)); strings.Contains(r.body, `name="next"`) {
			t.Errorf("next %q kept", bad)
		}
	}

	// Wrong password: the form keeps where to go.
	res = s.postForm(t, "/signin", url.Values{"email": {"jeanne@contoso.example"}, "password": {"nope"}, "next": {next}})
	mustContain(t, res.body, `name="next" value="/partnership-invitations/abc?x=1"`)

	// Signed in, through MFA, back to the page.
	res = s.postForm(t, "/signin", url.Values{"email": {"jeanne@contoso.example"}, "password": {goodPassword}, "next": {next}})
	wantRedirect(t, res, "/mfa")
	var remembered *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "csphub_next" {
			remembered = ck
		}
	}
	if remembered == nil || remembered.Value != next {
		t.Fatalf("next page not kept across MFA: %v", res.Cookies())
	}
	s.clock.Advance(30 * time.Second)
	code, err := totp.Code(secret, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = s.postForm(t, "/mfa", url.Values{"code": {code}}, append(s.withSession(s.sessionCookie(res)), "Cookie", remembered.Name+"="+remembered.Value)...)
	wantRedirect(t, res, next)

	// A forged cookie pointing elsewhere is ignored.
	if got := nextPath("//evil.example"); got != "" {
		t.Fatalf("nextPath kept %q", got)
	}
}
