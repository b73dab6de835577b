package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func writeAudits(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := csphub.WithRequestID(context.Background(), "req-1")
	actor := csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: csphub.NewID()}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.Audit(actor, csphub.AuditEntry{
					Action: "organization.update", ResourceType: "organization", ResourceID: fmt.Sprint(i),
					Before: map[string]any{"name": "old"}, After: map[string]any{"name": fmt.Sprint("new ", i)},
				})
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sequenceAll(t, db)
}

func sequenceAll(t *testing.T, db *store.DB) {
	t.Helper()
	for {
		n, err := db.Sequence(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func verify(t *testing.T, db *store.DB) store.AuditVerification {
	t.Helper()
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAuditChainDetectsTampering(t *testing.T) {
	const n = 30
	tamper := []struct {
		name     string
		sql      []string
		position int64
		problem  string
	}{
		{"edit", []string{`UPDATE audit_records SET after_json = '{"name":"forged"}' WHERE position = 7`}, 7, "edited"},
		{"edit actor", []string{`UPDATE audit_records SET actor_id = 'someone-else' WHERE position = 12`}, 12, "edited"},
		{"delete", []string{`DELETE FROM audit_records WHERE position = 5`}, 5, "missing"},
		{"delete last", []string{`DELETE FROM audit_records WHERE position = 30`}, 30, "removed from the end"},
		{"reorder", []string{
			`UPDATE audit_records SET position = -1 WHERE position = 9`,
			`UPDATE audit_records SET position = 9 WHERE position = 10`,
			`UPDATE audit_records SET position = 10 WHERE position = -1`,
		}, 9, "link"},
		{"delete and renumber", []string{
			`DELETE FROM audit_records WHERE position = 20`,
			// In two steps: PostgreSQL checks the unique position row by
			// row, in no set order.
			`UPDATE audit_records SET position = -(position - 1) WHERE position > 20`,
			`UPDATE audit_records SET position = -position WHERE position < 0`,
			`UPDATE sequences SET value = value - 1 WHERE name = 'audit'`,
		}, 20, "link"},
	}
	testdb.Each(t, func(t *testing.T, engine string) {
		for _, tc := range tamper {
			t.Run(tc.name, func(t *testing.T) {
				db := testdb.Open(t, engine, nil)
				writeAudits(t, db, n)
				v := verify(t, db)
				if !v.OK || v.Checked != n || v.Unchained != 0 {
					t.Fatalf("intact chain: %+v", v)
				}
				for _, q := range tc.sql {
					if err := db.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				v = verify(t, db)
				if v.OK || v.Position != tc.position || !strings.Contains(v.Problem, tc.problem) {
					t.Fatalf("after %s: %+v, want broken at %d (%s)", tc.name, v, tc.position, tc.problem)
				}
			})
		}
	})
}

func TestAuditRecordsCarryWhoWhatWhen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		db := testdb.Open(t, engine, clock)
		writeAudits(t, db, 3)
		recs, err := db.AuditRecordsForTest()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("%d records", len(recs))
		}
		for i, r := range recs {
			if r.Position != int64(i+1) || r.RequestID != "req-1" || r.ActorKind != csphub.ActorUser ||
				r.ActorOrgID == "" || !r.At.Equal(t0) || r.Action != "organization.update" || len(r.Before) == 0 || len(r.After) == 0 {
				t.Fatalf("record %d: %+v", i, r)
			}
			if i > 0 && r.PrevHash != recs[i-1].Hash {
				t.Fatalf("record %d does not link to %d", i, i-1)
			}
		}
	})
}

// Events are read per organization, in position order, and a reader that
// resumes after the last position it saw misses nothing, even an event
// whose transaction committed after later ones were sequenced.
func TestEventFeedIsOrderedScopedAndGapless(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := testdb.Open(t, engine, nil)
		orgA, orgB, orgC := csphub.NewID(), csphub.NewID(), csphub.NewID()
		emit := func(actorOrg string, audience ...string) {
			err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.Emit(csphub.Actor{Kind: csphub.ActorUser, ID: "u", OrgID: actorOrg},
					csphub.EventEntry{Type: "test.happened", Subject: actorOrg, Data: map[string]int{"n": 1}, Audience: audience})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { emit(orgA, orgB) })
			wg.Go(func() { emit(orgC) })
		}
		wg.Wait()

		if engine == "postgres" {
			// A transaction that commits after others were sequenced.
			late, err := db.BeginForTest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := late.Emit(csphub.Actor{Kind: csphub.ActorUser, ID: "u", OrgID: orgA}, csphub.EventEntry{Type: "test.late", Subject: "late", Data: 1, Audience: []string{orgB}}); err != nil {
				t.Fatal(err)
			}
			sequenceAll(t, db)
			// A reader catches up before the late commit...
			before := readAll(t, db, orgB, 0)
			if len(before) != 20 {
				t.Fatalf("before the late commit org B sees %d events", len(before))
			}
			if err := late.CommitForTest(); err != nil {
				t.Fatal(err)
			}
			sequenceAll(t, db)
			// ...and, resuming after the last position it saw, finds the
			// late event: it was numbered when it became visible.
			resumed := readAll(t, db, orgB, before[len(before)-1].Position)
			if len(resumed) != 1 || resumed[0].Type != "test.late" {
				t.Fatalf("resuming after %d: %+v, want the late event", before[len(before)-1].Position, resumed)
			}
		}
		sequenceAll(t, db)

		wantB := 20
		if engine == "postgres" {
			wantB = 21
		}
		// Read B's feed page by page, resuming from the last position.
		var seen []csphub.Event
		after := int64(0)
		for {
			var page []csphub.Event
			if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.EventsAfter(orgB, after, 7); return }); err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			seen = append(seen, page...)
			after = page[len(page)-1].Position
		}
		if len(seen) != wantB {
			t.Fatalf("org B saw %d events, want %d", len(seen), wantB)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i].Position <= seen[i-1].Position {
				t.Fatalf("events out of order at %d", i)
			}
		}
		if got := len(readAll(t, db, orgC, 0)); got != 20 {
			t.Fatalf("org C saw %d events, want 20 (its own only)", got)
		}
		if got := len(readAll(t, db, csphub.NewID(), 0)); got != 0 {
			t.Fatalf("a stranger saw %d events", got)
		}
	})
}

func readAll(t *testing.T, db *store.DB, org string, after int64) []csphub.Event {
	t.Helper()
	var evs []csphub.Event
	if err := db.Read(context.Background(), func(tx *store.Tx) (err error) { evs, err = tx.EventsAfter(org, after, 1000); return }); err != nil {
		t.Fatal(err)
	}
	return evs
}
