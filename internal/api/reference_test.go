package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/countries"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

func TestCountryRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		for _, code := range []string{"CA", "ca"} {
			r := e.do("GET", "/api/v1/countries/"+code+"/rules", "", "")
			if r.status != 200 {
				t.Fatalf("rules of %s: %d %s", code, r.status, r.body)
			}
			var rule countries.Rule
			r.json(t, &rule)
			if rule.Code != "CA" || rule.Name != "Canada" || !rule.PostalCode.Required || rule.PostalCode.Example != "K1A 0B1" ||
				!rule.State.Required || len(rule.State.Subdivisions) != 13 || rule.Phone.CallingCode != "+1" || rule.Phone.Example == "" {
				t.Fatalf("rules of %s: %+v", code, rule)
			}
		}
		var hk countries.Rule
		e.do("GET", "/api/v1/countries/HK/rules", "", "").json(t, &hk)
		if hk.PostalCode.Used || hk.PostalCode.Required || hk.State.Required {
			t.Errorf("Hong Kong: %+v", hk)
		}
		for _, code := range []string{"XX", "CN", "FRA", "1"} {
			wantProblem(t, e.do("GET", "/api/v1/countries/"+code+"/rules", "", ""), 404, "country_not_found")
		}
		// Public: a caller's credentials are not needed, and not looked at.
		if r := e.do("GET", "/api/v1/countries/FR/rules", e.actor(csphub.NewID()), ""); r.status != 200 {
			t.Fatalf("signed-in caller: %d", r.status)
		}
	})
}

func TestCountriesAndRegions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		r := e.do("GET", "/api/v1/countries", "", "")
		if r.status != 200 {
			t.Fatalf("countries: %d %s", r.status, r.body)
		}
		var cl api.CountryList
		r.json(t, &cl)
		if len(cl.Items) != len(countries.All()) {
			t.Fatalf("%d countries, want %d", len(cl.Items), len(countries.All()))
		}
		i := slices.IndexFunc(cl.Items, func(c api.CountrySummary) bool { return c.Code == "US" })
		if i < 0 || cl.Items[i] != (api.CountrySummary{Code: "US", Name: "United States", CallingCode: "+1",
			PostalCodeRequired: true, StateRequired: true, Region: "north_america", Currency: "USD"}) {
			t.Fatalf("US: %+v", cl.Items)
		}
		for _, c := range cl.Items {
			if c.Region == "" || c.Currency == "" {
				t.Errorf("%s has no market", c.Code) // every rule is a default market
			}
		}

		r = e.do("GET", "/api/v1/regions", "", "")
		if r.status != 200 {
			t.Fatalf("regions: %d %s", r.status, r.body)
		}
		var rl api.RegionList
		r.json(t, &rl)
		var codes []string
		total := 0
		for _, reg := range rl.Items {
			codes = append(codes, reg.Code)
			total += len(reg.Markets)
			if reg.Name == "" || len(reg.Markets) == 0 {
				t.Errorf("region %+v", reg)
			}
			if !slices.IsSortedFunc(reg.Markets, func(a, b service.RegionMarket) int { return strings.Compare(a.Country, b.Country) }) {
				t.Errorf("markets of %s not sorted", reg.Code)
			}
		}
		if !slices.Equal(codes, []string{"asia_pacific", "europe", "latin_america", "middle_east_africa", "north_america"}) {
			t.Fatalf("regions %v", codes)
		}
		eu := rl.Items[1]
		if j := slices.IndexFunc(eu.Markets, func(m service.RegionMarket) bool { return m.Country == "FR" }); j < 0 ||
			eu.Markets[j] != (service.RegionMarket{Country: "FR", Name: "France", Currency: "EUR"}) {
			t.Fatalf("France in Europe: %+v", eu.Markets)
		}

		var ml api.MarketList
		e.do("GET", "/api/v1/markets", "", "").json(t, &ml)
		if len(ml.Items) != total || ml.Items[0].Country != "AE" {
			t.Fatalf("%d markets, first %+v", len(ml.Items), ml.Items[0])
		}
		e.do("GET", "/api/v1/markets?region=north_america", "", "").json(t, &ml)
		if len(ml.Items) != 2 || ml.Items[0] != (api.MarketView{Country: "CA", Name: "Canada", Region: "north_america", Currency: "CAD"}) || ml.Items[1].Country != "US" {
			t.Fatalf("North American markets: %+v", ml.Items)
		}
		e.do("GET", "/api/v1/markets?region=atlantis", "", "").json(t, &ml)
		if len(ml.Items) != 0 {
			t.Fatalf("markets of an unknown region: %+v", ml.Items)
		}
	})
}

const webmailDomains = "/api/v1/operator/webmail-domains"

func (e *env) webmailList(tok string) service.WebmailDomains {
	e.t.Helper()
	r := e.do("GET", webmailDomains, tok, "")
	if r.status != 200 {
		e.t.Fatalf("list web-mail domains: %d %s", r.status, r.body)
	}
	var l service.WebmailDomains
	r.json(e.t, &l)
	return l
}

func operatorDomains(l service.WebmailDomains) []string {
	out := []string{}
	for _, d := range l.Operator {
		out = append(out, d.Domain)
	}
	return out
}

func TestWebmailDomainsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		op := e.operator()
		opOrg, _, err := e.svc.OperatorOrganization(context.Background())
		if err != nil {
			t.Fatal(err)
		}

		l := e.webmailList(op)
		if len(l.Operator) != 0 || !slices.Contains(l.BuiltIn, "gmail.com") || !slices.Contains(l.BuiltIn, "hotmail.*") {
			t.Fatalf("initial list %+v", l)
		}
		if r := e.do("POST", webmailDomains, op, `{"domain":"Post.Example"}`); r.status != 204 {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
		if r := e.do("POST", webmailDomains, op, `{"domain":"courrier.example"}`); r.status != 204 {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
		l = e.webmailList(op)
		if got := operatorDomains(l); !slices.Equal(got, []string{"courrier.example", "post.example"}) {
			t.Fatalf("list %v", got)
		}
		if l.Operator[0].CreatedAt.IsZero() || l.Operator[0].CreatedBy == "" {
			t.Fatalf("row %+v", l.Operator[0])
		}

		// Refusals that change nothing.
		wantProblem(t, e.do("POST", webmailDomains, op, `{"domain":"post.example"}`), 409, "webmail_domain_exists")
		wantProblem(t, e.do("POST", webmailDomains, op, `{"domain":"yahoo.co.uk"}`), 409, "webmail_domain_built_in")
		for _, bad := range []string{`{"domain":""}`, `{"domain":"not a domain"}`, `{"domain":"jane@post.example"}`, `{"domain":"localhost"}`} {
			p := wantProblem(t, e.do("POST", webmailDomains, op, bad), 422, "invalid_input")
			if len(p.Errors) != 1 || p.Errors[0].Field != "domain" || p.Errors[0].Code != "invalid_domain" {
				t.Fatalf("%s: %+v", bad, p)
			}
		}
		wantProblem(t, e.do("POST", webmailDomains, op, `{"domain":"x.example","created_by":"someone"}`), 422, "invalid_input")
		wantProblem(t, e.do("POST", webmailDomains, op, `{"domain":`), 400, "malformed_request")

		reviewer := e.actor(opOrg.ID, csphub.RoleVerificationReviewer)
		strangerAdmin := e.actor(csphub.NewID(), csphub.RoleOperatorAdmin) // the role, claimed in another organization
		partner := e.actor(csphub.NewID(), csphub.RoleGlobalAdmin)
		for _, c := range []struct {
			method, path, body string
		}{
			{"GET", webmailDomains, ""},
			{"POST", webmailDomains, `{"domain":"other.example"}`},
			{"DELETE", webmailDomains + "/post.example", ""},
		} {
			wantProblem(t, e.do(c.method, c.path, "", c.body), 401, "unauthenticated")
			wantProblem(t, e.do(c.method, c.path, "not-a-token", c.body), 401, "invalid_token")
			wantProblem(t, e.do(c.method, c.path, reviewer, c.body), 403, "missing_role")
			wantProblem(t, e.do(c.method, c.path, partner, c.body), 403, "missing_role")
			wantProblem(t, e.do(c.method, c.path, strangerAdmin, c.body), 403, "operator_admin_required")
		}
		if got := operatorDomains(e.webmailList(op)); !slices.Equal(got, []string{"courrier.example", "post.example"}) {
			t.Fatalf("refused requests changed the list: %v", got)
		}

		// Removal.
		wantProblem(t, e.do("DELETE", webmailDomains+"/gmail.com", op, ""), 409, "webmail_domain_built_in")
		wantProblem(t, e.do("DELETE", webmailDomains+"/unknown.example", op, ""), 404, "webmail_domain_not_found")
		wantProblem(t, e.do("DELETE", webmailDomains+"/bad_domain", op, ""), 422, "invalid_input")
		if r := e.do("DELETE", webmailDomains+"/POST.example", op, ""); r.status != 204 {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("DELETE", webmailDomains+"/post.example", op, ""), 404, "webmail_domain_not_found")
		if got := operatorDomains(e.webmailList(op)); !slices.Equal(got, []string{"courrier.example"}) {
			t.Fatalf("after removal: %v", got)
		}

		// A retried add with the same Idempotency-Key is replayed, not
		// refused as a duplicate.
		first := e.do("POST", webmailDomains, op, `{"domain":"retry.example"}`, "Idempotency-Key", "add-retry")
		again := e.do("POST", webmailDomains, op, `{"domain":"retry.example"}`, "Idempotency-Key", "add-retry")
		if first.status != 204 || again.status != 204 || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("idempotent add: %d, then %d %v %s", first.status, again.status, again.header, again.body)
		}

		// Every change is in the operator's audit log.
		if err := e.svc.SequenceJournal(context.Background()); err != nil {
			t.Fatal(err)
		}
		var audit service.AuditPage
		e.do("GET", "/api/v1/audit-records?action_prefix=webmail_domain.", op, "").json(t, &audit)
		var actions []string
		for _, rec := range audit.Records {
			actions = append(actions, rec.Action+" "+rec.ResourceID)
		}
		want := []string{"webmail_domain.add post.example", "webmail_domain.add courrier.example",
			"webmail_domain.remove post.example", "webmail_domain.add retry.example"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit %v, want %v", actions, want)
		}
	})
}
