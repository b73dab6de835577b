package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
)

// Problem is an RFC 9457 problem details body with csphub's stable machine
// code and per-field errors.
type Problem struct {
	Type      string              `json:"type" doc:"URI identifying the problem type"`
	Title     string              `json:"title" doc:"Short summary of the problem type"`
	Status    int                 `json:"status" doc:"HTTP status code"`
	Code      string              `json:"code" doc:"Stable machine-readable error code"`
	Detail    string              `json:"detail,omitempty" doc:"Explanation for this occurrence"`
	Instance  string              `json:"instance,omitempty" doc:"Request id of this occurrence"`
	Errors    []csphub.FieldError `json:"errors,omitempty" doc:"Per-field validation errors"`
	retryHint int
}

func (p *Problem) Error() string  { return p.Code + ": " + p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma send problems as application/problem+json.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// GetHeaders adds Retry-After to rate-limited answers.
func (p *Problem) GetHeaders() http.Header {
	if p.retryHint > 0 {
		return http.Header{"Retry-After": []string{strconv.Itoa(p.retryHint)}}
	}
	return nil
}

// statusOf is the one table that maps error kinds to HTTP statuses.
var statusOf = map[csphub.Kind]int{
	csphub.KindInvalid:            http.StatusUnprocessableEntity,
	csphub.KindUnauthenticated:    http.StatusUnauthorized,
	csphub.KindForbidden:          http.StatusForbidden,
	csphub.KindNotFound:           http.StatusNotFound,
	csphub.KindConflict:           http.StatusConflict,
	csphub.KindPreconditionFailed: http.StatusPreconditionFailed,
	csphub.KindUnprocessable:      http.StatusUnprocessableEntity,
	csphub.KindRateLimited:        http.StatusTooManyRequests,
	csphub.KindInternal:           http.StatusInternalServerError,
}

// codeOfStatus names the problems huma raises itself (malformed JSON,
// schema violations, oversized bodies) with stable codes.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            "malformed_request",
	http.StatusUnauthorized:          "unauthenticated",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusNotAcceptable:         "not_acceptable",
	http.StatusConflict:              "conflict",
	http.StatusPreconditionFailed:    "precondition_failed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "invalid_input",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusInternalServerError:   "internal",
	http.StatusServiceUnavailable:    "unavailable",
}

func newProblem(status int, code, detail string) *Problem {
	if code == "" {
		code = codeOfStatus[status]
		if code == "" {
			code = "error"
		}
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

func init() {
	// huma raises its own errors (request parsing, schema validation, body
	// limits) through this hook; they become csphub problems. Anything at
	// 500 keeps no internals.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status >= 500 {
			return newProblem(status, "", "an unexpected error occurred")
		}
		p := newProblem(status, "", msg)
		for _, e := range errs {
			var d *huma.ErrorDetail
			if errors.As(e, &d) && d != nil {
				p.Errors = append(p.Errors, csphub.FieldError{Field: d.Location, Code: "invalid", Message: d.Message})
			}
		}
		return p
	}
}

// fail turns an error from a use case into the problem the client sees.
// Domain errors keep their code and message; anything else is logged with
// the request id and answered 500 with a generic message.
func (a *API) fail(ctx context.Context, err error) error {
	e := csphub.AsError(err)
	if e == nil || e.Kind == csphub.KindInternal {
		a.log.ErrorContext(ctx, "request failed", slog.String("request_id", csphub.RequestID(ctx)), slog.Any("error", err))
		p := newProblem(http.StatusInternalServerError, "internal", "an unexpected error occurred")
		p.Instance = csphub.RequestID(ctx)
		return p
	}
	p := newProblem(statusOf[e.Kind], e.Code, e.Message)
	p.Errors = e.Fields
	p.retryHint = e.RetryAfter
	p.Instance = csphub.RequestID(ctx)
	return p
}
