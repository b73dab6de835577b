package store

import (
	"context"
	"time"
)

// OutboxQueryPlansForTest returns, by name, the plan each engine chooses for
// the outbox and mailbox queries, as they are run. On PostgreSQL sequential
// scans, bitmap scans and sorts are penalized first, so that a test table of
// a few rows still shows whether an index can serve the query, in order.
func (db *DB) OutboxQueryPlansForTest(ctx context.Context) (map[string]string, error) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := cursor{at: now, id: "01900000-0000-7000-8000-000000000000", ok: true}
	queries := planQueries{
		"claim":    {db.outboxClaimQuery(), []any{"w", "lease", now, now, now, OutboxEmail, now, 5, 10}},
		"give up":  {db.outboxGiveUpQuery(), []any{now, now, OutboxEmail, now, 5, 10}},
		"depth":    {outboxDepthQuery, []any{OutboxEmail}},
		"next due": {outboxNextDueQuery, []any{OutboxEmail}},
		"purge":    {outboxPurgeQuery, []any{now, 10}},
	}
	add := queries.add
	q, args := deadLettersQuery(cursor{}, 10)
	add("dead letters", q, args)
	q, args = deadLettersQuery(at, 10)
	add("dead letters after", q, args)
	q, args = mailboxQuery("", cursor{}, 10)
	add("mailbox", q, args)
	q, args = mailboxQuery("", at, 10)
	add("mailbox before", q, args)
	q, args = mailboxQuery("a@example.com", cursor{}, 10)
	add("mailbox to", q, args)
	q, args = mailboxQuery("a@example.com", at, 10)
	add("mailbox to before", q, args)

	return db.queryPlans(ctx, queries, "enable_seqscan", "enable_bitmapscan", "enable_sort")
}

// OutboxPayloadForTest reads the stored payload of an outbox row.
func (db *DB) OutboxPayloadForTest(ctx context.Context, id string) (string, error) {
	var p string
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT payload FROM outbox WHERE id = ?`, id).Scan(&p)
	})
	return p, err
}
