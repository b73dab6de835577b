package service_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// dirWorld is a deployment with partners in several countries: approved
// indirect providers authorized for regions, resellers, and a customer.
type dirWorld struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	svc   *service.Service
	clock *csphub.ManualClock
	op    csphub.Organization
	next  int
}

func newDirWorld(t *testing.T, engine string) *dirWorld {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, engine, clock)
	svc := service.New(db, nil, service.Options{BaseURL: "https://csphub.example"})
	op, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "FR", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	return &dirWorld{t: t, ctx: ctx, db: db, svc: svc, clock: clock, op: op, next: 5100000}
}

var (
	resellerOnly = map[csphub.Program]csphub.EnrollmentState{csphub.ProgramIndirectReseller: csphub.EnrollmentApproved}
	providerToo  = map[csphub.Program]csphub.EnrollmentState{csphub.ProgramIndirectReseller: csphub.EnrollmentApproved,
		csphub.ProgramIndirectProvider: csphub.EnrollmentApproved}
)

var dirPhones = map[string]string{"FR": "+33123456789", "DE": "+49301234567", "US": "+12025550123"}

// partner stores a partner organization named name in country, with a
// partner ID, a profile, the enrollments given, the provider regions given
// and a global admin user; it returns the organization.
func (w *dirWorld) partner(name, country string, enrollments map[csphub.Program]csphub.EnrollmentState, regions ...string) csphub.Organization {
	w.t.Helper()
	w.next++
	partnerID := fmt.Sprint(w.next)
	o := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: name, Country: country, Domain: "org.example"}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		if err := tx.InsertOrganization(o); err != nil {
			return err
		}
		if _, err := tx.InsertPartnerIDs([]store.PartnerIDRecord{{PartnerID: csphub.PartnerID{PartnerID: partnerID, LegalName: name,
			Country: country, Status: csphub.PartnerIDActive, Source: "issued", OrgID: o.ID, CreatedAt: tx.Now()}}}); err != nil {
			return err
		}
		if err := tx.InsertPartnerProfile(csphub.PartnerProfile{OrgID: o.ID, PartnerID: partnerID, LegalName: name,
			Address:        csphub.Address{Line1: "1 Main Street", City: "Town", Country: country},
			PrimaryContact: csphub.PrimaryContact{FirstName: "Ann", LastName: "Lee", Email: "ann@org.example", Phone: dirPhones[country], Lang: "fr"},
			SupportContact: csphub.SupportContact{Email: "support@org.example", Phone: dirPhones[country]}, Version: 1, UpdatedAt: tx.Now()}); err != nil {
			return err
		}
		for program, state := range enrollments {
			if err := tx.InsertEnrollment(csphub.Enrollment{ID: csphub.NewID(), OrgID: o.ID, Program: program, State: state, Country: country,
				SubmittedAt: tx.Now(), DueAt: tx.Now(), UpdatedAt: tx.Now(), Version: 1}); err != nil {
				return err
			}
		}
		if len(regions) > 0 {
			return tx.ReplaceProviderRegions(o.ID, regions, "operator")
		}
		return nil
	}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

// user stores a user of the organization with roles and returns it as an
// actor past MFA.
func (w *dirWorld) user(o csphub.Organization, name string, roles ...string) csphub.Actor {
	w.t.Helper()
	a := csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: o.ID, OrgKind: o.Kind, Roles: roles, MFAPassed: true}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		return tx.InsertUser(store.UserRecord{User: csphub.User{ID: a.ID, OrgID: o.ID, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@org.example",
			Name: name, Lang: "en", Status: csphub.UserActive, Roles: roles, CreatedAt: tx.Now()}})
	}); err != nil {
		w.t.Fatal(err)
	}
	return a
}

// publish saves and publishes a listing for the provider.
func (w *dirWorld) publish(admin csphub.Actor, services ...string) service.ProviderListing {
	w.t.Helper()
	l, err := w.svc.UpdateProviderListing(w.ctx, admin, "", service.ListingInput{Published: true, Description: "We help resellers.",
		ContactEmail: "partners@" + admin.OrgID[:8] + ".example", Languages: []string{"en"}, Services: services})
	if err != nil {
		w.t.Fatalf("publish: %v", err)
	}
	return l
}

