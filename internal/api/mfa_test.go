package api_test

import (
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

func TestTOTPEnrollmentAndMFAGate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 10, 0, time.UTC))
		e := newIdentityEnv(t, engine, clock)
		e.signup("partner", "admin@contoso.example")
		pre, _ := e.signIn("admin@contoso.example", strongPassword)
		wantProblem(t, e.do("GET", "/api/v1/events", pre, ""), 403, "mfa_required")

		r := e.do("POST", "/api/v1/me/mfa/totp", pre, "")
		if r.status != 201 {
			t.Fatalf("start enrollment: %d %s", r.status, r.body)
		}
		var en service.TOTPEnrollment
		r.json(t, &en)
		if en.Secret == "" || len(en.QRCode) < 100 || en.OTPAuthURL == "" {
			t.Fatalf("enrollment %+v", en)
		}
		wantProblem(t, e.do("POST", "/api/v1/me/mfa/totp/verify", pre, `{"code":"000000"}`), 401, "invalid_mfa_code")
		code, err := totp.Code(en.Secret, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		r = e.do("POST", "/api/v1/me/mfa/totp/verify", pre, `{"code":"`+code+`"}`)
		if r.status != 200 {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		var passed service.MFAResult
		r.json(t, &passed)
		if len(passed.RecoveryCodes) != 10 || passed.SessionToken == "" || passed.SessionToken == pre {
			t.Fatalf("verify result %+v", passed)
		}
		// The session id was renewed: the pre-MFA id is dead, the new one works.
		wantProblem(t, e.do("GET", "/api/v1/me", pre, ""), 401, "session_expired")
		if r := e.do("GET", "/api/v1/events", passed.SessionToken, ""); r.status != 200 {
			t.Fatalf("events after MFA: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("POST", "/api/v1/me/mfa/totp", passed.SessionToken, ""), 409, "mfa_already_enabled")

		// Next sign-in: the code just used is refused (single use); the next one works.
		second, _ := e.signIn("admin@contoso.example", strongPassword)
		wantProblem(t, e.do("POST", "/api/v1/me/mfa/totp/verify", second, `{"code":"`+code+`"}`), 401, "invalid_mfa_code")
		clock.Advance(30 * time.Second)
		next, _ := totp.Code(en.Secret, clock.Now())
		r = e.do("POST", "/api/v1/me/mfa/totp/verify", second, `{"code":"`+next+`"}`)
		var again service.MFAResult
		r.json(t, &again)
		if r.status != 200 || len(again.RecoveryCodes) != 0 {
			t.Fatalf("second verification: %d %s", r.status, r.body)
		}

		// A recovery code passes MFA once.
		third, _ := e.signIn("admin@contoso.example", strongPassword)
		rc := `{"code":"` + passed.RecoveryCodes[3] + `"}`
		if r := e.do("POST", "/api/v1/me/mfa/recovery", third, rc); r.status != 200 {
			t.Fatalf("recovery code: %d %s", r.status, r.body)
		}
		fourth, _ := e.signIn("admin@contoso.example", strongPassword)
		wantProblem(t, e.do("POST", "/api/v1/me/mfa/recovery", fourth, rc), 401, "invalid_mfa_code")

		// Guessing is throttled: after five failures in a row (the reused
		// recovery code above, four here) even the right code waits. A
		// success clears the count.
		for range 4 {
			wantProblem(t, e.do("POST", "/api/v1/me/mfa/totp/verify", fourth, `{"code":"111111"}`), 401, "invalid_mfa_code")
		}
		clock.Advance(20 * time.Second) // a fresh code, still inside the 30 s block
		good, _ := totp.Code(en.Secret, clock.Now())
		r = e.do("POST", "/api/v1/me/mfa/totp/verify", fourth, `{"code":"`+good+`"}`)
		wantProblem(t, r, 429, "too_many_sign_in_attempts")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		clock.Advance(time.Minute)
		good, _ = totp.Code(en.Secret, clock.Now())
		if r := e.do("POST", "/api/v1/me/mfa/totp/verify", fourth, `{"code":"`+good+`"}`); r.status != 200 {
			t.Fatalf("after the wait: %d %s", r.status, r.body)
		}
	})
}
