package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var pshipLink = regexp.MustCompile(`/partnership-invitations/([A-Za-z0-9_-]{43})`)

// pshipEnv is the API over a deployment where tests set partners' standing
// directly in the store (enrollment and the operator's decisions have
// their own tests), with a manual clock and the given invitation caps (0:
// the defaults).
type pshipEnv struct {
	*env
	clock *csphub.ManualClock
	op    csphub.Organization
	root  string // an operator admin's token
	n     int
}

// pshipParty is a partner with tokens of a global admin and an admin agent.
type pshipParty struct {
	org       csphub.Organization
	partnerID string
	ga, agent string
}

func newPshipEnv(t *testing.T, engine string, caps ...int) *pshipEnv {
	t.Helper()
	caps = append(caps, 0, 0)
	clock := csphub.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, engine, clock)
	svc := service.New(db, nil, service.Options{PartnerInvitesPerDay: caps[0], OpenPartnerInvitations: caps[1]})
	actors := tokenAuth{}
	mux := http.NewServeMux()
	a := api.New(mux, api.Options{Service: svc, Authenticator: actors, Metrics: api.NewMetrics(), Version: "test", MaxBodyBytes: 1 << 20})
	srv := httptest.NewServer(api.Middleware(mux, nil, nil, 1<<20))
	t.Cleanup(srv.Close)
	e := &pshipEnv{env: &env{t: t, db: db, svc: svc, api: a, srv: srv, actors: actors}, clock: clock}
	op, _, err := svc.EnsureOperator(context.Background(), service.OperatorSeed{Name: "Operator", Country: "FR", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	e.op, e.root = op, e.member(op, csphub.RoleOperatorAdmin)
	r := e.do("POST", "/api/v1/operator/agreements", e.root, publishBody("2026-01", "2026-01-01T00:00:00Z", "europe", "north_america"))
	if r.status != 201 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	return e
}

// member returns the token of a user of org with roles.
func (e *pshipEnv) member(org csphub.Organization, roles ...string) string {
	tok := csphub.NewID()
	e.actors[tok] = csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: org.ID, OrgKind: org.Kind, Roles: roles, MFAPassed: true}
	return tok
}

// partner stores a partner organization named name, located in country,
// with its partner ID and profile; nothing enrolled.
func (e *pshipEnv) partner(name, country string) pshipParty {
	e.t.Helper()
	e.n++
	pid := strconv.Itoa(8100000 + e.n)
	slug := strings.ToLower(name)
	o := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: name, Country: country, Domain: slug + ".example"}
	if err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		if err := tx.InsertOrganization(o); err != nil {
			return err
		}
		if _, err := tx.InsertPartnerIDs([]store.PartnerIDRecord{{PartnerID: csphub.PartnerID{PartnerID: pid, LegalName: name, Country: country,
			Status: csphub.PartnerIDActive, Source: "issued", OrgID: o.ID, CreatedAt: tx.Now(), LinkedAt: &o.CreatedAt}}}); err != nil {
			return err
		}
		return tx.InsertPartnerProfile(csphub.PartnerProfile{OrgID: o.ID, PartnerID: pid, LegalName: name,
			Address:        csphub.Address{Line1: "1 Main Street", City: "Town", Country: country},
			PrimaryContact: csphub.PrimaryContact{FirstName: "Ann", LastName: "Lee", Email: "contact@" + slug + ".example", Phone: "+33123456789", Lang: "en"},
			SupportContact: csphub.SupportContact{Email: "support@" + slug + ".example", Phone: "+33123456789"}, Version: 1, UpdatedAt: tx.Now()})
	}); err != nil {
		e.t.Fatal(err)
	}
	return pshipParty{org: o, partnerID: pid, ga: e.member(o, csphub.RoleGlobalAdmin), agent: e.member(o, csphub.RoleAdminAgent)}
}

