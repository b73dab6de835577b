package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// newSettingsServer is newIdentityServer with short settings pages, so
// that paging shows with a few users.
func newSettingsServer(t *testing.T, pageSize int) *identityServer {
	t.Helper()
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, "sqlite", clock)
	svc := service.New(db, nil, service.Options{})
	ts := newTestServer(t, Options{Service: svc, Clock: clock, SettingsPageSize: pageSize})
	return &identityServer{testServer: ts, db: db, svc: svc, clock: clock, cookie: "csphub_session"}
}

// customerAdmin creates a customer organization (no MFA) and signs its
// global admin in.
func (s *identityServer) customerAdmin(t *testing.T) (*http.Cookie, service.SignupResult) {
	t.Helper()
	org, err := s.svc.Signup(context.Background(), service.SignupInput{Kind: "customer", OrgName: "Fabrikam", Country: "FR",
		Domain: "fabrikam.example", Name: "Ada Admin", Email: "ada@fabrikam.example", Password: goodPassword, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	res := s.signIn(t, "ada@fabrikam.example", goodPassword)
	wantRedirect(t, res, "/")
	return s.sessionCookie(res), org
}

// partnerAdmin signs up a partner and passes MFA.
func (s *identityServer) partnerAdmin(t *testing.T) *http.Cookie {
	t.Helper()
	c := s.signup(t, "jeanne@contoso.example")
	// Before MFA the settings are out of reach.
	wantRedirect(t, s.get(t, "/settings/users", s.withSession(c)...), "/mfa/setup")
	_, _, c = s.enrol(t, c)
	return c
}

// invitationEmails claims the queued invitation emails and returns their
// links, by recipient.
func (s *identityServer) invitationEmails(t *testing.T) map[string]string {
	t.Helper()
	msgs, err := s.db.ClaimOutbox(context.Background(), store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 50, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, m := range msgs {
		mail, err := m.Email()
		if err != nil {
			t.Fatal(err)
		}
		link := regexp.MustCompile(`/user-invitations/[A-Za-z0-9_-]+`).FindString(mail.Text)
		links[mail.To] = link
	}
	return links
}

var (
	etagField = regexp.MustCompile(`<input type="hidden" name="etag" value="([^"]+)">`)
)

func userURL(t *testing.T, body, email string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="(/settings/users/[^"]+)">` + regexp.QuoteMeta(email) + `</a>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link to %s in %s", email, body)
	}
	return m[1]
}

// editForm opens a user's edit page and returns its ETag.
func (s *identityServer) editForm(t *testing.T, path string, c *http.Cookie, header ...string) (response, string) {
	t.Helper()
	res := s.get(t, path, append(s.withSession(c), header...)...)
	m := etagField.FindStringSubmatch(res.body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %d %.500s", path, res.StatusCode, res.body)
	}
	return res, html.UnescapeString(m[1])
}

