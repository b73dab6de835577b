package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// The mailbox keeps the messages a deployment without an SMTP server would
// have sent, so that an operator (or a test) can read them. It is a view of
// the whole deployment, for operators only.

// MailboxMessage is a delivered message kept locally.
type MailboxMessage struct {
	ID        string    `json:"id"`
	OutboxID  string    `json:"outbox_id"`
	MessageID string    `json:"message_id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text,omitempty"`
	HTML      string    `json:"html,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// DeliverToMailbox stores a message. Delivering the same outbox row again
// (its worker died before marking it sent) keeps the first copy, as a mail
// server that deduplicates on Message-ID would.
func (db *DB) DeliverToMailbox(ctx context.Context, m MailboxMessage) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO mailbox (id, outbox_id, message_id, from_addr, to_addr, subject, text_body, html_body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (outbox_id) DO NOTHING`,
			csphub.NewID(), m.OutboxID, m.MessageID, m.From, m.To, m.Subject, m.Text, m.HTML, tx.Now())
		if err != nil {
			return fmt.Errorf("store mailbox message: %w", err)
		}
		return nil
	})
}

// MailboxFilter selects a page of the mailbox.
type MailboxFilter struct {
	To     string // only messages to this address; "" for all
	Cursor string // from the previous page; "" for the newest
	Limit  int
}

// MailboxPage is one page of the mailbox, newest first, without bodies.
// Next is the cursor of the following page, "" after the last.
type MailboxPage struct {
	Items []MailboxMessage `json:"items"`
	Next  string           `json:"next,omitempty"`
}

// Mailbox lists stored messages newest first.
func (tx *Tx) Mailbox(f MailboxFilter) (MailboxPage, error) {
	limit := pageLimit(f.Limit)
	before, err := parseCursor(f.Cursor)
	if err != nil {
		return MailboxPage{}, err
	}
	q, args := mailboxQuery(f.To, before, limit+1)
	rows, err := tx.query(q, args...)
	if err != nil {
		return MailboxPage{}, fmt.Errorf("list mailbox: %w", err)
	}
	defer rows.Close()
	var page MailboxPage
	for rows.Next() {
		var m MailboxMessage
		if err := rows.Scan(&m.ID, &m.OutboxID, &m.MessageID, &m.From, &m.To, &m.Subject, &m.CreatedAt); err != nil {
			return MailboxPage{}, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		page.Items = append(page.Items, m)
	}
	if err := rows.Err(); err != nil {
		return MailboxPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = formatCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

func mailboxQuery(to string, before cursor, limit int) (string, []any) {
	q := `SELECT id, outbox_id, message_id, from_addr, to_addr, subject, created_at FROM mailbox`
	var where []string
	var args []any
	if to != "" {
		where = append(where, `to_addr = ?`)
		args = append(args, to)
	}
	if before.ok {
		where = append(where, `(created_at, id) < (?, ?)`)
		args = append(args, before.at, before.id)
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return q + ` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)
}

// MailboxMessage returns one stored message with its bodies.
func (tx *Tx) MailboxMessage(id string) (MailboxMessage, error) {
	var m MailboxMessage
	if !csphub.ValidID(id) {
		return m, csphub.NotFound("mailbox_message")
	}
	err := tx.queryRow(`SELECT id, outbox_id, message_id, from_addr, to_addr, subject, text_body, html_body, created_at
		FROM mailbox WHERE id = ?`, id).
		Scan(&m.ID, &m.OutboxID, &m.MessageID, &m.From, &m.To, &m.Subject, &m.Text, &m.HTML, &m.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, csphub.NotFound("mailbox_message")
	}
	if err != nil {
		return m, fmt.Errorf("read mailbox message: %w", err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}
