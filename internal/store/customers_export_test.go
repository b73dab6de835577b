package store

import (
	"context"
	"fmt"
	"strings"
)

// SeedCustomersForTest stores, in a few set-based statements, n customer
// organizations, the first split of them in a relationship with providerA
// and the rest with providerB (both created as partners here).
func (db *DB) SeedCustomersForTest(ctx context.Context, providerA, providerB string, n, split int) error {
	return db.Write(ctx, func(tx *Tx) error {
		for _, p := range []string{providerA, providerB} {
			if _, err := tx.exec(`INSERT INTO organizations (id, kind, name, name_key, country, domain, created_at)
				VALUES (?, 'partner', ?, ?, 'FR', 'p.example', ?)`, p, "Provider "+p[:8], "provider "+p[:8], tx.now); err != nil {
				return err
			}
		}
		// Customer i has id 01900000-0000-7000-8000-<i on 12 digits> and
		// name "Customer <i>", in a shuffled order of names.
		var seq, id, name, partner string
		if db.dialect.Name() == "postgres" {
			seq = `SELECT n FROM generate_series(1, ?) AS g(n)`
			id = `('01900000-0000-7000-8000-' || lpad(n::text, 12, '0'))::uuid`
			name = `'customer ' || lpad(((n * 7919) % 1000003)::text, 7, '0')`
			partner = `CASE WHEN n <= ? THEN ?::uuid ELSE ?::uuid END`
		} else {
			seq = `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) SELECT n FROM g`
			id = `'01900000-0000-7000-8000-' || printf('%012d', n)`
			name = `'customer ' || printf('%07d', (n * 7919) % 1000003)`
			partner = `CASE WHEN n <= ? THEN ? ELSE ? END`
		}
		if _, err := tx.exec(`INSERT INTO organizations (id, kind, name, name_key, country, domain, created_at)
			SELECT `+id+`, 'customer', `+name+`, `+name+`, 'FR', 'c' || n || '.example', ? FROM (`+seq+`) s`, tx.now, n); err != nil {
			return fmt.Errorf("seed organizations: %w", err)
		}
		relID := strings.Replace(id, "8000-", "9000-", 1)
		if _, err := tx.exec(`INSERT INTO customer_relationships (id, customer_id, partner_id, kind, state, name_key, created_at, version)
			SELECT `+relID+`, `+id+`, `+partner+`, 'indirect_provider', 'active', `+name+`, ?, 1 FROM (`+seq+`) s`,
			split, providerA, providerB, tx.now, n); err != nil {
			return fmt.Errorf("seed relationships: %w", err)
		}
		if db.dialect.Name() == "postgres" {
			_, err := tx.exec(`ANALYZE organizations, customer_relationships`)
			return err
		}
		_, err := tx.exec(`ANALYZE`)
		return err
	})
}

// CustomerListPlanForTest runs the query of one page of customers under
// the engine's plan explainer, with the actual row counts on PostgreSQL.
func (db *DB) CustomerListPlanForTest(ctx context.Context, f CustomerFilter, after *CustomerKeyset, limit int) (string, error) {
	q, args := customersQuery(f, after, limit)
	explain := "EXPLAIN QUERY PLAN "
	if db.dialect.Name() == "postgres" {
		explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
	}
	var lines []string
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.query(explain+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
		}
		return rows.Err()
	})
	return strings.Join(lines, "\n"), err
}
