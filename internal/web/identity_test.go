package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

// identityServer serves the pages over a real service on SQLite, with a
// clock the test moves.
type identityServer struct {
	*testServer
	db     *store.DB
	svc    *service.Service
	clock  *csphub.ManualClock
	cookie string // the session cookie's name
}

func newIdentityServer(t *testing.T, secure bool) *identityServer {
	t.Helper()
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, "sqlite", clock)
	svc := service.New(db, nil, service.Options{})
	name := "csphub_session"
	if secure {
		name = "__Host-csphub_session"
	}
	return &identityServer{testServer: newTestServer(t, Options{Service: svc, SecureCookies: secure, Clock: clock}), db: db, svc: svc, clock: clock, cookie: name}
}

const goodPassword = "correct horse battery staple"

func signupForm(email string) url.Values {
	return url.Values{
		"kind": {"partner"}, "organization_name": {"Contoso Partner"}, "country": {"FR"}, "domain": {"contoso.example"},
		"name": {"Jeanne Martin"}, "email": {email}, "password": {goodPassword}, "lang": {"fr"},
	}
}

// sessionCookie returns the session cookie a response sets, or nil.
func (s *identityServer) sessionCookie(res response) *http.Cookie {
	var found *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == s.cookie {
			found = c
		}
	}
	return found
}

func (s *identityServer) withSession(c *http.Cookie) []string {
	return []string{"Cookie", c.Name + "=" + c.Value}
}

// signup creates a partner and returns the session it starts with.
func (s *identityServer) signup(t *testing.T, email string) *http.Cookie {
	t.Helper()
	res := s.postForm(t, "/signup", signupForm(email))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup: %d %s", res.StatusCode, res.body)
	}
	c := s.sessionCookie(res)
	if c == nil || c.Value == "" {
		t.Fatalf("signup set no session cookie: %v", res.Cookies())
	}
	return c
}

func (s *identityServer) signIn(t *testing.T, email, password string) response {
	t.Helper()
	return s.postForm(t, "/signin", url.Values{"email": {email}, "password": {password}})
}

var secretShown = regexp.MustCompile(`<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>`)

