package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

// These tests sign in through a real OpenID provider: zitadel's example
// provider (its in-memory storage, login form and op package) on a
// loopback listener. The provider signs real ID tokens; to exercise the
// refusals, its storage can be told to issue a token for another audience
// or with another nonce, as a misconfigured or hostile provider would.

const (
	opClientID     = "csphub-portal"
	opClientSecret = "op-client-secret-4f9a1c7e2b"
	opPassword     = "provider password"
)

// opUsers is the provider's user directory.
type opUsers map[string]*storage.User

func (u opUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u opUsers) ExampleClientID() string             { return "service" }
func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}

// tamperingStorage is the example provider's storage, able to issue the
// next ID tokens to another client (the provider puts the client it issues
// to in aud and azp), with more audiences, or with another nonce.
type tamperingStorage struct {
	*storage.Storage
	mu       sync.Mutex
	issuedTo string
	audience []string
	nonce    string
	// emailInIDToken: the provider puts the email claims in the ID token
	// itself (by default the example provider serves them from userinfo).
	emailInIDToken bool
}

func (s *tamperingStorage) tamper(issuedTo string, audience []string, nonce string) {
	s.mu.Lock()
	s.issuedTo, s.audience, s.nonce = issuedTo, audience, nonce
	s.mu.Unlock()
}

func (s *tamperingStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.issuedTo == "" && s.audience == nil && s.nonce == "" {
		return r, err
	}
	return tamperedRequest{AuthRequest: r, issuedTo: s.issuedTo, audience: s.audience, nonce: s.nonce}, nil
}

// GetClientByClientID answers with the client tokens are issued to, so
// that the provider's own check (the code's client is the caller) holds
// while csphub still authenticates with its own secret.
func (s *tamperingStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	if s.issuedTo != "" {
		id = s.issuedTo
	}
	claims := s.emailInIDToken
	s.mu.Unlock()
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || !claims {
		return c, err
	}
	return claimsInIDToken{c}, nil
}

type claimsInIDToken struct{ op.Client }

func (claimsInIDToken) IDTokenUserinfoClaimsAssertion() bool { return true }

type tamperedRequest struct {
	op.AuthRequest
	issuedTo string
	audience []string
	nonce    string
}

func (r tamperedRequest) GetClientID() string {
	if r.issuedTo != "" {
		return r.issuedTo
	}
	return r.AuthRequest.GetClientID()
}

func (r tamperedRequest) GetAudience() []string {
	if r.audience != nil {
		return r.audience
	}
	return []string{r.GetClientID()}
}

func (r tamperedRequest) GetNonce() string {
	if r.nonce != "" {
		return r.nonce
	}
	return r.AuthRequest.GetNonce()
}

type ssoEnv struct {
	*env
	clock    *csphub.ManualClock
	logs     *lockedBuffer
	issuer   string
	idp      *tamperingStorage
	userinfo atomic.Int64 // requests to the provider's userinfo endpoint
}

// newSSOEnv serves csphub (SQLite, real credentials) and an OpenID
// provider, both on 127.0.0.1.
func newSSOEnv(t *testing.T) *ssoEnv {
	t.Helper()
	// The example provider logs every request to the default logger.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(prev) })
	// csphub's clock starts at the real time: the provider stamps its
	// tokens with the real time, and csphub checks them on its own clock.
	clock := csphub.NewManualClock(time.Now())
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := testdb.Open(t, "sqlite", clock)
	srv := httptest.NewUnstartedServer(nil)
	svc := service.New(db, log, service.Options{BaseURL: "http://" + srv.Listener.Addr().String(), SSOAllowPrivateIssuers: true})
	mux := http.NewServeMux()
	a := api.New(mux, api.Options{Service: svc, Authenticator: api.Credentials{Service: svc}, Logger: log, MaxBodyBytes: 1 << 16})
	srv.Config.Handler = api.Middleware(api.CrossOriginProtection(mux), log, nil, 1<<16)
	srv.Start()
	t.Cleanup(srv.Close)

	idpSrv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + idpSrv.Listener.Addr().String()
	users := opUsers{}
	for id, email := range map[string]string{
		"fab-admin": "admin@fabrikam.example", "fab-ghost": "ghost@fabrikam.example", "fab-unverified": "eve@fabrikam.example",
		"north-admin": "admin@northwind.example", "outsider": "someone@elsewhere.example", "partner-admin": "admin@contoso.example",
	} {
		users[id] = &storage.User{ID: id, Username: id, Password: opPassword, FirstName: id, LastName: "Test",
			Email: email, EmailVerified: id != "fab-unverified"}
	}
	clients := map[string]*storage.Client{
		opClientID:    storage.WebClient(opClientID, opClientSecret, srv.URL+service.SSOCallbackPath),
		"another-app": storage.WebClient("another-app", "another-secret", srv.URL+service.SSOCallbackPath),
	}
	idp := &tamperingStorage{Storage: storage.NewStorageWithClients(users, clients)}
	e := &ssoEnv{env: &env{t: t, db: db, svc: svc, api: a, srv: srv}, clock: clock, logs: logs, issuer: issuer, idp: idp}
	provider := exampleop.SetupServer(issuer, idp, nil, false)
	idpSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/userinfo" {
			e.userinfo.Add(1)
		}
		provider.ServeHTTP(w, r)
	})
	idpSrv.Start()
	t.Cleanup(idpSrv.Close)
	return e
}

