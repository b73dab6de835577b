package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// directoryWorld is a deployment where partners enrolled through the API:
// approved indirect providers authorized for regions, an approved
// reseller, and a reseller still waiting for its contact's confirmation.
type directoryWorld struct {
	*enrollmentWorld
}

// reseller enrols a new organization named legalName in France through
// the API, confirms its contact and has it approved; it returns the
// organization's id and a session of its global admin.
func (w *directoryWorld) reseller(legalName, adminEmail, contactEmail string) (string, string) {
	w.t.Helper()
	res, token := w.enrol("", newApplication(contactEmail).set("legal_name", legalName).withAccount(adminEmail))
	if r := w.verify(res.Enrollment.ID, token); r.status != 200 {
		w.t.Fatalf("verify: %d %s", r.status, r.body)
	}
	if r := w.decide(w.reviewer, res.Enrollment.ID, "approve", ""); r.status != 200 {
		w.t.Fatalf("approve: %d %s", r.status, r.body)
	}
	return res.Organization.ID, w.session(adminEmail, true)
}

// provider makes an approved reseller an approved indirect provider
// authorized for regions.
func (w *directoryWorld) provider(legalName, adminEmail, contactEmail string, regions ...string) (string, string) {
	w.t.Helper()
	org, admin := w.reseller(legalName, adminEmail, contactEmail)
	r := w.do("POST", "/api/v1/enrollments", admin, providerApplication)
	if r.status != 201 {
		w.t.Fatalf("apply as provider: %d %s", r.status, r.body)
	}
	var applied service.EnrollResult
	r.json(w.t, &applied)
	if r := w.decide(w.reviewer, applied.Enrollment.ID, "approve", ""); r.status != 200 {
		w.t.Fatalf("approve provider: %d %s", r.status, r.body)
	}
	b, _ := json.Marshal(map[string]any{"regions": regions})
	if r := w.do("PUT", "/api/v1/operator/providers/"+org+"/regions", w.root, string(b)); r.status != 200 {
		w.t.Fatalf("authorize regions: %d %s", r.status, r.body)
	}
	return org, admin
}

func (w *directoryWorld) listing(tok, ifMatch string, l map[string]any) response {
	w.t.Helper()
	b, _ := json.Marshal(l)
	if ifMatch == "" {
		return w.do("PUT", "/api/v1/provider-listing", tok, string(b))
	}
	return w.do("PUT", "/api/v1/provider-listing", tok, string(b), "If-Match", ifMatch)
}

func (w *directoryWorld) search(tok, query string) service.DirectoryPage {
	w.t.Helper()
	r := w.do("GET", "/api/v1/directory/providers"+query, tok, "")
	if r.status != 200 {
		w.t.Fatalf("search %s: %d %s", query, r.status, r.body)
	}
	var p service.DirectoryPage
	r.json(w.t, &p)
	return p
}

func providerNames(p service.DirectoryPage) []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.Name)
	}
	return out
}

func fieldCodes(p problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field+"/"+f.Code)
	}
	slices.Sort(out)
	return out
}

func auditActionsOf(records []csphub.AuditRecord) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.Action)
	}
	return out
}