func TestSettingsUsersInCustomerOrganization(t *testing.T) {
	s := newSettingsServer(t, 2)
	b := catalog(t)
	c, org := s.customerAdmin(t)
	ctx := context.Background()
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}

	// The nav offers the settings to a global admin.
	mustContain(t, s.get(t, "/", s.withSession(c)...).body, `<a href="/settings/users">`+text(b, "en", "layout.nav.settings")+`</a>`)
	wantRedirect(t, s.get(t, "/settings", s.withSession(c)...), "/settings/users")

	res := s.get(t, "/settings/users", s.withSession(c)...)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	mustContain(t, res.body, "ada@fabrikam.example", "Ada Admin", text(b, "en", "role.global_admin"),
		`aria-current="page">`+text(b, "en", "layout.nav.settings"),
		`<input type="checkbox" id="roles" name="roles" value="global_admin">`,
		`<input type="checkbox" id="roles-user" name="roles" value="user">`,
		`action="/settings/users"`)
	// Only the roles of a customer organization are offered.
	mustNotContain(t, res.body, `value="admin_agent"`, `rel="next"`)

	// Invite: the email is queued, the list shows the invitation pending.
	res = s.postForm(t, "/settings/users", url.Values{"email": {"bob@fabrikam.example"}, "name": {"Bob"}, "lang": {"fr"}, "roles": {"user"}}, s.withSession(c)...)
	wantRedirect(t, res, "/settings/users?done=invited")
	links := s.invitationEmails(t)
	if links["bob@fabrikam.example"] == "" {
		t.Fatalf("no invitation email to bob: %v", links)
	}
	res = s.get(t, "/settings/users?done=invited", s.withSession(c)...)
	mustContain(t, res.body, text(b, "en", "settings.users.notice.invited"), "bob@fabrikam.example",
		text(b, "en", "settings.users.invitation_pending"), text(b, "en", "role.user"))

	// Refused invitations keep what was typed, each message by its field.
	res = s.postForm(t, "/settings/users", url.Values{"email": {"nope"}, "name": {"Carol"}, "lang": {"en"}, "roles": {"user"}}, s.withSession(c)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad email: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="email-error">`+text(b, "en", "form.error.email.invalid_email")+`</p>`,
		`value="Carol"`, `value="user" checked`)
	res = s.postForm(t, "/settings/users", url.Values{"email": {"Bob@fabrikam.example"}, "name": {"Bob"}, "lang": {"en"}}, s.withSession(c)...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "settings.error.email_taken"))

	// Paging: two users a page, a third one shows on the next.
	if _, err := s.svc.InviteUser(ctx, admin, service.InviteUserInput{Email: "carol@fabrikam.example", Name: "Carol", Roles: []string{"user"}}); err != nil {
		t.Fatal(err)
	}
	res = s.get(t, "/settings/users", s.withSession(c)...)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(res.body)
	if next == nil {
		t.Fatalf("no next page link: %s", res.body)
	}
	mustNotContain(t, res.body, "carol@fabrikam.example")
	res = s.get(t, html.UnescapeString(next[1]), s.withSession(c)...)
	mustContain(t, res.body, "carol@fabrikam.example", `<a href="/settings/users">`+text(b, "en", "settings.pagination.first"))
	mustNotContain(t, res.body, "bob@fabrikam.example")
	if res := s.get(t, "/settings/users?page=garbage", s.withSession(c)...); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad page token: %d", res.StatusCode)
	}

	// Edit Bob's roles with the ETag of the page.
	res = s.get(t, "/settings/users", s.withSession(c)...)
	bob := userURL(t, res.body, "bob@fabrikam.example")
	page, etag := s.editForm(t, bob, c)
	mustContain(t, page.body, `value="Bob"`, `value="user" checked`, `<option value="fr" lang="fr" selected>`,
		`action="`+bob+`/delete"`)
	mustNotContain(t, page.body, text(b, "en", "settings.user.admin_agent_hint"))
	form := url.Values{"etag": {etag}, "name": {"Bob Builder"}, "lang": {"fr"}, "roles": {"billing_admin", "user"}, "status": {"active"}}
	wantRedirect(t, s.postForm(t, bob, form, s.withSession(c)...), bob+"?done=updated")
	id := strings.TrimPrefix(bob, "/settings/users/")
	u, err := s.svc.GetUser(ctx, admin, id)
	if err != nil || u.Name != "Bob Builder" || !slices.Equal(u.Roles, []string{"billing_admin", "user"}) {
		t.Fatalf("after update: %+v %v", u, err)
	}
	mustContain(t, s.get(t, bob+"?done=updated", s.withSession(c)...).body, text(b, "en", "settings.users.notice.updated"))

	// The same form again carries a stale ETag: refused, nothing changes,
	// and the page shows the user as they are now with the new ETag.
	form.Set("roles", "user")
	res = s.postForm(t, bob, form, append(s.withSession(c), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale ETag: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "settings.error.etag_mismatch"), `value="billing_admin" checked`,
		`value="`+html.EscapeString(service.UserETag(u))+`"`)
	if u, _ := s.svc.GetUser(ctx, admin, id); len(u.Roles) != 2 {
		t.Errorf("a stale form changed the roles: %v", u.Roles)
	}
	// A form without an ETag is refused too.
	form.Del("etag")
	if res := s.postForm(t, bob, form, s.withSession(c)...); res.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("no ETag: %d", res.StatusCode)
	}

	// The last global admin cannot give up the role; the message is in the
	// reader's language.
	res = s.get(t, "/settings/users", s.withSession(c)...)
	self := userURL(t, res.body, "ada@fabrikam.example")
	page, etag = s.editForm(t, self, c)
	mustNotContain(t, page.body, `action="`+self+`/delete"`)
	res = s.postForm(t, self, url.Values{"etag": {etag}, "name": {"Ada Admin"}, "lang": {"en"}, "roles": {"user"}, "status": {"active"}},
		append(s.withSession(c), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("last global admin: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "settings.error.last_global_admin"), `<html lang="fr"`)
	res = s.postForm(t, self+"/delete", url.Values{"etag": {etag}}, s.withSession(c)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("delete self: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "settings.error.cannot_delete_self"))

	// Delete Bob with the current ETag.
	_, etag = s.editForm(t, bob, c)
	wantRedirect(t, s.postForm(t, bob+"/delete", url.Values{"etag": {etag}}, s.withSession(c)...), "/settings/users?done=deleted")
	res = s.get(t, "/settings/users?done=deleted", s.withSession(c)...)
	mustContain(t, res.body, text(b, "en", "settings.users.notice.deleted"))
	mustNotContain(t, res.body, "bob@fabrikam.example")
	if res := s.get(t, bob, s.withSession(c)...); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted user's page: %d", res.StatusCode)
	}
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", s.logs)
	}
}

func TestSettingsNeedAnAdmin(t *testing.T) {
	s := newSettingsServer(t, 0)
	b := catalog(t)
	c, org := s.customerAdmin(t)
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}
	if _, err := s.svc.InviteUser(context.Background(), admin, service.InviteUserInput{Email: "bob@fabrikam.example", Name: "Bob", Roles: []string{"user"}}); err != nil {
		t.Fatal(err)
	}
	link := s.invitationEmails(t)["bob@fabrikam.example"]
	wantRedirect(t, s.postForm(t, link, url.Values{"password": {"bob's long passphrase"}}), "/signin?done=invited")
	res := s.signIn(t, "bob@fabrikam.example", "bob's long passphrase")
	wantRedirect(t, res, "/")
	bob := s.sessionCookie(res)

	mustNotContain(t, s.get(t, "/", s.withSession(bob)...).body, `href="/settings/users"`, text(b, "en", "layout.nav.settings"))
	for _, path := range []string{"/settings", "/settings/users", "/settings/api-tokens", "/settings/users/" + org.User.ID} {
		if res := s.get(t, path, s.withSession(bob)...); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as a plain user: %d", path, res.StatusCode)
		}
		// A visitor is sent to sign in.
		wantRedirect(t, s.get(t, path), "/signin")
	}
	res = s.postForm(t, "/settings/users", url.Values{"email": {"eve@fabrikam.example"}, "name": {"Eve"}, "roles": {"global_admin"}}, s.withSession(bob)...)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("invite as a plain user: %d", res.StatusCode)
	}
	res = s.postForm(t, "/settings/api-tokens", url.Values{"token_name": {"x"}, "roles": {"user"}, "expires_days": {"30"}}, s.withSession(bob)...)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("token as a plain user: %d", res.StatusCode)
	}
	if len(s.invitationEmails(t)) != 0 {
		t.Error("a plain user's invitation was sent")
	}
	// The admin still sees the settings.
	if res := s.get(t, "/settings/users", s.withSession(c)...); res.StatusCode != http.StatusOK {
		t.Errorf("admin: %d", res.StatusCode)
	}
}

func TestSettingsPartnerAfterMFA(t *testing.T) {
	s := newSettingsServer(t, 0)
	b := catalog(t)
	c := s.partnerAdmin(t)

	res := s.get(t, "/settings/users", append(s.withSession(c), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", res.StatusCode)
	}
	mustContain(t, res.body, "jeanne@contoso.example", text(b, "fr", "settings.users.title"),
		`value="admin_agent"`, `value="helpdesk_agent"`, text(b, "fr", "role.admin_agent"))
	mustNotContain(t, res.body, `value="user"`)

	res = s.postForm(t, "/settings/users", url.Values{"email": {"paul@contoso.example"}, "name": {"Paul"}, "lang": {"en"},
		"roles": {"admin_agent"}}, s.withSession(c)...)
	wantRedirect(t, res, "/settings/users?done=invited")
	if s.invitationEmails(t)["paul@contoso.example"] == "" {
		t.Fatal("no invitation email to paul")
	}
	res = s.get(t, "/settings/users", s.withSession(c)...)
	paul := userURL(t, res.body, "paul@contoso.example")
	page, etag := s.editForm(t, paul, c)
	mustContain(t, page.body, text(b, "en", "settings.user.admin_agent_hint"), `value="admin_agent" checked`)
	wantRedirect(t, s.postForm(t, paul, url.Values{"etag": {etag}, "name": {"Paul"}, "lang": {"en"},
		"roles": {"admin_agent", "sales_agent"}, "status": {"disabled"}}, s.withSession(c)...), paul+"?done=updated")
	page, _ = s.editForm(t, paul, c)
	mustContain(t, page.body, `value="sales_agent" checked`, `value="disabled" aria-describedby="status-disabled-hint" checked`)

	// API tokens work the same way past MFA.
	res = s.postForm(t, "/settings/api-tokens", url.Values{"token_name": {"Automation"}, "roles": {"global_admin"}, "expires_days": {"365"}}, s.withSession(c)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create token: %d %.500s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, `<code class="secret" id="token-secret">`+service.APITokenPrefix, "Automation",
		text(b, "en", "settings.tokens.never_used"))
}

var tokenSecret = regexp.MustCompile(`<code class="secret" id="token-secret">([^<]+)</code>`)

func TestSettingsAPITokens(t *testing.T) {
	s := newSettingsServer(t, 0)
	b := catalog(t)
	c, _ := s.customerAdmin(t)
	ctx := context.Background()

	res := s.get(t, "/settings/api-tokens", s.withSession(c)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "settings.tokens.empty"), `value="90"`,
		`<input type="checkbox" id="roles" name="roles" value="global_admin">`)
	// Only roles the creator holds are offered.
	mustNotContain(t, res.body, `value="user"`)

	// Refusals: too long an expiry, no role, a role not held.
	res = s.postForm(t, "/settings/api-tokens", url.Values{"token_name": {"CI"}, "expires_days": {"366"}}, s.withSession(c)...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("366 days: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<p class="field-error" id="expires_days-error">`+text(b, "en", "form.error.expires_days.out_of_range")+`</p>`, `value="CI"`)
	mustNotContain(t, res.body, "token-secret")
	res = s.postForm(t, "/settings/api-tokens", url.Values{"token_name": {" "}, "expires_days": {"30"}}, append(s.withSession(c), "Accept-Language", "fr")...)
	mustContain(t, res.body, text(b, "fr", "form.error.roles.required"), text(b, "fr", "form.error.token_name.invalid_name"))
	res = s.postForm(t, "/settings/api-tokens", url.Values{"token_name": {"CI"}, "roles": {"user"}, "expires_days": {"30"}}, s.withSession(c)...)
	mustContain(t, res.body, `<p class="field-error" id="roles-error">`+text(b, "en", "form.error.roles.role_not_held")+`</p>`)

	// Created: the secret shows once, with the warning, and no way to
	// leave the page to switch language.
	res = s.postForm(t, "/settings/api-tokens", url.Values{"token_name": {"CI pipeline"}, "roles": {"global_admin"}, "expires_days": {"30"}}, s.withSession(c)...)
	m := tokenSecret.FindStringSubmatch(res.body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d %.800s", res.StatusCode, res.body)
	}
	secret := m[1]
	mustContain(t, res.body, text(b, "en", "settings.tokens.created.warning"), "CI pipeline")
	mustNotContain(t, res.body, `action="/lang"`)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if _, err := s.svc.TokenActor(ctx, secret); err != nil {
		t.Fatalf("the secret shown does not work: %v", err)
	}

	// The list never shows it again.
	res = s.get(t, "/settings/api-tokens", s.withSession(c)...)
	// The secret was just used above, so the list says when.
	mustContain(t, res.body, "CI pipeline", text(b, "en", "settings.tokens.not_revoked"),
		text(b, "en", "role.global_admin"), `action="/lang"`)
	mustNotContain(t, res.body, secret, "token-secret", text(b, "en", "settings.tokens.never_used"))
	rv := regexp.MustCompile(`action="(/settings/api-tokens/[^"]+/revoke)"`).FindStringSubmatch(res.body)
	if rv == nil {
		t.Fatalf("no revoke button: %s", res.body)
	}

	// Revoke: the token stops working and the list says when.
	wantRedirect(t, s.postForm(t, rv[1], nil, s.withSession(c)...), "/settings/api-tokens?done=revoked")
	if _, err := s.svc.TokenActor(ctx, secret); csphub.ErrorKind(err) != csphub.KindUnauthenticated {
		t.Errorf("revoked token: %v", err)
	}
	res = s.get(t, "/settings/api-tokens?done=revoked", s.withSession(c)...)
	mustContain(t, res.body, text(b, "en", "settings.tokens.notice.revoked"))
	mustNotContain(t, res.body, rv[1], text(b, "en", "settings.tokens.not_revoked"))
	if res := s.postForm(t, "/settings/api-tokens/"+csphub.NewID()+"/revoke", nil, s.withSession(c)...); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoke unknown: %d", res.StatusCode)
	}
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", s.logs)
	}
}

