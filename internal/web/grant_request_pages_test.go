package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// The invitation form lists the roles it may ask for, admin agent ticked;
// the roles chosen are those the acceptance page shows; global admin is
// refused next to the boxes.
func TestInvitationFormGrantRoles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPartnershipWorld(t, engine, service.Options{}, providerReady)
		b := catalog(t)
		res := w.get(t, indirectResellersPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "partnership.invite.grant_roles.legend"), msg(b, "en", "partnership.invite.grant_roles.hint"),
			`name="grant_roles" value="admin_agent" checked>`, `name="grant_roles" value="sales_agent">`, msg(b, "en", "role.helpdesk_agent"))
		mustNotContain(t, res.body, `value="global_admin"`)

		res = w.postForm(t, indirectResellersPath, url.Values{"email": {resellerEmail}, "grant_roles": {"sales_agent", "global_admin"}, "lang": {"en"}},
			w.as(w.provider, "fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("global admin asked for: %d", res.StatusCode)
		}
		mustContain(t, res.body, msg(b, "fr", "partnership.error.grant_roles.role_not_grantable"), `id="grant_roles-error"`,
			`name="grant_roles" value="sales_agent" checked>`, `href="#grant_roles"`)

		res = w.postForm(t, indirectResellersPath, url.Values{"email": {resellerEmail}, "grant_roles": {"sales_agent", "helpdesk_agent"}, "lang": {"en"}},
			w.as(w.provider, "en")...)
		wantRedirect(t, res, indirectResellersPath+"?done=invited")
		link := w.invitationLink(t, resellerEmail)
		res = w.get(t, link, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, msg(b, "fr", "partnership.invitation.meaning.admin", "roles",
			msg(b, "fr", "role.sales_agent")+", "+msg(b, "fr", "role.helpdesk_agent")))
		wantRedirect(t, w.postForm(t, link+"/accept", url.Values{"authorize": {"yes"}}, w.as(w.reseller, "en")...),
			indirectProvidersPath+"?done=authorized")
		given, err := w.svc.ListGrants(context.Background(), w.reseller.actor, service.GrantsGiven, "", 10)
		if err != nil || len(given.Items) != 1 || len(given.Items[0].Roles) != 2 || given.Items[0].Roles[0] != csphub.RoleSalesAgent {
			t.Fatalf("grant: %+v %v", given, err)
		}
		w.noErrorsLogged(t)
	})
}

// Pending grant requests on the organizations page: the grantor's global
// admin approves or declines, its admin agent only declines, the partner
// that asked sees its request waiting.
func TestGrantRequestsPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w, _ := delegationWorld(t, engine)
		b := catalog(t)
		ctx := context.Background()
		g, err := w.svc.RequestGrant(ctx, w.provider.actor, service.RequestGrantInput{GrantorID: w.reseller.orgID,
			Roles: []string{csphub.RoleSalesAgent, csphub.RoleBillingAdmin}, DurationDays: 30, AutoExtend: true})
		if err != nil {
			t.Fatal(err)
		}
		approve := partnerOrganizationsPath + "/requests/" + g.ID + "/approve"
		decline := partnerOrganizationsPath + "/requests/" + g.ID + "/decline"

		// The reseller's global admin sees the request, in English and French.
		res := w.get(t, partnerOrganizationsPath, w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "delegation.requests.heading"), ">Fabrikam SARL</td>",
			"<td>"+msg(b, "en", "role.sales_agent")+", "+msg(b, "en", "role.billing_admin")+"</td>",
			msg(b, "en", "delegation.requests.duration", "count", 30), msg(b, "en", "delegation.requests.auto_extend"),
			`action="`+approve+`"`, `action="`+decline+`"`, msg(b, "en", "delegation.waiting.empty"))
		res = w.get(t, partnerOrganizationsPath, w.as(w.reseller, "fr")...)
		mustContain(t, res.body, msg(b, "fr", "delegation.requests.heading"), msg(b, "fr", "delegation.requests.approve"),
			msg(b, "fr", "delegation.requests.duration", "count", 30))
		// The provider sees it waiting, with nothing to answer.
		res = w.get(t, partnerOrganizationsPath, w.as(w.provider, "en")...)
		mustContain(t, res.body, msg(b, "en", "delegation.waiting.heading"), "<td>Contoso SAS</td>", msg(b, "en", "delegation.requests.empty"))
		mustNotContain(t, res.body, approve)
		// The reseller's admin agent may decline only.
		agent := w.member(t, w.reseller.actor, "paul@contoso.example", csphub.RoleAdminAgent)
		res = w.get(t, partnerOrganizationsPath, append(w.withSession(agent), "Accept-Language", "en")...)
		mustContain(t, res.body, `action="`+decline+`"`, msg(b, "en", "delegation.requests.global_admin_approves"))
		mustNotContain(t, res.body, `action="`+approve+`"`)
		res = w.postForm(t, approve, url.Values{}, append(w.withSession(agent), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("approve by the admin agent: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "delegation.requests.error.global_admin_required"))
		// The provider cannot answer its own request.
		res = w.postForm(t, approve, url.Values{}, w.as(w.provider, "en")...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("approve by the grantee: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "en", "delegation.requests.error.grantor_only"))

		// The global admin approves: the grant is active, the request gone.
		wantRedirect(t, w.postForm(t, approve, url.Values{}, w.as(w.reseller, "en")...), partnerOrganizationsPath+"?done=approved")
		res = w.get(t, partnerOrganizationsPath+"?done=approved", w.as(w.reseller, "en")...)
		mustContain(t, res.body, msg(b, "en", "delegation.requests.notice.approved"), msg(b, "en", "delegation.requests.empty"))
		if v, err := w.svc.GetGrant(ctx, w.reseller.actor, g.ID); err != nil || v.State != csphub.GrantActive {
			t.Fatalf("approved: %+v %v", v, err)
		}
		res = w.postForm(t, approve, url.Values{}, w.as(w.reseller, "fr")...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("approve twice: %d", res.StatusCode)
		}
		problemShown(t, res.body, msg(b, "fr", "delegation.requests.error.grant_not_pending"))

		// A second request, declined by the admin agent.
		g2, err := w.svc.RequestGrant(ctx, w.provider.actor, service.RequestGrantInput{GrantorID: w.reseller.orgID, Roles: []string{csphub.RoleHelpdeskAgent}})
		if err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, w.postForm(t, partnerOrganizationsPath+"/requests/"+g2.ID+"/decline", url.Values{}, append(w.withSession(agent), "Accept-Language", "en")...),
			partnerOrganizationsPath+"?done=declined")
		if v, err := w.svc.GetGrant(ctx, w.reseller.actor, g2.ID); err != nil || v.State != csphub.GrantTerminated {
			t.Fatalf("declined: %+v %v", v, err)
		}
		// Unknown requests are not found.
		res = w.postForm(t, partnerOrganizationsPath+"/requests/"+csphub.NewID()+"/approve", url.Values{}, w.as(w.reseller, "en")...)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown request: %d", res.StatusCode)
		}
		w.noErrorsLogged(t)
	})
}
