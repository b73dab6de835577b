package service

import (
	"context"

	"csphub"
	"csphub/internal/store"
)

// Dead letters are the outbox messages delivery gave up on. Only the
// operator's admins see them: they are the deployment's, whatever
// organization each message is about.
type (
	DeadLetter     = store.DeadLetter
	DeadLetterPage = store.DeadLetterPage
	OutboxEntry    = store.OutboxEntry
)

// ListDeadLetters returns one page of dead letters, in the order they died;
// pageToken is the Next of the previous page, "" for the first.
func (s *Service) ListDeadLetters(ctx context.Context, actor csphub.Actor, pageToken string, limit int) (DeadLetterPage, error) {
	return read(ctx, s, func(tx *store.Tx) (DeadLetterPage, error) {
		if err := requireOperatorAdmin(tx, actor); err != nil {
			return DeadLetterPage{}, err
		}
		return tx.DeadLetters(pageToken, limit)
	})
}

// RetryDeadLetter puts a dead letter back in the queue, due now and with a
// fresh count of attempts, once an operator admin has fixed its cause. It
// returns the message as queued again.
func (s *Service) RetryDeadLetter(ctx context.Context, actor csphub.Actor, id string) (OutboxEntry, error) {
	return write(ctx, s, func(tx *store.Tx) (OutboxEntry, error) {
		if err := requireOperatorAdmin(tx, actor); err != nil {
			return OutboxEntry{}, err
		}
		before, err := tx.OutboxEntry(id)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return OutboxEntry{}, csphub.NotFound("dead_letter")
		}
		if err != nil {
			return OutboxEntry{}, err
		}
		if err := tx.RetryDeadLetter(id); err != nil { // not found unless dead
			return OutboxEntry{}, err
		}
		after, err := tx.OutboxEntry(id)
		if err != nil {
			return OutboxEntry{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "outbox.retry", ResourceType: "outbox_message", ResourceID: id,
			Before: before, After: after}); err != nil {
			return OutboxEntry{}, err
		}
		return after, nil
	})
}

// requireOperatorAdmin refuses anyone but an admin of the operator
// organization, acting in it.
func requireOperatorAdmin(tx *store.Tx, actor csphub.Actor) error {
	op, err := tx.OperatorOrganization()
	if err != nil {
		return err
	}
	if actor.TenantID() != op.ID || !actor.HasRole(csphub.RoleOperatorAdmin) {
		return csphub.Errorf(csphub.KindForbidden, "operator_admin_required", "only an operator admin can inspect and retry undelivered messages")
	}
	return nil
}
