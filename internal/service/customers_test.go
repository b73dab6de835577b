package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var (
	customerInvitationLink = regexp.MustCompile(`https?://[^\s]+/customer-invitations/([A-Za-z0-9_-]{43})`)
	userInvitationLink     = regexp.MustCompile(`https?://[^\s]+/user-invitations/([A-Za-z0-9_-]{43})`)
)

// cWorld is a pWorld where every partner's primary contact (who receives
// the emails about its customers) has an address of its own.
type cWorld struct {
	*pWorld
	contact map[string]string // organization id → primary contact's address
	ncust   int
}

// customer is a customer organization with its global admin.
type customer struct {
	org csphub.Organization
	ga  csphub.Actor
}

func newCWorld(t *testing.T, engine string) *cWorld {
	t.Helper()
	return &cWorld{pWorld: newPWorld(t, engine), contact: map[string]string{}}
}

func (w *cWorld) withContact(p party) party {
	w.t.Helper()
	addr := "contact@" + strings.ToLower(strings.ReplaceAll(p.org.Name, " ", "")) + ".example"
	w.exec(`UPDATE partner_profiles SET primary_email = ? WHERE org_id = ?`, addr, p.org.ID)
	w.contact[p.org.ID] = addr
	return p
}

func (w *cWorld) cReseller(name, country string) party {
	return w.withContact(w.reseller(name, country))
}

func (w *cWorld) cProvider(name string, regions ...string) party {
	return w.withContact(w.provider(name, regions...))
}

// customer stores a customer organization named name in country, with a
// global admin.
func (w *cWorld) customer(name, country string) customer {
	w.t.Helper()
	w.ncust++
	slug := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	o := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgCustomer, Name: name, Country: country, Domain: slug + ".example"}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		return tx.InsertOrganization(o)
	}); err != nil {
		w.t.Fatal(err)
	}
	return customer{org: o, ga: w.user(o, fmt.Sprintf("admin%d@%s.example", w.ncust, slug), "en", csphub.RoleGlobalAdmin)}
}

// inviteCustomer invites email for provider as actor and returns the
// invitation and its link's token, read from the email.
func (w *cWorld) inviteCustomer(actor csphub.Actor, in service.InviteCustomerInput) (service.CustomerInvitationView, string) {
	w.t.Helper()
	v, err := w.svc.InviteCustomer(w.ctx, actor, in)
	if err != nil {
		w.t.Fatalf("invite %s: %v", in.Email, err)
	}
	return v, w.customerToken(strings.ToLower(in.Email))
}

// customerToken reads the token of the last invitation email to email.
func (w *cWorld) customerToken(email string) string {
	w.t.Helper()
	token := ""
	for _, m := range w.mail() {
		if m.To == email && m.Template == "customer_invitation" {
			if l := customerInvitationLink.FindStringSubmatch(m.Text); l != nil {
				token = l[1]
			}
		}
	}
	if token == "" {
		w.t.Fatalf("no customer invitation email to %s", email)
	}
	return token
}

// link has reseller invite c for provider and c accept, without grants.
func (w *cWorld) link(provider, reseller party, c customer) service.CustomerAcceptance {
	w.t.Helper()
	_, token := w.inviteCustomer(reseller.agent, service.InviteCustomerInput{ProviderID: provider.org.ID, Email: "it@" + c.org.Domain})
	a, err := w.svc.AcceptCustomerInvitation(w.ctx, c.ga, token, service.AcceptCustomerInvitationInput{})
	if err != nil {
		w.t.Fatalf("accept: %v", err)
	}
	w.mail()
	return a
}

// customerEvents lists the types of the customer and grant events actor's
// organization sees, in order.
func (w *cWorld) customerEvents(actor csphub.Actor) []string {
	w.t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.svc.ListEvents(w.ctx, actor, 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	// Grant events about customers' grants (or a customer relationship's
	// grants), not those of provider–reseller relationships.
	subjects := map[string]bool{}
	for _, q := range []string{`SELECT g.id FROM delegated_admin_grants g JOIN organizations o ON o.id = g.grantor_id WHERE o.kind = 'customer'`,
		`SELECT id FROM customer_relationships`} {
		rows, err := w.raw.Query(q)
		if err != nil {
			w.t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				w.t.Fatal(err)
			}
			subjects[id] = true
		}
		rows.Close()
	}
	var out []string
	for _, e := range p.Events {
		if strings.HasPrefix(e.Type, "customer") || strings.HasPrefix(e.Type, "grant.") && subjects[e.Subject] {
			out = append(out, e.Type)
		}
	}
	return out
}

