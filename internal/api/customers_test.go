package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

var customerLink = regexp.MustCompile(`/customer-invitations/([A-Za-z0-9_-]{43})`)

// customerWorld is a provider authorized for Europe, and a French reseller
// in an active relationship with it.
type customerWorld struct {
	*pshipEnv
	prov, res pshipParty
}

func newCustomerWorld(t *testing.T, engine string) *customerWorld {
	t.Helper()
	e := newPshipEnv(t, engine)
	w := &customerWorld{pshipEnv: e, prov: e.provider("Fabrikam", "europe"), res: e.reseller("Contoso", "FR")}
	e.sign(w.res)
	_, token := e.invite(w.prov.agent, "ops@contoso.example", "")
	pshipView(t, e.accept(w.res.agent, token))
	return w
}

func inviteCustomerBody(provider, email string, extra map[string]any) string {
	m := map[string]any{"provider_id": provider, "email": email}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// inviteCustomer invites email for the world's provider and returns the
// invitation and the token of the emailed link.
func (w *customerWorld) inviteCustomer(email string, extra map[string]any) (service.CustomerInvitationView, string) {
	w.t.Helper()
	r := w.do("POST", "/api/v1/customer-invitations", w.res.agent, inviteCustomerBody(w.prov.org.ID, email, extra))
	if r.status != 201 {
		w.t.Fatalf("invite %s: %d %s", email, r.status, r.body)
	}
	var v service.CustomerInvitationView
	r.json(w.t, &v)
	for _, m := range w.delivered() {
		if m.To == email && m.Template == "customer_invitation" {
			if l := customerLink.FindStringSubmatch(m.Text); l != nil {
				return v, l[1]
			}
		}
	}
	w.t.Fatalf("no invitation email to %s", email)
	return v, ""
}

func newCustomerBody(name, country string, grants bool) string {
	slug := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	b, _ := json.Marshal(map[string]any{"grant_reseller": grants, "grant_provider": grants, "new_customer": map[string]string{
		"organization_name": name, "country": country, "domain": slug + ".example", "name": "Nora Wind",
		"email": "admin@" + slug + ".example", "password": "correct horse battery staple", "lang": "fr"}})
	return string(b)
}

func (w *customerWorld) count(table, where string, args ...any) int {
	w.t.Helper()
	n, err := w.db.CountForTest(table, where, args...)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestCustomerInvitationAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)

		// Refusals: bad fields, each named; a provider the reseller has no
		// relationship with; a helpdesk agent; a customer organization.
		r := w.do("POST", "/api/v1/customer-invitations", w.res.agent, `{"provider_id":"nope","email":"x","reseller_roles":["owner"]}`)
		p := wantProblem(t, r, 422, "invalid_input")
		if got := fieldsOf(p); got != "provider_id email reseller_roles" {
			t.Errorf("fields: %q", got)
		}
		other := w.provider("Litware", "europe")
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations", w.res.agent, inviteCustomerBody(other.org.ID, "a@b.example", nil)),
			422, "relationship_not_active")
		helpdesk := w.member(w.res.org, csphub.RoleHelpdeskAgent)
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations", helpdesk, inviteCustomerBody(w.prov.org.ID, "a@b.example", nil)),
			403, "missing_role")
		if n := w.count("customer_invitations", "1 = 1"); n != 0 {
			t.Fatalf("%d invitations written by refused requests", n)
		}

		// The invitation, its email and what the link shows.
		inv, token := w.inviteCustomer("admin@northwind.example", map[string]any{"company_name": "Northwind",
			"reseller_roles": []string{"global_admin"}, "provider_roles": []string{"billing_admin"}})
		if inv.State != csphub.CustomerInvitationPending || inv.ProviderName != "Fabrikam" {
			t.Fatalf("invitation: %+v", inv)
		}
		var offer service.CustomerInvitationOffer
		r = w.do("GET", "/api/v1/customer-invitations/"+token, "", "")
		r.json(t, &offer)
		if r.status != 200 || offer.ResellerName != "Contoso" || offer.ProviderName != "Fabrikam" || offer.Region != "europe" ||
			!contains(offer.Countries, "FR") || contains(offer.Countries, "US") || offer.ResellerRoles[0] != "global_admin" {
			t.Fatalf("offer: %d %s", r.status, r.body)
		}
		if n := w.count("customer_invitations", "token_hash = ?", token); n != 0 {
			t.Fatal("the link's token is stored in the clear")
		}

		// A customer outside the region: refused, nothing created.
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", "", newCustomerBody("Northwind", "US", true)),
			422, "customer_region_mismatch")
		if n := w.count("organizations", "kind = 'customer'"); n != 0 {
			t.Fatalf("%d customer organizations after a refusal", n)
		}

		// The customer creates its organization and accepts.
		r = w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", "", newCustomerBody("Northwind", "FR", true))
		if r.status != 200 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		var acc service.CustomerAcceptance
		r.json(t, &acc)
		if acc.Customer.Kind != csphub.OrgCustomer || acc.User == nil || acc.Link.ResellerID != w.res.org.ID ||
			acc.Link.ProviderID != w.prov.org.ID || len(acc.Relationships) != 2 || len(acc.Grants) != 2 {
			t.Fatalf("acceptance: %s", r.body)
		}
		for _, g := range acc.Grants {
			want := map[string]string{w.res.org.ID: "global_admin", w.prov.org.ID: "billing_admin"}[g.GranteeID]
			if g.GrantorID != acc.Customer.ID || len(g.Roles) != 1 || g.Roles[0] != want {
				t.Errorf("grant: %+v", g)
			}
		}
		mails := map[string]bool{}
		for _, m := range w.delivered() {
			if m.Template == "customer_relationship_status" {
				mails[m.To] = true
			}
		}
		if !mails["contact@contoso.example"] || !mails["contact@fabrikam.example"] {
			t.Errorf("status emails: %v", mails)
		}

		// The link works once.
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", "", newCustomerBody("Other", "FR", false)),
			409, "invitation_used")
		wantProblem(t, w.do("GET", "/api/v1/customer-invitations/"+token, "", ""), 409, "invitation_used")

		// Both partners see the customer; the reseller through the provider filter too.
		for _, c := range []struct{ tok, query string }{{w.prov.agent, ""}, {w.prov.agent, "?reseller_id=" + w.res.org.ID},
			{w.res.agent, ""}, {w.res.agent, "?provider_id=" + w.prov.org.ID}, {w.root, ""}} {
			var page service.CustomerPage
			r := w.do("GET", "/api/v1/customers"+c.query, c.tok, "")
			r.json(t, &page)
			if r.status != 200 || len(page.Items) != 1 || page.Items[0].ID != acc.Customer.ID || len(page.Items[0].Partners) != 2 {
				t.Errorf("customers%s: %d %s", c.query, r.status, r.body)
			}
		}
		// Another provider does not: the customer does not exist for it.
		wantProblem(t, w.do("GET", "/api/v1/customers/"+acc.Customer.ID, other.agent, ""), 404, "customer_not_found")
		var none service.CustomerPage
		w.do("GET", "/api/v1/customers", other.agent, "").json(t, &none)
		if len(none.Items) != 0 {
			t.Errorf("another provider sees %+v", none.Items)
		}

		// The chain, seen by the customer.
		customer := w.member(acc.Customer, csphub.RoleGlobalAdmin)
		var chain service.CustomerChain
		r = w.do("GET", "/api/v1/customers/"+acc.Customer.ID+"/relationships", customer, "")
		r.json(t, &chain)
		if r.status != 200 || len(chain.Relationships) != 2 || len(chain.Links) != 1 {
			t.Fatalf("chain: %d %s", r.status, r.body)
		}

		// Cancelled and declined invitations.
		inv2, token2 := w.inviteCustomer("it@adatum.example", nil)
		if r := w.do("POST", "/api/v1/customer-invitations/"+inv2.ID+"/cancel", w.res.agent, ""); r.status != 200 {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token2+"/accept", customer, `{}`), 409, "invitation_cancelled")
		_, token3 := w.inviteCustomer("it@tailspin.example", nil)
		if r := w.do("POST", "/api/v1/customer-invitations/"+token3+"/decline", "", ""); r.status != 200 {
			t.Fatalf("decline: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token3+"/accept", customer, `{}`), 409, "invitation_used")

		// An expired invitation.
		_, token4 := w.inviteCustomer("it@wingtip.example", nil)
		w.clock.Advance(30*24*time.Hour + time.Second)
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token4+"/accept", customer, `{}`), 409, "invitation_expired")
		if n, err := w.svc.ExpireCustomerInvitations(context.Background()); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
	})
}

