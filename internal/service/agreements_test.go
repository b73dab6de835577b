package service_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// agreementWorld is a deployment with its operator, partners with and
// without a profile, and a customer.
type agreementWorld struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	raw   *sql.DB // the same database, for the rows no use case of this package writes
	svc   *service.Service
	clock *csphub.ManualClock
	op    csphub.Organization
	admin csphub.Actor // operator admin
}

func newAgreementWorld(t *testing.T, engine string) *agreementWorld {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
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
	svc := service.New(db, nil, service.Options{})
	op, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "FR", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	return &agreementWorld{t: t, ctx: ctx, db: db, raw: raw, svc: svc, clock: clock, op: op,
		admin: csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: op.ID, OrgKind: csphub.OrgOperator,
			Roles: []string{csphub.RoleOperatorAdmin}, MFAPassed: true}}
}

// org stores an organization of the kind.
func (w *agreementWorld) org(kind csphub.OrgKind, country string) csphub.Organization {
	w.t.Helper()
	o := csphub.Organization{ID: csphub.NewID(), Kind: kind, Name: "Org " + country, Country: country, Domain: "org.example"}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		return tx.InsertOrganization(o)
	}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

// partner stores a partner organization with a partner ID and a profile
// located in country.
func (w *agreementWorld) partner(partnerID, country string) csphub.Organization {
	w.t.Helper()
	o := w.org(csphub.OrgPartner, country)
	rebind := func(q string) string {
		if w.db.Dialect() != "postgres" {
			return q
		}
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
		}
		return q
	}
	if _, err := w.raw.Exec(rebind(`INSERT INTO partner_ids (partner_id, legal_name, country, status, source, org_id, created_at)
		VALUES (?, ?, ?, 'active', 'issued', ?, ?)`), partnerID, o.Name, country, o.ID, w.clock.Now()); err != nil {
		w.t.Fatal(err)
	}
	p := csphub.PartnerProfile{OrgID: o.ID, PartnerID: partnerID, LegalName: o.Name,
		Address:        csphub.Address{Line1: "1 Main Street", City: "Town", Country: country},
		PrimaryContact: csphub.PrimaryContact{FirstName: "Ann", LastName: "Lee", Email: "ann@org.example", Phone: "+33123456789", Lang: "en"},
		SupportContact: csphub.SupportContact{Email: "support@org.example", Phone: "+33123456789"}, Version: 1}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		p.UpdatedAt = tx.Now()
		return tx.InsertPartnerProfile(p)
	}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

func agrUser(o csphub.Organization, roles ...string) csphub.Actor {
	return csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: o.ID, OrgKind: o.Kind, Roles: roles, MFAPassed: true}
}

func (w *agreementWorld) publish(version string, effective time.Time, regions ...string) csphub.Agreement {
	w.t.Helper()
	a, err := w.svc.PublishAgreement(w.ctx, w.admin, service.PublishAgreementInput{Version: version, Title: "Partner agreement " + version,
		Body: "First paragraph.\r\n\r\nSecond paragraph.", EffectiveAt: effective, Regions: regions})
	if err != nil {
		w.t.Fatalf("publish %s: %v", version, err)
	}
	return a
}

var agrSigner = service.AcceptAgreementInput{SignerName: "Jeanne Martin", SignerEmail: "Jeanne@Contoso.example", SignerPhone: "01 23 45 67 89"}

// wantFields checks that err is invalid input naming exactly these
// field/code pairs, in any order.
func agrWantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	e := csphub.AsError(err)
	if e == nil || e.Kind != csphub.KindInvalid {
		t.Fatalf("got %v, want invalid input %v", err, want)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+"/"+f.Code)
		if f.Message == "" {
			t.Errorf("%s/%s has no message", f.Field, f.Code)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

func agrWantCode(t *testing.T, err error, kind csphub.Kind, code string) {
	t.Helper()
	if e := csphub.AsError(err); e == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("got %v, want %s %s", err, kind, code)
	}
}