func (w *cWorld) invitationState(id string) string {
	w.t.Helper()
	var s string
	q := `SELECT state FROM customer_invitations WHERE id = ?`
	if w.db.Dialect() == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	if err := w.raw.QueryRow(q, id).Scan(&s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// sums counts the rows the customer use cases write, to show that a
// refusal changed nothing.
func (w *cWorld) sums() string {
	w.t.Helper()
	return fmt.Sprintf("orgs=%d users=%d links=%d/%d rels=%d/%d grants=%d/%d invitations=%d pending=%d outbox=%d audit=%d events=%d",
		w.count(`SELECT COUNT(*) FROM organizations WHERE kind = 'customer'`), w.count(`SELECT COUNT(*) FROM users`),
		w.count(`SELECT COUNT(*) FROM customer_links`), w.count(`SELECT COUNT(*) FROM customer_links WHERE state = 'active'`),
		w.count(`SELECT COUNT(*) FROM customer_relationships`), w.count(`SELECT COUNT(*) FROM customer_relationships WHERE state = 'active'`),
		w.count(`SELECT COUNT(*) FROM delegated_admin_grants`), w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE state = 'active'`),
		w.count(`SELECT COUNT(*) FROM customer_invitations`), w.count(`SELECT COUNT(*) FROM customer_invitations WHERE state = 'pending'`),
		w.count(`SELECT COUNT(*) FROM outbox`), w.count(`SELECT COUNT(*) FROM audit_records`), w.count(`SELECT COUNT(*) FROM events`))
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (w *cWorld) europe() []string {
	w.t.Helper()
	rows, err := w.raw.Query(`SELECT country FROM markets WHERE region_code = 'europe' ORDER BY country`)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestInviteCustomerRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		suspended := w.cProvider("Adatum", "europe")
		terminated := w.cProvider("Litware", "europe")
		none := w.cProvider("Wingtip", "europe")
		res := w.cReseller("Contoso", "FR")
		w.active(prov, res)
		s := w.active(suspended, res)
		if _, err := w.svc.SuspendPartnership(w.ctx, suspended.agent, s.ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		tr := w.active(terminated, res)
		if _, err := w.svc.TerminatePartnership(w.ctx, terminated.agent, tr.ID, service.PartnershipChange{Reason: "over"}); err != nil {
			t.Fatal(err)
		}
		w.mail()
		cust := w.customer("Northwind", "FR")
		before := w.sums()
		invite := func(a csphub.Actor, in service.InviteCustomerInput) error {
			_, err := w.svc.InviteCustomer(w.ctx, a, in)
			return err
		}
		good := func(providerID string) service.InviteCustomerInput {
			return service.InviteCustomerInput{ProviderID: providerID, Email: "it@northwind.example", CompanyName: "Northwind"}
		}

		// The provider relationship must be active.
		for name, p := range map[string]party{"suspended": suspended, "terminated": terminated, "none": none} {
			err := invite(res.agent, good(p.org.ID))
			if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindUnprocessable || e.Code != "relationship_not_active" {
				t.Errorf("%s: %v", name, err)
			}
		}
		pWantCode(t, invite(res.agent, good(res.org.ID)), csphub.KindUnprocessable, "relationship_not_active")
		pWantCode(t, invite(res.agent, good(csphub.NewID())), csphub.KindUnprocessable, "relationship_not_active")
		// The provider cannot invite for its own reseller: it is not the reseller.
		pWantCode(t, invite(prov.agent, good(res.org.ID)), csphub.KindUnprocessable, "relationship_not_active")

		// Who invites: a reseller's global admin, admin agent or sales agent, as themselves.
		pWantCode(t, invite(cust.ga, good(prov.org.ID)), csphub.KindForbidden, "partner_required")
		pWantCode(t, invite(agrUser(res.org, csphub.RoleHelpdeskAgent), good(prov.org.ID)), csphub.KindForbidden, "customer_agent_required")
		pWantCode(t, invite(agrUser(res.org, csphub.RoleAccountAdmin), good(prov.org.ID)), csphub.KindForbidden, "customer_agent_required")
		pWantCode(t, invite(w.admin, good(prov.org.ID)), csphub.KindForbidden, "customer_agent_required")
		pWantCode(t, invite(csphub.System(""), good(prov.org.ID)), csphub.KindForbidden, "customer_agent_required")
		delegated := prov.agent
		delegated.OnBehalfOf = res.org.ID
		pWantCode(t, invite(delegated, good(prov.org.ID)), csphub.KindForbidden, "delegated_access_not_allowed")

		// Field by field.
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "not an email"}), "email/invalid_email")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{Email: "a@b.example"}), "provider_id/required")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: "nope", Email: "a@b.example"}), "provider_id/required")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "a@b.example", Lang: "de"}), "lang/unsupported_language")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "a@b.example", CompanyName: "a\nb"}),
			"company_name/invalid_name")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "a@b.example", CompanyName: strings.Repeat("é", 201)}),
			"company_name/invalid_name")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "a@b.example",
			ResellerRoles: []string{"admin_agent"}}), "reseller_roles/invalid_role")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "a@b.example",
			ProviderRoles: []string{csphub.RoleUser, "owner"}}), "provider_roles/invalid_role")
		agrWantFields(t, invite(res.agent, service.InviteCustomerInput{Email: "x", Lang: "xx", ResellerRoles: []string{"?"}, ProviderRoles: []string{"?"}}),
			"provider_id/required", "email/invalid_email", "lang/unsupported_language", "reseller_roles/invalid_role", "provider_roles/invalid_role")
		if after := w.sums(); after != before || len(w.mail()) != 0 {
			t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
		}

		// The invitation: stored with its link's hash only, emailed in the
		// inviter's language.
		v, err := w.svc.InviteCustomer(w.ctx, res.agent, service.InviteCustomerInput{ProviderID: " " + prov.org.ID + " ", Email: "IT@Northwind.example",
			CompanyName: " Northwind Traders ", ResellerRoles: []string{csphub.RoleGlobalAdmin, csphub.RoleGlobalAdmin},
			ProviderRoles: []string{csphub.RoleBillingAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		now := w.clock.Now()
		if v.State != csphub.CustomerInvitationPending || v.ResellerID != res.org.ID || v.ProviderID != prov.org.ID || v.ProviderName != "Fabrikam" ||
			v.Email != "it@northwind.example" || v.CompanyName != "Northwind Traders" || v.Lang != "fr" || v.InvitedBy != res.agent.ID ||
			!slices.Equal(v.ResellerRoles, []string{csphub.RoleGlobalAdmin}) || !slices.Equal(v.ProviderRoles, []string{csphub.RoleBillingAdmin}) ||
			!v.CreatedAt.Equal(now) || !v.ExpiresAt.Equal(now.Add(30*24*time.Hour)) || v.SendCount != 1 || v.CustomerID != "" {
			t.Fatalf("invitation: %+v", v)
		}
		mails := w.mail()
		if len(mails) != 1 {
			t.Fatalf("emails: %+v", mails)
		}
		m := mails[0]
		l := customerInvitationLink.FindStringSubmatch(m.Text)
		if m.To != "it@northwind.example" || m.Template != "customer_invitation" || m.Lang != "fr" || l == nil ||
			!strings.Contains(m.Text, "Fabrikam") || !strings.Contains(m.Text, "Contoso") || !strings.Contains(m.HTML, l[1]) ||
			!strings.HasPrefix(l[0], "http://127.0.0.1:8080/customer-invitations/") {
			t.Fatalf("email: %+v", m)
		}
		token := l[1]
		if w.count(`SELECT COUNT(*) FROM customer_invitations WHERE id = ? AND token_hash = ?`, v.ID, tokenHash(token)) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_invitations WHERE token_hash = ?`, token) != 0 {
			t.Fatal("the token's hash is not what is stored")
		}
		// The link works.
		offer, err := w.svc.CustomerInvitationOf(w.ctx, token)
		if err != nil || offer.InvitationID != v.ID || offer.ResellerName != "Contoso" || offer.ProviderName != "Fabrikam" ||
			offer.ResellerPartnerID != res.partnerID || offer.ProviderPartnerID != prov.partnerID || offer.Email != "it@northwind.example" ||
			offer.Region != "europe" || !slices.Contains(offer.Countries, "FR") {
			t.Fatalf("offer: %+v %v", offer, err)
		}
		for _, bad := range []string{"", "nope", token + "x", strings.Repeat("a", 200), tokenHash(token)} {
			_, err := w.svc.CustomerInvitationOf(w.ctx, bad)
			pWantCode(t, err, csphub.KindNotFound, "invitation_not_found")
		}
		// Audited and published to the reseller; the token is in neither.
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.create' AND actor_org_id = ? AND resource_id = ?`,
			res.org.ID, v.ID); n != 1 {
			t.Fatalf("%d audit records", n)
		}
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE after_json LIKE ? OR before_json LIKE ?`, "%"+token+"%", "%"+token+"%"); n != 0 {
			t.Fatal("the token is in the audit log")
		}
		if n := w.count(`SELECT COUNT(*) FROM events WHERE data LIKE ?`, "%"+token+"%"); n != 0 {
			t.Fatal("the token is in an event")
		}
		if got := w.customerEvents(res.ga); !slices.Equal(got, []string{"customer_invitation.created"}) {
			t.Fatalf("reseller events: %v", got)
		}
		if got := w.customerEvents(prov.ga); len(got) != 0 {
			t.Fatalf("provider events: %v", got)
		}
		// A sales agent (a token too) invites; the language defaults to English without a user record.
		sales := csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: res.org.ID, OrgKind: csphub.OrgPartner, Roles: []string{csphub.RoleSalesAgent}}
		v2, err := w.svc.InviteCustomer(w.ctx, sales, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "b@tailspin.example"})
		if err != nil || v2.Lang != "en" || len(v2.ResellerRoles) != 0 || len(v2.ProviderRoles) != 0 {
			t.Fatalf("sales agent: %+v %v", v2, err)
		}
		// The reseller lists its invitations; nobody else sees them.
		p, err := w.svc.ListCustomerInvitations(w.ctx, res.ga, "", "", 1)
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != v2.ID || p.NextPageToken == "" {
			t.Fatalf("list: %+v %v", p, err)
		}
		p, err = w.svc.ListCustomerInvitations(w.ctx, res.ga, "", p.NextPageToken, 1)
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != v.ID || p.Items[0].ProviderName != "Fabrikam" || p.NextPageToken != "" {
			t.Fatalf("list page 2: %+v %v", p, err)
		}
		if p, err := w.svc.ListCustomerInvitations(w.ctx, prov.ga, "", "", 50); err != nil || len(p.Items) != 0 {
			t.Fatalf("provider's list: %+v %v", p, err)
		}
	})
}

// A signed-in customer global admin accepts: one link, both relationships
// (never twice), only the grants asked for and agreed to, audit, events
// and emails.
func TestAcceptCustomerInvitationSignedIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		prov2 := w.cProvider("Adatum", "europe")
		res := w.cReseller("Contoso", "FR")
		w.active(prov, res)
		w.active(prov2, res)
		cust := w.customer("Northwind", "DE")
		inv, token := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "it@northwind.example",
			ResellerRoles: []string{csphub.RoleGlobalAdmin}, ProviderRoles: []string{csphub.RoleBillingAdmin, csphub.RoleUser}})
		plain := w.user(cust.org, "user@northwind.example", "en", csphub.RoleUser)
		before := w.sums()
		accept := func(a csphub.Actor, in service.AcceptCustomerInvitationInput) error {
			_, err := w.svc.AcceptCustomerInvitation(w.ctx, a, token, in)
			return err
		}

		// Refusals, each leaving the link usable.
		pWantCode(t, accept(plain, service.AcceptCustomerInvitationInput{}),
			csphub.KindForbidden, "customer_admin_required")
		pWantCode(t, accept(csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: cust.org.ID, OrgKind: csphub.OrgCustomer,
			Roles: []string{csphub.RoleGlobalAdmin}}, service.AcceptCustomerInvitationInput{}), csphub.KindForbidden, "customer_admin_required")
		pWantCode(t, accept(res.ga, service.AcceptCustomerInvitationInput{}), csphub.KindForbidden, "customer_required")
		pWantCode(t, accept(w.admin, service.AcceptCustomerInvitationInput{}), csphub.KindForbidden, "customer_admin_required")
		delegated := prov.agent
		delegated.OnBehalfOf = cust.org.ID
		pWantCode(t, accept(delegated, service.AcceptCustomerInvitationInput{}), csphub.KindForbidden, "delegated_access_not_allowed")
		pWantCode(t, accept(csphub.Actor{}, service.AcceptCustomerInvitationInput{}), csphub.KindUnauthenticated, "unauthenticated")
		agrWantFields(t, accept(cust.ga, service.AcceptCustomerInvitationInput{NewCustomer: &service.NewCustomer{OrgName: "X"}}), "new_customer/signed_in")
		_, err := w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, "unknown", service.AcceptCustomerInvitationInput{})
		pWantCode(t, err, csphub.KindNotFound, "invitation_not_found")
		if after := w.sums(); after != before || len(w.mail()) != 0 {
			t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
		}

		// The reseller's grant agreed to, the provider's not.
		a, err := w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, token, service.AcceptCustomerInvitationInput{GrantReseller: true})
		if err != nil {
			t.Fatal(err)
		}
		now := w.clock.Now()
		if a.Customer.ID != cust.org.ID || a.User != nil || a.Link.CustomerID != cust.org.ID || a.Link.ProviderID != prov.org.ID ||
			a.Link.ResellerID != res.org.ID || a.Link.State != csphub.RelationshipActive || a.Link.InvitationID != inv.ID || !a.Link.CreatedAt.Equal(now) {
			t.Fatalf("acceptance: %+v", a)
		}
		roles := map[string]csphub.PartnerRole{}
		for _, r := range a.Relationships {
			if r.CustomerID != cust.org.ID || r.State != csphub.RelationshipActive {
				t.Fatalf("relationship: %+v", r)
			}
			roles[r.PartnerID] = r.Role
		}
		if len(roles) != 2 || roles[prov.org.ID] != csphub.PartnerRoleProvider || roles[res.org.ID] != csphub.PartnerRoleReseller {
			t.Fatalf("relationships: %+v", a.Relationships)
		}
		if len(a.Grants) != 1 || a.Grants[0].GrantorID != cust.org.ID || a.Grants[0].GranteeID != res.org.ID ||
			!slices.Equal(a.Grants[0].Roles, []string{csphub.RoleGlobalAdmin}) || a.Grants[0].State != csphub.GrantActive {
			t.Fatalf("grants: %+v", a.Grants)
		}
		if w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ?`, cust.org.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ?`, cust.org.ID) != 2 ||
			w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantor_id = ?`, cust.org.ID) != 1 {
			t.Fatalf("rows: %s", w.sums())
		}
		if w.invitationState(inv.ID) != "accepted" || w.count(`SELECT COUNT(*) FROM customer_invitations WHERE id = ? AND customer_id = ?`, inv.ID, cust.org.ID) != 1 {
			t.Fatal("the invitation is not accepted by the customer")
		}
		// The grant works: the reseller's admin agent administers the customer.
		if d, err := w.svc.DelegatedActor(w.ctx, res.agent, cust.org.ID); err != nil || !slices.Equal(d.Roles, []string{csphub.RoleGlobalAdmin}) {
			t.Fatalf("reseller delegation: %+v %v", d, err)
		}
		if _, err := w.svc.DelegatedActor(w.ctx, prov.agent, cust.org.ID); err == nil {
			t.Fatal("the provider has a grant the customer did not agree to")
		}
		for action, n := range map[string]int{"customer_invitation.accept": 1, "customer_link.create": 1, "customer_relationship.create": 2,
			"delegated_admin_grant.create": 1} {
			if got := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = ? AND actor_org_id = ? AND actor_id = ?`, action, cust.org.ID, cust.ga.ID); got != n {
				t.Errorf("%d %s audit records, want %d", got, action, n)
			}
		}
		if got := w.customerEvents(res.ga); !slices.Equal(got, []string{"customer_invitation.created", "customer_invitation.accepted",
			"customer_link.created", "customer_relationship.created", "grant.created"}) {
			t.Fatalf("reseller events: %v", got)
		}
		if got := w.customerEvents(prov.ga); !slices.Equal(got, []string{"customer_invitation.accepted", "customer_link.created",
			"customer_relationship.created"}) {
			t.Fatalf("provider events: %v", got)
		}
		if got := w.customerEvents(cust.ga); !slices.Equal(got, []string{"customer_invitation.accepted", "customer_link.created",
			"customer_relationship.created", "customer_relationship.created", "grant.created"}) {
			t.Fatalf("customer events: %v", got)
		}
		to := map[string]string{}
		for _, m := range w.mail() {
			if m.Template != "customer_relationship_status" {
				t.Fatalf("email: %+v", m)
			}
			to[m.To] = m.Text
		}
		if len(to) != 2 || !strings.Contains(to[w.contact[prov.org.ID]], "Northwind accepted") || !strings.Contains(to[w.contact[res.org.ID]], "Northwind accepted") {
			t.Fatalf("acceptance emails: %v", to)
		}

		// The link works once.
		pWantCode(t, accept(cust.ga, service.AcceptCustomerInvitationInput{}), csphub.KindConflict, "invitation_used")
		_, err = w.svc.CustomerInvitationOf(w.ctx, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.DeclineCustomerInvitation(w.ctx, csphub.Actor{}, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.CancelCustomerInvitation(w.ctx, res.ga, inv.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")

		// A second invitation for the same three parties makes no second link.
		inv2, token2 := w.inviteCustomer(res.ga, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "it@northwind.example"})
		_, err = w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, token2, service.AcceptCustomerInvitationInput{})
		pWantCode(t, err, csphub.KindConflict, "relationship_exists")
		if w.invitationState(inv2.ID) != "pending" || w.count(`SELECT COUNT(*) FROM customer_links`) != 1 {
			t.Fatal("a refused acceptance changed something")
		}

		// Through a second provider: a second link, the provider's
		// relationship, and the reseller's relationship reused. The
		// customer agrees to a provider grant that was not asked for: none.
		before = w.sums()
		_, token3 := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov2.org.ID, Email: "it@northwind.example"})
		w.clock.Advance(time.Minute)
		a2, err := w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, token3, service.AcceptCustomerInvitationInput{GrantReseller: true, GrantProvider: true})
		if err != nil {
			t.Fatal(err)
		}
		if a2.Link.ProviderID != prov2.org.ID || len(a2.Grants) != 0 || len(a2.Relationships) != 2 {
			t.Fatalf("second acceptance: %+v", a2)
		}
		for _, r := range a2.Relationships {
			if r.PartnerID == res.org.ID && (r.ID != a.Relationships[1].ID && r.ID != a.Relationships[0].ID) {
				t.Fatalf("the reseller's relationship was made again: %+v", r)
			}
		}
		if n := w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ? AND partner_id = ?`, cust.org.ID, res.org.ID); n != 1 {
			t.Fatalf("%d relationships with the reseller", n)
		}
		if w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ?`, cust.org.ID) != 3 ||
			w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ? AND state = 'active'`, cust.org.ID) != 2 ||
			w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantor_id = ?`, cust.org.ID) != 1 {
			t.Fatalf("rows: %s", w.sums())
		}
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_relationship.create'`); n != 3 {
			t.Fatalf("%d relationship audit records", n)
		}
		if len(w.mail()) != 2 {
			t.Fatal("the second acceptance did not email both partners")
		}
		p, err := w.svc.ListCustomers(w.ctx, res.ga, service.CustomerQuery{ProviderID: prov2.org.ID})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != cust.org.ID {
			t.Fatalf("reseller's list for the second provider: %+v %v", p, err)
		}

		// The provider relationship is suspended between invitation and
		// acceptance: refused, nothing created.
		late := w.customer("Tailspin", "FR")
		inv4, token4 := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov2.org.ID, Email: "it@tailspin.example"})
		ps, err := w.svc.ListIndirectResellers(w.ctx, prov2.ga, service.PartnershipQuery{State: "active"})
		if err != nil || len(ps.Items) != 1 {
			t.Fatalf("partnerships: %+v %v", ps, err)
		}
		if _, err := w.svc.SuspendPartnership(w.ctx, prov2.agent, ps.Items[0].ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		w.mail()
		before = w.sums()
		_, err = w.svc.AcceptCustomerInvitation(w.ctx, late.ga, token4, service.AcceptCustomerInvitationInput{})
		pWantCode(t, err, csphub.KindConflict, "relationship_not_active")
		if after := w.sums(); after != before || w.invitationState(inv4.ID) != "pending" {
			t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
		}
	})
}

