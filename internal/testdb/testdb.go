// Package testdb opens fresh, migrated databases for tests, on every engine
// the run has: SQLite always, PostgreSQL when CSPHUB_TEST_POSTGRES_URL is set.
// Under CI=true a missing PostgreSQL URL fails the test instead of skipping
// it, so the PostgreSQL suite can never silently not run.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"csphub"
	"csphub/internal/store"
)

// Engines lists the engines this run tests: "sqlite", and "postgres" when
// configured.
func Engines(t testing.TB) []string {
	t.Helper()
	engines := []string{"sqlite"}
	if PostgresURL(t) != "" {
		engines = append(engines, "postgres")
	}
	return engines
}

// PostgresURL returns the PostgreSQL server for tests, or "" outside CI when
// none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CSPHUB_TEST_POSTGRES_URL")
	if u == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but CSPHUB_TEST_POSTGRES_URL is not set: the PostgreSQL suite must run in CI")
	}
	return u
}

// Each runs f once per engine as a subtest.
func Each(t *testing.T, f func(t *testing.T, engine string)) {
	for _, e := range Engines(t) {
		t.Run(e, func(t *testing.T) { f(t, e) })
	}
}

// Open returns a migrated, empty database of the engine, removed when the
// test ends. A nil clock means the system clock.
func Open(t testing.TB, engine string, clock csphub.Clock) *store.DB {
	t.Helper()
	opts := OptionsFor(t, engine)
	opts.Clock = clock
	ctx := context.Background()
	db, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return db
}

// OptionsFor returns store options for a fresh, unmigrated database of the
// engine: a temporary directory for SQLite, a new schema for PostgreSQL.
// Several stores may be opened on the same options (several nodes).
func OptionsFor(t testing.TB, engine string) store.Options {
	t.Helper()
	switch engine {
	case "sqlite":
		return store.Options{DataDir: t.TempDir()}
	case "postgres":
		return store.Options{URL: FreshSchema(t)}
	}
	t.Fatalf("unknown engine %q", engine)
	return store.Options{}
}

// FreshSchema creates an empty PostgreSQL schema, dropped when the test
// ends, and returns a URL whose search_path points at it.
func FreshSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	if base == "" {
		t.Skip("PostgreSQL not configured (set CSPHUB_TEST_POSTGRES_URL)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
