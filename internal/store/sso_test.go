package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func ssoOrg(t *testing.T, db *store.DB, domain string) string {
	t.Helper()
	org := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgCustomer, Name: domain, Country: "FR", Domain: domain}
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		org.CreatedAt = tx.Now()
		return tx.InsertOrganization(org)
	}); err != nil {
		t.Fatal(err)
	}
	return org.ID
}

func TestSSOConfigsAndDomains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		fabrikam, northwind := ssoOrg(t, db, "fabrikam.example"), ssoOrg(t, db, "northwind.example")
		read := func(org string) (c store.SSOConfig, err error) {
			err = db.Read(ctx, func(tx *store.Tx) error { c, err = tx.SSOConfig(org); return err })
			return c, err
		}
		if _, err := read(fabrikam); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("unconfigured: %v", err)
		}
		save := func(c store.SSOConfig) {
			t.Helper()
			if err := db.Write(ctx, func(tx *store.Tx) error { return tx.SaveSSOConfig(c) }); err != nil {
				t.Fatal(err)
			}
		}
		save(store.SSOConfig{OrgID: fabrikam, Issuer: "https://idp.fabrikam.example", ClientID: "csphub", ClientSecret: "s1",
			AllowedDomains: []string{"fabrikam.example", "shared.example"}})
		save(store.SSOConfig{OrgID: northwind, Issuer: "https://idp.northwind.example", ClientID: "csphub", ClientSecret: "s2",
			AllowedDomains: []string{"northwind.example"}})
		created := clock.Now()
		clock.Advance(time.Hour)
		// Replacing keeps the creation time and exactly the new domains.
		save(store.SSOConfig{OrgID: fabrikam, Issuer: "https://login.fabrikam.example", ClientID: "csphub-2", ClientSecret: "s3",
			AllowedDomains: []string{"fabrikam.example", "fabrikam.example.fr"}})
		c, err := read(fabrikam)
		if err != nil || c.Issuer != "https://login.fabrikam.example" || c.ClientID != "csphub-2" || c.ClientSecret != "s3" ||
			!equal(c.AllowedDomains, []string{"fabrikam.example", "fabrikam.example.fr"}) || !c.Enabled() ||
			!c.CreatedAt.Equal(created) || !c.UpdatedAt.Equal(clock.Now()) {
			t.Fatalf("after replace: %+v %v", c, err)
		}
		orgsFor := func(domain string) []string {
			var out []string
			if err := db.Read(ctx, func(tx *store.Tx) (err error) { out, err = tx.SSOOrgsForDomain(domain); return }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := orgsFor("shared.example"); len(got) != 0 {
			t.Fatalf("a removed domain still maps to %v", got)
		}
		if got := orgsFor("northwind.example"); !equal(got, []string{northwind}) {
			t.Fatalf("northwind.example: %v", got)
		}
		// Disabling hides the domain, keeps the settings, and voids the
		// sign-ins in flight.
		if err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.InsertSSOAttempt(store.SSOAttempt{StateHash: "h-north", OrgID: northwind, Issuer: "https://idp.northwind.example",
				ClientID: "csphub", NonceHash: "n", PKCEVerifier: "v", RedirectAfter: "/", CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(10 * time.Minute)})
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return tx.DisableSSOConfig(northwind) }); err != nil {
			t.Fatal(err)
		}
		if got := orgsFor("northwind.example"); len(got) != 0 {
			t.Fatalf("a disabled provider still maps its domain: %v", got)
		}
		if c, err := read(northwind); err != nil || c.Enabled() || c.ClientSecret != "s2" {
			t.Fatalf("disabled: %+v %v", c, err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error { _, err := tx.ConsumeSSOAttempt("h-north"); return err })
		if csphub.AsError(err) == nil || csphub.AsError(err).Code != "sso_state_invalid" {
			t.Fatalf("attempt of a disabled provider: %v", err)
		}
		// Two organizations claiming one domain are both listed.
		save(store.SSOConfig{OrgID: northwind, Issuer: "https://idp.northwind.example", ClientID: "csphub", ClientSecret: "s2",
			AllowedDomains: []string{"fabrikam.example"}})
		if got := orgsFor("fabrikam.example"); len(got) != 2 {
			t.Fatalf("a contested domain: %v", got)
		}
		err = db.Write(ctx, func(tx *store.Tx) error { return tx.DisableSSOConfig(csphub.NewID()) })
		if csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("disable unknown: %v", err)
		}
	})
}

func TestSSOAttemptsAreSingleUseAndExpire(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		db := testdb.Open(t, engine, clock)
		org := ssoOrg(t, db, "fabrikam.example")
		insert := func(hash string) {
			t.Helper()
			if err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.InsertSSOAttempt(store.SSOAttempt{StateHash: hash, OrgID: org, Issuer: "https://idp.fabrikam.example", ClientID: "csphub",
					NonceHash: "nonce-" + hash, PKCEVerifier: "verifier-" + hash, RedirectAfter: "/orders", CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(10 * time.Minute)})
			}); err != nil {
				t.Fatal(err)
			}
		}
		consume := func(hash string) (a store.SSOAttempt, err error) {
			err = db.Write(ctx, func(tx *store.Tx) error { a, err = tx.ConsumeSSOAttempt(hash); return err })
			return a, err
		}
		insert("h1")
		a, err := consume("h1")
		if err != nil || a.OrgID != org || a.NonceHash != "nonce-h1" || a.PKCEVerifier != "verifier-h1" || a.RedirectAfter != "/orders" {
			t.Fatalf("consume: %+v %v", a, err)
		}
		if _, err := consume("h1"); csphub.ErrorKind(err) != csphub.KindUnauthenticated {
			t.Fatalf("second use: %v", err)
		}
		if _, err := consume("unknown"); csphub.ErrorKind(err) != csphub.KindUnauthenticated {
			t.Fatalf("unknown state: %v", err)
		}
		insert("h2")
		clock.Advance(10 * time.Minute)
		if _, err := consume("h2"); csphub.ErrorKind(err) != csphub.KindUnauthenticated {
			t.Fatalf("expired state: %v", err)
		}

		// Of concurrent callbacks with one state, exactly one wins.
		insert("h3")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := consume("h3")
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if csphub.ErrorKind(err) != csphub.KindUnauthenticated {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d concurrent redemptions of one state succeeded", wins)
		}
	})
}