func agrDay(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

func TestPublishAgreementChecksEveryField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newAgreementWorld(t, engine)
		good := service.PublishAgreementInput{Version: "2026-03", Title: "Partner agreement", Body: "Text.",
			EffectiveAt: agrDay(3, 1), Regions: []string{"europe"}}
		with := func(f func(in *service.PublishAgreementInput)) service.PublishAgreementInput {
			in := good
			in.Regions = slices.Clone(good.Regions)
			f(&in)
			return in
		}
		for name, c := range map[string]struct {
			in   service.PublishAgreementInput
			want []string
		}{
			"no version":     {with(func(in *service.PublishAgreementInput) { in.Version = " " }), []string{"version/required"}},
			"bad version":    {with(func(in *service.PublishAgreementInput) { in.Version = "v 1" }), []string{"version/invalid_version"}},
			"long version":   {with(func(in *service.PublishAgreementInput) { in.Version = strings.Repeat("9", 51) }), []string{"version/invalid_version"}},
			"no title":       {with(func(in *service.PublishAgreementInput) { in.Title = "" }), []string{"title/required"}},
			"two-line title": {with(func(in *service.PublishAgreementInput) { in.Title = "a\nb" }), []string{"title/invalid_title"}},
			"long title":     {with(func(in *service.PublishAgreementInput) { in.Title = strings.Repeat("é", 201) }), []string{"title/invalid_title"}},
			"no text":        {with(func(in *service.PublishAgreementInput) { in.Body = "  \n " }), []string{"body/body_or_url_required"}},
			"binary text":    {with(func(in *service.PublishAgreementInput) { in.Body = "a\x00b" }), []string{"body/invalid_characters"}},
			"long text":      {with(func(in *service.PublishAgreementInput) { in.Body = strings.Repeat("a", 200_001) }), []string{"body/too_long"}},
			"http link":      {with(func(in *service.PublishAgreementInput) { in.URL = "http://example.com/a.pdf" }), []string{"url/https_required"}},
			"bad link":       {with(func(in *service.PublishAgreementInput) { in.URL = "https:///a.pdf" }), []string{"url/invalid_url"}},
			"link with user": {with(func(in *service.PublishAgreementInput) { in.URL = "https://u:p@example.com/a.pdf" }), []string{"url/invalid_url"}},
			"no date":        {with(func(in *service.PublishAgreementInput) { in.EffectiveAt = time.Time{} }), []string{"effective_at/required"}},
			"far date":       {with(func(in *service.PublishAgreementInput) { in.EffectiveAt = agrDay(1, 1).AddDate(11, 0, 0) }), []string{"effective_at/too_far_ahead"}},
			"no region":      {with(func(in *service.PublishAgreementInput) { in.Regions = []string{" "} }), []string{"regions/required"}},
			"unknown region": {with(func(in *service.PublishAgreementInput) { in.Regions = []string{"europe", "atlantis"} }), []string{"regions/unknown_region"}},
			"everything": {service.PublishAgreementInput{Version: "?", URL: "ftp://x", Regions: []string{"mars"}},
				[]string{"version/invalid_version", "title/required", "url/https_required", "effective_at/required", "regions/unknown_region"}},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := w.svc.PublishAgreement(w.ctx, w.admin, c.in)
				agrWantFields(t, err, c.want...)
			})
		}
		// Nothing was published by the refusals.
		if list, err := w.svc.ListAgreements(w.ctx, w.admin); err != nil || len(list) != 0 {
			t.Fatalf("after refusals: %v %v", list, err)
		}

		// A link alone will do; text is normalized; regions are deduplicated.
		v1, err := w.svc.PublishAgreement(w.ctx, w.admin, with(func(in *service.PublishAgreementInput) {
			in.Body, in.URL, in.Regions = "", " https://example.com/mpa.pdf ", []string{"north_america", "Europe", "europe"}
		}))
		if err != nil || v1.URL != "https://example.com/mpa.pdf" || !slices.Equal(v1.Regions, []string{"europe", "north_america"}) {
			t.Fatalf("publish v1: %+v %v", v1, err)
		}
		// The version name is taken: a conflict alone, one more field
		// among others.
		_, err = w.svc.PublishAgreement(w.ctx, w.admin, with(func(in *service.PublishAgreementInput) { in.EffectiveAt = agrDay(4, 1) }))
		agrWantCode(t, err, csphub.KindConflict, "agreement_version_exists")
		if e := csphub.AsError(err); len(e.Fields) != 1 || e.Fields[0].Field != "version" || e.Fields[0].Code != "version_taken" {
			t.Errorf("conflict fields: %+v", e.Fields)
		}
		_, err = w.svc.PublishAgreement(w.ctx, w.admin, with(func(in *service.PublishAgreementInput) { in.EffectiveAt = agrDay(4, 1); in.Title = "" }))
		agrWantFields(t, err, "version/version_taken", "title/required")
		// In a region, versions take effect one after the other.
		_, err = w.svc.PublishAgreement(w.ctx, w.admin, with(func(in *service.PublishAgreementInput) {
			in.Version, in.Regions = "2026-03b", []string{"europe", "asia_pacific"}
		}))
		agrWantFields(t, err, "effective_at/not_after_previous")
		_, err = w.svc.PublishAgreement(w.ctx, w.admin, with(func(in *service.PublishAgreementInput) {
			in.Version, in.EffectiveAt, in.Regions = "2026-02", agrDay(2, 1), []string{"north_america"}
		}))
		agrWantFields(t, err, "effective_at/not_after_previous")
		// A region with no version takes any date.
		if _, err := w.svc.PublishAgreement(w.ctx, w.admin, with(func(in *service.PublishAgreementInput) {
			in.Version, in.EffectiveAt, in.Regions = "2026-01-apac", agrDay(1, 1), []string{"asia_pacific"}
		})); err != nil {
			t.Fatal(err)
		}

		// Only the operator's admins publish.
		partner := w.partner("5000001", "FR")
		customer := w.org(csphub.OrgCustomer, "FR")
		for name, a := range map[string]csphub.Actor{
			"reviewer":             agrUser(w.op, csphub.RoleVerificationReviewer),
			"catalog manager":      agrUser(w.op, csphub.RoleCatalogManager),
			"partner global admin": agrUser(partner, csphub.RoleGlobalAdmin),
			"claimed role":         agrUser(partner, csphub.RoleOperatorAdmin),
			"customer":             agrUser(customer, csphub.RoleGlobalAdmin),
			"delegated":            {Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: w.op.ID, OnBehalfOf: customer.ID, Roles: []string{csphub.RoleOperatorAdmin}},
		} {
			_, err := w.svc.PublishAgreement(w.ctx, a, with(func(in *service.PublishAgreementInput) { in.Version = "x-" + strings.ReplaceAll(name, " ", "-") }))
			if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindForbidden || e.Code != "operator_admin_required" {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := w.svc.ListAllAgreements(w.ctx, a); csphub.ErrorKind(err) != csphub.KindForbidden {
				t.Errorf("%s lists every version: %v", name, err)
			}
		}
		// An API token of an operator admin publishes.
		token := csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: w.op.ID, Roles: []string{csphub.RoleOperatorAdmin}}
		if _, err := w.svc.PublishAgreement(w.ctx, token, with(func(in *service.PublishAgreementInput) {
			in.Version, in.EffectiveAt = "2026-09", agrDay(9, 1)
		})); err != nil {
			t.Fatal(err)
		}

		// Audited and published to the operator.
		if err := w.svc.SequenceJournal(w.ctx); err != nil {
			t.Fatal(err)
		}
		audit, err := w.svc.ListAuditRecords(w.ctx, w.admin, 0, 100, "agreement.")
		if err != nil || len(audit.Records) != 3 || audit.Records[0].Action != "agreement.publish" || audit.Records[0].ResourceID != v1.ID {
			t.Fatalf("audit: %+v %v", audit.Records, err)
		}
		evs, err := w.svc.ListEvents(w.ctx, w.admin, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		published := 0
		for _, e := range evs.Events {
			if e.Type == "agreement.published" {
				published++
			}
		}
		if published != 3 {
			t.Errorf("%d agreement.published events, want 3", published)
		}
		if evs, _ := w.svc.ListEvents(w.ctx, agrUser(partner, csphub.RoleGlobalAdmin), 0, 100); len(evs.Events) != 0 {
			t.Errorf("a partner sees the operator's events: %v", evs.Events)
		}
	})
}

