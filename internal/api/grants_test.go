package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// delegationWorld is the API with real sessions (roles re-read at every
// request, TOTP passed by partner users), a manual clock, and the same
// database reached with plain SQL for the relationships (written by the
// partnership use cases in production). It holds an indirect provider
// and a reseller with a partner profile, each with its global admin.
type delegationWorld struct {
	*userWorld
	raw           *sql.DB
	provider      service.SignupResult
	reseller      service.SignupResult
	providerAdmin string // session tokens
	resellerAdmin string
}

func newDelegationWorld(t *testing.T, engine string) *delegationWorld {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, 5, 4, 9, 0, 10, 0, time.UTC))
	opts := testdb.OptionsFor(t, engine)
	opts.Clock = clock
	db, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	driver, dsn := "pgx", opts.URL
	if engine == "sqlite" {
		driver = "sqlite"
		dsn = "file:" + filepath.Join(opts.DataDir, "csphub.db") +
			"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	svc := service.New(db, nil, service.Options{})
	mux := http.NewServeMux()
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := api.New(mux, api.Options{Service: svc, Authenticator: api.Credentials{Service: svc}, MaxBodyBytes: 1 << 16, Logger: log})
	srv := httptest.NewServer(api.Middleware(api.CrossOriginProtection(mux), log, nil, 1<<16))
	t.Cleanup(srv.Close)
	w := &delegationWorld{userWorld: &userWorld{env: &env{t: t, db: db, svc: svc, api: a, srv: srv}, clock: clock, totp: map[string]string{}}, raw: raw}
	w.provider, w.providerAdmin = w.partnerOrg("Provider", "provider.example")
	w.reseller, w.resellerAdmin = w.partnerOrg("Reseller", "reseller.example")
	w.profile(w.reseller.Organization, "4000001")
	return w
}

// partnerOrg signs up a partner organization and returns it with a
// session of its global admin, admin@domain, MFA passed.
func (w *delegationWorld) partnerOrg(name, domain string) (service.SignupResult, string) {
	w.t.Helper()
	b, _ := json.Marshal(map[string]string{"kind": "partner", "organization_name": name, "country": "FR", "domain": domain,
		"name": "Jeanne Martin", "email": "admin@" + domain, "password": strongPassword, "lang": "en"})
	r := w.do("POST", "/api/v1/signup", "", string(b))
	if r.status != 201 {
		w.t.Fatalf("signup %s: %d %s", name, r.status, r.body)
	}
	var out service.SignupResult
	r.json(w.t, &out)
	return out, w.session("admin@"+domain, true)
}

func (w *delegationWorld) exec(q string, args ...any) {
	w.t.Helper()
	if w.db.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if _, err := w.raw.Exec(q, args...); err != nil {
		w.t.Fatal(err)
	}
}

