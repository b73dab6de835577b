package store

import (
	"fmt"
	"strings"
)

// dumpable are the tables tests search for leaked secrets: the journal,
// and the tables that keep hashes of emailed or shown-once secrets.
var dumpable = map[string]bool{"audit_records": true, "events": true,
	"enrollment_email_tokens": true, "partner_ids": true, "user_invitations": true}

// DumpForTest renders every row of one of those tables as text, for tests
// that search it for leaked secrets.
func (db *DB) DumpForTest(table string) (string, error) {
	if !dumpable[table] {
		return "", fmt.Errorf("not a table tests may dump: %s", table)
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

// countable are the tables tests count rows of, to check what a use case
// created or left alone.
var countable = map[string]bool{"organizations": true, "customer_invitations": true, "customer_links": true,
	"customer_relationships": true, "delegated_admin_grants": true}

// CountForTest counts the rows of one of those tables that match where.
func (db *DB) CountForTest(table, where string, args ...any) (int, error) {
	if !countable[table] {
		return 0, fmt.Errorf("not a table tests may count: %s", table)
	}
	var n int
	err := db.read.QueryRow(db.dialect.rebind(`SELECT COUNT(*) FROM `+table+` WHERE `+where), args...).Scan(&n)
	return n, err
}
