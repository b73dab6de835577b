package main_test

import (
	"database/sql"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"csphub/internal/testdb"
)

const (
	demoPassword = "demo passphrase 2026"
	demoProvider = "morgan.lee@northwind-supply.demo.csphub.example"
)

// sqliteCounts counts the rows of every table of the SQLite database in dir.
func sqliteCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "csphub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

// `csphub demo --seed-only` seeds the demo world once and says how to sign
// in; a second run finds it and writes nothing. `csphub demo` then serves
// it, its emails reach the local mailbox, and a demo user signs in with the
// password printed and the code `csphub demo totp` gives.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CSPHUB_DATA_DIR=" + dir, "CSPHUB_LISTEN=127.0.0.1:0", "CSPHUB_LOG_LEVEL=warn"}

	out, errOut, code := runSplit(t, env, "demo", "--seed-only")
	if code != 0 || !strings.Contains(out, "The demo world is seeded") || !strings.Contains(out, demoPassword) ||
		!strings.Contains(out, demoProvider) || !strings.Contains(out, "csphub demo totp EMAIL") {
		t.Fatalf("demo --seed-only: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, party := range []string{"Contoso Distribution SAS", "Northwind Supply Inc.", "Fabrikam IT GmbH", "Tailspin Cloud Ltd.",
		"Litware Conseil SARL", "Adatum Services B.V.", "Alpine Ski House GmbH"} {
		if !strings.Contains(out, party) {
			t.Errorf("%s is not listed:\n%s", party, out)
		}
	}
	before := sqliteCounts(t, dir)
	out, errOut, code = runSplit(t, env, "demo", "--seed-only")
	if code != 0 || !strings.Contains(out, "seeded already") || !strings.Contains(out, demoProvider) {
		t.Fatalf("second demo --seed-only: exit %d\n%s\n%s", code, out, errOut)
	}
	if after := sqliteCounts(t, dir); !maps.Equal(before, after) {
		t.Fatalf("the second seeding wrote rows:\nbefore %v\nafter  %v", before, after)
	}
	if before["subscriptions"] == 0 || before["customer_invitations"] == 0 {
		t.Fatalf("no subscriptions or customer invitations: %v", before)
	}

	base, _ := startServer(t, env, "demo")
	post := func(path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	status, body := post("/api/v1/sessions", "", `{"email":"`+demoProvider+`","password":"`+demoPassword+`"}`)
	token, _ := body["session_token"].(string)
	if status != 201 || body["mfa_required"] != true || body["mfa_enrolled"] != true || token == "" {
		t.Fatalf("sign in: %d %v", status, body)
	}
	out, errOut, code = runSplit(t, env, "demo", "totp", demoProvider)
	totpCode := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(totpCode) || !strings.Contains(errOut, "valid until") {
		t.Fatalf("demo totp: exit %d\n%s\n%s", code, out, errOut)
	}
	status, body = post("/api/v1/me/mfa/totp/verify", token, `{"code":"`+totpCode+`"}`)
	if renewed, _ := body["session_token"].(string); status != 200 || renewed == "" {
		t.Fatalf("the code from demo totp is refused: %d %v", status, body)
	}

	// The seeding's emails are real: the server delivers them.
	waitFor(t, func() bool {
		code, page := get(t, base+"/mailbox")
		return code == 200 && strings.Contains(string(page), "catalog@operator.demo.csphub.example")
	})

	for _, email := range []string{"ops@vendor.example", "lena.fischer@alpine-ski-house.demo.csphub.example", "nobody@fabrikam-it.demo.csphub.example"} {
		if out, errOut, code := runSplit(t, env, "demo", "totp", email); code == 0 || out != "" {
			t.Errorf("demo totp %s: exit %d\n%s\n%s", email, code, out, errOut)
		}
	}
}

// The demo world is for the embedded database: on PostgreSQL it needs
// --allow-postgres, and then seeds as on SQLite.
func TestDemoOnPostgres(t *testing.T) {
	env := []string{"CSPHUB_DATABASE_URL=postgres://nobody@127.0.0.1:1/nothing", "CSPHUB_LOG_LEVEL=warn"}
	_, errOut, code := runSplit(t, env, "demo", "--seed-only")
	if code == 0 || !strings.Contains(errOut, "--allow-postgres") {
		t.Fatalf("demo on PostgreSQL without --allow-postgres: exit %d\n%s", code, errOut)
	}
	env = []string{"CSPHUB_DATABASE_URL=" + testdb.FreshSchema(t), "CSPHUB_MIGRATE=true", "CSPHUB_LOG_LEVEL=warn"}
	for _, want := range []string{"The demo world is seeded", "seeded already"} {
		out, errOut, code := runSplit(t, env, "demo", "--seed-only", "--allow-postgres")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("demo --allow-postgres: exit %d, want %q\n%s\n%s", code, want, out, errOut)
		}
	}
}