// A signed-in customer in the wrong region is told before anything is
// created; the customer's global admin removes a partner's relationship,
// and the partner stops seeing the customer on its next request.
func TestCustomerRelationshipRemovalAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		us, err := w.svc.Signup(context.Background(), service.SignupInput{Kind: "customer", OrgName: "Alpine Ski House", Country: "US",
			Domain: "alpineskihouse.example", Name: "Sam Ski", Email: "sam@alpineskihouse.example", Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		_, token := w.inviteCustomer("sam@alpineskihouse.example", nil)
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", w.member(us.Organization, csphub.RoleGlobalAdmin), `{}`),
			422, "customer_region_mismatch")
		wantProblem(t, w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", w.member(us.Organization, csphub.RoleBillingAdmin), `{}`),
			403, "customer_admin_required")

		fr, err := w.svc.Signup(context.Background(), service.SignupInput{Kind: "customer", OrgName: "Coho Winery", Country: "FR",
			Domain: "cohowinery.example", Name: "Cleo Coho", Email: "cleo@cohowinery.example", Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		admin := w.member(fr.Organization, csphub.RoleGlobalAdmin)
		_, token = w.inviteCustomer("cleo@cohowinery.example", map[string]any{"reseller_roles": []string{"user"}})
		var acc service.CustomerAcceptance
		r := w.do("POST", "/api/v1/customer-invitations/"+token+"/accept", admin, `{"grant_reseller":true}`)
		r.json(t, &acc)
		if r.status != 200 || len(acc.Grants) != 1 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		var resellerRel string
		for _, rel := range acc.Relationships {
			if rel.PartnerID == w.res.org.ID {
				resellerRel = rel.ID
			}
		}
		path := "/api/v1/customers/" + fr.Organization.ID + "/relationships/" + resellerRel
		// Partners and other customers cannot remove it.
		wantProblem(t, w.do("DELETE", path, w.res.ga, ""), 403, "customer_admin_required")
		wantProblem(t, w.do("DELETE", path, w.member(us.Organization, csphub.RoleGlobalAdmin), ""), 404, "customer_not_found")
		if r := w.do("DELETE", path, admin, ""); r.status != 200 {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("DELETE", path, admin, ""), 409, "relationship_removed")
		wantProblem(t, w.do("GET", "/api/v1/customers/"+fr.Organization.ID, w.res.agent, ""), 404, "customer_not_found")
		var page service.CustomerPage
		w.do("GET", "/api/v1/customers?provider_id="+w.prov.org.ID, w.res.agent, "").json(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("the reseller still sees %+v", page.Items)
		}
		// The provider keeps its own relationship, which names no reseller any more.
		w.do("GET", "/api/v1/customers", w.prov.agent, "").json(t, &page)
		if len(page.Items) != 1 || len(page.Items[0].Partners) != 1 {
			t.Fatalf("provider's view: %+v", page.Items)
		}
		if n := w.count("delegated_admin_grants", "grantor_id = ? AND state = 'active'", fr.Organization.ID); n != 0 {
			t.Fatalf("%d grants still active", n)
		}
	})
}

