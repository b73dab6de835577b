package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

const partnerIDsPath = "/api/v1/operator/partner-ids"

// pidEnv is the API with an operator admin, a verification reviewer and
// partner users, as bearer tokens.
type pidEnv struct {
	*env
	admin, reviewer, catalog, partner, forged string
}

func newPIDEnv(t *testing.T, engine string, maxBody int64) *pidEnv {
	t.Helper()
	e := newEnv(t, engine)
	if maxBody > 0 { // a server that takes bigger bodies, over the same service
		mux := http.NewServeMux()
		e.api = api.New(mux, api.Options{Service: e.svc, Authenticator: e.actors, Version: "test", MaxBodyBytes: maxBody})
		srv := httptest.NewServer(api.Middleware(mux, nil, nil, maxBody))
		t.Cleanup(srv.Close)
		e.srv = srv
	}
	admin := e.operator()
	op, _, err := e.svc.OperatorOrganization(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	partner := e.signup("partner", "jeanne@contoso.example")
	return &pidEnv{env: e, admin: admin,
		reviewer: e.actor(op.ID, csphub.RoleVerificationReviewer),
		catalog:  e.actor(op.ID, csphub.RoleCatalogManager),
		partner:  e.actor(partner.Organization.ID, csphub.RoleGlobalAdmin),
		// A partner caller that claims the operator's role is still not
		// the operator.
		forged: e.actor(partner.Organization.ID, csphub.RoleOperatorAdmin),
	}
}

func pidItems(items ...map[string]string) string {
	b, _ := json.Marshal(map[string]any{"items": items})
	return string(b)
}

func pidItem(id, name, country, status string) map[string]string {
	m := map[string]string{"partner_id": id, "legal_name": name, "country": country}
	if status != "" {
		m["status"] = status
	}
	return m
}

func (e *pidEnv) importItems(token, body string, headers ...string) service.PartnerIDImport {
	e.t.Helper()
	r := e.do("POST", partnerIDsPath, token, body, headers...)
	if r.status != 200 {
		e.t.Fatalf("import: %d %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("a response with claim codes has Cache-Control %q", cc)
	}
	var im service.PartnerIDImport
	r.json(e.t, &im)
	return im
}

var apiClaimCode = regexp.MustCompile(`^[A-Z2-7]{5}(-[A-Z2-7]{5}){5}$`)

func TestPartnerIDImportAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPIDEnv(t, engine, 0)
		body := pidItems(
			pidItem("1234567", "Contoso SAS", "FR", ""),
			pidItem("0123456", "Leading zero", "FR", ""),
			pidItem("7654321", "Northwind", "de", "inactive"),
			pidItem("2345678", "", "XX", "paused"),
			pidItem("1234567", "Contoso again", "FR", "active"),
			map[string]string{"legal_name": "No ID", "country": "FR"},
		)
		im := e.importItems(e.admin, body)
		if im.Imported != 2 || im.Refused != 4 || len(im.Results) != 6 {
			t.Fatalf("import: %+v", im)
		}
		want := [][]string{
			nil,
			{"partner_id:invalid_partner_id"},
			nil,
			{"legal_name:required", "country:invalid_country", "status:invalid_status"},
			{"partner_id:duplicate_in_batch"},
			{"partner_id:required"},
		}
		for i, r := range im.Results {
			var got []string
			for _, fe := range r.Errors {
				got = append(got, fe.Field+":"+fe.Code)
				if fe.Message == "" {
					t.Errorf("item %d: %s has no message", i+1, fe.Code)
				}
			}
			if r.Row != i+1 || !slices.Equal(got, want[i]) {
				t.Errorf("item %d: row %d errors %v, want %v", i+1, r.Row, got, want[i])
			}
			if imported := want[i] == nil; imported != (r.Outcome == "imported") || imported != apiClaimCode.MatchString(r.ClaimCode) {
				t.Errorf("item %d: %+v", i+1, r)
			}
		}

		// The list shows both, normalized, without any claim code.
		r := e.do("GET", partnerIDsPath, e.reviewer, "")
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		var page service.PartnerIDPage
		r.json(t, &page)
		if len(page.Items) != 2 || page.Items[0].PartnerID != "1234567" || page.Items[1].Country != "DE" ||
			page.Items[1].Status != csphub.PartnerIDInactive || page.Items[0].Source != "imported" {
			t.Fatalf("list: %s", r.body)
		}
		for _, res := range im.Results {
			if res.ClaimCode != "" && strings.Contains(string(r.body), res.ClaimCode) {
				t.Fatal("the list shows a claim code")
			}
		}
		if strings.Contains(string(r.body), "claim") {
			t.Errorf("the list mentions claim codes: %s", r.body)
		}

		// An Idempotency-Key does not store or replay a response with
		// claim codes: the same request runs again and finds the IDs taken.
		key := []string{"Idempotency-Key", "import-1"}
		first := e.importItems(e.admin, pidItems(pidItem("3456789", "Fabrikam", "GB", "")), key...)
		again := e.importItems(e.admin, pidItems(pidItem("3456789", "Fabrikam", "GB", "")), key...)
		if first.Imported != 1 || again.Imported != 0 || again.Results[0].Errors[0].Code != "partner_id_exists" {
			t.Fatalf("keyed imports: %+v then %+v", first, again)
		}

		// Requests the whole of which are refused.
		p := wantProblem(t, e.do("POST", partnerIDsPath, e.admin, `{"items":[]}`), 422, "invalid_input")
		if len(p.Errors) != 1 || p.Errors[0].Field != "items" || p.Errors[0].Code != "empty" {
			t.Errorf("no items: %+v", p)
		}
		wantProblem(t, e.do("POST", partnerIDsPath, e.admin, `{}`), 422, "invalid_input")
		wantProblem(t, e.do("POST", partnerIDsPath, e.admin, `{"items":[{"partner_id":1234567}]}`), 422, "invalid_input")
		wantProblem(t, e.do("POST", partnerIDsPath, e.admin, `{"items":`), 400, "malformed_request")
	})
}

