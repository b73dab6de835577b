package store

import (
	"encoding/json"
	"fmt"
	"strings"
)

// EmailsTo returns the messages to address that can still be read: those
// waiting in the outbox (a delivered row loses its payload) and those the
// local mailbox keeps, the outbox's first, each part oldest first. Mailbox
// copies carry no template. It is for local tooling that follows emailed
// links on a deployment it sets up (the demo world), never for a request.
func (tx *Tx) EmailsTo(address string) ([]Email, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	rows, err := tx.query(`SELECT payload FROM outbox WHERE kind = ? AND state = 'pending' ORDER BY id`, OutboxEmail)
	if err != nil {
		return nil, fmt.Errorf("read queued emails: %w", err)
	}
	defer rows.Close()
	var out []Email
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			return nil, err
		}
		var e Email
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			return nil, fmt.Errorf("undecodable queued email: %w", err)
		}
		if strings.ToLower(e.To) == address {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	kept, err := tx.query(`SELECT subject, text_body, html_body FROM mailbox WHERE to_addr = ? ORDER BY created_at, id`, address)
	if err != nil {
		return nil, fmt.Errorf("read mailbox: %w", err)
	}
	defer kept.Close()
	for kept.Next() {
		e := Email{To: address}
		if err := kept.Scan(&e.Subject, &e.Text, &e.HTML); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, kept.Err()
}