// emails claims the queued emails and returns them by recipient.
func (w *dirWorld) emails() map[string][]store.Email {
	w.t.Helper()
	msgs, err := w.db.ClaimOutbox(w.ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 500, MaxAttempts: 5})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]store.Email{}
	for _, m := range msgs {
		e, err := m.Email()
		if err != nil {
			w.t.Fatal(err)
		}
		out[e.To] = append(out[e.To], e)
	}
	return out
}

func (w *dirWorld) auditActions(actor csphub.Actor, prefix string) []string {
	w.t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.svc.ListAuditRecords(w.ctx, actor, 0, 500, prefix)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, r := range p.Records {
		out = append(out, r.Action)
	}
	return out
}

func (w *dirWorld) eventTypes(actor csphub.Actor) []string {
	w.t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.svc.ListEvents(w.ctx, actor, 0, 500)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Type)
	}
	return out
}

func TestProviderListingRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirWorld(t, engine)
		prov := w.partner("Bravo Cloud", "FR", providerToo, "europe")
		admin := w.user(prov, "Paul Admin", csphub.RoleGlobalAdmin)
		accountAdmin := w.user(prov, "Alice Account", csphub.RoleAccountAdmin)
		sales := w.user(prov, "Sam Sales", csphub.RoleSalesAgent)
		reseller := w.partner("Contoso SAS", "FR", resellerOnly)
		resellerAdmin := w.user(reseller, "Rita Reseller", csphub.RoleGlobalAdmin)
		customer := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgCustomer}
		good := service.ListingInput{Published: true, Description: "Training and support.", ContactEmail: "partners@bravo.example"}

		// Who may read and edit.
		l, err := w.svc.GetProviderListing(w.ctx, sales)
		if err != nil || l.Version != 0 || l.Published || !slices.Equal(l.Regions, []string{"europe"}) || service.ListingETag(l) != `"l0"` {
			t.Fatalf("empty listing: %+v %v", l, err)
		}
		_, err = w.svc.UpdateProviderListing(w.ctx, sales, "", good)
		agrWantCode(t, err, csphub.KindForbidden, "partner_admin_required")
		_, err = w.svc.GetProviderListing(w.ctx, resellerAdmin)
		agrWantCode(t, err, csphub.KindConflict, "provider_not_approved")
		_, err = w.svc.UpdateProviderListing(w.ctx, resellerAdmin, "", good)
		agrWantCode(t, err, csphub.KindConflict, "provider_not_approved")
		_, err = w.svc.GetProviderListing(w.ctx, csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: customer.ID,
			OrgKind: csphub.OrgCustomer, Roles: []string{csphub.RoleGlobalAdmin}})
		agrWantCode(t, err, csphub.KindForbidden, "partner_required")
		delegated := admin
		delegated.OrgID, delegated.OnBehalfOf = reseller.ID, prov.ID
		_, err = w.svc.UpdateProviderListing(w.ctx, delegated, "", good)
		agrWantCode(t, err, csphub.KindForbidden, "delegated_access_not_allowed")
		_, err = w.svc.GetProviderListing(w.ctx, delegated)
		agrWantCode(t, err, csphub.KindForbidden, "delegated_access_not_allowed")

		// Every field is checked, and each refusal is named.
		for name, c := range map[string]struct {
			in   service.ListingInput
			want []string
		}{
			"publish empty": {service.ListingInput{Published: true}, []string{"description/required", "contact_email/required"}},
			"long text":     {service.ListingInput{Description: strings.Repeat("é", 2001)}, []string{"description/too_long"}},
			"http site":     {service.ListingInput{Website: "http://bravo.example"}, []string{"website/invalid_url"}},
			"bad site":      {service.ListingInput{Website: "https://"}, []string{"website/invalid_url"}},
			"bad email":     {service.ListingInput{ContactEmail: "partners"}, []string{"contact_email/invalid_email"}},
			"bad phone":     {service.ListingInput{ContactPhone: "12"}, []string{"contact_phone/invalid_phone"}},
			"foreign phone": {service.ListingInput{ContactPhone: "+49 30 1234567"}, []string{"contact_phone/phone_country_mismatch"}},
			"languages": {service.ListingInput{Languages: []string{"en", "xx", "fra", "e1"}},
				[]string{"languages[1]/unknown_language", "languages[2]/unknown_language", "languages[3]/unknown_language"}},
			"services": {service.ListingInput{Services: []string{"financing", "catering"}}, []string{"services[1]/unknown_service"}},
			"markets": {service.ListingInput{Markets: []string{"FR", "ZZ", "US"}},
				[]string{"markets[1]/unknown_market", "markets[2]/market_not_authorized"}},
			"too many languages": {service.ListingInput{Languages: slices.Repeat([]string{"en"}, 21)}, []string{"languages/too_many"}},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := w.svc.UpdateProviderListing(w.ctx, admin, "", c.in)
				agrWantFields(t, err, c.want...)
			})
		}
		if l, _ := w.svc.GetProviderListing(w.ctx, admin); l.Version != 0 {
			t.Fatalf("a refusal saved something: %+v", l)
		}

		// A full listing, normalized.
		saved, err := w.svc.UpdateProviderListing(w.ctx, accountAdmin, `"l0"`, service.ListingInput{Published: true,
			Description: "  Training and support.\r\nIn French and English. ", Website: " https://bravo.example/partners ",
			ContactEmail: "Partners@Bravo.example", ContactPhone: "01 23 45 67 89", Languages: []string{"FR", "en", "fr"},
			Services: []string{"financing", "technical_training", "financing"}, Markets: []string{"fr", "BE", "FR"}})
		if err != nil {
			t.Fatal(err)
		}
		if saved.Version != 1 || saved.UpdatedAt == nil || saved.Description != "Training and support.\nIn French and English." ||
			saved.Website != "https://bravo.example/partners" || saved.ContactEmail != "partners@bravo.example" || saved.ContactPhone != "+33123456789" ||
			!slices.Equal(saved.Languages, []string{"fr", "en"}) || !slices.Equal(saved.Services, []string{"technical_training", "financing"}) ||
			!slices.Equal(saved.Markets, []string{"BE", "FR"}) || !saved.Published {
			t.Fatalf("saved: %+v", saved)
		}
		// A stale entity tag is refused; the same listing again changes nothing.
		_, err = w.svc.UpdateProviderListing(w.ctx, admin, `"l0"`, good)
		agrWantCode(t, err, csphub.KindPreconditionFailed, "etag_mismatch")
		same, err := w.svc.UpdateProviderListing(w.ctx, admin, `"l1"`, service.ListingInput{Published: true,
			Description: saved.Description, Website: saved.Website, ContactEmail: saved.ContactEmail, ContactPhone: saved.ContactPhone,
			Languages: saved.Languages, Services: saved.Services, Markets: saved.Markets})
		if err != nil || same.Version != 1 {
			t.Fatalf("unchanged: %+v %v", same, err)
		}
		unpublished, err := w.svc.UpdateProviderListing(w.ctx, admin, "", service.ListingInput{})
		if err != nil || unpublished.Version != 2 || unpublished.Published || len(unpublished.Languages) != 0 {
			t.Fatalf("unpublish: %+v %v", unpublished, err)
		}
		if got := w.auditActions(admin, "provider_listing."); !slices.Equal(got, []string{"provider_listing.update", "provider_listing.update"}) {
			t.Fatalf("audit: %v", got)
		}
		if got := w.eventTypes(admin); slices.Index(got, "provider_listing.updated") < 0 {
			t.Fatalf("events: %v", got)
		}
	})
}