// profile gives a partner its partner ID and profile, as enrollment does.
func (w *delegationWorld) profile(o csphub.Organization, partnerID string) {
	w.t.Helper()
	w.exec(`INSERT INTO partner_ids (partner_id, legal_name, country, status, source, org_id, created_at) VALUES (?, ?, 'FR', 'active', 'issued', ?, ?)`,
		partnerID, o.Name, o.ID, w.clock.Now())
	p := csphub.PartnerProfile{OrgID: o.ID, PartnerID: partnerID, LegalName: o.Name + " SAS",
		Address:        csphub.Address{Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"},
		PrimaryContact: csphub.PrimaryContact{FirstName: "Jeanne", LastName: "Martin", Email: "admin@reseller.example", Phone: "+33123456789", Lang: "fr"},
		SupportContact: csphub.SupportContact{Email: "support@reseller.example", Phone: "+33123456789"}, Version: 1}
	if err := w.db.Write(context.Background(), func(tx *store.Tx) error {
		p.UpdatedAt = tx.Now()
		return tx.InsertPartnerProfile(p)
	}); err != nil {
		w.t.Fatal(err)
	}
}

// partnership stores an active relationship of the provider and the
// reseller and returns its id.
func (w *delegationWorld) partnership() string {
	w.t.Helper()
	id, now := csphub.NewID(), w.clock.Now()
	w.exec(`INSERT INTO partnerships (id, provider_id, reseller_id, state, invited_email, invited_partner_id, token_hash, invited_by,
		invited_at, expires_at, accepted_by, accepted_at, ended_reason, updated_at, version)
		VALUES (?, ?, ?, 'active', 'admin@reseller.example', '', ?, ?, ?, ?, ?, ?, '', ?, 2)`,
		id, w.provider.Organization.ID, w.reseller.Organization.ID, "hash-"+id, w.provider.User.ID, now, now.AddDate(0, 0, 30),
		w.reseller.User.ID, now, now)
	return id
}

// grant stores an active grant from the reseller to the provider.
func (w *delegationWorld) grant(partnershipID string, days int, autoExtend bool, roles ...string) csphub.Grant {
	w.t.Helper()
	now := w.clock.Now()
	g := csphub.Grant{ID: csphub.NewID(), GrantorID: w.reseller.Organization.ID, GranteeID: w.provider.Organization.ID,
		PartnershipID: partnershipID, Roles: roles, State: csphub.GrantActive, DurationDays: days, AutoExtend: autoExtend,
		CreatedAt: now, ActivatedAt: &now, ExpiresAt: now.AddDate(0, 0, days), UpdatedAt: now, Version: 1}
	if err := w.db.Write(context.Background(), func(tx *store.Tx) error { return tx.InsertGrant(g) }); err != nil {
		w.t.Fatal(err)
	}
	return g
}

// asReseller sends a request in the reseller's organization through the
// grant.
func (w *delegationWorld) asReseller(method, path, token, body string) response {
	w.t.Helper()
	return w.do(method, path, token, body, "On-Behalf-Of", w.reseller.Organization.ID)
}

// resellerProfile reads the reseller's profile through the grant and
// checks that it is the reseller's.
func (w *delegationWorld) resellerProfile(token string) {
	w.t.Helper()
	r := w.asReseller("GET", "/api/v1/partner-profile", token, "")
	if r.status != 200 {
		w.t.Fatalf("delegated partner profile: %d %s", r.status, r.body)
	}
	var v service.PartnerProfileView
	r.json(w.t, &v)
	if v.Organization.ID != w.reseller.Organization.ID || v.Profile.PartnerID != "4000001" || v.Profile.OrgID != w.reseller.Organization.ID {
		w.t.Fatalf("profile %+v", v)
	}
}

type delegatedMe struct {
	service.Me
	OnBehalfOf *csphub.Organization `json:"on_behalf_of"`
}

func TestDelegatedAdminActsInTheResellerOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDelegationWorld(t, engine)
		_, agent := w.member(w.providerAdmin, "agent@provider.example", true, csphub.RoleAdminAgent, csphub.RoleHelpdeskAgent)
		_, sales := w.member(w.providerAdmin, "sales@provider.example", true, csphub.RoleSalesAgent)
		stranger, strangerAdmin := w.partnerOrg("Stranger", "stranger.example")

		// No grant yet: 404, exactly as for an organization that does not
		// exist.
		notFound := wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", agent, ""), 404, "organization_not_found")
		for _, org := range []string{csphub.NewID(), "not-an-id", w.reseller.Organization.ID} {
			p := wantProblem(t, w.do("GET", "/api/v1/me", agent, "", "On-Behalf-Of", org), 404, "organization_not_found")
			if p.Detail != notFound.Detail || p.Title != notFound.Title {
				t.Fatalf("answers differ: %+v %+v", p, notFound)
			}
		}

		g := w.grant(w.partnership(), 730, false, csphub.RoleAdminAgent, csphub.RoleSalesAgent)

		// The provider's agent reads the reseller's profile; without the
		// header, its own organization (which has none).
		w.resellerProfile(agent)
		wantProblem(t, w.do("GET", "/api/v1/partner-profile", agent, ""), 404, "partner_profile_not_found")

		// Roles are those both the grant and the user hold.
		var me delegatedMe
		r := w.asReseller("GET", "/api/v1/me", agent, "")
		if r.status != 200 {
			t.Fatalf("me: %d %s", r.status, r.body)
		}
		r.json(t, &me)
		if me.OnBehalfOf == nil || me.OnBehalfOf.ID != w.reseller.Organization.ID || me.OnBehalfOf.Name != "Reseller" ||
			me.Organization.ID != w.provider.Organization.ID || !slices.Equal(me.Roles, []string{csphub.RoleAdminAgent}) {
			t.Fatalf("delegated me %+v", me)
		}
		r = w.asReseller("GET", "/api/v1/me", sales, "")
		r.json(t, &me)
		if r.status != 200 || !slices.Equal(me.Roles, []string{csphub.RoleSalesAgent}) {
			t.Fatalf("sales agent: %d %s", r.status, r.body)
		}
		r = w.do("GET", "/api/v1/me", agent, "")
		me = delegatedMe{}
		r.json(t, &me)
		if me.OnBehalfOf != nil || len(me.Roles) != 2 {
			t.Fatalf("own me %s", r.body)
		}
		// The provider's global admin holds neither granted role.
		wantProblem(t, w.asReseller("GET", "/api/v1/me", w.providerAdmin, ""), 403, "no_granted_role")
		// Another partner has no grant from the reseller; the reseller has
		// none from the provider.
		wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", strangerAdmin, ""), 404, "organization_not_found")
		wantProblem(t, w.do("GET", "/api/v1/me", w.resellerAdmin, "", "On-Behalf-Of", w.provider.Organization.ID), 404, "organization_not_found")
		wantProblem(t, w.do("GET", "/api/v1/me", agent, "", "On-Behalf-Of", stranger.Organization.ID), 404, "organization_not_found")
		// MFA comes first, even on the routes open before MFA.
		halfSignedIn, _ := w.signIn("agent@provider.example", strongPassword)
		wantProblem(t, w.asReseller("GET", "/api/v1/me", halfSignedIn, ""), 403, "mfa_required")
		wantProblem(t, w.asReseller("GET", "/api/v1/me", "", ""), 401, "unauthenticated")

		// Removing the role from the provider's user stops the next
		// delegated request too: roles are read afresh.
		u, etag := w.user(w.providerAdmin, me.User.ID)
		if r := w.do("PATCH", "/api/v1/users/"+u.ID, w.providerAdmin, `{"roles":["helpdesk_agent"]}`, "If-Match", etag); r.status != 200 {
			t.Fatalf("demote: %d %s", r.status, r.body)
		}
		wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", agent, ""), 403, "no_granted_role")
		_, etag = w.user(w.providerAdmin, u.ID)
		if r := w.do("PATCH", "/api/v1/users/"+u.ID, w.providerAdmin, `{"roles":["admin_agent","helpdesk_agent"]}`, "If-Match", etag); r.status != 200 {
			t.Fatalf("promote: %d %s", r.status, r.body)
		}
		w.resellerProfile(agent)

		// The grant is visible to both sides, not through itself.
		var page service.GrantPage
		r = w.do("GET", "/api/v1/delegated-admin-grants?direction=received", agent, "")
		r.json(t, &page)
		if r.status != 200 || len(page.Items) != 1 || page.Items[0].ID != g.ID || page.Items[0].GrantorName != "Reseller" {
			t.Fatalf("received: %d %s", r.status, r.body)
		}
		r = w.do("GET", "/api/v1/delegated-admin-grants?direction=given", w.resellerAdmin, "")
		r.json(t, &page)
		if r.status != 200 || len(page.Items) != 1 || page.Items[0].ID != g.ID {
			t.Fatalf("given: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/delegated-admin-grants?direction=sideways", w.resellerAdmin, ""), 422, "invalid_input")
		wantProblem(t, w.do("GET", "/api/v1/delegated-admin-grants?page_token=bogus!", w.resellerAdmin, ""), 422, "invalid_input")
		wantProblem(t, w.do("GET", "/api/v1/delegated-admin-grants", sales, ""), 403, "missing_role")
		wantProblem(t, w.do("GET", "/api/v1/delegated-admin-grants/"+g.ID, strangerAdmin, ""), 404, "grant_not_found")
		r = w.do("GET", "/api/v1/delegated-admin-grants/"+g.ID, agent, "")
		if r.status != 200 || !strings.Contains(string(r.body), `"grantee_name":"Provider"`) {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		wantProblem(t, w.asReseller("GET", "/api/v1/delegated-admin-grants/"+g.ID, agent, ""), 403, "delegation_not_allowed")
		wantProblem(t, w.asReseller("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/terminate", agent, ""), 403, "delegation_not_allowed")
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/terminate", agent, ""), 403, "grantor_only")
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/terminate", strangerAdmin, ""), 404, "grant_not_found")

		// The reseller terminates the grant: the very next delegated
		// request is refused; the relationship goes on.
		r = w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/terminate", w.resellerAdmin, "")
		var ended service.GrantView
		r.json(t, &ended)
		if r.status != 200 || ended.State != csphub.GrantTerminated || ended.EndedBy != w.reseller.User.ID {
			t.Fatalf("terminate: %d %s", r.status, r.body)
		}
		wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", agent, ""), 404, "organization_not_found")
		wantProblem(t, w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/terminate", w.resellerAdmin, ""), 409, "grant_ended")
		var state string
		if err := w.raw.QueryRow(`SELECT state FROM partnerships`).Scan(&state); err != nil || state != "active" {
			t.Fatalf("relationship %q %v", state, err)
		}
	})
}

