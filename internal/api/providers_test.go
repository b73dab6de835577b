package api_test

import (
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// approvedReseller enrols a visitor's new organization, confirms its
// contact and has the reviewer approve it; it returns the enrollment and a
// session of its global admin.
func (w *enrollmentWorld) approvedReseller(adminEmail, contactEmail string) (service.EnrollResult, string) {
	w.t.Helper()
	res, token := w.enrol("", newApplication(contactEmail).withAccount(adminEmail))
	if r := w.verify(res.Enrollment.ID, token); r.status != 200 {
		w.t.Fatalf("verify: %d %s", r.status, r.body)
	}
	if r := w.decide(w.reviewer, res.Enrollment.ID, "approve", ""); r.status != 200 {
		w.t.Fatalf("approve: %d %s", r.status, r.body)
	}
	return res, w.session(adminEmail, true)
}

const providerApplication = `{"program":"indirect_provider","support_contact":{"email":"help@contoso.example","phone":"+33 1 23 45 67 99","website":"https://contoso.example/help"}}`

// An approved reseller applies as an indirect provider with its support
// contact alone; what was verified is not verified again; the operator
// approves and authorizes regions.
func TestBecomingAnIndirectProvider(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)

		// Not before the reseller membership is approved, and never as a visitor.
		res, _ := w.enrol("", newApplication("ops@fabrikam.example").withAccount("owner@fabrikam.example"))
		pending := w.session("owner@fabrikam.example", true)
		wantProblem(t, w.do("POST", "/api/v1/enrollments", pending, providerApplication), 409, "reseller_not_approved")
		p := wantProblem(t, w.do("POST", "/api/v1/enrollments", "", providerApplication), 422, "invalid_input")
		if p.Errors[0].Field != "account" {
			t.Fatalf("%+v", p)
		}
		wantProblem(t, w.do("PUT", "/api/v1/operator/providers/"+res.Organization.ID+"/regions", w.root, `{"regions":["europe"]}`), 404, "provider_not_found")

		reseller, admin := w.approvedReseller("jeanne@contoso.example", "jeanne.martin@contoso.example")
		org := reseller.Organization.ID
		p = wantProblem(t, w.do("POST", "/api/v1/enrollments", admin, `{"program":"indirect_provider","support_contact":{"email":"help","phone":"12"}}`), 422, "invalid_input")
		if len(p.Errors) != 2 {
			t.Fatalf("%+v", p)
		}
		r := w.do("POST", "/api/v1/enrollments", admin, providerApplication)
		if r.status != 201 {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		var applied service.EnrollResult
		r.json(t, &applied)
		e := applied.Enrollment
		if e.Program != csphub.ProgramIndirectProvider || e.State != csphub.EnrollmentInReview || states(e) != "submitted>in_review" ||
			checkOf(e, csphub.CheckEmailOwnership).Status != csphub.CheckPassed || checkOf(e, csphub.CheckBusiness).Status != csphub.CheckPending ||
			e.Profile.SupportContact.Phone != "+33123456799" {
			t.Fatalf("provider application: %+v", e)
		}
		wantProblem(t, w.do("POST", "/api/v1/enrollments", admin, providerApplication), 409, "enrollment_exists")
		if r := w.decide(w.reviewer, e.ID, "approve", "Distributor confirmed"); r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}

		// Regional authorization: operator admins only, known regions only.
		path := "/api/v1/operator/providers/" + org + "/regions"
		wantProblem(t, w.do("PUT", path, w.reviewer, `{"regions":["europe"]}`), 403, "missing_role")
		wantProblem(t, w.do("PUT", path, admin, `{"regions":["europe"]}`), 403, "missing_role")
		p = wantProblem(t, w.do("PUT", path, w.root, `{"regions":["europe","atlantis"]}`), 422, "invalid_input")
		if p.Errors[0].Field != "regions[1]" || p.Errors[0].Code != "unknown_region" {
			t.Fatalf("%+v", p)
		}
		var v service.ProviderView
		r = w.do("PUT", path, w.root, `{"regions":["europe","north_america","europe"]}`)
		r.json(t, &v)
		if r.status != 200 || len(v.Regions) != 2 || v.Regions[0] != "europe" || v.Region != "europe" || v.PartnerID == "" {
			t.Fatalf("authorize: %d %s", r.status, r.body)
		}
		r = w.do("PUT", path, w.root, `{"regions":["asia_pacific"]}`)
		r.json(t, &v)
		if len(v.Regions) != 1 || v.Regions[0] != "asia_pacific" {
			t.Fatalf("replace: %s", r.body)
		}
		r = w.do("GET", "/api/v1/operator/providers/"+org, w.reviewer, "")
		r.json(t, &v)
		if r.status != 200 || len(v.Regions) != 1 {
			t.Fatalf("get: %d %s", r.status, r.body)
		}

		var prof service.PartnerProfileView
		w.do("GET", "/api/v1/partner-profile", admin, "").json(t, &prof)
		if prof.AccountType != "indirect_provider" || len(prof.Memberships) != 2 {
			t.Fatalf("profile: %+v", prof)
		}
		types := map[string]int{}
		for _, ev := range w.eventsOf(admin) {
			types[ev.Type]++
		}
		if types["provider.regions_changed"] != 2 {
			t.Fatalf("events: %v", types)
		}
	})
}

