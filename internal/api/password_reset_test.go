package api_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var resetLink = regexp.MustCompile(`/reset-password/([A-Za-z0-9_-]{43})`)

// mail claims every queued email, as a worker would, and returns them.
func (e *env) mail() []store.Email {
	e.t.Helper()
	msgs, err := e.db.ClaimOutbox(context.Background(), store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: 24 * time.Hour, Limit: 100, MaxAttempts: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.Email
	for _, m := range msgs {
		em, err := m.Email()
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, em)
	}
	return out
}

func TestPasswordReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		e := newIdentityEnv(t, engine, clock)
		e.signup("customer", "owner@fabrikam.example")
		old, _ := e.signIn("owner@fabrikam.example", strongPassword)

		known := e.do("POST", "/api/v1/password-resets", "", `{"email":"Owner@Fabrikam.example"}`)
		unknown := e.do("POST", "/api/v1/password-resets", "", `{"email":"nobody@fabrikam.example"}`)
		if known.status != 202 || unknown.status != 202 || string(known.body) != string(unknown.body) {
			t.Fatalf("known %d %q, unknown %d %q: the answers must not differ", known.status, known.body, unknown.status, unknown.body)
		}
		mails := e.mail()
		if len(mails) != 1 || mails[0].To != "owner@fabrikam.example" || mails[0].Lang != "fr" {
			t.Fatalf("mails: %+v", mails)
		}
		m := resetLink.FindStringSubmatch(mails[0].Text)
		if m == nil || !strings.Contains(mails[0].HTML, m[1]) {
			t.Fatalf("no link in %q", mails[0].Text)
		}
		token := m[1]

		// Weak passwords are refused and do not use up the link.
		wantProblem(t, e.do("POST", "/api/v1/password-resets/"+token, "", `{"password":"password"}`), 422, "invalid_input")
		// 20 concurrent redemptions: exactly one succeeds.
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for range 20 {
			wg.Go(func() {
				r := e.do("POST", "/api/v1/password-resets/"+token, "", `{"password":"a brand new passphrase"}`)
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if statuses[204] != 1 || statuses[404] != 19 {
			t.Fatalf("statuses %v: want one 204 and 19 404", statuses)
		}
		// Other sessions ended; the new password works, the old one does not.
		wantProblem(t, e.do("GET", "/api/v1/me", old, ""), 401, "session_expired")
		if _, r := e.signIn("owner@fabrikam.example", "a brand new passphrase"); r.status != 201 {
			t.Fatalf("sign in with the new password: %d", r.status)
		}
		_, r := e.signIn("owner@fabrikam.example", strongPassword)
		wantProblem(t, r, 401, "invalid_credentials")

		// Expiry after 30 minutes, with the injected clock.
		e.do("POST", "/api/v1/password-resets", "", `{"email":"owner@fabrikam.example"}`)
		m = resetLink.FindStringSubmatch(e.mail()[0].Text)
		clock.Advance(31 * time.Minute)
		wantProblem(t, e.do("POST", "/api/v1/password-resets/"+m[1], "", `{"password":"another new passphrase"}`), 404, "invalid_password_link")
		wantProblem(t, e.do("POST", "/api/v1/password-resets/forged", "", `{"password":"another new passphrase"}`), 404, "invalid_password_link")

		// Requests are limited per email: no mail bombing.
		for range 6 {
			e.do("POST", "/api/v1/password-resets", "", `{"email":"owner@fabrikam.example"}`)
		}
		if n := len(e.mail()); n > 3 {
			t.Fatalf("%d reset emails sent for 6 requests", n)
		}
	})
}

// Resetting a partner's password does not bypass MFA: the new password
// opens a session that must still pass TOTP.
func TestPasswordResetKeepsMFA(t *testing.T) {
	e := newIdentityEnv(t, "sqlite", nil)
	e.signup("partner", "admin@contoso.example")
	e.do("POST", "/api/v1/password-resets", "", `{"email":"admin@contoso.example"}`)
	token := resetLink.FindStringSubmatch(e.mail()[0].Text)[1]
	if r := e.do("POST", "/api/v1/password-resets/"+token, "", `{"password":"a brand new passphrase"}`); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	tok, _ := e.signIn("admin@contoso.example", "a brand new passphrase")
	wantProblem(t, e.do("GET", "/api/v1/events", tok, ""), 403, "mfa_required")
}