func TestSettingsCrossSitePostsAreRefused(t *testing.T) {
	s := newSettingsServer(t, 0)
	c, org := s.customerAdmin(t)
	ctx := context.Background()
	admin := csphub.Actor{Kind: csphub.ActorUser, ID: org.User.ID, OrgID: org.Organization.ID, OrgKind: csphub.OrgCustomer, Roles: org.User.Roles}
	bob, err := s.svc.InviteUser(ctx, admin, service.InviteUserInput{Email: "bob@fabrikam.example", Name: "Bob", Roles: []string{"user"}})
	if err != nil {
		t.Fatal(err)
	}
	s.invitationEmails(t)
	tok, err := s.svc.CreateAPIToken(ctx, admin, service.CreateAPITokenInput{Name: "CI", Roles: []string{"global_admin"}, ExpiresAt: s.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	etag := service.UserETag(bob.UserView)
	forms := map[string]url.Values{
		"/settings/users":                            {"email": {"eve@fabrikam.example"}, "name": {"Eve"}, "roles": {"global_admin"}},
		"/settings/users/" + bob.ID:                  {"etag": {etag}, "name": {"Bob"}, "lang": {"en"}, "roles": {"global_admin"}, "status": {"active"}},
		"/settings/users/" + bob.ID + "/delete":      {"etag": {etag}},
		"/settings/api-tokens":                       {"token_name": {"evil"}, "roles": {"global_admin"}, "expires_days": {"30"}},
		"/settings/api-tokens/" + tok.ID + "/revoke": nil,
	}
	for path, form := range forms {
		for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
			res := s.postForm(t, path, form, append(hdr, s.withSession(c)...)...)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with %v: status %d", path, hdr, res.StatusCode)
			}
		}
	}
	// Nothing happened.
	if u, err := s.svc.GetUser(ctx, admin, bob.ID); err != nil || !slices.Equal(u.Roles, []string{"user"}) {
		t.Errorf("bob after cross-site posts: %+v %v", u, err)
	}
	if len(s.invitationEmails(t)) != 0 {
		t.Error("a cross-site invitation was sent")
	}
	if _, err := s.svc.TokenActor(ctx, tok.Secret); err != nil {
		t.Errorf("the token was revoked cross-site: %v", err)
	}
	list, err := s.svc.ListAPITokens(ctx, admin, "", 10)
	if err != nil || len(list.Items) != 1 {
		t.Errorf("tokens after cross-site posts: %d %v", len(list.Items), err)
	}
	// No GET route changes state.
	for _, path := range []string{"/settings/users/" + bob.ID + "/delete", "/settings/api-tokens/" + tok.ID + "/revoke"} {
		if res := s.get(t, path, s.withSession(c)...); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}
}