// The operator edits the regions and markets; partners follow their
// country to its region.
func TestOperatorEditsRegionsAndMarkets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		_, admin := w.approvedReseller("jeanne@contoso.example", "jeanne.martin@contoso.example")

		wantProblem(t, w.do("PUT", "/api/v1/operator/regions/nordics", admin, `{"name":"Nordics"}`), 403, "missing_role")
		p := wantProblem(t, w.do("PUT", "/api/v1/operator/regions/No Way", w.root, `{"name":""}`), 422, "invalid_input")
		if len(p.Errors) != 2 {
			t.Fatalf("%+v", p)
		}
		if r := w.do("PUT", "/api/v1/operator/regions/western_europe", w.root, `{"name":"Western Europe"}`); r.status != 200 {
			t.Fatalf("region: %d %s", r.status, r.body)
		}
		p = wantProblem(t, w.do("PUT", "/api/v1/operator/markets/FR", w.root, `{"region":"atlantis","currency":"EUR"}`), 422, "invalid_input")
		if p.Errors[0].Code != "unknown_region" {
			t.Fatalf("%+v", p)
		}
		p = wantProblem(t, w.do("PUT", "/api/v1/operator/markets/ZZ", w.root, `{"region":"europe","currency":"XYZ"}`), 422, "invalid_input")
		if len(p.Errors) != 2 {
			t.Fatalf("%+v", p)
		}
		if r := w.do("PUT", "/api/v1/operator/markets/FR", w.root, `{"region":"western_europe","currency":"EUR"}`); r.status != 200 {
			t.Fatalf("market: %d %s", r.status, r.body)
		}
		var prof service.PartnerProfileView
		w.do("GET", "/api/v1/partner-profile", admin, "").json(t, &prof)
		if prof.Agreement.Region != "western_europe" {
			t.Fatalf("the partner's region: %q", prof.Agreement.Region)
		}
		var regions struct{ Items []service.RegionView }
		w.do("GET", "/api/v1/regions", "", "").json(t, &regions)
		found := false
		for _, r := range regions.Items {
			if r.Code == "western_europe" && len(r.Markets) == 1 && r.Markets[0].Country == "FR" {
				found = true
			}
		}
		if !found {
			t.Fatalf("regions: %+v", regions)
		}
		wantProblem(t, w.do("DELETE", "/api/v1/operator/markets/FR", w.root, ""), 409, "market_in_use")
		if r := w.do("DELETE", "/api/v1/operator/markets/DK", w.root, ""); r.status != 204 {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("DELETE", "/api/v1/operator/markets/DK", w.root, ""), 404, "market_not_found")
	})
}

// A new legal country moves an application in review to that country's
// queue; a provider application whose contact changed since the reseller
// approval waits for the new address to be confirmed.
func TestProfileChangesReachOpenApplications(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newEnrollmentWorld(t, engine)
		res, token := w.enrol("", newApplication("jeanne.martin@contoso.example").withAccount("jeanne@contoso.example"))
		if r := w.verify(res.Enrollment.ID, token); r.status != 200 {
			t.Fatal(r.status)
		}
		partner := w.session("jeanne@contoso.example", true)
		r := w.do("PATCH", "/api/v1/partner-profile", partner, `{"address":{"line1":"Hauptstr. 1","city":"Berlin","postal_code":"10115","country":"DE"},`+
			`"primary_contact":{"first_name":"Jeanne","last_name":"Martin","email":"jeanne.martin@contoso.example","phone":"+49 30 901820","lang":"fr"},`+
			`"support_contact":{"email":"support@contoso.example","phone":"+49 30 901821"}}`)
		if r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		var q service.ReviewQueuePage
		w.do("GET", "/api/v1/operator/enrollments?country=DE", w.reviewer, "").json(t, &q)
		if len(q.Items) != 1 || q.Items[0].ID != res.Enrollment.ID || q.Items[0].State != csphub.EnrollmentInReview {
			t.Fatalf("DE queue: %+v", q.Items)
		}
		w.do("GET", "/api/v1/operator/enrollments?country=FR", w.reviewer, "").json(t, &q)
		if len(q.Items) != 0 {
			t.Fatalf("FR queue: %+v", q.Items)
		}

		_, admin := w.approvedReseller("owner@northwind.example", "ops@northwind.example")
		r = w.do("PATCH", "/api/v1/partner-profile", admin, `{"primary_contact":{"first_name":"Paul","last_name":"Durand","email":"paul@northwind.example","phone":"+33 1 23 45 67 81"}}`)
		if r.status != 200 {
			t.Fatalf("new contact: %d %s", r.status, r.body)
		}
		w.mail()
		r = w.do("POST", "/api/v1/enrollments", admin, providerApplication)
		var applied service.EnrollResult
		r.json(t, &applied)
		if r.status != 201 || applied.Enrollment.State != csphub.EnrollmentEmailVerification ||
			checkOf(applied.Enrollment, csphub.CheckEmailOwnership).Status != csphub.CheckPending {
			t.Fatalf("provider application with an unconfirmed contact: %d %s", r.status, r.body)
		}
		wantProblem(t, w.decide(w.reviewer, applied.Enrollment.ID, "approve", ""), 409, "invalid_transition")
		if r := w.verify(applied.Enrollment.ID, w.verificationToken("paul@northwind.example")); r.status != 200 {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		if r := w.decide(w.reviewer, applied.Enrollment.ID, "approve", ""); r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
	})
}