// A visitor creates the customer organization while accepting; the region
// is checked before anything exists.
func TestAcceptCustomerInvitationNewCustomer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		res := w.cReseller("Contoso", "FR")
		w.active(prov, res)
		inv, token := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "it@northwind.example",
			CompanyName: "Northwind", ResellerRoles: []string{csphub.RoleGlobalAdmin}, ProviderRoles: []string{csphub.RoleBillingAdmin}})

		offer, err := w.svc.CustomerInvitationOf(w.ctx, token)
		if err != nil || offer.State != csphub.CustomerInvitationPending || offer.Region != "europe" || !slices.Equal(offer.Countries, w.europe()) ||
			len(offer.Countries) < 20 || slices.Contains(offer.Countries, "US") || offer.CompanyName != "Northwind" || offer.Lang != "fr" ||
			!slices.Equal(offer.ResellerRoles, []string{csphub.RoleGlobalAdmin}) || !slices.Equal(offer.ProviderRoles, []string{csphub.RoleBillingAdmin}) ||
			!offer.ExpiresAt.Equal(inv.ExpiresAt) {
			t.Fatalf("offer: %+v %v", offer, err)
		}

		nc := service.NewCustomer{OrgName: "Northwind Traders", Country: "DE", Domain: "Northwind.example", Name: "Nancy Davolio",
			Email: "Nancy@Northwind.example", Password: "a long passphrase for tests", Lang: "en"}
		before := w.sums()
		bad := nc
		bad.Country, bad.Password, bad.Domain = "ZZ", "short", "nope"
		_, err = w.svc.AcceptCustomerInvitation(w.ctx, csphub.Actor{}, token, service.AcceptCustomerInvitationInput{NewCustomer: &bad})
		e := csphub.AsError(err)
		if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) < 3 {
			t.Fatalf("bad new customer: %v", err)
		}
		for _, f := range e.Fields {
			if !strings.HasPrefix(f.Field, "new_customer.") {
				t.Fatalf("field %s", f.Field)
			}
		}
		// A customer outside the region: refused, nothing created.
		for _, country := range []string{"US", "JP"} {
			out := nc
			out.Country = country
			_, err := w.svc.AcceptCustomerInvitation(w.ctx, csphub.Actor{}, token, service.AcceptCustomerInvitationInput{GrantReseller: true, NewCustomer: &out})
			pWantCode(t, err, csphub.KindUnprocessable, "customer_region_mismatch")
			if !strings.Contains(csphub.AsError(err).Message, country) {
				t.Fatalf("message: %s", csphub.AsError(err).Message)
			}
		}
		if after := w.sums(); after != before || len(w.mail()) != 0 || w.invitationState(inv.ID) != "pending" {
			t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
		}
		if w.count(`SELECT COUNT(*) FROM users WHERE email = 'nancy@northwind.example'`) != 0 {
			t.Fatal("a refused acceptance created the user")
		}

		a, err := w.svc.AcceptCustomerInvitation(w.ctx, csphub.Actor{}, token, service.AcceptCustomerInvitationInput{GrantReseller: true,
			GrantProvider: true, NewCustomer: &nc})
		if err != nil {
			t.Fatal(err)
		}
		c := a.Customer
		if c.Kind != csphub.OrgCustomer || c.Name != "Northwind Traders" || c.Country != "DE" || c.Domain != "northwind.example" ||
			a.User == nil || a.User.OrgID != c.ID || a.User.Email != "nancy@northwind.example" || !slices.Equal(a.User.Roles, []string{csphub.RoleGlobalAdmin}) {
			t.Fatalf("acceptance: %+v %+v", a, a.User)
		}
		if w.count(`SELECT COUNT(*) FROM organizations WHERE kind = 'customer'`) != 1 ||
			w.count(`SELECT COUNT(*) FROM users WHERE org_id = ?`, c.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ? AND provider_id = ? AND reseller_id = ? AND invitation_id = ?`,
				c.ID, prov.org.ID, res.org.ID, inv.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_links`) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ?`, c.ID) != 2 ||
			w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantor_id = ?`, c.ID) != 2 {
			t.Fatalf("rows: %s", w.sums())
		}
		grantee := map[string][]string{}
		for _, g := range a.Grants {
			grantee[g.GranteeID] = g.Roles
		}
		if !slices.Equal(grantee[res.org.ID], []string{csphub.RoleGlobalAdmin}) || !slices.Equal(grantee[prov.org.ID], []string{csphub.RoleBillingAdmin}) {
			t.Fatalf("grants: %+v", a.Grants)
		}
		if d, err := w.svc.DelegatedActor(w.ctx, prov.agent, c.ID); err != nil || !slices.Equal(d.Roles, []string{csphub.RoleBillingAdmin}) {
			t.Fatalf("provider delegation: %+v %v", d, err)
		}
		// Audited as the new user, in the new organization.
		for action, n := range map[string]int{"organization.create": 1, "customer_invitation.accept": 1, "customer_link.create": 1,
			"customer_relationship.create": 2, "delegated_admin_grant.create": 2} {
			if got := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = ? AND actor_org_id = ?`, action, c.ID); got != n {
				t.Errorf("%d %s audit records, want %d", got, action, n)
			}
		}
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.accept' AND actor_id = ?`, a.User.ID); n != 1 {
			t.Fatal("the acceptance is not audited as the new user")
		}
		if got := w.customerEvents(prov.ga); !slices.Equal(got, []string{"customer_invitation.accepted", "customer_link.created",
			"customer_relationship.created", "grant.created"}) {
			t.Fatalf("provider events: %v", got)
		}
		to := map[string]bool{}
		for _, m := range w.mail() {
			to[m.To] = m.Template == "customer_relationship_status" && strings.Contains(m.Text, "Northwind Traders")
		}
		if len(to) != 2 || !to[w.contact[prov.org.ID]] || !to[w.contact[res.org.ID]] {
			t.Fatalf("emails: %v", to)
		}
		// The link works once, whoever follows it.
		if _, err := w.svc.AcceptCustomerInvitation(w.ctx, csphub.Actor{}, token, service.AcceptCustomerInvitationInput{NewCustomer: &nc}); csphub.AsError(err) == nil ||
			csphub.AsError(err).Code != "invitation_used" {
			t.Fatalf("reused link: %v", err)
		}
		if w.count(`SELECT COUNT(*) FROM organizations WHERE kind = 'customer'`) != 1 {
			t.Fatal("a reused link created an organization")
		}
	})
}

