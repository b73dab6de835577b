package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func TestGrantRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		write := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		org := func(kind csphub.OrgKind, name string) csphub.Organization {
			o := csphub.Organization{ID: csphub.NewID(), Kind: kind, Name: name, Country: "FR", Domain: "x.example"}
			write(func(tx *store.Tx) error { o.CreatedAt = tx.Now(); return tx.InsertOrganization(o) })
			return o
		}
		grantor, grantee, stranger := org(csphub.OrgPartner, "Reseller"), org(csphub.OrgPartner, "Provider"), org(csphub.OrgPartner, "Stranger")
		grant := func(state csphub.GrantState, days int, auto bool, roles ...string) csphub.Grant {
			now := clock.Now()
			g := csphub.Grant{ID: csphub.NewID(), GrantorID: grantor.ID, GranteeID: grantee.ID, Roles: roles, State: state,
				DurationDays: days, AutoExtend: auto, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, days), UpdatedAt: now, Version: 1}
			write(func(tx *store.Tx) error { return tx.InsertGrant(g) })
			clock.Advance(time.Second)
			return g
		}
		active := grant(csphub.GrantActive, 730, false, csphub.RoleAdminAgent, csphub.RoleSalesAgent)
		short := grant(csphub.GrantActive, 1, false, csphub.RoleHelpdeskAgent)
		auto := grant(csphub.GrantActive, 1, true, csphub.RoleBillingAdmin)
		pending := grant(csphub.GrantPending, 730, false, csphub.RoleAccountAdmin)

		// Either side reads a grant, with both names; nobody else does.
		write(func(tx *store.Tx) error {
			for _, o := range []string{grantor.ID, grantee.ID} {
				for _, lock := range []bool{false, true} {
					r, err := tx.GrantOf(o, active.ID, lock)
					if err != nil || r.ID != active.ID || !slices.Equal(r.Roles, active.Roles) || r.ActivatedAt != nil ||
						!r.ExpiresAt.Equal(active.ExpiresAt) || r.PartnershipID != "" || r.EndedAt != nil {
						t.Fatalf("grant of %s (lock %v): %+v %v", o, lock, r, err)
					}
					if !lock && (r.GrantorName != "Reseller" || r.GranteeName != "Provider") {
						t.Fatalf("names %+v", r)
					}
				}
			}
			if _, err := tx.GrantOf(stranger.ID, active.ID, false); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Fatalf("stranger: %v", err)
			}
			return nil
		})

		// Lists, newest first, each side its own direction.
		write(func(tx *store.Tx) error {
			given, err := tx.Grants(grantor.ID, store.GrantsGiven, nil, 10)
			if err != nil || len(given) != 4 || given[0].ID != pending.ID || given[3].ID != active.ID {
				t.Fatalf("given %+v %v", given, err)
			}
			after := &store.Keyset{At: given[1].CreatedAt, ID: given[1].ID}
			rest, err := tx.Grants(grantor.ID, store.GrantsGiven, after, 10)
			if err != nil || len(rest) != 2 || rest[0].ID != short.ID {
				t.Fatalf("after %+v %v", rest, err)
			}
			for _, c := range []struct {
				org  string
				dir  store.GrantDirection
				want int
			}{{grantee.ID, store.GrantsReceived, 4}, {grantee.ID, store.GrantsGiven, 0}, {grantor.ID, store.GrantsReceived, 0}, {stranger.ID, store.GrantsGiven, 0}} {
				if l, err := tx.Grants(c.org, c.dir, nil, 10); err != nil || len(l) != c.want {
					t.Fatalf("%s %s: %d %v", c.org, c.dir, len(l), err)
				}
			}
			return nil
		})

		// Delegations: active grants only, unexpired or auto-extending.
		delegations := func() []string {
			var ids []string
			write(func(tx *store.Tx) error {
				ds, err := tx.Delegations(grantee.ID, grantor.ID, tx.Now())
				for _, d := range ds {
					if d.GrantorKind != csphub.OrgPartner || d.PartnershipState != "" {
						t.Fatalf("delegation %+v", d)
					}
					ids = append(ids, d.GrantID)
				}
				return err
			})
			return ids
		}
		if got := delegations(); !slices.Equal(got, []string{active.ID, short.ID, auto.ID}) {
			t.Fatalf("delegations %v", got)
		}
		clock.Advance(25 * time.Hour)
		if got := delegations(); !slices.Equal(got, []string{active.ID, auto.ID}) {
			t.Fatalf("delegations after a day %v", got)
		}
		write(func(tx *store.Tx) error {
			if ds, err := tx.Delegations(grantor.ID, grantee.ID, tx.Now()); err != nil || len(ds) != 0 {
				t.Fatalf("other direction %+v %v", ds, err)
			}
			// Due: the two past their expiry; the pending one only once
			// old enough.
			due, err := tx.DueGrants(tx.Now(), tx.Now().AddDate(0, 0, -90), 10)
			if err != nil || len(due) != 2 || due[0].ID != short.ID || due[1].ID != auto.ID {
				t.Fatalf("due %+v %v", due, err)
			}
			due, err = tx.DueGrants(tx.Now(), tx.Now(), 10)
			if err != nil || len(due) != 3 {
				t.Fatalf("due with pending %+v %v", due, err)
			}
			return nil
		})

		// Saving needs the version read; a stale one changes nothing.
		write(func(tx *store.Tx) error {
			g := active
			now := tx.Now()
			g.State, g.EndedAt, g.EndedBy, g.UpdatedAt = csphub.GrantTerminated, &now, "someone", now
			if ok, err := tx.SaveGrant(g, 2); err != nil || ok {
				t.Fatalf("stale save: %v %v", ok, err)
			}
			stranger := g
			stranger.GrantorID = grantee.ID
			if ok, err := tx.SaveGrant(stranger, 1); err != nil || ok {
				t.Fatalf("save by the grantee's id: %v %v", ok, err)
			}
			if ok, err := tx.SaveGrant(g, 1); err != nil || !ok {
				t.Fatalf("save: %v %v", ok, err)
			}
			r, err := tx.GrantOf(grantor.ID, g.ID, false)
			if err != nil || r.State != csphub.GrantTerminated || r.Version != 2 || r.EndedBy != "someone" || r.EndedAt == nil || !r.EndedAt.Equal(now) {
				t.Fatalf("saved %+v %v", r, err)
			}
			return nil
		})
		if got := delegations(); !slices.Equal(got, []string{auto.ID}) {
			t.Fatalf("delegations after termination %v", got)
		}
	})
}
