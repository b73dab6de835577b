package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
)

// directoryServer serves the pages over a real service on SQLite, with
// partners whose memberships the test writes through the store.
type directoryServer struct {
	*identityServer
	nextPartnerID int
}

func newDirectoryServer(t *testing.T) *directoryServer {
	return &directoryServer{identityServer: newEnrollmentServer(t, "sqlite", 5), nextPartnerID: 7100000}
}

// partner signs up a partner organization, signs its global admin in past
// MFA, and returns the session and the admin as an actor.
func (s *directoryServer) partner(t *testing.T, orgName, email string) (*http.Cookie, csphub.Actor) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.svc.Signup(ctx, service.SignupInput{Kind: "partner", OrgName: orgName, Country: "FR", Domain: "contoso.example",
		Name: "Jeanne Martin", Email: email, Password: goodPassword, Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	res := s.signIn(t, email, goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	c := s.passMFA(t, s.sessionCookie(res))
	a, err := s.svc.SessionActor(ctx, c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

// standing gives the organization a partner ID, a French profile, the
// memberships given (approved), and the provider regions given.
func (s *directoryServer) standing(t *testing.T, orgID string, programs []csphub.Program, regions ...string) {
	t.Helper()
	s.nextPartnerID++
	partnerID := fmt.Sprint(s.nextPartnerID)
	if err := s.db.Write(context.Background(), func(tx *store.Tx) error {
		if _, err := tx.InsertPartnerIDs([]store.PartnerIDRecord{{PartnerID: csphub.PartnerID{PartnerID: partnerID, LegalName: "Legal",
			Country: "FR", Status: csphub.PartnerIDActive, Source: "issued", OrgID: orgID, CreatedAt: tx.Now()}}}); err != nil {
			return err
		}
		if err := tx.InsertPartnerProfile(csphub.PartnerProfile{OrgID: orgID, PartnerID: partnerID, LegalName: "Legal",
			Address:        csphub.Address{Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"},
			PrimaryContact: csphub.PrimaryContact{FirstName: "Jeanne", LastName: "Martin", Email: "jeanne@contoso.example", Phone: "+33123456789", Lang: "fr"},
			SupportContact: csphub.SupportContact{Email: "support@contoso.example", Phone: "+33123456789"}, Version: 1, UpdatedAt: tx.Now()}); err != nil {
			return err
		}
		for _, p := range programs {
			if err := tx.InsertEnrollment(csphub.Enrollment{ID: csphub.NewID(), OrgID: orgID, Program: p, State: csphub.EnrollmentApproved,
				Country: "FR", SubmittedAt: tx.Now(), DueAt: tx.Now(), UpdatedAt: tx.Now(), Version: 1}); err != nil {
				return err
			}
		}
		if len(regions) > 0 {
			return tx.ReplaceProviderRegions(orgID, regions, "operator")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// member invites a user with roles into the admin's organization and signs
// them in past MFA.
func (s *directoryServer) member(t *testing.T, admin csphub.Actor, email string, roles ...string) *http.Cookie {
	t.Helper()
	if _, err := s.svc.InviteUser(context.Background(), admin, service.InviteUserInput{Email: email, Name: "Paul Durand", Roles: roles}); err != nil {
		t.Fatal(err)
	}
	return s.acceptInvitation(t, email)
}

var (
	bothPrograms = []csphub.Program{csphub.ProgramIndirectReseller, csphub.ProgramIndirectProvider}
	resellerOnly = []csphub.Program{csphub.ProgramIndirectReseller}
)

func listingForm(etag string) url.Values {
	return url.Values{"etag": {etag}, "published": {"yes"}, "description": {"Formation et support\r\npour les revendeurs."},
		"website": {"https://bravo.example"}, "contact_email": {"partners@bravo.example"}, "contact_phone": {"01 23 45 67 89"},
		"languages": {"fr, en"}, "services": {"technical_training", "financing"}, "markets": {"FR", "BE"}}
}

func TestProviderListingPage(t *testing.T) {
	s := newDirectoryServer(t)
	b := catalog(t)
	c, admin := s.partner(t, "Bravo Cloud", "paul@bravo.example")
	fr := append(s.withSession(c), "Accept-Language", "fr")

	// Not a provider yet: the page explains, the inbox too.
	res := s.get(t, "/partner/listing", fr...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("page: %d %s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, text(b, "fr", "directory.listing.not_approved"),
		`<a href="/partner/listing" aria-current="page">`+text(b, "fr", "directory.nav.listing")+`</a>`)
	mustNotContain(t, res.body, `name="description"`)
	mustContain(t, s.get(t, "/partner/inbox", fr...).body, text(b, "fr", "directory.inbox.not_approved"))
	if res := s.postForm(t, "/partner/listing", listingForm(`"l0"`), fr...); res.StatusCode != http.StatusConflict {
		t.Fatalf("save before approval: %d", res.StatusCode)
	}

	s.standing(t, admin.OrgID, bothPrograms, "europe")
	res = s.get(t, "/partner/listing", fr...)
	mustContain(t, res.body, text(b, "fr", "directory.listing.unpublished"), "<dd>Europe</dd>",
		`<input type="hidden" name="etag" value="&#34;l0&#34;">`, `<input type="checkbox" id="services" name="services" value="technical_training">`,
		`<label for="markets-FR">`+text(b, "fr", "country.fr")+`</label>`)
	// Only the regions the provider is authorized for offer their markets.
	mustNotContain(t, res.body, `value="US"`)

	// Every refusal by its field; what was typed stays.
	form := url.Values{"etag": {`"l0"`}, "published": {"yes"}, "website": {"http://bravo.example"}, "languages": {"fr, xx"},
		"contact_phone": {"12"}, "markets": {"US"}}
	res = s.postForm(t, "/partner/listing", form, fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad listing: %d", res.StatusCode)
	}
	for field, key := range map[string]string{"description": "description.required", "website": "website.invalid_url",
		"contact_email": "contact_email.required", "contact_phone": "contact_phone.invalid_phone",
		"languages": "languages.unknown_language", "markets": "markets.market_not_authorized"} {
		fieldErrorShown(t, res.body, field, textArgs(b, "fr", "directory.error."+key))
	}
	mustContain(t, res.body, `value="http://bravo.example"`, `value="fr, xx"`, `id="published" name="published" value="yes" checked`)

	// Saved.
	wantRedirect(t, s.postForm(t, "/partner/listing", listingForm(`"l0"`), fr...), "/partner/listing?done=saved")
	res = s.get(t, "/partner/listing?done=saved", fr...)
	mustContain(t, res.body, text(b, "fr", "directory.listing.notice.saved"), text(b, "fr", "directory.listing.published"),
		"Formation et support\npour les revendeurs.", `value="&#43;33123456789"`, `value="fr, en"`,
		`value="financing" checked`, `value="BE" checked`, `<input type="hidden" name="etag" value="&#34;l1&#34;">`)
	// A stale form shows the listing as it is now.
	stale := listingForm(`"l0"`)
	stale.Set("description", "Autre chose")
	res = s.postForm(t, "/partner/listing", stale, fr...)
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "directory.error.etag_mismatch"), "Formation et support")
	mustNotContain(t, res.body, "Autre chose")

	// Other roles read it and cannot change it.
	sales := s.member(t, admin, "sam@bravo.example", csphub.RoleSalesAgent)
	res = s.get(t, "/partner/listing", s.withSession(sales)...)
	mustContain(t, res.body, text(b, "en", "directory.listing.admins_only"), "partners@bravo.example", "French, English")
	mustNotContain(t, res.body, `name="description"`)
	if res := s.postForm(t, "/partner/listing", listingForm(`"l1"`), s.withSession(sales)...); res.StatusCode != http.StatusForbidden {
		t.Fatalf("sales agent saves: %d", res.StatusCode)
	}

	// Customers never reach the pages.
	cc, _ := s.customerAdmin(t)
	for _, path := range []string{"/partner/listing", "/partner/directory", "/partner/inbox", "/partner/business-profile"} {
		if res := s.get(t, path, s.withSession(cc)...); res.StatusCode != http.StatusForbidden {
			t.Errorf("customer on %s: %d", path, res.StatusCode)
		}
	}
}

var contactAction = regexp.MustCompile(`<form class="form" method="post" action="(/partner/directory/[^"]+/contact)"`)

func TestFindAProviderAndContactIt(t *testing.T) {
	s := newDirectoryServer(t)
	b := catalog(t)
	ctx := context.Background()

	// Two providers: one authorized for Europe, one for North America.
	bravo, bravoAdmin := s.partner(t, "Bravo Cloud", "paul@bravo.example")
	s.standing(t, bravoAdmin.OrgID, bothPrograms, "europe")
	wantRedirect(t, s.postForm(t, "/partner/listing", listingForm(`"l0"`), s.withSession(bravo)...), "/partner/listing?done=saved")
	_, alpineAdmin := s.partner(t, "Alpine Distribution", "anna@alpine.example")
	s.standing(t, alpineAdmin.OrgID, bothPrograms, "north_america")
	if _, err := s.svc.UpdateProviderListing(ctx, alpineAdmin, "", service.ListingInput{Published: true, Description: "Financing.",
		ContactEmail: "partners@alpine.example", Services: []string{"financing"}, Markets: []string{"US"}}); err != nil {
		t.Fatal(err)
	}
	reseller, resellerAdmin := s.partner(t, "Contoso SAS", "jeanne@contoso.example")
	s.standing(t, resellerAdmin.OrgID, resellerOnly)
	fr := append(s.withSession(reseller), "Accept-Language", "fr")

	// The reseller's region first.
	res := s.get(t, "/partner/directory", fr...)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("directory: %d %s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, `<a href="/partner/directory" aria-current="page">`+text(b, "fr", "directory.nav.directory")+`</a>`,
		textArgs(b, "fr", "directory.search.filter.region_hint", "region", "Europe"), text(b, "fr", "directory.search.in_your_region"),
		"Formation et support\npour les revendeurs.", `<a href="mailto:partners@bravo.example">`, text(b, "fr", "directory.service.technical_training"),
		textArgs(b, "fr", "directory.search.contact.open", "provider", "Bravo Cloud"))
	if i, j := strings.Index(res.body, "Bravo Cloud"), strings.Index(res.body, "Alpine Distribution"); i < 0 || j < 0 || i > j {
		t.Fatalf("Bravo (Europe) should come before Alpine: %d %d", i, j)
	}
	forms := contactAction.FindAllStringSubmatch(res.body, -1)
	if len(forms) != 2 || forms[0][1] != "/partner/directory/"+bravoAdmin.OrgID+"/contact" {
		t.Fatalf("contact forms: %v", forms)
	}
	// Filters.
	res = s.get(t, "/partner/directory?region=north_america", fr...)
	mustContain(t, res.body, "Alpine Distribution", `<option value="north_america" selected>`)
	mustNotContain(t, res.body, "Bravo Cloud")
	res = s.get(t, "/partner/directory?service=technical_training&q=br", fr...)
	mustContain(t, res.body, "Bravo Cloud", `value="br"`)
	mustNotContain(t, res.body, "Alpine Distribution")
	res = s.get(t, "/partner/directory?q=zzz", fr...)
	mustContain(t, res.body, text(b, "fr", "directory.search.none_matching"))
	res = s.get(t, "/partner/directory?region=atlantis", fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown region: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "directory.error.region.unknown_region"), "Bravo Cloud")

	// An empty message is refused next to its box; the search is kept.
	action := forms[0][1]
	res = s.postForm(t, action, url.Values{"message": {"  "}, "q": {"br"}}, fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty message: %d", res.StatusCode)
	}
	id := "message-" + bravoAdmin.OrgID
	mustContain(t, res.body, `<p class="field-error" id="`+id+`-error">`+text(b, "fr", "directory.error.message.required")+`</p>`,
		`<a href="#`+id+`">`, `<details open>`, `value="br"`)
	// Sent: the provider gets it by email and in its inbox.
	wantRedirect(t, s.postForm(t, action, url.Values{"message": {"Bonjour,\r\nnous vendons à Lyon."}, "q": {"br"}}, fr...),
		"/partner/directory?done=sent&q=br")
	mustContain(t, s.get(t, "/partner/directory?done=sent&q=br", fr...).body, text(b, "fr", "directory.search.notice.sent"))
	msgs, err := s.db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 100, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	var mailed bool
	for _, m := range msgs {
		e, _ := m.Email()
		mailed = mailed || e.To == "partners@bravo.example" && e.Template == "contact_request" && strings.Contains(e.Text, "nous vendons à Lyon")
	}
	if !mailed {
		t.Fatal("no email to the provider's contact")
	}

	// A provider does not contact itself; a partner that is not an approved reseller cannot contact anyone.
	res = s.get(t, "/partner/directory", s.withSession(bravo)...)
	if f := contactAction.FindAllStringSubmatch(res.body, -1); len(f) != 1 || strings.Contains(f[0][1], bravoAdmin.OrgID) {
		t.Fatalf("the provider's own contact form: %v", f)
	}
	pending, _ := s.partner(t, "Fabrikam", "pat@fabrikam.example")
	res = s.get(t, "/partner/directory", s.withSession(pending)...)
	mustContain(t, res.body, text(b, "en", "directory.search.contact.resellers_only"), "Bravo Cloud")
	mustNotContain(t, res.body, `name="message"`)
	res = s.postForm(t, action, url.Values{"message": {"Hello"}}, s.withSession(pending)...)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("unapproved reseller: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "directory.error.reseller_not_approved"))

	// The inbox.
	res = s.get(t, "/partner/inbox", append(s.withSession(bravo), "Accept-Language", "fr")...)
	mustContain(t, res.body, textArgs(b, "fr", "directory.inbox.from", "reseller", "Contoso SAS", "partner_id", "7100003"),
		"Bonjour,\nnous vendons à Lyon.", `<a href="mailto:jeanne@contoso.example">`, text(b, "fr", "directory.inbox.unread"),
		`<a href="/partner/inbox" aria-current="page">`)
	m := regexp.MustCompile(`action="(/partner/inbox/[^"]+/read)"`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no mark-read form: %s", res.body)
	}
	// Another provider cannot mark it.
	alpine := s.member(t, alpineAdmin, "helpdesk@alpine.example", csphub.RoleHelpdeskAgent)
	if res := s.postForm(t, m[1], nil, s.withSession(alpine)...); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another provider marks it: %d", res.StatusCode)
	}
	wantRedirect(t, s.postForm(t, m[1], nil, s.withSession(bravo)...), "/partner/inbox?done=read")
	res = s.get(t, "/partner/inbox?done=read", s.withSession(bravo)...)
	mustContain(t, res.body, text(b, "en", "directory.inbox.notice.read"), "Read on ")
	mustNotContain(t, res.body, `/read"`)
	if res := s.get(t, "/partner/inbox", s.withSession(alpine)...); !strings.Contains(res.body, text(b, "en", "directory.inbox.empty")) {
		t.Fatalf("another provider's inbox: %s", res.body)
	}
}

func TestBusinessProfilePage(t *testing.T) {
	s := newDirectoryServer(t)
	b := catalog(t)
	c, admin := s.partner(t, "Contoso SAS", "jeanne@contoso.example")
	fr := append(s.withSession(c), "Accept-Language", "fr")

	res := s.get(t, "/partner/business-profile", fr...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("page: %d %s", res.StatusCode, res.body)
	}
	mustContain(t, res.body, `<a href="/partner/business-profile" aria-current="page">`+text(b, "fr", "directory.nav.business_profile")+`</a>`,
		`<input type="hidden" name="etag" value="&#34;b0&#34;">`, `<label for="industries">`+text(b, "fr", "directory.industry.agriculture")+`</label>`)

	res = s.postForm(t, "/partner/business-profile", url.Values{"etag": {`"b0"`}, "description": {"Le cloud pour les écoles"},
		"website": {"ftp://contoso.example"}, "industries": {"education", "mining"}}, fr...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad profile: %d", res.StatusCode)
	}
	fieldErrorShown(t, res.body, "website", text(b, "fr", "directory.error.website.invalid_url"))
	fieldErrorShown(t, res.body, "industries", text(b, "fr", "directory.error.industries.unknown_industry"))
	mustContain(t, res.body, "Le cloud pour les écoles", `value="education" checked`)

	form := url.Values{"etag": {`"b0"`}, "description": {"Le cloud pour les écoles"}, "website": {"https://contoso.example"},
		"industries": {"education", "retail"}}
	wantRedirect(t, s.postForm(t, "/partner/business-profile", form, fr...), "/partner/business-profile?done=saved")
	res = s.get(t, "/partner/business-profile?done=saved", fr...)
	mustContain(t, res.body, text(b, "fr", "directory.business.notice.saved"), `value="https://contoso.example"`,
		`value="retail" checked`, `<input type="hidden" name="etag" value="&#34;b1&#34;">`)
	res = s.postForm(t, "/partner/business-profile", form, fr...)
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "directory.error.etag_mismatch"))

	sales := s.member(t, admin, "sam@contoso.example", csphub.RoleSalesAgent)
	res = s.get(t, "/partner/business-profile", s.withSession(sales)...)
	mustContain(t, res.body, text(b, "en", "directory.business.admins_only"), "Le cloud pour les écoles",
		text(b, "en", "directory.industry.education")+", "+text(b, "en", "directory.industry.retail"))
	mustNotContain(t, res.body, `name="description"`)
	if res := s.postForm(t, "/partner/business-profile", form, s.withSession(sales)...); res.StatusCode != http.StatusForbidden {
		t.Fatalf("sales agent saves: %d", res.StatusCode)
	}
}
