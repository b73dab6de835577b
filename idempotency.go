package csphub

import (
	"context"
	"sync/atomic"
)

// IdempotencyClaim travels in the context of a request that carries an
// Idempotency-Key and was allowed to run. The use case stores its response
// under the key inside its own transaction, so that the response exists if
// and only if the change committed.
type IdempotencyClaim struct {
	OrgID  string
	Key    string
	Status int // HTTP status of a successful response
	// Render turns the use case's result into the stored response body.
	Render    func(result any) ([]byte, error)
	completed atomic.Bool
}

// MarkCompleted records that the response was stored in the use case's
// transaction (called after commit).
func (c *IdempotencyClaim) MarkCompleted() { c.completed.Store(true) }

// Completed reports whether the use case stored the response itself.
func (c *IdempotencyClaim) Completed() bool { return c.completed.Load() }

type idempotencyKey struct{}

// WithIdempotency attaches a claim to ctx.
func WithIdempotency(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, c)
}

// IdempotencyFrom returns the claim in ctx, or nil.
func IdempotencyFrom(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(idempotencyKey{}).(*IdempotencyClaim)
	return c
}
