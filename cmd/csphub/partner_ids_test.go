package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"csphub/internal/store"
	"csphub/internal/testdb"
)

// runSplit runs the binary with stdout and stderr apart, and its exit code.
func runSplit(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

var importedCode = regexp.MustCompile(`^[A-Z2-7]{5}(-[A-Z2-7]{5}){5}$`)

// claimCodes reads a claim codes file: partner ID → code.
func claimCodes(t *testing.T, text string) map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) == 0 || !slices.Equal(recs[0], []string{"partner_id", "claim_code"}) {
		t.Fatalf("claim codes %q: %v", text, err)
	}
	out := map[string]string{}
	for _, r := range recs[1:] {
		if !importedCode.MatchString(r[1]) {
			t.Errorf("claim code %q", r[1])
		}
		out[r[0]] = r[1]
	}
	return out
}

// The operator imports a CSV file in batches: the valid rows are imported,
// the others are listed with their reasons, the claim codes go to a new
// private file, and the exit status says that some rows were refused.
func TestOperatorImportPartnerIDs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		env := []string{"CSPHUB_DATA_DIR=" + filepath.Join(dir, "data"), "CSPHUB_LISTEN=127.0.0.1:0", "CSPHUB_LOG_LEVEL=warn"}
		dbURL := ""
		if engine == "postgres" {
			dbURL = testdb.FreshSchema(t)
			env = append(env, "CSPHUB_DATABASE_URL="+dbURL, "CSPHUB_MIGRATE=true")
		}
		file := filepath.Join(dir, "ids.csv")
		os.WriteFile(file, []byte("Country,Partner_ID,Legal Name,Status\n"+
			"FR,1234567,Contoso SAS,active\n"+
			"FR,0123456,Leading Zero,\n"+
			"DE,7654321,Northwind GmbH\n"+
			"XX,2345678,Nowhere Ltd,active\n"+
			"FR,1234567,Contoso again,\n"+
			"US,3456789,\"Tail\x1b[2Jspin\",inactive\n"+
			"fr,4567890,\"Fabrikam, Inc.\",inactive\n"+
			"GB,5678901,Wide World Importers,paused\n"+
			"BE,6789012,Litware,\n"), 0o600)
		out := filepath.Join(dir, "codes.csv")

		stdout, stderr, code := runSplit(t, env, "operator", "import-partner-ids", file, "--out", out, "--batch-size", "3")
		if code == 0 {
			t.Fatalf("exit 0 with refused rows:\n%s", stderr)
		}
		if stdout != "" {
			t.Errorf("stdout is not empty with --out: %q", stdout)
		}
		// Not a terminal: one line per batch.
		for _, want := range []string{
			"batch 1/3: rows 2 to 5: 1 imported, 2 refused\n", "batch 2/3: rows 7 to 9: 1 imported, 2 refused\n",
			"batch 3/3: rows 10 to 10: 1 imported, 0 refused\n",
			"6 rows refused:\n", "ROW  PARTNER ID  FIELD       REASON",
			"3    0123456     partner_id  partner_id must be 6 to 10 digits, the first not 0\n",
			"4    7654321     row         row has 3 fields, the header names 4\n",
			"5    2345678     country     country must be an ISO 3166-1 alpha-2 country code like FR or US\n",
			"6    1234567     partner_id  partner_id appears more than once in this file (first at row 2)\n",
			"7    3456789     legal_name  legal_name must be text on one line, without control characters\n",
			"9    5678901     status      status must be active or inactive\n",
			"imported 3 partner IDs; their claim codes are in " + out,
			"csphub: 6 rows refused (listed above); the valid rows were imported\n",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if strings.ContainsAny(stderr, "\x1b") {
			t.Errorf("a control character from the file reached the terminal: %q", stderr)
		}
		st, err := os.Stat(out)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("codes file: %v %v", st, err)
		}
		text, _ := os.ReadFile(out)
		codes := claimCodes(t, string(text))
		if len(codes) != 3 || codes["1234567"] == "" || codes["4567890"] == "" || codes["6789012"] == "" {
			t.Fatalf("codes: %v", codes)
		}

		// Only the hash of each code is stored.
		opts := store.Options{DataDir: filepath.Join(dir, "data"), URL: dbURL}
		db, err := store.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for id, c := range codes {
			var rec store.PartnerIDRecord
			if err := db.Read(context.Background(), func(tx *store.Tx) (err error) {
				rec, err = tx.PartnerIDRecord(id, false)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(strings.ReplaceAll(c, "-", "")))
			if rec.ClaimCodeHash != hex.EncodeToString(sum[:]) || rec.Source != "imported" {
				t.Errorf("%s stored as %+v", id, rec)
			}
		}
		db.Close()

		// The codes file is never overwritten, and nothing is imported
		// when it cannot be written.
		_, stderr, code = runSplit(t, env, "operator", "import-partner-ids", file, "--out", out)
		if code == 0 || !strings.Contains(stderr, "exists already") {
			t.Fatalf("overwrite: %d\n%s", code, stderr)
		}
		if again, _ := os.ReadFile(out); !bytes.Equal(again, text) {
			t.Fatal("the codes file changed")
		}

		// Without --out the codes go to stdout, the report to stderr.
		more := filepath.Join(dir, "more.csv")
		os.WriteFile(more, []byte("partner_id,legal_name,country\n9876543,Adventure Works,FR\n1234567,Contoso SAS,FR\n"), 0o600)
		stdout, stderr, code = runSplit(t, env, "operator", "import-partner-ids", more)
		if code == 0 || !strings.Contains(stderr, "3    1234567     partner_id  partner_id exists already\n") {
			t.Fatalf("second import: %d\n%s", code, stderr)
		}
		if c := claimCodes(t, stdout); len(c) != 1 || c["9876543"] == "" {
			t.Fatalf("stdout: %q", stdout)
		}
		// All valid: exit 0.
		os.WriteFile(more, []byte("partner_id,legal_name,country\n9876544,Blue Yonder,FR\n"), 0o600)
		if stdout, stderr, code := runSplit(t, env, "operator", "import-partner-ids", more); code != 0 || len(claimCodes(t, stdout)) != 1 {
			t.Fatalf("clean import: %d %q\n%s", code, stdout, stderr)
		}

		// A bad header: nothing imported, no codes file left behind.
		os.WriteFile(more, []byte("id;name;country\n1111111;X;FR\n"), 0o600)
		fresh := filepath.Join(dir, "fresh.csv")
		_, stderr, code = runSplit(t, env, "operator", "import-partner-ids", more, "--out", fresh)
		if code == 0 || !strings.Contains(stderr, "header lacks the column partner_id") || !strings.Contains(stderr, "nothing imported") {
			t.Fatalf("bad header: %d\n%s", code, stderr)
		}
		if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a codes file was left for nothing: %v", err)
		}
		// Every row refused: no codes file either.
		os.WriteFile(more, []byte("partner_id,legal_name,country\n1234567,Contoso SAS,FR\n"), 0o600)
		_, stderr, code = runSplit(t, env, "operator", "import-partner-ids", more, "--out", fresh)
		if code == 0 || !strings.Contains(stderr, "csphub: 1 row refused (listed above); nothing imported\n") {
			t.Fatalf("all refused: %d\n%s", code, stderr)
		}
		if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a codes file was left for nothing: %v", err)
		}
		if _, stderr, code := runSplit(t, env, "operator", "import-partner-ids", filepath.Join(dir, "absent.csv")); code == 0 || !strings.Contains(stderr, "no such file") {
			t.Fatalf("absent file: %d %s", code, stderr)
		}
		if _, stderr, code := runSplit(t, env, "operator", "import-partner-ids", more, "--batch-size", "5001"); code == 0 || !strings.Contains(stderr, "--batch-size must be 1 to 5000") {
			t.Fatalf("batch size: %d %s", code, stderr)
		}
	})
}
