package service

import (
	"context"
	"math"
	"strings"
	"time"

	"csphub"
	"csphub/internal/password"
	"csphub/internal/store"
)

// Sign-in throttling: after a few failures in a window, further attempts
// on that account (or from that address) wait, for a time that doubles with
// each failure up to a cap. The real user is delayed, never locked out for
// good, and an attacker gets a few dozen guesses an hour at most.
const (
	throttleWindow         = 15 * time.Minute
	accountFreeFailures    = 5
	addressFreeFailures    = 20
	throttleFirstBlock     = 30 * time.Second
	throttleMaxBlock       = 15 * time.Minute
	sessionTouchResolution = time.Minute
)

// SignInInput is what a person types to sign in.
type SignInInput struct {
	Email    string `json:"email" maxLength:"254"`
	Password string `json:"password" maxLength:"1024"`
	// Address is the client's IP address, for throttling (not from JSON).
	Address string `json:"-"`
}

// Session is a signed-in session. Token is the secret to send back (in a
// cookie or as a bearer token); it is shown only here.
type Session struct {
	Token       string      `json:"-"`
	User        csphub.User `json:"user"`
	MFARequired bool        `json:"mfa_required"` // MFA must be passed before anything else works
	MFAEnrolled bool        `json:"mfa_enrolled"` // false: enrol TOTP first
	ExpiresAt   time.Time   `json:"expires_at"`
}

var errBadCredentials = csphub.Errorf(csphub.KindUnauthenticated, "invalid_credentials", "the email or password is not correct")

// SignIn checks an email and password and opens a session. Unknown emails
// and wrong passwords get the same answer in the same time, and both count
// towards throttling.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (Session, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	keys := []string{"account:" + email, "address:" + in.Address}
	type lookup struct {
		user  store.UserRecord
		found bool
		wait  time.Duration
	}
	l, err := read(ctx, s, func(tx *store.Tx) (lookup, error) {
		th, err := tx.Throttles(keys...)
		if err != nil {
			return lookup{}, err
		}
		var wait time.Duration
		for _, t := range th {
			if t.BlockedUntil != nil && t.BlockedUntil.After(tx.Now()) {
				wait = max(wait, t.BlockedUntil.Sub(tx.Now()))
			}
		}
		u, err := tx.UserByEmail(email)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return lookup{wait: wait}, nil
		}
		return lookup{user: u, found: err == nil, wait: wait}, err
	})
	if err != nil {
		return Session{}, err
	}
	if l.wait > 0 {
		return Session{}, tooManyAttempts(l.wait)
	}
	// The password is checked outside any transaction: argon2id is slow on
	// purpose, and must not hold SQLite's writer meanwhile.
	ok := false
	if l.found && l.user.PasswordHash != "" {
		ok, _, err = password.Verify(l.user.PasswordHash, in.Password)
		if err != nil {
			s.log.ErrorContext(ctx, "stored password hash unreadable", "user", l.user.ID, "error", err)
			ok = false
		}
	} else {
		password.VerifyDummy(in.Password)
	}
	if ok && l.user.Status != csphub.UserActive {
		ok = false
	}
	type outcome struct {
		session       Session
		wait          time.Duration
		blockedBefore bool // the key was blocked before this attempt counted
	}
	out, err := write(ctx, s, func(tx *store.Tx) (outcome, error) {
		// Look again, under lock: guesses sent in parallel all passed the
		// first look before any failure was counted. Once a key is blocked,
		// every attempt gets the same wait, whether its password was right
		// or not.
		for _, k := range keys {
			t, err := tx.LockThrottle(k)
			if err != nil {
				return outcome{}, err
			}
			if t.BlockedUntil != nil && t.BlockedUntil.After(tx.Now()) {
				return outcome{wait: t.BlockedUntil.Sub(tx.Now()), blockedBefore: true}, nil
			}
		}
		if !ok {
			wait, err := s.recordFailure(tx, keys)
			if err != nil {
				return outcome{}, err
			}
			actor := csphub.System(csphub.RequestID(ctx))
			if l.found {
				actor = actorOf(l.user, false)
			}
			return outcome{wait: wait}, tx.Audit(actor, csphub.AuditEntry{Action: "session.sign_in_failed", ResourceType: "user",
				ResourceID: map[bool]string{true: l.user.ID, false: "unknown"}[l.found]})
		}
		if err := tx.ClearThrottle(keys[0]); err != nil {
			return outcome{}, err
		}
		sess, err := s.openSession(tx, l.user)
		if err != nil {
			return outcome{}, err
		}
		return outcome{session: sess}, tx.Audit(actorOf(l.user, false), csphub.AuditEntry{Action: "session.sign_in", ResourceType: "user", ResourceID: l.user.ID})
	})
	switch {
	case err != nil:
		return Session{}, err
	case out.session.Token != "":
		return out.session, nil
	case out.wait > 0 && (ok || out.blockedBefore):
		return Session{}, tooManyAttempts(out.wait)
	}
	return Session{}, errBadCredentials
}

