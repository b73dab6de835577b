package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/totp"
)

// TOTPCode is a code a demo user can sign in with, and when it works.
type TOTPCode struct {
	Code string
	// ValidFrom and ValidUntil bound when csphub accepts it (the current
	// time step, give or take the one step of clock skew allowed).
	ValidFrom, ValidUntil time.Time
}

// Code returns the TOTP code of a demo user at now: the current step's,
// or, when a code of that step was used already (codes are single-use),
// the next step's, which csphub accepts already. It refuses any user
// outside the demo world's domain, so that it never gives away the codes
// of a real account.
func Code(ctx context.Context, svc *service.Service, email string, now time.Time) (TOTPCode, error) {
	if !IsDemoEmail(email) {
		return TOTPCode{}, fmt.Errorf("%s is not a demo user: only addresses under %s are", email, Domain)
	}
	st, err := svc.TOTPStateOf(ctx, email)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return TOTPCode{}, fmt.Errorf("no user %s: seed the demo world first (csphub demo)", email)
	}
	if err != nil {
		return TOTPCode{}, err
	}
	if st.OrgKind == csphub.OrgCustomer {
		return TOTPCode{}, errors.New(email + " is a customer user: customers sign in with their password alone")
	}
	if !st.Enabled {
		return TOTPCode{}, errors.New(email + " has no TOTP enrolled")
	}
	step := max(totp.Step(now), st.LastStep+1)
	at := time.Unix(step*int64(totp.Period/time.Second), 0).UTC()
	code, err := totp.Code(st.Secret, at)
	if err != nil {
		return TOTPCode{}, err
	}
	return TOTPCode{Code: code, ValidFrom: at.Add(-totp.Skew * totp.Period), ValidUntil: at.Add((totp.Skew + 1) * totp.Period)}, nil
}
