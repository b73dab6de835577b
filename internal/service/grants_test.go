package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// grantWorld is a provider, a reseller and a stranger organization over a
// database the test also reaches with plain SQL (for the relationships,
// written by the partnership use cases in production), with a manual
// clock.
type grantWorld struct {
	t        *testing.T
	ctx      context.Context
	db       *store.DB
	raw      *sql.DB
	svc      *service.Service
	clock    *csphub.ManualClock
	provider csphub.Organization
	reseller csphub.Organization
	stranger csphub.Organization
}

func newGrantWorld(t *testing.T, engine string) *grantWorld {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
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
	w := &grantWorld{t: t, ctx: ctx, db: db, raw: raw, svc: service.New(db, nil, service.Options{}), clock: clock}
	w.provider = w.org(csphub.OrgPartner, "Provider")
	w.reseller = w.org(csphub.OrgPartner, "Reseller")
	w.stranger = w.org(csphub.OrgPartner, "Stranger")
	return w
}

func (w *grantWorld) org(kind csphub.OrgKind, name string) csphub.Organization {
	w.t.Helper()
	o := csphub.Organization{ID: csphub.NewID(), Kind: kind, Name: name, Country: "FR", Domain: "org.example"}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		return tx.InsertOrganization(o)
	}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

func (w *grantWorld) exec(q string, args ...any) {
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

// partnership stores an active relationship of the provider and the
// reseller, and returns its id.
func (w *grantWorld) partnership() string {
	w.t.Helper()
	id, now := csphub.NewID(), w.clock.Now()
	w.exec(`INSERT INTO partnerships (id, provider_id, reseller_id, state, invited_email, invited_partner_id, token_hash, invited_by,
		invited_at, expires_at, accepted_by, accepted_at, ended_reason, updated_at, version)
		VALUES (?, ?, ?, 'active', 'rita@reseller.example', '', ?, ?, ?, ?, ?, ?, '', ?, 2)`,
		id, w.provider.ID, w.reseller.ID, "hash-"+id, csphub.NewID(), now, now.AddDate(0, 0, 30), csphub.NewID(), now, now)
	return id
}

func (w *grantWorld) setPartnership(id string, state csphub.PartnershipState) {
	w.exec(`UPDATE partnerships SET state = ? WHERE id = ?`, string(state), id)
}

// grant stores a grant from grantor to grantee; days is its remaining
// life.
func (w *grantWorld) grant(grantor, grantee csphub.Organization, partnershipID string, state csphub.GrantState, days int, autoExtend bool, roles ...string) csphub.Grant {
	w.t.Helper()
	now := w.clock.Now()
	g := csphub.Grant{ID: csphub.NewID(), GrantorID: grantor.ID, GranteeID: grantee.ID, PartnershipID: partnershipID, Roles: roles,
		State: state, DurationDays: days, AutoExtend: autoExtend, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, days), UpdatedAt: now, Version: 1}
	if state == csphub.GrantActive {
		g.ActivatedAt = &now
	}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error { return tx.InsertGrant(g) }); err != nil {
		w.t.Fatal(err)
	}
	return g
}

func grantUser(o csphub.Organization, roles ...string) csphub.Actor {
	return csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: o.ID, OrgKind: o.Kind, Roles: roles, MFAPassed: true}
}

func grantWantCode(t *testing.T, err error, kind csphub.Kind, code string) {
	t.Helper()
	e := csphub.AsError(err)
	if e == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("got %v, want %s %s", err, kind, code)
	}
}

