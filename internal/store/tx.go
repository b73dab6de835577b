package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"csphub"
)

// Tx is one transaction: one use case, one instant (Now), and the hooks to
// run once it has committed.
type Tx struct {
	tx          *sql.Tx
	db          *DB
	now         time.Time
	ctx         context.Context
	afterCommit []func()
	writable    bool
}

// Now is the instant of this transaction: every row it writes carries it.
func (tx *Tx) Now() time.Time { return tx.now }

// Dialect names the engine.
func (tx *Tx) Dialect() string { return tx.db.dialect.Name() }

// AfterCommit registers fn to run after a successful commit (wake a worker,
// publish a metric). It never runs if the transaction rolls back.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(tx.ctx, tx.db.dialect.rebind(query), args...)
}

func (tx *Tx) query(query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(tx.ctx, tx.db.dialect.rebind(query), args...)
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(tx.ctx, tx.db.dialect.rebind(query), args...)
}

// maxAttempts bounds the retries of a transaction that lost a serialization
// race or a deadlock on PostgreSQL, or found SQLite busy past its timeout.
const maxAttempts = 8

// Write runs fn in a read-write transaction and commits it. On SQLite the
// transaction begins IMMEDIATE (it holds the write lock from the start); on
// PostgreSQL a serialization failure or deadlock reruns fn from the start,
// so fn must not have effects outside the transaction (use AfterCommit).
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	return db.run(ctx, db.write, false, fn)
}

// Read runs fn in a read-only transaction: one consistent snapshot.
func (db *DB) Read(ctx context.Context, fn func(tx *Tx) error) error {
	return db.run(ctx, db.read, true, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, readOnly bool, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.attempt(ctx, pool, readOnly, fn)
		if err == nil || !db.dialect.retryable(err) || attempt == maxAttempts {
			return err
		}
		// Back off a little, with jitter, so that the racers do not collide again.
		d := time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(4))
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(d):
		}
	}
}

func (db *DB) attempt(ctx context.Context, pool *sql.DB, readOnly bool, fn func(tx *Tx) error) (err error) {
	opts := &sql.TxOptions{}
	if readOnly && db.dialect.Name() == "postgres" {
		opts.ReadOnly = true
		opts.Isolation = sql.LevelRepeatableRead
	}
	stx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: stx, db: db, now: csphub.Normalize(db.clock.Now()), ctx: ctx, writable: !readOnly}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if readOnly {
		return stx.Rollback()
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func (db *DB) IsUniqueViolation(err error) bool { return db.dialect.uniqueViolation(err) }

// nullString maps "" to NULL.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
