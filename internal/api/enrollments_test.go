package api_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/password"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var verificationLink = regexp.MustCompile(`/enrollments/verify/([A-Za-z0-9_-]{43})`)

// enrollmentWorld is a deployment with an operator (an admin and a
// verification reviewer, MFA passed) and imported partner IDs.
type enrollmentWorld struct {
	*userWorld
	root, reviewer string
	claims         map[string]string // partner ID -> claim code
}

func newEnrollmentWorld(t *testing.T, engine string) *enrollmentWorld {
	t.Helper()
	w := &enrollmentWorld{userWorld: newUserWorld(t, engine), claims: map[string]string{}}
	ctx := context.Background()
	op, _, err := w.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.Hash(strongPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.Write(ctx, func(tx *store.Tx) error {
		return tx.InsertUser(store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: op.ID, Email: "root@operator.example", Name: "Root",
			Lang: "en", Status: csphub.UserActive, Roles: []string{"operator_admin"}, CreatedAt: tx.Now()}, PasswordHash: hash})
	}); err != nil {
		t.Fatal(err)
	}
	w.root = w.session("root@operator.example", true)
	_, w.reviewer = w.member(w.root, "reviewer@operator.example", true, "verification_reviewer")
	w.importIDs(csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: op.ID, OrgKind: csphub.OrgOperator,
		Roles: []string{csphub.RoleOperatorAdmin}, MFAPassed: true}, []service.PartnerIDRow{
		{PartnerID: "4100001", LegalName: "Contoso SAS", Country: "FR", Status: "active"},
		{PartnerID: "4100002", LegalName: "Contoso SAS", Country: "FR", Status: "inactive"},
		{PartnerID: "4100003", LegalName: "Fabrikam GmbH", Country: "DE", Status: "active"},
		{PartnerID: "4100004", LegalName: "Northwind SARL", Country: "FR", Status: "active"},
	})
	return w
}

// importIDs imports partner IDs as the operator and keeps their claim codes.
func (w *enrollmentWorld) importIDs(op csphub.Actor, rows []service.PartnerIDRow) {
	w.t.Helper()
	out, err := w.svc.ImportPartnerIDs(context.Background(), op, rows)
	if err != nil || out.Refused != 0 {
		w.t.Fatalf("import partner IDs: %+v %v", out, err)
	}
	for _, r := range out.Results {
		w.claims[r.PartnerID] = r.ClaimCode
	}
}

// application is an enrollment body, as a map so that tests can break any
// field.
type application map[string]any

func newApplication(email string) application {
	return application{
		"program":    "indirect_reseller",
		"legal_name": "Contoso SAS",
		"address":    map[string]any{"line1": "12 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
		"primary_contact": map[string]any{"first_name": "Jeanne", "last_name": "Martin", "email": email,
			"phone": "01 23 45 67 89", "lang": "fr"},
		"support_contact": map[string]any{"email": "support@contoso.example", "phone": "+33 1 23 45 67 80", "website": "https://contoso.example/support"},
	}
}

// withAccount adds the work account a visitor creates.
func (a application) withAccount(email string) application {
	a["account"] = map[string]any{"domain": "contoso.example", "name": "Jeanne Martin", "email": email, "password": strongPassword, "lang": "fr"}
	return a
}

func (a application) set(path string, v any) application {
	m := map[string]any(a)
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	if v == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = v
	}
	return a
}

func (a application) json() string {
	b, _ := json.Marshal(map[string]any(a))
	return string(b)
}

