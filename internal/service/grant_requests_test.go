package service_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// The roles an invitation lists: checked field by field, stored on the
// invitation, shown on the acceptance page and in the email, and given
// exactly by the grant accepting creates.
func TestInvitationGrantRoles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		res := w.reseller("Contoso", "FR")
		other := w.reseller("Litware", "FR")

		// Refusals name the field; nothing is stored.
		for _, c := range []struct {
			roles []string
			want  []string
		}{
			{[]string{csphub.RoleGlobalAdmin}, []string{"grant_roles/role_not_grantable"}},
			{[]string{csphub.RoleSalesAgent, "user"}, []string{"grant_roles/invalid_role"}},
			{[]string{"operator_admin", csphub.RoleGlobalAdmin}, []string{"grant_roles/invalid_role", "grant_roles/role_not_grantable"}},
		} {
			_, err := w.svc.InvitePartner(w.ctx, prov.agent, service.InvitePartnerInput{Email: res.agentMail, GrantRoles: c.roles})
			agrWantFields(t, err, c.want...)
		}
		if n := w.count(`SELECT COUNT(*) FROM partnerships`); n != 0 {
			t.Fatalf("%d invitations stored after refusals", n)
		}

		// Listed roles, in any order and repeated, are kept in the usual
		// order of the partner roles.
		asked := []string{" helpdesk_agent", csphub.RoleSalesAgent, csphub.RoleHelpdeskAgent}
		v, err := w.svc.InvitePartner(w.ctx, prov.agent, service.InvitePartnerInput{Email: res.agentMail, GrantRoles: asked, Lang: "fr"})
		want := []string{csphub.RoleSalesAgent, csphub.RoleHelpdeskAgent}
		if err != nil || !slices.Equal(v.GrantRoles, want) {
			t.Fatalf("invite: %+v %v", v.GrantRoles, err)
		}
		var token string
		for _, m := range w.mail() {
			if m.To != res.agentMail {
				continue
			}
			if !strings.Contains(m.Text, "avec ces rôles : agent commercial, agent du support.") ||
				!strings.Contains(m.HTML, "avec ces rôles : agent commercial, agent du support.") {
				t.Fatalf("the email does not list the roles:\n%s\n%s", m.Text, m.HTML)
			}
			token = partnershipLink.FindStringSubmatch(m.Text)[1]
		}
		iv, err := w.svc.InvitationOf(w.ctx, token)
		if err != nil || !slices.Equal(iv.GrantRoles, want) {
			t.Fatalf("invitation view: %+v %v", iv, err)
		}
		p, err := w.accept(res.agent, token)
		if err != nil || p.Grant == nil || !slices.Equal(p.Grant.Roles, want) || !slices.Equal(p.GrantRoles, want) {
			t.Fatalf("accept: %+v %v", p, err)
		}
		// The provider's agents act with the granted roles they hold.
		agent := w.user(prov.org, "sam@fabrikam.example", "en", csphub.RoleAdminAgent, csphub.RoleSalesAgent)
		d, err := w.svc.DelegatedActor(w.ctx, agent, res.org.ID)
		if err != nil || !slices.Equal(d.Roles, []string{csphub.RoleSalesAgent}) {
			t.Fatalf("delegated: %+v %v", d, err)
		}
		_, err = w.svc.DelegatedActor(w.ctx, prov.agent, res.org.ID)
		pWantCode(t, err, csphub.KindForbidden, "no_granted_role")

		// No roles listed: admin_agent, in the English email too.
		_, err = w.svc.InvitePartner(w.ctx, prov.ga, service.InvitePartnerInput{Email: other.agentMail, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range w.mail() {
			if m.To == other.agentMail {
				if !strings.Contains(m.Text, "with these roles: admin agent.") {
					t.Fatalf("default roles email:\n%s", m.Text)
				}
				token = partnershipLink.FindStringSubmatch(m.Text)[1]
			}
		}
		if iv, err := w.svc.InvitationOf(w.ctx, token); err != nil || !slices.Equal(iv.GrantRoles, []string{csphub.RoleAdminAgent}) {
			t.Fatalf("default invitation view: %+v %v", iv, err)
		}
		if p, err := w.accept(other.ga, token); err != nil || !slices.Equal(p.Grant.Roles, []string{csphub.RoleAdminAgent}) {
			t.Fatalf("default accept: %+v %v", p.Grant, err)
		}
	})
}