func TestDelegationStopsWithTheRelationshipAndTheGrant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDelegationWorld(t, engine)
		agentEmail := "agent@provider.example"
		_, agent := w.member(w.providerAdmin, agentEmail, true, csphub.RoleAdminAgent)

		// A relationship that is suspended or terminated stops delegation
		// at the next request, whatever its grant says.
		p := w.partnership()
		g := w.grant(p, 730, false, csphub.RoleAdminAgent)
		w.resellerProfile(agent)
		w.exec(`UPDATE partnerships SET state = 'suspended' WHERE id = ?`, p)
		wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", agent, ""), 404, "organization_not_found")
		w.exec(`UPDATE partnerships SET state = 'active' WHERE id = ?`, p)
		w.resellerProfile(agent)
		w.exec(`UPDATE partnerships SET state = 'terminated' WHERE id = ?`, p)
		wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", agent, ""), 404, "organization_not_found")
		wantProblem(t, w.asReseller("GET", "/api/v1/me", agent, ""), 404, "organization_not_found")
		if r := w.do("POST", "/api/v1/delegated-admin-grants/"+g.ID+"/terminate", w.resellerAdmin, ""); r.status != 200 {
			t.Fatalf("terminate: %d %s", r.status, r.body)
		}

		// An expired grant stops at its expiry by the clock, before the
		// expiry job runs; the job then records it.
		p = w.partnership()
		short := w.grant(p, 2, false, csphub.RoleAdminAgent)
		w.resellerProfile(agent)
		w.clock.Advance(2*24*time.Hour + time.Minute)
		agent = w.session(agentEmail, true) // the idle session ended
		wantProblem(t, w.asReseller("GET", "/api/v1/partner-profile", agent, ""), 404, "organization_not_found")
		if n, err := w.svc.ExpireGrants(context.Background()); err != nil || n != 1 {
			t.Fatalf("expiry job: %d %v", n, err)
		}
		resellerAdmin := w.session("admin@reseller.example", true)
		var v service.GrantView
		r := w.do("GET", "/api/v1/delegated-admin-grants/"+short.ID, resellerAdmin, "")
		r.json(t, &v)
		if v.State != csphub.GrantExpired {
			t.Fatalf("expired grant: %s", r.body)
		}

		// An auto-extending grant keeps working past its expiry and is
		// extended by 180 days.
		auto := w.grant(p, 1, true, csphub.RoleAdminAgent)
		w.clock.Advance(24*time.Hour + time.Minute)
		agent = w.session(agentEmail, true)
		w.resellerProfile(agent)
		if n, err := w.svc.ExpireGrants(context.Background()); err != nil || n != 1 {
			t.Fatalf("extension job: %d %v", n, err)
		}
		resellerAdmin = w.session("admin@reseller.example", true)
		r = w.do("GET", "/api/v1/delegated-admin-grants/"+auto.ID, resellerAdmin, "")
		r.json(t, &v)
		if v.State != csphub.GrantActive || !v.ExpiresAt.Equal(auto.ExpiresAt.AddDate(0, 0, csphub.GrantExtensionDays)) {
			t.Fatalf("extended grant: %s", r.body)
		}
		w.resellerProfile(agent)
	})
}

