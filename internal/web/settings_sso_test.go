package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// The SSO settings save only what discovery accepts, so these tests run
// zitadel's example OpenID provider on a loopback listener, which the
// service reaches because private issuers are allowed.

const ssoTestSecret = "sso-client-secret-7d1e9b3a55"

// newServerWithOptions is newIdentityServer with the service options given.
func newServerWithOptions(t *testing.T, opts service.Options) *identityServer {
	t.Helper()
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, "sqlite", clock)
	svc := service.New(db, nil, opts)
	ts := newTestServer(t, Options{Service: svc, Clock: clock})
	return &identityServer{testServer: ts, db: db, svc: svc, clock: clock, cookie: "csphub_session"}
}

// startProvider serves an OpenID provider and returns its issuer URL.
func startProvider(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	srv.Config.Handler = exampleop.SetupServer(issuer, storage.NewStorage(storage.NewUserStore(issuer)), nil, false)
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

func newSSOServer(t *testing.T) (*identityServer, string) {
	t.Helper()
	issuer := startProvider(t)
	return newServerWithOptions(t, service.Options{BaseURL: "https://portal.example", SSOAllowPrivateIssuers: true}), issuer
}

// plainUser invites a user with the role "user" into the admin's
// organization and signs them in.
func (s *identityServer) plainUser(t *testing.T, org service.SignupResult) *http.Cookie {
	t.Helper()
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}
	if _, err := s.svc.InviteUser(context.Background(), admin, service.InviteUserInput{Email: "bob@fabrikam.example", Name: "Bob", Roles: []string{"user"}}); err != nil {
		t.Fatal(err)
	}
	link := s.invitationEmails(t)["bob@fabrikam.example"]
	wantRedirect(t, s.postForm(t, link, url.Values{"password": {"bob's long passphrase"}}), "/signin?done=invited")
	res := s.signIn(t, "bob@fabrikam.example", "bob's long passphrase")
	wantRedirect(t, res, "/")
	return s.sessionCookie(res)
}

func ssoForm(issuer, secret string, domains string) url.Values {
	return url.Values{"issuer": {issuer}, "client_id": {"web"}, "client_secret": {secret}, "allowed_domains": {domains}}
}

func TestSettingsSSO(t *testing.T) {
	s, issuer := newSSOServer(t)
	b := catalog(t)
	c, org := s.customerAdmin(t)
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}
	var bodies []string

	// The settings tabs offer it to a global admin.
	res := s.get(t, "/settings/users", s.withSession(c)...)
	mustContain(t, res.body, `<a href="/settings/sso">`+text(b, "en", "settings.nav.sso")+`</a>`)

	res = s.get(t, "/settings/sso", s.withSession(c)...)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("page: %d %q %.500s", res.StatusCode, res.Header.Get("Cache-Control"), res.body)
	}
	mustContain(t, res.body, `<a href="/settings/sso" aria-current="page">`, text(b, "en", "settings.sso.state.not_configured"),
		text(b, "en", "settings.sso.secret.not_set"), `value="https://portal.example`+service.SSOCallbackPath+`" readonly`,
		`<input type="password" id="client_secret" name="client_secret"`, text(b, "en", "settings.sso.field.client_secret_hint"),
		`action="/settings/sso"`)
	mustNotContain(t, res.body, `action="/settings/sso/disable"`)

	// A bad issuer: its message by its field, what was typed kept, the
	// secret not.
	res = s.postForm(t, "/settings/sso", ssoForm("ftp://login.fabrikam.example", ssoTestSecret, "fabrikam.example"), s.withSession(c)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad issuer: %d %.500s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, `<p class="field-error" id="issuer-error">`+text(b, "en", "form.error.issuer.invalid_issuer")+`</p>`,
		`value="ftp://login.fabrikam.example"`, `value="web"`, ">fabrikam.example</textarea>", `aria-invalid="true"`)
	bodies = append(bodies, res.body)
	// An issuer where no provider answers, in French.
	res = s.postForm(t, "/settings/sso", ssoForm("http://127.0.0.1:1", ssoTestSecret, "fabrikam.example"), append(s.withSession(c), "Accept-Language", "fr")...)
	mustContain(t, res.body, `<p class="field-error" id="issuer-error">`+text(b, "fr", "form.error.issuer.issuer_discovery_failed")+`</p>`)
	bodies = append(bodies, res.body)
	// No secret for a first setup, and a bad domain list.
	res = s.postForm(t, "/settings/sso", ssoForm(issuer, "", "fabrikam.example, not a domain"), s.withSession(c)...)
	mustContain(t, res.body, `<p class="field-error" id="allowed_domains-error">`+text(b, "en", "form.error.allowed_domains.invalid_domain")+`</p>`)
	res = s.postForm(t, "/settings/sso", ssoForm(issuer, "", "fabrikam.example"), s.withSession(c)...)
	mustContain(t, res.body, `<p class="field-error" id="client_secret-error">`+text(b, "en", "form.error.client_secret.client_secret_required")+`</p>`)
	if _, err := s.svc.GetSSO(context.Background(), admin); csphub.ErrorKind(err) != csphub.KindNotFound {
		t.Fatalf("refused forms saved something: %v", err)
	}

	// Valid settings, domains one a line and by commas.
	res = s.postForm(t, "/settings/sso", ssoForm(issuer, ssoTestSecret, "fabrikam.example\r\nFabrikam.fr, contoso.example"), s.withSession(c)...)
	wantRedirect(t, res, "/settings/sso?done=saved")
	bodies = append(bodies, res.body)
	got, err := s.svc.GetSSO(context.Background(), admin)
	if err != nil || !got.Enabled || !got.ClientSecretSet || strings.Join(got.AllowedDomains, " ") != "contoso.example fabrikam.example fabrikam.fr" {
		t.Fatalf("saved: %+v %v", got, err)
	}
	res = s.get(t, "/settings/sso?done=saved", s.withSession(c)...)
	mustContain(t, res.body, text(b, "en", "settings.sso.notice.saved"), text(b, "en", "settings.sso.state.enabled"),
		text(b, "en", "settings.sso.secret.set"), `value="`+issuer+`"`, ">contoso.example\nfabrikam.example\nfabrikam.fr</textarea>",
		`action="/settings/sso/disable"`)
	bodies = append(bodies, res.body)

	// Saving again without a secret keeps the stored one.
	res = s.postForm(t, "/settings/sso", ssoForm(issuer, "", "fabrikam.example"), s.withSession(c)...)
	wantRedirect(t, res, "/settings/sso?done=saved")
	if got, err := s.svc.GetSSO(context.Background(), admin); err != nil || !got.ClientSecretSet || len(got.AllowedDomains) != 1 {
		t.Fatalf("saved again: %+v %v", got, err)
	}

	// Disable: the settings stay, shown as off, with no disable button.
	wantRedirect(t, s.postForm(t, "/settings/sso/disable", nil, s.withSession(c)...), "/settings/sso?done=disabled")
	if got, err := s.svc.GetSSO(context.Background(), admin); err != nil || got.Enabled {
		t.Fatalf("disabled: %+v %v", got, err)
	}
	res = s.get(t, "/settings/sso?done=disabled", append(s.withSession(c), "Accept-Language", "fr")...)
	mustContain(t, res.body, text(b, "fr", "settings.sso.notice.disabled"), text(b, "fr", "settings.sso.state.disabled"),
		text(b, "fr", "settings.sso.secret.set"), `value="`+issuer+`"`)
	mustNotContain(t, res.body, `action="/settings/sso/disable"`)
	bodies = append(bodies, res.body)
	// Disabling again changes nothing and does not fail.
	wantRedirect(t, s.postForm(t, "/settings/sso/disable", nil, s.withSession(c)...), "/settings/sso?done=disabled")

	for _, body := range bodies {
		mustNotContain(t, body, ssoTestSecret)
	}
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", s.logs)
	}
}

