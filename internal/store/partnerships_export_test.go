package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PartnershipQueryPlansForTest returns, by name, the plan each engine
// chooses for the relationship lists and lookups, as they are run. On
// PostgreSQL sequential scans, bitmap scans and sorts are penalized first,
// so that a test table of a few rows still shows whether an index can serve
// the query, in order.
func (db *DB) PartnershipQueryPlansForTest(ctx context.Context) (map[string]string, error) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	org := "01900000-0000-7000-8000-000000000001"
	after := &Keyset{At: now, ID: "01900000-0000-7000-8000-000000000002"}
	queries := map[string]struct {
		q    string
		args []any
	}{}
	add := func(name, q string, args []any) {
		queries[name] = struct {
			q    string
			args []any
		}{q, args}
	}
	for _, provider := range []bool{true, false} {
		side := "reseller"
		if provider {
			side = "provider"
		}
		q, args := partnershipListQuery(provider, org, PartnershipFilter{}, nil, 10)
		add(side, q, args)
		q, args = partnershipListQuery(provider, org, PartnershipFilter{State: "active", Prefix: "co"}, after, 10)
		add(side+" filtered after", q, args)
	}
	add("due", `SELECT `+partnershipColumns+` FROM partnerships p WHERE p.state = 'invited' AND p.expires_at <= ?
		ORDER BY p.expires_at, p.id LIMIT ?`, []any{now, 10})
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

// PartnershipGrantStateForTest reads the state of a delegated admin grant.
func (tx *Tx) PartnershipGrantStateForTest(id string) (string, error) {
	var state string
	err := tx.queryRow(`SELECT state FROM delegated_admin_grants WHERE id = ?`, id).Scan(&state)
	return state, err
}
