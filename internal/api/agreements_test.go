package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// agreementEnv is the API over a database the test also reaches with
// plain SQL, to store partner profiles (enrollment writes them in
// production), with a manual clock.
type agreementEnv struct {
	*env
	raw   *sql.DB
	clock *csphub.ManualClock
	op    csphub.Organization
	admin string // an operator admin's token
}

func newAgreementEnv(t *testing.T, engine string) *agreementEnv {
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
	actors := tokenAuth{}
	mux := http.NewServeMux()
	a := api.New(mux, api.Options{Service: svc, Authenticator: actors, Metrics: api.NewMetrics(), Version: "test", MaxBodyBytes: 1 << 20})
	srv := httptest.NewServer(api.Middleware(mux, nil, nil, 1<<20))
	t.Cleanup(srv.Close)
	e := &agreementEnv{env: &env{t: t, db: db, svc: svc, api: a, srv: srv, actors: actors}, raw: raw, clock: clock}
	e.op, _, err = svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "FR", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	e.admin = e.actor(e.op.ID, csphub.RoleOperatorAdmin)
	return e
}

func (e *agreementEnv) org(kind csphub.OrgKind, country string) csphub.Organization {
	e.t.Helper()
	o := csphub.Organization{ID: csphub.NewID(), Kind: kind, Name: "Org " + country, Country: country, Domain: "org.example"}
	if err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		return tx.InsertOrganization(o)
	}); err != nil {
		e.t.Fatal(err)
	}
	return o
}

// partner stores a partner organization with a partner ID and a profile
// located in country.
func (e *agreementEnv) partner(partnerID, country string) csphub.Organization {
	e.t.Helper()
	o := e.org(csphub.OrgPartner, country)
	q := `INSERT INTO partner_ids (partner_id, legal_name, country, status, source, org_id, created_at) VALUES (?, ?, ?, 'active', 'issued', ?, ?)`
	if e.db.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if _, err := e.raw.Exec(q, partnerID, o.Name, country, o.ID, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	p := csphub.PartnerProfile{OrgID: o.ID, PartnerID: partnerID, LegalName: o.Name,
		Address:        csphub.Address{Line1: "1 Main Street", City: "Town", Country: country},
		PrimaryContact: csphub.PrimaryContact{FirstName: "Ann", LastName: "Lee", Email: "ann@org.example", Phone: "+33123456789", Lang: "en"},
		SupportContact: csphub.SupportContact{Email: "support@org.example", Phone: "+33123456789"}, Version: 1}
	if err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		p.UpdatedAt = tx.Now()
		return tx.InsertPartnerProfile(p)
	}); err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *agreementEnv) token(org string, roles ...string) string {
	tok := csphub.NewID()
	e.actors[tok] = csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: org, Roles: roles}
	return tok
}

func publishBody(version, effective string, regions ...string) string {
	b, _ := json.Marshal(map[string]any{"version": version, "title": "Partner agreement " + version,
		"body": "First paragraph.\n\nSecond paragraph.", "effective_at": effective, "regions": regions})
	return string(b)
}

func (e *agreementEnv) publish(version, effective string, regions ...string) csphub.Agreement {
	e.t.Helper()
	r := e.do("POST", "/api/v1/operator/agreements", e.admin, publishBody(version, effective, regions...))
	if r.status != 201 {
		e.t.Fatalf("publish %s: %d %s", version, r.status, r.body)
	}
	var a csphub.Agreement
	r.json(e.t, &a)
	return a
}

const signerBody = `{"signer_name":"Jeanne Martin","signer_email":"jeanne@contoso.example","signer_phone":"+33 1 23 45 67 89"}`

