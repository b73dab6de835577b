// Package service holds csphub's use cases. Each exported method is one use
// case and runs in one transaction: the authorization check, the change,
// the audit record, the event, the outbox rows and the idempotency record
// commit together or not at all. HTTP handlers, pages and commands call
// these methods; none of them touches the store.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"csphub"
	"csphub/internal/store"
)

// Service is the set of use cases over one database.
type Service struct {
	db    *store.DB
	clock csphub.Clock
	log   *slog.Logger
	opts  Options
}

// Options carry the deployment facts use cases mention.
type Options struct {
	// MailServer names where email goes ("smtp.example.com:587" or
	// "local mailbox"), for the operator's test message.
	MailServer string
	// BaseURL is where users reach csphub, for links in emails.
	BaseURL string
	// SessionIdle ends a session unused for this long (default 8h);
	// SessionAbsolute ends any session this long after sign-in (default 7 days).
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// RelaxMFA lets partner and operator users work without multi-factor
	// authentication: a deployment-wide choice of the operator, never per user.
	RelaxMFA bool
	// SSOAllowPrivateIssuers lets organizations' OpenID providers live on
	// loopback, private or link-local addresses (and over plain HTTP on
	// loopback). Off by default: an organization's admin must not be able
	// to make csphub probe the network it runs in.
	SSOAllowPrivateIssuers bool
	// PartnerInvitesPerDay caps the reseller invitations one provider sends
	// in 24 hours (default 50); OpenPartnerInvitations caps those waiting
	// for an answer (default 1,000).
	PartnerInvitesPerDay   int
	OpenPartnerInvitations int
}

// New returns the use cases over db.
func New(db *store.DB, log *slog.Logger, o Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.MailServer == "" {
		o.MailServer = "local mailbox"
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 8 * time.Hour
	}
	if o.SessionAbsolute <= 0 {
		o.SessionAbsolute = 7 * 24 * time.Hour
	}
	if o.PartnerInvitesPerDay <= 0 {
		o.PartnerInvitesPerDay = 50
	}
	if o.OpenPartnerInvitations <= 0 {
		o.OpenPartnerInvitations = 1000
	}
	return &Service{db: db, clock: db.Clock(), log: log, opts: o}
}

// write runs one use case in one write transaction. If the request carries
// an idempotency claim, the use case's result is stored under the key in
// the same transaction.
func write[T any](ctx context.Context, s *Service, fn func(tx *store.Tx) (T, error)) (T, error) {
	var out T
	claim := csphub.IdempotencyFrom(ctx)
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		v, err := fn(tx)
		if err != nil {
			return err
		}
		out = v
		if claim == nil {
			return nil
		}
		body, err := claim.Render(v)
		if err != nil {
			return fmt.Errorf("render idempotent response: %w", err)
		}
		return tx.CompleteIdempotent(claim.OrgID, claim.Key, claim.Status, body)
	})
	if err == nil && claim != nil {
		claim.MarkCompleted()
	}
	return out, err
}

// read runs fn in one read-only transaction.
func read[T any](ctx context.Context, s *Service, fn func(tx *store.Tx) (T, error)) (T, error) {
	var out T
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		v, err := fn(tx)
		out = v
		return err
	})
	return out, err
}
