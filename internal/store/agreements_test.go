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

// agreementPartner stores a partner organization with its partner ID and
// profile, located in country.
func agreementPartner(t *testing.T, db *store.DB, partnerID, country string) string {
	t.Helper()
	if err := db.Exec(`INSERT INTO partner_ids (partner_id, legal_name, country, status, source, created_at) VALUES (?, ?, ?, 'active', 'issued', ?)`,
		partnerID, "Legal "+partnerID, country, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	org := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: "Partner " + partnerID, Country: country, Domain: "p" + partnerID + ".example"}
	p := csphub.PartnerProfile{OrgID: org.ID, PartnerID: partnerID, LegalName: org.Name,
		Address:        csphub.Address{Line1: "1 Main Street", City: "Town", Country: country},
		PrimaryContact: csphub.PrimaryContact{FirstName: "Ann", LastName: "Lee", Email: "ann@p.example", Phone: "+33123456789", Lang: "en"},
		SupportContact: csphub.SupportContact{Email: "support@p.example", Phone: "+33123456789"}, Version: 1}
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		org.CreatedAt, p.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.InsertOrganization(org); err != nil {
			return err
		}
		return tx.InsertPartnerProfile(p)
	}); err != nil {
		t.Fatal(err)
	}
	return org.ID
}

func versions(list []csphub.Agreement) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.Version)
	}
	return out
}