// The customer must be in the reseller's region, which the provider must
// be authorized for.
func TestCustomerRegionMismatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe", "north_america")
		narrow := w.cProvider("Adatum", "europe")
		fr := w.cReseller("Contoso", "FR")
		us := w.cReseller("Northwind", "US")
		w.active(prov, fr)
		w.active(prov, us)
		w.active(narrow, fr)
		// The operator withdraws Europe from the narrow provider afterwards.
		w.authorize(narrow.org, "north_america")

		deCust, usCust := w.customer("Litware", "DE"), w.customer("Tailspin", "US")
		refuse := func(c customer, reseller, provider party) {
			t.Helper()
			inv, token := w.inviteCustomer(reseller.agent, service.InviteCustomerInput{ProviderID: provider.org.ID, Email: "x@" + c.org.Domain,
				ResellerRoles: []string{csphub.RoleUser}})
			before := w.sums()
			_, err := w.svc.AcceptCustomerInvitation(w.ctx, c.ga, token, service.AcceptCustomerInvitationInput{GrantReseller: true})
			pWantCode(t, err, csphub.KindUnprocessable, "customer_region_mismatch")
			if after := w.sums(); after != before || w.invitationState(inv.ID) != "pending" || len(w.mail()) != 0 {
				t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
			}
			if _, err := w.svc.CustomerInvitationOf(w.ctx, token); err != nil {
				t.Fatalf("the link stopped working: %v", err)
			}
		}
		// A US customer of a French reseller; a German customer of a US reseller.
		refuse(usCust, fr, prov)
		refuse(deCust, us, prov)
		// The provider is no longer authorized for the reseller's region.
		refuse(deCust, fr, narrow)
		_, token := w.inviteCustomer(fr.agent, service.InviteCustomerInput{ProviderID: narrow.org.ID, Email: "y@litware.example"})
		if o, err := w.svc.CustomerInvitationOf(w.ctx, token); err != nil || o.Region != "europe" || len(o.Countries) != 0 {
			t.Fatalf("offer of the narrow provider: %+v %v", o, err)
		}
		_, token = w.inviteCustomer(us.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "y@tailspin.example"})
		if o, err := w.svc.CustomerInvitationOf(w.ctx, token); err != nil || o.Region != "north_america" || !slices.Equal(o.Countries, []string{"CA", "US"}) {
			t.Fatalf("offer to a US reseller's customer: %+v %v", o, err)
		}
		// In the right region, it works.
		if _, err := w.svc.AcceptCustomerInvitation(w.ctx, usCust.ga, token, service.AcceptCustomerInvitationInput{}); err != nil {
			t.Fatal(err)
		}
		if w.count(`SELECT COUNT(*) FROM customer_links`) != 1 {
			t.Fatal("no link")
		}
	})
}

func TestCustomerInvitationCancelledExpiredDeclined(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		res := w.cReseller("Contoso", "FR")
		other := w.cReseller("Litware", "FR")
		w.active(prov, res)
		w.active(prov, other)
		cust := w.customer("Northwind", "FR")

		// Cancelled.
		cancelled, tokenC := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "c@northwind.example"})
		_, err := w.svc.CancelCustomerInvitation(w.ctx, other.ga, cancelled.ID)
		pWantCode(t, err, csphub.KindNotFound, "customer_invitation_not_found")
		_, err = w.svc.CancelCustomerInvitation(w.ctx, prov.ga, cancelled.ID)
		pWantCode(t, err, csphub.KindNotFound, "customer_invitation_not_found")
		_, err = w.svc.CancelCustomerInvitation(w.ctx, agrUser(res.org, csphub.RoleHelpdeskAgent), cancelled.ID)
		pWantCode(t, err, csphub.KindForbidden, "customer_agent_required")
		_, err = w.svc.CancelCustomerInvitation(w.ctx, res.ga, "not-an-id")
		pWantCode(t, err, csphub.KindNotFound, "customer_invitation_not_found")
		c, err := w.svc.CancelCustomerInvitation(w.ctx, res.ga, cancelled.ID)
		if err != nil || c.State != csphub.CustomerInvitationCancelled || c.AnsweredAt == nil || c.Version != cancelled.Version+1 {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		_, err = w.svc.CustomerInvitationOf(w.ctx, tokenC)
		pWantCode(t, err, csphub.KindConflict, "invitation_cancelled")
		_, err = w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, tokenC, service.AcceptCustomerInvitationInput{})
		pWantCode(t, err, csphub.KindConflict, "invitation_cancelled")
		_, err = w.svc.DeclineCustomerInvitation(w.ctx, csphub.Actor{}, tokenC)
		pWantCode(t, err, csphub.KindConflict, "invitation_cancelled")
		_, err = w.svc.CancelCustomerInvitation(w.ctx, res.ga, cancelled.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.cancel' AND resource_id = ?`, cancelled.ID); n != 1 {
			t.Fatalf("%d cancellation audit records", n)
		}

		// Declined, by whoever holds the link.
		declined, tokenD := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "d@northwind.example", CompanyName: "Northwind"})
		d, err := w.svc.DeclineCustomerInvitation(w.ctx, csphub.Actor{}, tokenD)
		if err != nil || d.State != csphub.CustomerInvitationDeclined || d.CustomerID != "" {
			t.Fatalf("decline: %+v %v", d, err)
		}
		_, err = w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, tokenD, service.AcceptCustomerInvitationInput{})
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.DeclineCustomerInvitation(w.ctx, cust.ga, tokenD)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.CancelCustomerInvitation(w.ctx, res.ga, declined.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		to := map[string]bool{}
		for _, m := range w.mail() {
			to[m.To] = m.Template == "customer_relationship_status" && strings.Contains(m.Text, "Northwind declined")
		}
		if len(to) != 2 || !to[w.contact[prov.org.ID]] || !to[w.contact[res.org.ID]] {
			t.Fatalf("decline emails: %v", to)
		}
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.decline' AND actor_org_id = ?`, res.org.ID); n != 1 {
			t.Fatalf("%d decline audit records", n)
		}

		// Expired: the link stops at its expiry, before the job runs.
		expiring, tokenE := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "e@northwind.example"})
		w.clock.Advance(time.Hour)
		later, tokenL := w.inviteCustomer(other.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "l@northwind.example"})
		w.clock.Advance(30*24*time.Hour - 2*time.Hour)
		if n, err := w.svc.ExpireCustomerInvitations(w.ctx); err != nil || n != 0 {
			t.Fatalf("expired %d early: %v", n, err)
		}
		w.clock.Advance(time.Hour) // expiring's 30 days are over, later's not
		_, err = w.svc.CustomerInvitationOf(w.ctx, tokenE)
		pWantCode(t, err, csphub.KindConflict, "invitation_expired")
		_, err = w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, tokenE, service.AcceptCustomerInvitationInput{})
		pWantCode(t, err, csphub.KindConflict, "invitation_expired")
		_, err = w.svc.ResendCustomerInvitation(w.ctx, res.ga, expiring.ID)
		pWantCode(t, err, csphub.KindConflict, "invitation_not_pending")
		if _, err := w.svc.CustomerInvitationOf(w.ctx, tokenL); err != nil {
			t.Fatal(err)
		}
		if n, err := w.svc.ExpireCustomerInvitations(w.ctx); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
		if w.invitationState(expiring.ID) != "expired" || w.invitationState(later.ID) != "pending" ||
			w.invitationState(cancelled.ID) != "cancelled" || w.invitationState(declined.ID) != "declined" {
			t.Fatal("the job moved the wrong invitations")
		}
		_, err = w.svc.CustomerInvitationOf(w.ctx, tokenE)
		pWantCode(t, err, csphub.KindConflict, "invitation_expired")
		w.clock.Advance(time.Hour)
		if n, err := w.svc.ExpireCustomerInvitations(w.ctx); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
		if n, err := w.svc.ExpireCustomerInvitations(w.ctx); err != nil || n != 0 {
			t.Fatalf("expired %d again: %v", n, err)
		}
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.expire' AND actor_kind = 'system'`); n != 2 {
			t.Fatalf("%d expiry audit records", n)
		}
		if got := w.customerEvents(res.ga); !slices.Equal(got, []string{"customer_invitation.created", "customer_invitation.cancelled",
			"customer_invitation.created", "customer_invitation.declined", "customer_invitation.created", "customer_invitation.expired"}) {
			t.Fatalf("reseller events: %v", got)
		}
		if got := w.customerEvents(other.ga); !slices.Equal(got, []string{"customer_invitation.created", "customer_invitation.expired"}) {
			t.Fatalf("other reseller events: %v", got)
		}
		// The reseller's list by state.
		p, err := w.svc.ListCustomerInvitations(w.ctx, res.agent, "expired", "", 10)
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != expiring.ID {
			t.Fatalf("expired list: %+v %v", p, err)
		}
		_, err = w.svc.ListCustomerInvitations(w.ctx, res.agent, "gone", "", 10)
		agrWantFields(t, err, "state/invalid_state")
		if w.count(`SELECT COUNT(*) FROM customer_links`)+w.count(`SELECT COUNT(*) FROM customer_relationships`) != 0 {
			t.Fatal("an unanswered invitation linked the customer")
		}
	})
}

// One link, a hundred acceptances at once, half by other customers:
// exactly one set of relationships.
func TestCustomerInvitationConcurrentAcceptance(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		res := w.cReseller("Contoso", "FR")
		w.active(prov, res)
		first := w.customer("Northwind", "FR")
		var others []customer
		for i := range 5 {
			others = append(others, w.customer(fmt.Sprintf("Other %d", i), "DE"))
		}
		inv, token := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "it@northwind.example",
			ResellerRoles: []string{csphub.RoleUser}, ProviderRoles: []string{csphub.RoleUser}})

		var wg sync.WaitGroup
		errs := make([]error, 100)
		winners := make([]string, 100)
		start := make(chan struct{})
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				actor := first.ga
				if i%2 == 1 {
					actor = others[(i/2)%len(others)].ga
				}
				a, err := w.svc.AcceptCustomerInvitation(context.Background(), actor, token,
					service.AcceptCustomerInvitationInput{GrantReseller: true, GrantProvider: true})
				errs[i], winners[i] = err, a.Customer.ID
			}()
		}
		close(start)
		wg.Wait()
		ok, winner := 0, ""
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
				winner = winners[i]
			case csphub.AsError(err) != nil && csphub.AsError(err).Code == "invitation_used":
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d acceptances succeeded", ok)
		}
		for q, n := range map[string]int{
			`SELECT COUNT(*) FROM customer_links`:         1,
			`SELECT COUNT(*) FROM customer_relationships`: 2,
			`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantor_id IN (SELECT id FROM organizations WHERE kind = 'customer')`: 2,
			`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_link.create'`:                                               1,
			`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.accept'`:                                         1,
			`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_relationship.create'`:                                       2,
			`SELECT COUNT(*) FROM events WHERE type = 'customer_link.created'`:                                                       1,
		} {
			if got := w.count(q); got != n {
				t.Errorf("%s: %d, want %d", q, got, n)
			}
		}
		if w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ?`, winner) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ?`, winner) != 2 ||
			w.count(`SELECT COUNT(*) FROM customer_invitations WHERE id = ? AND state = 'accepted' AND customer_id = ?`, inv.ID, winner) != 1 {
			t.Fatal("the rows are not the winner's")
		}
		if n := len(w.mail()); n != 2 {
			t.Fatalf("%d emails", n)
		}
	})
}