func eventTypesOf(events []csphub.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

// The directory through the API: an approved provider edits and publishes
// its listing; a reseller finds it, the providers of its region first, and
// contacts it; the provider reads the request in its inbox and by email.
func TestProviderDirectoryJourney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := &directoryWorld{newEnrollmentWorld(t, engine)}
		bravo, bravoAdmin := w.provider("Bravo Cloud", "paul@bravo.example", "paul.durand@bravo.example", "europe")
		alpine, alpineAdmin := w.provider("Alpine Distribution", "anna@alpine.example", "anna.meier@alpine.example", "north_america")
		_, resellerAdmin := w.reseller("Contoso SAS", "jeanne@contoso.example", "jeanne.martin@contoso.example")
		_, resellerSales := w.member(resellerAdmin, "sam@contoso.example", true, csphub.RoleSalesAgent)
		_, bravoSales := w.member(bravoAdmin, "sales@bravo.example", true, csphub.RoleSalesAgent)
		w.enrol("", newApplication("pat.pending@fabrikam.example").set("legal_name", "Fabrikam SARL").withAccount("pat@fabrikam.example"))
		pendingAdmin := w.session("pat@fabrikam.example", true)
		w.mail()

		// The listing: approved providers only, admins edit, every field checked.
		wantProblem(t, w.do("GET", "/api/v1/provider-listing", resellerAdmin, ""), 409, "provider_not_approved")
		r := w.do("GET", "/api/v1/provider-listing", bravoSales, "")
		var l service.ProviderListing
		r.json(t, &l)
		if r.status != 200 || r.header.Get("ETag") != `"l0"` || l.Version != 0 || !slices.Equal(l.Regions, []string{"europe"}) {
			t.Fatalf("empty listing: %d %s", r.status, r.body)
		}
		full := map[string]any{"published": true, "description": "Training and support for resellers in France.",
			"website": "https://bravo.example", "contact_email": "partners@bravo.example", "contact_phone": "01 23 45 67 89",
			"languages": []string{"fr", "en"}, "services": []string{"technical_training", "technical_support"}, "markets": []string{"FR", "BE"}}
		wantProblem(t, w.listing(bravoSales, "", full), 403, "missing_role")
		wantProblem(t, w.listing(resellerAdmin, "", full), 409, "provider_not_approved")
		wantProblem(t, w.do("PUT", "/api/v1/provider-listing", bravoAdmin, `{"published":false}`, "On-Behalf-Of", alpine), 403, "delegation_not_allowed")
		p := wantProblem(t, w.listing(bravoAdmin, "", map[string]any{"published": true, "website": "http://bravo.example",
			"languages": []string{"xx"}, "services": []string{"catering"}, "markets": []string{"US"}, "contact_phone": "12"}), 422, "invalid_input")
		if got := fieldCodes(p); !slices.Equal(got, []string{"contact_email/required", "contact_phone/invalid_phone", "description/required",
			"languages[0]/unknown_language", "markets[0]/market_not_authorized", "services[0]/unknown_service", "website/invalid_url"}) {
			t.Fatalf("listing refusals: %v", got)
		}
		wantProblem(t, w.listing(bravoAdmin, `"l5"`, full), 412, "etag_mismatch")
		r = w.listing(bravoAdmin, `"l0"`, full)
		r.json(t, &l)
		if r.status != 200 || r.header.Get("ETag") != `"l1"` || l.ContactPhone != "+33123456789" || !l.Published ||
			!slices.Equal(l.Markets, []string{"BE", "FR"}) || !slices.Equal(l.Services, []string{"technical_training", "technical_support"}) {
			t.Fatalf("saved listing: %d %s", r.status, r.body)
		}
		if r := w.listing(alpineAdmin, "", map[string]any{"published": true, "description": "Financing across North America.",
			"contact_email": "partners@alpine.example", "services": []string{"financing"}, "markets": []string{"US", "CA"}}); r.status != 200 {
			t.Fatalf("alpine listing: %d %s", r.status, r.body)
		}

		// The directory: any partner user, own region first, filters, pages.
		if r := w.do("GET", "/api/v1/directory/providers", "", ""); r.status != 401 {
			t.Fatalf("anonymous search: %d", r.status)
		}
		d := w.search(resellerSales, "")
		if got := providerNames(d); !slices.Equal(got, []string{"Bravo Cloud", "Alpine Distribution"}) || d.YourRegion != "europe" ||
			!d.Items[0].InYourRegion || d.Items[1].InYourRegion || d.Items[0].ContactEmail != "partners@bravo.example" || d.Items[0].PartnerID == "" {
			t.Fatalf("directory: %+v", d)
		}
		if got := providerNames(w.search(resellerSales, "?region=north_america")); !slices.Equal(got, []string{"Alpine Distribution"}) {
			t.Fatalf("by region: %v", got)
		}
		if got := providerNames(w.search(resellerSales, "?service=technical_support")); !slices.Equal(got, []string{"Bravo Cloud"}) {
			t.Fatalf("by service: %v", got)
		}
		if got := providerNames(w.search(pendingAdmin, "?q=alp")); !slices.Equal(got, []string{"Alpine Distribution"}) {
			t.Fatalf("by name: %v", got)
		}
		first := w.search(resellerSales, "?page_size=1")
		second := w.search(resellerSales, "?page_size=1&page_token="+first.NextPageToken)
		if len(first.Items) != 1 || first.Items[0].Name != "Bravo Cloud" || len(second.Items) != 1 || second.Items[0].Name != "Alpine Distribution" ||
			second.NextPageToken != "" {
			t.Fatalf("pages: %+v %+v", first, second)
		}
		p = wantProblem(t, w.do("GET", "/api/v1/directory/providers?region=atlantis&service=catering", resellerSales, ""), 422, "invalid_input")
		if got := fieldCodes(p); !slices.Equal(got, []string{"region/unknown_region", "service/unknown_service"}) {
			t.Fatalf("search refusals: %v", got)
		}
		wantProblem(t, w.do("GET", "/api/v1/directory/providers", w.root, ""), 403, "partner_required")
		// An unpublished listing leaves the directory.
		if r := w.listing(alpineAdmin, "", map[string]any{"published": false}); r.status != 200 {
			t.Fatalf("unpublish: %d %s", r.status, r.body)
		}
		if got := providerNames(w.search(resellerSales, "")); !slices.Equal(got, []string{"Bravo Cloud"}) {
			t.Fatalf("after unpublishing: %v", got)
		}

		// Contact requests: approved resellers, published listings.
		path := "/api/v1/directory/providers/" + bravo + "/contact-requests"
		wantProblem(t, w.do("POST", path, pendingAdmin, `{"message":"Hello"}`), 409, "reseller_not_approved")
		wantProblem(t, w.do("POST", "/api/v1/directory/providers/"+alpine+"/contact-requests", resellerSales, `{"message":"Hello"}`), 404, "provider_not_found")
		wantProblem(t, w.do("POST", "/api/v1/directory/providers/"+csphub.NewID()+"/contact-requests", resellerSales, `{"message":"Hello"}`), 404, "provider_not_found")
		wantProblem(t, w.do("POST", path, resellerSales, `{"message":""}`), 422, "invalid_input")
		wantProblem(t, w.do("POST", path, resellerSales, `{"message":"   "}`), 422, "invalid_input")
		wantProblem(t, w.do("POST", path, bravoAdmin, `{"message":"Hello"}`), 422, "own_listing")
		r = w.do("POST", path, resellerSales, `{"message":"We sell in Lyon. Can you train our team?"}`)
		var sent service.ContactRequestView
		r.json(t, &sent)
		if r.status != 201 || sent.ResellerName != "Contoso SAS" || sent.SenderEmail != "sam@contoso.example" || sent.ProviderName != "Bravo Cloud" {
			t.Fatalf("send: %d %s", r.status, r.body)
		}
		var mailed bool
		for _, m := range w.mail() {
			if m.To == "partners@bravo.example" && m.Template == "contact_request" && strings.Contains(m.Text, "Can you train our team?") &&
				strings.Contains(m.Text, "sam@contoso.example") && strings.Contains(m.Text, "/partner/inbox") {
				mailed = true
			}
		}
		if !mailed {
			t.Fatal("no contact request email to the listing's contact")
		}

		// The inbox: the provider's users; another provider finds nothing.
		wantProblem(t, w.do("GET", "/api/v1/contact-requests", resellerAdmin, ""), 409, "provider_not_approved")
		var inbox service.ContactRequestPage
		r = w.do("GET", "/api/v1/contact-requests", bravoSales, "")
		r.json(t, &inbox)
		if r.status != 200 || len(inbox.Items) != 1 || inbox.Items[0].ID != sent.ID || inbox.Items[0].ReadAt != nil {
			t.Fatalf("inbox: %d %s", r.status, r.body)
		}
		w.do("GET", "/api/v1/contact-requests", alpineAdmin, "").json(t, &inbox)
		if len(inbox.Items) != 0 {
			t.Fatalf("another provider's inbox: %+v", inbox)
		}
		wantProblem(t, w.do("POST", "/api/v1/contact-requests/"+sent.ID+"/read", alpineAdmin, ""), 404, "contact_request_not_found")
		r = w.do("POST", "/api/v1/contact-requests/"+sent.ID+"/read", bravoSales, "")
		var read service.ContactRequestView
		r.json(t, &read)
		if r.status != 200 || read.ReadAt == nil {
			t.Fatalf("read: %d %s", r.status, r.body)
		}

		// A retried request with the same key is sent once.
		key := csphub.NewID()
		a := w.do("POST", path, resellerSales, `{"message":"Retried"}`, "Idempotency-Key", key)
		b := w.do("POST", path, resellerSales, `{"message":"Retried"}`, "Idempotency-Key", key)
		var ra, rb service.ContactRequestView
		a.json(t, &ra)
		b.json(t, &rb)
		if a.status != 201 || b.status != 201 || ra.ID != rb.ID {
			t.Fatalf("idempotent send: %d %d %s %s", a.status, b.status, ra.ID, rb.ID)
		}
		// Ten a day per reseller: two sent, eight more, then 429.
		for i := 0; i < 8; i++ {
			if r := w.do("POST", path, resellerAdmin, `{"message":"Again"}`); r.status != 201 {
				t.Fatalf("request %d: %d %s", i, r.status, r.body)
			}
		}
		r = w.do("POST", path, resellerSales, `{"message":"One too many"}`)
		wantProblem(t, r, 429, "contact_request_limit")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}

		if got := auditActionsOf(w.allAuditOf(bravoAdmin)); !slices.Contains(got, "provider_listing.update") || !slices.Contains(got, "contact_request.read") {
			t.Fatalf("provider's audit: %v", got)
		}
		if got := auditActionsOf(w.allAuditOf(resellerAdmin)); !slices.Contains(got, "contact_request.create") {
			t.Fatalf("reseller's audit: %v", got)
		}
		if got := eventTypesOf(w.eventsOf(bravoSales)); !slices.Contains(got, "contact_request.received") || !slices.Contains(got, "provider_listing.updated") {
			t.Fatalf("provider's events: %v", got)
		}
	})
}

func TestBusinessProfileAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, admin := w.admin("partner", "owner@contoso.example")
		_, sales := w.member(admin, "sam@contoso.example", true, csphub.RoleSalesAgent)
		_, other := w.admin("partner", "owner@fabrikam.example")
		_, customer := w.admin("customer", "owner@customer.example")

		r := w.do("GET", "/api/v1/business-profile", sales, "")
		var p service.BusinessProfileView
		r.json(t, &p)
		if r.status != 200 || r.header.Get("ETag") != `"b0"` || p.Version != 0 || p.Industries == nil {
			t.Fatalf("empty profile: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/business-profile", customer, ""), 403, "partner_required")
		wantProblem(t, w.do("PATCH", "/api/v1/business-profile", sales, `{"description":"x"}`), 403, "missing_role")
		wantProblem(t, w.do("PATCH", "/api/v1/business-profile", admin, `{"description":"x"}`, "On-Behalf-Of", csphub.NewID()), 403, "delegation_not_allowed")
		pr := wantProblem(t, w.do("PATCH", "/api/v1/business-profile", admin, `{"website":"http://contoso.example","industries":["retail","mining"]}`), 422, "invalid_input")
		if got := fieldCodes(pr); !slices.Equal(got, []string{"industries[1]/unknown_industry", "website/invalid_url"}) {
			t.Fatalf("refusals: %v", got)
		}
		wantProblem(t, w.do("PATCH", "/api/v1/business-profile", admin, `{"description":"x"}`, "If-Match", `"b3"`), 412, "etag_mismatch")
		r = w.do("PATCH", "/api/v1/business-profile", admin, `{"description":"Cloud for schools","website":"https://contoso.example","industries":["education"]}`,
			"If-Match", `"b0"`)
		r.json(t, &p)
		if r.status != 200 || r.header.Get("ETag") != `"b1"` || p.Description != "Cloud for schools" || !slices.Equal(p.Industries, []string{"education"}) {
			t.Fatalf("saved: %d %s", r.status, r.body)
		}
		r = w.do("PATCH", "/api/v1/business-profile", admin, `{"industries":[]}`, "If-Match", `"b1"`)
		r.json(t, &p)
		if r.status != 200 || p.Version != 2 || len(p.Industries) != 0 || p.Description != "Cloud for schools" {
			t.Fatalf("cleared industries: %d %s", r.status, r.body)
		}
		w.do("GET", "/api/v1/business-profile", other, "").json(t, &p)
		if p.Version != 0 || p.Description != "" {
			t.Fatalf("another partner's profile: %+v", p)
		}
		if err := w.svc.SequenceJournal(context.Background()); err != nil {
			t.Fatal(err)
		}
		var audit service.AuditPage
		w.do("GET", "/api/v1/audit-records?action_prefix=business_profile.&page_size=500", admin, "").json(t, &audit)
		if got := auditActionsOf(audit.Records); len(got) != 2 || got[0] != "business_profile.update" {
			t.Fatalf("audit: %v", got)
		}
	})
}