// enrol applies and returns the result and the verification link's token.
func (w *enrollmentWorld) enrol(tok string, a application) (service.EnrollResult, string) {
	w.t.Helper()
	r := w.do("POST", "/api/v1/enrollments", tok, a.json())
	if r.status != 201 {
		w.t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	var out service.EnrollResult
	r.json(w.t, &out)
	return out, w.verificationToken(out.Enrollment.Profile.PrimaryContact.Email)
}

func (w *enrollmentWorld) verificationToken(email string) string {
	w.t.Helper()
	for _, m := range w.mail() {
		if m.To == email && m.Template == "enrollment_verification" {
			if l := verificationLink.FindStringSubmatch(m.Text); l != nil {
				return l[1]
			}
		}
	}
	w.t.Fatalf("no verification email to %s", email)
	return ""
}

func (w *enrollmentWorld) verify(id, token string) response {
	w.t.Helper()
	return w.do("POST", "/api/v1/enrollments/"+id+"/email-verification", "", `{"token":"`+token+`"}`)
}

func (w *enrollmentWorld) enrollment(tok, id string) service.EnrollmentView {
	w.t.Helper()
	r := w.do("GET", "/api/v1/enrollments/"+id, tok, "")
	if r.status != 200 {
		w.t.Fatalf("get enrollment: %d %s", r.status, r.body)
	}
	var v service.EnrollmentView
	r.json(w.t, &v)
	return v
}

func (w *enrollmentWorld) decide(tok, id, decision, reason string) response {
	w.t.Helper()
	b, _ := json.Marshal(map[string]string{"decision": decision, "reason": reason})
	return w.do("POST", "/api/v1/operator/enrollments/"+id+"/decision", tok, string(b))
}

// allAuditOf reads every audit record the caller's organization sees.
func (w *enrollmentWorld) allAuditOf(tok string) []csphub.AuditRecord {
	w.t.Helper()
	if err := w.svc.SequenceJournal(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	var p service.AuditPage
	r := w.do("GET", "/api/v1/audit-records?page_size=500", tok, "")
	if r.status != 200 {
		w.t.Fatalf("audit: %d %s", r.status, r.body)
	}
	r.json(w.t, &p)
	return p.Records
}

func checkOf(v service.EnrollmentView, name csphub.CheckName) csphub.EnrollmentCheck {
	for _, c := range v.Checks {
		if c.Name == name {
			return c
		}
	}
	return csphub.EnrollmentCheck{}
}

func states(v service.EnrollmentView) string {
	var s []string
	for _, h := range v.History {
		s = append(s, string(h.To))
	}
	return strings.Join(s, ">")
}

// The source document's journey through the API: a visitor enrols with a
// linked partner ID, the contact confirms their address, the reviewer asks
// for information, the partner answers, the reviewer approves; every
// transition is in the history, audited, emitted and emailed.
func TestEnrollmentJourney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		app := newApplication("jeanne.martin@contoso.example").withAccount("jeanne@contoso.example")
		app["partner_id"], app["claim_code"] = "4100001", strings.ToLower(w.claims["4100001"])
		res, token := w.enrol("", app)
		e := res.Enrollment
		if res.Organization == nil || res.User == nil || res.Organization.Country != "FR" || res.Organization.Name != "Contoso SAS" ||
			res.User.Roles[0] != "global_admin" {
			t.Fatalf("created: %+v %+v", res.Organization, res.User)
		}
		if e.State != csphub.EnrollmentEmailVerification || e.Profile.PartnerID != "4100001" || states(e) != "submitted>email_verification_pending" ||
			e.Profile.PrimaryContact.Phone != "+33123456789" || e.Profile.Address.PostalCode != "75002" {
			t.Fatalf("enrollment: %+v", e)
		}
		if want := csphub.AddBusinessDays(e.SubmittedAt, 5); !e.DueAt.Equal(want) || e.AgeDays != 0 || e.Overdue {
			t.Fatalf("due %v, want %v", e.DueAt, want)
		}
		if c := checkOf(e, csphub.CheckEmailOwnership); c.Status != csphub.CheckPending {
			t.Fatalf("email_ownership: %+v", c)
		}
		if c := checkOf(e, csphub.CheckEmailDomain); c.Status != csphub.CheckPassed {
			t.Fatalf("email_domain: %+v", c)
		}
		if c := checkOf(e, csphub.CheckPartnerIDLocation); c.Status != csphub.CheckPassed {
			t.Fatalf("partner_id_location: %+v", c)
		}
		partner := w.session("jeanne@contoso.example", true)
		if got := w.enrollment(partner, e.ID); got.ID != e.ID {
			t.Fatalf("own enrollment: %+v", got)
		}
		_, other := w.admin("partner", "owner@fabrikam.example")
		wantProblem(t, w.do("GET", "/api/v1/enrollments/"+e.ID, other, ""), 404, "enrollment_not_found")

		// Review cannot start before the contact confirms their address.
		wantProblem(t, w.decide(w.reviewer, e.ID, "approve", ""), 409, "invalid_transition")
		// The link is bound to its enrollment.
		_, otherToken := w.enrol(other, newApplication("ops@fabrikam.example").set("legal_name", "Fabrikam SARL"))
		wantProblem(t, w.verify(e.ID, otherToken), 404, "verification_link_not_found")
		if r := w.verify(e.ID, token); r.status != 200 {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		wantProblem(t, w.verify(e.ID, token), 409, "link_used")
		v := w.enrollment(partner, e.ID)
		if v.State != csphub.EnrollmentInReview || checkOf(v, csphub.CheckEmailOwnership).Status != csphub.CheckPassed {
			t.Fatalf("after verification: %+v", v)
		}

		// The queue: reviewers only, due first, filtered.
		var q service.ReviewQueuePage
		r := w.do("GET", "/api/v1/operator/enrollments?state=in_review", w.reviewer, "")
		r.json(t, &q)
		if r.status != 200 || len(q.Items) != 1 || q.Items[0].ID != e.ID || q.Items[0].PartnerID != "4100001" || q.Items[0].LegalName != "Contoso SAS" {
			t.Fatalf("queue: %d %s", r.status, r.body)
		}
		r = w.do("GET", "/api/v1/operator/enrollments?country=DE", w.reviewer, "")
		r.json(t, &q)
		if len(q.Items) != 0 {
			t.Fatalf("DE queue: %s", r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/operator/enrollments", partner, ""), 403, "missing_role")

		// A partner never decides, not even its own.
		wantProblem(t, w.decide(partner, e.ID, "approve", ""), 403, "missing_role")
		p := wantProblem(t, w.decide(w.reviewer, e.ID, "request_info", " "), 422, "invalid_input")
		if p.Errors[0].Field != "reason" {
			t.Fatalf("%+v", p)
		}
		wantProblem(t, w.decide(w.reviewer, e.ID, "reject", ""), 422, "invalid_input")
		if r := w.decide(w.reviewer, e.ID, "request_info", "Send the company registration number."); r.status != 200 {
			t.Fatalf("request info: %d %s", r.status, r.body)
		}
		// A status email at each change: in review, then the request.
		mail := w.mail()
		if len(mail) != 2 || !strings.Contains(mail[1].Text, "Send the company registration number.") {
			t.Fatalf("status emails: %+v", mail)
		}
		for _, m := range mail {
			if m.To != "jeanne.martin@contoso.example" || m.Template != "enrollment_status" || m.Lang != "fr" {
				t.Fatalf("status email: %+v", m)
			}
		}
		wantProblem(t, w.decide(w.reviewer, e.ID, "approve", ""), 409, "invalid_transition")
		wantProblem(t, w.do("POST", "/api/v1/enrollments/"+e.ID+"/info", partner, `{"message":""}`), 422, "invalid_input")
		if r := w.do("POST", "/api/v1/enrollments/"+e.ID+"/info", partner, `{"message":"RCS Paris 123 456 789"}`); r.status != 200 {
			t.Fatalf("answer: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("POST", "/api/v1/enrollments/"+e.ID+"/info", partner, `{"message":"again"}`), 409, "invalid_transition")
		if r := w.decide(w.reviewer, e.ID, "approve", "Registration checked"); r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		v = w.enrollment(partner, e.ID)
		if v.State != csphub.EnrollmentApproved || v.DecidedAt == nil || checkOf(v, csphub.CheckBusiness).Status != csphub.CheckPassed ||
			states(v) != "submitted>email_verification_pending>in_review>info_requested>in_review>approved" {
			t.Fatalf("approved: %+v (%s)", v, states(v))
		}
		last := v.History[len(v.History)-1]
		if last.ActorName != "reviewer@operator.example" && last.ActorName != "Robert Dupont" || last.Reason != "Registration checked" || last.From != csphub.EnrollmentInReview {
			t.Fatalf("last step: %+v", last)
		}
		wantProblem(t, w.decide(w.reviewer, e.ID, "reject", "too late"), 409, "invalid_transition")
		// A second application while one is approved.
		r = w.do("POST", "/api/v1/enrollments", partner, newApplication("jeanne.martin@contoso.example").json())
		wantProblem(t, r, 409, "enrollment_exists")

		// Program information and the next step.
		var prof service.PartnerProfileView
		r = w.do("GET", "/api/v1/partner-profile", partner, "")
		r.json(t, &prof)
		if r.status != 200 || prof.AccountType != "indirect_reseller" || len(prof.Memberships) != 1 || prof.Memberships[0].State != csphub.EnrollmentApproved ||
			prof.Profile.PartnerID != "4100001" || r.header.Get("ETag") == "" {
			t.Fatalf("profile: %d %s", r.status, r.body)
		}
		var ov service.PartnerOverview
		w.do("GET", "/api/v1/partner-overview", partner, "").json(t, &ov)
		if !ov.Enrolled || !ov.AdminAgentStep || !ov.CanAcceptAgreement || ov.Agreement.Signed {
			t.Fatalf("overview: %+v", ov)
		}

		// The global admin accepts the agreement of the partner's region:
		// Program information shows it signed.
		var ag csphub.Agreement
		r = w.do("POST", "/api/v1/operator/agreements", w.root, `{"version":"2026-11","title":"Partner agreement","body":"Terms.","regions":["europe"],"effective_at":"`+
			w.clock.Now().Add(-time.Hour).Format(time.RFC3339)+`"}`)
		if r.status != 201 {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
		r.json(t, &ag)
		r = w.do("POST", "/api/v1/agreements/"+ag.ID+"/acceptances", partner, `{"signer_name":"Jeanne Martin","signer_email":"jeanne@contoso.example","signer_phone":"+33 1 23 45 67 89"}`)
		if r.status != 201 && r.status != 200 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		r = w.do("GET", "/api/v1/partner-profile", partner, "")
		r.json(t, &prof)
		if !prof.Agreement.Signed || prof.Agreement.Region != "europe" || prof.Agreement.Current == nil || prof.Agreement.Current.Version != "2026-11" {
			t.Fatalf("program information: %+v", prof.Agreement)
		}
		// Once an admin agent, the step is done.
		me := w.enrollment(partner, e.ID).History[0].ActorID
		if r := w.do("PATCH", "/api/v1/users/"+me, partner, `{"roles":["global_admin","admin_agent"]}`); r.status != 200 {
			t.Fatalf("add admin agent: %d %s", r.status, r.body)
		}
		ov = service.PartnerOverview{}
		w.do("GET", "/api/v1/partner-overview", partner, "").json(t, &ov)
		if ov.AdminAgentStep || !ov.Agreement.Signed {
			t.Fatalf("overview after the steps: %+v", ov)
		}

		// After approval, a new legal name goes back to review.
		wantProblem(t, w.do("PATCH", "/api/v1/partner-profile", partner, `{"legal_name":"Contoso Europe SAS"}`, "If-Match", `"p0"`), 412, "stale_profile")
		r = w.do("PATCH", "/api/v1/partner-profile", partner, `{"legal_name":"Contoso Europe SAS"}`, "If-Match", r.header.Get("ETag"))
		if r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		v = w.enrollment(partner, e.ID)
		if v.State != csphub.EnrollmentInReview || v.DecidedAt != nil || checkOf(v, csphub.CheckBusiness).Status != csphub.CheckPending ||
			v.OrganizationName != "Contoso Europe SAS" {
			t.Fatalf("back to review: %+v", v)
		}

		// Every step is audited and published to the partner and the operator.
		types := map[string]int{}
		for _, ev := range w.eventsOf(partner) {
			types[ev.Type]++
		}
		for _, want := range []string{"enrollment.submitted", "enrollment.email_verification_pending", "enrollment.in_review",
			"enrollment.info_requested", "enrollment.approved", "partner_profile.updated"} {
			if types[want] == 0 {
				t.Errorf("partner saw no %s event: %v", want, types)
			}
		}
		opTypes := map[string]int{}
		for _, ev := range w.eventsOf(w.root) {
			opTypes[ev.Type]++
		}
		if opTypes["enrollment.approved"] != 1 || opTypes["enrollment.in_review"] < 2 {
			t.Errorf("operator events: %v", opTypes)
		}
		actions := map[string]int{}
		for _, a := range w.allAuditOf(partner) {
			actions[a.Action]++
		}
		if actions["enrollment.submit"] != 1 || actions["enrollment.transition"] < 2 || actions["partner_profile.update"] < 2 {
			t.Errorf("partner audit: %v", actions)
		}
		// B5: neither the claim code, the link nor the password is journaled.
		for _, table := range []string{"audit_records", "events", "partner_ids", "enrollment_email_tokens"} {
			dump, err := w.db.DumpForTest(table)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{w.claims["4100001"], token, strongPassword} {
				if strings.Contains(dump, secret) {
					t.Errorf("%s holds a secret", table)
				}
			}
		}
	})
}

// Every refusal names its field and writes nothing.
func TestEnrollmentValidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		if r := w.do("POST", "/api/v1/operator/webmail-domains", w.root, `{"domain":"mailinator.example"}`); r.status/100 != 2 {
			t.Fatalf("add web-mail domain: %d %s", r.status, r.body)
		}
		visitor := func(mod func(a application)) application {
			a := newApplication("jeanne.martin@contoso.example").withAccount("jeanne@contoso.example")
			mod(a)
			return a
		}
		cases := []struct {
			name        string
			app         application
			field, code string
		}{
			{"gmail", visitor(func(a application) { a.set("primary_contact.email", "jeanne@gmail.com") }), "primary_contact.email", "webmail_domain"},
			{"yahoo", visitor(func(a application) { a.set("primary_contact.email", "jeanne@yahoo.fr") }), "primary_contact.email", "webmail_domain"},
			{"hotmail", visitor(func(a application) { a.set("primary_contact.email", "jeanne@hotmail.co.uk") }), "primary_contact.email", "webmail_domain"},
			{"outlook", visitor(func(a application) { a.set("primary_contact.email", "jeanne@outlook.com") }), "primary_contact.email", "webmail_domain"},
			{"icloud", visitor(func(a application) { a.set("primary_contact.email", "jeanne@icloud.com") }), "primary_contact.email", "webmail_domain"},
			{"operator list", visitor(func(a application) { a.set("primary_contact.email", "jeanne@mailinator.example") }), "primary_contact.email", "webmail_domain"},
			{"bad email", visitor(func(a application) { a.set("primary_contact.email", "jeanne") }), "primary_contact.email", "invalid_email"},
			{"postal code", visitor(func(a application) { a.set("address.postal_code", "7500") }), "address.postal_code", ""},
			{"no postal code", visitor(func(a application) { a.set("address.postal_code", "") }), "address.postal_code", ""},
			{"state required", visitor(func(a application) {
				a.set("address", map[string]any{"line1": "1 Microsoft Way", "city": "Redmond", "postal_code": "98052", "country": "US"})
				a.set("primary_contact.phone", "+1 425 882 8080")
				a.set("support_contact.phone", "+1 425 882 8080")
			}), "address.state", ""},
			{"phone", visitor(func(a application) { a.set("primary_contact.phone", "12") }), "primary_contact.phone", ""},
			{"website", visitor(func(a application) { a.set("support_contact.website", "ftp://contoso.example") }), "support_contact.website", "invalid_url"},
			{"no legal name", visitor(func(a application) { a.set("legal_name", " ") }), "legal_name", "required"},
			{"country not served", visitor(func(a application) {
				a.set("address.country", "KP")
			}), "address.country", ""},
			{"wrong claim code", visitor(func(a application) { a["partner_id"], a["claim_code"] = "4100001", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-A" }), "claim_code", "claim_failed"},
			{"unknown partner ID", visitor(func(a application) { a["partner_id"], a["claim_code"] = "4999999", w.claims["4100001"] }), "claim_code", "claim_failed"},
			{"inactive partner ID", visitor(func(a application) { a["partner_id"], a["claim_code"] = "4100002", w.claims["4100002"] }), "partner_id", "partner_id_inactive"},
			{"partner ID elsewhere", visitor(func(a application) { a["partner_id"], a["claim_code"] = "4100003", w.claims["4100003"] }), "partner_id", "partner_id_location"},
			{"partner ID shape", visitor(func(a application) { a["partner_id"], a["claim_code"] = "0123", "x" }), "partner_id", "invalid_partner_id"},
			{"claim code missing", visitor(func(a application) { a["partner_id"] = "4100001" }), "claim_code", "required"},
			{"no account", newApplication("jeanne.martin@contoso.example"), "account", "required"},
			{"weak password", visitor(func(a application) { a.set("account.password", "short") }), "account.password", ""},
			{"bad domain", visitor(func(a application) { a.set("account.domain", "contoso") }), "account.domain", "invalid_domain"},
		}
		for _, c := range cases {
			p := wantProblem(t, w.do("POST", "/api/v1/enrollments", "", c.app.json()), 422, "invalid_input")
			found := false
			for _, f := range p.Errors {
				if f.Field == c.field && (c.code == "" || f.Code == c.code) && f.Message != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: want %s %s, got %+v", c.name, c.field, c.code, p.Errors)
			}
		}
		// Nothing was written: the account does not exist.
		if _, r := w.signIn("jeanne@contoso.example", strongPassword); r.status != 401 {
			t.Fatalf("a refused enrollment left an account: %d", r.status)
		}
		if m := w.mail(); len(m) != 0 {
			t.Fatalf("a refused enrollment sent mail: %+v", m)
		}

		// A signed-in global admin enrols its organization, only in its country.
		_, admin := w.admin("partner", "owner@northwind.example")
		p := wantProblem(t, w.do("POST", "/api/v1/enrollments", admin, newApplication("ops@northwind.example").withAccount("x@northwind.example").json()), 422, "invalid_input")
		if p.Errors[0].Field != "account" {
			t.Fatalf("%+v", p)
		}
		de := newApplication("ops@northwind.example").set("address", map[string]any{"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}).
			set("primary_contact.phone", "+49 30 901820").set("support_contact.phone", "+49 30 901820")
		p = wantProblem(t, w.do("POST", "/api/v1/enrollments", admin, de.json()), 422, "invalid_input")
		if p.Errors[0].Field != "address.country" || p.Errors[0].Code != "country_mismatch" {
			t.Fatalf("%+v", p)
		}
		// The partner ID of another organization cannot be linked twice.
		first := newApplication("ops@northwind.example")
		first["partner_id"], first["claim_code"] = "4100004", w.claims["4100004"]
		w.enrol(admin, first)
		_, second := w.admin("partner", "owner@tailspin.example")
		again := newApplication("ops@tailspin.example")
		again["partner_id"], again["claim_code"] = "4100004", w.claims["4100004"]
		p = wantProblem(t, w.do("POST", "/api/v1/enrollments", second, again.json()), 422, "invalid_input")
		if p.Errors[0].Code != "partner_id_taken" {
			t.Fatalf("%+v", p)
		}
		// One open application per organization and program.
		wantProblem(t, w.do("POST", "/api/v1/enrollments", admin, newApplication("ops@northwind.example").json()), 409, "enrollment_exists")
		// Only a global admin enrols.
		_, agentTok := w.member(admin, "agent@northwind.example", true, "admin_agent")
		wantProblem(t, w.do("POST", "/api/v1/enrollments", agentTok, newApplication("ops@northwind.example").json()), 403, "global_admin_required")
		// A customer cannot enrol in the partner program.
		_, customer := w.admin("customer", "owner@adatum.example")
		wantProblem(t, w.do("POST", "/api/v1/enrollments", customer, newApplication("ops@adatum.example").json()), 403, "global_admin_required")
	})
}

// Verification links per quality.md B1–B4: stored hashed, single-use under
// concurrency, expiring on the injected clock, bound to their enrollment;
// resending retires the earlier link and is throttled.
func TestEnrollmentEmailLinks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		res, token := w.enrol("", newApplication("jeanne.martin@contoso.example").withAccount("jeanne@contoso.example"))
		id := res.Enrollment.ID
		partner := w.session("jeanne@contoso.example", true)

		for _, table := range []string{"enrollment_email_tokens", "audit_records", "events"} {
			dump, err := w.db.DumpForTest(table)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(dump, token) {
				t.Fatalf("%s holds a usable verification link", table)
			}
		}

		// Expiry after 7 days.
		w.clock.Advance(7*24*time.Hour + time.Minute)
		wantProblem(t, w.verify(id, token), 409, "link_expired")
		partner = w.session("jeanne@contoso.example", true)
		// A new link retires the old one; resending is throttled.
		if r := w.do("POST", "/api/v1/enrollments/"+id+"/email-verification/requests", partner, ""); r.status != 202 {
			t.Fatalf("resend: %d %s", r.status, r.body)
		}
		fresh := w.verificationToken("jeanne.martin@contoso.example")
		r := w.do("POST", "/api/v1/enrollments/"+id+"/email-verification/requests", partner, "")
		wantProblem(t, r, 429, "resend_too_soon")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		w.clock.Advance(2 * time.Minute)
		if r := w.do("POST", "/api/v1/enrollments/"+id+"/email-verification/requests", partner, ""); r.status != 202 {
			t.Fatalf("resend: %d %s", r.status, r.body)
		}
		newest := w.verificationToken("jeanne.martin@contoso.example")
		wantProblem(t, w.verify(id, fresh), 409, "link_used")

		// 100 concurrent redemptions of one link: exactly one success.
		var wg sync.WaitGroup
		codes := make([]int, 100)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = w.verify(id, newest).status
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 409:
			default:
				t.Errorf("status %d", c)
			}
		}
		if ok != 1 {
			t.Fatalf("%d successes, want 1", ok)
		}
		v := w.enrollment(partner, id)
		if v.State != csphub.EnrollmentInReview || states(v) != "submitted>email_verification_pending>in_review" {
			t.Fatalf("after the race: %s", states(v))
		}
		wantProblem(t, w.do("POST", "/api/v1/enrollments/"+id+"/email-verification/requests", partner, ""), 409, "email_already_verified")
	})
}

// A rejected application ends with a reason the applicant sees, and the
// partner may apply again; a changed primary contact is verified again.
func TestEnrollmentRejectionAndNewContact(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		res, token := w.enrol("", newApplication("jeanne.martin@contoso.example").withAccount("jeanne@contoso.example"))
		id := res.Enrollment.ID
		partner := w.session("jeanne@contoso.example", true)
		if r := w.verify(id, token); r.status != 200 {
			t.Fatal(r.status)
		}
		// A new primary contact email sends the application back to email verification.
		r := w.do("PATCH", "/api/v1/partner-profile", partner, `{"primary_contact":{"first_name":"Paul","last_name":"Durand","email":"paul@contoso.example","phone":"+33 1 23 45 67 81","lang":"en"}}`)
		if r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		v := w.enrollment(partner, id)
		if v.State != csphub.EnrollmentEmailVerification || checkOf(v, csphub.CheckEmailOwnership).Status != csphub.CheckPending {
			t.Fatalf("after a new contact: %+v", v)
		}
		wantProblem(t, w.do("PATCH", "/api/v1/partner-profile", partner, `{"primary_contact":{"first_name":"Paul","last_name":"Durand","email":"paul@gmail.com","phone":"+33 1 23 45 67 81"}}`), 422, "invalid_input")
		if r := w.verify(id, w.verificationToken("paul@contoso.example")); r.status != 200 {
			t.Fatalf("verify new contact: %d %s", r.status, r.body)
		}
		if r := w.decide(w.reviewer, id, "reject", "The business could not be confirmed at this address."); r.status != 200 {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		v = w.enrollment(partner, id)
		if v.State != csphub.EnrollmentRejected || v.Reason != "The business could not be confirmed at this address." ||
			checkOf(v, csphub.CheckBusiness).Status != csphub.CheckFailed {
			t.Fatalf("rejected: %+v", v)
		}
		mail := w.mail()
		if len(mail) == 0 || mail[len(mail)-1].To != "paul@contoso.example" || mail[len(mail)-1].Lang != "en" {
			t.Fatalf("rejection email: %+v", mail)
		}
		// Applying again is allowed after a rejection, and keeps the partner ID.
		again, _ := w.enrol(partner, newApplication("paul@contoso.example"))
		if again.Enrollment.ID == id || again.Enrollment.Profile.PartnerID != v.Profile.PartnerID {
			t.Fatalf("second application: %+v", again.Enrollment)
		}
		var list struct{ Items []service.EnrollmentView }
		w.do("GET", "/api/v1/enrollments", partner, "").json(t, &list)
		if len(list.Items) != 2 || list.Items[0].ID != again.Enrollment.ID {
			t.Fatalf("list: %+v", list)
		}
	})
}

// mailSummary lists the queued emails as "template to", in order.
func mailSummary(mail []store.Email) []string {
	var out []string
	for _, m := range mail {
		out = append(out, m.Template+" "+m.To)
	}
	return out
}

// The transitions the journey does not take, and the refused ones: an
// answer that corrects the primary contact goes back to email
// verification; approving needs the address confirmed; after approval a
// new legal name with a new contact, then a new country, go back to
// review; a rejected application takes no decision, answer or new link.
// Each step emails the contact, and linking or issuing a partner ID is
// audited.
func TestEnrollmentTransitionsAndRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		app := newApplication("jeanne.martin@contoso.example").withAccount("jeanne@contoso.example")
		app["partner_id"], app["claim_code"] = "4100001", w.claims["4100001"]
		res, token := w.enrol("", app)
		id := res.Enrollment.ID
		partner := w.session("jeanne@contoso.example", true)
		if r := w.verify(id, token); r.status != 200 {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		w.mail()

		// Only reviewers and operator admins decide, on an application that exists.
		_, catalog := w.member(w.root, "cat@operator.example", true, "catalog_manager")
		wantProblem(t, w.decide(catalog, id, "approve", ""), 403, "missing_role")
		wantProblem(t, w.decide(w.reviewer, csphub.NewID(), "approve", ""), 404, "enrollment_not_found")
		wantProblem(t, w.decide(w.reviewer, id, "maybe", ""), 422, "invalid_input")
		if r := w.decide(w.reviewer, id, "request_info", "Who is the primary contact now?"); r.status != 200 {
			t.Fatalf("request info: %d %s", r.status, r.body)
		}
		w.mail()

		// The answer corrects the primary contact: back to email verification.
		r := w.do("POST", "/api/v1/enrollments/"+id+"/info", partner, `{"message":"Paul took over.","profile":{"primary_contact":`+
			`{"first_name":"Paul","last_name":"Durand","email":"paul@contoso.example","phone":"+33 1 23 45 67 81","lang":"en"}}}`)
		if r.status != 200 {
			t.Fatalf("answer with a new contact: %d %s", r.status, r.body)
		}
		var v service.EnrollmentView
		r.json(t, &v)
		if v.State != csphub.EnrollmentEmailVerification || checkOf(v, csphub.CheckEmailOwnership).Status != csphub.CheckPending ||
			v.Profile.PrimaryContact.Email != "paul@contoso.example" || v.History[len(v.History)-1].Reason != "Paul took over." {
			t.Fatalf("after the answer: %+v (%s)", v, states(v))
		}
		mail := w.mail()
		if got := mailSummary(mail); len(got) != 1 || got[0] != "enrollment_verification paul@contoso.example" {
			t.Fatalf("emails after the answer: %v", got)
		}
		paulToken := verificationLink.FindStringSubmatch(mail[0].Text)[1]
		wantProblem(t, w.decide(w.reviewer, id, "approve", ""), 409, "invalid_transition")
		if r := w.verify(id, paulToken); r.status != 200 {
			t.Fatalf("verify the new contact: %d %s", r.status, r.body)
		}
		mail = w.mail()
		if got := mailSummary(mail); len(got) != 1 || got[0] != "enrollment_status paul@contoso.example" || mail[0].Lang != "en" ||
			!strings.Contains(mail[0].Subject, "in review") {
			t.Fatalf("emails after the verification: %v %+v", got, mail)
		}

		// An operator admin decides too; the approval is emailed.
		wantProblem(t, w.decide(w.root, id, "reject", " "), 422, "invalid_input")
		if r := w.decide(w.root, id, "approve", ""); r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		mail = w.mail()
		if got := mailSummary(mail); len(got) != 1 || got[0] != "enrollment_status paul@contoso.example" ||
			!strings.Contains(mail[0].Subject, "approved") || !strings.Contains(mail[0].Text, "partner agreement") {
			t.Fatalf("approval email: %v %+v", got, mail)
		}

		// After approval, a new legal name and a new contact at once: back
		// to review, and no approval until the new address is confirmed.
		r = w.do("PATCH", "/api/v1/partner-profile", partner, `{"legal_name":"Contoso Europe SAS","primary_contact":`+
			`{"first_name":"Marie","last_name":"Leroy","email":"marie@contoso.example","phone":"+33 1 23 45 67 82","lang":"fr"}}`)
		if r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		v = w.enrollment(partner, id)
		if v.State != csphub.EnrollmentInReview || checkOf(v, csphub.CheckEmailOwnership).Status != csphub.CheckPending ||
			checkOf(v, csphub.CheckBusiness).Status != csphub.CheckPending || v.DecidedAt != nil {
			t.Fatalf("after a new legal name and contact: %+v", v)
		}
		mail = w.mail()
		got := mailSummary(mail)
		slices.Sort(got)
		if !slices.Equal(got, []string{"enrollment_status marie@contoso.example", "enrollment_verification marie@contoso.example"}) {
			t.Fatalf("emails after the change: %v", got)
		}
		var marieToken string
		for _, m := range mail {
			if m.Template == "enrollment_verification" {
				marieToken = verificationLink.FindStringSubmatch(m.Text)[1]
			} else if m.Lang != "fr" || !strings.Contains(m.Subject, "en cours de vérification") {
				t.Errorf("status email: %+v", m)
			}
		}
		wantProblem(t, w.verify(id, paulToken), 409, "link_used")
		wantProblem(t, w.decide(w.reviewer, id, "approve", ""), 409, "email_not_verified")
		// Confirming the address in review passes the check and moves nothing.
		steps := len(v.History)
		if r := w.verify(id, marieToken); r.status != 200 {
			t.Fatalf("verify in review: %d %s", r.status, r.body)
		}
		v = w.enrollment(partner, id)
		if v.State != csphub.EnrollmentInReview || len(v.History) != steps || checkOf(v, csphub.CheckEmailOwnership).Status != csphub.CheckPassed {
			t.Fatalf("after verifying in review: %+v", v)
		}
		if r := w.decide(w.reviewer, id, "approve", "New name checked"); r.status != 200 {
			t.Fatalf("approve again: %d %s", r.status, r.body)
		}
		w.mail()

		// A new country after approval: back to review, in the new
		// country's queue, with the partner ID's location to look at.
		r = w.do("PATCH", "/api/v1/partner-profile", partner, `{"address":{"line1":"Hauptstr. 1","city":"Berlin","postal_code":"10115","country":"DE"},`+
			`"primary_contact":{"first_name":"Marie","last_name":"Leroy","email":"marie@contoso.example","phone":"+49 30 901820","lang":"fr"},`+
			`"support_contact":{"email":"support@contoso.example","phone":"+49 30 901821"}}`)
		if r.status != 200 {
			t.Fatalf("patch the country: %d %s", r.status, r.body)
		}
		v = w.enrollment(partner, id)
		if v.State != csphub.EnrollmentInReview || v.Country != "DE" || checkOf(v, csphub.CheckPartnerIDLocation).Status != csphub.CheckAttention {
			t.Fatalf("after a new country: %+v", v)
		}
		var q service.ReviewQueuePage
		w.do("GET", "/api/v1/operator/enrollments?country=DE", w.reviewer, "").json(t, &q)
		if len(q.Items) != 1 || q.Items[0].ID != id {
			t.Fatalf("DE queue: %+v", q)
		}
		if got := mailSummary(w.mail()); len(got) != 1 || got[0] != "enrollment_status marie@contoso.example" {
			t.Fatalf("emails after the new country: %v", got)
		}
		if r := w.decide(w.reviewer, id, "reject", "The partner ID is located in France."); r.status != 200 {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		if got := mailSummary(w.mail()); len(got) != 1 || got[0] != "enrollment_status marie@contoso.example" {
			t.Fatalf("rejection email: %v", got)
		}

		// Rejected is final.
		for _, d := range []string{"approve", "reject", "request_info"} {
			wantProblem(t, w.decide(w.reviewer, id, d, "again"), 409, "invalid_transition")
		}
		wantProblem(t, w.do("POST", "/api/v1/enrollments/"+id+"/info", partner, `{"message":"please"}`), 409, "invalid_transition")
		wantProblem(t, w.do("POST", "/api/v1/enrollments/"+id+"/email-verification/requests", partner, ""), 409, "enrollment_closed")
		v = w.enrollment(partner, id)
		if want := "submitted>email_verification_pending>in_review>info_requested>email_verification_pending>in_review>approved>" +
			"in_review>approved>in_review>rejected"; states(v) != want || v.Reason != "The partner ID is located in France." {
			t.Fatalf("history %s, want %s", states(v), want)
		}
		types := map[string]int{}
		for _, ev := range w.eventsOf(partner) {
			types[ev.Type]++
		}
		if types["enrollment.rejected"] != 1 || types["enrollment.approved"] != 2 || types["enrollment.in_review"] != 4 ||
			types["enrollment.email_verification_pending"] != 2 || types["enrollment.info_requested"] != 1 {
			t.Errorf("events: %v", types)
		}

		// The linked partner ID is audited once; a partner without one is
		// issued one, audited too.
		_, admin := w.admin("partner", "owner@northwind.example")
		issued, _ := w.enrol(admin, newApplication("ops@northwind.example"))
		for _, c := range []struct {
			tok, action, id string
		}{{partner, "partner_id.link", "4100001"}, {admin, "partner_id.issue", issued.Enrollment.Profile.PartnerID}} {
			var found []string
			for _, a := range w.allAuditOf(c.tok) {
				if strings.HasPrefix(a.Action, "partner_id.") {
					found = append(found, a.Action+" "+a.ResourceID)
				}
			}
			if !slices.Equal(found, []string{c.action + " " + c.id}) {
				t.Errorf("partner ID audit: %v, want %s %s", found, c.action, c.id)
			}
		}
	})
}
