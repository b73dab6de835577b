package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"csphub/internal/service"
)

type openAPIOutput struct {
	ContentType string `header:"Content-Type"`
	Body        json.RawMessage
}

func (a *API) getOpenAPI(ctx context.Context, _ *struct{}) (*openAPIOutput, error) {
	b, err := json.Marshal(a.humaAPI.OpenAPI())
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &openAPIOutput{ContentType: "application/openapi+json", Body: b}, nil
}

type listEventsInput struct {
	After    int64 `query:"after" minimum:"0" doc:"Return events after this position (0: from the start)"`
	PageSize int   `query:"page_size" minimum:"1" maximum:"500" default:"50" doc:"Events per page"`
}

type listEventsOutput struct {
	Body service.EventPage
}

func (a *API) listEvents(ctx context.Context, in *listEventsInput) (*listEventsOutput, error) {
	page, err := a.svc.ListEvents(ctx, actorFrom(ctx), in.After, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listEventsOutput{Body: page}, nil
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// readyz answers 200 only when the database answers and its schema is
// current, so that a load balancer sends no traffic to a node that cannot
// serve it.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.svc.Readiness(ctx); err != nil {
		a.log.WarnContext(ctx, "not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "reason": "database unreachable or schema not current"})
		return
	}
	_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
}

func promHandler(m *Metrics) http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