func TestAcceptAgreement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newAgreementWorld(t, engine)
		v1 := w.publish("2026-01", agrDay(1, 1), "europe")
		na := w.publish("2026-01-na", agrDay(1, 1), "north_america")
		v2 := w.publish("2026-06", agrDay(6, 1), "europe") // scheduled

		fr := w.partner("6000001", "FR")
		us := w.partner("6000002", "US")
		unenrolled := w.org(csphub.OrgPartner, "FR")
		customer := w.org(csphub.OrgCustomer, "FR")
		ga := agrUser(fr, csphub.RoleGlobalAdmin)

		// Before acceptance: the version in force, not signed.
		st, err := w.svc.OwnAgreementStatus(w.ctx, ga)
		if err != nil || st.Region != "europe" || st.Current == nil || st.Current.ID != v1.ID || st.Signed || st.ReacceptanceRequired || st.Accepted != nil {
			t.Fatalf("status before: %+v %v", st, err)
		}
		// A partner with no profile has no region, nothing to accept.
		st, err = w.svc.OwnAgreementStatus(w.ctx, agrUser(unenrolled, csphub.RoleSalesAgent))
		if err != nil || st.Region != "" || st.Current != nil || st.Signed {
			t.Fatalf("status of a partner with no profile: %+v %v", st, err)
		}
		_, err = w.svc.AcceptAgreement(w.ctx, agrUser(unenrolled, csphub.RoleGlobalAdmin), v1.ID, agrSigner)
		agrWantCode(t, err, csphub.KindConflict, "not_enrolled")

		// Only a global admin, signed in as themselves, accepts.
		for _, role := range []string{csphub.RoleAdminAgent, csphub.RoleSalesAgent, csphub.RoleAccountAdmin, csphub.RoleHelpdeskAgent, csphub.RoleBillingAdmin} {
			_, err := w.svc.AcceptAgreement(w.ctx, agrUser(fr, role, csphub.RoleAdminAgent), v1.ID, agrSigner)
			agrWantCode(t, err, csphub.KindForbidden, "global_admin_required")
			if e := csphub.AsError(err); e.Message != "only a global admin can accept the partner agreement" {
				t.Errorf("message: %q", e.Message)
			}
		}
		_, err = w.svc.AcceptAgreement(w.ctx, csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: fr.ID, Roles: []string{csphub.RoleGlobalAdmin}}, v1.ID, agrSigner)
		agrWantCode(t, err, csphub.KindForbidden, "user_required")
		_, err = w.svc.AcceptAgreement(w.ctx, csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: fr.ID, OnBehalfOf: customer.ID, Roles: []string{csphub.RoleGlobalAdmin}}, v1.ID, agrSigner)
		agrWantCode(t, err, csphub.KindForbidden, "global_admin_required")
		_, err = w.svc.AcceptAgreement(w.ctx, agrUser(customer, csphub.RoleGlobalAdmin), v1.ID, agrSigner)
		agrWantCode(t, err, csphub.KindForbidden, "partner_required")
		_, err = w.svc.AcceptAgreement(w.ctx, w.admin, v1.ID, agrSigner)
		agrWantCode(t, err, csphub.KindForbidden, "global_admin_required")
		if !service.CanAcceptAgreement(ga) || service.CanAcceptAgreement(agrUser(fr, csphub.RoleAccountAdmin)) ||
			service.CanAcceptAgreement(agrUser(customer, csphub.RoleGlobalAdmin)) {
			t.Error("CanAcceptAgreement disagrees with AcceptAgreement")
		}

		// Only the version in force for the partner's region.
		_, err = w.svc.AcceptAgreement(w.ctx, ga, csphub.NewID(), agrSigner)
		agrWantCode(t, err, csphub.KindNotFound, "agreement_not_found")
		_, err = w.svc.AcceptAgreement(w.ctx, ga, "not-an-id", agrSigner)
		agrWantCode(t, err, csphub.KindNotFound, "agreement_not_found")
		_, err = w.svc.AcceptAgreement(w.ctx, ga, v2.ID, agrSigner)
		agrWantCode(t, err, csphub.KindConflict, "not_current_agreement")
		_, err = w.svc.AcceptAgreement(w.ctx, ga, na.ID, agrSigner)
		agrWantCode(t, err, csphub.KindConflict, "not_current_agreement")

		// Every signer field is checked.
		for name, c := range map[string]struct {
			in   service.AcceptAgreementInput
			want []string
		}{
			"nothing":      {service.AcceptAgreementInput{}, []string{"signer_name/required", "signer_email/required", "signer_phone/required"}},
			"bad name":     {service.AcceptAgreementInput{SignerName: "a\nb", SignerEmail: "a@b.example", SignerPhone: "+33123456789"}, []string{"signer_name/invalid_name"}},
			"bad email":    {service.AcceptAgreementInput{SignerName: "A", SignerEmail: "nope", SignerPhone: "+33123456789"}, []string{"signer_email/invalid_email"}},
			"letters":      {service.AcceptAgreementInput{SignerName: "A", SignerEmail: "a@b.example", SignerPhone: "call me"}, []string{"signer_phone/invalid_phone"}},
			"short number": {service.AcceptAgreementInput{SignerName: "A", SignerEmail: "a@b.example", SignerPhone: "0123"}, []string{"signer_phone/invalid_phone"}},
		} {
			_, err := w.svc.AcceptAgreement(w.ctx, ga, v1.ID, c.in)
			t.Run(name, func(t *testing.T) { agrWantFields(t, err, c.want...) })
		}
		if st, _ := w.svc.OwnAgreementStatus(w.ctx, ga); st.Signed || st.Accepted != nil {
			t.Fatalf("a refusal recorded an acceptance: %+v", st)
		}

		// Accepted: normalized signer, signed status.
		c, err := w.svc.AcceptAgreement(w.ctx, ga, v1.ID, agrSigner)
		if err != nil {
			t.Fatal(err)
		}
		if c.AgreementID != v1.ID || c.Version != "2026-01" || c.Region != "europe" || c.OrgID != fr.ID || c.UserID != ga.ID ||
			c.SignerName != "Jeanne Martin" || c.SignerEmail != "jeanne@contoso.example" || c.SignerPhone != "+33123456789" || !c.AcceptedAt.Equal(w.clock.Now()) {
			t.Fatalf("acceptance: %+v", c)
		}
		st, err = w.svc.OwnAgreementStatus(w.ctx, agrUser(fr, csphub.RoleSalesAgent))
		if err != nil || !st.Signed || st.ReacceptanceRequired || st.Accepted == nil || st.Accepted.ID != c.ID {
			t.Fatalf("status after: %+v %v", st, err)
		}
		// Accepting again answers the same acceptance.
		w.clock.Advance(time.Hour)
		again, err := w.svc.AcceptAgreement(w.ctx, agrUser(fr, csphub.RoleGlobalAdmin), v1.ID, service.AcceptAgreementInput{SignerName: "Other"})
		if err != nil || again.ID != c.ID || again.SignerName != "Jeanne Martin" {
			t.Fatalf("second acceptance: %+v %v", again, err)
		}
		// A signer may have a number of another country.
		cu, err := w.svc.AcceptAgreement(w.ctx, agrUser(us, csphub.RoleGlobalAdmin), na.ID,
			service.AcceptAgreementInput{SignerName: "Sam Lee", SignerEmail: "sam@us.example", SignerPhone: "+33 1 23 45 67 89"})
		if err != nil || cu.SignerPhone != "+33123456789" || cu.Region != "north_america" {
			t.Fatalf("US partner, French number: %+v %v", cu, err)
		}

		// Audited; the event reaches the partner and the operator.
		if err := w.svc.SequenceJournal(w.ctx); err != nil {
			t.Fatal(err)
		}
		audit, err := w.svc.ListAuditRecords(w.ctx, ga, 0, 100, "agreement.")
		if err != nil || len(audit.Records) != 1 || audit.Records[0].Action != "agreement.accept" || audit.Records[0].ResourceID != c.ID {
			t.Fatalf("audit: %+v %v", audit.Records, err)
		}
		seen := func(a csphub.Actor) int {
			evs, err := w.svc.ListEvents(w.ctx, a, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range evs.Events {
				if e.Type == "agreement.accepted" && e.Subject == c.ID {
					n++
				}
			}
			return n
		}
		if seen(ga) != 1 || seen(w.admin) != 1 || seen(agrUser(us, csphub.RoleGlobalAdmin)) != 0 {
			t.Errorf("agreement.accepted seen by partner %d, operator %d, other partner %d", seen(ga), seen(w.admin), seen(agrUser(us, csphub.RoleGlobalAdmin)))
		}

		// June: version 2 takes effect; the partner must accept again.
		w.clock.Set(agrDay(6, 1).Add(time.Hour))
		st, err = w.svc.OwnAgreementStatus(w.ctx, ga)
		if err != nil || st.Signed || !st.ReacceptanceRequired || st.Current.ID != v2.ID || st.Accepted == nil || st.Accepted.AgreementID != v1.ID {
			t.Fatalf("status after version 2: %+v %v", st, err)
		}
		// Version 1 is no longer in force, but its acceptance stands.
		if old, err := w.svc.AcceptAgreement(w.ctx, ga, v1.ID, agrSigner); err != nil || old.ID != c.ID {
			t.Fatalf("version 1 again: %+v %v", old, err)
		}
		c2, err := w.svc.AcceptAgreement(w.ctx, ga, v2.ID, agrSigner)
		if err != nil || c2.AgreementID != v2.ID {
			t.Fatalf("accept version 2: %+v %v", c2, err)
		}
		st, err = w.svc.OwnAgreementStatus(w.ctx, ga)
		if err != nil || !st.Signed || st.ReacceptanceRequired || st.Accepted.ID != c2.ID {
			t.Fatalf("status after accepting version 2: %+v %v", st, err)
		}
		// A version accepted while in force stays valid while newer ones
		// remain scheduled.
		w.publish("2026-12", agrDay(12, 1), "europe")
		if st, _ := w.svc.OwnAgreementStatus(w.ctx, ga); !st.Signed {
			t.Errorf("a scheduled version unsigned the partner: %+v", st)
		}

		// Only partners have a status of their own.
		for _, a := range []csphub.Actor{w.admin, agrUser(customer, csphub.RoleGlobalAdmin)} {
			_, err := w.svc.OwnAgreementStatus(w.ctx, a)
			agrWantCode(t, err, csphub.KindForbidden, "partner_required")
		}
	})
}