func (s *Service) openSession(tx *store.Tx, u store.UserRecord) (Session, error) {
	token, hash, err := newSecret("")
	if err != nil {
		return Session{}, err
	}
	now := tx.Now()
	rec := store.SessionRecord{IDHash: hash, UserID: u.ID, OrgID: u.OrgID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.opts.SessionAbsolute)}
	if err := tx.InsertSession(rec); err != nil {
		return Session{}, err
	}
	return Session{Token: token, User: u.User, MFARequired: csphub.MFARequired(u.OrgKind) && !s.opts.RelaxMFA,
		MFAEnrolled: u.MFAEnabled, ExpiresAt: rec.ExpiresAt}, nil
}

func (s *Service) recordFailure(tx *store.Tx, keys []string) (time.Duration, error) {
	a, err := s.recordFailureWith(tx, keys[0], accountFreeFailures)
	if err != nil {
		return 0, err
	}
	b, err := s.recordFailureWith(tx, keys[1], addressFreeFailures)
	return max(a, b), err
}

// recordFailureWith counts a failure on key; past free failures in the
// window, the key is blocked for a time that doubles with each failure.
func (s *Service) recordFailureWith(tx *store.Tx, key string, free int) (time.Duration, error) {
	t, err := tx.LockThrottle(key)
	if err != nil {
		return 0, err
	}
	now := tx.Now()
	if t.Failures == 0 || now.Sub(t.WindowStart) > throttleWindow && (t.BlockedUntil == nil || !t.BlockedUntil.After(now)) {
		t = store.Throttle{Key: key, WindowStart: now}
	}
	t.Failures++
	var wait time.Duration
	if over := t.Failures - free; over >= 0 {
		wait = min(time.Duration(float64(throttleFirstBlock)*math.Pow(2, float64(min(over, 10)))), throttleMaxBlock)
		until := now.Add(wait)
		t.BlockedUntil = &until
	}
	return wait, tx.SaveThrottle(t)
}

func tooManyAttempts(wait time.Duration) error {
	e := csphub.Errorf(csphub.KindRateLimited, "too_many_sign_in_attempts", "too many failed sign-in attempts; try again in %s", wait.Round(time.Second))
	e.RetryAfter = int(math.Ceil(wait.Seconds()))
	return e
}

// SessionActor authenticates a session token: the session must exist and
// be within its idle and absolute timeouts, and its user must be active.
// Roles are read afresh, so a disabled user or a removed role loses access
// on the very next request.
func (s *Service) SessionActor(ctx context.Context, token string) (csphub.Actor, error) {
	hash := hashSecret(token)
	type result struct {
		p     store.Principal
		touch bool
	}
	r, err := read(ctx, s, func(tx *store.Tx) (result, error) {
		p, err := tx.SessionPrincipal(hash)
		if err != nil {
			return result{}, err
		}
		now := tx.Now()
		if !p.Session.ExpiresAt.After(now) || now.Sub(p.Session.LastSeenAt) > s.opts.SessionIdle || p.User.Status != csphub.UserActive {
			return result{}, csphub.NotFound("session")
		}
		return result{p: p, touch: now.Sub(p.Session.LastSeenAt) >= sessionTouchResolution}, nil
	})
	if err != nil {
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return csphub.Actor{}, csphub.Errorf(csphub.KindUnauthenticated, "session_expired", "your session has ended; sign in again")
		}
		return csphub.Actor{}, err
	}
	if r.touch {
		// Idle time is tracked to the minute, so most requests write nothing.
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.TouchSession(hash) }); err != nil {
			return csphub.Actor{}, err
		}
	}
	return actorOf(r.p.User, r.p.Session.MFAPassedAt != nil || s.opts.RelaxMFA), nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, actor csphub.Actor, token string) error {
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		if err := tx.DeleteSession(hashSecret(token)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Audit(actor, csphub.AuditEntry{Action: "session.sign_out", ResourceType: "user", ResourceID: actor.ID})
	})
	return err
}