func TestResendCustomerInvitation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		res := w.cReseller("Contoso", "FR")
		other := w.cReseller("Litware", "FR")
		w.active(prov, res)
		w.active(prov, other)
		cust := w.customer("Northwind", "FR")
		inv, token := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "it@northwind.example"})

		_, err := w.svc.ResendCustomerInvitation(w.ctx, res.agent, inv.ID)
		pWantCode(t, err, csphub.KindRateLimited, "resend_too_soon")
		if e := csphub.AsError(err); e.RetryAfter != 3600 {
			t.Fatalf("retry after %d", e.RetryAfter)
		}
		w.clock.Advance(20 * time.Minute)
		_, err = w.svc.ResendCustomerInvitation(w.ctx, res.agent, inv.ID)
		pWantCode(t, err, csphub.KindRateLimited, "resend_too_soon")
		if e := csphub.AsError(err); e.RetryAfter != 2400 {
			t.Fatalf("retry after %d", e.RetryAfter)
		}
		_, err = w.svc.ResendCustomerInvitation(w.ctx, other.ga, inv.ID)
		pWantCode(t, err, csphub.KindNotFound, "customer_invitation_not_found")
		_, err = w.svc.ResendCustomerInvitation(w.ctx, prov.ga, inv.ID)
		pWantCode(t, err, csphub.KindNotFound, "customer_invitation_not_found")
		_, err = w.svc.ResendCustomerInvitation(w.ctx, agrUser(res.org, csphub.RoleHelpdeskAgent), inv.ID)
		pWantCode(t, err, csphub.KindForbidden, "customer_agent_required")
		if len(w.mail()) != 0 || w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.resend'`) != 0 {
			t.Fatal("a refused resend sent something")
		}

		// Sent again after an hour, with a new link: the old one stops working.
		tokens := []string{token}
		for send := 2; send <= 5; send++ {
			w.clock.Advance(40 * time.Minute)
			if send > 2 {
				w.clock.Advance(20 * time.Minute)
			}
			v, err := w.svc.ResendCustomerInvitation(w.ctx, res.agent, inv.ID)
			if err != nil {
				t.Fatalf("send %d: %v", send, err)
			}
			now := w.clock.Now()
			if v.SendCount != send || !v.LastSentAt.Equal(now) || !v.ExpiresAt.Equal(now.Add(30*24*time.Hour)) || v.State != csphub.CustomerInvitationPending {
				t.Fatalf("send %d: %+v", send, v)
			}
			fresh := w.customerToken("it@northwind.example")
			if slices.Contains(tokens, fresh) {
				t.Fatal("the same link was sent again")
			}
			for _, old := range tokens {
				_, err := w.svc.CustomerInvitationOf(w.ctx, old)
				pWantCode(t, err, csphub.KindNotFound, "invitation_not_found")
				_, err = w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, old, service.AcceptCustomerInvitationInput{})
				pWantCode(t, err, csphub.KindNotFound, "invitation_not_found")
			}
			if o, err := w.svc.CustomerInvitationOf(w.ctx, fresh); err != nil || o.InvitationID != inv.ID {
				t.Fatalf("the new link: %+v %v", o, err)
			}
			if w.count(`SELECT COUNT(*) FROM customer_invitations WHERE token_hash = ?`, tokenHash(fresh)) != 1 {
				t.Fatal("the new link's hash is not stored")
			}
			tokens = append(tokens, fresh)
		}
		w.clock.Advance(2 * time.Hour)
		_, err = w.svc.ResendCustomerInvitation(w.ctx, res.agent, inv.ID)
		pWantCode(t, err, csphub.KindRateLimited, "resend_limit")
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.resend' AND resource_id = ?`, inv.ID); n != 4 {
			t.Fatalf("%d resend audit records", n)
		}
		if n := w.count(`SELECT COUNT(*) FROM events WHERE type = 'customer_invitation.resent'`); n != 4 {
			t.Fatalf("%d resend events", n)
		}

		// Not while the provider relationship is suspended.
		inv2, _ := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "b@tailspin.example"})
		p, err := w.svc.ListIndirectProviders(w.ctx, res.ga, service.PartnershipQuery{})
		if err != nil || len(p.Items) != 1 {
			t.Fatal(err)
		}
		if _, err := w.svc.SuspendPartnership(w.ctx, prov.agent, p.Items[0].ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		w.mail()
		w.clock.Advance(2 * time.Hour)
		_, err = w.svc.ResendCustomerInvitation(w.ctx, res.agent, inv2.ID)
		pWantCode(t, err, csphub.KindUnprocessable, "relationship_not_active")
		if len(w.mail()) != 0 {
			t.Fatal("a refused resend sent email")
		}

		// Cancelled: no more sends, the link is dead.
		last := tokens[len(tokens)-1]
		if _, err := w.svc.CancelCustomerInvitation(w.ctx, res.agent, inv.ID); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.ResendCustomerInvitation(w.ctx, res.agent, inv.ID)
		pWantCode(t, err, csphub.KindConflict, "invitation_not_pending")
		_, err = w.svc.CustomerInvitationOf(w.ctx, last)
		pWantCode(t, err, csphub.KindConflict, "invitation_cancelled")
	})
}

