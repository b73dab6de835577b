package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"csphub"
	"csphub/internal/service"
)

// idempotent runs a POST that carries an Idempotency-Key: the same key and
// body replay the stored response, the same key with another body is
// refused (422), and a request that arrives while the first one runs is
// refused (409). Keys are namespaced by the caller's organization and, in
// it, by the caller, so they apply to signed-in callers only: public routes
// ignore them.
func (a *API) idempotent(pattern string, w http.ResponseWriter, r *http.Request, h http.Handler) {
	ctx := r.Context()
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 || strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		a.writeProblem(w, r, newProblem(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large"))
			return
		}
		a.writeProblem(w, r, newProblem(http.StatusBadRequest, "malformed_request", "could not read the request body"))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	// Keys live in the organization's namespace, and within it in the
	// caller's: one user's stored response is never replayed to another.
	actor := actorFrom(ctx)
	org := actor.TenantID()
	key = string(actor.Kind) + ":" + actor.ID + ":" + key
	res, err := a.svc.BeginIdempotent(ctx, service.IdempotencyRequest{
		OrgID: org, Key: key, Operation: pattern, RequestHash: requestHash(r.Method+" "+r.URL.RequestURI(), body),
		Lock: a.opts.IdempotencyLock, TTL: a.opts.IdempotencyTTL,
	})
	if err != nil {
		a.writeProblem(w, r, a.fail(ctx, err).(*Problem))
		return
	}
	switch res.Verdict {
	case service.IdempotencyReplay:
		ct := "application/json"
		if res.Status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
		return
	case service.IdempotencyMismatch:
		a.writeProblem(w, r, newProblem(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was already used with a different request"))
		return
	case service.IdempotencyInProgress:
		a.writeProblem(w, r, newProblem(http.StatusConflict, "idempotency_key_in_use",
			"a request with this Idempotency-Key is still being processed; retry later"))
		return
	}

	claim := &csphub.IdempotencyClaim{OrgID: org, Key: key, Status: a.status[pattern], Render: renderJSON}
	rec := &statusRecorder{ResponseWriter: w, keep: true}
	defer func() {
		// Settle the key even if the handler panicked (the recovery
		// middleware answers 500, which releases it).
		status := rec.status
		if p := recover(); p != nil {
			status = http.StatusInternalServerError
			defer panic(p)
		}
		// Settle even if the client went away, or the key would stay
		// running until its lock expires.
		if err := a.svc.FinishIdempotent(context.WithoutCancel(ctx), claim, status, rec.capture); err != nil {
			a.log.ErrorContext(ctx, "settle idempotency key", slog.String("request_id", csphub.RequestID(ctx)), slog.Any("error", err))
		}
	}()
	h.ServeHTTP(rec, r.WithContext(csphub.WithIdempotency(ctx, claim)))
}

// requestHash fingerprints a request: its method and target (the same body
// sent to another resource is another request) and its body, canonicalized
// when it is JSON so that whitespace and key order do not make a retry look
// different.
func requestHash(target string, body []byte) string {
	var v any
	if json.Unmarshal(body, &v) == nil {
		if canon, err := json.Marshal(v); err == nil {
			body = canon
		}
	}
	h := sha256.New()
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func renderJSON(v any) ([]byte, error) { return json.Marshal(v) }