// Every refusal the settings pages translate has a message in every
// language.
func TestSettingsMessagesExist(t *testing.T) {
	b := catalog(t)
	var keys []string
	for _, code := range []string{"last_global_admin", "role_not_held", "global_admin_required", "cannot_disable_self",
		"cannot_delete_self", "etag_mismatch", "email_taken"} {
		keys = append(keys, "settings.error."+code)
	}
	for _, fc := range []string{"email.invalid_email", "name.invalid_name", "lang.unsupported_language", "roles.unknown_role",
		"roles.required", "roles.role_not_held", "status.invalid_status", "token_name.invalid_name", "expires_days.out_of_range"} {
		keys = append(keys, "form.error."+fc)
	}
	for _, kind := range []csphub.OrgKind{csphub.OrgPartner, csphub.OrgCustomer, csphub.OrgOperator} {
		for _, r := range csphub.RolesOf(kind) {
			keys = append(keys, "role."+r)
		}
	}
	for _, tag := range b.Languages() {
		for _, k := range keys {
			if !b.For(tag.String()).Has(k) {
				t.Errorf("%s: no %q", tag, k)
			}
		}
	}
}

// The sign-in page offers the organization's SSO with a plain GET form.
func TestSignInOffersSSO(t *testing.T) {
	s := newSettingsServer(t, 0)
	b := catalog(t)
	res := s.get(t, "/signin", "Accept-Language", "fr")
	mustContain(t, res.body, `<form class="form" method="get" action="/auth/sso/start">`,
		`<input type="email" id="sso-email" name="email"`, text(b, "fr", "signin.sso.heading"), text(b, "fr", "signin.sso.submit"))
}