func (e *pshipEnv) enrol(p pshipParty, program csphub.Program, state csphub.EnrollmentState) {
	e.t.Helper()
	if err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		now := tx.Now()
		return tx.InsertEnrollment(csphub.Enrollment{ID: csphub.NewID(), OrgID: p.org.ID, Program: program, State: state, Country: p.org.Country,
			SubmittedAt: now, DueAt: now, DecidedAt: &now, UpdatedAt: now, Version: 1})
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *pshipEnv) reseller(name, country string) pshipParty {
	e.t.Helper()
	p := e.partner(name, country)
	e.enrol(p, csphub.ProgramIndirectReseller, csphub.EnrollmentApproved)
	return p
}

// sign has the partner's global admin accept the agreement in force.
func (e *pshipEnv) sign(p pshipParty) {
	e.t.Helper()
	var st csphub.AgreementStatus
	r := e.do("GET", "/api/v1/partner-profile", p.ga, "")
	var prof service.PartnerProfileView
	r.json(e.t, &prof)
	st = prof.Agreement
	if st.Current == nil {
		e.t.Fatalf("no agreement in force: %s", r.body)
	}
	if r := e.do("POST", "/api/v1/agreements/"+st.Current.ID+"/acceptances", p.ga, signerBody); r.status != 201 && r.status != 200 {
		e.t.Fatalf("accept the agreement: %d %s", r.status, r.body)
	}
}

// provider is an approved indirect provider authorized for regions, with
// the agreement accepted.
func (e *pshipEnv) provider(name string, regions ...string) pshipParty {
	e.t.Helper()
	p := e.reseller(name, "FR")
	e.enrol(p, csphub.ProgramIndirectProvider, csphub.EnrollmentApproved)
	b, _ := json.Marshal(map[string]any{"regions": regions})
	if r := e.do("PUT", "/api/v1/operator/providers/"+p.org.ID+"/regions", e.root, string(b)); r.status != 200 {
		e.t.Fatalf("regions: %d %s", r.status, r.body)
	}
	e.sign(p)
	return p
}

// delivered claims the queued emails and marks them sent.
func (e *pshipEnv) delivered() []store.Email {
	e.t.Helper()
	ctx := context.Background()
	msgs, err := e.db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 1000, MaxAttempts: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.Email
	for _, m := range msgs {
		em, err := m.Email()
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, em)
		if _, err := e.db.MarkOutboxSent(ctx, m.OutboxLease); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

func pshipInviteBody(email, partnerID string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "partner_id": partnerID})
	return string(b)
}

// invite invites email as tok and returns the invitation and the token of
// the emailed link.
func (e *pshipEnv) invite(tok, email, partnerID string) (service.PartnershipView, string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/reseller-invitations", tok, pshipInviteBody(email, partnerID))
	if r.status != 201 {
		e.t.Fatalf("invite %s: %d %s", email, r.status, r.body)
	}
	var v service.PartnershipView
	r.json(e.t, &v)
	for _, m := range e.delivered() {
		if m.To == email && m.Template == "partnership_invitation" {
			if l := pshipLink.FindStringSubmatch(m.Text); l != nil {
				return v, l[1]
			}
		}
	}
	e.t.Fatalf("no invitation email to %s", email)
	return v, ""
}

func (e *pshipEnv) accept(tok, token string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/reseller-invitations/"+token+"/acceptance", tok, `{"authorize":true}`)
}

func pshipView(t *testing.T, r response) service.PartnershipView {
	t.Helper()
	if r.status != 200 && r.status != 201 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var v service.PartnershipView
	r.json(t, &v)
	return v
}

func TestPartnershipInvitationAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPshipEnv(t, engine)
		prov := e.provider("Fabrikam", "europe")
		res := e.reseller("Contoso", "FR")
		us := e.reseller("Northwind", "US")
		const path = "/api/v1/reseller-invitations"

		// Who may invite.
		wantProblem(t, e.do("POST", path, "", pshipInviteBody("a@contoso.example", "")), 401, "unauthenticated")
		wantProblem(t, e.do("POST", path, e.member(prov.org, csphub.RoleSalesAgent), pshipInviteBody("a@contoso.example", "")), 403, "missing_role")
		wantProblem(t, e.do("POST", path, res.ga, pshipInviteBody("a@contoso.example", "")), 409, "provider_not_approved")
		unsigned := e.reseller("Litware", "FR")
		e.enrol(unsigned, csphub.ProgramIndirectProvider, csphub.EnrollmentApproved)
		wantProblem(t, e.do("POST", path, unsigned.ga, pshipInviteBody("a@contoso.example", "")), 409, "agreement_not_accepted")
		customer := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgCustomer}
		wantProblem(t, e.do("POST", path, e.member(customer, csphub.RoleGlobalAdmin), pshipInviteBody("a@contoso.example", "")), 403, "partner_required")

		// Clear per-field errors.
		wantFieldCodes(t, e.do("POST", path, prov.agent, `{"email":"nope","partner_id":"0123"}`), "email/invalid_email", "partner_id/invalid_partner_id")
		wantProblem(t, e.do("POST", path, prov.agent, pshipInviteBody("a@northwind.example", us.partnerID)), 422, "region_not_authorized")

		// The invitation and its link.
		inv, token := e.invite(prov.agent, "ops@contoso.example", res.partnerID)
		if inv.State != csphub.PartnershipInvited || inv.InvitedPartnerID != res.partnerID || inv.ProviderName != "Fabrikam" {
			t.Fatalf("invitation: %+v", inv)
		}
		r := e.do("GET", path+"/"+token, "", "")
		var iv service.InvitationView
		r.json(t, &iv)
		if r.status != 200 || iv.PartnershipID != inv.ID || iv.ProviderPartnerID != prov.partnerID || len(iv.GrantRoles) != 1 ||
			iv.GrantRoles[0] != "admin_agent" || len(iv.ProviderRegions) != 1 || iv.ProviderRegions[0] != "europe" {
			t.Fatalf("public view: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("GET", path+"/"+strings.Repeat("x", 43), "", ""), 404, "invitation_not_found")

		// Acceptance: the ticked box, the right person, the right partner.
		p := wantProblem(t, e.do("POST", path+"/"+token+"/acceptance", res.agent, `{"authorize":false}`), 422, "invalid_input")
		if len(p.Errors) != 1 || p.Errors[0].Field != "authorize" || p.Errors[0].Message != "tick the box to authorize the indirect provider" {
			t.Fatalf("%+v", p)
		}
		wantProblem(t, e.do("POST", path+"/"+token+"/acceptance", res.agent, `{}`), 422, "invalid_input")
		for _, days := range []string{"-1", "731"} {
			wantFieldCodes(t, e.do("POST", path+"/"+token+"/acceptance", res.agent, `{"authorize":true,"duration_days":`+days+`}`),
				"duration_days/out_of_range")
		}
		wantProblem(t, e.accept("", token), 401, "unauthenticated")
		wantProblem(t, e.accept(e.member(res.org, csphub.RoleSalesAgent), token), 403, "missing_role")
		other := e.reseller("Tailspin", "FR")
		wantProblem(t, e.accept(other.agent, token), 403, "partner_id_mismatch")
		wantProblem(t, e.do("POST", path+"/"+token+"/decline", other.agent, ""), 403, "partner_id_mismatch")
		_, open := e.invite(prov.agent, "ops@northwind.example", "")
		wantProblem(t, e.accept(us.agent, open), 422, "region_not_authorized")
		unenrolled := e.partner("Wingtip", "FR")
		wantProblem(t, e.accept(unenrolled.ga, open), 409, "not_enrolled")

		v := pshipView(t, e.accept(res.agent, token))
		if v.State != csphub.PartnershipActive || v.ResellerName != "Contoso" || v.Grant == nil || v.Grant.DurationDays != 730 || v.Region != "europe" {
			t.Fatalf("accepted: %+v", v)
		}
		// Reused link.
		wantProblem(t, e.accept(res.agent, token), 409, "invitation_used")
		wantProblem(t, e.do("GET", path+"/"+token, "", ""), 409, "invitation_used")
		wantProblem(t, e.do("POST", path+"/"+token+"/decline", res.agent, ""), 409, "invitation_used")

		// A grant of one year that extends itself.
		_, yearly := e.invite(prov.agent, "ops@proseware.example", "")
		proseware := e.reseller("Proseware", "FR")
		y := pshipView(t, e.do("POST", path+"/"+yearly+"/acceptance", proseware.agent, `{"authorize":true,"duration_days":365,"auto_extend":true}`))
		if y.Grant == nil || y.Grant.DurationDays != 365 || !y.Grant.AutoExtend || !y.Grant.ExpiresAt.Equal(e.clock.Now().AddDate(0, 0, 365)) {
			t.Fatalf("one-year grant: %+v", y.Grant)
		}

		// A declined invitation.
		_, declined := e.invite(prov.agent, "ops@tailspin.example", "")
		d := pshipView(t, e.do("POST", path+"/"+declined+"/decline", other.ga, ""))
		if d.State != csphub.PartnershipDeclined || d.ResellerName != "Tailspin" {
			t.Fatalf("declined: %+v", d)
		}
		wantProblem(t, e.accept(other.ga, declined), 409, "invitation_used")

		// A cancelled one.
		c, cancelled := e.invite(prov.agent, "ops@litware.example", "")
		wantProblem(t, e.do("POST", "/api/v1/partnerships/"+c.ID+"/cancel", res.ga, ""), 404, "partnership_not_found")
		if c := pshipView(t, e.do("POST", "/api/v1/partnerships/"+c.ID+"/cancel", prov.ga, "")); c.State != csphub.PartnershipCancelled {
			t.Fatalf("cancelled: %+v", c)
		}
		wantProblem(t, e.do("POST", "/api/v1/partnerships/"+c.ID+"/cancel", prov.ga, ""), 409, "invalid_transition")
		wantProblem(t, e.do("GET", path+"/"+cancelled, "", ""), 409, "invitation_cancelled")
		wantProblem(t, e.accept(other.ga, cancelled), 409, "invitation_cancelled")

		// An expired one: the link stops at its expiry, and the job
		// records it.
		e.clock.Advance(30*24*time.Hour + time.Second)
		wantProblem(t, e.do("GET", path+"/"+open, "", ""), 409, "invitation_expired")
		wantProblem(t, e.accept(res.ga, open), 409, "invitation_expired")
		if n, err := e.svc.ExpireInvitations(context.Background()); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
		wantProblem(t, e.do("GET", path+"/"+open, "", ""), 409, "invitation_expired")
	})
}

