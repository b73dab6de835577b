package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// The lists seek their index to the keyset position, newest first, with no
// sort; the expiry job reads the open invitations' index.
func TestPartnershipQueriesUseTheirIndexes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, nil)
		plans, err := db.PartnershipQueryPlansForTest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for name, index := range map[string]string{
			"provider": "partnerships_provider", "provider filtered after": "partnerships_provider",
			"reseller": "partnerships_reseller", "reseller filtered after": "partnerships_reseller",
			"due": "partnerships_open_invitations",
		} {
			plan := plans[name]
			if !strings.Contains(plan, index) {
				t.Errorf("%s does not use %s:\n%s", name, index, plan)
			}
			for _, bad := range []string{"TEMP B-TREE", "SCAN p ", "Seq Scan", "Sort"} {
				if strings.Contains(strings.ReplaceAll(plan, "\n", " \n")+" ", bad) {
					t.Errorf("%s: %s:\n%s", name, bad, plan)
				}
			}
			if strings.HasSuffix(name, "after") && engine == "postgres" && !strings.Contains(plan, "Index Cond: ((") {
				t.Errorf("%s does not seek:\n%s", name, plan)
			}
		}
	})
}

func TestPartnershipRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		write := func(fn func(tx *store.Tx) error) error { return db.Write(ctx, fn) }
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		provider := agreementPartner(t, db, "3100001", "FR")
		reseller := agreementPartner(t, db, "3100002", "FR")
		third := agreementPartner(t, db, "3100003", "FR")
		now := clock.Now()
		invite := func(email string) csphub.Partnership {
			p := csphub.Partnership{ID: csphub.NewID(), ProviderID: provider, State: csphub.PartnershipInvited, InvitedEmail: email,
				InvitedBy: csphub.NewID(), InvitedAt: now, ExpiresAt: now.Add(time.Hour), UpdatedAt: now, Version: 1}
			must(write(func(tx *store.Tx) error { return tx.InsertPartnership(p, "hash-"+p.ID) }))
			return p
		}
		accept := func(p csphub.Partnership) (csphub.Partnership, bool, error) {
			p.ResellerID, p.State, p.AcceptedAt, p.AcceptedBy, p.Region, p.Version = reseller, csphub.PartnershipActive, &now, csphub.NewID(), "europe", p.Version+1
			var ok bool
			err := write(func(tx *store.Tx) (err error) {
				ok, err = tx.SavePartnership(p, csphub.PartnershipInvited)
				return err
			})
			return p, ok, err
		}

		a, b := invite("a@r.example"), invite("b@r.example")
		// By the token's hash only.
		must(write(func(tx *store.Tx) error {
			got, err := tx.PartnershipByTokenHash("hash-"+a.ID, true)
			if err != nil || got.ID != a.ID || got.ResellerID != "" || got.AcceptedAt != nil || !got.InvitedAt.Equal(now) {
				t.Fatalf("by hash: %+v %v", got, err)
			}
			if _, err := tx.PartnershipByTokenHash("hash-nope", false); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Fatalf("unknown hash: %v", err)
			}
			return nil
		}))

		// The state and version read are those saved over.
		stale := a
		stale.Version = 5
		if _, ok, err := accept(stale); err != nil || ok {
			t.Fatalf("stale version saved: %v %v", ok, err)
		}
		acceptedA, ok, err := accept(a)
		if err != nil || !ok {
			t.Fatalf("accept: %v %v", ok, err)
		}
		if _, ok, err := accept(a); err != nil || ok {
			t.Fatalf("accepted twice: %v %v", ok, err)
		}
		// One live relationship between two partners.
		if _, _, err := accept(b); csphub.AsError(err) == nil || csphub.AsError(err).Code != "partnership_exists" {
			t.Fatalf("second live relationship: %v", err)
		}
		must(write(func(tx *store.Tx) error {
			live, err := tx.LivePartnershipExists(provider, reseller)
			if err != nil || !live {
				t.Fatalf("live: %v %v", live, err)
			}
			// Either side reads it, and locks it; nobody else.
			for _, org := range []string{provider, reseller} {
				if _, err := tx.PartnershipForUpdate(org, a.ID); err != nil {
					t.Fatal(err)
				}
				if r, err := tx.PartnershipRowOf(org, a.ID); err != nil || r.ProviderName != "Partner 3100001" || r.ResellerPartnerID != "3100002" {
					t.Fatalf("row: %+v %v", r, err)
				}
			}
			if _, err := tx.PartnershipForUpdate(third, a.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Fatalf("third party: %v", err)
			}
			if _, err := tx.PartnershipRowOf(third, a.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Fatalf("third party row: %v", err)
			}
			return nil
		}))

		// Terminating ends this relationship's pending and active grants only.
		grant := func(partnership string, state csphub.GrantState) string {
			g := csphub.Grant{ID: csphub.NewID(), GrantorID: reseller, GranteeID: provider, PartnershipID: partnership, Roles: []string{"admin_agent"},
				State: state, DurationDays: 730, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, 730), UpdatedAt: now, Version: 1}
			must(write(func(tx *store.Tx) error { return tx.InsertGrant(g) }))
			return g.ID
		}
		active := grant(a.ID, csphub.GrantActive)
		clock.Advance(time.Second)
		pending := grant(a.ID, csphub.GrantPending)
		expired := grant(a.ID, csphub.GrantExpired)
		other := grant(b.ID, csphub.GrantActive)
		must(write(func(tx *store.Tx) error {
			r, err := tx.PartnershipRowOf(provider, a.ID)
			if err != nil || r.Grant == nil || r.Grant.ID != active || r.Grant.Roles[0] != "admin_agent" || r.Grant.DurationDays != 730 {
				t.Fatalf("row's grant: %+v %v", r.Grant, err)
			}
			n, err := tx.TerminatePartnershipGrants(provider, reseller, a.ID, "someone")
			if err != nil || n != 2 {
				t.Fatalf("terminated %d: %v", n, err)
			}
			r, err = tx.PartnershipRowOf(provider, a.ID)
			if err != nil || r.Grant != nil {
				t.Fatalf("grant after termination: %+v %v", r.Grant, err)
			}
			return nil
		}))
		for id, want := range map[string]string{active: "terminated", pending: "terminated", expired: "expired", other: "active"} {
			if state := grantState(t, db, id); state != want {
				t.Errorf("grant %s: %s, want %s", id, state, want)
			}
		}

		// Keyset pages over rows invited at the same instant.
		for i := range 5 {
			invite(string(rune('c'+i)) + "@r.example")
		}
		var ids []string
		var after *store.Keyset
		for {
			var page []store.PartnershipRow
			must(write(func(tx *store.Tx) (err error) {
				page, err = tx.ProviderPartnerships(provider, store.PartnershipFilter{}, after, 3)
				return err
			}))
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			if len(page) < 3 {
				break
			}
			last := page[len(page)-1]
			after = &store.Keyset{At: last.InvitedAt, ID: last.ID}
		}
		if len(ids) != 7 {
			t.Fatalf("%d rows over the pages", len(ids))
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Fatalf("not newest first by id at %d: %v", i, ids)
			}
		}
		must(write(func(tx *store.Tx) error {
			rows, err := tx.ResellerPartnerships(reseller, store.PartnershipFilter{Prefix: "partner 31"}, nil, 10)
			if err != nil || len(rows) != 1 || rows[0].ID != acceptedA.ID {
				t.Fatalf("reseller rows: %+v %v", rows, err)
			}
			rows, err = tx.ResellerPartnerships(third, store.PartnershipFilter{}, nil, 10)
			if err != nil || len(rows) != 0 {
				t.Fatalf("third party rows: %+v %v", rows, err)
			}
			return nil
		}))
	})
}

func grantState(t *testing.T, db *store.DB, id string) string {
	t.Helper()
	var state string
	if err := db.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		state, err = tx.PartnershipGrantStateForTest(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return state
}
