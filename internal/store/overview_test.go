package store_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// Every figure of the overviews is counted from an index, never by reading
// a table: SQLite names the index of each figure (its planner needs no
// statistics to choose); PostgreSQL, whose choice among indexes follows
// the statistics of the tables, reads no table sequentially even when
// told to avoid it. The newest audit records are two backward ranges of
// their indexes, merged.
func TestOverviewQueriesUseTheirIndexes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, nil)
		plans, err := db.OverviewQueryPlansForTest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"partner counts": {"partnerships_provider_state", "partnerships_reseller_state", "customer_invitations_reseller_pending",
				"customer_relationships_by_date", "subscriptions_provider_active", "subscriptions_reseller_active", "orders_provider"},
			"program counts": {"enrollments_program_state", "partnerships_provider_state", "partnerships_reseller_state",
				"organizations_kind_created", "_active", "orders_created", "enrollments_queue_state"},
			"recent audit":       {"audit_records_org_recent", "audit_records_on_behalf_recent"},
			"recent audit after": {"audit_records_org_recent", "audit_records_on_behalf_recent"},
		}
		tableScan := regexp.MustCompile(`(?m)^SCAN (partnerships|subscriptions|orders|enrollments|organizations|customer_\w+|audit_records)$`)
		for name, indexes := range want {
			plan := plans[name]
			t.Logf("%s:\n%s", name, plan)
			if plan == "" {
				t.Fatalf("no plan for %s", name)
			}
			if engine == "postgres" {
				if strings.Contains(plan, "Seq Scan") {
					t.Errorf("%s reads a table:\n%s", name, plan)
				}
				if strings.HasPrefix(name, "recent audit") && (!strings.Contains(plan, "Index Scan Backward using audit_records_org_recent") ||
					!strings.Contains(plan, "Index Scan Backward using audit_records_on_behalf_recent") || strings.Contains(plan, "Sort  ")) {
					t.Errorf("%s is not two backward index ranges:\n%s", name, plan)
				}
				continue
			}
			for _, index := range indexes {
				if !strings.Contains(plan, index) {
					t.Errorf("%s does not use %s:\n%s", name, index, plan)
				}
			}
			if m := tableScan.FindString(plan); m != "" {
				t.Errorf("%s: %s:\n%s", name, m, plan)
			}
		}
	})
}

