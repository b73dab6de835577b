package service

import (
	"context"
	"errors"
	"fmt"

	"csphub"
	"csphub/internal/store"
)

// Readiness reports whether the database answers and its schema is the one
// this binary expects.
func (s *Service) Readiness(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	st, err := s.db.Status(ctx)
	if err != nil {
		return err
	}
	if !st.UpToDate() {
		return fmt.Errorf("schema at version %d, this binary needs %d", st.Current, st.Latest)
	}
	return nil
}

// OperatorSeed describes the operator organization created at first start.
type OperatorSeed struct {
	Name    string
	Country string
	Domain  string
}

// EnsureOperator creates the deployment's operator organization if it does
// not exist yet, and returns it with whether it was created now.
func (s *Service) EnsureOperator(ctx context.Context, seed OperatorSeed) (csphub.Organization, bool, error) {
	type result struct {
		org     csphub.Organization
		created bool
	}
	r, err := write(ctx, s, func(tx *store.Tx) (result, error) {
		org, err := tx.OperatorOrganization()
		if err == nil {
			return result{org, false}, nil
		}
		if csphub.ErrorKind(err) != csphub.KindNotFound {
			return result{}, err
		}
		org = csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgOperator, Name: seed.Name,
			Country: seed.Country, Domain: seed.Domain, CreatedAt: tx.Now()}
		if err := tx.InsertOrganization(org); err != nil {
			return result{}, err
		}
		actor := csphub.System(csphub.RequestID(ctx))
		actor.OrgID = org.ID
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "organization.create", ResourceType: "organization", ResourceID: org.ID, After: org}); err != nil {
			return result{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "organization.created", Subject: org.ID, Data: org}); err != nil {
			return result{}, err
		}
		return result{org, true}, nil
	})
	if csphub.ErrorKind(err) == csphub.KindConflict {
		// Another node created it between our read and our insert.
		org, err := read(ctx, s, func(tx *store.Tx) (csphub.Organization, error) { return tx.OperatorOrganization() })
		return org, false, err
	}
	return r.org, r.created, err
}

// OperatorOrganization returns the deployment's operator organization.
func (s *Service) OperatorOrganization(ctx context.Context) (csphub.Organization, bool, error) {
	org, err := read(ctx, s, func(tx *store.Tx) (csphub.Organization, error) { return tx.OperatorOrganization() })
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return org, false, csphub.Errorf(csphub.KindNotFound, "operator_not_set_up", "no operator organization yet: start `csphub serve` once")
	}
	return org, err == nil, err
}

// EventPage is one page of an organization's event feed.
type EventPage struct {
	Events []csphub.Event `json:"events"`
	// Next is the cursor to pass as `after` for the following page; it is
	// the position of the last event returned, or the given cursor when the
	// page is empty, so that polling resumes where it stopped.
	Next int64 `json:"next"`
}

// ListEvents returns the events the actor's organization may see, after
// the given position, oldest first.
func (s *Service) ListEvents(ctx context.Context, actor csphub.Actor, after int64, limit int) (EventPage, error) {
	if after < 0 {
		return EventPage{}, csphub.Invalid(csphub.FieldError{Field: "after", Code: "out_of_range", Message: "must not be negative"})
	}
	return read(ctx, s, func(tx *store.Tx) (EventPage, error) {
		evs, err := tx.EventsAfter(actor.TenantID(), after, limit)
		if err != nil {
			return EventPage{}, err
		}
		p := EventPage{Events: evs, Next: after}
		if p.Events == nil {
			p.Events = []csphub.Event{}
		}
		if n := len(evs); n > 0 {
			p.Next = evs[n-1].Position
		}
		return p, nil
	})
}

// VerifyAudit walks the audit chain (csphub audit verify).
func (s *Service) VerifyAudit(ctx context.Context) (store.AuditVerification, error) {
	return s.db.VerifyAudit(ctx)
}

// SequenceJournal numbers committed events and chains audit records until
// none is left; the sequencer worker and commands that need a settled
// journal call it.
func (s *Service) SequenceJournal(ctx context.Context) error {
	for {
		n, err := s.db.Sequence(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// IdempotencyRequest and friends are re-exported so that HTTP layers can
// use the mechanism without importing the store.
type (
	IdempotencyRequest = store.IdempotencyRequest
	IdempotencyResult  = store.IdempotencyResult
)

const (
	IdempotencyProceed    = store.IdempotencyProceed
	IdempotencyReplay     = store.IdempotencyReplay
	IdempotencyMismatch   = store.IdempotencyMismatch
	IdempotencyInProgress = store.IdempotencyInProgress
)

// BeginIdempotent claims an idempotency key (see store.BeginIdempotent).
func (s *Service) BeginIdempotent(ctx context.Context, r IdempotencyRequest) (IdempotencyResult, error) {
	return s.db.BeginIdempotent(ctx, r)
}

// FinishIdempotent settles a key after its request ran: a use case that
// committed stored its response already; a deterministic refusal (invalid
// input, missing right, not found) is stored so that a retry gets the same
// answer; anything that may pass (a conflict, a rate limit, a server error)
// releases the key so that a retry runs again.
func (s *Service) FinishIdempotent(ctx context.Context, claim *csphub.IdempotencyClaim, status int, body []byte) error {
	switch {
	case claim.Completed():
		return nil
	case status >= 500 || status == 409 || status == 412 || status == 429:
		// Passing conditions (a conflict, a stale version, a rate limit, a
		// fault) must not become the key's answer for a day.
		return s.db.ReleaseIdempotent(ctx, claim.OrgID, claim.Key)
	default:
		err := s.db.CompleteIdempotentOutside(ctx, claim.OrgID, claim.Key, status, body)
		if err != nil && status < 300 {
			return errors.Join(errors.New("a successful use case did not store its idempotent response"), err)
		}
		return err
	}
}

// PurgeIdempotency deletes expired idempotency keys.
func (s *Service) PurgeIdempotency(ctx context.Context) (int64, error) {
	return s.db.PurgeIdempotency(ctx, 1000)
}
