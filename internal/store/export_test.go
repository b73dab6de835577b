package store

import (
	"context"

	"csphub"
)

// Test hooks: a counter on the sequences table, read-modify-write, to prove
// that concurrent write transactions serialize.
func (tx *Tx) IncrementTestCounter() error {
	if _, err := tx.exec(`INSERT INTO sequences (name, value) VALUES ('test', 0) ON CONFLICT (name) DO NOTHING`); err != nil {
		return err
	}
	var v int64
	if err := tx.queryRow(`SELECT value FROM sequences WHERE name = 'test'` + tx.db.dialect.lockClause()).Scan(&v); err != nil {
		return err
	}
	_, err := tx.exec(`UPDATE sequences SET value = ? WHERE name = 'test'`, v+1)
	return err
}

func (tx *Tx) TestCounter() (int64, error) {
	var v int64
	err := tx.queryRow(`SELECT value FROM sequences WHERE name = 'test'`).Scan(&v)
	return v, err
}

// Exec runs raw SQL, for tests that tamper with rows.
func (db *DB) Exec(query string, args ...any) error {
	_, err := db.write.Exec(db.dialect.rebind(query), args...)
	return err
}

// AuditRecordsForTest returns every chained record in position order.
func (db *DB) AuditRecordsForTest() ([]csphub.AuditRecord, error) {
	rows, err := db.read.Query(`SELECT ` + auditColumns + ` FROM audit_records WHERE position IS NOT NULL ORDER BY position`)
	if err != nil {
		return nil, err
	}
	return scanAudits(rows)
}

// BeginForTest opens a write transaction the test commits itself.
func (db *DB) BeginForTest(ctx context.Context) (*Tx, error) {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{tx: stx, db: db, now: csphub.Normalize(db.clock.Now()), ctx: ctx, writable: true}, nil
}

func (tx *Tx) CommitForTest() error { return tx.tx.Commit() }

// BumpForTest increments the named sequences row, locking it.
func (tx *Tx) BumpForTest(name string) error {
	_, err := tx.exec(`UPDATE sequences SET value = value + 1 WHERE name = ?`, name)
	return err
}

// ValueForTest reads the named sequences row.
func (tx *Tx) ValueForTest(name string) (int64, error) {
	var v int64
	err := tx.queryRow(`SELECT value FROM sequences WHERE name = ?`, name).Scan(&v)
	return v, err
}