func (e *ssoEnv) configure(token string, domains ...string) response {
	e.t.Helper()
	body, _ := json.Marshal(service.ConfigureSSOInput{Issuer: e.issuer, ClientID: opClientID, ClientSecret: opClientSecret, AllowedDomains: domains})
	return e.do("PUT", "/api/v1/sso", token, string(body))
}

// browser is a user agent with its own cookies. It follows redirects
// except into csphub, so that each step there can be looked at.
type browser struct {
	e *ssoEnv
	c *http.Client
}

func (e *ssoEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	host := e.srv.Listener.Addr().String()
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == host {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, body}
}

func (b *browser) get(u string) response {
	b.e.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// toCallback starts a sign-in at csphub, signs in at the provider as
// username and returns the callback URL the provider sends the browser
// to, not yet visited.
func (b *browser) toCallback(startQuery, username string) string {
	b.e.t.Helper()
	res, err := b.c.Get(b.e.srv.URL + "/auth/sso/start?" + startQuery)
	if err != nil {
		b.e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Request.URL.String(), b.e.issuer+"/login/username") {
		b.e.t.Fatalf("start did not reach the provider's login form: %d at %s", res.StatusCode, res.Request.URL)
	}
	// The authorization request carries PKCE S256, a nonce and a state.
	auth := res.Request.Response.Request.URL.Query()
	if auth.Get("code_challenge_method") != "S256" || auth.Get("code_challenge") == "" || auth.Get("nonce") == "" ||
		auth.Get("state") == "" || auth.Get("client_id") != opClientID || auth.Get("response_type") != "code" {
		b.e.t.Fatalf("authorization request %v", auth)
	}
	form := url.Values{"id": {res.Request.URL.Query().Get("authRequestID")}, "username": {username}, "password": {opPassword}}
	res, err = b.c.PostForm(b.e.issuer+"/login/username", form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, b.e.srv.URL+service.SSOCallbackPath+"?") {
		b.e.t.Fatalf("the provider did not send the browser back: %d %q", res.StatusCode, loc)
	}
	return loc
}

// signIn runs the whole flow and returns csphub's answer to the callback.
func (b *browser) signIn(startQuery, username string) response {
	b.e.t.Helper()
	return b.get(b.toCallback(startQuery, username))
}

func (b *browser) me() (service.Me, response) {
	b.e.t.Helper()
	r := b.get(b.e.srv.URL + "/api/v1/me")
	var me service.Me
	if r.status == 200 {
		r.json(b.e.t, &me)
	}
	return me, r
}

func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == api.SessionCookie(false) {
			return c.Value
		}
	}
	return ""
}