func TestPartnerIDImportAPIBatchLimit(t *testing.T) {
	e := newPIDEnv(t, "sqlite", 1<<20)
	items := make([]map[string]string, service.MaxPartnerIDImport+1)
	for i := range items {
		items[i] = pidItem(fmt.Sprint(4_000_000+i), "P", "FR", "")
	}
	p := wantProblem(t, e.do("POST", partnerIDsPath, e.admin, pidItems(items...)), 422, "invalid_input")
	if len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Field, "items") {
		t.Errorf("too many items: %+v", p)
	}
	r := e.do("GET", partnerIDsPath, e.admin, "")
	if r.status != 200 || strings.Contains(string(r.body), "4000000") {
		t.Fatalf("a refused batch imported something: %d %s", r.status, r.body)
	}
	if im := e.importItems(e.admin, pidItems(items[:service.MaxPartnerIDImport]...)); im.Imported != service.MaxPartnerIDImport {
		t.Fatalf("a full batch: %d imported", im.Imported)
	}
}

func TestPartnerIDRoutesRefuseOtherCallers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPIDEnv(t, engine, 0)
		e.importItems(e.admin, pidItems(pidItem("1234567", "Contoso SAS", "FR", "")))
		item := pidItems(pidItem("7654321", "Northwind", "DE", ""))
		patch := `{"status":"inactive"}`
		one := partnerIDsPath + "/1234567"

		for name, c := range map[string]struct {
			token, method, path, body string
			status                    int
			code                      string
		}{
			"anonymous import":             {"", "POST", partnerIDsPath, item, 401, "unauthenticated"},
			"anonymous list":               {"", "GET", partnerIDsPath, "", 401, "unauthenticated"},
			"anonymous status":             {"", "PATCH", one, patch, 401, "unauthenticated"},
			"reviewer import":              {e.reviewer, "POST", partnerIDsPath, item, 403, "missing_role"},
			"reviewer status":              {e.reviewer, "PATCH", one, patch, 403, "missing_role"},
			"catalog manager import":       {e.catalog, "POST", partnerIDsPath, item, 403, "missing_role"},
			"catalog manager list":         {e.catalog, "GET", partnerIDsPath, "", 403, "missing_role"},
			"partner import":               {e.partner, "POST", partnerIDsPath, item, 403, "missing_role"},
			"partner list":                 {e.partner, "GET", partnerIDsPath, "", 403, "missing_role"},
			"partner status":               {e.partner, "PATCH", one, patch, 403, "missing_role"},
			"partner with a forged role":   {e.forged, "POST", partnerIDsPath, item, 403, "operator_admin_required"},
			"forged role lists":            {e.forged, "GET", partnerIDsPath, "", 403, "operator_role_required"},
			"forged role changes a status": {e.forged, "PATCH", one, patch, 403, "operator_admin_required"},
		} {
			t.Run(name, func(t *testing.T) {
				wantProblem(t, e.do(c.method, c.path, c.token, c.body), c.status, c.code)
			})
		}
		// Nothing changed.
		var page service.PartnerIDPage
		e.do("GET", partnerIDsPath, e.admin, "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].Status != csphub.PartnerIDActive {
			t.Fatalf("after refusals: %+v", page)
		}
	})
}

func TestPartnerIDListAndStatusAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPIDEnv(t, engine, 0)
		e.importItems(e.admin, pidItems(
			pidItem("1111111", "Contoso SAS", "FR", ""), pidItem("1111112", "Fabrikam", "GB", ""),
			pidItem("2222222", "contoso Belgique", "BE", ""), pidItem("3333333", "Northwind", "DE", ""),
			pidItem("4444444", "Tailspin", "US", ""),
		))
		list := func(token, query string) service.PartnerIDPage {
			t.Helper()
			r := e.do("GET", partnerIDsPath+query, token, "")
			if r.status != 200 {
				t.Fatalf("list %s: %d %s", query, r.status, r.body)
			}
			var p service.PartnerIDPage
			r.json(t, &p)
			return p
		}
		var ids []string
		query := "?page_size=2"
		for {
			p := list(e.reviewer, query)
			for _, it := range p.Items {
				ids = append(ids, it.PartnerID)
			}
			if p.NextPageToken == "" {
				break
			}
			query = "?page_size=2&page_token=" + url.QueryEscape(p.NextPageToken)
		}
		if !slices.Equal(ids, []string{"1111111", "1111112", "2222222", "3333333", "4444444"}) {
			t.Fatalf("pages: %v", ids)
		}
		if p := list(e.admin, "?q=CONTOSO"); len(p.Items) != 2 || p.Items[1].PartnerID != "2222222" {
			t.Errorf("q=CONTOSO: %+v", p)
		}
		if p := list(e.admin, "?q=11111"); len(p.Items) != 2 {
			t.Errorf("q=11111: %+v", p)
		}
		wantProblem(t, e.do("GET", partnerIDsPath+"?page_token=nope", e.admin, ""), 422, "invalid_input")
		wantProblem(t, e.do("GET", partnerIDsPath+"?page_size=0", e.admin, ""), 422, "invalid_input")
		wantProblem(t, e.do("GET", partnerIDsPath+"?page_size=501", e.admin, ""), 422, "invalid_input")
		wantProblem(t, e.do("GET", partnerIDsPath+"?q="+strings.Repeat("a", 201), e.admin, ""), 422, "invalid_input")

		r := e.do("PATCH", partnerIDsPath+"/3333333", e.admin, `{"status":"inactive"}`)
		var p csphub.PartnerID
		if r.status != 200 {
			t.Fatalf("deactivate: %d %s", r.status, r.body)
		}
		r.json(t, &p)
		if p.PartnerID != "3333333" || p.Status != csphub.PartnerIDInactive {
			t.Fatalf("deactivated: %+v", p)
		}
		if got := list(e.reviewer, "?q=3333333"); got.Items[0].Status != csphub.PartnerIDInactive {
			t.Errorf("list after deactivation: %+v", got)
		}
		wantProblem(t, e.do("PATCH", partnerIDsPath+"/3333333", e.admin, `{"status":"paused"}`), 422, "invalid_input")
		wantProblem(t, e.do("PATCH", partnerIDsPath+"/3333333", e.admin, `{}`), 422, "invalid_input")
		wantProblem(t, e.do("PATCH", partnerIDsPath+"/9999999", e.admin, `{"status":"inactive"}`), 404, "partner_id_not_found")
		wantProblem(t, e.do("PATCH", partnerIDsPath+"/abc", e.admin, `{"status":"inactive"}`), 404, "partner_id_not_found")
		wantProblem(t, e.do("PATCH", partnerIDsPath+"/"+strings.Repeat("1", 21), e.admin, `{"status":"inactive"}`), 422, "invalid_input")
	})
}