// delegableRoutes are the only routes a delegated admin grant reaches.
var delegableRoutes = []string{"GET /api/v1/me", "GET /api/v1/partner-profile", "POST /api/v1/customers/{id}/orders", "PATCH /api/v1/subscriptions/{id}"}

func TestOnlyDelegableRoutesAcceptOnBehalfOf(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDelegationWorld(t, engine)
		_, agent := w.member(w.providerAdmin, "agent@provider.example", true, csphub.RoleAdminAgent)
		w.grant(w.partnership(), 730, false, csphub.RoleAdminAgent, csphub.RoleAccountAdmin, csphub.RoleGlobalAdmin)

		// Every other route, including those that never run through a
		// grant (agreements, MFA, users, SSO, API tokens, grants,
		// enrollments, profile edits), refuses a delegated caller before
		// anything else.
		param := strings.NewReplacer("{id}", csphub.NewID(), "{rid}", csphub.NewID(), "{token}", "x", "{org}", csphub.NewID(), "{code}", "europe",
			"{country}", "FR", "{iso2}", "FR", "{partner_id}", "1000001", "{domain}", "example.com")
		checked := 0
		for _, route := range w.api.Routes() {
			method, path, _ := strings.Cut(route, " ")
			if slices.Contains(delegableRoutes, route) {
				continue
			}
			path = param.Replace(path)
			if strings.Contains(path, "{") {
				t.Fatalf("no value for a parameter of %s", route)
			}
			wantProblem(t, w.asReseller(method, path, agent, "{}"), 403, "delegation_not_allowed")
			checked++
		}
		if checked < 40 {
			t.Fatalf("only %d routes checked", checked)
		}
		for _, path := range []string{"/api/v1/me", "/api/v1/partner-profile"} {
			if r := w.asReseller("GET", path, agent, ""); r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
		}
		// The use cases refuse delegated callers on their own as well.
		d, err := w.svc.DelegatedActor(context.Background(), csphub.Actor{Kind: csphub.ActorUser, ID: w.provider.User.ID,
			OrgID: w.provider.Organization.ID, OrgKind: csphub.OrgPartner, Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}, MFAPassed: true},
			w.reseller.Organization.ID)
		if err != nil || !d.HasRole(csphub.RoleGlobalAdmin) {
			t.Fatalf("delegated global admin: %+v %v", d, err)
		}
		if _, err := w.svc.ListUsers(context.Background(), d, "", "", 10); csphub.AsError(err) == nil || csphub.AsError(err).Code != "delegated_access_not_allowed" {
			t.Fatalf("users through a grant: %v", err)
		}
		if _, err := w.svc.ListGrants(context.Background(), d, "given", "", 10); csphub.AsError(err) == nil || csphub.AsError(err).Code != "delegated_access_not_allowed" {
			t.Fatalf("grants through a grant: %v", err)
		}
		if service.CanAcceptAgreement(d) {
			t.Fatal("a delegated global admin may accept the agreement")
		}

		// What a delegated caller changes is audited with both
		// organizations, and the reseller's log shows it.
		if err := w.db.Write(context.Background(), func(tx *store.Tx) error {
			return tx.Audit(d, csphub.AuditEntry{Action: "test.delegated", ResourceType: "organization", ResourceID: w.reseller.Organization.ID})
		}); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.SequenceJournal(context.Background()); err != nil {
			t.Fatal(err)
		}
		var audit service.AuditPage
		r := w.do("GET", "/api/v1/audit-records?action_prefix=test.", w.resellerAdmin, "")
		r.json(t, &audit)
		if r.status != 200 || len(audit.Records) != 1 || audit.Records[0].ActorOrgID != w.provider.Organization.ID ||
			audit.Records[0].OnBehalfOf != w.reseller.Organization.ID || audit.Records[0].ActorID != w.provider.User.ID {
			t.Fatalf("reseller's audit log: %d %s", r.status, r.body)
		}
	})
}
