package store_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func TestWebmailDomains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, csphub.NewManualClock(t0))
		ctx := context.Background()
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, d := range []string{"zmail.example", "mail.example", "post.example"} {
				if err := tx.InsertWebmailDomain(store.WebmailDomain{Domain: d, CreatedAt: tx.Now(), CreatedBy: "u1"}); err != nil {
					return err
				}
			}
			// A duplicate is a conflict, and the transaction goes on.
			err := tx.InsertWebmailDomain(store.WebmailDomain{Domain: "mail.example", CreatedAt: tx.Now(), CreatedBy: "u2"})
			if e := csphub.AsError(err); e == nil || e.Code != "webmail_domain_exists" {
				t.Errorf("duplicate: %v", err)
			}
			n, err := tx.CountWebmailDomains()
			if err != nil || n != 3 {
				t.Errorf("count %d, %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Read(ctx, func(tx *store.Tx) error {
			list, err := tx.WebmailDomains()
			if err != nil {
				return err
			}
			var names []string
			for _, d := range list {
				names = append(names, d.Domain)
				if !d.CreatedAt.Equal(t0) || d.CreatedBy != "u1" {
					t.Errorf("row %+v", d)
				}
			}
			if !slices.Equal(names, []string{"mail.example", "post.example", "zmail.example"}) {
				t.Errorf("list %v", names)
			}
			for _, c := range []struct {
				in   []string
				want bool
			}{
				{nil, false},
				{[]string{"mail.example"}, true},
				{[]string{"eu.mail.example", "mail.example", "example"}, true},
				{[]string{"gmail.example", "example"}, false},
				{[]string{"MAIL.EXAMPLE"}, false}, // callers lower-case
			} {
				got, err := tx.WebmailDomainListed(c.in)
				if err != nil || got != c.want {
					t.Errorf("listed %v = %v, %v", c.in, got, err)
				}
			}
			d, err := tx.WebmailDomain("post.example", false)
			if err != nil || d.Domain != "post.example" {
				t.Errorf("read %+v, %v", d, err)
			}
			if _, err := tx.WebmailDomain("nope.example", false); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("read missing: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.WebmailDomain("post.example", true); err != nil {
				return err
			}
			if err := tx.DeleteWebmailDomain("post.example"); err != nil {
				return err
			}
			if err := tx.DeleteWebmailDomain("post.example"); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("delete twice: %v", err)
			}
			n, err := tx.CountWebmailDomains()
			if err != nil || n != 2 {
				t.Errorf("count after delete %d, %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestMarkets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, nil)
		err := db.Read(context.Background(), func(tx *store.Tx) error {
			ms, err := tx.Markets()
			if err != nil {
				return err
			}
			if len(ms) < 50 {
				t.Fatalf("%d markets", len(ms))
			}
			if !slices.IsSortedFunc(ms, func(a, b csphub.Market) int {
				return cmp.Or(strings.Compare(a.RegionCode, b.RegionCode), strings.Compare(a.Country, b.Country))
			}) {
				t.Error("markets not sorted by region and country")
			}
			i := slices.IndexFunc(ms, func(m csphub.Market) bool { return m.Country == "FR" })
			if i < 0 || ms[i] != (csphub.Market{Country: "FR", RegionCode: "europe", Currency: "EUR"}) {
				t.Errorf("FR market: %+v", ms)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