func TestAgreementListsAndStatusByPartnerID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newAgreementWorld(t, engine)
		v1 := w.publish("2026-01", agrDay(1, 1), "europe", "north_america")
		v2 := w.publish("2026-02", agrDay(2, 1), "europe")
		w.publish("2026-06", agrDay(6, 1), "europe")
		fr := w.partner("7000001", "FR")
		de := w.partner("7000002", "DE")
		unenrolled := w.org(csphub.OrgPartner, "FR")
		customer := w.org(csphub.OrgCustomer, "FR")

		names := func(list []csphub.Agreement) []string {
			out := []string{}
			for _, a := range list {
				out = append(out, a.Version)
			}
			return out
		}
		// The operator sees every version, the latest first.
		all, err := w.svc.ListAgreements(w.ctx, agrUser(w.op, csphub.RoleVerificationReviewer))
		if err != nil || !slices.Equal(names(all), []string{"2026-06", "2026-02", "2026-01"}) {
			t.Fatalf("operator list: %v %v", names(all), err)
		}
		if all, err := w.svc.ListAllAgreements(w.ctx, w.admin); err != nil || len(all) != 3 {
			t.Fatalf("operator admin list: %v %v", names(all), err)
		}
		// A partner sees what took effect in its region, in force first.
		list, err := w.svc.ListAgreements(w.ctx, agrUser(fr, csphub.RoleSalesAgent))
		if err != nil || !slices.Equal(names(list), []string{"2026-02", "2026-01"}) || list[0].Body != "First paragraph.\n\nSecond paragraph." {
			t.Fatalf("partner list: %v %v", names(list), err)
		}
		if list, err := w.svc.ListAgreements(w.ctx, agrUser(unenrolled, csphub.RoleGlobalAdmin)); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("partner with no profile: %v %v", list, err)
		}
		_, err = w.svc.ListAgreements(w.ctx, agrUser(customer, csphub.RoleGlobalAdmin))
		agrWantCode(t, err, csphub.KindForbidden, "partner_or_operator_required")
		if regions, err := w.svc.AgreementRegions(w.ctx, w.admin); err != nil || len(regions) != 5 {
			t.Fatalf("regions: %v %v", regions, err)
		}

		// The German partner accepted the version in force.
		c, err := w.svc.AcceptAgreement(w.ctx, agrUser(de, csphub.RoleGlobalAdmin), v2.ID,
			service.AcceptAgreementInput{SignerName: "Hans Weber", SignerEmail: "hans@de.example", SignerPhone: "030 1234567"})
		if err != nil || c.SignerPhone != "+49301234567" {
			t.Fatalf("accept: %+v %v", c, err)
		}
		// Any partner or operator asks by partner ID; only the partner and
		// the operator see who signed.
		other, err := w.svc.AgreementStatusOf(w.ctx, agrUser(fr, csphub.RoleSalesAgent), "7000002")
		if err != nil || !other.Signed || other.Region != "europe" || other.Current.ID != v2.ID || other.Accepted == nil ||
			other.Accepted.Version != "2026-02" || other.Accepted.SignerName != "" || other.Accepted.SignerEmail != "" ||
			other.Accepted.SignerPhone != "" || other.Accepted.UserID != "" || other.Accepted.OrgID != "" {
			t.Fatalf("status seen by another partner: %+v %+v %v", other, other.Accepted, err)
		}
		for _, a := range []csphub.Actor{agrUser(w.op, csphub.RoleVerificationReviewer), agrUser(de, csphub.RoleHelpdeskAgent),
			{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: de.ID, Roles: []string{csphub.RoleSalesAgent}}} {
			st, err := w.svc.AgreementStatusOf(w.ctx, a, " 7000002 ")
			if err != nil || !st.Signed || st.Accepted.SignerName != "Hans Weber" {
				t.Fatalf("status seen by %v: %+v %v", a.OrgID, st, err)
			}
		}
		st, err := w.svc.AgreementStatusOf(w.ctx, w.admin, "7000001")
		if err != nil || st.Signed || st.Current.ID != v2.ID || st.Accepted != nil {
			t.Fatalf("unsigned partner: %+v %v", st, err)
		}
		_, err = w.svc.AgreementStatusOf(w.ctx, w.admin, "7999999")
		agrWantCode(t, err, csphub.KindNotFound, "partner_not_found")
		_, err = w.svc.AgreementStatusOf(w.ctx, w.admin, "")
		agrWantFields(t, err, "partner_id/required")
		_, err = w.svc.AgreementStatusOf(w.ctx, w.admin, "12a")
		agrWantFields(t, err, "partner_id/invalid_partner_id")
		_, err = w.svc.AgreementStatusOf(w.ctx, agrUser(customer, csphub.RoleGlobalAdmin), "7000002")
		agrWantCode(t, err, csphub.KindForbidden, "partner_or_operator_required")
		_ = v1
	})
}