// enrol sets up TOTP for the session and returns the secret, the
// recovery codes and the session that passed MFA.
func (s *identityServer) enrol(t *testing.T, c *http.Cookie) (string, []string, *http.Cookie) {
	t.Helper()
	res := s.postForm(t, "/mfa/setup", nil, s.withSession(c)...)
	m := secretShown.FindStringSubmatch(res.body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("start MFA setup: %d %s", res.StatusCode, res.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	code, err := totp.Code(secret, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = s.postForm(t, "/mfa", url.Values{"code": {code}}, s.withSession(c)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("first code: %d %s", res.StatusCode, res.body)
	}
	codes := regexp.MustCompile(`<li><code>([0-9a-z]{5}-[0-9a-z]{5})</code></li>`).FindAllStringSubmatch(res.body, -1)
	if len(codes) != totp.RecoveryCodes {
		t.Fatalf("%d recovery codes shown: %s", len(codes), res.body)
	}
	// Leaving to switch language would lose them for good.
	mustNotContain(t, res.body, `action="/lang"`)
	var plain []string
	for _, m := range codes {
		plain = append(plain, m[1])
	}
	next := s.sessionCookie(res)
	if next == nil || next.Value == "" {
		t.Fatal("MFA set no new session cookie")
	}
	return secret, plain, next
}

func wantRedirect(t *testing.T, res response, location string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != location {
		t.Fatalf("got %d to %q, want 303 to %q; body: %.300s", res.StatusCode, res.Header.Get("Location"), location, res.body)
	}
}

func TestSignupShowsEachErrorNextToItsField(t *testing.T) {
	s := newIdentityServer(t, false)
	b := catalog(t)
	form := url.Values{
		"kind": {"customer"}, "organization_name": {" "}, "country": {"XX"}, "domain": {"not a domain"},
		"name": {"Jeanne Martin"}, "email": {"nope"}, "password": {"password1"}, "lang": {"fr"},
	}
	res := s.postForm(t, "/signup", form, "Accept-Language", "fr")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.StatusCode)
	}
	if s.sessionCookie(res) != nil {
		t.Error("a refused sign-up set a session cookie")
	}
	for field, code := range map[string]string{
		"organization_name": "invalid_name", "country": "invalid_country", "domain": "invalid_domain",
		"email": "invalid_email", "password": "common",
	} {
		msg := text(b, "fr", "form.error."+field+"."+code)
		mustContain(t, res.body,
			`<p class="field-error" id="`+field+`-error">`+msg+`</p>`,
			`<li><a href="#`+field+`">`+msg+`</a></li>`,
		)
		if !regexp.MustCompile(`id="` + field + `"[^>]*aria-invalid="true"`).MatchString(res.body) {
			t.Errorf("%s is not marked invalid", field)
		}
	}
	// The summary follows the order of the form.
	order := []string{"organization_name", "country", "domain", "email", "password"}
	last := -1
	for _, f := range order {
		i := strings.Index(res.body, `<li><a href="#`+f+`">`)
		if i < last {
			t.Errorf("summary: %s out of order", f)
		}
		last = i
	}
	// What was typed stays, except the password.
	mustContain(t, res.body,
		`value="not a domain"`, `value="nope"`, `value="Jeanne Martin"`,
		`<input type="radio" id="kind-customer" name="kind" value="customer"`,
		`<option value="fr" lang="fr" selected>`,
	)
	if !regexp.MustCompile(`value="customer"[^>]* checked`).MatchString(res.body) {
		t.Error("the kind chosen is not kept")
	}
	mustNotContain(t, res.body, "password1", `id="name-error"`, `id="kind-error"`)

	// An email already in use is an error of the email field.
	s.signup(t, "jeanne@contoso.example")
	form = signupForm("Jeanne@Contoso.example")
	form.Set("country", "DE")
	res = s.postForm(t, "/signup", form, "Accept-Language", "en")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate email: status %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="email-error">`+text(b, "en", "form.error.email.email_taken")+`</p>`,
		`<option value="DE" selected>Germany</option>`)
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", s.logs)
	}
}

func TestSignupOffersCountriesByName(t *testing.T) {
	s := newIdentityServer(t, false)
	res := s.get(t, "/signup", "Accept-Language", "fr")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{
		`<option value="FR">France</option>`, `<option value="US">États-Unis</option>`,
		`<option value="GB">Royaume-Uni</option>`, `<option value="DE">Allemagne</option>`,
		`<option value="CA">Canada</option>`,
	} {
		mustContain(t, res.body, want)
	}
	// Sorted for the reader: accents do not send a name to the end.
	if i, j := strings.Index(res.body, "Espagne"), strings.Index(res.body, "États-Unis"); i < 0 || j < i || j > strings.Index(res.body, "Finlande") {
		t.Error("French country names are not in alphabetical order")
	}
	mustContain(t, res.body, `<input type="radio" id="kind" name="kind" value="partner"`, `<option value="fr" lang="fr" selected>`)
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
}

// Every country offered is one the service accepts, with a name in every
// catalog; every code the sign-up and reset rules give has a message.
func TestIdentityMessagesExist(t *testing.T) {
	b := catalog(t)
	keys := []string{}
	for _, code := range signupCountries {
		if !service.ValidCountry(code) {
			t.Errorf("country %s is not valid for the service", code)
		}
		keys = append(keys, countryKey(code))
	}
	for _, fc := range []string{
		"kind.invalid_kind", "organization_name.invalid_name", "name.invalid_name", "country.invalid_country",
		"domain.invalid_domain", "email.invalid_email", "email.email_taken", "lang.unsupported_language",
		"password.too_short", "password.too_long", "password.common",
	} {
		keys = append(keys, "form.error."+fc)
	}
	for _, tag := range b.Languages() {
		for _, k := range keys {
			if !b.For(tag.String()).Has(k) {
				t.Errorf("%s: no %q", tag, k)
			}
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		s := newIdentityServer(t, secure)
		res := s.postForm(t, "/signup", signupForm("jeanne@contoso.example"))
		wantRedirect(t, res, "/mfa/setup")
		c := s.sessionCookie(res)
		if c == nil {
			t.Fatalf("secure=%v: no %s cookie in %v", secure, s.cookie, res.Cookies())
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != secure ||
			len(c.Value) < 43 || c.Expires.IsZero() {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
		// The account's language is this browser's from now on.
		var lang *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == i18n.CookieName {
				lang = ck
			}
		}
		if lang == nil || lang.Value != "fr" || lang.Secure != secure {
			t.Errorf("secure=%v: language cookie %+v", secure, lang)
		}
		// Signing out deletes it with the same attributes.
		res = s.postForm(t, "/signout", nil, s.withSession(c)...)
		wantRedirect(t, res, "/signin?done=signed_out")
		gone := s.sessionCookie(res)
		if gone == nil || gone.MaxAge >= 0 || gone.Value != "" || gone.Secure != secure || !gone.HttpOnly || gone.Path != "/" {
			t.Errorf("secure=%v: sign-out cookie %+v", secure, gone)
		}
	}
}

// A3: an unknown email and a wrong password get the same page.
func TestSignInFailureIsTheSameForUnknownAndWrong(t *testing.T) {
	s := newIdentityServer(t, false)
	b := catalog(t)
	s.signup(t, "jeanne@contoso.example")
	unknown := s.signIn(t, "nobody@contoso.example", goodPassword)
	wrong := s.signIn(t, "jeanne@contoso.example", "not the password at all")
	for _, res := range []response{unknown, wrong} {
		if res.StatusCode != http.StatusUnprocessableEntity || s.sessionCookie(res) != nil {
			t.Fatalf("status %d, cookies %v", res.StatusCode, res.Cookies())
		}
		mustContain(t, res.body, text(b, "en", "signin.error.invalid"))
	}
	a := strings.ReplaceAll(unknown.body, "nobody@contoso.example", "EMAIL")
	c := strings.ReplaceAll(wrong.body, "jeanne@contoso.example", "EMAIL")
	if a != c {
		t.Errorf("the pages differ:\n%s\n----\n%s", a, c)
	}
	// Blank fields are named before anything is checked.
	res := s.signIn(t, "", "")
	mustContain(t, res.body, text(b, "en", "form.error.email.required"), text(b, "en", "form.error.password.required"))
}

// A2: past a few failures the page says how long to wait, with 429 and
// Retry-After, and even the right password waits.
func TestSignInThrottledShowsTheWait(t *testing.T) {
	s := newIdentityServer(t, false)
	s.signup(t, "jeanne@contoso.example")
	var res response
	for range 5 {
		res = s.signIn(t, "jeanne@contoso.example", "not the password at all")
	}
	res = s.signIn(t, "jeanne@contoso.example", goodPassword)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "30" || s.sessionCookie(res) != nil {
		t.Fatalf("status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	mustContain(t, res.body, catalog(t).For("en").T("form.error.wait_seconds", "count", 30))
	s.clock.Advance(31 * time.Second)
	wantRedirect(t, s.signIn(t, "jeanne@contoso.example", goodPassword), "/mfa/setup")
}

// A1: a session that has not passed MFA reaches nothing beyond MFA setup
// and sign-out; no session reaches the MFA pages.
func TestPagesSendToMFAUntilPassed(t *testing.T) {
	s := newIdentityServer(t, false)
	c := s.signup(t, "jeanne@contoso.example")
	wantRedirect(t, s.get(t, "/", s.withSession(c)...), "/mfa/setup")
	wantRedirect(t, s.get(t, "/mfa", s.withSession(c)...), "/mfa/setup")
	wantRedirect(t, s.get(t, "/signin", s.withSession(c)...), "/")
	res := s.get(t, "/mfa/setup", s.withSession(c)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("MFA setup: %d", res.StatusCode)
	}
	// The layout says who is signed in and offers to sign out; the GET
	// only offers to start, which is a POST.
	mustContain(t, res.body, "Jeanne Martin, Contoso Partner", `<form class="account" method="post" action="/signout">`,
		`<form method="post" action="/mfa/setup">`)
	mustNotContain(t, res.body, "totp-secret", "data:image/png")
	// C11: that GET started nothing, so there is no pending secret to check
	// a code against.
	wantRedirect(t, s.postForm(t, "/mfa", url.Values{"code": {"123456"}}, s.withSession(c)...), "/mfa/setup")

	for _, path := range []string{"/mfa", "/mfa/setup"} {
		wantRedirect(t, s.get(t, path), "/signin")
	}
	wantRedirect(t, s.postForm(t, "/mfa", url.Values{"code": {"123456"}}), "/signin")

	// Once enrolled, the next sign-in goes to /mfa, and / waits for it.
	_, _, passed := s.enrol(t, c)
	res = s.get(t, "/", s.withSession(passed)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("home after MFA: %d", res.StatusCode)
	}
	res = s.signIn(t, "jeanne@contoso.example", goodPassword)
	wantRedirect(t, res, "/mfa")
	again := s.sessionCookie(res)
	wantRedirect(t, s.get(t, "/", s.withSession(again)...), "/mfa")
	wantRedirect(t, s.get(t, "/mfa/setup", s.withSession(again)...), "/mfa")
	wantRedirect(t, s.postForm(t, "/mfa/setup", nil, s.withSession(again)...), "/mfa")
}

func TestMFASetupSignOutAndBackIn(t *testing.T) {
	s := newIdentityServer(t, false)
	b := catalog(t)
	c := s.signup(t, "jeanne@contoso.example")

	// A wrong first code keeps the pending secret and offers to start again.
	res := s.postForm(t, "/mfa/setup", nil, s.withSession(c)...)
	mustContain(t, res.body, `<img class="qr" src="data:image/png;base64,`, `autocomplete="one-time-code"`)
	res = s.postForm(t, "/mfa", url.Values{"code": {"000000"}}, s.withSession(c)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="code-error">`+text(b, "en", "mfa.error.code")+`</p>`,
		`<form method="post" action="/mfa/setup">`)

	secret, recovery, passed := s.enrol(t, c)
	if passed.Value == c.Value {
		t.Fatal("the session id was not renewed by MFA")
	}
	// The pre-MFA id is worthless: the browser presenting it is a visitor.
	res = s.get(t, "/", s.withSession(c)...)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, text(b, "en", "home.heading")) {
		t.Fatalf("old session: %d", res.StatusCode)
	}
	if gone := s.sessionCookie(res); gone == nil || gone.MaxAge >= 0 {
		t.Error("a dead session cookie was not deleted")
	}
	res = s.get(t, "/", s.withSession(passed)...)
	mustContain(t, res.body, "Welcome, Jeanne Martin", "Contoso Partner", "jeanne@contoso.example", "France")

	wantRedirect(t, s.postForm(t, "/signout", nil, s.withSession(passed)...), "/signin?done=signed_out")
	wantRedirect(t, s.get(t, "/mfa", s.withSession(passed)...), "/signin")
	res = s.get(t, "/signin?done=signed_out")
	mustContain(t, res.body, text(b, "en", "signin.notice.signed_out"))

	// Back in with the next code.
	res = s.signIn(t, "jeanne@contoso.example", goodPassword)
	wantRedirect(t, res, "/mfa")
	pre := s.sessionCookie(res)
	res = s.get(t, "/mfa", s.withSession(pre)...)
	mustContain(t, res.body, `action="/mfa"`, `action="/mfa/recovery"`)
	code, _ := totp.Code(secret, s.clock.Now())
	res = s.postForm(t, "/mfa", url.Values{"code": {code}}, s.withSession(pre)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a code used already: %d", res.StatusCode)
	}
	s.clock.Advance(30 * time.Second)
	code, _ = totp.Code(secret, s.clock.Now())
	res = s.postForm(t, "/mfa", url.Values{"code": {code}}, s.withSession(pre)...)
	wantRedirect(t, res, "/partner")
	post := s.sessionCookie(res)
	if post == nil || post.Value == pre.Value {
		t.Fatal("no new session id after MFA")
	}
	mustContain(t, s.get(t, "/", s.withSession(post)...).body, "Welcome, Jeanne Martin")

	// A recovery code works once.
	res = s.signIn(t, "jeanne@contoso.example", goodPassword)
	pre = s.sessionCookie(res)
	res = s.postForm(t, "/mfa/recovery", url.Values{"recovery_code": {strings.ToUpper(recovery[0])}}, s.withSession(pre)...)
	wantRedirect(t, res, "/partner")
	res = s.signIn(t, "jeanne@contoso.example", goodPassword)
	pre = s.sessionCookie(res)
	res = s.postForm(t, "/mfa/recovery", url.Values{"recovery_code": {recovery[0]}}, s.withSession(pre)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reused recovery code: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="recovery_code-error">`+text(b, "en", "mfa.error.recovery_code")+`</p>`)
}

// C11: a cross-site form post changes nothing, and sets no cookie.
func TestCrossSitePostsAreRefused(t *testing.T) {
	s := newIdentityServer(t, false)
	c := s.signup(t, "jeanne@contoso.example")
	forms := map[string]url.Values{
		"/signup":          signupForm("mallory@contoso.example"),
		"/signin":          {"email": {"jeanne@contoso.example"}, "password": {goodPassword}},
		"/signout":         nil,
		"/mfa/setup":       nil,
		"/mfa":             {"code": {"123456"}},
		"/mfa/recovery":    {"recovery_code": {"abcde-fghjk"}},
		"/forgot-password": {"email": {"jeanne@contoso.example"}},
		"/reset-password/" + strings.Repeat("a", 43): {"password": {goodPassword}},
	}
	for path, form := range forms {
		for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
			res := s.postForm(t, path, form, append(hdr, s.withSession(c)...)...)
			if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
				t.Errorf("%s with %v: status %d, cookies %v", path, hdr, res.StatusCode, res.Cookies())
			}
		}
	}
	// Nothing happened: the session lives, and the other account does not exist.
	wantRedirect(t, s.get(t, "/", s.withSession(c)...), "/mfa/setup")
	if res := s.signIn(t, "mallory@contoso.example", goodPassword); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the cross-site sign-up happened: %d", res.StatusCode)
	}
	// No GET route changes state.
	for _, path := range []string{"/signout", "/lang"} {
		if res := s.get(t, path, s.withSession(c)...); res.StatusCode != http.StatusNotFound || len(res.Cookies()) != 0 {
			t.Errorf("GET %s: %d, cookies %v", path, res.StatusCode, res.Cookies())
		}
	}
}