func TestSettingsSSONeedsAGlobalAdmin(t *testing.T) {
	s, issuer := newSSOServer(t)
	b := catalog(t)
	c, org := s.customerAdmin(t)
	bob := s.plainUser(t, org)
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}

	if res := s.get(t, "/settings/sso", s.withSession(bob)...); res.StatusCode != http.StatusForbidden {
		t.Errorf("GET as a plain user: %d", res.StatusCode)
	}
	for path, form := range map[string]url.Values{"/settings/sso": ssoForm(issuer, ssoTestSecret, "fabrikam.example"), "/settings/sso/disable": nil} {
		if res := s.postForm(t, path, form, s.withSession(bob)...); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s as a plain user: %d", path, res.StatusCode)
		}
		// A visitor is sent to sign in.
		wantRedirect(t, s.postForm(t, path, form), "/signin")
	}
	wantRedirect(t, s.get(t, "/settings/sso"), "/signin")
	if _, err := s.svc.GetSSO(context.Background(), admin); csphub.ErrorKind(err) != csphub.KindNotFound {
		t.Errorf("a plain user saved settings: %v", err)
	}
	mustNotContain(t, s.get(t, "/", s.withSession(bob)...).body, `href="/settings/sso"`, text(b, "en", "settings.nav.sso"))
	// The admin still gets the page.
	if res := s.get(t, "/settings/sso", s.withSession(c)...); res.StatusCode != http.StatusOK {
		t.Errorf("admin: %d", res.StatusCode)
	}
}

func TestSettingsSSOCrossSitePostsAreRefused(t *testing.T) {
	s, issuer := newSSOServer(t)
	c, org := s.customerAdmin(t)
	ctx := context.Background()
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}
	if _, err := s.svc.ConfigureSSO(ctx, admin, service.ConfigureSSOInput{Issuer: issuer, ClientID: "web", ClientSecret: ssoTestSecret,
		AllowedDomains: []string{"fabrikam.example"}}); err != nil {
		t.Fatal(err)
	}
	forms := map[string]url.Values{
		"/settings/sso":         ssoForm(issuer, "evil-secret", "evil.example"),
		"/settings/sso/disable": nil,
	}
	for path, form := range forms {
		for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
			res := s.postForm(t, path, form, append(hdr, s.withSession(c)...)...)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with %v: status %d", path, hdr, res.StatusCode)
			}
		}
	}
	got, err := s.svc.GetSSO(ctx, admin)
	if err != nil || !got.Enabled || strings.Join(got.AllowedDomains, " ") != "fabrikam.example" {
		t.Errorf("after cross-site posts: %+v %v", got, err)
	}
	// No GET route changes state.
	if res := s.get(t, "/settings/sso/disable", s.withSession(c)...); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /settings/sso/disable: %d", res.StatusCode)
	}
}

// A partner's global admin, past MFA, manages SSO too.
func TestSettingsSSOPartner(t *testing.T) {
	s, _ := newSSOServer(t)
	b := catalog(t)
	c := s.partnerAdmin(t)
	res := s.get(t, "/settings/sso", append(s.withSession(c), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("partner: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "settings.sso.title"), text(b, "fr", "settings.sso.state.not_configured"))
}
