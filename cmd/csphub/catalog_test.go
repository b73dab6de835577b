package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	domain "csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// The operator imports a catalogue from CSV or YAML: the valid rows are
// created or updated, the others are listed with their reasons, and the
// exit status says that some rows were refused.
func TestOperatorImportCatalog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		env := []string{"CSPHUB_DATA_DIR=" + filepath.Join(dir, "data"), "CSPHUB_LISTEN=127.0.0.1:0", "CSPHUB_LOG_LEVEL=warn"}
		dbURL := ""
		if engine == "postgres" {
			dbURL = testdb.FreshSchema(t)
			env = append(env, "CSPHUB_DATABASE_URL="+dbURL, "CSPHUB_MIGRATE=true")
		}
		const head = "code,product_code,product_name,sku_code,sku_name,market,currency,price_minor,billing_cycle,term,min_quantity,max_quantity,available_from,available_to\n"
		file := filepath.Join(dir, "offers.csv")
		os.WriteFile(file, []byte(head+
			"CB-FR-P1M,CLOUD-BACKUP,Cloud Backup,CB-1TB,Cloud Backup 1 TB,FR,EUR,840,monthly,P1M,1,1000,2026-01-01,\n"+
			"CB-FR-P1Y,CLOUD-BACKUP,Cloud Backup,CB-1TB,Cloud Backup 1 TB,FR,EUR,8400,annual,P1Y,1,1000,2026-01-01,\n"+
			"CB-CH-P1M,CLOUD-BACKUP,Cloud Backup,CB-1TB,Cloud Backup 1 TB,CH,EUR,830,monthly,P1M,1,1000,,\n"+
			"CB-GB-P1M,CLOUD-BACKUP,Cloud Backup,CB-1TB,Cloud Backup 1 TB,GB,GBP,7.20,monthly,P1M,1,1000,,\n"+
			"CB-FR-P1M,CLOUD-BACKUP,Cloud Backup,CB-1TB,Again,FR,EUR,850,monthly,P1M,1,1000,,\n"+
			"CB-SHORT,CLOUD-BACKUP\n"+
			"CB-US-P1M,CLOUD-BACKUP,\"Tail\x1b[2Jspin\",CB-1TB,Cloud Backup 1 TB,US,USD,900,monthly,P1M,5,2,,\n"+
			"CB-JP-P1M,CLOUD-BACKUP,Cloud Backup,CB-1TB,Cloud Backup 1 TB,JP,JPY,1350,monthly,P1M,1,1000,,\n"), 0o600)

		stdout, stderr, code := runSplit(t, env, "operator", "import-catalog", file, "--batch-size", "3")
		if code == 0 {
			t.Fatalf("exit 0 with refused rows:\n%s", stderr)
		}
		if stdout != "" {
			t.Errorf("stdout: %q", stdout)
		}
		for _, want := range []string{
			// The duplicate (row 6) and the short row (7) never reach a batch.
			"batch 1/2: rows 2 to 4: 2 created, 0 updated, 0 unchanged, 1 refused\n",
			"batch 2/2: rows 5 to 9: 1 created, 0 updated, 0 unchanged, 2 refused\n",
			"5 rows refused:\n", "ROW  OFFER CODE  FIELD         REASON",
			"4    CB-CH-P1M   currency      currency must be CHF, the currency of the market CH, not EUR\n",
			"5    CB-GB-P1M   price_minor   price_minor must be a whole number of minor units (1250 for 12.50), not \"7.20\"\n",
			"6    CB-FR-P1M   code          code appears more than once in this file (first at row 2)\n",
			"7    CB-SHORT    row           row has 2 fields, the header names 14\n",
			"8    CB-US-P1M   product_name  product_name must be text on one line, without control characters\n",
			"8    CB-US-P1M   max_quantity  max_quantity must be at least min_quantity (5)\n",
			"offers: 3 created, 0 updated, 0 unchanged, 5 refused\n",
			"csphub: 5 rows refused (listed above); the valid rows were imported\n",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if strings.ContainsAny(stderr, "\x1b") {
			t.Errorf("a control character from the file reached the terminal: %q", stderr)
		}

		// YAML: an update in place, an unchanged offer, and a clean exit.
		yml := filepath.Join(dir, "offers.yaml")
		os.WriteFile(yml, []byte(`- {code: CB-FR-P1M, product_code: CLOUD-BACKUP, product_name: Cloud Backup, sku_code: CB-1TB, sku_name: Cloud Backup 1 TB,
   market: FR, currency: EUR, price_minor: 860, billing_cycle: monthly, term: P1M, min_quantity: 1, max_quantity: 1000, available_from: 2026-01-01}
- {code: CB-JP-P1M, product_code: CLOUD-BACKUP, product_name: Cloud Backup, sku_code: CB-1TB, sku_name: Cloud Backup 1 TB,
   market: JP, currency: JPY, price_minor: 1350, billing_cycle: monthly, term: P1M, min_quantity: 1, max_quantity: 1000}
`), 0o600)
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", yml); code != 0 ||
			!strings.Contains(stderr, "offers: 0 created, 1 updated, 1 unchanged, 0 refused\n") {
			t.Fatalf("yaml: %d\n%s", code, stderr)
		}

		// The sample catalogue imports cleanly.
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", "--sample"); code != 0 ||
			!strings.Contains(stderr, "offers: 96 created, 0 updated, 0 unchanged, 0 refused\n") {
			t.Fatalf("sample: %d\n%s", code, stderr)
		}

		db, err := store.Open(context.Background(), store.Options{DataDir: filepath.Join(dir, "data"), URL: dbURL})
		if err != nil {
			t.Fatal(err)
		}
		var fr []domain.Offer
		if err := db.Read(context.Background(), func(tx *store.Tx) (err error) {
			fr, err = tx.Offers("FR", nil, 100)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		var backup *domain.Offer
		for i := range fr {
			if fr[i].Code == "CB-FR-P1M" {
				backup = &fr[i]
			}
		}
		if len(fr) != 2+8 || backup == nil || backup.PriceMinor != 860 || backup.SKUName != "Cloud Backup 1 TB" {
			t.Fatalf("FR offers: %d %+v", len(fr), backup)
		}

		// Files that cannot be read: nothing imported, and why.
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("code;price\nA;1\n"), 0o600)
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", bad); code == 0 ||
			!strings.Contains(stderr, "header lacks the column code") || !strings.Contains(stderr, "nothing imported") {
			t.Fatalf("bad header: %d\n%s", code, stderr)
		}
		badYAML := filepath.Join(dir, "bad.yml")
		os.WriteFile(badYAML, []byte("- code: A\n  market: [FR\n"), 0o600)
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", badYAML); code == 0 ||
			!strings.Contains(stderr, "file is not valid YAML") {
			t.Fatalf("bad yaml: %d\n%s", code, stderr)
		}
		txt := filepath.Join(dir, "offers.txt")
		os.WriteFile(txt, []byte("x"), 0o600)
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", txt); code == 0 || !strings.Contains(stderr, "neither .csv nor .yaml") {
			t.Fatalf("txt: %d\n%s", code, stderr)
		}
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", filepath.Join(dir, "absent.csv")); code == 0 || !strings.Contains(stderr, "no such file") {
			t.Fatalf("absent: %d\n%s", code, stderr)
		}
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog"); code == 0 || !strings.Contains(stderr, "--sample") {
			t.Fatalf("no file: %d\n%s", code, stderr)
		}
		if _, stderr, code := runSplit(t, env, "operator", "import-catalog", file, "--batch-size", "0"); code == 0 || !strings.Contains(stderr, "--batch-size must be 1 to 5000") {
			t.Fatalf("batch size: %d\n%s", code, stderr)
		}
	})
}
