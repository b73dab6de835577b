package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func pidRecord(id string, at time.Time, name string) store.PartnerIDRecord {
	return store.PartnerIDRecord{ClaimCodeHash: "hash-" + id, PartnerID: csphub.PartnerID{
		PartnerID: id, LegalName: name, Country: "FR", Status: csphub.PartnerIDActive, Source: "imported", CreatedAt: at}}
}

func pidWrite(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.Write(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// Inserting skips the IDs that exist and reports the ones it stored, over
// several statements; existence is read in chunks too.
func TestPartnerIDsInsertAndLookUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, csphub.NewManualClock(t0))
		var recs []store.PartnerIDRecord
		var ids []string
		for i := range 450 {
			id := fmt.Sprint(1_000_000 + i)
			recs = append(recs, pidRecord(id, t0, "Partner "+id))
			ids = append(ids, id)
		}
		pidWrite(t, db, func(tx *store.Tx) error {
			got, err := tx.InsertPartnerIDs(recs[:10])
			if err != nil || len(got) != 10 {
				return fmt.Errorf("first insert: %v %v", got, err)
			}
			got, err = tx.InsertPartnerIDs(recs)
			if err != nil {
				return err
			}
			if len(got) != 440 || got["1000000"] || !got["1000010"] || !got["1000449"] {
				return fmt.Errorf("second insert stored %d", len(got))
			}
			return nil
		})
		pidWrite(t, db, func(tx *store.Tx) error {
			lookup := append(slices.Clone(ids), "9999999")
			for i := range 600 {
				lookup = append(lookup, fmt.Sprint(8_000_000+i))
			}
			found, err := tx.ExistingPartnerIDs(lookup)
			if err != nil || len(found) != 450 || found["9999999"] {
				return fmt.Errorf("existing: %d %v", len(found), err)
			}
			if found, err := tx.ExistingPartnerIDs(nil); err != nil || len(found) != 0 {
				return fmt.Errorf("existing of nothing: %v %v", found, err)
			}
			rec, err := tx.PartnerIDRecord("1000001", true)
			if err != nil || rec.ClaimCodeHash != "hash-1000001" || !rec.CreatedAt.Equal(t0) || rec.OrgID != "" || rec.LinkedAt != nil {
				return fmt.Errorf("record: %+v %v", rec, err)
			}
			if _, err := tx.PartnerIDRecord("9999999", false); csphub.ErrorKind(err) != csphub.KindNotFound {
				return fmt.Errorf("absent record: %v", err)
			}
			return nil
		})
	})
}

// Two transactions inserting the same ID: the second skips it once the
// first commits, instead of failing.
func TestPartnerIDsConcurrentInsert(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, nil)
		var wg sync.WaitGroup
		stored := make([]map[string]bool, 6)
		errs := make([]error, 6)
		for i := range stored {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.Write(context.Background(), func(tx *store.Tx) (err error) {
					stored[i], err = tx.InsertPartnerIDs([]store.PartnerIDRecord{pidRecord("1234567", tx.Now(), fmt.Sprint("Racer ", i))})
					return err
				})
			}()
		}
		wg.Wait()
		n := 0
		for i := range stored {
			if errs[i] != nil {
				t.Fatalf("insert %d: %v", i, errs[i])
			}
			if stored[i]["1234567"] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d inserts stored the ID", n)
		}
	})
}

func TestPartnerIDsLinkStatusAndList(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		db := testdb.Open(t, engine, clock)
		orgA := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: "A", Country: "FR", Domain: "a.example", CreatedAt: t0}
		orgB := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: "B", Country: "FR", Domain: "b.example", CreatedAt: t0}
		pidWrite(t, db, func(tx *store.Tx) error {
			for _, o := range []csphub.Organization{orgA, orgB} {
				if err := tx.InsertOrganization(o); err != nil {
					return err
				}
			}
			_, err := tx.InsertPartnerIDs([]store.PartnerIDRecord{
				pidRecord("2000002", t0, "Contoso 50% SAS"), pidRecord("2000001", t0, "Fabrikam"),
				pidRecord("3000000", t0.Add(time.Second), "contoso_b"),
			})
			return err
		})
		clock.Advance(time.Minute)
		pidWrite(t, db, func(tx *store.Tx) error {
			if id, err := tx.PartnerIDOfOrganization(orgA.ID); err != nil || id != "" {
				return fmt.Errorf("before linking: %q %v", id, err)
			}
			if ok, err := tx.LinkPartnerID("2000001", orgA.ID); err != nil || !ok {
				return fmt.Errorf("link: %v %v", ok, err)
			}
			if ok, err := tx.LinkPartnerID("2000001", orgA.ID); err != nil || !ok {
				return fmt.Errorf("link again: %v %v", ok, err)
			}
			if ok, err := tx.LinkPartnerID("2000001", orgB.ID); err != nil || ok {
				return fmt.Errorf("link to another: %v %v", ok, err)
			}
			if _, err := tx.LinkPartnerID("9999999", orgB.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
				return fmt.Errorf("link an absent ID: %v", err)
			}
			rec, err := tx.PartnerIDRecord("2000001", false)
			if err != nil || rec.OrgID != orgA.ID || rec.LinkedAt == nil || !rec.LinkedAt.Equal(t0.Add(time.Minute)) {
				return fmt.Errorf("linked: %+v %v", rec, err)
			}
			if id, err := tx.PartnerIDOfOrganization(orgA.ID); err != nil || id != "2000001" {
				return fmt.Errorf("of organization: %q %v", id, err)
			}
			if err := tx.SetPartnerIDStatus("2000002", csphub.PartnerIDInactive); err != nil {
				return err
			}
			if err := tx.SetPartnerIDStatus("9999999", csphub.PartnerIDInactive); csphub.ErrorKind(err) != csphub.KindNotFound {
				return fmt.Errorf("status of an absent ID: %v", err)
			}
			return nil
		})
		list := func(prefix string, after *store.PartnerIDKeyset, limit int) []string {
			t.Helper()
			var out []string
			if err := db.Read(context.Background(), func(tx *store.Tx) error {
				items, err := tx.PartnerIDs(prefix, after, limit)
				for _, it := range items {
					out = append(out, it.PartnerID+":"+string(it.Status))
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := list("", nil, 10); !slices.Equal(got, []string{"2000001:active", "2000002:inactive", "3000000:active"}) {
			t.Errorf("all: %v", got)
		}
		if got := list("", &store.PartnerIDKeyset{CreatedAt: t0, PartnerID: "2000001"}, 10); !slices.Equal(got, []string{"2000002:inactive", "3000000:active"}) {
			t.Errorf("after the first: %v", got)
		}
		if got := list("", nil, 1); len(got) != 1 {
			t.Errorf("limit: %v", got)
		}
		for prefix, want := range map[string][]string{
			"2000":         {"2000001:active", "2000002:inactive"},
			"CONTOSO":      {"2000002:inactive", "3000000:active"},
			"contoso 50%":  {"2000002:inactive"},
			"contoso_":     {"3000000:active"},
			"%":            nil,
			"contoso 50_":  nil,
			"fabrikam ltd": nil,
		} {
			if got := list(prefix, nil, 10); !slices.Equal(got, want) {
				t.Errorf("prefix %q: %v, want %v", prefix, got, want)
			}
		}
	})
}
