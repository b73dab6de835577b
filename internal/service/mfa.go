package service

import (
	"context"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/totp"
)

const (
	mfaFreeFailures   = 5
	recoveryCodeCount = 10
)

// TOTPEnrollment is what the user scans or types into an authenticator app.
type TOTPEnrollment struct {
	Secret     string `json:"secret" doc:"Base32 secret, for typing into the app"`
	OTPAuthURL string `json:"otpauth_url" doc:"otpauth:// URI the QR code encodes"`
	QRCode     string `json:"qr_code" doc:"PNG image of the QR code, as a data: URL"`
}

func ownUser(actor csphub.Actor) error {
	if actor.Kind != csphub.ActorUser || actor.OnBehalfOf != "" {
		return csphub.Errorf(csphub.KindForbidden, "own_user_only", "only a signed-in user can change their own multi-factor authentication")
	}
	return nil
}

// StartTOTPEnrollment creates a new TOTP secret for the caller, pending
// until a first code proves the app holds it.
func (s *Service) StartTOTPEnrollment(ctx context.Context, actor csphub.Actor) (TOTPEnrollment, error) {
	if err := ownUser(actor); err != nil {
		return TOTPEnrollment{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (TOTPEnrollment, error) {
		u, err := tx.User(actor.OrgID, actor.ID)
		if err != nil {
			return TOTPEnrollment{}, err
		}
		if u.MFAEnabled {
			return TOTPEnrollment{}, csphub.Conflict("mfa_already_enabled", "multi-factor authentication is already set up")
		}
		en, err := totp.NewSecret("csphub", u.Email)
		if err != nil {
			return TOTPEnrollment{}, err
		}
		if err := tx.SetTOTPSecret(u.OrgID, u.ID, en.Secret); err != nil {
			return TOTPEnrollment{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "mfa.totp_enrollment_started", ResourceType: "user", ResourceID: u.ID}); err != nil {
			return TOTPEnrollment{}, err
		}
		return TOTPEnrollment{Secret: en.Secret, OTPAuthURL: en.URL, QRCode: en.QRDataURL()}, nil
	})
}

// MFAResult is a session that passed MFA: its id was renewed, and the
// first verification also returns the recovery codes, shown this once.
type MFAResult struct {
	SessionToken  string    `json:"session_token"`
	ExpiresAt     time.Time `json:"expires_at"`
	RecoveryCodes []string  `json:"recovery_codes,omitempty" doc:"Single-use codes for when the app is lost; shown only once"`
}

// VerifyTOTP checks a code from the caller's app. The first success enables
// TOTP and returns recovery codes; every success marks the session as having
// passed MFA and renews its id. Codes are single-use and failures are
// throttled.
func (s *Service) VerifyTOTP(ctx context.Context, actor csphub.Actor, sessionToken, code string) (MFAResult, error) {
	return s.passMFA(ctx, actor, sessionToken, func(tx *store.Tx, u store.UserRecord) (bool, []string, error) {
		if u.TOTPSecret == "" {
			return false, nil, csphub.Conflict("mfa_not_enrolled", "start the TOTP enrollment first")
		}
		step, ok := totp.Validate(u.TOTPSecret, code, tx.Now(), u.TOTPLastStep)
		if !ok {
			return false, nil, nil
		}
		if u.MFAEnabled {
			return true, nil, tx.UseTOTPStep(u.OrgID, u.ID, step)
		}
		if err := tx.EnableTOTP(u.OrgID, u.ID, step); err != nil {
			return false, nil, err
		}
		plain, hashes, err := totp.NewRecoveryCodes(recoveryCodeCount)
		if err != nil {
			return false, nil, err
		}
		if err := tx.ReplaceRecoveryCodes(u.ID, hashes); err != nil {
			return false, nil, err
		}
		return true, plain, tx.Audit(actorOf(u, true), csphub.AuditEntry{Action: "mfa.totp_enabled", ResourceType: "user", ResourceID: u.ID})
	})
}

// RedeemRecoveryCode passes MFA with a single-use recovery code.
func (s *Service) RedeemRecoveryCode(ctx context.Context, actor csphub.Actor, sessionToken, code string) (MFAResult, error) {
	return s.passMFA(ctx, actor, sessionToken, func(tx *store.Tx, u store.UserRecord) (bool, []string, error) {
		if !u.MFAEnabled {
			return false, nil, csphub.Conflict("mfa_not_enrolled", "multi-factor authentication is not set up")
		}
		ok, err := tx.UseRecoveryCode(u.ID, totp.HashRecoveryCode(code))
		return ok, nil, err
	})
}

type mfaCheck func(tx *store.Tx, u store.UserRecord) (ok bool, recovery []string, err error)

func (s *Service) passMFA(ctx context.Context, actor csphub.Actor, sessionToken string, check mfaCheck) (MFAResult, error) {
	if err := ownUser(actor); err != nil {
		return MFAResult{}, err
	}
	key := "mfa:" + actor.ID
	type outcome struct {
		res  MFAResult
		ok   bool
		wait time.Duration
	}
	out, err := write(ctx, s, func(tx *store.Tx) (outcome, error) {
		th, err := tx.Throttles(key)
		if err != nil {
			return outcome{}, err
		}
		if t, ok := th[key]; ok && t.BlockedUntil != nil && t.BlockedUntil.After(tx.Now()) {
			return outcome{wait: t.BlockedUntil.Sub(tx.Now())}, nil
		}
		u, err := tx.User(actor.OrgID, actor.ID)
		if err != nil {
			return outcome{}, err
		}
		ok, recovery, err := check(tx, u)
		if err != nil {
			return outcome{}, err
		}
		if !ok {
			if _, err := s.recordFailureWith(tx, key, mfaFreeFailures); err != nil {
				return outcome{}, err
			}
			return outcome{}, tx.Audit(actor, csphub.AuditEntry{Action: "session.mfa_failed", ResourceType: "user", ResourceID: u.ID})
		}
		if err := tx.ClearThrottle(key); err != nil {
			return outcome{}, err
		}
		// A new session id after MFA: a fixated or stolen pre-MFA id is worthless.
		token, hash, err := newSecret("")
		if err != nil {
			return outcome{}, err
		}
		if err := tx.ReplaceSession(actor.OrgID, actor.ID, hashSecret(sessionToken), hash, true); err != nil {
			return outcome{}, err
		}
		p, err := tx.SessionPrincipal(hash)
		if err != nil {
			return outcome{}, err
		}
		return outcome{ok: true, res: MFAResult{SessionToken: token, ExpiresAt: p.Session.ExpiresAt, RecoveryCodes: recovery}},
			tx.Audit(actorOf(u, true), csphub.AuditEntry{Action: "session.mfa_passed", ResourceType: "user", ResourceID: u.ID})
	})
	switch {
	case err != nil:
		return MFAResult{}, err
	case out.wait > 0:
		return MFAResult{}, tooManyAttempts(out.wait)
	case !out.ok:
		return MFAResult{}, csphub.Errorf(csphub.KindUnauthenticated, "invalid_mfa_code", "the code is not correct")
	}
	return out.res, nil
}