func TestProviderDirectorySearch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirWorld(t, engine)
		for _, p := range []struct {
			name, country string
			regions       []string
			services      []string
		}{
			{"Alpine Distribution", "DE", []string{"north_america"}, []string{"technical_training"}},
			{"Bravo Cloud", "FR", []string{"europe"}, []string{"technical_support"}},
			{"Charlie IT", "FR", []string{"europe", "asia_pacific"}, []string{"technical_training", "financing"}},
			{"Echo Partners", "US", []string{"north_america"}, []string{"financing"}},
		} {
			o := w.partner(p.name, p.country, providerToo, p.regions...)
			w.publish(w.user(o, "Admin "+p.name, csphub.RoleGlobalAdmin), p.services...)
		}
		unpublished := w.partner("Delta Drafts", "FR", providerToo, "europe")
		if _, err := w.svc.UpdateProviderListing(w.ctx, w.user(unpublished, "Dora Draft", csphub.RoleGlobalAdmin), "",
			service.ListingInput{Description: "Not yet"}); err != nil {
			t.Fatal(err)
		}
		frReseller := w.user(w.partner("Contoso SAS", "FR", resellerOnly), "Jeanne Martin", csphub.RoleSalesAgent)
		usReseller := w.user(w.partner("Fourth Coffee", "US", resellerOnly), "John Doe", csphub.RoleHelpdeskAgent)
		nameList := func(p service.DirectoryPage) []string {
			var out []string
			for _, it := range p.Items {
				out = append(out, it.Name)
			}
			return out
		}
		search := func(a csphub.Actor, q service.DirectoryQuery) service.DirectoryPage {
			t.Helper()
			p, err := w.svc.SearchProviderDirectory(w.ctx, a, q)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}

		// The caller's region first.
		p := search(frReseller, service.DirectoryQuery{})
		if got := nameList(p); !slices.Equal(got, []string{"Bravo Cloud", "Charlie IT", "Alpine Distribution", "Echo Partners"}) || p.YourRegion != "europe" {
			t.Fatalf("from France: %v %q", got, p.YourRegion)
		}
		if !p.CanContact {
			t.Fatal("an approved reseller cannot contact providers")
		}
		pendingOrg := w.partner("Fabrikam", "FR", map[csphub.Program]csphub.EnrollmentState{csphub.ProgramIndirectReseller: csphub.EnrollmentInReview})
		if p := search(w.user(pendingOrg, "Pat Pending", csphub.RoleGlobalAdmin), service.DirectoryQuery{}); p.CanContact || len(p.Items) != 4 {
			t.Fatalf("a reseller in review: %+v", p)
		}
		if !p.Items[0].InYourRegion || p.Items[2].InYourRegion || p.Items[1].Regions[0] != "asia_pacific" || p.Items[0].ContactEmail == "" {
			t.Fatalf("items: %+v", p.Items)
		}
		if got := nameList(search(usReseller, service.DirectoryQuery{})); !slices.Equal(got, []string{"Alpine Distribution", "Echo Partners", "Bravo Cloud", "Charlie IT"}) {
			t.Fatalf("from the US: %v", got)
		}
		// Pages of one, across the regions.
		var paged []string
		token := ""
		for i := 0; i < 6; i++ {
			p := search(frReseller, service.DirectoryQuery{PageSize: 1, PageToken: token})
			paged = append(paged, nameList(p)...)
			if token = p.NextPageToken; token == "" {
				break
			}
		}
		if !slices.Equal(paged, []string{"Bravo Cloud", "Charlie IT", "Alpine Distribution", "Echo Partners"}) {
			t.Fatalf("paged: %v", paged)
		}
		// Filters.
		if got := nameList(search(frReseller, service.DirectoryQuery{Region: "north_america"})); !slices.Equal(got, []string{"Alpine Distribution", "Echo Partners"}) {
			t.Fatalf("region: %v", got)
		}
		if got := nameList(search(frReseller, service.DirectoryQuery{Service: "financing"})); !slices.Equal(got, []string{"Charlie IT", "Echo Partners"}) {
			t.Fatalf("service: %v", got)
		}
		if got := nameList(search(frReseller, service.DirectoryQuery{Q: " char "})); !slices.Equal(got, []string{"Charlie IT"}) {
			t.Fatalf("name: %v", got)
		}
		if got := nameList(search(frReseller, service.DirectoryQuery{Region: "asia_pacific", Service: "financing", Q: "C"})); !slices.Equal(got, []string{"Charlie IT"}) {
			t.Fatalf("all filters: %v", got)
		}

		// Refusals.
		_, err := w.svc.SearchProviderDirectory(w.ctx, frReseller, service.DirectoryQuery{Region: "atlantis", Service: "catering",
			Q: strings.Repeat("a", 101), PageToken: "not a token"})
		agrWantFields(t, err, "region/unknown_region", "service/unknown_service", "q/too_long", "page_token/invalid_page_token")
		_, err = w.svc.SearchProviderDirectory(w.ctx, csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: w.op.ID,
			OrgKind: csphub.OrgOperator, Roles: []string{csphub.RoleOperatorAdmin}}, service.DirectoryQuery{})
		agrWantCode(t, err, csphub.KindForbidden, "partner_required")
	})
}

func TestContactRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirWorld(t, engine)
		prov := w.partner("Bravo Cloud", "FR", providerToo, "europe")
		provAdmin := w.user(prov, "Paul Admin", csphub.RoleGlobalAdmin)
		provAgent := w.user(prov, "Hugo Helpdesk", csphub.RoleHelpdeskAgent)
		listing := w.publish(provAdmin, "technical_training")
		other := w.partner("Charlie IT", "FR", providerToo, "europe")
		otherAdmin := w.user(other, "Olivia Other", csphub.RoleGlobalAdmin)
		w.publish(otherAdmin, "financing")
		hidden := w.partner("Delta Drafts", "FR", providerToo, "europe")
		resellerOrg := w.partner("Contoso SAS", "FR", resellerOnly)
		sender := w.user(resellerOrg, "Jeanne Martin", csphub.RoleSalesAgent)
		pendingOrg := w.partner("Fabrikam", "FR", map[csphub.Program]csphub.EnrollmentState{csphub.ProgramIndirectReseller: csphub.EnrollmentInReview})
		pending := w.user(pendingOrg, "Pat Pending", csphub.RoleGlobalAdmin)
		w.emails() // the listings' mail, if any

		// Refusals: the message, the sender's standing, the target.
		_, err := w.svc.SendContactRequest(w.ctx, sender, prov.ID, service.ContactRequestInput{Message: "  "})
		agrWantFields(t, err, "message/required")
		_, err = w.svc.SendContactRequest(w.ctx, sender, prov.ID, service.ContactRequestInput{Message: strings.Repeat("a", 2001)})
		agrWantFields(t, err, "message/too_long")
		_, err = w.svc.SendContactRequest(w.ctx, pending, prov.ID, service.ContactRequestInput{Message: "Hello"})
		agrWantCode(t, err, csphub.KindConflict, "reseller_not_approved")
		_, err = w.svc.SendContactRequest(w.ctx, sender, hidden.ID, service.ContactRequestInput{Message: "Hello"})
		agrWantCode(t, err, csphub.KindNotFound, "provider_not_found")
		_, err = w.svc.SendContactRequest(w.ctx, sender, "not-an-id", service.ContactRequestInput{Message: "Hello"})
		agrWantCode(t, err, csphub.KindNotFound, "provider_not_found")
		_, err = w.svc.SendContactRequest(w.ctx, sender, resellerOrg.ID, service.ContactRequestInput{Message: "Hello"})
		agrWantCode(t, err, csphub.KindNotFound, "provider_not_found")
		_, err = w.svc.SendContactRequest(w.ctx, provAdmin, prov.ID, service.ContactRequestInput{Message: "Hello"})
		agrWantCode(t, err, csphub.KindUnprocessable, "own_listing")
		delegated := sender
		delegated.OrgID, delegated.OnBehalfOf = prov.ID, resellerOrg.ID
		_, err = w.svc.SendContactRequest(w.ctx, delegated, other.ID, service.ContactRequestInput{Message: "Hello"})
		agrWantCode(t, err, csphub.KindForbidden, "delegated_access_not_allowed")
		if got := w.emails(); len(got) != 0 {
			t.Fatalf("refusals sent mail: %v", got)
		}

		// Sent: stored, emailed to the listing's contact in the provider's language, announced.
		sent, err := w.svc.SendContactRequest(w.ctx, sender, prov.ID, service.ContactRequestInput{Message: " We sell in Lyon.\r\nCan you train us? "})
		if err != nil {
			t.Fatal(err)
		}
		if sent.Message != "We sell in Lyon.\nCan you train us?" || sent.ResellerName != "Contoso SAS" || sent.SenderName != "Jeanne Martin" ||
			sent.ProviderName != "Bravo Cloud" || sent.ReadAt != nil || sent.ResellerPartnerID == "" {
			t.Fatalf("sent: %+v", sent)
		}
		mail := w.emails()[listing.ContactEmail]
		if len(mail) != 1 || mail[0].Template != "contact_request" || mail[0].Lang != "fr" || !strings.Contains(mail[0].Text, "Can you train us?") ||
			!strings.Contains(mail[0].Text, "jeanne.martin@org.example") || !strings.Contains(mail[0].Text, "https://csphub.example/partner/inbox") {
			t.Fatalf("email: %+v", mail)
		}
		if got := w.eventTypes(provAgent); slices.Index(got, "contact_request.received") < 0 {
			t.Fatalf("the provider's events: %v", got)
		}
		if got := w.eventTypes(otherAdmin); slices.Index(got, "contact_request.received") >= 0 {
			t.Fatalf("another provider saw the event: %v", got)
		}

		// The inbox: the provider's users only, newest first, in pages.
		for i := 0; i < 2; i++ {
			w.clock.Advance(time.Minute)
			if _, err := w.svc.SendContactRequest(w.ctx, sender, prov.ID, service.ContactRequestInput{Message: fmt.Sprint("Follow-up ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		first, err := w.svc.ListContactRequests(w.ctx, provAgent, "", 2)
		if err != nil || len(first.Items) != 2 || first.Items[0].Message != "Follow-up 1" || first.NextPageToken == "" {
			t.Fatalf("first page: %+v %v", first, err)
		}
		rest, err := w.svc.ListContactRequests(w.ctx, provAgent, first.NextPageToken, 2)
		if err != nil || len(rest.Items) != 1 || rest.Items[0].ID != sent.ID || rest.NextPageToken != "" {
			t.Fatalf("second page: %+v %v", rest, err)
		}
		if theirs, err := w.svc.ListContactRequests(w.ctx, otherAdmin, "", 10); err != nil || len(theirs.Items) != 0 {
			t.Fatalf("another inbox: %+v %v", theirs, err)
		}
		_, err = w.svc.ListContactRequests(w.ctx, sender, "", 10)
		agrWantCode(t, err, csphub.KindConflict, "provider_not_approved")
		_, err = w.svc.ListContactRequests(w.ctx, provAgent, "bad", 10)
		agrWantFields(t, err, "page_token/invalid_page_token")

		// Marking read: once, by the provider only; another's request is not found.
		_, err = w.svc.MarkContactRequestRead(w.ctx, otherAdmin, sent.ID)
		agrWantCode(t, err, csphub.KindNotFound, "contact_request_not_found")
		read, err := w.svc.MarkContactRequestRead(w.ctx, provAgent, sent.ID)
		if err != nil || read.ReadAt == nil {
			t.Fatalf("read: %+v %v", read, err)
		}
		w.clock.Advance(time.Hour)
		again, err := w.svc.MarkContactRequestRead(w.ctx, provAdmin, sent.ID)
		if err != nil || !again.ReadAt.Equal(*read.ReadAt) {
			t.Fatalf("read again: %+v %v", again, err)
		}
		if got := w.auditActions(provAdmin, "contact_request."); !slices.Equal(got, []string{"contact_request.read"}) {
			t.Fatalf("the provider's audit: %v", got)
		}
	})
}

// A reseller sends at most ten contact requests in 24 hours, even all at
// once; the eleventh waits for the oldest to be a day old.
func TestContactRequestRateLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirWorld(t, engine)
		prov := w.partner("Bravo Cloud", "FR", providerToo, "europe")
		w.publish(w.user(prov, "Paul Admin", csphub.RoleGlobalAdmin), "financing")
		resellerOrg := w.partner("Contoso SAS", "FR", resellerOnly)
		sender := w.user(resellerOrg, "Jeanne Martin", csphub.RoleSalesAgent)
		colleague := w.user(resellerOrg, "Jules Martin", csphub.RoleAdminAgent)
		otherReseller := w.user(w.partner("Fourth Coffee", "FR", resellerOnly), "John Doe", csphub.RoleSalesAgent)

		var wg sync.WaitGroup
		errs := make([]error, 12)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := sender
				if i%2 == 1 {
					a = colleague
				}
				_, errs[i] = w.svc.SendContactRequest(w.ctx, a, prov.ID, service.ContactRequestInput{Message: fmt.Sprint("Hello ", i)})
			}()
		}
		wg.Wait()
		ok, limited := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case csphub.ErrorKind(err) == csphub.KindRateLimited:
				limited++
				if e := csphub.AsError(err); e.Code != "contact_request_limit" || e.RetryAfter < 86000 || e.RetryAfter > 86400 {
					t.Fatalf("limit: %+v", e)
				}
			default:
				t.Fatal(err)
			}
		}
		if ok != 10 || limited != 2 {
			t.Fatalf("%d sent, %d limited", ok, limited)
		}
		// Another reseller has its own allowance.
		if _, err := w.svc.SendContactRequest(w.ctx, otherReseller, prov.ID, service.ContactRequestInput{Message: "Hello"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(24*time.Hour + time.Second)
		if _, err := w.svc.SendContactRequest(w.ctx, sender, prov.ID, service.ContactRequestInput{Message: "A day later"}); err != nil {
			t.Fatalf("a day later: %v", err)
		}
	})
}

func TestBusinessProfileRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirWorld(t, engine)
		org := w.partner("Contoso SAS", "FR", nil) // any partner, enrolled or not
		admin := w.user(org, "Jeanne Martin", csphub.RoleGlobalAdmin)
		accountAdmin := w.user(org, "Alice Account", csphub.RoleAccountAdmin)
		sales := w.user(org, "Sam Sales", csphub.RoleSalesAgent)
		other := w.user(w.partner("Fabrikam", "DE", nil), "Otto Other", csphub.RoleGlobalAdmin)
		str := func(s string) *string { return &s }
		list := func(s ...string) *[]string { return &s }

		p, err := w.svc.GetBusinessProfile(w.ctx, sales)
		if err != nil || p.Version != 0 || p.Industries == nil || service.BusinessProfileETag(p) != `"b0"` {
			t.Fatalf("empty profile: %+v %v", p, err)
		}
		_, err = w.svc.UpdateBusinessProfile(w.ctx, sales, "", service.BusinessProfilePatch{Description: str("x")})
		agrWantCode(t, err, csphub.KindForbidden, "partner_admin_required")
		_, err = w.svc.GetBusinessProfile(w.ctx, csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: w.op.ID,
			OrgKind: csphub.OrgOperator, Roles: []string{csphub.RoleOperatorAdmin}})
		agrWantCode(t, err, csphub.KindForbidden, "partner_required")
		delegated := admin
		delegated.OrgID, delegated.OnBehalfOf = other.OrgID, org.ID
		_, err = w.svc.UpdateBusinessProfile(w.ctx, delegated, "", service.BusinessProfilePatch{Description: str("x")})
		agrWantCode(t, err, csphub.KindForbidden, "delegated_access_not_allowed")
		_, err = w.svc.UpdateBusinessProfile(w.ctx, admin, "", service.BusinessProfilePatch{Description: str(strings.Repeat("a", 2001)),
			Website: str("ftp://contoso.example"), Industries: list("retail", "mining")})
		agrWantFields(t, err, "description/too_long", "website/invalid_url", "industries[1]/unknown_industry")

		saved, err := w.svc.UpdateBusinessProfile(w.ctx, admin, `"b0"`, service.BusinessProfilePatch{Description: str(" Cloud for schools. "),
			Website: str("https://contoso.example"), Industries: list("retail", "education", "retail")})
		if err != nil || saved.Version != 1 || saved.Description != "Cloud for schools." || !slices.Equal(saved.Industries, []string{"education", "retail"}) {
			t.Fatalf("saved: %+v %v", saved, err)
		}
		// Absent fields stay; a stale tag is refused; nothing new changes nothing.
		_, err = w.svc.UpdateBusinessProfile(w.ctx, accountAdmin, `"b0"`, service.BusinessProfilePatch{Website: str("")})
		agrWantCode(t, err, csphub.KindPreconditionFailed, "etag_mismatch")
		changed, err := w.svc.UpdateBusinessProfile(w.ctx, accountAdmin, `"b1"`, service.BusinessProfilePatch{Website: str("")})
		if err != nil || changed.Version != 2 || changed.Website != "" || changed.Description != "Cloud for schools." || len(changed.Industries) != 2 {
			t.Fatalf("changed: %+v %v", changed, err)
		}
		if same, err := w.svc.UpdateBusinessProfile(w.ctx, accountAdmin, "", service.BusinessProfilePatch{Industries: list("education", "retail")}); err != nil || same.Version != 2 {
			t.Fatalf("unchanged: %+v %v", same, err)
		}
		// Each partner sees its own.
		if theirs, err := w.svc.GetBusinessProfile(w.ctx, other); err != nil || theirs.Version != 0 {
			t.Fatalf("other partner: %+v %v", theirs, err)
		}
		if got := w.auditActions(admin, "business_profile."); len(got) != 2 {
			t.Fatalf("audit: %v", got)
		}
	})
}