// The newest audit records of an organization are its own actors' and
// those made in it on its behalf, newest first, before a given record for
// the next page; another organization's own records never show. The
// actors are named from their organization.
func TestRecentAuditRecordsAndTheirActors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		a := agreementPartner(t, db, "3200001", "FR")
		b := agreementPartner(t, db, "3200002", "FR")
		ann := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: a, Email: "ann@a.example", Name: "Ann Lee", Lang: "en", Status: csphub.UserActive}}
		bob := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: b, Email: "bob@b.example", Name: "Bob Ray", Lang: "en", Status: csphub.UserActive}}
		token := csphub.APIToken{ID: csphub.NewID(), OrgID: a, Name: "billing sync", CreatedBy: ann.ID}
		if err := db.Write(ctx, func(tx *store.Tx) error {
			ann.CreatedAt, bob.CreatedAt, token.CreatedAt, token.ExpiresAt = tx.Now(), tx.Now(), tx.Now(), tx.Now().AddDate(0, 1, 0)
			if err := tx.InsertUser(ann); err != nil {
				return err
			}
			if err := tx.InsertUser(bob); err != nil {
				return err
			}
			return tx.InsertAPIToken(token, "hash-of-billing-sync")
		}); err != nil {
			t.Fatal(err)
		}
		asAnn := csphub.Actor{Kind: csphub.ActorUser, ID: ann.ID, OrgID: a, OrgKind: csphub.OrgPartner}
		asBob := csphub.Actor{Kind: csphub.ActorUser, ID: bob.ID, OrgID: b, OrgKind: csphub.OrgPartner}
		bobInA := asBob
		bobInA.OnBehalfOf = a
		asToken := csphub.Actor{Kind: csphub.ActorToken, ID: token.ID, OrgID: a, OrgKind: csphub.OrgPartner}
		system := csphub.System("")
		system.OrgID = a
		// Oldest first; one transaction each, as use cases write them.
		for _, w := range []struct {
			actor  csphub.Actor
			action string
		}{
			{asAnn, "partner_profile.update"}, {asBob, "user.invite"}, {bobInA, "customer.create"},
			{asToken, "order.create"}, {system, "grant.expire"}, {asBob, "user.update"}, {asAnn, "partnership.invite"},
			// Signing in and out changes nothing: not activity.
			{asAnn, "session.sign_in"}, {asAnn, "session.sign_out"},
		} {
			if err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.Audit(w.actor, csphub.AuditEntry{Action: w.action, ResourceType: "test", ResourceID: "r"})
			}); err != nil {
				t.Fatal(err)
			}
		}
		var first, second []csphub.AuditRecord
		var actors map[string]store.AuditActor
		if err := db.Read(ctx, func(tx *store.Tx) error {
			var err error
			if first, err = tx.RecentAuditRecords(a, "", 3); err != nil {
				return err
			}
			if second, err = tx.RecentAuditRecords(a, first[len(first)-1].ID, 3); err != nil {
				return err
			}
			actors, err = tx.AuditActors(a, append(slices.Clone(first), second...))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		actions := func(recs []csphub.AuditRecord) []string {
			var out []string
			for _, r := range recs {
				out = append(out, r.Action)
			}
			return out
		}
		// Not chained yet (no sequencer ran), and shown all the same.
		if got, want := actions(first), []string{"partnership.invite", "grant.expire", "order.create"}; !slices.Equal(got, want) {
			t.Errorf("newest page = %v, want %v", got, want)
		}
		if got, want := actions(second), []string{"customer.create", "partner_profile.update"}; !slices.Equal(got, want) {
			t.Errorf("next page = %v, want %v", got, want)
		}
		if second[0].ActorOrgID != b || second[0].OnBehalfOf != a {
			t.Errorf("the delegated record: actor org %s, on behalf of %s", second[0].ActorOrgID, second[0].OnBehalfOf)
		}
		if got := actors["user/"+ann.ID]; got.Name != "Ann Lee" || got.Email != "ann@a.example" || got.OrgID != a || got.OrgName != "Partner 3200001" {
			t.Errorf("Ann = %+v", got)
		}
		if got := actors["user/"+bob.ID]; got.Name != "Bob Ray" || got.OrgID != b || got.OrgName != "Partner 3200002" {
			t.Errorf("Bob, acting in A = %+v", got)
		}
		if got := actors["api_token/"+token.ID]; got.Name != "billing sync" || got.Email != "" || got.OrgID != a {
			t.Errorf("the token = %+v", got)
		}
		if len(actors) != 3 {
			t.Errorf("%d actors named, want 3 (the system is nobody's user): %+v", len(actors), actors)
		}
		// B's log holds what its users did, in A too; the records B's users
		// made in B are B's alone, and A cannot have their actors named.
		var bRecs []csphub.AuditRecord
		var leaked map[string]store.AuditActor
		if err := db.Read(ctx, func(tx *store.Tx) error {
			var err error
			if bRecs, err = tx.RecentAuditRecords(b, "", 10); err != nil {
				return err
			}
			own := slices.DeleteFunc(slices.Clone(bRecs), func(r csphub.AuditRecord) bool { return r.OnBehalfOf == a })
			leaked, err = tx.AuditActors(a, own)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got, want := actions(bRecs), []string{"user.update", "customer.create", "user.invite"}; !slices.Equal(got, want) {
			t.Errorf("B's records = %v, want %v", got, want)
		}
		if len(leaked) != 0 {
			t.Errorf("A named B's actors: %+v", leaked)
		}
	})
}