// wantFieldCodes checks a 422 problem's field/code pairs, in any order.
func wantFieldCodes(t *testing.T, r response, want ...string) {
	t.Helper()
	p := wantProblem(t, r, 422, "invalid_input")
	var got []string
	for _, f := range p.Errors {
		got = append(got, f.Field+"/"+f.Code)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

func versionsOf(t *testing.T, r response) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var l api.AgreementList
	r.json(t, &l)
	out := []string{}
	for _, a := range l.Items {
		out = append(out, a.Version)
	}
	return out
}

func TestAgreementPublishAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newAgreementEnv(t, engine)
		const path = "/api/v1/operator/agreements"
		post := func(body string) response { return e.do("POST", path, e.admin, body) }
		body := func(m map[string]any) string {
			base := map[string]any{"version": "2026-03", "title": "Partner agreement", "body": "Text.",
				"effective_at": "2026-03-01T00:00:00Z", "regions": []string{"europe"}}
			for k, v := range m {
				if v == nil {
					delete(base, k)
				} else {
					base[k] = v
				}
			}
			b, _ := json.Marshal(base)
			return string(b)
		}

		// Every refusal names its field.
		for name, c := range map[string]struct {
			body string
			want []string
		}{
			"empty version":  {body(map[string]any{"version": ""}), []string{"version/required"}},
			"bad version":    {body(map[string]any{"version": "v 1"}), []string{"version/invalid_version"}},
			"empty title":    {body(map[string]any{"title": " "}), []string{"title/required"}},
			"two-line title": {body(map[string]any{"title": "a\nb"}), []string{"title/invalid_title"}},
			"no text":        {body(map[string]any{"body": nil}), []string{"body/body_or_url_required"}},
			"binary text":    {body(map[string]any{"body": "a\u0000b"}), []string{"body/invalid_characters"}},
			"http link":      {body(map[string]any{"url": "http://example.com/a.pdf"}), []string{"url/https_required"}},
			"bad link":       {body(map[string]any{"url": "https://"}), []string{"url/invalid_url"}},
			"no date":        {body(map[string]any{"effective_at": nil}), []string{"effective_at/required"}},
			"far date":       {body(map[string]any{"effective_at": "2040-01-01T00:00:00Z"}), []string{"effective_at/too_far_ahead"}},
			"no region":      {body(map[string]any{"regions": []string{}}), []string{"regions/required"}},
			"unknown region": {body(map[string]any{"regions": []string{"atlantis"}}), []string{"regions/unknown_region"}},
			"all at once": {`{"version":"","title":"","url":"ftp://example.com","regions":["mars"]}`,
				[]string{"version/required", "title/required", "url/https_required", "effective_at/required", "regions/unknown_region"}},
		} {
			t.Run(name, func(t *testing.T) { wantFieldCodes(t, post(c.body), c.want...) })
		}
		// Malformed requests never reach the use case.
		wantProblem(t, post(`{"version":"x","title":"y","body":"z","effective_at":"tomorrow","regions":["europe"]}`), 422, "invalid_input")
		if got := versionsOf(t, e.do("GET", path, e.admin, "")); len(got) != 0 {
			t.Fatalf("refusals published %v", got)
		}

		// Published; the version name is used once; dates follow each other.
		r := post(body(map[string]any{"regions": []string{"europe", "north_america"}}))
		if r.status != 201 {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
		var v1 csphub.Agreement
		r.json(t, &v1)
		if v1.ID == "" || v1.Version != "2026-03" || !slices.Equal(v1.Regions, []string{"europe", "north_america"}) || !v1.PublishedAt.Equal(e.clock.Now()) {
			t.Fatalf("published: %+v", v1)
		}
		p := wantProblem(t, post(body(map[string]any{"effective_at": "2026-04-01T00:00:00Z"})), 409, "agreement_version_exists")
		if len(p.Errors) != 1 || p.Errors[0].Field != "version" || p.Errors[0].Code != "version_taken" {
			t.Errorf("conflict fields: %+v", p.Errors)
		}
		wantFieldCodes(t, post(body(map[string]any{"effective_at": "2026-04-01T00:00:00Z", "title": ""})), "version/version_taken", "title/required")
		wantFieldCodes(t, post(body(map[string]any{"version": "2026-02", "effective_at": "2026-02-01T00:00:00Z", "regions": []string{"north_america"}})),
			"effective_at/not_after_previous")
		wantFieldCodes(t, post(body(map[string]any{"version": "2026-03b"})), "effective_at/not_after_previous")
		// A link alone will do.
		if r := post(body(map[string]any{"version": "2026-04", "body": nil, "url": "https://example.com/mpa.pdf", "effective_at": "2026-04-01T00:00:00Z"})); r.status != 201 {
			t.Fatalf("publish with a link: %d %s", r.status, r.body)
		}
		if got := versionsOf(t, e.do("GET", path, e.admin, "")); !slices.Equal(got, []string{"2026-04", "2026-03"}) {
			t.Fatalf("operator list: %v", got)
		}

		// A retried publication with the same key answers the first response.
		retry := body(map[string]any{"version": "2026-05", "effective_at": "2026-05-01T00:00:00Z"})
		first := e.do("POST", path, e.admin, retry, "Idempotency-Key", "k1")
		second := e.do("POST", path, e.admin, retry, "Idempotency-Key", "k1")
		var a1, a2 csphub.Agreement
		first.json(t, &a1)
		second.json(t, &a2)
		if first.status != 201 || second.status != 201 || second.header.Get("Idempotent-Replayed") != "true" || a1.ID != a2.ID {
			t.Fatalf("idempotent publication: %d %d %s %s", first.status, second.status, first.body, second.body)
		}

		// Only the operator's admins publish and list every version.
		partner := e.partner("8000001", "FR")
		customer := e.org(csphub.OrgCustomer, "FR")
		next := body(map[string]any{"version": "2026-09", "effective_at": "2026-09-01T00:00:00Z"})
		for _, c := range []struct {
			name, token, code string
		}{
			{"reviewer", e.actor(e.op.ID, csphub.RoleVerificationReviewer), "missing_role"},
			{"partner global admin", e.actor(partner.ID, csphub.RoleGlobalAdmin), "missing_role"},
			{"customer global admin", e.actor(customer.ID, csphub.RoleGlobalAdmin), "missing_role"},
			{"role claimed elsewhere", e.actor(partner.ID, csphub.RoleOperatorAdmin), "operator_admin_required"},
		} {
			wantProblem(t, e.do("POST", path, c.token, next), 403, c.code)
			wantProblem(t, e.do("GET", path, c.token, ""), 403, c.code)
		}
		wantProblem(t, e.do("POST", path, "", next), 401, "unauthenticated")
		if got := versionsOf(t, e.do("GET", path, e.token(e.op.ID, csphub.RoleOperatorAdmin), "")); len(got) != 3 {
			t.Fatalf("refused callers published: %v", got)
		}
	})
}

func TestAgreementAcceptanceAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newAgreementEnv(t, engine)
		v1 := e.publish("2026-01", "2026-01-01T00:00:00Z", "europe")
		na := e.publish("2026-01-na", "2026-01-01T00:00:00Z", "north_america")
		v2 := e.publish("2026-06", "2026-06-01T00:00:00Z", "europe")
		fr := e.partner("8100001", "FR")
		unenrolled := e.org(csphub.OrgPartner, "FR")
		customer := e.org(csphub.OrgCustomer, "FR")
		ga := e.actor(fr.ID, csphub.RoleGlobalAdmin)
		accept := func(token, id, body string) response {
			return e.do("POST", "/api/v1/agreements/"+id+"/acceptances", token, body)
		}
		status := func(token, partnerID string) csphub.AgreementStatus {
			t.Helper()
			r := e.do("GET", "/api/v1/agreement-status?partner_id="+partnerID, token, "")
			if r.status != 200 {
				t.Fatalf("status: %d %s", r.status, r.body)
			}
			var st csphub.AgreementStatus
			r.json(t, &st)
			return st
		}

		// The partner sees the version in force in its region.
		if got := versionsOf(t, e.do("GET", "/api/v1/agreements", e.actor(fr.ID, csphub.RoleSalesAgent), "")); !slices.Equal(got, []string{"2026-01"}) {
			t.Fatalf("partner list: %v", got)
		}
		if got := versionsOf(t, e.do("GET", "/api/v1/agreements", e.actor(unenrolled.ID, csphub.RoleGlobalAdmin), "")); len(got) != 0 {
			t.Fatalf("unenrolled partner list: %v", got)
		}
		if got := versionsOf(t, e.do("GET", "/api/v1/agreements", e.actor(e.op.ID, csphub.RoleVerificationReviewer), "")); len(got) != 3 {
			t.Fatalf("operator list: %v", got)
		}
		wantProblem(t, e.do("GET", "/api/v1/agreements", e.actor(customer.ID, csphub.RoleGlobalAdmin), ""), 403, "partner_or_operator_required")
		wantProblem(t, e.do("GET", "/api/v1/agreements", "", ""), 401, "unauthenticated")

		// Only a global admin accepts: other partner roles, customers, the
		// operator and API tokens are refused.
		for _, c := range []struct {
			name, token, code string
		}{
			{"admin agent", e.actor(fr.ID, csphub.RoleAdminAgent), "missing_role"},
			{"sales agent", e.actor(fr.ID, csphub.RoleSalesAgent), "missing_role"},
			{"account admin", e.actor(fr.ID, csphub.RoleAccountAdmin, csphub.RoleAdminAgent), "missing_role"},
			{"customer global admin", e.actor(customer.ID, csphub.RoleGlobalAdmin), "partner_required"},
			{"operator admin", e.admin, "missing_role"},
			{"operator with a claimed role", e.actor(e.op.ID, csphub.RoleGlobalAdmin), "partner_required"},
			{"global admin's API token", e.token(fr.ID, csphub.RoleGlobalAdmin), "user_required"},
		} {
			wantProblem(t, accept(c.token, v1.ID, signerBody), 403, c.code)
		}
		wantProblem(t, accept("", v1.ID, signerBody), 401, "unauthenticated")
		wantProblem(t, accept(e.actor(unenrolled.ID, csphub.RoleGlobalAdmin), v1.ID, signerBody), 409, "not_enrolled")
		// Only the version in force for the partner's region.
		wantProblem(t, accept(ga, v2.ID, signerBody), 409, "not_current_agreement")
		wantProblem(t, accept(ga, na.ID, signerBody), 409, "not_current_agreement")
		wantProblem(t, accept(ga, csphub.NewID(), signerBody), 404, "agreement_not_found")
		// Every signer field is checked.
		wantFieldCodes(t, accept(ga, v1.ID, `{"signer_name":"","signer_email":"","signer_phone":""}`),
			"signer_name/required", "signer_email/required", "signer_phone/required")
		wantFieldCodes(t, accept(ga, v1.ID, `{"signer_name":"J\nM","signer_email":"jeanne@","signer_phone":"12"}`),
			"signer_name/invalid_name", "signer_email/invalid_email", "signer_phone/invalid_phone")
		if st := status(ga, "8100001"); st.Signed || st.Accepted != nil || st.Current == nil || st.Current.ID != v1.ID {
			t.Fatalf("status after refusals: %+v", st)
		}

		// Accepted, once.
		r := accept(ga, v1.ID, signerBody)
		if r.status != 201 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		var c csphub.AgreementAcceptance
		r.json(t, &c)
		if c.AgreementID != v1.ID || c.Version != "2026-01" || c.SignerPhone != "+33123456789" || c.OrgID != fr.ID {
			t.Fatalf("acceptance: %+v", c)
		}
		var again csphub.AgreementAcceptance
		accept(e.actor(fr.ID, csphub.RoleGlobalAdmin), v1.ID, signerBody).json(t, &again)
		if again.ID != c.ID {
			t.Fatalf("a second acceptance: %+v", again)
		}
		st := status(e.actor(fr.ID, csphub.RoleHelpdeskAgent), "8100001")
		if !st.Signed || st.ReacceptanceRequired || st.Region != "europe" || st.Accepted == nil || st.Accepted.SignerName != "Jeanne Martin" {
			t.Fatalf("status after acceptance: %+v", st)
		}

		// Another partner (a provider checking its reseller) sees that it
		// signed, not who.
		other := e.partner("8100002", "DE")
		st = status(e.actor(other.ID, csphub.RoleSalesAgent), "8100001")
		if !st.Signed || st.Accepted == nil || st.Accepted.SignerName != "" || st.Accepted.SignerEmail != "" || st.Accepted.Version != "2026-01" {
			t.Fatalf("status seen by another partner: %+v", st)
		}
		if st := status(e.token(e.op.ID, csphub.RoleVerificationReviewer), "8100001"); !st.Signed || st.Accepted.SignerEmail != "jeanne@contoso.example" {
			t.Fatalf("status seen by the operator: %+v", st)
		}
		wantProblem(t, e.do("GET", "/api/v1/agreement-status?partner_id=8199999", e.admin, ""), 404, "partner_not_found")
		wantFieldCodes(t, e.do("GET", "/api/v1/agreement-status", e.admin, ""), "partner_id/required")
		wantFieldCodes(t, e.do("GET", "/api/v1/agreement-status?partner_id=abc", e.admin, ""), "partner_id/invalid_partner_id")
		wantProblem(t, e.do("GET", "/api/v1/agreement-status?partner_id=8100001", e.actor(customer.ID, csphub.RoleGlobalAdmin), ""), 403, "partner_or_operator_required")
		wantProblem(t, e.do("GET", "/api/v1/agreement-status?partner_id=8100001", "", ""), 401, "unauthenticated")

		// June: version 2 takes effect and must be accepted again.
		e.clock.Set(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
		st = status(ga, "8100001")
		if st.Signed || !st.ReacceptanceRequired || st.Current == nil || st.Current.ID != v2.ID || st.Accepted == nil || st.Accepted.AgreementID != v1.ID {
			t.Fatalf("status once version 2 is in force: %+v", st)
		}
		if got := versionsOf(t, e.do("GET", "/api/v1/agreements", ga, "")); !slices.Equal(got, []string{"2026-06", "2026-01"}) {
			t.Fatalf("partner list in June: %v", got)
		}
		if r := accept(ga, v2.ID, signerBody); r.status != 201 {
			t.Fatalf("accept version 2: %d %s", r.status, r.body)
		}
		if st := status(ga, "8100001"); !st.Signed || st.ReacceptanceRequired || st.Accepted.AgreementID != v2.ID {
			t.Fatalf("status after accepting version 2: %+v", st)
		}
	})
}
