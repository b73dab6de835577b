package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// delegationWorld is the partnership world with an accepted relationship
// (Contoso granted Fabrikam the admin agent role) and Fabrikam's admin
// agent signed in.
func delegationWorld(t *testing.T, engine string) (*partnershipWorld, []string) {
	t.Helper()
	w := newPartnershipWorld(t, engine, service.Options{}, providerReady)
	link := w.invite(t, resellerEmail, "")
	wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...),
		indirectProvidersPath+"?done=authorized")
	w.outbox(t)
	agent := w.member(t, w.provider.actor, "lea@fabrikam.example", csphub.RoleAdminAgent)
	return w, w.withSession(agent)
}

// delegationCookieOf is the organization cookie a response sets, nil when
// it sets none.
func delegationCookieOf(res response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == delegationCookieName {
			return c
		}
	}
	return nil
}

func TestOrganizationSwitcher(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w, agent := delegationWorld(t, engine)
		b := catalog(t)
		en := append(agent, "Accept-Language", "en")

		// The admin agent sees Contoso, and may act in it.
		res := w.get(t, partnerOrganizationsPath, en...)
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("organizations: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		mustContain(t, res.body, msg(b, "en", "delegation.organizations.title"), ">Contoso SAS",
			"<td>"+msg(b, "en", "role.admin_agent")+"</td>",
			`<input type="hidden" name="org" value="`+w.reseller.orgID+`">`, msg(b, "en", "delegation.act"),
			`aria-current="page">`+msg(b, "en", "delegation.nav.organizations"))
		mustNotContain(t, res.body, msg(b, "en", "delegation.return"))

		// Acting sets the cookie (the id only, HttpOnly, Lax) and leads
		// to the profile, which shows Contoso's, read-only, under the banner.
		res = w.postForm(t, partnerOrganizationsPath+"/act", url.Values{"org": {w.reseller.orgID}}, en...)
		wantRedirect(t, res, "/partner/profile")
		c := delegationCookieOf(res)
		if c == nil || c.Value != w.reseller.orgID || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
			t.Fatalf("organization cookie: %+v", c)
		}
		acting := append(append([]string{}, agent...), "Cookie", c.Name+"="+c.Value, "Accept-Language", "en")
		banner := msg(b, "en", "delegation.banner.acting", "organization", "Contoso SAS", "roles", msg(b, "en", "role.admin_agent"))
		res = w.get(t, "/partner/profile", acting...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("profile while acting: %d", res.StatusCode)
		}
		mustContain(t, res.body, banner, `action="/partner/organizations/return"`, "Contoso SAS", w.reseller.partnerID)
		mustNotContain(t, res.body, "Fabrikam SARL</dd>", `action="/partner/profile"`)
		// Other pages keep to the agent's own organization, under the banner.
		res = w.get(t, indirectResellersPath, acting...)
		mustContain(t, res.body, banner, ">Contoso SAS</td>")
		res = w.get(t, partnerOrganizationsPath, acting...)
		mustContain(t, res.body, banner, msg(b, "en", "delegation.organizations.current"))
		mustNotContain(t, res.body, `name="org"`)

		// Returning drops the cookie.
		res = w.postForm(t, partnerOrganizationsPath+"/return", url.Values{}, acting...)
		wantRedirect(t, res, partnerOrganizationsPath+"?done=returned")
		if c := delegationCookieOf(res); c == nil || c.MaxAge >= 0 {
			t.Errorf("return keeps the cookie: %+v", c)
		}
		res = w.get(t, partnerOrganizationsPath+"?done=returned", en...)
		mustContain(t, res.body, msg(b, "en", "delegation.organizations.notice.returned"))
		mustNotContain(t, res.body, banner)

		// The reseller removes the grant: the very next page is the
		// agent's own organization, with the notice, and the cookie goes.
		grants, err := w.svc.ListGrants(context.Background(), w.reseller.actor, service.GrantsGiven, "", 10)
		if err != nil || len(grants.Items) != 1 {
			t.Fatalf("grants: %v %v", grants, err)
		}
		if _, err := w.svc.TerminateGrant(context.Background(), w.reseller.actor, grants.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		res = w.get(t, "/partner/profile", acting...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("profile after the removal: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "en", "delegation.banner.ended", "organization", "Fabrikam SARL"), "Fabrikam SARL")
		mustNotContain(t, res.body, banner, w.reseller.partnerID)
		if c := delegationCookieOf(res); c == nil || c.MaxAge >= 0 {
			t.Errorf("the ended cookie is kept: %+v", c)
		}
		// Contoso is no longer listed, and acting there is refused.
		res = w.get(t, partnerOrganizationsPath, en...)
		mustContain(t, res.body, msg(b, "en", "delegation.organizations.empty"))
		res = w.postForm(t, partnerOrganizationsPath+"/act", url.Values{"org": {w.reseller.orgID}}, en...)
		if res.StatusCode != http.StatusNotFound || delegationCookieOf(res) != nil {
			t.Fatalf("acting after the removal: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "delegation.error.not_granted"))
		w.noErrorsLogged(t)
		// Signing out ends acting in another organization too.
		res = w.postForm(t, "/signout", url.Values{}, acting...)
		if c := delegationCookieOf(res); c == nil || c.MaxAge >= 0 {
			t.Errorf("sign-out keeps the delegation cookie: %+v", c)
		}
	})
}

func TestOrganizationSwitcherRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w, _ := delegationWorld(t, engine)
		b := catalog(t)

		// The provider's global admin sees Contoso but holds none of the
		// granted roles: acting is refused, and no cookie is set.
		res := w.get(t, partnerOrganizationsPath, w.as(w.provider, "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("organizations in French: %d", res.StatusCode)
		}
		mustContain(t, res.body, `<html lang="fr"`, msg(b, "fr", "delegation.organizations.title"), msg(b, "fr", "delegation.organizations.intro"),
			">Contoso SAS", "<td>"+msg(b, "fr", "role.admin_agent")+"</td>", msg(b, "fr", "delegation.act"),
			msg(b, "fr", "delegation.field.expires"), msg(b, "fr", "delegation.nav.organizations"))
		res = w.postForm(t, partnerOrganizationsPath+"/act", url.Values{"org": {w.reseller.orgID}}, w.as(w.provider, "fr")...)
		if res.StatusCode != http.StatusForbidden || delegationCookieOf(res) != nil {
			t.Fatalf("acting without a granted role: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "fr", "delegation.error.no_granted_role"))

		// A forged cookie naming Contoso is dropped with the notice.
		forged := append(w.as(w.provider, "en"), "Cookie", delegationCookieName+"="+w.reseller.orgID)
		res = w.get(t, "/partner/profile", forged...)
		mustContain(t, res.body, msg(b, "en", "delegation.banner.ended", "organization", "Fabrikam SARL"))
		mustNotContain(t, res.body, w.reseller.partnerID)
		if c := delegationCookieOf(res); c == nil || c.MaxAge >= 0 {
			t.Errorf("the forged cookie is kept: %+v", c)
		}
		// Organizations that gave nothing, and malformed ids, are refused.
		for _, org := range []string{w.provider.orgID, "", "nope", strings.Repeat("a", 300)} {
			res = w.postForm(t, partnerOrganizationsPath+"/act", url.Values{"org": {org}}, w.as(w.provider, "en")...)
			if org == w.provider.orgID {
				// Its own organization: simply back home.
				wantRedirect(t, res, partnerOrganizationsPath+"?done=returned")
				continue
			}
			if res.StatusCode != http.StatusNotFound || delegationCookieOf(res) != nil {
				t.Errorf("acting in %q: %d", org, res.StatusCode)
			}
		}
		// The reseller's side received nothing.
		res = w.get(t, partnerOrganizationsPath, w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "delegation.organizations.empty"))
		// A visitor is sent to sign in.
		wantRedirect(t, w.get(t, partnerOrganizationsPath), "/signin")
		wantRedirect(t, w.postForm(t, partnerOrganizationsPath+"/act", url.Values{"org": {w.reseller.orgID}}), "/signin")
		w.noErrorsLogged(t)
	})
}

func TestDelegationCookieOverHTTPS(t *testing.T) {
	rec := httptest.NewRecorder()
	(&Handler{secure: true}).setDelegationCookie(rec, "0190a4c2-0000-7000-8000-000000000001")
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies: %v", cs)
	}
	c := cs[0]
	if c.Name != "__Host-csphub_acting_in" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie over HTTPS: %+v", c)
	}
}
