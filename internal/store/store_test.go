package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestMigrationsAreTwins(t *testing.T) {
	versions := map[string][]string{}
	for _, d := range []string{"sqlite", "postgres"} {
		fsys, err := store.MigrationsFS(d)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fsReadDir(fsys)
		if err != nil {
			t.Fatal(err)
		}
		versions[d] = entries
	}
	if len(versions["sqlite"]) == 0 {
		t.Fatal("no migrations found")
	}
	if got, want := versions["postgres"], versions["sqlite"]; !equal(got, want) {
		t.Fatalf("migration files differ between dialects: postgres %v, sqlite %v", got, want)
	}
}

func TestSchemaStatus(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db, err := store.Open(ctx, testdb.OptionsFor(t, engine))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := db.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.UpToDate() || s.Current != 0 || s.Latest < 1 {
			t.Fatalf("fresh database should be behind: %+v", s)
		}
		applied, err := db.Migrate(ctx)
		if err != nil || len(applied) != len(s.Pending) {
			t.Fatalf("migrate: applied %v, err %v", applied, err)
		}
		s, err = db.Status(ctx)
		if err != nil || !s.UpToDate() {
			t.Fatalf("after migrate: %+v %v", s, err)
		}
		if again, err := db.Migrate(ctx); err != nil || len(again) != 0 {
			t.Fatalf("second migrate applied %v, %v", again, err)
		}
	})
}

func TestTransactionCommitsAndRollsBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(t0)
		db := testdb.Open(t, engine, clock)
		org := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: "Contoso", Country: "FR", Domain: "contoso.example", CreatedAt: clock.Now()}

		var hooks atomic.Int32
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { hooks.Add(1) })
			if err := tx.InsertOrganization(org); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || hooks.Load() != 0 {
			t.Fatalf("rollback: err %v, hooks %d", err, hooks.Load())
		}
		if err := db.Read(ctx, func(tx *store.Tx) error { _, err := tx.Organization(org.ID, org.ID); return err }); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("rolled-back organization is visible: %v", err)
		}

		err = db.Write(ctx, func(tx *store.Tx) error {
			if !tx.Now().Equal(t0) {
				t.Errorf("transaction time %v, want the injected clock's %v", tx.Now(), t0)
			}
			tx.AfterCommit(func() { hooks.Add(1) })
			return tx.InsertOrganization(org)
		})
		if err != nil || hooks.Load() != 1 {
			t.Fatalf("commit: err %v, hooks %d", err, hooks.Load())
		}
		var got csphub.Organization
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { got, err = tx.Organization(org.ID, org.ID); return }); err != nil {
			t.Fatal(err)
		}
		if got != org {
			t.Fatalf("read back %+v, want %+v", got, org)
		}
		// A tenant never reads another tenant's organization.
		if err := db.Read(ctx, func(tx *store.Tx) error { _, err := tx.Organization(csphub.NewID(), org.ID); return err }); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("cross-tenant read answered %v, want not found", err)
		}
		// Unique violations become conflicts.
		err = db.Write(ctx, func(tx *store.Tx) error { return tx.InsertOrganization(org) })
		if csphub.ErrorKind(err) != csphub.KindConflict {
			t.Fatalf("duplicate insert: %v", err)
		}
	})
}

// Concurrent writers on one row never lose an update: SQLite serializes
// them on its one writer connection, PostgreSQL through the row lock.
func TestConcurrentWritersSerialize(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := testdb.Open(t, engine, nil)
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				errs <- db.Write(ctx, func(tx *store.Tx) error { return tx.IncrementTestCounter() })
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var v int64
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { v, err = tx.TestCounter(); return }); err != nil {
			t.Fatal(err)
		}
		if v != n {
			t.Fatalf("counter %d after %d increments", v, n)
		}
	})
}

// On PostgreSQL, a transaction chosen as a deadlock victim is run again
// from the start, so both racers commit.
// (SQLite has one writer: its transactions cannot deadlock.)
func TestWriteRetriesDeadlockVictims(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, "postgres", nil)
	for _, name := range []string{"a", "b"} {
		if err := db.Exec(`INSERT INTO sequences (name, value) VALUES (?, 0)`, name); err != nil {
			t.Fatal(err)
		}
	}
	// Each transaction locks one row, waits until the other holds its
	// first row too (on its first attempt only), then locks the other.
	var ready sync.WaitGroup
	ready.Add(2)
	var attempts atomic.Int32
	lockBoth := func(first, second string) error {
		tries := 0
		return db.Write(ctx, func(tx *store.Tx) error {
			tries++
			attempts.Add(1)
			if err := tx.BumpForTest(first); err != nil {
				return err
			}
			if tries == 1 {
				ready.Done()
				ready.Wait()
			}
			return tx.BumpForTest(second)
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = lockBoth("a", "b") })
	wg.Go(func() { errs[1] = lockBoth("b", "a") })
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors: %v", errs)
	}
	if attempts.Load() < 3 {
		t.Fatalf("%d attempts: the deadlock should have forced a retry", attempts.Load())
	}
	for _, name := range []string{"a", "b"} {
		var v int64
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { v, err = tx.ValueForTest(name); return }); err != nil || v != 2 {
			t.Fatalf("%s = %d (%v), want 2: each transaction committed once", name, v, err)
		}
	}
}
