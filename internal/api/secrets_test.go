package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

// lockedBuffer collects log lines from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLoggedEnv serves the API with real credentials and debug logs kept in
// a buffer, for tests that search the logs for secrets.
func newLoggedEnv(t *testing.T, engine string, clock csphub.Clock) (*env, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := testdb.Open(t, engine, clock)
	svc := service.New(db, log, service.Options{})
	mux := http.NewServeMux()
	a := api.New(mux, api.Options{Service: svc, Authenticator: api.Credentials{Service: svc}, Logger: log, MaxBodyBytes: 1 << 16})
	srv := httptest.NewServer(api.Middleware(mux, log, nil, 1<<16))
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, svc: svc, api: a, srv: srv}, logs
}

// B5: a scripted session through every identity flow, with debug logs on;
// afterwards no password, session token, API token, TOTP secret, recovery
// code or reset token appears in the logs, the audit records or the events.
// The security log (session.*) has the sign-ins, the failure and MFA.
func TestNoSecretLeaksIntoLogsAuditOrEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 10, 0, time.UTC))
		e, logs := newLoggedEnv(t, engine, clock)
		db, svc := e.db, e.svc
		var secrets []string

		e.signup("partner", "admin@contoso.example")
		secrets = append(secrets, strongPassword)
		e.signIn("admin@contoso.example", "a wrong guess of a password")
		secrets = append(secrets, "a wrong guess of a password")
		pre, _ := e.signIn("admin@contoso.example", strongPassword)
		var en service.TOTPEnrollment
		e.do("POST", "/api/v1/me/mfa/totp", pre, "").json(t, &en)
		code, _ := totp.Code(en.Secret, clock.Now())
		var passed service.MFAResult
		e.do("POST", "/api/v1/me/mfa/totp/verify", pre, `{"code":"`+code+`"}`).json(t, &passed)
		secrets = append(secrets, pre, en.Secret, passed.SessionToken)
		secrets = append(secrets, passed.RecoveryCodes...)
		exp := clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
		var tok service.CreatedAPIToken
		e.do("POST", "/api/v1/api-tokens", passed.SessionToken, `{"name":"ci","roles":["global_admin"],"expires_at":"`+exp+`"}`).json(t, &tok)
		e.do("GET", "/api/v1/me", tok.Secret, "")
		secrets = append(secrets, tok.Secret)
		e.do("POST", "/api/v1/password-resets", "", `{"email":"admin@contoso.example"}`)
		reset := resetLink.FindStringSubmatch(e.mail()[0].Text)[1]
		e.do("POST", "/api/v1/password-resets/"+reset, "", `{"password":"the next long passphrase"}`)
		secrets = append(secrets, reset, "the next long passphrase")
		if len(secrets) < 15 || tok.Secret == "" || en.Secret == "" {
			t.Fatalf("the script did not run through: %d secrets", len(secrets))
		}

		ctx := context.Background()
		if err := svc.SequenceJournal(ctx); err != nil {
			t.Fatal(err)
		}
		var journal strings.Builder
		for _, table := range []string{"audit_records", "events"} {
			rows, err := db.DumpForTest(table)
			if err != nil {
				t.Fatal(err)
			}
			journal.WriteString(rows)
		}
		for _, s := range secrets {
			if strings.Contains(logs.String(), s) {
				t.Errorf("a secret (%.6s…) is in the logs", s)
			}
			if strings.Contains(journal.String(), s) {
				t.Errorf("a secret (%.6s…) is in the audit records or events", s)
			}
		}

		// The security log: sign-in failure, sign-ins, MFA.
		clock.Advance(time.Minute)
		admin, _ := e.signIn("admin@contoso.example", "the next long passphrase")
		code, _ = totp.Code(en.Secret, clock.Now())
		var again service.MFAResult
		e.do("POST", "/api/v1/me/mfa/totp/verify", admin, `{"code":"`+code+`"}`).json(t, &again)
		if err := svc.SequenceJournal(ctx); err != nil {
			t.Fatal(err)
		}
		var page service.AuditPage
		r := e.do("GET", "/api/v1/audit-records?action_prefix=session.&page_size=500", again.SessionToken, "")
		r.json(t, &page)
		seen := map[string]int{}
		for _, rec := range page.Records {
			seen[rec.Action]++
			if !strings.HasPrefix(rec.Action, "session.") {
				t.Errorf("security log has %s", rec.Action)
			}
		}
		if seen["session.sign_in"] < 2 || seen["session.sign_in_failed"] != 1 || seen["session.mfa_passed"] < 2 {
			t.Fatalf("security log: %v (%d %s)", seen, r.status, r.body)
		}
	})
}
