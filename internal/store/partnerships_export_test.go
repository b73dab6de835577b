package store

import (
	"context"
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
	queries := planQueries{}
	add := queries.add
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
	return db.queryPlans(ctx, queries, "enable_seqscan", "enable_bitmapscan", "enable_sort")
}

// PartnershipGrantStateForTest reads the state of a delegated admin grant.
func (tx *Tx) PartnershipGrantStateForTest(id string) (string, error) {
	var state string
	err := tx.queryRow(`SELECT state FROM delegated_admin_grants WHERE id = ?`, id).Scan(&state)
	return state, err
}
