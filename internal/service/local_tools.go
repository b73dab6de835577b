package service

import (
	"context"
	"strings"

	"csphub"
	"csphub/internal/store"
)

// What follows is no use case: it serves commands that set up a deployment
// from the machine it runs on (the demo world), which read what only the
// recipient of an email or the holder of an authenticator app would
// otherwise know. Nothing reachable over HTTP calls it.

// Clock is the clock the use cases read.
func (s *Service) Clock() csphub.Clock { return s.clock }

// EmailsTo returns the emails to address that are still readable: waiting
// in the outbox, or kept in the local mailbox. Their bodies hold live links.
func (s *Service) EmailsTo(ctx context.Context, address string) ([]store.Email, error) {
	return read(ctx, s, func(tx *store.Tx) ([]store.Email, error) { return tx.EmailsTo(address) })
}

// TOTPState is where a user stands with TOTP.
type TOTPState struct {
	UserID  string
	OrgKind csphub.OrgKind
	// Secret is the shared key, "" before the enrollment started.
	Secret string
	// Enabled: a first code confirmed the enrollment.
	Enabled bool
	// LastStep is the time step of the last code used; codes of that step
	// and earlier are refused.
	LastStep int64
}

// TOTPStateOf reads the TOTP secret of the user with this email. Whoever
// holds it passes multi-factor authentication as that user: the demo
// command uses it for the demo world's users alone, and refuses any other.
func (s *Service) TOTPStateOf(ctx context.Context, email string) (TOTPState, error) {
	return read(ctx, s, func(tx *store.Tx) (TOTPState, error) {
		u, err := tx.UserByEmail(strings.ToLower(strings.TrimSpace(email)))
		if err != nil {
			return TOTPState{}, err
		}
		return TOTPState{UserID: u.ID, OrgKind: u.OrgKind, Secret: u.TOTPSecret, Enabled: u.MFAEnabled, LastStep: u.TOTPLastStep}, nil
	})
}