// 429 past the caps (3 a day, 5 open in this deployment), with Retry-After.
func TestPartnershipInvitationCapsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPshipEnv(t, engine, 3, 5)
		prov := e.provider("Fabrikam", "europe")
		send := func(i int) response {
			return e.do("POST", "/api/v1/reseller-invitations", prov.agent, pshipInviteBody("r"+strconv.Itoa(i)+"@contoso.example", ""))
		}
		for i := range 3 {
			if r := send(i); r.status != 201 {
				t.Fatalf("invite %d: %d %s", i, r.status, r.body)
			}
		}
		r := send(3)
		wantProblem(t, r, 429, "invitation_limit")
		if got := r.header.Get("Retry-After"); got != strconv.Itoa(24*3600) {
			t.Fatalf("Retry-After %q", got)
		}
		e.clock.Advance(24*time.Hour + time.Second)
		for i := 3; i < 5; i++ {
			if r := send(i); r.status != 201 {
				t.Fatalf("invite %d: %d %s", i, r.status, r.body)
			}
		}
		r = send(5)
		wantProblem(t, r, 429, "open_invitation_limit")
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra <= 0 || ra > 30*24*3600 {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		if n := len(e.delivered()); n != 5 {
			t.Fatalf("%d invitations emailed, want the 5 sent", n)
		}
	})
}

func TestPartnershipLifecycleAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPshipEnv(t, engine)
		prov := e.provider("Fabrikam", "europe")
		res := e.reseller("Contoso", "FR")
		stranger := e.provider("Adatum", "europe")
		_, token := e.invite(prov.agent, "ops@contoso.example", "")
		v := pshipView(t, e.accept(res.ga, token))
		e.delivered()
		at := func(action string) string { return "/api/v1/partnerships/" + v.ID + "/" + action }

		// Either side reads it; anyone else gets 404.
		for _, tok := range []string{prov.ga, res.agent, e.member(res.org, csphub.RoleSalesAgent)} {
			if got := pshipView(t, e.do("GET", "/api/v1/partnerships/"+v.ID, tok, "")); got.ID != v.ID {
				t.Fatalf("get: %+v", got)
			}
		}
		for _, tok := range []string{stranger.ga, e.root} {
			wantProblem(t, e.do("GET", "/api/v1/partnerships/"+v.ID, tok, ""), 404, "partnership_not_found")
		}
		wantProblem(t, e.do("GET", "/api/v1/partnerships/"+csphub.NewID(), prov.ga, ""), 404, "partnership_not_found")

		// Suspension and reactivation: the provider's.
		wantProblem(t, e.do("POST", at("suspend"), res.ga, `{}`), 403, "provider_only")
		wantProblem(t, e.do("POST", at("suspend"), stranger.ga, `{}`), 404, "partnership_not_found")
		wantProblem(t, e.do("POST", at("suspend"), e.member(prov.org, csphub.RoleSalesAgent), `{}`), 403, "missing_role")
		wantProblem(t, e.do("POST", at("reactivate"), prov.ga, ""), 409, "invalid_transition")
		if s := pshipView(t, e.do("POST", at("suspend"), prov.agent, `{"reason":"Unpaid invoices"}`)); s.State != csphub.PartnershipSuspended {
			t.Fatalf("suspend: %+v", s)
		}
		wantProblem(t, e.do("POST", at("suspend"), prov.agent, `{}`), 409, "invalid_transition")
		wantProblem(t, e.do("POST", at("cancel"), prov.agent, ""), 409, "invalid_transition")
		if len(e.delivered()) != 2 {
			t.Fatal("both sides are not told of the suspension")
		}
		if r := pshipView(t, e.do("POST", at("reactivate"), prov.ga, "")); r.State != csphub.PartnershipActive {
			t.Fatalf("reactivate: %+v", r)
		}

		// Termination: either side, with a reason.
		wantFieldCodes(t, e.do("POST", at("terminate"), res.ga, `{}`), "reason/required")
		wantFieldCodes(t, e.do("POST", at("terminate"), res.ga, `{"reason":" "}`), "reason/required")
		wantProblem(t, e.do("POST", at("terminate"), stranger.ga, `{"reason":"x"}`), 404, "partnership_not_found")
		term := pshipView(t, e.do("POST", at("terminate"), res.ga, `{"reason":"Moving on"}`))
		if term.State != csphub.PartnershipTerminated || term.EndedReason != "Moving on" || term.EndedByOrg != res.org.ID || term.Grant != nil {
			t.Fatalf("terminate: %+v", term)
		}
		for _, action := range []string{"terminate", "suspend", "reactivate", "cancel"} {
			wantProblem(t, e.do("POST", at(action), prov.ga, `{"reason":"again"}`), 409, "invalid_transition")
		}
		for _, m := range e.delivered() {
			if m.Template != "partnership_status" || !strings.Contains(m.Text, "Moving on") && !strings.Contains(m.Text, "reactivated") {
				t.Fatalf("email: %+v", m)
			}
		}
	})
}

// A hundred acceptances of one link at once: one relationship.
func TestPartnershipAcceptanceConcurrencyAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPshipEnv(t, engine)
		prov := e.provider("Fabrikam", "europe")
		res := e.reseller("Contoso", "FR")
		_, token := e.invite(prov.agent, "ops@contoso.example", "")
		statuses := make([]int, 100)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/reseller-invitations/"+token+"/acceptance", strings.NewReader(`{"authorize":true}`))
				req.Header.Set("Authorization", "Bearer "+res.agent)
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
		var page service.PartnershipPage
		e.do("GET", "/api/v1/indirect-providers", res.ga, "").json(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("relationships: %+v", page)
		}
	})
}

func TestPartnershipListsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPshipEnv(t, engine)
		prov := e.provider("Fabrikam", "europe")
		prov2 := e.provider("Adatum", "europe")
		a, b := e.reseller("Contoso", "FR"), e.reseller("Contour", "FR")
		c := e.reseller("Litware", "FR")
		for _, r := range []pshipParty{a, b} {
			_, tok := e.invite(prov.agent, "ops@"+r.org.Domain, "")
			pshipView(t, e.accept(r.agent, tok))
			e.clock.Advance(time.Minute)
		}
		_, tok := e.invite(prov2.agent, "ops@"+a.org.Domain, "")
		pshipView(t, e.accept(a.agent, tok))
		e.invite(prov.agent, "ops@"+c.org.Domain, c.partnerID)

		list := func(path, tok string) service.PartnershipPage {
			t.Helper()
			r := e.do("GET", path, tok, "")
			if r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			var p service.PartnershipPage
			r.json(t, &p)
			return p
		}
		// Newest first, in pages.
		p := list("/api/v1/indirect-resellers?page_size=2", prov.ga)
		if len(p.Items) != 2 || p.Items[0].InvitedPartnerID != c.partnerID || p.Items[1].ResellerName != "Contour" || p.NextPageToken == "" {
			t.Fatalf("page 1: %+v", p)
		}
		p = list("/api/v1/indirect-resellers?page_size=2&page_token="+p.NextPageToken, prov.ga)
		if len(p.Items) != 1 || p.Items[0].ResellerName != "Contoso" || p.NextPageToken != "" || p.Items[0].Grant == nil ||
			p.Items[0].ResellerPartnerID != a.partnerID || p.Items[0].AcceptedAt == nil || p.Items[0].Region != "europe" {
			t.Fatalf("page 2: %+v", p)
		}
		// Search and filter.
		if p := list("/api/v1/indirect-resellers?q=CONT&state=active", prov.agent); len(p.Items) != 2 {
			t.Fatalf("search: %+v", p)
		}
		if p := list("/api/v1/indirect-resellers?q="+b.partnerID, prov.agent); len(p.Items) != 1 || p.Items[0].ResellerName != "Contour" {
			t.Fatalf("by partner ID: %+v", p)
		}
		if p := list("/api/v1/indirect-resellers?state=invited", prov.agent); len(p.Items) != 1 || p.Items[0].InvitedPartnerID != c.partnerID {
			t.Fatalf("invited: %+v", p)
		}
		// The reseller's side.
		p = list("/api/v1/indirect-providers", a.agent)
		if len(p.Items) != 2 || p.Items[0].ProviderName != "Adatum" || p.Items[1].ProviderName != "Fabrikam" || p.Items[1].ProviderPartnerID != prov.partnerID {
			t.Fatalf("reseller: %+v", p)
		}
		if p := list("/api/v1/indirect-providers?q=fab", e.member(a.org, csphub.RoleHelpdeskAgent)); len(p.Items) != 1 {
			t.Fatalf("reseller search: %+v", p)
		}
		// Another partner's lists hold none of it.
		if p := list("/api/v1/indirect-providers", c.ga); len(p.Items) != 0 {
			t.Fatalf("uninvolved reseller: %+v", p)
		}
		if p := list("/api/v1/indirect-resellers", prov2.ga); len(p.Items) != 1 || p.Items[0].ResellerName != "Contoso" {
			t.Fatalf("other provider: %+v", p)
		}
		wantFieldCodes(t, e.do("GET", "/api/v1/indirect-resellers?page_token=zzz", prov.ga, ""), "page_token/invalid_page_token")
		wantProblem(t, e.do("GET", "/api/v1/indirect-resellers?state=gone", prov.ga, ""), 422, "invalid_input")
		wantProblem(t, e.do("GET", "/api/v1/indirect-providers", "", ""), 401, "unauthenticated")
		wantProblem(t, e.do("GET", "/api/v1/indirect-providers", e.root, ""), 403, "partner_required")
	})
}