func TestForgotPasswordAnswersAlike(t *testing.T) {
	s := newIdentityServer(t, false)
	b := catalog(t)
	s.signup(t, "jeanne@contoso.example")
	known := s.postForm(t, "/forgot-password", url.Values{"email": {"jeanne@contoso.example"}})
	unknown := s.postForm(t, "/forgot-password", url.Values{"email": {"nobody@contoso.example"}})
	if known.StatusCode != http.StatusOK || known.body != unknown.body {
		t.Errorf("answers differ: %d / %d", known.StatusCode, unknown.StatusCode)
	}
	mustContain(t, known.body, text(b, "en", "forgot.sent.text"))
	bad := s.postForm(t, "/forgot-password", url.Values{"email": {"not an email"}})
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad email: %d", bad.StatusCode)
	}
	mustContain(t, bad.body, text(b, "en", "form.error.email.invalid_email"), `value="not an email"`)
}

func TestResetPasswordByLink(t *testing.T) {
	s := newIdentityServer(t, false)
	b := catalog(t)
	ctx := context.Background()
	if _, _, err := s.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}); err != nil {
		t.Fatal(err)
	}
	_, link, err := s.svc.CreateOperatorAdmin(ctx, "olga@operator.example", "Olga", "en")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/reset-password/") {
		t.Fatalf("link %q", link)
	}
	res := s.get(t, u.Path)
	if res.StatusCode != http.StatusOK || res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET link: %d %v", res.StatusCode, res.Header)
	}
	mustContain(t, res.body, `action="`+u.Path+`"`, `autocomplete="new-password"`)

	res = s.postForm(t, u.Path, url.Values{"password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="password-error">`+text(b, "en", "form.error.password.too_short")+`</p>`)

	wantRedirect(t, s.postForm(t, u.Path, url.Values{"password": {goodPassword}}), "/signin?done=reset")
	mustContain(t, s.get(t, "/signin?done=reset").body, text(b, "en", "signin.notice.reset"))
	res = s.postForm(t, u.Path, url.Values{"password": {goodPassword + "!"}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("link used twice: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "reset.invalid.title"), `href="/forgot-password"`)
	if res := s.get(t, "/reset-password/not%20a%20token"); res.StatusCode != http.StatusNotFound {
		t.Errorf("mangled link: %d", res.StatusCode)
	}
	// The reset signs nobody in; the operator still sets up MFA.
	wantRedirect(t, s.signIn(t, "olga@operator.example", goodPassword), "/mfa/setup")
}

// Without the service the identity pages do not exist.
func TestIdentityPagesNeedTheService(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, path := range []string{"/signup", "/signin", "/mfa", "/mfa/setup", "/forgot-password", "/reset-password/abc"} {
		if res := s.get(t, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}
	if res := s.postForm(t, "/signin", url.Values{"email": {"a@b.example"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /signin: %d", res.StatusCode)
	}
	mustNotContain(t, s.get(t, "/").body, `href="/signin"`, `action="/signout"`)

	withService := newIdentityServer(t, false)
	mustContain(t, withService.get(t, "/").body, `href="/signin"`, `href="/signup"`)
}

// An invited user follows the emailed link, chooses a password on the
// same kind of page as a reset, and signs in with it.
func TestUserInvitationByLink(t *testing.T) {
	s := newIdentityServer(t, false)
	b := catalog(t)
	ctx := context.Background()
	org, err := s.svc.Signup(ctx, service.SignupInput{Kind: "customer", OrgName: "Fabrikam", Country: "FR", Domain: "fabrikam.example",
		Name: "Ada Admin", Email: "ada@fabrikam.example", Password: goodPassword, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}
	if _, err := s.svc.InviteUser(ctx, admin, service.InviteUserInput{Email: "bob@fabrikam.example", Name: "Bob", Roles: []string{csphub.RoleUser}}); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 10, MaxAttempts: 5})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("invitation emails: %d %v", len(msgs), err)
	}
	mail, err := msgs[0].Email()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/user-invitations/[A-Za-z0-9_-]+`).FindString(mail.Text)
	if m == "" {
		t.Fatalf("no link in %q", mail.Text)
	}
	res := s.get(t, m)
	if res.StatusCode != http.StatusOK || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET link: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "invite.title"), `action="`+m+`"`)
	if res := s.postForm(t, m, url.Values{"password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	wantRedirect(t, s.postForm(t, m, url.Values{"password": {"bob's long passphrase"}}), "/signin?done=invited")
	mustContain(t, s.get(t, "/signin?done=invited").body, text(b, "en", "signin.notice.invited"))
	res = s.postForm(t, m, url.Values{"password": {"bob's other passphrase"}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("link used twice: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "invite.invalid.text"))
	wantRedirect(t, s.signIn(t, "bob@fabrikam.example", "bob's long passphrase"), "/")
}
