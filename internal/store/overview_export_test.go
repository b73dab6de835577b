package store

import (
	"context"
	"time"
)

// OverviewQueryPlansForTest returns, by name, the plan each engine chooses
// for the overview's queries as they are run. On PostgreSQL sequential
// scans are penalized, so that a test table of a few rows still shows
// whether an index can serve the query.
func (db *DB) OverviewQueryPlansForTest(ctx context.Context) (map[string]string, error) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	org := "01900000-0000-7000-8000-000000000001"
	queries := planQueries{}
	add := queries.add
	add("partner counts", partnerCountsQuery, partnerCountsArgs(org, now, now.AddDate(0, 0, -30)))
	add("program counts", programCountsQuery, []any{now.AddDate(0, 0, -30), now})
	q, args := recentAuditQuery(org, "", 8)
	add("recent audit", q, args)
	q, args = recentAuditQuery(org, "01900000-0000-7000-8000-000000000002", 8)
	add("recent audit after", q, args)
	return db.queryPlans(ctx, queries, "enable_seqscan", "enable_sort")
}