// 100 concurrent acceptances of one link: exactly one succeeds, and one
// set of relationships exists.
func TestCustomerAcceptanceConcurrencyAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		var admins []string
		for i := range 4 {
			name := []string{"Fourth Coffee", "Lucerne", "Margie", "Proseware"}[i]
			res, err := w.svc.Signup(context.Background(), service.SignupInput{Kind: "customer", OrgName: name, Country: "FR",
				Domain: strings.ToLower(strings.ReplaceAll(name, " ", "")) + ".example", Name: "Admin", Email: "admin@" + strings.ToLower(strings.ReplaceAll(name, " ", "")) + ".example",
				Password: "correct horse battery staple"})
			if err != nil {
				t.Fatal(err)
			}
			admins = append(admins, w.member(res.Organization, csphub.RoleGlobalAdmin))
		}
		_, token := w.inviteCustomer("admin@fourthcoffee.example", nil)
		statuses := make([]int, 100)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/customer-invitations/"+token+"/accept", strings.NewReader(`{}`))
				req.Header.Set("Authorization", "Bearer "+admins[i%len(admins)])
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[200] != 1 || count[409] != 99 {
			t.Fatalf("statuses: %v", count)
		}
		if links, rels := w.count("customer_links", "1 = 1"), w.count("customer_relationships", "1 = 1"); links != 1 || rels != 2 {
			t.Fatalf("%d links and %d relationships", links, rels)
		}
	})
}