// grantRequestWorld is a provider with an active relationship with a
// reseller, and a reseller it has none with.
func grantRequestWorld(t *testing.T, engine string) (w *pWorld, prov, res, stranger party, partnershipID string) {
	w = newPWorld(t, engine)
	prov = w.provider("Fabrikam", "europe")
	res = w.reseller("Contoso", "FR")
	stranger = w.reseller("Litware", "FR")
	v := w.active(prov, res)
	// The grant the acceptance gave is removed: the provider asks again.
	if _, err := w.svc.TerminateGrant(w.ctx, res.ga, v.Grant.ID); err != nil {
		t.Fatal(err)
	}
	return w, prov, res, stranger, v.ID
}

func TestRequestGrantRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w, prov, res, stranger, _ := grantRequestWorld(t, engine)
		req := func(a csphub.Actor, in service.RequestGrantInput) error {
			_, err := w.svc.RequestGrant(w.ctx, a, in)
			return err
		}
		ok := service.RequestGrantInput{GrantorID: res.org.ID, Roles: []string{csphub.RoleAdminAgent}}

		// Field by field.
		agrWantFields(t, req(prov.agent, service.RequestGrantInput{GrantorID: "nope", DurationDays: 731}),
			"grantor_id/invalid_id", "duration_days/out_of_range", "roles/required")
		agrWantFields(t, req(prov.agent, service.RequestGrantInput{GrantorID: res.org.ID, Roles: []string{"user", "billing_admin"}}),
			"roles/invalid_role")

		// Who: a partner's global admin or admin agent, as themselves.
		grantWantCode(t, req(agrUser(prov.org, csphub.RoleSalesAgent), ok), csphub.KindForbidden, "admin_required")
		delegated := prov.agent
		delegated.OnBehalfOf = res.org.ID
		grantWantCode(t, req(delegated, ok), csphub.KindForbidden, "delegated_access_not_allowed")
		customer := w.org(csphub.OrgCustomer, "FR")
		grantWantCode(t, req(agrUser(customer, csphub.RoleGlobalAdmin), ok), csphub.KindForbidden, "partner_required")

		// From whom: an organization with an active relationship, else 404.
		for name, in := range map[string]service.RequestGrantInput{
			"no relationship": {GrantorID: stranger.org.ID, Roles: []string{csphub.RoleAdminAgent}},
			"reverse":         {GrantorID: prov.org.ID, Roles: []string{csphub.RoleAdminAgent}},
			"unknown":         {GrantorID: csphub.NewID(), Roles: []string{csphub.RoleAdminAgent}},
			"customer":        {GrantorID: customer.ID, Roles: []string{csphub.RoleGlobalAdmin}},
			"operator":        {GrantorID: w.op.ID, Roles: []string{csphub.RoleOperatorAdmin}},
		} {
			a := prov.agent
			if name == "reverse" {
				a = res.agent
			}
			if err := req(a, in); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("%s: %v", name, err)
			}
		}
		grantWantCode(t, req(prov.agent, service.RequestGrantInput{GrantorID: prov.org.ID, Roles: []string{csphub.RoleAdminAgent}}),
			csphub.KindUnprocessable, "own_organization")
		if n := w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE state = 'pending'`); n != 0 {
			t.Fatalf("%d pending grants after refusals", n)
		}

		// One pending request at a time.
		if err := req(prov.agent, ok); err != nil {
			t.Fatal(err)
		}
		grantWantCode(t, req(prov.ga, ok), csphub.KindConflict, "grant_request_exists")

		// A suspended relationship takes no request.
		w.exec(`UPDATE partnerships SET state = 'suspended'`)
		w.exec(`DELETE FROM delegated_admin_grants WHERE state = 'pending'`)
		if err := req(prov.agent, ok); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("suspended: %v", err)
		}
	})
}

// A request from its creation to its approval, with audit records and
// events on both sides; a declined one; one that expires unanswered.
func TestGrantRequestJourney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w, prov, res, _, partnershipID := grantRequestWorld(t, engine)
		start := w.clock.Now()
		g, err := w.svc.RequestGrant(w.ctx, prov.agent, service.RequestGrantInput{GrantorID: res.org.ID,
			Roles: []string{csphub.RoleHelpdeskAgent, csphub.RoleAdminAgent}, DurationDays: 30, AutoExtend: true})
		if err != nil || g.State != csphub.GrantPending || g.GrantorID != res.org.ID || g.GranteeID != prov.org.ID ||
			g.PartnershipID != partnershipID || !slices.Equal(g.Roles, []string{csphub.RoleAdminAgent, csphub.RoleHelpdeskAgent}) ||
			g.DurationDays != 30 || !g.AutoExtend || g.ActivatedAt != nil || !g.ExpiresAt.Equal(start.AddDate(0, 0, 90)) ||
			g.GrantorName != "Contoso" || g.GranteeName != "Fabrikam" {
			t.Fatalf("request: %+v %v", g, err)
		}
		// Pending: no delegation yet; both sides list it.
		_, err = w.svc.DelegatedActor(w.ctx, prov.agent, res.org.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
		if l, err := w.svc.PendingGrantRequests(w.ctx, res.ga, service.GrantsGiven); err != nil || len(l) != 1 || l[0].ID != g.ID {
			t.Fatalf("grantor's pending: %+v %v", l, err)
		}
		if l, err := w.svc.PendingGrantRequests(w.ctx, prov.ga, service.GrantsReceived); err != nil || len(l) != 1 || l[0].ID != g.ID {
			t.Fatalf("grantee's pending: %+v %v", l, err)
		}
		if l, err := w.svc.PendingGrantRequests(w.ctx, prov.ga, service.GrantsGiven); err != nil || len(l) != 0 {
			t.Fatalf("grantee's given: %+v %v", l, err)
		}

		// Who approves: the grantor's global admin, signed in.
		_, err = w.svc.ApproveGrant(w.ctx, prov.ga, g.ID)
		grantWantCode(t, err, csphub.KindForbidden, "grantor_only")
		_, err = w.svc.ApproveGrant(w.ctx, res.agent, g.ID)
		grantWantCode(t, err, csphub.KindForbidden, "global_admin_required")
		token := csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: res.org.ID, OrgKind: csphub.OrgPartner,
			Roles: []string{csphub.RoleGlobalAdmin}}
		_, err = w.svc.ApproveGrant(w.ctx, token, g.ID)
		grantWantCode(t, err, csphub.KindForbidden, "global_admin_required")
		_, err = w.svc.ApproveGrant(w.ctx, agrUser(w.org(csphub.OrgPartner, "FR"), csphub.RoleGlobalAdmin), g.ID)
		grantWantCode(t, err, csphub.KindNotFound, "grant_not_found")

		w.clock.Advance(48 * time.Hour)
		now := w.clock.Now()
		a, err := w.svc.ApproveGrant(w.ctx, res.ga, g.ID)
		if err != nil || a.State != csphub.GrantActive || a.ActivatedAt == nil || !a.ActivatedAt.Equal(now) ||
			!a.ExpiresAt.Equal(now.AddDate(0, 0, 30)) || a.Version != 2 || a.GranteeName != "Fabrikam" {
			t.Fatalf("approve: %+v %v", a, err)
		}
		stored, err := w.svc.GetGrant(w.ctx, prov.agent, g.ID)
		if err != nil || stored.ActivatedAt == nil || !stored.ActivatedAt.Equal(now) || !stored.ExpiresAt.Equal(a.ExpiresAt) {
			t.Fatalf("stored: %+v %v", stored, err)
		}
		_, err = w.svc.ApproveGrant(w.ctx, res.ga, g.ID)
		grantWantCode(t, err, csphub.KindConflict, "grant_not_pending")
		d, err := w.svc.DelegatedActor(w.ctx, prov.agent, res.org.ID)
		if err != nil || !slices.Equal(d.Roles, []string{csphub.RoleAdminAgent}) {
			t.Fatalf("delegated: %+v %v", d, err)
		}

		// Audit records and events on both sides.
		for _, c := range []struct {
			reader csphub.Actor
			want   []string
		}{{res.ga, []string{"grant.request", "grant.approve"}}, {prov.ga, []string{"grant.request", "grant.approve"}}} {
			if err := w.svc.SequenceJournal(w.ctx); err != nil {
				t.Fatal(err)
			}
			recs, err := w.svc.ListAuditRecords(w.ctx, c.reader, 0, 500, "grant.")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs.Records {
				if r.ResourceID == g.ID {
					got = append(got, r.Action)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("audit of %s: %v", c.reader.OrgID, got)
			}
			if ev := grantEventsOf(t, w, c.reader, g.ID); !slices.Equal(ev, []string{"grant.requested", "grant.approved"}) {
				t.Fatalf("events of %s: %v", c.reader.OrgID, ev)
			}
		}

		// A second request, declined by terminating it.
		if _, err := w.svc.TerminateGrant(w.ctx, res.ga, a.ID); err != nil {
			t.Fatal(err)
		}
		g2, err := w.svc.RequestGrant(w.ctx, prov.ga, service.RequestGrantInput{GrantorID: res.org.ID, Roles: []string{csphub.RoleSalesAgent}})
		if err != nil || g2.DurationDays != csphub.GrantDefaultDays {
			t.Fatalf("second request: %+v %v", g2, err)
		}
		if v, err := w.svc.TerminateGrant(w.ctx, res.agent, g2.ID); err != nil || v.State != csphub.GrantTerminated {
			t.Fatalf("decline: %+v %v", v, err)
		}
		_, err = w.svc.ApproveGrant(w.ctx, res.ga, g2.ID)
		grantWantCode(t, err, csphub.KindConflict, "grant_ended")

		// A third request waits: unanswered, it expires on its 90th day,
		// by the job; approving it on the way is refused.
		g3, err := w.svc.RequestGrant(w.ctx, prov.agent, service.RequestGrantInput{GrantorID: res.org.ID, Roles: []string{csphub.RoleAdminAgent}})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(89 * 24 * time.Hour)
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 0 {
			t.Fatalf("day 89: %d %v", n, err)
		}
		w.clock.Advance(24 * time.Hour)
		_, err = w.svc.ApproveGrant(w.ctx, res.ga, g3.ID)
		grantWantCode(t, err, csphub.KindConflict, "grant_request_expired")
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 1 {
			t.Fatalf("day 90: %d %v", n, err)
		}
		if v, err := w.svc.GetGrant(w.ctx, prov.agent, g3.ID); err != nil || v.State != csphub.GrantExpired {
			t.Fatalf("expired request: %+v %v", v, err)
		}
		if ev := grantEventsOf(t, w, res.ga, g3.ID); !slices.Equal(ev, []string{"grant.requested", "grant.expired"}) {
			t.Fatalf("events of the expired request: %v", ev)
		}
		// The grantee may ask again.
		if _, err := w.svc.RequestGrant(w.ctx, prov.agent, service.RequestGrantInput{GrantorID: res.org.ID, Roles: []string{csphub.RoleAdminAgent}}); err != nil {
			t.Fatal(err)
		}
	})
}

// A request whose relationship ends before the answer cannot be approved:
// the termination ends it, and a suspension blocks the approval.
func TestGrantRequestAndTheRelationship(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w, prov, res, _, partnershipID := grantRequestWorld(t, engine)
		g, err := w.svc.RequestGrant(w.ctx, prov.agent, service.RequestGrantInput{GrantorID: res.org.ID, Roles: []string{csphub.RoleAdminAgent}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SuspendPartnership(w.ctx, prov.ga, partnershipID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.ApproveGrant(w.ctx, res.ga, g.ID)
		grantWantCode(t, err, csphub.KindConflict, "partnership_not_active")
		if _, err := w.svc.TerminatePartnership(w.ctx, res.ga, partnershipID, service.PartnershipChange{Reason: "ended"}); err != nil {
			t.Fatal(err)
		}
		if v, err := w.svc.GetGrant(w.ctx, res.ga, g.ID); err != nil || v.State != csphub.GrantTerminated {
			t.Fatalf("after the termination: %+v %v", v, err)
		}
	})
}

// A customer's grant to a partner: the partner's admin agents act with
// the customer roles granted, whatever roles they hold; other users with
// those of the granted roles they hold.
func TestDelegatedActorInCustomer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newGrantWorld(t, engine)
		signup, err := w.svc.Signup(w.ctx, service.SignupInput{Kind: "customer", OrgName: "Northwind", Country: "FR",
			Domain: "northwind.example", Name: "Nina Admin", Email: "nina@northwind.example", Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		customer := signup.Organization
		now := w.clock.Now()
		g := csphub.Grant{ID: csphub.NewID(), GrantorID: customer.ID, GranteeID: w.provider.ID,
			Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleBillingAdmin}, State: csphub.GrantActive, DurationDays: 730,
			CreatedAt: now, ActivatedAt: &now, ExpiresAt: now.AddDate(0, 0, 730), UpdatedAt: now, Version: 1}
		if err := w.db.Write(w.ctx, func(tx *store.Tx) error { return tx.InsertGrant(g) }); err != nil {
			t.Fatal(err)
		}

		agent := grantUser(w.provider, csphub.RoleAdminAgent)
		d, err := w.svc.DelegatedActor(w.ctx, agent, customer.ID)
		if err != nil || d.OrgKind != csphub.OrgCustomer || d.OnBehalfOf != customer.ID || d.OrgID != w.provider.ID ||
			!slices.Equal(d.Roles, []string{csphub.RoleGlobalAdmin, csphub.RoleBillingAdmin}) {
			t.Fatalf("admin agent: %+v %v", d, err)
		}
		// An API token with admin_agent too.
		token := csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: w.provider.ID, OrgKind: csphub.OrgPartner,
			Roles: []string{csphub.RoleAdminAgent}, MFAPassed: true}
		if d, err := w.svc.DelegatedActor(w.ctx, token, customer.ID); err != nil || len(d.Roles) != 2 {
			t.Fatalf("token: %+v %v", d, err)
		}
		// Without admin_agent: the intersection, as between partners.
		if d, err := w.svc.DelegatedActor(w.ctx, grantUser(w.provider, csphub.RoleBillingAdmin, csphub.RoleSalesAgent), customer.ID); err != nil ||
			!slices.Equal(d.Roles, []string{csphub.RoleBillingAdmin}) {
			t.Fatalf("billing admin: %+v %v", d, err)
		}
		_, err = w.svc.DelegatedActor(w.ctx, grantUser(w.provider, csphub.RoleSalesAgent, csphub.RoleHelpdeskAgent), customer.ID)
		grantWantCode(t, err, csphub.KindForbidden, "no_granted_role")
		// Between partners, an admin agent still gets only what it holds.
		w.grant(w.reseller, w.provider, w.partnership(), csphub.GrantActive, 730, false, csphub.RoleAdminAgent, csphub.RoleBillingAdmin)
		if d, err := w.svc.DelegatedActor(w.ctx, agent, w.reseller.ID); err != nil || !slices.Equal(d.Roles, []string{csphub.RoleAdminAgent}) {
			t.Fatalf("partner grant: %+v %v", d, err)
		}
		// Another partner without a grant: 404; the ended grant stops at once.
		_, err = w.svc.DelegatedActor(w.ctx, grantUser(w.stranger, csphub.RoleAdminAgent), customer.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
		if _, err := w.svc.TerminateGrant(w.ctx, csphub.Actor{Kind: csphub.ActorUser, ID: signup.User.ID, OrgID: customer.ID,
			OrgKind: csphub.OrgCustomer, Roles: []string{csphub.RoleGlobalAdmin}}, g.ID); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.DelegatedActor(w.ctx, agent, customer.ID)
		grantWantCode(t, err, csphub.KindNotFound, "organization_not_found")
	})
}

// grantEventsOf lists the types of the events about the grant id that
// actor's organization sees, in a pWorld.
func grantEventsOf(t *testing.T, w *pWorld, actor csphub.Actor, id string) []string {
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