func TestDelegatedActor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newGrantWorld(t, engine)
		agent := grantUser(w.provider, csphub.RoleAdminAgent, csphub.RoleSalesAgent)
		p := w.partnership()
		w.grant(w.reseller, w.provider, p, csphub.GrantActive, 730, false, csphub.RoleAdminAgent, csphub.RoleHelpdeskAgent)

		// The provider's agent acts in the reseller's organization with
		// the roles both the grant and the agent hold.
		d, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.TenantID() != w.reseller.ID || d.OrgID != w.provider.ID || d.OnBehalfOf != w.reseller.ID || d.ID != agent.ID ||
			d.OrgKind != csphub.OrgPartner || !slices.Equal(d.Roles, []string{csphub.RoleAdminAgent}) || !d.MFAPassed {
			t.Fatalf("delegated actor %+v", d)
		}
		if agent.OnBehalfOf != "" || len(agent.Roles) != 2 {
			t.Fatalf("the actor itself changed: %+v", agent)
		}
		// API tokens of the provider act too, with their roles.
		token := csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: w.provider.ID, OrgKind: csphub.OrgPartner,
			Roles: []string{csphub.RoleHelpdeskAgent}, MFAPassed: true}
		if d, err := w.svc.DelegatedActor(w.ctx, token, w.reseller.ID); err != nil || !slices.Equal(d.Roles, []string{csphub.RoleHelpdeskAgent}) {
			t.Fatalf("token: %+v %v", d, err)
		}
		// Acting in one's own organization changes nothing.
		if d, err := w.svc.DelegatedActor(w.ctx, agent, " "+w.provider.ID+" "); err != nil || d.OnBehalfOf != "" {
			t.Fatalf("own organization: %+v %v", d, err)
		}

		// None of the granted roles: 403; no grant at all: 404 whether the
		// organization exists or not, and for the grant's other direction.
		_, err = w.svc.DelegatedActor(w.ctx, grantUser(w.provider, csphub.RoleGlobalAdmin, csphub.RoleSalesAgent), w.reseller.ID)
		grantWantCode(t, err, csphub.KindForbidden, "no_granted_role")
		for name, org := range map[string]string{"stranger": w.stranger.ID, "unknown": csphub.NewID(), "malformed": "nope", "empty": ""} {
			if _, err := w.svc.DelegatedActor(w.ctx, agent, org); csphub.AsError(err) == nil || csphub.AsError(err).Code != "organization_not_found" {
				t.Fatalf("%s: %v", name, err)
			}
		}
		_, err = w.svc.DelegatedActor(w.ctx, grantUser(w.reseller, csphub.RoleAdminAgent), w.provider.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
		_, err = w.svc.DelegatedActor(w.ctx, grantUser(w.stranger, csphub.RoleAdminAgent), w.reseller.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")

		// MFA first; no grant chains; the system never delegates.
		noMFA := agent
		noMFA.MFAPassed = false
		_, err = w.svc.DelegatedActor(w.ctx, noMFA, w.reseller.ID)
		grantWantCode(t, err, csphub.KindForbidden, "mfa_required")
		_, err = w.svc.DelegatedActor(w.ctx, d, w.stranger.ID)
		grantWantCode(t, err, csphub.KindForbidden, "delegation_not_allowed")
		_, err = w.svc.DelegatedActor(w.ctx, csphub.System("r"), w.reseller.ID)
		grantWantCode(t, err, csphub.KindForbidden, "delegation_not_allowed")

		// The relationship must be active, at every request.
		for _, st := range []csphub.PartnershipState{csphub.PartnershipSuspended, csphub.PartnershipTerminated} {
			w.setPartnership(p, st)
			_, err = w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID)
			grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
		}
		w.setPartnership(p, csphub.PartnershipActive)
		if _, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID); err != nil {
			t.Fatalf("reactivated: %v", err)
		}

		// A grant that came with no relationship stands alone; its expiry
		// by the clock stops it even before the expiry job runs.
		customer := w.org(csphub.OrgCustomer, "Customer")
		w.grant(customer, w.provider, "", csphub.GrantActive, 1, false, csphub.RoleGlobalAdmin, csphub.RoleAdminAgent)
		cd, err := w.svc.DelegatedActor(w.ctx, grantUser(w.provider, csphub.RoleGlobalAdmin, csphub.RoleAdminAgent), customer.ID)
		if err != nil || cd.OrgKind != csphub.OrgCustomer || !slices.Equal(cd.Roles, []string{csphub.RoleGlobalAdmin}) {
			// admin_agent is no role of a customer organization.
			t.Fatalf("customer: %+v %v", cd, err)
		}
		w.clock.Advance(24 * time.Hour)
		_, err = w.svc.DelegatedActor(w.ctx, agent, customer.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
		if _, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID); err != nil {
			t.Fatalf("two-year grant: %v", err)
		}

		// Pending grants do not count yet.
		other := w.org(csphub.OrgPartner, "Other reseller")
		w.grant(other, w.provider, "", csphub.GrantPending, 730, false, csphub.RoleAdminAgent)
		_, err = w.svc.DelegatedActor(w.ctx, agent, other.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
	})
}

