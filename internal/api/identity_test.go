package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// newIdentityEnv serves the API with the real credentials: sessions and
// API tokens.
func newIdentityEnv(t *testing.T, engine string, clock *csphub.ManualClock) *env {
	t.Helper()
	var c csphub.Clock = csphub.SystemClock{}
	if clock != nil {
		c = clock
	}
	db := testdb.Open(t, engine, c)
	svc := service.New(db, nil, service.Options{})
	mux := http.NewServeMux()
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := api.New(mux, api.Options{Service: svc, Authenticator: api.Credentials{Service: svc}, MaxBodyBytes: 1 << 16, Logger: log})
	srv := httptest.NewServer(api.Middleware(api.CrossOriginProtection(mux), log, nil, 1<<16))
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, svc: svc, api: a, srv: srv}
}

const strongPassword = "correct horse battery staple"

func signupBody(kind, email string) string {
	return `{"kind":"` + kind + `","organization_name":"Contoso ` + kind + `","country":"FR","domain":"contoso.example",` +
		`"name":"Jeanne Martin","email":"` + email + `","password":"` + strongPassword + `","lang":"fr"}`
}

func (e *env) signup(kind, email string) service.SignupResult {
	e.t.Helper()
	r := e.do("POST", "/api/v1/signup", "", signupBody(kind, email))
	if r.status != 201 {
		e.t.Fatalf("signup: %d %s", r.status, r.body)
	}
	var out service.SignupResult
	r.json(e.t, &out)
	return out
}

func (e *env) signIn(email, password string) (string, response) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/sessions", "", `{"email":"`+email+`","password":"`+password+`"}`)
	var body struct {
		SessionToken string `json:"session_token"`
	}
	if r.status == 201 {
		r.json(e.t, &body)
	}
	return body.SessionToken, r
}

func TestSignupValidatesEveryField(t *testing.T) {
	e := newIdentityEnv(t, "sqlite", nil)
	out := e.signup("partner", "Jeanne@Contoso.example")
	if out.User.Email != "jeanne@contoso.example" || out.Organization.Kind != csphub.OrgPartner ||
		len(out.User.Roles) != 1 || out.User.Roles[0] != csphub.RoleGlobalAdmin {
		t.Fatalf("signup result %+v", out)
	}
	wantProblem(t, e.do("POST", "/api/v1/signup", "", signupBody("partner", "jeanne@contoso.example")), 409, "email_taken")
	bad := `{"kind":"partner","organization_name":"C","country":"XX","domain":"not a domain","name":"J","email":"nope","password":"password1"}`
	p := wantProblem(t, e.do("POST", "/api/v1/signup", "", bad), 422, "invalid_input")
	got := map[string]string{}
	for _, f := range p.Errors {
		got[f.Field] = f.Code
	}
	for field, code := range map[string]string{"country": "invalid_country", "domain": "invalid_domain", "email": "invalid_email", "password": "common"} {
		if got[field] != code {
			t.Errorf("field %s: code %q, want %q (all: %v)", field, got[field], code, got)
		}
	}
	// Mass assignment: a role or an organization id in the body is refused.
	wantProblem(t, e.do("POST", "/api/v1/signup", "", strings.Replace(signupBody("partner", "x@contoso.example"), `"lang":"fr"`, `"lang":"fr","roles":["operator_admin"]`, 1)), 422, "invalid_input")
	wantProblem(t, e.do("POST", "/api/v1/signup", "", signupBody("operator", "y@contoso.example")), 422, "invalid_input")
}