// A provider creates a customer for one of its active resellers; the
// customer's first global admin receives a link to choose a password.
func TestProviderCreatesACustomerAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		body := func(reseller, country string) string {
			b, _ := json.Marshal(map[string]string{"reseller_id": reseller, "organization_name": "Woodgrove", "country": country,
				"domain": "woodgrove.example", "admin_name": "Will Wood", "admin_email": "will@woodgrove.example"})
			return string(b)
		}
		stranger := w.reseller("Relecloud", "FR")
		wantProblem(t, w.do("POST", "/api/v1/customers", w.prov.agent, body(stranger.org.ID, "FR")), 422, "relationship_not_active")
		wantProblem(t, w.do("POST", "/api/v1/customers", w.prov.agent, body(w.res.org.ID, "JP")), 422, "customer_region_mismatch")
		wantProblem(t, w.do("POST", "/api/v1/customers", w.res.agent, body(w.prov.org.ID, "FR")), 422, "relationship_not_active")
		wantProblem(t, w.do("POST", "/api/v1/customers", w.member(w.prov.org, csphub.RoleSalesAgent), body(w.res.org.ID, "FR")), 403, "missing_role")
		if n := w.count("organizations", "kind = 'customer'"); n != 0 {
			t.Fatalf("%d customers after refusals", n)
		}
		r := w.do("POST", "/api/v1/customers", w.prov.agent, body(w.res.org.ID, "FR"))
		var acc service.CustomerAcceptance
		r.json(t, &acc)
		if r.status != 201 || acc.Customer.Name != "Woodgrove" || acc.Link.ResellerID != w.res.org.ID || acc.User.Roles[0] != "global_admin" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		found := false
		for _, m := range w.delivered() {
			found = found || m.To == "will@woodgrove.example" && strings.Contains(m.Text, "/user-invitations/")
		}
		if !found {
			t.Fatal("no set-password link emailed to the customer's admin")
		}
		var page service.CustomerPage
		w.do("GET", "/api/v1/customers?provider_id="+w.prov.org.ID, w.res.agent, "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != acc.Customer.ID {
			t.Fatalf("the reseller's view: %+v", page)
		}
	})
}

// A batch: every row is checked first; refused rows say why and send
// nothing; the others are sent.
func TestBulkCustomerInvitationsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newCustomerWorld(t, engine)
		b, _ := json.Marshal(map[string]any{"items": []map[string]string{
			{"provider_id": w.prov.org.ID, "email": "a@one.example", "company_name": "One"},
			{"provider_id": w.prov.org.ID, "email": "not an email"},
			{"provider_id": w.prov.org.ID, "email": "a@one.example"},
			{"provider_id": csphub.NewID(), "email": "b@two.example"},
			{"provider_id": w.prov.org.ID, "email": "c@three.example"},
		}})
		var rep service.BulkInvitationReport
		r := w.do("POST", "/api/v1/customer-invitations/batch", w.res.agent, string(b))
		r.json(t, &rep)
		if r.status != 200 || rep.Sent != 2 || rep.Refused != 3 {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
		want := []string{"", "invalid_input", "invalid_input", "relationship_not_active", ""}
		for i, res := range rep.Results {
			got := ""
			if res.Error != nil {
				got = res.Error.Code
			}
			if got != want[i] || (got == "") != (res.Invitation != nil) {
				t.Errorf("row %d: %+v", i+1, res)
			}
		}
		sent := 0
		for _, m := range w.delivered() {
			if m.Template == "customer_invitation" {
				sent++
			}
		}
		if sent != 2 {
			t.Fatalf("%d invitation emails", sent)
		}
	})
}

func fieldsOf(p problem) string {
	var names []string
	for _, f := range p.Errors {
		names = append(names, f.Field)
	}
	return strings.Join(names, " ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
