package store

import (
	"fmt"
	"strings"
)

// DumpForTest renders every row of a journal table (audit_records or
// events) as text, for tests that search it for leaked secrets.
func (db *DB) DumpForTest(table string) (string, error) {
	if table != "audit_records" && table != "events" {
		return "", fmt.Errorf("not a journal table: %s", table)
	}
	rows, err := db.read.Query(`SELECT * FROM ` + table)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%s\t", v)
		}
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}
