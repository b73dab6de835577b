package store_test

import (
	"context"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// enrolledOrg stores a partner organization with a partner ID and profile.
func enrolledOrg(t *testing.T, db *store.DB, name, country, partnerID string) csphub.PartnerProfile {
	t.Helper()
	org := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: name, Country: country, Domain: "x.example"}
	p := csphub.PartnerProfile{OrgID: org.ID, PartnerID: partnerID, LegalName: name,
		Address:        csphub.Address{Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: country},
		PrimaryContact: csphub.PrimaryContact{FirstName: "Jeanne", LastName: "Martin", Email: "jeanne@x.example", Phone: "+33123456789", Lang: "fr"},
		SupportContact: csphub.SupportContact{Email: "support@x.example", Phone: "+33123456789"}, Version: 1}
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		org.CreatedAt, p.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.InsertOrganization(org); err != nil {
			return err
		}
		return tx.InsertPartnerProfile(p)
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

func insertPartnerIDRow(t *testing.T, db *store.DB, id, country string) {
	t.Helper()
	if err := db.Exec(`INSERT INTO partner_ids (partner_id, legal_name, country, status, source, created_at) VALUES (?, ?, ?, 'active', 'issued', ?)`,
		id, "Legal "+id, country, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
}

func TestEnrollmentRowsQueueAndLinks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		insertPartnerIDRow(t, db, "1000001", "FR")
		insertPartnerIDRow(t, db, "1000002", "DE")
		insertPartnerIDRow(t, db, "1000003", "FR")
		fr := enrolledOrg(t, db, "Contoso SAS", "FR", "1000001")
		de := enrolledOrg(t, db, "Fabrikam GmbH", "DE", "1000002")
		late := enrolledOrg(t, db, "Northwind SARL", "FR", "1000003")

		write := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		newEnrollment := func(p csphub.PartnerProfile, state csphub.EnrollmentState, due time.Time) csphub.Enrollment {
			e := csphub.Enrollment{ID: csphub.NewID(), OrgID: p.OrgID, Program: csphub.ProgramIndirectReseller, State: state,
				Country: p.Address.Country, SubmittedAt: clock.Now(), DueAt: due, UpdatedAt: clock.Now(), Version: 1}
			write(func(tx *store.Tx) error { return tx.InsertEnrollment(e) })
			return e
		}
		now := clock.Now()
		eFR := newEnrollment(fr, csphub.EnrollmentInReview, now.Add(48*time.Hour))
		eDE := newEnrollment(de, csphub.EnrollmentEmailVerification, now.Add(24*time.Hour))
		eLate := newEnrollment(late, csphub.EnrollmentApproved, now.Add(time.Hour))

		// One open application per organization and program.
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.InsertEnrollment(csphub.Enrollment{ID: csphub.NewID(), OrgID: fr.OrgID, Program: csphub.ProgramIndirectReseller,
				State: csphub.EnrollmentSubmitted, Country: "FR", SubmittedAt: now, DueAt: now, UpdatedAt: now, Version: 1})
		})
		if e := csphub.AsError(err); e == nil || e.Code != "enrollment_exists" {
			t.Fatalf("second open enrollment: %v", err)
		}

		// The queue: open states by default, due first; filters; keyset pages.
		queue := func(states []string, country string, after *store.Keyset, limit int) []store.ReviewRow {
			t.Helper()
			var rows []store.ReviewRow
			if err := db.Read(ctx, func(tx *store.Tx) (err error) {
				rows, err = tx.ReviewQueue(states, country, after, limit)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return rows
		}
		rows := queue(nil, "", nil, 10)
		if len(rows) != 2 || rows[0].ID != eDE.ID || rows[1].ID != eFR.ID || rows[1].LegalName != "Contoso SAS" || rows[1].PartnerID != "1000001" {
			t.Fatalf("queue: %+v", rows)
		}
		if rows := queue(nil, "FR", nil, 10); len(rows) != 1 || rows[0].ID != eFR.ID {
			t.Fatalf("FR queue: %+v", rows)
		}
		if rows := queue([]string{"approved"}, "", nil, 10); len(rows) != 1 || rows[0].ID != eLate.ID {
			t.Fatalf("approved: %+v", rows)
		}
		first := queue(nil, "", nil, 1)
		second := queue(nil, "", &store.Keyset{At: first[0].DueAt, ID: first[0].ID}, 1)
		if len(first) != 1 || len(second) != 1 || second[0].ID != eFR.ID {
			t.Fatalf("pages: %+v %+v", first, second)
		}

		// Optimistic transitions: a stale version loses.
		moved := eFR
		moved.State, moved.Version = csphub.EnrollmentApproved, 2
		var ok bool
		write(func(tx *store.Tx) (err error) { ok, err = tx.SaveEnrollment(moved); return err })
		if !ok {
			t.Fatal("first save lost")
		}
		write(func(tx *store.Tx) (err error) { ok, err = tx.SaveEnrollment(moved); return err })
		if ok {
			t.Fatal("a stale save won")
		}

		// Checks come back in display order; setting one twice updates it.
		write(func(tx *store.Tx) error {
			for _, c := range []csphub.CheckName{csphub.CheckBusiness, csphub.CheckEmailOwnership} {
				if err := tx.SetEnrollmentCheck(eDE.ID, csphub.EnrollmentCheck{Name: c, Status: csphub.CheckPending, UpdatedAt: now}); err != nil {
					return err
				}
			}
			return tx.SetEnrollmentCheck(eDE.ID, csphub.EnrollmentCheck{Name: csphub.CheckBusiness, Status: csphub.CheckPassed, Reason: "ok", UpdatedAt: now})
		})
		var checks []csphub.EnrollmentCheck
		write(func(tx *store.Tx) (err error) { checks, err = tx.EnrollmentChecks(eDE.ID); return err })
		if len(checks) != 2 || checks[0].Name != csphub.CheckEmailOwnership || checks[1].Status != csphub.CheckPassed || checks[1].Reason != "ok" {
			t.Fatalf("checks: %+v", checks)
		}

		// Links: single use, bound to their enrollment, expiring, retired.
		link := store.EnrollmentEmailToken{TokenHash: "h1", EnrollmentID: eDE.ID, OrgID: de.OrgID, Email: "jeanne@x.example",
			CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)}
		write(func(tx *store.Tx) error { return tx.InsertEnrollmentEmailToken(link) })
		use := func(hash, enrollment string) bool {
			t.Helper()
			var ok bool
			write(func(tx *store.Tx) (err error) { ok, err = tx.UseEnrollmentEmailToken(hash, enrollment); return err })
			return ok
		}
		if use("h1", eFR.ID) {
			t.Fatal("a link worked for another enrollment")
		}
		if !use("h1", eDE.ID) || use("h1", eDE.ID) {
			t.Fatal("a link is single-use")
		}
		link.TokenHash = "h2"
		write(func(tx *store.Tx) error { return tx.InsertEnrollmentEmailToken(link) })
		clock.Advance(7*24*time.Hour + time.Second)
		if use("h2", eDE.ID) {
			t.Fatal("an expired link worked")
		}
		clock.Set(now.Add(time.Hour))
		link.TokenHash, link.CreatedAt = "h3", clock.Now()
		write(func(tx *store.Tx) error {
			if err := tx.InsertEnrollmentEmailToken(link); err != nil {
				return err
			}
			return tx.RetireEnrollmentEmailTokens(eDE.ID)
		})
		if use("h3", eDE.ID) {
			t.Fatal("a retired link worked")
		}
		var latest time.Time
		write(func(tx *store.Tx) (err error) { latest, err = tx.LatestEnrollmentEmailToken(eDE.ID); return err })
		if !latest.Equal(clock.Now()) {
			t.Fatalf("latest link at %v, want %v", latest, clock.Now())
		}
	})
}
