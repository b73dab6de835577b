package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// FuzzRouter sends arbitrary requests through the whole HTTP stack, as an
// operator admin: never a 5xx, never a panic, never internals in a body.
// The seeds run in every `go test`.
func FuzzRouter(f *testing.F) {
	seeds := []struct{ method, path, body, key string }{
		{"GET", "/api/v1/events", "", ""},
		{"GET", "/api/v1/events?after=9223372036854775807&page_size=500", "", ""},
		{"GET", "/api/v1/events?after=1e99", "", ""},
		{"POST", "/api/v1/operator/mail-tests", `{"to":"a@b.example"}`, "k"},
		{"POST", "/api/v1/operator/mail-tests", `{"to":"a@b.example","lang":"de"}`, ""},
		{"POST", "/api/v1/operator/mail-tests", `[1,2,3]`, "k2"},
		{"POST", "/api/v1/operator/mail-tests", "{\"to\":\"\x00\"}", ""},
		{"POST", "/api/v1/operator/mail-tests", `{"to":"a@b.example","to":"c@d.example"}`, ""},
		{"PUT", "/api/v1/events", "", ""},
		{"GET", "/api/v1/%2e%2e/%2e%2e/etc/passwd", "", ""},
		{"GET", "/readyz", "", ""},
		{"DELETE", "/api/v1/openapi.json", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body, s.key)
	}
	db := testdb.Open(f, "sqlite", nil)
	svc := service.New(db, nil, service.Options{})
	actors := tokenAuth{}
	mux := http.NewServeMux()
	api.New(mux, api.Options{Service: svc, Authenticator: actors, MaxBodyBytes: 4096})
	h := api.Middleware(mux, nil, nil, 4096)
	fe := &env{db: db, svc: svc, actors: actors}
	token := fe.operatorFor(f)

	f.Fuzz(func(t *testing.T, method, path, body, key string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://csphub.test"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		lower := strings.ToLower(rec.Body.String())
		for _, leak := range []string{"goroutine ", "panic", "sql:", "sqlite", "pq:", ".go:"} {
			if strings.Contains(lower, leak) {
				t.Fatalf("%s %s: body leaks %q: %s", method, path, leak, rec.Body)
			}
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}
