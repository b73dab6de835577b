package service

import (
	"context"

	"csphub/internal/store"
)

// Mailbox is the local mailbox: where messages go when no SMTP server is
// configured, so that a newcomer can read them and click their links.
type (
	MailboxPage    = store.MailboxPage
	MailboxMessage = store.MailboxMessage
)

// ListMailbox returns one page of the local mailbox, newest first.
func (s *Service) ListMailbox(ctx context.Context, cursor string, limit int) (MailboxPage, error) {
	return read(ctx, s, func(tx *store.Tx) (MailboxPage, error) {
		return tx.Mailbox(store.MailboxFilter{Cursor: cursor, Limit: limit})
	})
}

// MailboxMessage returns one message of the local mailbox with its bodies.
func (s *Service) MailboxMessage(ctx context.Context, id string) (MailboxMessage, error) {
	return read(ctx, s, func(tx *store.Tx) (MailboxMessage, error) { return tx.MailboxMessage(id) })
}

// OutboxDepth is the number of messages waiting to be delivered.
func (s *Service) OutboxDepth(ctx context.Context) (int64, error) {
	return s.db.OutboxDepth(ctx, store.OutboxEmail)
}