func TestGrantsListGetTerminate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newGrantWorld(t, engine)
		p := w.partnership()
		g := w.grant(w.reseller, w.provider, p, csphub.GrantActive, 730, true, csphub.RoleAdminAgent)
		resellerAdmin := grantUser(w.reseller, csphub.RoleGlobalAdmin)
		resellerAgent := grantUser(w.reseller, csphub.RoleAdminAgent)
		providerAgent := grantUser(w.provider, csphub.RoleAdminAgent)

		// Both sides see the grant with both names; a stranger sees nothing.
		given, err := w.svc.ListGrants(w.ctx, resellerAdmin, "given", "", 50)
		if err != nil || len(given.Items) != 1 || given.Items[0].ID != g.ID || given.Items[0].GrantorName != "Reseller" ||
			given.Items[0].GranteeName != "Provider" || !slices.Equal(given.Items[0].Roles, []string{csphub.RoleAdminAgent}) ||
			given.Items[0].State != csphub.GrantActive || !given.Items[0].AutoExtend || given.Items[0].PartnershipID != p {
			t.Fatalf("given: %+v %v", given, err)
		}
		received, err := w.svc.ListGrants(w.ctx, providerAgent, "received", "", 50)
		if err != nil || len(received.Items) != 1 || received.Items[0].ID != g.ID {
			t.Fatalf("received: %+v %v", received, err)
		}
		if l, err := w.svc.ListGrants(w.ctx, providerAgent, "given", "", 50); err != nil || len(l.Items) != 0 {
			t.Fatalf("provider given: %+v %v", l, err)
		}
		if l, err := w.svc.ListGrants(w.ctx, resellerAdmin, "received", "", 50); err != nil || len(l.Items) != 0 {
			t.Fatalf("reseller received: %+v %v", l, err)
		}
		for _, dir := range []string{"given", "received"} {
			if l, err := w.svc.ListGrants(w.ctx, grantUser(w.stranger, csphub.RoleGlobalAdmin), dir, "", 50); err != nil || len(l.Items) != 0 {
				t.Fatalf("stranger %s: %+v %v", dir, l, err)
			}
		}
		v, err := w.svc.GetGrant(w.ctx, providerAgent, g.ID)
		if err != nil || v.ID != g.ID || v.GrantorName != "Reseller" {
			t.Fatalf("get: %+v %v", v, err)
		}

		// Refusals: a bad direction or page token, missing roles, a
		// stranger, through a grant.
		_, err = w.svc.ListGrants(w.ctx, resellerAdmin, "sideways", "", 50)
		agrWantFields(t, err, "direction/invalid_direction")
		_, err = w.svc.ListGrants(w.ctx, resellerAdmin, "given", "garbage!", 50)
		agrWantFields(t, err, "page_token/invalid_page_token")
		for _, a := range []csphub.Actor{grantUser(w.reseller, csphub.RoleBillingAdmin, csphub.RoleAccountAdmin, csphub.RoleSalesAgent), csphub.System("r")} {
			_, err = w.svc.ListGrants(w.ctx, a, "given", "", 50)
			grantWantCode(t, err, csphub.KindForbidden, "admin_required")
			_, err = w.svc.GetGrant(w.ctx, a, g.ID)
			grantWantCode(t, err, csphub.KindForbidden, "admin_required")
			_, err = w.svc.TerminateGrant(w.ctx, a, g.ID)
			grantWantCode(t, err, csphub.KindForbidden, "admin_required")
		}
		_, err = w.svc.GetGrant(w.ctx, grantUser(w.stranger, csphub.RoleGlobalAdmin), g.ID)
		grantWantCode(t, err, csphub.KindNotFound, "grant_not_found")
		_, err = w.svc.GetGrant(w.ctx, resellerAdmin, "not-an-id")
		grantWantCode(t, err, csphub.KindNotFound, "grant_not_found")
		_, err = w.svc.TerminateGrant(w.ctx, grantUser(w.stranger, csphub.RoleGlobalAdmin), g.ID)
		grantWantCode(t, err, csphub.KindNotFound, "grant_not_found")
		delegated, err := w.svc.DelegatedActor(w.ctx, providerAgent, w.reseller.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []func() error{
			func() error { _, err := w.svc.ListGrants(w.ctx, delegated, "given", "", 50); return err },
			func() error { _, err := w.svc.GetGrant(w.ctx, delegated, g.ID); return err },
			func() error { _, err := w.svc.TerminateGrant(w.ctx, delegated, g.ID); return err },
		} {
			grantWantCode(t, f(), csphub.KindForbidden, "delegated_access_not_allowed")
		}
		// The grantee does not terminate what it was given.
		_, err = w.svc.TerminateGrant(w.ctx, providerAgent, g.ID)
		grantWantCode(t, err, csphub.KindForbidden, "grantor_only")

		// The grantor's admin agent terminates it: delegation stops at
		// once, the relationship goes on, both sides hear of it.
		w.clock.Advance(time.Minute)
		ended, err := w.svc.TerminateGrant(w.ctx, resellerAgent, g.ID)
		if err != nil || ended.State != csphub.GrantTerminated || ended.EndedAt == nil || !ended.EndedAt.Equal(w.clock.Now()) ||
			ended.EndedBy != resellerAgent.ID || ended.Version != 2 || ended.GranteeName != "Provider" {
			t.Fatalf("terminate: %+v %v", ended, err)
		}
		_, err = w.svc.DelegatedActor(w.ctx, providerAgent, w.reseller.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
		_, err = w.svc.TerminateGrant(w.ctx, resellerAdmin, g.ID)
		grantWantCode(t, err, csphub.KindConflict, "grant_ended")
		var state string
		if err := w.raw.QueryRow(`SELECT state FROM partnerships`).Scan(&state); err != nil || state != "active" {
			t.Fatalf("partnership %q %v", state, err)
		}
		if err := w.svc.SequenceJournal(w.ctx); err != nil {
			t.Fatal(err)
		}
		audit, err := w.svc.ListAuditRecords(w.ctx, resellerAdmin, 0, 100, "grant.")
		if err != nil || len(audit.Records) != 1 || audit.Records[0].Action != "grant.terminate" || audit.Records[0].ActorID != resellerAgent.ID ||
			audit.Records[0].ResourceID != g.ID || !strings.Contains(string(audit.Records[0].After), `"terminated"`) {
			t.Fatalf("audit: %+v %v", audit, err)
		}
		for _, a := range []csphub.Actor{resellerAdmin, providerAgent} {
			if got := grantEvents(t, w, a, g.ID); !slices.Equal(got, []string{"grant.terminated"}) {
				t.Fatalf("events of %s: %v", a.OrgID, got)
			}
		}
		if got := grantEvents(t, w, grantUser(w.stranger, csphub.RoleGlobalAdmin), g.ID); len(got) != 0 {
			t.Fatalf("stranger events: %v", got)
		}

		// Keyset pages, newest first, with nothing repeated or skipped.
		var ids []string
		for i := 0; i < 4; i++ {
			w.clock.Advance(time.Second)
			ids = append(ids, w.grant(w.reseller, w.stranger, "", csphub.GrantActive, 30, false, csphub.RoleSalesAgent).ID)
		}
		w.clock.Advance(-2 * time.Second) // two grants at the same instant
		ids = append(ids, w.grant(w.reseller, w.stranger, "", csphub.GrantActive, 30, false, csphub.RoleSalesAgent).ID)
		var seen []string
		token := ""
		for pages := 0; ; pages++ {
			page, err := w.svc.ListGrants(w.ctx, resellerAdmin, "given", token, 2)
			if err != nil || len(page.Items) > 2 || pages > 5 {
				t.Fatalf("page %d: %+v %v", pages, page, err)
			}
			for i, it := range page.Items {
				seen = append(seen, it.ID)
				if i > 0 && it.CreatedAt.After(page.Items[i-1].CreatedAt) {
					t.Fatalf("not newest first: %+v", page.Items)
				}
			}
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		want := append(append([]string{}, ids...), g.ID)
		if len(seen) != len(want) || !grantSameSet(seen, want) {
			t.Fatalf("pages %v, want %v", seen, want)
		}
	})
}

func grantSameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(slices.Compact(a), b)
}

// grantEvents lists the types of the events about the grant id that
// actor's organization sees.
func grantEvents(t *testing.T, w *grantWorld, actor csphub.Actor, id string) []string {
	t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		t.Fatal(err)
	}
	p, err := w.svc.ListEvents(w.ctx, actor, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Events {
		if e.Subject == id {
			out = append(out, e.Type)
		}
	}
	return out
}

func TestExpireGrants(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newGrantWorld(t, engine)
		agent := grantUser(w.provider, csphub.RoleAdminAgent)
		live := w.partnership()
		autoExtend := w.grant(w.reseller, w.provider, live, csphub.GrantActive, 10, true, csphub.RoleAdminAgent)
		second := w.org(csphub.OrgPartner, "Second reseller")
		plain := w.grant(second, w.provider, "", csphub.GrantActive, 10, false, csphub.RoleAdminAgent)
		third := w.org(csphub.OrgPartner, "Third reseller")
		ended := csphub.NewID()
		w.exec(`INSERT INTO partnerships (id, provider_id, reseller_id, state, invited_email, invited_partner_id, token_hash, invited_by,
			invited_at, expires_at, ended_reason, updated_at, version)
			VALUES (?, ?, ?, 'terminated', 'x@third.example', '', 'hash-third', ?, ?, ?, 'ended', ?, 3)`,
			ended, w.provider.ID, third.ID, csphub.NewID(), w.clock.Now(), w.clock.Now(), w.clock.Now())
		orphan := w.grant(third, w.provider, ended, csphub.GrantActive, 10, true, csphub.RoleAdminAgent)
		oldPending := w.grant(w.stranger, w.provider, "", csphub.GrantPending, 730, false, csphub.RoleAdminAgent)
		w.clock.Advance(2 * 24 * time.Hour)
		youngPending := w.grant(w.stranger, w.reseller, "", csphub.GrantPending, 730, false, csphub.RoleAdminAgent)

		// Nothing is due yet.
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 0 {
			t.Fatalf("early run: %d %v", n, err)
		}

		// Past the expiry, before the job runs: the plain grant stops at
		// once; the auto-extending one still works (its extension is due).
		w.clock.Advance(9 * 24 * time.Hour) // day 11
		if _, err := w.svc.DelegatedActor(w.ctx, agent, second.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("expired grant: %v", err)
		}
		if _, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID); err != nil {
			t.Fatalf("auto-extending grant before the job: %v", err)
		}
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 3 {
			t.Fatalf("run: %d %v", n, err)
		}
		get := func(a csphub.Actor, id string) service.GrantView {
			t.Helper()
			v, err := w.svc.GetGrant(w.ctx, a, id)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		ext := get(agent, autoExtend.ID)
		if ext.State != csphub.GrantActive || !ext.ExpiresAt.Equal(autoExtend.ExpiresAt.AddDate(0, 0, 180)) || ext.EndedAt != nil || ext.Version != 2 {
			t.Fatalf("extended: %+v", ext)
		}
		if _, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID); err != nil {
			t.Fatalf("extended grant: %v", err)
		}
		if v := get(agent, plain.ID); v.State != csphub.GrantExpired || v.EndedAt == nil || !v.EndedAt.Equal(w.clock.Now()) {
			t.Fatalf("expired: %+v", v)
		}
		// Auto-extension needs a living relationship.
		if v := get(agent, orphan.ID); v.State != csphub.GrantExpired {
			t.Fatalf("grant of an ended relationship: %+v", v)
		}

		// Pending requests expire 90 days after they were made.
		w.clock.Advance(78 * 24 * time.Hour) // day 89
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 0 {
			t.Fatalf("day 89: %d %v", n, err)
		}
		w.clock.Advance(24 * time.Hour) // day 90
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 1 {
			t.Fatalf("day 90: %d %v", n, err)
		}
		if v := get(agent, oldPending.ID); v.State != csphub.GrantExpired {
			t.Fatalf("old pending: %+v", v)
		}
		if v := get(grantUser(w.reseller, csphub.RoleGlobalAdmin), youngPending.ID); v.State != csphub.GrantPending {
			t.Fatalf("young pending: %+v", v)
		}

		// Extended again when the 180 days run out, however late the job.
		w.clock.Advance(400 * 24 * time.Hour)
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 2 {
			t.Fatalf("late run: %d %v", n, err)
		}
		again := get(agent, autoExtend.ID)
		if again.State != csphub.GrantActive || !again.ExpiresAt.After(w.clock.Now()) ||
			again.ExpiresAt.Sub(ext.ExpiresAt)%(180*24*time.Hour) != 0 || again.ExpiresAt.Sub(w.clock.Now()) > 180*24*time.Hour {
			t.Fatalf("extended late: %+v (now %s)", again, w.clock.Now())
		}
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 0 {
			t.Fatalf("idempotent run: %d %v", n, err)
		}

		// Each change is audited in both organizations and announced to both.
		if err := w.svc.SequenceJournal(w.ctx); err != nil {
			t.Fatal(err)
		}
		for _, a := range []csphub.Actor{grantUser(w.reseller, csphub.RoleGlobalAdmin), grantUser(w.provider, csphub.RoleGlobalAdmin)} {
			recs, err := w.svc.ListAuditRecords(w.ctx, a, 0, 500, "grant.")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range recs.Records {
				if r.ResourceID == autoExtend.ID && r.Action == "grant.extend" && r.ActorKind == csphub.ActorSystem && r.ActorOrgID == a.OrgID {
					n++
				}
			}
			if n != 2 {
				t.Fatalf("extension records of %s: %+v", a.OrgID, recs.Records)
			}
			if got := grantEvents(t, w, a, autoExtend.ID); !slices.Equal(got, []string{"grant.extended", "grant.extended"}) {
				t.Fatalf("extension events of %s: %v", a.OrgID, got)
			}
		}
		if got := grantEvents(t, w, grantUser(second, csphub.RoleGlobalAdmin), plain.ID); !slices.Equal(got, []string{"grant.expired"}) {
			t.Fatalf("expiry events: %v", got)
		}
		if got := grantEvents(t, w, agent, plain.ID); !slices.Equal(got, []string{"grant.expired"}) {
			t.Fatalf("expiry events of the grantee: %v", got)
		}
	})
}

