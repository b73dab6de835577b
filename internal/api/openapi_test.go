package api_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"csphub/internal/api"
)

// The OpenAPI document is generated from the registered operations; this
// test closes the loop the other way: every route the API put on the mux is
// documented, every documented operation is served by a route of the mux,
// and the document is valid OpenAPI 3.1.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.do("GET", "/api/v1/openapi.json", "", "")
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	doc, err := libopenapi.NewDocument(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("OpenAPI version %q, want 3.1", v)
	}
	val, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := val.ValidateDocument(); !ok {
		for _, ve := range verrs {
			t.Errorf("invalid OpenAPI: %s: %s", ve.Message, ve.Reason)
			for _, se := range ve.SchemaValidationErrors {
				t.Errorf("  %s at %s", se.Reason, se.KeywordLocation)
			}
		}
		t.FailNow()
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}

	var documented []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if op.OperationId == "" || op.Summary == "" {
				t.Errorf("%s %s has no operationId or summary", method, path)
			}
			if op.Responses == nil || op.Responses.Default == nil {
				t.Errorf("%s %s does not document its error responses", method, path)
			}
		}
	}
	sort.Strings(documented)
	registered := e.api.Routes()
	for _, route := range registered {
		if !slices.Contains(documented, route) {
			t.Errorf("route %s is not documented in the OpenAPI document", route)
		}
	}
	for _, op := range documented {
		if !slices.Contains(registered, op) {
			t.Errorf("documented operation %s is not a route of the API", op)
		}
	}

	// Every documented operation reaches the handler registered for it,
	// not the mux's fallback.
	mux := http.NewServeMux()
	api.New(mux, api.Options{Service: e.svc})
	params := regexp.MustCompile(`\{[^}]+\}`)
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, params.ReplaceAllString(path, "00000000-0000-0000-0000-000000000001"), nil)
		if _, pattern := mux.Handler(req); pattern != op {
			t.Errorf("%s is routed to %q", op, pattern)
		}
	}
}

// Deny by default: every API route has an entry in the authorization table.
func TestEveryRouteIsAuthorized(t *testing.T) {
	e := newEnv(t, "sqlite")
	missing := api.RoutesWithoutAccessRule(e.api)
	if len(missing) > 0 {
		t.Fatalf("routes with no entry in the authorization table: %v", missing)
	}
	stale := api.AccessRulesWithoutRoute(e.api)
	if len(stale) > 0 {
		t.Fatalf("authorization entries for routes that do not exist: %v", stale)
	}
}