// securityLog returns the reasons of the refused SSO sign-ins recorded for
// the organization, oldest first.
func (e *ssoEnv) refusals(adminToken string) []string {
	e.t.Helper()
	if err := e.svc.SequenceJournal(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	var page service.AuditPage
	e.do("GET", "/api/v1/audit-records?action_prefix=session.sign_in_failed&page_size=500", adminToken, "").json(e.t, &page)
	var reasons []string
	for _, r := range page.Records {
		var after map[string]string
		_ = json.Unmarshal(r.After, &after)
		if after["method"] == "sso" {
			reasons = append(reasons, after["reason"])
		}
	}
	return reasons
}

func lastRefusal(t *testing.T, e *ssoEnv, adminToken, want string) {
	t.Helper()
	got := e.refusals(adminToken)
	if len(got) == 0 || got[len(got)-1] != want {
		t.Fatalf("security log reasons %v, want the last one %q", got, want)
	}
}

func TestSSOSignInThroughARealProvider(t *testing.T) {
	e := newSSOEnv(t)
	fabrikam := e.signup("customer", "admin@fabrikam.example")
	e.signup("customer", "admin@northwind.example")
	admin, _ := e.signIn("admin@fabrikam.example", strongPassword)

	// Configuration: validated, discovered, the secret kept and never shown.
	wantProblem(t, e.do("GET", "/api/v1/sso", admin, ""), 404, "sso_config_not_found")
	p := wantProblem(t, e.do("PUT", "/api/v1/sso", admin, `{"issuer":"http://idp.fabrikam.example","client_id":"x","client_secret":"y","allowed_domains":["fabrikam.example"]}`), 422, "invalid_input")
	if p.Errors[0].Code != "invalid_issuer" {
		t.Fatalf("plain http off loopback: %+v", p)
	}
	p = wantProblem(t, e.do("PUT", "/api/v1/sso", admin, `{"issuer":"`+e.issuer+`/nowhere","client_id":"x","client_secret":"y","allowed_domains":["fabrikam.example"]}`), 422, "invalid_input")
	if p.Errors[0].Code != "issuer_discovery_failed" {
		t.Fatalf("an issuer without discovery: %+v", p)
	}
	p = wantProblem(t, e.do("PUT", "/api/v1/sso", admin, `{"issuer":"`+e.issuer+`","client_id":"`+opClientID+`","allowed_domains":["fabrikam.example"]}`), 422, "invalid_input")
	if p.Errors[0].Code != "client_secret_required" {
		t.Fatalf("no secret: %+v", p)
	}
	wantProblem(t, e.do("PUT", "/api/v1/sso", admin, `{"issuer":"`+e.issuer+`","client_id":"c","client_secret":"s","allowed_domains":["fabrikam.example"],"enabled":false}`), 422, "invalid_input")
	r := e.configure(admin, "Fabrikam.example", "northwind.example")
	var settings service.SSOSettings
	r.json(t, &settings)
	if r.status != 200 || !settings.Enabled || !settings.ClientSecretSet || settings.RedirectURI != e.srv.URL+service.SSOCallbackPath ||
		strings.Join(settings.AllowedDomains, ",") != "fabrikam.example,northwind.example" {
		t.Fatalf("configure: %d %s", r.status, r.body)
	}
	// Changing the domains only may keep the stored secret.
	r = e.do("PUT", "/api/v1/sso", admin, `{"issuer":"`+e.issuer+`","client_id":"`+opClientID+`","allowed_domains":["fabrikam.example","northwind.example"]}`)
	if r.status != 200 {
		t.Fatalf("reconfigure keeping the secret: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/sso", admin, ""); r.status != 200 || strings.Contains(string(r.body), opClientSecret) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}

	// Success: a session, usable on /api/v1/me, landing where asked.
	b := e.browser()
	r = b.signIn("org="+fabrikam.Organization.ID+"&next=/orders%3Fpage%3D2", "fab-admin")
	if r.status != http.StatusFound || r.header.Get("Location") != "/orders?page=2" || b.sessionCookie() == "" {
		t.Fatalf("callback: %d %v %s", r.status, r.header, r.body)
	}
	if ck := strings.Join(r.header.Values("Set-Cookie"), "\n"); !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
		t.Fatalf("cookies %q", ck)
	}
	me, r := b.me()
	if r.status != 200 || me.User == nil || me.User.Email != "admin@fabrikam.example" || me.Organization.ID != fabrikam.Organization.ID {
		t.Fatalf("me: %d %s", r.status, r.body)
	}
	session := b.sessionCookie()

	if e.userinfo.Load() != 1 {
		t.Fatalf("the email came from %d userinfo requests, want 1", e.userinfo.Load())
	}

	// By email: the domain picks the organization. An open redirect is not
	// honoured. The email claims come in the ID token this time.
	e.idp.mu.Lock()
	e.idp.emailInIDToken = true
	e.idp.mu.Unlock()
	b2 := e.browser()
	if r := b2.signIn("email=admin%40fabrikam.example&next=//evil.example/x", "fab-admin"); r.status != http.StatusFound || r.header.Get("Location") != "/" {
		t.Fatalf("by email: %d %v %s", r.status, r.header, r.body)
	}
	if me, r := b2.me(); r.status != 200 || me.User.Email != "admin@fabrikam.example" || e.userinfo.Load() != 1 {
		t.Fatalf("by email, claims in the ID token: %d %s, %d userinfo requests", r.status, r.body, e.userinfo.Load())
	}
	e.idp.mu.Lock()
	e.idp.emailInIDToken = false
	e.idp.mu.Unlock()

	// A replayed state is refused, even with its binding cookie.
	b3 := e.browser()
	callback := b3.toCallback("org="+fabrikam.Organization.ID, "fab-admin")
	state, _ := url.Parse(callback)
	if r := b3.get(callback); r.status != http.StatusFound {
		t.Fatalf("first callback: %d %s", r.status, r.body)
	}
	replay, _ := http.NewRequest("GET", callback, nil)
	replay.Header.Set("Cookie", "csphub_sso="+state.Query().Get("state"))
	wantProblem(t, e.browser().do(replay), 401, "sso_state_invalid")

	// Login CSRF: another browser cannot finish this browser's sign-in; the
	// state survives for its own browser.
	b4 := e.browser()
	callback = b4.toCallback("org="+fabrikam.Organization.ID, "fab-admin")
	wantProblem(t, e.browser().get(callback), 401, "sso_browser_mismatch")
	if r := b4.get(callback); r.status != http.StatusFound {
		t.Fatalf("own browser after a foreign attempt: %d %s", r.status, r.body)
	}

	// An ID token issued for another client id is refused.
	e.idp.tamper("another-app", nil, "")
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "fab-admin"), 401, "sso_sign_in_failed")
	lastRefusal(t, e, admin, "id_token_invalid")
	// So is one whose audience merely includes csphub, issued to another party.
	e.idp.tamper("another-app", []string{"another-app", opClientID}, "")
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "fab-admin"), 401, "sso_sign_in_failed")
	lastRefusal(t, e, admin, "id_token_invalid")
	// An ID token with another nonce is refused.
	e.idp.tamper("", nil, "a-nonce-from-another-sign-in")
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "fab-admin"), 401, "sso_sign_in_failed")
	lastRefusal(t, e, admin, "nonce_mismatch")
	e.idp.tamper("", nil, "")

	// Emails: outside the allowed domains, unverified, another
	// organization's user, nobody's: refused, the last two alike.
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "outsider"), 403, "sso_email_not_allowed")
	lastRefusal(t, e, admin, "email_domain_not_allowed")
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "fab-unverified"), 403, "sso_email_not_verified")
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "north-admin"), 403, "sso_no_account")
	wantProblem(t, e.browser().signIn("org="+fabrikam.Organization.ID, "fab-ghost"), 403, "sso_no_account")
	lastRefusal(t, e, admin, "no_account")

	// An attempt expires after 10 minutes.
	b5 := e.browser()
	callback = b5.toCallback("org="+fabrikam.Organization.ID, "fab-admin")
	e.clock.Advance(10*time.Minute + time.Second)
	wantProblem(t, b5.get(callback), 401, "sso_state_invalid")

	// The security log has the sign-ins.
	if err := e.svc.SequenceJournal(context.Background()); err != nil {
		t.Fatal(err)
	}
	var page service.AuditPage
	admin, _ = e.signIn("admin@fabrikam.example", strongPassword)
	e.do("GET", "/api/v1/audit-records?action_prefix=session.sign_in&page_size=500", admin, "").json(t, &page)
	ssoSignIns := 0
	for _, rec := range page.Records {
		if rec.Action == "session.sign_in" && strings.Contains(string(rec.After), `"sso"`) {
			ssoSignIns++
		}
	}
	if ssoSignIns != 4 {
		t.Fatalf("%d SSO sign-ins in the security log, want 4", ssoSignIns)
	}

	// Disabled: no new sign-in; the settings stay; the secret is still never shown.
	if r := e.do("DELETE", "/api/v1/sso", admin, ""); r.status != 204 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	wantProblem(t, e.browser().get(e.srv.URL+"/auth/sso/start?org="+fabrikam.Organization.ID), 404, "sso_not_configured")
	wantProblem(t, e.browser().get(e.srv.URL+"/auth/sso/start?email=admin@fabrikam.example"), 404, "sso_not_configured")
	r = e.do("GET", "/api/v1/sso", admin, "")
	if r.status != 200 || strings.Contains(string(r.body), opClientSecret) || !strings.Contains(string(r.body), `"enabled":false`) {
		t.Fatalf("get after disable: %d %s", r.status, r.body)
	}

	// The events of the organization tell of the changes, without the secret.
	if err := e.svc.SequenceJournal(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events service.EventPage
	r = e.do("GET", "/api/v1/events?page_size=500", admin, "")
	r.json(t, &events)
	var types []string
	for _, ev := range events.Events {
		types = append(types, ev.Type)
	}
	if !strings.Contains(strings.Join(types, " "), "organization.sso_configured") || !strings.Contains(strings.Join(types, " "), "organization.sso_disabled") {
		t.Fatalf("events %v: %s", types, r.body)
	}

	// No secret, token, code or state in the logs, audit records or events.
	var journal strings.Builder
	for _, table := range []string{"audit_records", "events"} {
		rows, err := e.db.DumpForTest(table)
		if err != nil {
			t.Fatal(err)
		}
		journal.WriteString(rows)
	}
	code := state.Query().Get("code")
	for name, secret := range map[string]string{"client secret": opClientSecret, "session": session, "code": code, "state": state.Query().Get("state")} {
		if secret == "" {
			t.Fatalf("the script lost the %s", name)
		}
		if strings.Contains(journal.String(), secret) {
			t.Errorf("the %s is in the audit records or events", name)
		}
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the %s is in the logs", name)
		}
	}
}

