package main_test

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"csphub/internal/testdb"
)

var binary string

// The binary is built once and run as a real process, as an operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "csphub-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "csphub")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// csphub runs the binary to completion with a clean CSPHUB_* environment.
func csphub(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CSPHUB_") {
			env = append(env, kv)
		}
	}
	return env
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// serve starts `csphub serve` and returns its base URL once it printed it.
func serve(t *testing.T, env []string, args ...string) (string, time.Time) {
	t.Helper()
	return serveFrom(t, env, args...)
}

// serveFrom is serve, also returning when the process was started.
func serveFrom(t *testing.T, env []string, args ...string) (string, time.Time) {
	t.Helper()
	return startServer(t, env, append(args, "serve")...)
}

// startServer runs the binary with args, a command that serves, and
// returns its base URL once it printed it, and when it was started.
func startServer(t *testing.T, env []string, args ...string) (string, time.Time) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &testWriter{t: t}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("csphub did not stop within 10s of SIGINT")
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("csphub %s exited before listening", strings.Join(args, " "))
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				go func() {
					for range lines {
					}
				}()
				return m[1], start
			}
		case <-deadline:
			t.Fatalf("csphub %s printed no address within 30s", strings.Join(args, " "))
		}
	}
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// On an empty directory, `csphub serve` with no configuration creates its
// SQLite database, migrates it, and answers /healthz. How fast it gets
// there is measured by BenchmarkServeStartToHealthy (target: 1s).
func TestServeOnEmptyDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	base, started := serveFrom(t, []string{"CSPHUB_DATA_DIR=" + dir, "CSPHUB_LISTEN=127.0.0.1:0"})
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if time.Since(started) > 30*time.Second {
			t.Fatalf("no healthy answer: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("start to healthy: %s", time.Since(started))
	if _, err := os.Stat(filepath.Join(dir, "csphub.db")); err != nil {
		t.Fatalf("no database file: %v", err)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz %d %s", code, body)
	}
	code, body := get(t, base+"/api/v1/openapi.json")
	var doc struct{ OpenAPI string }
	if code != 200 || json.Unmarshal(body, &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi.json: %d %.200s", code, body)
	}
	code, body = get(t, base+"/metrics")
	if code != 200 || !strings.Contains(string(body), "csphub_http_requests_total") || !strings.Contains(string(body), "csphub_outbox_depth") {
		t.Fatalf("metrics: %d, missing csphub series:\n%.2000s", code, body)
	}
}

func TestServeRefusesOutdatedPostgresSchema(t *testing.T) {
	url := testdb.FreshSchema(t)
	env := []string{"CSPHUB_DATABASE_URL=" + url, "CSPHUB_LISTEN=127.0.0.1:0"}
	out, err := csphub(t, env, "serve")
	if err == nil || !strings.Contains(out, "schema is outdated") {
		t.Fatalf("serve on an empty PostgreSQL schema: err %v, output:\n%s", err, out)
	}
	out, err = csphub(t, env, "migrate", "status")
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}
	out, err = csphub(t, env, "migrate", "up")
	if err != nil || !strings.Contains(out, "applied migration 1") {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	base, _ := serve(t, env)
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz on PostgreSQL: %d %s", code, body)
	}
}

func TestConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "csphub.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:9001\nsmtp:\n  host: mail.example.com\n  username: mailer\n  password: file-secret\nlog-level: debug\n"), 0o600)

	// Flags over environment over file over defaults.
	out, err := csphub(t, []string{"CSPHUB_LOG_LEVEL=warn", "CSPHUB_DATABASE_URL=postgres://app:db-secret@db.example.com/csphub?sslmode=require&password=query-secret"},
		"--config", file, "--log-level", "error", "config", "--json")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, out)
	}
	var settings []struct{ Name, Value string }
	if err := json.Unmarshal([]byte(out), &settings); err != nil {
		t.Fatalf("config --json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, s := range settings {
		got[s.Name] = s.Value
	}
	want := map[string]string{
		"listen": "127.0.0.1:9001", "smtp-host": "mail.example.com", "log-level": "error",
		"smtp-password": "[redacted]", "smtp-port": "587", "data-dir": "./csphub-data",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if got["database-url"] != "postgres://app:xxxxx@db.example.com/csphub?password=xxxxx&sslmode=xxxxx" {
		t.Errorf("database-url shown as %q", got["database-url"])
	}
	if strings.Contains(out, "file-secret") || strings.Contains(out, "db-secret") || strings.Contains(out, "query-secret") {
		t.Fatalf("a secret is printed:\n%s", out)
	}

	// Bad values are refused with a clear error, all at once.
	out, err = csphub(t, nil, "--listen", "nonsense", "--idempotency-ttl", "1h", "config")
	if err == nil || !strings.Contains(out, "--listen") || !strings.Contains(out, "--idempotency-ttl") {
		t.Fatalf("invalid configuration accepted: %v\n%s", err, out)
	}
	os.WriteFile(file, []byte("lisen: 127.0.0.1:9001\n"), 0o600)
	out, err = csphub(t, nil, "--config", file, "config")
	if err == nil || !strings.Contains(out, "unknown setting(s) lisen") {
		t.Fatalf("a typo in the file is not reported: %v\n%s", err, out)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CSPHUB_DATA_DIR=" + dir, "CSPHUB_LISTEN=127.0.0.1:0"}
	serve(t, env) // the first start records the operator organization's creation

	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := csphub(t, env, "audit", "verify")
		if err != nil {
			t.Fatalf("audit verify: %v\n%s", err, out)
		}
		if strings.HasPrefix(out, "OK: 1 records verified") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running server did not chain the audit record: %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}

}

// With no SMTP server, `csphub mail test` queues a message through the
// outbox and the running server delivers it to the local mailbox, where the
// web UI shows it.
func TestTestEmailReachesTheLocalMailbox(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CSPHUB_DATA_DIR=" + dir, "CSPHUB_LISTEN=127.0.0.1:0"}
	base, _ := serve(t, env)
	out, err := csphub(t, env, "mail", "test", "newcomer@example.com", "--lang", "fr")
	if err != nil || !strings.Contains(out, "queued test message") {
		t.Fatalf("mail test: %v\n%s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := get(t, base+"/mailbox")
		if code == 200 && strings.Contains(string(body), "newcomer@example.com") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message never reached the mailbox page: %d\n%.3000s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err = csphub(t, env, "mail", "test", "not-an-address")
	if err == nil || !strings.Contains(out, "must be a plain email address") {
		t.Fatalf("a bad address is accepted: %v\n%s", err, out)
	}
}

// `csphub audit verify` names the first broken link of a tampered log and
// exits non-zero.
func TestAuditVerifyReportsTampering(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CSPHUB_DATA_DIR=" + dir, "CSPHUB_LISTEN=127.0.0.1:0"}
	serve(t, env) // creates the operator organization and chains its record
	for _, to := range []string{"a@example.com", "b@example.com"} {
		if out, err := csphub(t, env, "mail", "test", to); err != nil {
			t.Fatal(err, out)
		}
	}
	waitFor(t, func() bool {
		out, _ := csphub(t, env, "audit", "verify")
		return strings.HasPrefix(out, "OK: 3 records verified\n")
	})
	db, err := sql.Open("sqlite", filepath.Join(dir, "csphub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_records SET action = 'mail.nothing' WHERE position = 2`); err != nil {
		t.Fatal(err)
	}
	out, err := csphub(t, env, "audit", "verify")
	if err == nil || !strings.Contains(out, "BROKEN at position 2") || !strings.Contains(out, "edited") {
		t.Fatalf("tampering not reported: %v\n%s", err, out)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The first operator admin is set up from the command line: a one-time link
// to choose the password, then sign-in, which still asks for MFA.
func TestOperatorCreateAdmin(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CSPHUB_DATA_DIR=" + dir, "CSPHUB_LISTEN=127.0.0.1:0"}
	base, _ := serve(t, env)
	out, err := csphub(t, append(env, "CSPHUB_PUBLIC_URL="+base), "operator", "create-admin", "ops@vendor.example", "--name", "Olivia Ops")
	if err != nil {
		t.Fatalf("create-admin: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`/reset-password/(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no link printed:\n%s", out)
	}
	post := func(path, body string) (int, string) {
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post("/api/v1/password-resets/"+m[1], `{"password":"operator passphrase 2026"}`); code != 204 {
		t.Fatalf("set password: %d %s", code, body)
	}
	if code, body := post("/api/v1/password-resets/"+m[1], `{"password":"operator passphrase 2027"}`); code != 404 {
		t.Fatalf("the link worked twice: %d %s", code, body)
	}
	code, body := post("/api/v1/sessions", `{"email":"ops@vendor.example","password":"operator passphrase 2026"}`)
	if code != 201 || !strings.Contains(body, `"mfa_required":true`) {
		t.Fatalf("sign in: %d %s", code, body)
	}
	if out, err := csphub(t, env, "operator", "create-admin", "ops@vendor.example", "--name", "Again"); err == nil {
		t.Fatalf("a second admin with the same email was created:\n%s", out)
	}
}

// BenchmarkServeStartToHealthy measures a fresh `csphub serve` on an empty
// directory, from the process's start to its first healthy answer (the
// target is one second).
func BenchmarkServeStartToHealthy(b *testing.B) {
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "data")
		cmd := exec.Command(binary, "serve")
		cmd.Env = append(cleanEnv(), "CSPHUB_DATA_DIR="+dir, "CSPHUB_LISTEN=127.0.0.1:0")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		base := ""
		for base == "" && sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				base, _, _ = strings.Cut(rest, " ")
			}
		}
		for base != "" {
			res, err := http.Get(base + "/healthz")
			if err == nil && res.StatusCode == 200 {
				res.Body.Close()
				break
			}
			time.Sleep(time.Millisecond)
		}
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if base == "" {
			b.Fatal("csphub serve printed no address")
		}
	}
}
