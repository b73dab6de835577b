package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"

	"csphub/internal/store"
)

// MailboxSender keeps messages in the local mailbox instead of sending
// them, for deployments without an SMTP server: an operator reads them in
// the web UI. It logs the subject and the recipient, never the body, which
// may carry a token.
type MailboxSender struct {
	db   *store.DB
	from string
	log  *slog.Logger
}

// NewMailboxSender returns a sender into db's mailbox; from and fromName
// are shown as the sender.
func NewMailboxSender(db *store.DB, from, fromName string, logger *slog.Logger) (*MailboxSender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := checkAddress("from", from); err != nil {
		return nil, fmt.Errorf("mailbox from address %q: %w", from, err)
	}
	if err := checkHeader("from_name", fromName); err != nil {
		return nil, fmt.Errorf("mailbox from name: %w", err)
	}
	return &MailboxSender{db: db, from: (&mail.Address{Name: fromName, Address: from}).String(), log: logger}, nil
}

// Send stores the message; storing the same outbox row twice keeps one copy.
func (s *MailboxSender) Send(ctx context.Context, m Outgoing) error {
	if err := m.check(); err != nil {
		return err
	}
	err := s.db.DeliverToMailbox(ctx, store.MailboxMessage{
		OutboxID: m.OutboxID, MessageID: m.MessageID, From: s.from, To: m.Email.To,
		Subject: m.Email.Subject, Text: m.Email.Text, HTML: m.Email.HTML,
	})
	if err != nil {
		return err
	}
	s.log.Info("email kept in the local mailbox (no SMTP server configured)",
		"to", m.Email.To, "subject", m.Email.Subject, "message_id", m.MessageID, "outbox_id", m.OutboxID)
	return nil
}
