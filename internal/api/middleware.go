package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"csphub"
)

// NewMetrics creates the HTTP collectors on a fresh registry, with the Go
// runtime and process collectors beside them.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csphub_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "csphub_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type actorKey struct{}

type tokenKey struct{}

// withToken keeps the caller's session token, for sign-out.
func withToken(ctx context.Context, t string) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

func tokenFrom(ctx context.Context) string { t, _ := ctx.Value(tokenKey{}).(string); return t }

type addressKey struct{}

// clientAddress is the caller's IP address (the direct peer: csphub does
// not trust forwarding headers unless told to).
func clientAddress(ctx context.Context) string { a, _ := ctx.Value(addressKey{}).(string); return a }

func withActor(ctx context.Context, a csphub.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// actorFrom returns the authenticated caller; guard guarantees one on
// every non-public route.
func actorFrom(ctx context.Context) csphub.Actor {
	a, _ := ctx.Value(actorKey{}).(csphub.Actor)
	return a
}

// statusRecorder remembers the status and size of a response and, when
// capture is set, its body.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	bytes   int
	capture []byte
	keep    bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.keep {
		s.capture = append(s.capture, b...)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var requestIDShape = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// Middleware wraps the whole server: request id, panic recovery, access
// log, metrics, body cap. It sits outside the mux so that it also sees
// unmatched routes and web pages.
func Middleware(next http.Handler, log *slog.Logger, m *Metrics, maxBody int64) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDShape.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		r = r.WithContext(context.WithValue(csphub.WithRequestID(r.Context(), id), addressKey{}, host))
		if r.Body != nil && maxBody > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic", slog.String("request_id", id), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				if rec.status == 0 {
					writeJSONProblem(rec, newProblemWithInstance(http.StatusInternalServerError, "internal", "an unexpected error occurred", id))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			if m != nil {
				m.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Inc()
				m.latency.WithLabelValues(r.Method, route).Observe(d.Seconds())
			}
			attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", rec.status), slog.Int("bytes", rec.bytes), slog.Duration("duration", d), slog.String("remote", r.RemoteAddr)}
			// The route pattern names a matched request; its path is not
			// logged, since paths carry tokens (/password-resets/{token}).
			if r.Pattern == "" {
				attrs = append(attrs, slog.String("path", truncate(r.URL.Path, 200)))
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

func newProblemWithInstance(status int, code, detail, instance string) *Problem {
	p := newProblem(status, code, detail)
	p.Instance = instance
	return p
}

func writeJSONProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	for k, v := range p.GetHeaders() {
		w.Header()[k] = v
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func (a *API) writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.Instance = csphub.RequestID(r.Context())
	}
	writeJSONProblem(w, p)
}

// NotFoundAPI answers unmatched /api/ paths with a problem instead of the
// mux's plain text.
func NotFoundAPI(w http.ResponseWriter, r *http.Request) {
	writeJSONProblem(w, newProblemWithInstance(http.StatusNotFound, "route_not_found",
		fmt.Sprintf("no route %s %s", r.Method, r.URL.Path), csphub.RequestID(r.Context())))
}

// CrossOriginProtection refuses cross-site unsafe requests (browsers say
// where a request comes from in Sec-Fetch-Site and Origin), answering with
// a problem. Clients that are not browsers send neither and pass.
func CrossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONProblem(w, newProblemWithInstance(http.StatusForbidden, "cross_origin_request",
			"cross-site requests that change data are refused", csphub.RequestID(r.Context())))
	}))
	return cop.Handler(next)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
