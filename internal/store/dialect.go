package store

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the thin seam between the two engines. Queries are written once
// with ? placeholders and portable SQL; the dialect rewrites placeholders,
// supplies row-locking clauses, and classifies driver errors.
type dialect interface {
	Name() string
	rebind(query string) string
	// lockClause is appended to a SELECT that must lock the rows it reads
	// until commit ("FOR UPDATE" on PostgreSQL; SQLite's IMMEDIATE write
	// transactions already serialize writers).
	lockClause() string
	// shareClause locks rows against concurrent change without blocking
	// other readers that take the same lock.
	shareClause() string
	// skipLockedClause locks rows and skips those another transaction holds.
	skipLockedClause() string
	// lockOfClause and skipLockedOfClause lock only the rows of the table
	// read as alias, for a SELECT that joins others only to name things.
	lockOfClause(alias string) string
	skipLockedOfClause(alias string) string
	retryable(err error) bool
	uniqueViolation(err error) bool
}

type sqliteDialect struct{}

func (sqliteDialect) Name() string                     { return "sqlite" }
func (sqliteDialect) rebind(q string) string           { return q }
func (sqliteDialect) lockClause() string               { return "" }
func (sqliteDialect) shareClause() string              { return "" }
func (sqliteDialect) skipLockedClause() string         { return "" }
func (sqliteDialect) lockOfClause(string) string       { return "" }
func (sqliteDialect) skipLockedOfClause(string) string { return "" }
func (sqliteDialect) retryable(err error) bool         { return sqliteCode(err) == sqlite3.SQLITE_BUSY }
func (sqliteDialect) uniqueViolation(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

type postgresDialect struct {
	cache sync.Map // query text -> rebound text
}

func (*postgresDialect) Name() string                     { return "postgres" }
func (*postgresDialect) lockClause() string               { return " FOR UPDATE" }
func (*postgresDialect) shareClause() string              { return " FOR SHARE" }
func (*postgresDialect) skipLockedClause() string         { return " FOR UPDATE SKIP LOCKED" }
func (*postgresDialect) lockOfClause(alias string) string { return " FOR UPDATE OF " + alias }
func (*postgresDialect) skipLockedOfClause(alias string) string {
	return " FOR UPDATE OF " + alias + " SKIP LOCKED"
}

// rebind turns ? placeholders into $1, $2, ... outside string literals.
func (d *postgresDialect) rebind(q string) string {
	if v, ok := d.cache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, inString := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	d.cache.Store(q, out)
	return out
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// retryable: serialization failure and deadlock; the whole transaction is
// run again.
func (*postgresDialect) retryable(err error) bool {
	c := pgCode(err)
	return c == "40001" || c == "40P01"
}

func (*postgresDialect) uniqueViolation(err error) bool { return pgCode(err) == "23505" }
