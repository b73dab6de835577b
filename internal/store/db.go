// Package store is csphub's one implementation of persistence, over
// database/sql, for SQLite (the embedded default) and PostgreSQL. Every
// method takes the tenant explicitly and every query filters on it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"csphub"
)

// Options say which database to open and how.
type Options struct {
	// URL is "postgres://..." for PostgreSQL; empty means SQLite in DataDir.
	URL string
	// DataDir holds the SQLite database file (csphub.db) when URL is empty.
	DataDir string
	// SQLiteSynchronous is FULL by default; NORMAL is a documented opt-in
	// that trades the last transactions on power loss for speed.
	SQLiteSynchronous string
	// MaxReaders caps the reader pool (SQLite) or the whole pool (PostgreSQL).
	MaxReaders int
	// MessageIDHost is the right-hand side of the Message-ID of every email
	// the outbox sends ("<outbox-id@host>"); "csphub" when empty.
	MessageIDHost string
	Clock         csphub.Clock
	Logger        *slog.Logger
}

// DB is the database: a writer and a reader pool (the same pool on
// PostgreSQL), the dialect, and the clock that stamps every transaction.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect dialect
	clock   csphub.Clock
	log     *slog.Logger
	where   string // what was opened, without credentials

	sequencerWake chan struct{}
	outboxWake    wakeups
	messageIDHost string
}

// Open opens (and for SQLite creates) the database. It does not migrate.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Clock == nil {
		o.Clock = csphub.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = max(4, runtime.NumCPU()*2)
	}
	host, err := messageIDHost(o.MessageIDHost)
	if err != nil {
		return nil, err
	}
	var db *DB
	switch {
	case o.URL == "":
		db, err = openSQLite(o)
	case strings.HasPrefix(o.URL, "postgres://"), strings.HasPrefix(o.URL, "postgresql://"):
		db, err = openPostgres(o)
	default:
		return nil, fmt.Errorf("database URL must start with postgres:// (or be empty for SQLite)")
	}
	if err != nil {
		return nil, err
	}
	db.messageIDHost = host
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", db.where, err)
	}
	return db, nil
}

func openSQLite(o Options) (*DB, error) {
	if o.DataDir == "" {
		return nil, errors.New("a data directory is needed for the SQLite database")
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	sync := strings.ToUpper(o.SQLiteSynchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite synchronous must be FULL or NORMAL, not %q", o.SQLiteSynchronous)
	}
	path := filepath.Join(o.DataDir, "csphub.db")
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_time_format", "sqlite")
	writeQ := url.Values{}
	for k, v := range q {
		writeQ[k] = v
	}
	// Write transactions take the write lock at BEGIN, so two writers never
	// deadlock upgrading read locks.
	writeQ.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+writeQ.Encode())
	if err != nil {
		return nil, err
	}
	// One writer connection: SQLite has one writer at a time anyway, and a
	// single connection makes writers queue in Go instead of spinning on
	// SQLITE_BUSY.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(o.MaxReaders)
	r.SetMaxIdleConns(o.MaxReaders)
	return &DB{write: w, read: r, dialect: sqliteDialect{}, clock: o.Clock, log: o.Logger, where: path, sequencerWake: make(chan struct{}, 1)}, nil
}

func openPostgres(o Options) (*DB, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	p, err := sql.Open("pgx", o.URL)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(o.MaxReaders)
	p.SetMaxIdleConns(o.MaxReaders)
	p.SetConnMaxIdleTime(5 * time.Minute)
	// Name the server and database only: credentials may be in the user
	// info or in query parameters (password=...).
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return &DB{write: p, read: p, dialect: &postgresDialect{}, clock: o.Clock, log: o.Logger, where: u.Redacted(), sequencerWake: make(chan struct{}, 1)}, nil
}

// Dialect names the engine: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.Name() }

// Where names what was opened (a file path or a URL without credentials).
func (db *DB) Where() string { return db.where }

// Clock is the clock that stamps transactions.
func (db *DB) Clock() csphub.Clock { return db.clock }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	if db.read != db.write {
		return db.read.PingContext(ctx)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}