func TestAgreementVersionsAndAcceptances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
		write := func(fn func(tx *store.Tx) error) error { return db.Write(ctx, fn) }
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		publish := func(version string, effective time.Time, regions ...string) csphub.Agreement {
			t.Helper()
			a := csphub.Agreement{ID: csphub.NewID(), Version: version, Title: "Partner agreement " + version, Body: "Text " + version,
				EffectiveAt: effective, Regions: regions}
			must(write(func(tx *store.Tx) error {
				a.PublishedAt = tx.Now()
				return tx.InsertAgreement(a, "op-admin")
			}))
			return a
		}

		v1 := publish("2026-01", day(1, 1), "europe", "north_america")
		v2 := publish("2026-06", day(6, 1), "europe")
		na := publish("2026-02-na", day(2, 1), "north_america")

		// A version name is used once.
		err := write(func(tx *store.Tx) error {
			return tx.InsertAgreement(csphub.Agreement{ID: csphub.NewID(), Version: "2026-01", Title: "x", Body: "y",
				EffectiveAt: day(7, 1), PublishedAt: tx.Now(), Regions: []string{"europe"}}, "op-admin")
		})
		if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindConflict || e.Code != "agreement_version_exists" ||
			len(e.Fields) != 1 || e.Fields[0].Field != "version" {
			t.Fatalf("duplicate version: %v", err)
		}

		must(db.Read(ctx, func(tx *store.Tx) error {
			if ok, err := tx.AgreementVersionExists("2026-06"); err != nil || !ok {
				t.Errorf("2026-06 exists: %v %v", ok, err)
			}
			if ok, err := tx.AgreementVersionExists("2027-01"); err != nil || ok {
				t.Errorf("2027-01 exists: %v %v", ok, err)
			}
			// Every version, the latest effective first, with its regions.
			all, err := tx.Agreements(10)
			if err != nil {
				return err
			}
			if got := versions(all); !slices.Equal(got, []string{"2026-06", "2026-02-na", "2026-01"}) {
				t.Errorf("all versions: %v", got)
			}
			if !slices.Equal(all[2].Regions, []string{"europe", "north_america"}) || all[2].Body != "Text 2026-01" ||
				!all[2].EffectiveAt.Equal(day(1, 1)) || all[2].EffectiveAt.Location() != time.UTC {
				t.Errorf("v1 read back: %+v", all[2])
			}
			if limited, _ := tx.Agreements(1); len(limited) != 1 {
				t.Errorf("limit: %d", len(limited))
			}
			// In force on March 2nd: v1 in Europe (v2 is scheduled), the
			// North American version there.
			eu, err := tx.AgreementsInForce("europe", clock.Now(), 10)
			if err != nil || !slices.Equal(versions(eu), []string{"2026-01"}) {
				t.Errorf("europe in force: %v %v", versions(eu), err)
			}
			nam, err := tx.AgreementsInForce("north_america", clock.Now(), 10)
			if err != nil || !slices.Equal(versions(nam), []string{"2026-02-na", "2026-01"}) {
				t.Errorf("north america in force: %v %v", versions(nam), err)
			}
			if cur, ok, err := tx.CurrentAgreement("europe", clock.Now()); err != nil || !ok || cur.ID != v1.ID {
				t.Errorf("current europe: %v %v %v", cur.Version, ok, err)
			}
			if cur, ok, err := tx.CurrentAgreement("europe", day(6, 1)); err != nil || !ok || cur.ID != v2.ID {
				t.Errorf("current europe in June: %v %v %v", cur.Version, ok, err)
			}
			if _, ok, err := tx.CurrentAgreement("asia_pacific", clock.Now()); err != nil || ok {
				t.Errorf("asia pacific has none: %v %v", ok, err)
			}
			// The last to take effect per region, scheduled ones included.
			latest, err := tx.LatestAgreements([]string{"europe", "north_america", "asia_pacific"})
			if err != nil || len(latest) != 2 || latest["europe"].ID != v2.ID || latest["north_america"].ID != na.ID {
				t.Errorf("latest: %v %v", latest, err)
			}
			got, err := tx.Agreement(v2.ID)
			if err != nil || got.Version != "2026-06" || !slices.Equal(got.Regions, []string{"europe"}) {
				t.Errorf("agreement v2: %+v %v", got, err)
			}
			if _, err := tx.Agreement(csphub.NewID()); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("unknown agreement: %v", err)
			}
			return nil
		}))
		// Only regions that exist are locked and returned.
		must(write(func(tx *store.Tx) error {
			known, err := tx.LockRegions([]string{"europe", "atlantis", "asia_pacific"})
			if err != nil || !slices.Equal(known, []string{"asia_pacific", "europe"}) {
				t.Errorf("lock regions: %v %v", known, err)
			}
			return err
		}))

		// Acceptances, per organization and version.
		org := agreementPartner(t, db, "4000001", "FR")
		other := agreementPartner(t, db, "4000002", "US")
		accept := func(orgID string, a csphub.Agreement) error {
			return write(func(tx *store.Tx) error {
				return tx.InsertAgreementAcceptance(csphub.AgreementAcceptance{ID: csphub.NewID(), OrgID: orgID, AgreementID: a.ID,
					Region: "europe", UserID: csphub.NewID(), SignerName: "Ann Lee", SignerEmail: "ann@p.example", SignerPhone: "+33123456789",
					AcceptedAt: clock.Now()})
			})
		}
		must(db.Read(ctx, func(tx *store.Tx) error {
			if _, ok, err := tx.LatestAgreementAcceptance(org); err != nil || ok {
				t.Errorf("no acceptance yet: %v %v", ok, err)
			}
			if _, err := tx.AgreementAcceptance(org, v1.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("no acceptance of v1 yet: %v", err)
			}
			return nil
		}))
		must(accept(org, v1))
		if err := accept(org, v1); csphub.ErrorKind(err) != csphub.KindConflict {
			t.Fatalf("second acceptance of v1: %v", err)
		}
		clock.Advance(time.Hour)
		must(accept(org, v2))
		must(db.Read(ctx, func(tx *store.Tx) error {
			c, err := tx.AgreementAcceptance(org, v1.ID)
			if err != nil || c.Version != "2026-01" || c.SignerName != "Ann Lee" || c.Region != "europe" || c.OrgID != org {
				t.Errorf("acceptance of v1: %+v %v", c, err)
			}
			last, ok, err := tx.LatestAgreementAcceptance(org)
			if err != nil || !ok || last.AgreementID != v2.ID || last.Version != "2026-06" || !last.AcceptedAt.Equal(clock.Now()) {
				t.Errorf("latest acceptance: %+v %v %v", last, ok, err)
			}
			// Another organization's acceptances are its own.
			if _, ok, err := tx.LatestAgreementAcceptance(other); err != nil || ok {
				t.Errorf("other organization: %v %v", ok, err)
			}
			if _, err := tx.AgreementAcceptance(other, v1.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("other organization's v1: %v", err)
			}
			// Partner IDs lead to their organization.
			if id, err := tx.PartnerOrgOf("4000002"); err != nil || id != other {
				t.Errorf("partner 4000002: %q %v", id, err)
			}
			if _, err := tx.PartnerOrgOf("4999999"); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("unknown partner ID: %v", err)
			}
			return nil
		}))
	})
}
