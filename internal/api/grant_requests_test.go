package api_test

import (
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// A provider requests a grant from its reseller over the API; the
// reseller's global admin approves it; the provider then acts in the
// reseller's organization with the roles requested.
func TestGrantRequestAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDelegationWorld(t, engine)
		_, agent := w.member(w.providerAdmin, "agent@provider.example", true, csphub.RoleAdminAgent)
		_, sales := w.member(w.providerAdmin, "sales@provider.example", true, csphub.RoleSalesAgent)
		body := `{"grantor_id":"` + w.reseller.Organization.ID + `","roles":["admin_agent"],"duration_days":10}`

		// No relationship yet: the reseller is not found.
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants", agent, body), 404, "organization_not_found")
		w.partnership()
		// Refusals: missing role, roles of another kind, through a grant.
		if r := w.do("POST", "/api/v1/delegated-admin-grants", sales, body); r.status != 403 {
			t.Fatalf("sales agent: %d %s", r.status, r.body)
		}
		r := w.do("POST", "/api/v1/delegated-admin-grants", agent, `{"grantor_id":"`+w.reseller.Organization.ID+`","roles":["user"]}`)
		if r.status != 400 && r.status != 422 {
			t.Fatalf("customer role: %d %s", r.status, r.body)
		}

		r = w.do("POST", "/api/v1/delegated-admin-grants", agent, body)
		if r.status != 201 {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		var g service.GrantView
		r.json(t, &g)
		if g.State != csphub.GrantPending || g.GranteeID != w.provider.Organization.ID || g.DurationDays != 10 {
			t.Fatalf("request: %s", r.body)
		}
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants", agent, body), 409, "grant_request_exists")
		wantProblem(t, w.asReseller("GET", "/api/v1/me", agent, ""), 404, "organization_not_found")

		// Only the grantor's global admin approves.
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/approve", agent, ""), 403, "missing_role")
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/approve", w.providerAdmin, ""), 403, "grantor_only")
		r = w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/approve", w.resellerAdmin, "")
		if r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		r.json(t, &g)
		if g.State != csphub.GrantActive || g.ActivatedAt == nil || !g.ExpiresAt.Equal(g.ActivatedAt.AddDate(0, 0, 10)) {
			t.Fatalf("approved: %s", r.body)
		}
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/approve", w.resellerAdmin, ""), 409, "grant_not_pending")
		w.resellerProfile(agent)
		// Requesting and approving never run through a grant.
		wantProblem(t, w.asReseller("POST", "/api/v1/delegated-admin-grants", agent, body), 403, "delegation_not_allowed")
		wantProblem(t, w.asReseller("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/approve", agent, ""), 403, "delegation_not_allowed")
	})
}
