// Package api is csphub's REST JSON API under /api/v1, plus the probes and
// metrics endpoints. Operations are declared with huma, which checks
// requests against their schema and generates the OpenAPI 3.1 document;
// every route is listed in routes.go and has an entry in the authorization
// table of authz.go. Handlers call internal/service only.
package api

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"csphub"
	"csphub/internal/service"
)

// Authenticator resolves the caller of a request. ok is false when the
// request carries no credentials; err is a domain error for bad ones.
type Authenticator interface {
	Authenticate(r *http.Request) (actor csphub.Actor, ok bool, err error)
}

// Options configure the API.
type Options struct {
	Service         *service.Service
	Authenticator   Authenticator // nil: every authenticated route answers 401
	Logger          *slog.Logger
	Metrics         *Metrics
	Version         string
	MaxBodyBytes    int64
	IdempotencyTTL  time.Duration
	IdempotencyLock time.Duration
	// SecureCookies: csphub is served over HTTPS (cookies get Secure and
	// the __Host- prefix).
	SecureCookies bool
}

// API is the REST API.
type API struct {
	svc     *service.Service
	authn   Authenticator
	log     *slog.Logger
	metrics *Metrics
	opts    Options
	humaAPI huma.API
	mux     *recordingMux
	access  map[string]Access // by route pattern, for registered routes
	status  map[string]int    // success status by route pattern, for idempotent replays
}

// New builds the API and registers its routes on mux.
func New(mux *http.ServeMux, o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = 24 * time.Hour
	}
	if o.IdempotencyLock <= 0 {
		o.IdempotencyLock = time.Minute
	}
	a := &API{svc: o.Service, authn: o.Authenticator, log: o.Logger, metrics: o.Metrics, opts: o, access: map[string]Access{}, status: map[string]int{}}
	a.mux = &recordingMux{mux: mux, wrap: a.guard}

	cfg := huma.DefaultConfig("csphub API", o.Version)
	cfg.CreateHooks = nil // no $schema fields or Link headers in responses
	cfg.OpenAPIPath = ""  // served by a documented operation instead (routes.go)
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.Info.Description = "REST API of csphub, a two-tier Cloud Solution Provider program: " +
		"operator, indirect providers, indirect resellers and customers. Errors are RFC 9457 problem details."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":  {Type: "http", Scheme: "bearer", Description: "API token of an organization"},
		"session": {Type: "apiKey", In: "cookie", Name: "__Host-csphub_session", Description: "Browser session"},
	}
	a.humaAPI = humago.New(a.mux, cfg)
	a.routes()
	a.registerPlain()
	return a
}

// OpenAPI returns the OpenAPI 3.1 document of every API route.
func (a *API) OpenAPI() *huma.OpenAPI { return a.humaAPI.OpenAPI() }

// Routes lists every pattern registered on the server mux by the API, so
// that tests can compare it with the OpenAPI document and the
// authorization table.
func (a *API) Routes() []string {
	r := append([]string(nil), a.mux.patterns...)
	sort.Strings(r)
	return r
}

// register declares one operation: its OpenAPI description, and its handler.
func register[I, O any](a *API, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.MaxBodyBytes = a.opts.MaxBodyBytes
	if acc, ok := authorization[op.Method+" "+op.Path]; ok && !acc.Public {
		op.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
		if acc.Delegable {
			op.Parameters = append(op.Parameters, &huma.Param{Name: "On-Behalf-Of", In: "header", Schema: &huma.Schema{Type: "string", MaxLength: ptrInt(36)},
				Description: "Act in this organization through a delegated admin grant it gave yours, with the granted roles only"})
		}
	}
	op.Responses = withProblemResponses(op.Responses)
	a.status[op.Method+" "+op.Path] = cmp.Or(op.DefaultStatus, http.StatusOK)
	huma.Register(a.humaAPI, op, h)
}

func ptrInt(n int) *int { return &n }

// withProblemResponses documents the problem body of error answers.
func withProblemResponses(r map[string]*huma.Response) map[string]*huma.Response {
	if r == nil {
		r = map[string]*huma.Response{}
	}
	if _, ok := r["default"]; !ok {
		r["default"] = &huma.Response{
			Description: "Error (RFC 9457 problem details)",
			Content:     map[string]*huma.MediaType{"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/Problem"}}},
		}
	}
	return r
}

// recordingMux is what huma registers routes on: it records every pattern
// and wraps every handler with authentication, authorization and
// idempotency, so that no API route can bypass them.
type recordingMux struct {
	mux      *http.ServeMux
	wrap     func(pattern string, h http.Handler) http.Handler
	patterns []string
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.mux.Handle(pattern, m.wrap(pattern, http.HandlerFunc(h)))
}

func (m *recordingMux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Metrics are the Prometheus collectors of the HTTP layer.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}