func TestCreateCustomer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		res := w.cReseller("Contoso", "FR")
		unrelated := w.cReseller("Litware", "FR")
		suspended := w.cReseller("Tailspin", "FR")
		us := w.cReseller("Northwind", "US")
		w.active(prov, res)
		s := w.active(prov, suspended)
		if _, err := w.svc.SuspendPartnership(w.ctx, prov.agent, s.ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		w.mail()
		good := service.CreateCustomerInput{ResellerID: res.org.ID, OrgName: " Wide World Importers ", Country: "BE", Domain: "WideWorld.example",
			AdminName: "Ines Dupont", AdminEmail: "Ines@WideWorld.example", Lang: "fr"}
		with := func(f func(in *service.CreateCustomerInput)) service.CreateCustomerInput {
			in := good
			f(&in)
			return in
		}
		create := func(a csphub.Actor, in service.CreateCustomerInput) error {
			_, err := w.svc.CreateCustomer(w.ctx, a, in)
			return err
		}
		before := w.sums()
		agrWantFields(t, create(prov.agent, service.CreateCustomerInput{Lang: "de"}), "reseller_id/required", "organization_name/invalid_name",
			"country/invalid_country", "domain/invalid_domain", "admin_name/invalid_name", "admin_email/invalid_email", "lang/unsupported_language")
		pWantCode(t, create(agrUser(prov.org, csphub.RoleSalesAgent), good), csphub.KindForbidden, "customer_agent_required")
		pWantCode(t, create(w.customer("Stranger", "FR").ga, good), csphub.KindForbidden, "partner_required")
		before = w.sums()
		// The reseller cannot create customers for itself as provider.
		pWantCode(t, create(res.ga, good), csphub.KindUnprocessable, "relationship_not_active")
		for name, r := range map[string]party{"unrelated": unrelated, "suspended": suspended} {
			err := create(prov.agent, with(func(in *service.CreateCustomerInput) { in.ResellerID = r.org.ID }))
			if e := csphub.AsError(err); e == nil || e.Code != "relationship_not_active" || e.Kind != csphub.KindUnprocessable {
				t.Errorf("%s: %v", name, err)
			}
		}
		pWantCode(t, create(prov.agent, with(func(in *service.CreateCustomerInput) { in.Country = "US" })), csphub.KindUnprocessable, "customer_region_mismatch")
		// A US reseller's customer: the provider is no longer authorized there.
		w.authorize(prov.org, "europe", "north_america")
		w.active(prov, us)
		w.authorize(prov.org, "europe")
		w.mail()
		before = w.sums()
		pWantCode(t, create(prov.agent, with(func(in *service.CreateCustomerInput) { in.ResellerID = us.org.ID; in.Country = "US" })),
			csphub.KindUnprocessable, "customer_region_mismatch")
		// The admin's email is someone's already.
		pWantCode(t, create(prov.agent, with(func(in *service.CreateCustomerInput) { in.AdminEmail = res.gaEmail })), csphub.KindConflict, "email_taken")
		if after := w.sums(); after != before || len(w.mail()) != 0 {
			t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
		}

		a, err := w.svc.CreateCustomer(w.ctx, prov.agent, good)
		if err != nil {
			t.Fatal(err)
		}
		c := a.Customer
		if c.Kind != csphub.OrgCustomer || c.Name != "Wide World Importers" || c.Country != "BE" || c.Domain != "wideworld.example" ||
			a.User == nil || a.User.OrgID != c.ID || a.User.Email != "ines@wideworld.example" || a.User.Name != "Ines Dupont" ||
			!slices.Equal(a.User.Roles, []string{csphub.RoleGlobalAdmin}) || a.User.Status != csphub.UserActive || len(a.Grants) != 0 {
			t.Fatalf("created: %+v %+v", a, a.User)
		}
		if a.Link.ProviderID != prov.org.ID || a.Link.ResellerID != res.org.ID || a.Link.CustomerID != c.ID || a.Link.InvitationID != "" ||
			len(a.Relationships) != 2 {
			t.Fatalf("link: %+v %+v", a.Link, a.Relationships)
		}
		if w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ? AND state = 'active'`, c.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ? AND partner_id = ? AND kind = 'indirect_provider'`, c.ID, prov.org.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ? AND partner_id = ? AND kind = 'indirect_reseller'`, c.ID, res.org.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM users WHERE org_id = ? AND password_hash IS NULL OR org_id = ? AND password_hash = ''`, c.ID, c.ID) != 1 {
			t.Fatalf("rows: %s", w.sums())
		}
		// The admin's email, with a link to choose a password; the partners'.
		var token string
		to := map[string]string{}
		for _, m := range w.mail() {
			to[m.To] = m.Template
			if m.To == "ines@wideworld.example" {
				if l := userInvitationLink.FindStringSubmatch(m.Text); l != nil && m.Lang == "fr" && m.Template == "user_invitation" {
					token = l[1]
				}
			}
		}
		if token == "" || len(to) != 3 || to[w.contact[prov.org.ID]] != "customer_relationship_status" || to[w.contact[res.org.ID]] != "customer_relationship_status" {
			t.Fatalf("emails: %v", to)
		}
		if w.count(`SELECT COUNT(*) FROM user_invitations WHERE token_hash = ?`, tokenHash(token)) != 1 {
			t.Fatal("the set-password link's hash is not stored")
		}
		u, err := w.svc.AcceptUserInvitation(w.ctx, token, service.AcceptUserInvitationInput{Password: "another long passphrase"})
		if err != nil || u.ID != a.User.ID {
			t.Fatalf("set password: %+v %v", u, err)
		}
		for action, n := range map[string]int{"customer.create": 1, "user.invite": 1, "customer_link.create": 1, "customer_relationship.create": 2} {
			if got := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = ? AND actor_org_id = ? AND actor_id = ?`, action, prov.org.ID, prov.agent.ID); got != n {
				t.Errorf("%d %s audit records, want %d", got, action, n)
			}
		}
		if got := w.customerEvents(res.ga); !slices.Equal(got, []string{"customer.created", "customer_link.created", "customer_relationship.created"}) {
			t.Fatalf("reseller events: %v", got)
		}
		// The provider acted: it sees both relationships' events.
		if got := w.customerEvents(prov.ga); !slices.Equal(got, []string{"customer.created", "customer_link.created", "customer_relationship.created",
			"customer_relationship.created"}) {
			t.Fatalf("provider events: %v", got)
		}
		// Both partners list it.
		for _, q := range []struct {
			a csphub.Actor
			q service.CustomerQuery
		}{{res.ga, service.CustomerQuery{}}, {res.agent, service.CustomerQuery{ProviderID: prov.org.ID}}, {prov.ga, service.CustomerQuery{}},
			{prov.agent, service.CustomerQuery{ResellerID: res.org.ID}}} {
			p, err := w.svc.ListCustomers(w.ctx, q.a, q.q)
			if err != nil || len(p.Items) != 1 || p.Items[0].ID != c.ID {
				t.Fatalf("list %+v: %+v %v", q.q, p, err)
			}
		}
		// The same domain again, by the provider's global admin.
		if _, err := w.svc.CreateCustomer(w.ctx, prov.ga, with(func(in *service.CreateCustomerInput) {
			in.OrgName, in.AdminEmail = "WWI Two", "it2@wideworld.example"
		})); err != nil {
			t.Fatal(err)
		}
	})
}

// The isolation model: who sees which customer, from the relationship and
// link rows the test made, independently of the SQL.
type custModel struct {
	orgs  map[string]csphub.Organization
	rels  map[[2]string]time.Time // (customer, partner) → created
	links map[[3]string]time.Time // (customer, provider, reseller) → created
}

func (m *custModel) linked(now time.Time, c, p, r string) {
	if _, ok := m.links[[3]string{c, p, r}]; !ok {
		m.links[[3]string{c, p, r}] = now
	}
	for _, x := range []string{p, r} {
		if _, ok := m.rels[[2]string{c, x}]; !ok {
			m.rels[[2]string{c, x}] = now
		}
	}
}

func (m *custModel) removed(c, partner string) {
	delete(m.rels, [2]string{c, partner})
	for k := range m.links {
		if k[0] == c && (k[1] == partner || k[2] == partner) {
			delete(m.links, k)
		}
	}
}

// visible returns the customers a caller sees with the filters, each with
// the time the list sorts by.
func (m *custModel) visible(viewer string, operator bool, providerID, resellerID string) map[string]time.Time {
	out := map[string]time.Time{}
	switch {
	case operator && providerID != "" && resellerID != "":
		for k, at := range m.links {
			if k[1] == providerID && k[2] == resellerID {
				out[k[0]] = at
			}
		}
	case operator && (providerID != "" || resellerID != ""):
		for k, at := range m.rels {
			if k[1] == providerID+resellerID {
				out[k[0]] = at
			}
		}
	case operator:
		for id, o := range m.orgs {
			out[id] = o.CreatedAt
		}
	case resellerID != "": // a provider's customers through one reseller
		for k, at := range m.links {
			if k[1] == viewer && k[2] == resellerID {
				out[k[0]] = at
			}
		}
	case providerID != "": // a reseller's customers shared with one provider
		for k, at := range m.links {
			if k[2] == viewer && k[1] == providerID {
				out[k[0]] = at
			}
		}
	default:
		for k, at := range m.rels {
			if k[1] == viewer {
				out[k[0]] = at
			}
		}
	}
	return out
}

// partners are the partners of record of c a viewer sees: all for the
// operator; else itself and the partners it shares a link with; with, for
// each provider, the resellers of its links the viewer may see.
func (m *custModel) partners(viewer, c string) map[string][]string {
	out := map[string][]string{}
	for k := range m.rels {
		if k[0] != c {
			continue
		}
		p := k[1]
		seen := viewer == "" || p == viewer
		for l := range m.links {
			if l[0] == c && (l[1] == viewer && l[2] == p || l[2] == viewer && l[1] == p) {
				seen = true
			}
		}
		if !seen {
			continue
		}
		resellers := []string{}
		for l := range m.links {
			if l[0] == c && l[1] == p && (viewer == "" || viewer == p || viewer == l[2]) {
				resellers = append(resellers, l[2])
			}
		}
		slices.Sort(resellers)
		out[p] = resellers
	}
	return out
}

func (m *custModel) ordered(set map[string]time.Time, by string) []string {
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if by == "created" {
			if !set[a].Equal(set[b]) {
				return set[a].After(set[b])
			}
			return a > b
		}
		ka, kb := strings.ToLower(m.orgs[a].Name), strings.ToLower(m.orgs[b].Name)
		if ka != kb {
			return ka < kb
		}
		return a < b
	})
	return ids
}

// Two providers, three resellers, customers shared in many ways, some
// relationships removed: every caller's list, with every filter, in both
// orders, paged and not, equals the model; so do the partners of record
// and GetCustomer.
func TestCustomerListsIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		pa := w.cProvider("Fabrikam", "europe")
		pb := w.cProvider("Adatum", "europe")
		r1, r2, r3 := w.cReseller("Contoso", "FR"), w.cReseller("Litware", "DE"), w.cReseller("Proseware", "BE")
		for _, pr := range [][2]party{{pa, r1}, {pa, r2}, {pa, r3}, {pb, r1}, {pb, r2}, {pa, pb}} {
			w.active(pr[0], pr[1])
		}
		m := &custModel{orgs: map[string]csphub.Organization{}, rels: map[[2]string]time.Time{}, links: map[[3]string]time.Time{}}
		cust := map[string]customer{}
		add := func(name string) customer {
			c := w.customer(name, "FR")
			m.orgs[c.org.ID] = c.org
			cust[name] = c
			return c
		}
		link := func(c customer, p, r party) {
			w.link(p, r, c)
			m.linked(w.clock.Now(), c.org.ID, p.org.ID, r.org.ID)
		}
		remove := func(c customer, partner party) {
			t.Helper()
			chain, err := w.svc.CustomerRelationships(w.ctx, c.ga, c.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range chain.Relationships {
				if r.PartnerID == partner.org.ID && r.State == csphub.RelationshipActive {
					if _, err := w.svc.RemoveCustomerRelationship(w.ctx, c.ga, c.org.ID, r.ID); err != nil {
						t.Fatal(err)
					}
					m.removed(c.org.ID, partner.org.ID)
					w.mail()
					return
				}
			}
			t.Fatalf("no relationship of %s with %s", c.org.Name, partner.org.Name)
		}

		// Several customers at the same instant (the id breaks ties), others later.
		link(add("alpha"), pa, r1)                           // A through R1
		link(add("Bravo"), pa, r1)                           // A and B, both through R1
		link(cust["Bravo"], pb, r1)                          //
		link(add("charlie"), pa, r2)                         // A through R2
		w.clock.Advance(time.Minute)                         //
		link(add("Delta"), pb, r2)                           // B through R2
		link(add("Echo"), pa, r1)                            // A through R1 and R2
		link(cust["Echo"], pa, r2)                           //
		w.clock.Advance(time.Minute + 1500*time.Millisecond) //
		link(add("Foxtrot"), pa, r3)                         // A through R3, then R3 removed
		link(add("golf"), pb, r1)                            // B through R1 and A through R2, then B removed
		link(cust["golf"], pa, r2)                           //
		link(add("Hotel"), pa, r1)                           // A through R1, then A removed
		link(add("India"), pb, r2)                           // everything removed
		link(cust["India"], pb, r1)                          //
		w.clock.Advance(250 * time.Millisecond)              //
		add("Juliett")                                       // nobody's
		link(add("Kilo"), pb, r1)                            // same name key as kilo, different case
		link(add("kilo"), pa, r3)                            //
		link(add("Alpha Two"), pa, r1)                       //
		link(add("Mike"), pa, pb)                            // Adatum is Fabrikam's reseller, then its provider through Contoso
		link(cust["Mike"], pb, r1)                           //
		link(add("November"), pb, r1)                        // the other way round
		link(cust["November"], pa, pb)                       //
		remove(cust["Foxtrot"], r3)                          //
		remove(cust["golf"], pb)                             //
		remove(cust["Hotel"], pa)                            //
		remove(cust["India"], pb)                            //
		remove(cust["India"], r1)                            //
		w.clock.Advance(time.Minute)                         //
		created, err := w.svc.CreateCustomer(w.ctx, pa.agent, service.CreateCustomerInput{ResellerID: r3.org.ID, OrgName: "Lima",
			Country: "FR", Domain: "lima.example", AdminName: "Lee", AdminEmail: "lee@lima.example"})
		if err != nil {
			t.Fatal(err)
		}
		m.orgs[created.Customer.ID] = created.Customer
		m.linked(w.clock.Now(), created.Customer.ID, pa.org.ID, r3.org.ID)
		w.mail()

		type caller struct {
			name     string
			actor    csphub.Actor
			org      string
			operator bool
		}
		callers := []caller{{"operator", w.admin, "", true}}
		for _, p := range []party{pa, pb, r1, r2, r3} {
			callers = append(callers, caller{p.org.Name + " admin", p.ga, p.org.ID, false}, caller{p.org.Name + " agent", p.agent, p.org.ID, false})
		}
		partnerIDs := []string{pa.org.ID, pb.org.ID, r1.org.ID, r2.org.ID, r3.org.ID, cust["alpha"].org.ID}
		type filter struct{ provider, reseller string }
		for _, c := range callers {
			filters := []filter{{}}
			for _, id := range partnerIDs {
				filters = append(filters, filter{provider: id}, filter{reseller: id})
			}
			if c.operator {
				for _, p := range []string{pa.org.ID, pb.org.ID} {
					for _, r := range []string{r1.org.ID, r2.org.ID, r3.org.ID} {
						filters = append(filters, filter{p, r})
					}
				}
			}
			for _, f := range filters {
				want := m.visible(c.org, c.operator, f.provider, f.reseller)
				for _, by := range []string{"name", "created"} {
					wantIDs := m.ordered(want, by)
					for _, size := range []int{2, 100} {
						q := service.CustomerQuery{ProviderID: f.provider, ResellerID: f.reseller, Sort: by, PageSize: size}
						if by == "name" && size == 2 {
							q.Sort = "" // the default
						}
						var got []string
						for pages := 0; ; pages++ {
							p, err := w.svc.ListCustomers(w.ctx, c.actor, q)
							if err != nil {
								t.Fatalf("%s %+v: %v", c.name, q, err)
							}
							if len(p.Items) > size || pages > len(wantIDs)/size+1 {
								t.Fatalf("%s %+v: page of %d, page %d", c.name, q, len(p.Items), pages)
							}
							for _, it := range p.Items {
								got = append(got, it.ID)
								if !it.Since.Equal(want[it.ID]) {
									t.Errorf("%s %+v: %s since %v, want %v", c.name, q, it.Name, it.Since, want[it.ID])
								}
								viewer := c.org
								wantP := m.partners(viewer, it.ID)
								gotP := map[string][]string{}
								for _, pr := range it.Partners {
									rs := slices.Clone(pr.ResellerIDs)
									if rs == nil {
										rs = []string{}
									}
									slices.Sort(rs)
									gotP[pr.OrganizationID] = rs
								}
								if fmt.Sprint(gotP) != fmt.Sprint(wantP) {
									t.Errorf("%s: partners of %s: %v, want %v", c.name, it.Name, gotP, wantP)
								}
							}
							if p.NextPageToken == "" {
								break
							}
							q.PageToken = p.NextPageToken
						}
						if !slices.Equal(got, wantIDs) {
							names := func(ids []string) (out []string) {
								for _, id := range ids {
									out = append(out, m.orgs[id].Name)
								}
								return out
							}
							t.Errorf("%s, filter %+v, by %s, pages of %d:\n got %v\nwant %v", c.name, f, by, size, names(got), names(wantIDs))
						}
					}
				}
			}
			// GetCustomer and the chain: exactly the customers of the unfiltered model.
			mine := m.visible(c.org, c.operator, "", "")
			for id, o := range m.orgs {
				v, err := w.svc.GetCustomer(w.ctx, c.actor, id)
				chain, cerr := w.svc.CustomerRelationships(w.ctx, c.actor, id)
				if _, ok := mine[id]; ok {
					if err != nil || v.ID != id || v.Name != o.Name || cerr != nil || chain.Customer.ID != id {
						t.Errorf("%s reads %s: %v %v", c.name, o.Name, err, cerr)
					}
					continue
				}
				if csphub.AsError(err) == nil || csphub.AsError(err).Code != "customer_not_found" ||
					csphub.AsError(cerr) == nil || csphub.AsError(cerr).Code != "customer_not_found" {
					t.Errorf("%s reads %s, not its customer: %v %v", c.name, o.Name, err, cerr)
				}
			}
			_, err := w.svc.GetCustomer(w.ctx, c.actor, r1.org.ID)
			pWantCode(t, err, csphub.KindNotFound, "customer_not_found")
		}

		// Search by name or domain prefix.
		p, err := w.svc.ListCustomers(w.ctx, pa.ga, service.CustomerQuery{Q: "ALP"})
		if err != nil || len(p.Items) != 2 || p.Items[0].Name != "alpha" || p.Items[1].Name != "Alpha Two" {
			t.Fatalf("search: %+v %v", p, err)
		}
		p, err = w.svc.ListCustomers(w.ctx, pa.ga, service.CustomerQuery{Q: "%"})
		if err != nil || len(p.Items) != 0 {
			t.Fatalf("wildcard: %+v %v", p, err)
		}
		// Customers read only themselves, and list nothing.
		for _, c := range cust {
			_, err := w.svc.ListCustomers(w.ctx, c.ga, service.CustomerQuery{})
			pWantCode(t, err, csphub.KindForbidden, "partner_required")
			if v, err := w.svc.GetCustomer(w.ctx, c.ga, c.org.ID); err != nil || v.ID != c.org.ID {
				t.Fatalf("own: %+v %v", v, err)
			}
			_, err = w.svc.GetCustomer(w.ctx, c.ga, cust["alpha"].org.ID)
			if c.org.Name != "alpha" {
				pWantCode(t, err, csphub.KindNotFound, "customer_not_found")
			}
		}
		_, err = w.svc.ListCustomers(w.ctx, pa.ga, service.CustomerQuery{ProviderID: pa.org.ID, ResellerID: r1.org.ID})
		agrWantFields(t, err, "provider_id/one_filter")
		_, err = w.svc.ListCustomers(w.ctx, pa.ga, service.CustomerQuery{Sort: "size", PageToken: "!!", ResellerID: "x"})
		agrWantFields(t, err, "sort/invalid_sort", "page_token/invalid_page_token", "reseller_id/invalid_id")
		_, err = w.svc.ListCustomers(w.ctx, pa.ga, service.CustomerQuery{PageToken: "!!"})
		agrWantFields(t, err, "page_token/invalid_page_token")
		delegated := pa.agent
		delegated.OnBehalfOf = r1.org.ID
		_, err = w.svc.ListCustomers(w.ctx, delegated, service.CustomerQuery{})
		pWantCode(t, err, csphub.KindForbidden, "delegated_access_not_allowed")
	})
}

// The customer's global admin removes a partner: the partner stops seeing
// it, the links naming it end, the grants to it end; nobody else removes.
func TestRemoveCustomerRelationship(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		res := w.cReseller("Contoso", "FR")
		stranger := w.cReseller("Litware", "FR")
		w.active(prov, res)
		cust := w.customer("Northwind", "FR")
		other := w.customer("Tailspin", "FR")
		_, token := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: prov.org.ID, Email: "it@northwind.example",
			ResellerRoles: []string{csphub.RoleGlobalAdmin}, ProviderRoles: []string{csphub.RoleUser}})
		a, err := w.svc.AcceptCustomerInvitation(w.ctx, cust.ga, token, service.AcceptCustomerInvitationInput{GrantReseller: true, GrantProvider: true})
		if err != nil {
			t.Fatal(err)
		}
		w.link(prov, res, other)
		w.mail()
		relOf := map[string]string{}
		for _, r := range a.Relationships {
			relOf[r.PartnerID] = r.ID
		}
		for _, d := range []party{prov, res} {
			if _, err := w.svc.DelegatedActor(w.ctx, d.agent, cust.org.ID); err != nil {
				t.Fatalf("delegation before: %v", err)
			}
		}
		chain, err := w.svc.CustomerRelationships(w.ctx, cust.ga, cust.org.ID)
		if err != nil || len(chain.Relationships) != 2 || len(chain.Links) != 1 || chain.Relationships[0].PartnerName == "" {
			t.Fatalf("chain: %+v %v", chain, err)
		}

		// Nobody but the customer's global admin removes, and nothing changes.
		plain := w.user(cust.org, "user@northwind.example", "en", csphub.RoleUser)
		before := w.sums()
		remove := func(a csphub.Actor, customerID, relID string) error {
			_, err := w.svc.RemoveCustomerRelationship(w.ctx, a, customerID, relID)
			return err
		}
		pWantCode(t, remove(prov.ga, cust.org.ID, relOf[res.org.ID]), csphub.KindForbidden, "customer_admin_required")
		pWantCode(t, remove(res.ga, cust.org.ID, relOf[res.org.ID]), csphub.KindForbidden, "customer_admin_required")
		pWantCode(t, remove(w.admin, cust.org.ID, relOf[res.org.ID]), csphub.KindForbidden, "customer_admin_required")
		pWantCode(t, remove(stranger.ga, cust.org.ID, relOf[res.org.ID]), csphub.KindNotFound, "customer_not_found")
		pWantCode(t, remove(other.ga, cust.org.ID, relOf[res.org.ID]), csphub.KindNotFound, "customer_not_found")
		pWantCode(t, remove(other.ga, other.org.ID, relOf[res.org.ID]), csphub.KindNotFound, "relationship_not_found")
		pWantCode(t, remove(plain, cust.org.ID, relOf[res.org.ID]),
			csphub.KindForbidden, "customer_admin_required")
		delegated, err := w.svc.DelegatedActor(w.ctx, res.agent, cust.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		pWantCode(t, remove(delegated, cust.org.ID, relOf[res.org.ID]), csphub.KindForbidden, "delegated_access_not_allowed")
		pWantCode(t, remove(cust.ga, cust.org.ID, "not-an-id"), csphub.KindNotFound, "relationship_not_found")
		pWantCode(t, remove(cust.ga, cust.org.ID, csphub.NewID()), csphub.KindNotFound, "relationship_not_found")
		if after := w.sums(); after != before || len(w.mail()) != 0 {
			t.Fatalf("a refusal changed something:\n%s\n%s", before, after)
		}

		// The customer removes the reseller.
		v, err := w.svc.RemoveCustomerRelationship(w.ctx, cust.ga, cust.org.ID, relOf[res.org.ID])
		if err != nil || v.State != csphub.RelationshipRemoved || v.RemovedAt == nil || v.RemovedBy != cust.ga.ID || v.PartnerName != "Contoso" ||
			v.PartnerPartnerID != res.partnerID || v.Version != 2 {
			t.Fatalf("remove: %+v %v", v, err)
		}
		has := func(a csphub.Actor, q service.CustomerQuery, id string) bool {
			t.Helper()
			p, err := w.svc.ListCustomers(w.ctx, a, q)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(p.Items, func(c service.CustomerView) bool { return c.ID == id })
		}
		if has(res.ga, service.CustomerQuery{}, cust.org.ID) || has(res.ga, service.CustomerQuery{ProviderID: prov.org.ID}, cust.org.ID) ||
			!has(res.ga, service.CustomerQuery{}, other.org.ID) {
			t.Fatal("the reseller still lists the customer")
		}
		if !has(prov.ga, service.CustomerQuery{}, cust.org.ID) || has(prov.ga, service.CustomerQuery{ResellerID: res.org.ID}, cust.org.ID) {
			t.Fatal("the provider's lists are wrong after the reseller's removal")
		}
		_, err = w.svc.GetCustomer(w.ctx, res.ga, cust.org.ID)
		pWantCode(t, err, csphub.KindNotFound, "customer_not_found")
		if w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ? AND state = 'removed' AND removed_by = ?`, cust.org.ID, cust.ga.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ? AND state = 'active'`, other.org.ID) != 1 {
			t.Fatal("the link did not end, or another customer's did")
		}
		if w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantor_id = ? AND grantee_id = ? AND state = 'terminated'`, cust.org.ID, res.org.ID) != 1 ||
			w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantor_id = ? AND grantee_id = ? AND state = 'active'`, cust.org.ID, prov.org.ID) != 1 {
			t.Fatal("the grants did not end as they should")
		}
		if _, err := w.svc.DelegatedActor(w.ctx, res.agent, cust.org.ID); err == nil {
			t.Fatal("the reseller still acts for the customer")
		}
		if _, err := w.svc.DelegatedActor(w.ctx, prov.agent, cust.org.ID); err != nil {
			t.Fatalf("the provider's grant ended too: %v", err)
		}
		pWantCode(t, remove(cust.ga, cust.org.ID, relOf[res.org.ID]), csphub.KindConflict, "relationship_removed")
		for action, n := range map[string]int{"customer_relationship.remove": 1, "customer_link.remove": 1, "delegated_admin_grant.terminate": 1} {
			if got := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = ? AND actor_org_id = ?`, action, cust.org.ID); got != n {
				t.Errorf("%d %s audit records, want %d", got, action, n)
			}
		}
		if got := w.customerEvents(res.ga); !slices.Contains(got, "customer_relationship.removed") || !slices.Contains(got, "customer_link.removed") ||
			got[len(got)-1] != "grant.terminated" {
			t.Fatalf("reseller events: %v", got)
		}
		to := map[string]bool{}
		for _, m := range w.mail() {
			to[m.To] = m.Template == "customer_relationship_status" && strings.Contains(m.Text, "Northwind removed its relationship with Contoso")
		}
		if len(to) != 2 || !to[w.contact[prov.org.ID]] || !to[w.contact[res.org.ID]] {
			t.Fatalf("removal emails: %v", to)
		}
		// The provider's chain: its live relationship; the ended link and the
		// reseller's ended relationship as history.
		chain, err = w.svc.CustomerRelationships(w.ctx, prov.ga, cust.org.ID)
		if err != nil || len(chain.Links) != 1 || chain.Links[0].State != csphub.RelationshipRemoved {
			t.Fatalf("provider's chain: %+v %v", chain, err)
		}
		for _, r := range chain.Relationships {
			if (r.PartnerID == prov.org.ID) != (r.State == csphub.RelationshipActive) {
				t.Fatalf("provider's chain: %+v", chain.Relationships)
			}
		}

		// Then the provider: the customer is nobody's.
		if _, err := w.svc.RemoveCustomerRelationship(w.ctx, cust.ga, cust.org.ID, relOf[prov.org.ID]); err != nil {
			t.Fatal(err)
		}
		if has(prov.ga, service.CustomerQuery{}, cust.org.ID) || !has(prov.ga, service.CustomerQuery{}, other.org.ID) {
			t.Fatal("the provider still lists the customer")
		}
		if _, err := w.svc.DelegatedActor(w.ctx, prov.agent, cust.org.ID); err == nil {
			t.Fatal("the provider still acts for the customer")
		}
		_, err = w.svc.GetCustomer(w.ctx, prov.agent, cust.org.ID)
		pWantCode(t, err, csphub.KindNotFound, "customer_not_found")
		if v, err := w.svc.GetCustomer(w.ctx, cust.ga, cust.org.ID); err != nil || len(v.Partners) != 0 {
			t.Fatalf("the customer's own view: %+v %v", v, err)
		}
		// A new invitation links it again.
		w.link(prov, res, cust)
		if !has(res.ga, service.CustomerQuery{ProviderID: prov.org.ID}, cust.org.ID) {
			t.Fatal("relinked customer not listed")
		}
	})
}

