package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// tokenAuth maps bearer tokens to actors: the authentication mechanism of
// these tests, standing where sessions and API tokens plug in.
type tokenAuth map[string]csphub.Actor

func (t tokenAuth) Authenticate(r *http.Request) (csphub.Actor, bool, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return csphub.Actor{}, false, nil
	}
	a, ok := t[strings.TrimPrefix(h, "Bearer ")]
	if !ok {
		return csphub.Actor{}, false, csphub.Errorf(csphub.KindUnauthenticated, "invalid_token", "the token is not valid")
	}
	return a, true, nil
}

type env struct {
	t      *testing.T
	db     *store.DB
	svc    *service.Service
	api    *api.API
	srv    *httptest.Server
	actors tokenAuth
}

func newEnv(t *testing.T, engine string) *env { return newEnvAt(t, engine, nil) }

func newEnvAt(t *testing.T, engine string, clock csphub.Clock) *env {
	t.Helper()
	db := testdb.Open(t, engine, clock)
	svc := service.New(db, nil, service.Options{})
	actors := tokenAuth{}
	mux := http.NewServeMux()
	a := api.New(mux, api.Options{Service: svc, Authenticator: actors, Metrics: api.NewMetrics(), Version: "test", MaxBodyBytes: 4096})
	srv := httptest.NewServer(api.Middleware(mux, nil, nil, 4096))
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, svc: svc, api: a, srv: srv, actors: actors}
}

func (e *env) actor(org string, roles ...string) string {
	tok := csphub.NewID()
	e.actors[tok] = csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: org, Roles: roles}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (e *env) do(method, path, token string, body string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

type problem struct {
	Type, Title, Code, Detail, Instance string
	Status                              int
	Errors                              []csphub.FieldError
}

func wantProblem(t *testing.T, r response, status int, code string) problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var p problem
	r.json(t, &p)
	if p.Status != status || p.Code != code || p.Title == "" {
		t.Fatalf("problem %+v, want status %d code %q", p, status, code)
	}
	return p
}

func TestProbes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		if r := e.do("GET", "/healthz", "", ""); r.status != 200 {
			t.Fatalf("healthz %d", r.status)
		}
		if r := e.do("GET", "/readyz", "", ""); r.status != 200 {
			t.Fatalf("readyz %d %s", r.status, r.body)
		}
		e.db.Close() // the database goes away
		if r := e.do("GET", "/readyz", "", ""); r.status != http.StatusServiceUnavailable {
			t.Fatalf("readyz with the database closed: %d", r.status)
		}
	})
}

func TestErrorsAreProblems(t *testing.T) {
	e := newEnv(t, "sqlite")
	tok := e.actor(csphub.NewID())
	wantProblem(t, e.do("GET", "/api/v1/nowhere", tok, ""), 404, "route_not_found")
	wantProblem(t, e.do("GET", "/api/v1/events", "", ""), 401, "unauthenticated")
	wantProblem(t, e.do("GET", "/api/v1/events", "forged", ""), 401, "invalid_token")
	p := wantProblem(t, e.do("GET", "/api/v1/events?after=-4", tok, ""), 422, "invalid_input")
	if len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Field, "after") {
		t.Fatalf("expected a field error on after: %+v", p)
	}
	wantProblem(t, e.do("GET", "/api/v1/events?page_size=abc", tok, ""), 422, "invalid_input")
	if r := e.do("GET", "/api/v1/events", tok, ""); r.header.Get("X-Request-Id") == "" {
		t.Fatal("no request id on the response")
	}
	r := e.do("GET", "/api/v1/events", tok, "", "X-Request-Id", "client-chosen-id-1")
	if r.header.Get("X-Request-Id") != "client-chosen-id-1" {
		t.Fatalf("a well-formed client request id is kept, got %q", r.header.Get("X-Request-Id"))
	}
}

func TestEventsAreScopedToTheCallersOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		ctx := context.Background()
		orgA, orgB := csphub.NewID(), csphub.NewID()
		for i := range 5 {
			actor := csphub.Actor{Kind: csphub.ActorUser, ID: "u", OrgID: orgA}
			audience := []string{}
			if i%2 == 0 {
				audience = append(audience, orgB)
			}
			if err := e.db.Write(ctx, func(tx *store.Tx) error {
				return tx.Emit(actor, csphub.EventEntry{Type: "test.event", Subject: "s", Data: map[string]int{"i": i}, Audience: audience})
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.svc.SequenceJournal(ctx); err != nil {
			t.Fatal(err)
		}
		read := func(tok string, after int64, size int) service.EventPage {
			r := e.do("GET", "/api/v1/events?after="+itoa(after)+"&page_size="+itoa(int64(size)), tok, "")
			if r.status != 200 {
				t.Fatalf("events: %d %s", r.status, r.body)
			}
			var p service.EventPage
			r.json(t, &p)
			return p
		}
		a, b, stranger := e.actor(orgA), e.actor(orgB), e.actor(csphub.NewID())
		if p := read(a, 0, 50); len(p.Events) != 5 {
			t.Fatalf("org A sees %d events, want 5", len(p.Events))
		}
		first := read(b, 0, 2)
		if len(first.Events) != 2 {
			t.Fatalf("org B first page: %d", len(first.Events))
		}
		rest := read(b, first.Next, 50)
		if len(rest.Events) != 1 || rest.Events[0].Position <= first.Next {
			t.Fatalf("org B resumes after %d: %+v", first.Next, rest)
		}
		if p := read(b, rest.Next, 50); len(p.Events) != 0 || p.Next != rest.Next {
			t.Fatalf("caught up: %+v", p)
		}
		if p := read(stranger, 0, 50); len(p.Events) != 0 {
			t.Fatalf("a stranger sees %d events", len(p.Events))
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestBadInputIsRefusedClearlyAndChangesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		op := e.operator()
		// Mass assignment: unknown fields are refused, not ignored.
		p := wantProblem(t, e.do("POST", mailTests, op, `{"to": "ops@example.com", "organization_id": "x", "status": "sent"}`), 422, "invalid_input")
		if len(p.Errors) == 0 {
			t.Fatalf("no field errors: %+v", p)
		}
		wantProblem(t, e.do("POST", mailTests, op, `{"to": `), 400, "malformed_request")
		wantProblem(t, e.do("POST", mailTests, op, `{"to": "`+strings.Repeat("a", 5000)+`@example.com"}`), 413, "body_too_large")
		p = wantProblem(t, e.do("POST", mailTests, op, `{"to": "ops@example.com", "name": "Eve\r\nBcc: victim@example.com"}`), 422, "invalid_input")
		if p.Errors[0].Field != "name" {
			t.Fatalf("header injection not reported on name: %+v", p)
		}
		wantProblem(t, e.do("POST", mailTests, e.actor(csphub.NewID(), "admin_agent"), `{"to": "ops@example.com"}`), 403, "missing_role")
		// An operator_admin role claimed in another organization is not the operator's.
		wantProblem(t, e.do("POST", mailTests, e.actor(csphub.NewID(), service.RoleOperatorAdmin), `{"to": "ops@example.com"}`), 403, "operator_admin_required")
		if n := e.queued(); n != 0 {
			t.Fatalf("%d messages queued by refused requests", n)
		}
	})
}

func TestInternalErrorsKeepTheirSecrets(t *testing.T) {
	e := newEnv(t, "sqlite")
	tok := e.actor(csphub.NewID())
	e.db.Close()
	r := e.do("GET", "/api/v1/events", tok, "")
	p := wantProblem(t, r, 500, "internal")
	if p.Detail != "an unexpected error occurred" || p.Instance == "" {
		t.Fatalf("problem %+v", p)
	}
	for _, leak := range []string{"sql", "database", "closed", "goroutine", ".go:"} {
		if strings.Contains(strings.ToLower(string(r.body)), leak) {
			t.Fatalf("the body leaks %q: %s", leak, r.body)
		}
	}
}

// Every mutation writes its audit record and its event in its transaction.
func TestMutationsAreAuditedAndPublished(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		op := e.operator() // one mutation: the operator organization
		for i := range 3 {
			r := e.do("POST", mailTests, op, `{"to": "ops@example.com"}`, "Idempotency-Key", "k"+itoa(int64(i)))
			if r.status != 201 {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
		e.do("POST", mailTests, op, `{"to": "ops@example.com"}`, "Idempotency-Key", "k0") // a replay changes nothing
		ctx := context.Background()
		if err := e.svc.SequenceJournal(ctx); err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.VerifyAudit(ctx)
		if err != nil || !v.OK || v.Checked != 4 {
			t.Fatalf("audit: %+v %v, want 4 chained records", v, err)
		}
		r := e.do("GET", "/api/v1/events", op, "")
		var page service.EventPage
		r.json(t, &page)
		if len(page.Events) != 4 || page.Events[3].Type != "mail.test_queued" {
			t.Fatalf("events: %s", r.body)
		}
	})
}

func TestPanicsBecomeProblemsWithoutStacks(t *testing.T) {
	h := api.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	}), nil, api.NewMetrics(), 1024)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/anything", nil))
	if rec.Code != 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("%d %s", rec.Code, rec.Header())
	}
	if b := rec.Body.String(); strings.Contains(b, "secret") || strings.Contains(b, "goroutine") || !strings.Contains(b, `"code":"internal"`) {
		t.Fatalf("body %s", b)
	}
}
