package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// MigrationsFS returns the migrations of one dialect ("sqlite" or "postgres").
func MigrationsFS(dialect string) (fs.FS, error) {
	return fs.Sub(migrations, "migrations/"+dialect)
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := MigrationsFS(db.dialect.Name())
	if err != nil {
		return nil, err
	}
	d := goose.DialectSQLite3
	if db.dialect.Name() == "postgres" {
		d = goose.DialectPostgres
	}
	return goose.NewProvider(d, db.write, fsys)
}

// SchemaStatus says where the database schema stands.
type SchemaStatus struct {
	Current int64 `json:"current"` // applied version
	Latest  int64 `json:"latest"`  // version this binary knows
	Pending []int64
}

// UpToDate reports whether every migration this binary knows is applied.
func (s SchemaStatus) UpToDate() bool { return len(s.Pending) == 0 && s.Current >= s.Latest }

// Status reports the applied and pending migrations.
func (db *DB) Status(ctx context.Context) (SchemaStatus, error) {
	p, err := db.provider()
	if err != nil {
		return SchemaStatus{}, err
	}
	all, err := p.Status(ctx)
	if err != nil {
		return SchemaStatus{}, fmt.Errorf("migration status: %w", err)
	}
	var s SchemaStatus
	for _, m := range all {
		v := m.Source.Version
		s.Latest = max(s.Latest, v)
		if m.State == goose.StateApplied {
			s.Current = max(s.Current, v)
		} else {
			s.Pending = append(s.Pending, v)
		}
	}
	return s, nil
}

// Migrate applies every pending migration and returns the versions applied.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	if err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			return applied, fmt.Errorf("migration %d failed: %w", pe.Failed.Source.Version, pe.Err)
		}
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// ErrSchemaOutdated is returned when the schema is behind this binary.
var ErrSchemaOutdated = errors.New("the database schema is outdated: run `csphub migrate up` or start with --migrate")