// A partner's users sign in through the provider, and then still pass
// csphub's TOTP: the provider's own MFA does not count.
func TestSSOPartnerSessionStillNeedsTOTP(t *testing.T) {
	e := newSSOEnv(t)
	contoso := e.signup("partner", "admin@contoso.example")
	pre, _ := e.signIn("admin@contoso.example", strongPassword)
	// Configuring is a partner route: MFA first.
	wantProblem(t, e.configure(pre, "contoso.example"), 403, "mfa_required")
	var en service.TOTPEnrollment
	e.do("POST", "/api/v1/me/mfa/totp", pre, "").json(t, &en)
	code, _ := totp.Code(en.Secret, e.clock.Now())
	var passed service.MFAResult
	e.do("POST", "/api/v1/me/mfa/totp/verify", pre, `{"code":"`+code+`"}`).json(t, &passed)
	if r := e.configure(passed.SessionToken, "contoso.example"); r.status != 200 {
		t.Fatalf("configure: %d %s", r.status, r.body)
	}

	b := e.browser()
	r := b.signIn("org="+contoso.Organization.ID, "partner-admin")
	if r.status != http.StatusFound || r.header.Get("Location") != "/mfa" {
		t.Fatalf("callback: %d %v %s", r.status, r.header, r.body)
	}
	me, r := b.me()
	if r.status != 200 || !me.MFARequired || me.MFAPassed {
		t.Fatalf("me before MFA: %d %s", r.status, r.body)
	}
	tok := b.sessionCookie()
	wantProblem(t, e.do("GET", "/api/v1/events", tok, ""), 403, "mfa_required")
	wantProblem(t, e.do("GET", "/api/v1/sso", tok, ""), 403, "mfa_required")

	e.clock.Advance(30 * time.Second) // a TOTP code works once: wait for the next
	code, _ = totp.Code(en.Secret, e.clock.Now())
	var after service.MFAResult
	if r := e.do("POST", "/api/v1/me/mfa/totp/verify", tok, `{"code":"`+code+`"}`); r.status != 200 {
		t.Fatalf("verify: %d %s", r.status, r.body)
	} else {
		r.json(t, &after)
	}
	if r := e.do("GET", "/api/v1/sso", after.SessionToken, ""); r.status != 200 || strings.Contains(string(r.body), opClientSecret) {
		t.Fatalf("after MFA: %d %s", r.status, r.body)
	}
}