func TestSignInSessionsAndMFAGate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		e := newIdentityEnv(t, engine, clock)
		e.signup("partner", "partner@contoso.example")
		e.signup("customer", "customer@fabrikam.example")

		_, wrong := e.signIn("partner@contoso.example", "not the password")
		_, unknown := e.signIn("nobody@contoso.example", "not the password")
		wantProblem(t, wrong, 401, "invalid_credentials")
		wantProblem(t, unknown, 401, "invalid_credentials")

		tok, r := e.signIn("partner@contoso.example", strongPassword)
		if r.status != 201 || tok == "" {
			t.Fatalf("sign in: %d %s", r.status, r.body)
		}
		if ck := r.header.Get("Set-Cookie"); !strings.Contains(ck, "csphub_session=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
			t.Fatalf("cookie %q", ck)
		}
		var me service.Me
		rm := e.do("GET", "/api/v1/me", tok, "")
		rm.json(t, &me)
		if rm.status != 200 || me.User == nil || me.User.Email != "partner@contoso.example" || !me.MFARequired || me.MFAPassed {
			t.Fatalf("me: %d %s", rm.status, rm.body)
		}
		// A partner session that has not passed MFA reaches nothing else.
		wantProblem(t, e.do("GET", "/api/v1/events", tok, ""), 403, "mfa_required")
		wantProblem(t, e.do("GET", "/api/v1/api-tokens", tok, ""), 403, "mfa_required")

		// Sign-out ends the session.
		if r := e.do("DELETE", "/api/v1/sessions/current", tok, ""); r.status != 204 {
			t.Fatalf("sign out: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("GET", "/api/v1/me", tok, ""), 401, "session_expired")

		// A customer's session needs no MFA.
		ctok, _ := e.signIn("customer@fabrikam.example", strongPassword)
		if r := e.do("GET", "/api/v1/events", ctok, ""); r.status != 200 {
			t.Fatalf("customer events: %d %s", r.status, r.body)
		}
		// The idle timeout ends a session; activity keeps it alive.
		clock.Advance(7 * time.Hour)
		if r := e.do("GET", "/api/v1/me", ctok, ""); r.status != 200 {
			t.Fatalf("after 7h: %d", r.status)
		}
		clock.Advance(7 * time.Hour)
		if r := e.do("GET", "/api/v1/me", ctok, ""); r.status != 200 {
			t.Fatalf("7h after the last request: %d", r.status)
		}
		clock.Advance(8*time.Hour + time.Minute)
		wantProblem(t, e.do("GET", "/api/v1/me", ctok, ""), 401, "session_expired")

	})
}

func TestSignInThrottling(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		e := newIdentityEnv(t, engine, clock)
		e.signup("customer", "victim@fabrikam.example")
		for i := range 5 {
			if _, r := e.signIn("victim@fabrikam.example", "guess"); r.status != 401 {
				t.Fatalf("failure %d: %d", i+1, r.status)
			}
		}
		_, r := e.signIn("victim@fabrikam.example", "guess")
		p := wantProblem(t, r, 429, "too_many_sign_in_attempts")
		_ = p
		// Blocked: even the right password waits, with Retry-After.
		_, r = e.signIn("victim@fabrikam.example", strongPassword)
		wantProblem(t, r, 429, "too_many_sign_in_attempts")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		// Unknown accounts are throttled the same way (no enumeration).
		for range 6 {
			e.signIn("ghost@fabrikam.example", "guess")
		}
		_, r = e.signIn("ghost@fabrikam.example", "guess")
		wantProblem(t, r, 429, "too_many_sign_in_attempts")
		// Not a lockout for good: the real user gets in after the wait.
		clock.Advance(2 * time.Minute)
		if _, r := e.signIn("victim@fabrikam.example", strongPassword); r.status != 201 {
			t.Fatalf("after the wait: %d %s", r.status, r.body)
		}
		// At most a few dozen guesses an hour get checked.
		checked := 0
		for range 200 {
			_, r := e.signIn("victim@fabrikam.example", "guess")
			if r.status == 401 {
				checked++
			}
			clock.Advance(18 * time.Second)
		}
		if checked >= 100 {
			t.Fatalf("%d guesses checked in an hour", checked)
		}
		t.Logf("%d of 200 guesses in one hour were checked", checked)
	})
}

func TestAPITokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		e := newIdentityEnv(t, engine, clock)
		e.signup("customer", "admin@fabrikam.example")
		e.signup("customer", "admin@northwind.example")
		admin, _ := e.signIn("admin@fabrikam.example", strongPassword)
		other, _ := e.signIn("admin@northwind.example", strongPassword)
		exp := clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339)

		r := e.do("POST", "/api/v1/api-tokens", admin, `{"name":"billing export","roles":["global_admin"],"expires_at":"`+exp+`"}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var created service.CreatedAPIToken
		r.json(t, &created)
		if !strings.HasPrefix(created.Secret, service.APITokenPrefix) || len(created.Secret) < 40 {
			t.Fatalf("secret %q", created.Secret)
		}
		var me service.Me
		rm := e.do("GET", "/api/v1/me", created.Secret, "")
		rm.json(t, &me)
		if rm.status != 200 || me.Token == nil || me.Token.ID != created.ID || me.User != nil {
			t.Fatalf("me with a token: %d %s", rm.status, rm.body)
		}
		var page service.APITokenPage
		e.do("GET", "/api/v1/api-tokens", admin, "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].LastUsedAt == nil || strings.Contains(string(rm.body), created.Secret) {
			t.Fatalf("list: %+v", page)
		}
		// A token cannot mint tokens; nobody grants roles they lack; expiry is bounded.
		wantProblem(t, e.do("POST", "/api/v1/api-tokens", created.Secret, `{"name":"x","roles":["global_admin"],"expires_at":"`+exp+`"}`), 403, "admin_required")
		p := wantProblem(t, e.do("POST", "/api/v1/api-tokens", admin, `{"name":"x","roles":["billing_admin"],"expires_at":"`+exp+`"}`), 422, "invalid_input")
		if p.Errors[0].Code != "role_not_held" {
			t.Fatalf("%+v", p)
		}
		far := clock.Now().Add(400 * 24 * time.Hour).Format(time.RFC3339)
		wantProblem(t, e.do("POST", "/api/v1/api-tokens", admin, `{"name":"x","roles":["global_admin"],"expires_at":"`+far+`"}`), 422, "invalid_input")

		// Another tenant cannot see or revoke it: 404, and it keeps working.
		wantProblem(t, e.do("DELETE", "/api/v1/api-tokens/"+created.ID, other, ""), 404, "api_token_not_found")
		var otherPage service.APITokenPage
		e.do("GET", "/api/v1/api-tokens", other, "").json(t, &otherPage)
		if len(otherPage.Items) != 0 {
			t.Fatalf("another tenant lists %d tokens", len(otherPage.Items))
		}
		if r := e.do("GET", "/api/v1/me", created.Secret, ""); r.status != 200 {
			t.Fatal("a failed cross-tenant revocation changed the token")
		}
		// Revocation takes effect on the next request; so does expiry.
		if r := e.do("DELETE", "/api/v1/api-tokens/"+created.ID, admin, ""); r.status != 204 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("GET", "/api/v1/me", created.Secret, ""), 401, "invalid_token")
	})
}

func TestCrossSiteWritesAreRefused(t *testing.T) {
	e := newIdentityEnv(t, "sqlite", nil)
	r := e.do("POST", "/api/v1/signup", "", signupBody("customer", "a@fabrikam.example"), "Sec-Fetch-Site", "cross-site")
	wantProblem(t, r, 403, "cross_origin_request")
	r = e.do("POST", "/api/v1/signup", "", signupBody("customer", "a@fabrikam.example"), "Origin", "https://evil.example")
	wantProblem(t, r, 403, "cross_origin_request")
	if r := e.do("POST", "/api/v1/signup", "", signupBody("customer", "a@fabrikam.example"), "Sec-Fetch-Site", "same-origin"); r.status != 201 {
		t.Fatalf("same-origin signup: %d %s", r.status, r.body)
	}
}

// testLog sends log lines to the test's output.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// A token acts with at most its creator's current roles: removing a role
// it carries takes it away from the token, and disabling the creator stops
// the token, on the next request.
func TestAPITokenFollowsItsCreator(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, admin := w.admin("customer", "admin@fabrikam.example")
		second, secondTok := w.member(admin, "second@fabrikam.example", false, "global_admin", "billing_admin")
		exp := w.clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
		var created service.CreatedAPIToken
		r := w.do("POST", "/api/v1/api-tokens", secondTok, `{"name":"ci","roles":["global_admin","billing_admin"],"expires_at":"`+exp+`"}`)
		r.json(t, &created)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		roles := func() []string {
			var me service.Me
			r := w.do("GET", "/api/v1/me", created.Secret, "")
			if r.status != 200 {
				return nil
			}
			r.json(t, &me)
			return me.Roles
		}
		if got := roles(); len(got) != 2 {
			t.Fatalf("token roles %v", got)
		}
		_, etag := w.user(admin, second.User.ID)
		if r := w.do("PATCH", "/api/v1/users/"+second.User.ID, admin, `{"roles":["billing_admin"]}`, "If-Match", etag); r.status != 200 {
			t.Fatalf("remove role: %d %s", r.status, r.body)
		}
		if got := roles(); len(got) != 1 || got[0] != "billing_admin" {
			t.Fatalf("after the creator lost global_admin the token has %v", got)
		}
		_, etag = w.user(admin, second.User.ID)
		if r := w.do("PATCH", "/api/v1/users/"+second.User.ID, admin, `{"status":"disabled"}`, "If-Match", etag); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/me", created.Secret, ""), 401, "invalid_token")
	})
}