// The journey through the real sign-up, enrollment and review: a provider
// invites, the reseller opens the link from its mailbox, ticks the box and
// authorizes; both lists show the other party.
func TestPartnershipJourneyAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		provRes, provider := w.approvedReseller("jeanne@contoso.example", "jeanne.martin@contoso.example")
		r := w.do("POST", "/api/v1/enrollments", provider, `{"program":"indirect_provider","support_contact":{"email":"help@contoso.example","phone":"+33 1 23 45 67 99"}}`)
		if r.status != 201 {
			t.Fatalf("apply as provider: %d %s", r.status, r.body)
		}
		var applied service.EnrollResult
		r.json(t, &applied)
		if r := w.decide(w.reviewer, applied.Enrollment.ID, "approve", "Distributor confirmed"); r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		// Not before the operator authorizes regions and the agreement is accepted.
		wantProblem(t, w.do("POST", "/api/v1/reseller-invitations", provider, pshipInviteBody("owner@fabrikam.example", "")), 409, "agreement_not_accepted")
		if r := w.do("PUT", "/api/v1/operator/providers/"+provRes.Organization.ID+"/regions", w.root, `{"regions":["europe"]}`); r.status != 200 {
			t.Fatalf("regions: %d %s", r.status, r.body)
		}
		var ag csphub.Agreement
		r = w.do("POST", "/api/v1/operator/agreements", w.root, publishBody("2026-11", w.clock.Now().Add(-time.Hour).Format(time.RFC3339), "europe"))
		r.json(t, &ag)
		if r := w.do("POST", "/api/v1/agreements/"+ag.ID+"/acceptances", provider, signerBody); r.status != 201 && r.status != 200 {
			t.Fatalf("accept the agreement: %d %s", r.status, r.body)
		}
		w.mail()

		r = w.do("POST", "/api/v1/reseller-invitations", provider, pshipInviteBody("owner@fabrikam.example", ""))
		if r.status != 201 {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		var token string
		for _, m := range w.mail() {
			if l := pshipLink.FindStringSubmatch(m.Text); l != nil && m.To == "owner@fabrikam.example" {
				token = l[1]
			}
		}
		if token == "" {
			t.Fatal("no invitation in the mailbox")
		}

		// The reseller signs up and enrols, then opens the link.
		app := newApplication("ops@fabrikam.example").withAccount("owner@fabrikam.example").set("legal_name", "Fabrikam SARL").set("account.domain", "fabrikam.example")
		res, verifyToken := w.enrol("", app)
		if r := w.verify(res.Enrollment.ID, verifyToken); r.status != 200 {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		reseller := w.session("owner@fabrikam.example", true)
		if r := w.do("GET", "/api/v1/reseller-invitations/"+token, "", ""); r.status != 200 {
			t.Fatalf("open the link: %d %s", r.status, r.body)
		}
		v := pshipView(t, w.do("POST", "/api/v1/reseller-invitations/"+token+"/acceptance", reseller, `{"authorize":true}`))
		if v.State != csphub.PartnershipActive || v.ResellerID != res.Organization.ID || v.Grant == nil {
			t.Fatalf("authorized: %+v", v)
		}
		var page service.PartnershipPage
		w.do("GET", "/api/v1/indirect-providers", reseller, "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ProviderName != provRes.Organization.Name {
			t.Fatalf("reseller's providers: %+v", page)
		}
		w.do("GET", "/api/v1/indirect-resellers", provider, "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ResellerName != res.Organization.Name || page.Items[0].ResellerID != res.Organization.ID {
			t.Fatalf("provider's resellers: %+v", page)
		}
		to := map[string]bool{}
		for _, m := range w.mail() {
			to[m.To] = m.Template == "partnership_status"
		}
		if !to["jeanne@contoso.example"] || !to["owner@fabrikam.example"] {
			t.Fatalf("acceptance emails: %v", to)
		}
	})
}
