package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// routes lists every API operation. Each one needs an entry in the
// authorization table (authz.go).
func (a *API) routes() {
	register(a, huma.Operation{
		OperationID: "getOpenAPI", Method: http.MethodGet, Path: "/api/v1/openapi.json",
		Summary: "This API's OpenAPI 3.1 document", Tags: []string{"meta"},
	}, a.getOpenAPI)

	register(a, huma.Operation{
		OperationID: "listEvents", Method: http.MethodGet, Path: "/api/v1/events",
		Summary:     "Read the event feed of your organization",
		Description: "Events your organization may see, in commit order, after the given position. Pass the returned `next` as `after` to resume; an empty page means you are up to date.",
		Tags:        []string{"events"},
	}, a.listEvents)

	register(a, huma.Operation{
		OperationID: "sendTestEmail", Method: http.MethodPost, Path: "/api/v1/operator/mail-tests",
		Summary:       "Send a test email through the outbox",
		Description:   "Queues a message that checks the deployment's mail settings. It is delivered after commit, retried while the server is down, and kept in the local mailbox when no SMTP server is configured.",
		Tags:          []string{"operator"},
		DefaultStatus: http.StatusCreated,
	}, a.sendTestEmail)
}

// registerPlain adds the routes that are not JSON API operations: probes
// and metrics.
func (a *API) registerPlain() {
	a.mux.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.mux.HandleFunc("GET /readyz", a.readyz)
	if a.metrics != nil {
		a.mux.mux.Handle("GET /metrics", promHandler(a.metrics))
	}
	a.mux.mux.HandleFunc("/api/", NotFoundAPI)
}