func TestDelegatedChangesAreAuditedWithBothOrganizations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newGrantWorld(t, engine)
		w.grant(w.reseller, w.provider, w.partnership(), csphub.GrantActive, 730, false, csphub.RoleAdminAgent)
		agent := grantUser(w.provider, csphub.RoleAdminAgent)
		d, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID)
		if err != nil {
			t.Fatal(err)
		}
		// What any use case does with the delegated actor: audit its change
		// and emit its event.
		if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
			if err := tx.Audit(d, csphub.AuditEntry{Action: "test.delegated_change", ResourceType: "organization", ResourceID: w.reseller.ID}); err != nil {
				return err
			}
			return tx.Emit(d, csphub.EventEntry{Type: "test.delegated_change", Subject: w.reseller.ID})
		}); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.SequenceJournal(w.ctx); err != nil {
			t.Fatal(err)
		}
		for _, a := range []csphub.Actor{grantUser(w.reseller, csphub.RoleGlobalAdmin), grantUser(w.provider, csphub.RoleGlobalAdmin)} {
			recs, err := w.svc.ListAuditRecords(w.ctx, a, 0, 100, "test.")
			if err != nil || len(recs.Records) != 1 {
				t.Fatalf("audit of %s: %+v %v", a.OrgID, recs, err)
			}
			r := recs.Records[0]
			if r.ActorID != agent.ID || r.ActorKind != csphub.ActorUser || r.ActorOrgID != w.provider.ID || r.OnBehalfOf != w.reseller.ID {
				t.Fatalf("record %+v", r)
			}
			b, _ := json.Marshal(r)
			if !strings.Contains(string(b), `"on_behalf_of":"`+w.reseller.ID+`"`) {
				t.Fatalf("record JSON %s", b)
			}
			if got := grantEvents(t, w, a, w.reseller.ID); !slices.Contains(got, "test.delegated_change") {
				t.Fatalf("events of %s: %v", a.OrgID, got)
			}
		}
		if recs, err := w.svc.ListAuditRecords(w.ctx, grantUser(w.stranger, csphub.RoleGlobalAdmin), 0, 100, "test."); err != nil || len(recs.Records) != 0 {
			t.Fatalf("stranger audit: %+v %v", recs, err)
		}
	})
}