func TestBulkInviteCustomers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		prov := w.cProvider("Fabrikam", "europe")
		suspended := w.cProvider("Adatum", "europe")
		none := w.cProvider("Wingtip", "europe")
		res := w.cReseller("Contoso", "FR")
		w.active(prov, res)
		s := w.active(suspended, res)
		if _, err := w.svc.SuspendPartnership(w.ctx, suspended.agent, s.ID, service.PartnershipChange{}); err != nil {
			t.Fatal(err)
		}
		w.mail()
		before := w.sums()
		_, err := w.svc.BulkInviteCustomers(w.ctx, res.agent, service.BulkCustomerInvitations{})
		agrWantFields(t, err, "items/out_of_range")
		_, err = w.svc.BulkInviteCustomers(w.ctx, res.agent, service.BulkCustomerInvitations{Items: make([]service.InviteCustomerInput, 501)})
		agrWantFields(t, err, "items/out_of_range")
		_, err = w.svc.BulkInviteCustomers(w.ctx, agrUser(res.org, csphub.RoleHelpdeskAgent),
			service.BulkCustomerInvitations{Items: []service.InviteCustomerInput{{ProviderID: prov.org.ID, Email: "a@a.example"}}})
		pWantCode(t, err, csphub.KindForbidden, "customer_agent_required")
		// All refused: nothing sent.
		r, err := w.svc.BulkInviteCustomers(w.ctx, res.agent, service.BulkCustomerInvitations{Items: []service.InviteCustomerInput{
			{ProviderID: none.org.ID, Email: "a@a.example"}, {ProviderID: prov.org.ID, Email: "bad"}}})
		if err != nil || r.Sent != 0 || r.Refused != 2 {
			t.Fatalf("all refused: %+v %v", r, err)
		}
		if after := w.sums(); after != before || len(w.mail()) != 0 {
			t.Fatalf("a refused batch changed something:\n%s\n%s", before, after)
		}

		items := []service.InviteCustomerInput{
			{ProviderID: prov.org.ID, Email: "a@northwind.example", CompanyName: "Northwind"},                // 1 sent
			{ProviderID: prov.org.ID, Email: "not an email"},                                                 // 2 bad email
			{ProviderID: prov.org.ID, Email: "A@Northwind.example"},                                          // 3 duplicate of 1
			{ProviderID: prov.org.ID, Email: "b@tailspin.example", ResellerRoles: []string{csphub.RoleUser}}, // 4 sent
			{ProviderID: suspended.org.ID, Email: "c@litware.example"},                                       // 5 provider not active
			{ProviderID: none.org.ID, Email: "d@litware.example"},                                            // 6 no relationship
			{ProviderID: suspended.org.ID, Email: "a@northwind.example"},                                     // 7 same email, other provider: not active
			{ProviderID: prov.org.ID, Email: "e@proseware.example", ProviderRoles: []string{"owner"}},        // 8 bad role
			{ProviderID: "", Email: "f@proseware.example"},                                                   // 9 no provider
			{ProviderID: prov.org.ID, Email: "g@proseware.example", CompanyName: "Proseware", Lang: "en"},    // 10 sent
		}
		r, err = w.svc.BulkInviteCustomers(w.ctx, res.agent, service.BulkCustomerInvitations{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		if r.Sent != 3 || r.Refused != 7 || len(r.Results) != len(items) {
			t.Fatalf("report: sent %d refused %d, %d results", r.Sent, r.Refused, len(r.Results))
		}
		want := map[int]string{2: "email/invalid_email", 3: "email/duplicate", 5: "relationship_not_active", 6: "relationship_not_active",
			7: "relationship_not_active", 8: "provider_roles/invalid_role", 9: "provider_id/required"}
		for _, res := range r.Results {
			code, refused := want[res.Row]
			if res.Row < 1 || res.Row > len(items) || res.Email != strings.TrimSpace(items[res.Row-1].Email) {
				t.Fatalf("result: %+v", res)
			}
			if !refused {
				if res.Error != nil || res.Invitation == nil || res.Invitation.Email != strings.ToLower(items[res.Row-1].Email) ||
					res.Invitation.State != csphub.CustomerInvitationPending {
					t.Fatalf("row %d: %+v %v", res.Row, res.Invitation, res.Error)
				}
				continue
			}
			if res.Invitation != nil || res.Error == nil || res.Error.Message == "" {
				t.Fatalf("row %d: %+v %v", res.Row, res.Invitation, res.Error)
			}
			got := res.Error.Code
			if len(res.Error.Fields) > 0 {
				got = res.Error.Fields[0].Field + "/" + res.Error.Fields[0].Code
			}
			if got != code {
				t.Errorf("row %d: %s, want %s", res.Row, got, code)
			}
		}
		sent := map[string]bool{}
		for _, m := range w.mail() {
			if m.Template != "customer_invitation" || !customerInvitationLink.MatchString(m.Text) {
				t.Fatalf("email: %+v", m)
			}
			sent[m.To] = true
		}
		if len(sent) != 3 || !sent["a@northwind.example"] || !sent["b@tailspin.example"] || !sent["g@proseware.example"] {
			t.Fatalf("emails: %v", sent)
		}
		if w.count(`SELECT COUNT(*) FROM customer_invitations WHERE reseller_id = ?`, res.org.ID) != 3 ||
			w.count(`SELECT COUNT(*) FROM customer_invitations WHERE provider_id <> ?`, prov.org.ID) != 0 ||
			w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'customer_invitation.create'`) != 3 ||
			w.count(`SELECT COUNT(*) FROM events WHERE type = 'customer_invitation.created'`) != 3 {
			t.Fatalf("rows: %s", w.sums())
		}
		p, err := w.svc.ListCustomerInvitations(w.ctx, res.ga, "pending", "", 50)
		if err != nil || len(p.Items) != 3 {
			t.Fatalf("list: %+v %v", p, err)
		}
	})
}

// One customer accepts, at the same time, two invitations of one reseller
// for two providers: both succeed, and the reseller's relationship is
// made once.
func TestCustomerConcurrentAcceptancesShareARelationship(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCWorld(t, engine)
		pa, pb := w.cProvider("Fabrikam", "europe"), w.cProvider("Adatum", "europe")
		res := w.cReseller("Contoso", "FR")
		w.active(pa, res)
		w.active(pb, res)
		for round := range 10 {
			c := w.customer(fmt.Sprintf("Customer %d", round), "FR")
			var tokens []string
			for _, p := range []party{pa, pb} {
				_, token := w.inviteCustomer(res.agent, service.InviteCustomerInput{ProviderID: p.org.ID, Email: "it@" + c.org.Domain})
				tokens = append(tokens, token)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(tokens))
			start := make(chan struct{})
			for i, token := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = w.svc.AcceptCustomerInvitation(context.Background(), c.ga, token, service.AcceptCustomerInvitationInput{})
				}()
			}
			close(start)
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if n := w.count(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ?`, c.org.ID); n != 3 {
				t.Fatalf("round %d: %d relationships", round, n)
			}
			if n := w.count(`SELECT COUNT(*) FROM customer_links WHERE customer_id = ?`, c.org.ID); n != 2 {
				t.Fatalf("round %d: %d links", round, n)
			}
			w.mail()
		}
	})
}
