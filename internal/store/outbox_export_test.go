package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// OutboxQueryPlansForTest returns, by name, the plan each engine chooses for
// the outbox and mailbox queries, as they are run. On PostgreSQL sequential
// scans, bitmap scans and sorts are penalized first, so that a test table of
// a few rows still shows whether an index can serve the query, in order.
func (db *DB) OutboxQueryPlansForTest(ctx context.Context) (map[string]string, error) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := cursor{at: now, id: "01900000-0000-7000-8000-000000000000", ok: true}
	queries := map[string]struct {
		q    string
		args []any
	}{
		"claim":    {db.outboxClaimQuery(), []any{"w", "lease", now, now, now, OutboxEmail, now, 5, 10}},
		"give up":  {db.outboxGiveUpQuery(), []any{now, now, OutboxEmail, now, 5, 10}},
		"depth":    {outboxDepthQuery, []any{OutboxEmail}},
		"next due": {outboxNextDueQuery, []any{OutboxEmail}},
		"purge":    {outboxPurgeQuery, []any{now, 10}},
	}
	add := func(name, q string, args []any) {
		queries[name] = struct {
			q    string
			args []any
		}{q, args}
	}
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

	plans := map[string]string{}
	err := db.Write(ctx, func(tx *Tx) error {
		explain := "EXPLAIN QUERY PLAN "
		if db.dialect.Name() == "postgres" {
			explain = "EXPLAIN "
			for _, off := range []string{"enable_seqscan", "enable_bitmapscan", "enable_sort"} {
				if _, err := tx.exec(`SET LOCAL ` + off + ` = off`); err != nil {
					return err
				}
			}
		}
		for name, e := range queries {
			rows, err := tx.query(explain+e.q, e.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			cols, _ := rows.Columns()
			var lines []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			plans[name] = strings.Join(lines, "\n")
		}
		return nil
	})
	return plans, err
}

// OutboxPayloadForTest reads the stored payload of an outbox row.
func (db *DB) OutboxPayloadForTest(ctx context.Context, id string) (string, error) {
	var p string
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT payload FROM outbox WHERE id = ?`, id).Scan(&p)
	})
	return p, err
}
