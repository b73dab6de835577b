package store

import (
	"context"
	"fmt"
	"strings"
)

// planQueries are the queries a plan test asks the engines about, by name,
// with the arguments they run with.
type planQueries map[string]struct {
	q    string
	args []any
}

func (p planQueries) add(name, q string, args []any) {
	p[name] = struct {
		q    string
		args []any
	}{q, args}
}

// queryPlans returns, by name, the plan each engine chooses for queries as
// they are run. On PostgreSQL the planner settings named in penalize
// (enable_seqscan, enable_sort, ...) are turned off first, so that a test
// table of a few rows still shows whether an index can serve the query.
func (db *DB) queryPlans(ctx context.Context, queries planQueries, penalize ...string) (map[string]string, error) {
	plans := map[string]string{}
	err := db.Write(ctx, func(tx *Tx) error {
		explain := "EXPLAIN QUERY PLAN "
		if db.dialect.Name() == "postgres" {
			explain = "EXPLAIN "
			for _, off := range penalize {
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