// The link to the document may carry a query and a fragment.
func TestAgreementLinkKeepsItsQuery(t *testing.T) {
	w := newAgreementWorld(t, "sqlite")
	u := "https://example.com/mpa.pdf?lang=fr#page=2"
	a, err := w.svc.PublishAgreement(w.ctx, w.admin, service.PublishAgreementInput{Version: "1", Title: "MPA", URL: u,
		EffectiveAt: agrDay(1, 1), Regions: []string{"europe"}})
	if err != nil || a.URL != u {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := url.Parse(a.URL); err != nil {
		t.Fatal(err)
	}
}

// Global admins of one partner accepting at the same moment record one
// acceptance, which every one of them gets back.
func TestAcceptAgreementConcurrently(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newAgreementWorld(t, engine)
		v1 := w.publish("2026-01", agrDay(1, 1), "europe")
		fr := w.partner("7100001", "FR")
		const n = 6
		ids := make(chan string, n)
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			go func() {
				<-start
				c, err := w.svc.AcceptAgreement(w.ctx, agrUser(fr, csphub.RoleGlobalAdmin), v1.ID, agrSigner)
				errs <- err
				ids <- c.ID
			}()
		}
		close(start)
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent acceptance: %v", err)
			}
			seen[<-ids] = true
		}
		if len(seen) != 1 {
			t.Fatalf("%d different acceptances, want 1", len(seen))
		}
	})
}
