package service

import (
	"context"
	"strings"
	"time"

	"csphub"
	cmail "csphub/internal/mail"
	"csphub/internal/password"
	"csphub/internal/store"
)

const (
	passwordResetLifetime = 30 * time.Minute
	accountSetupLifetime  = 7 * 24 * time.Hour
	resetRequestsFree     = 3 // per email per window, against mail bombing
)

// PasswordResetRequest asks for a link to choose a new password.
type PasswordResetRequest struct {
	Email string `json:"email" maxLength:"254"`
}

// RequestPasswordReset emails a single-use link to the account's owner.
// Known and unknown emails get the same answer, and both count towards the
// per-email limit, so the answer tells nothing about who has an account.
func (s *Service) RequestPasswordReset(ctx context.Context, in PasswordResetRequest) error {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if _, fe := checkEmail("email", email); fe != nil {
		return csphub.Invalid(*fe)
	}
	token, hash, err := newSecret("")
	if err != nil {
		return err
	}
	_, err = write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		key := "reset:" + email
		th, err := tx.Throttles(key)
		if err != nil {
			return struct{}{}, err
		}
		if t, ok := th[key]; ok && t.BlockedUntil != nil && t.BlockedUntil.After(tx.Now()) {
			return struct{}{}, nil // silently: the owner already has recent links
		}
		if _, err := s.recordFailureWith(tx, key, resetRequestsFree); err != nil {
			return struct{}{}, err
		}
		u, err := tx.UserByEmail(email)
		if csphub.ErrorKind(err) == csphub.KindNotFound || (err == nil && u.Status != csphub.UserActive) {
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, s.issuePasswordLink(tx, u, token, hash, passwordResetLifetime, false,
			csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: u.OrgID, OrgKind: u.OrgKind, RequestID: csphub.RequestID(ctx)})
	})
	return err
}

func (s *Service) issuePasswordLink(tx *store.Tx, u store.UserRecord, token, hash string, life time.Duration, first bool, actor csphub.Actor) error {
	r := store.PasswordReset{TokenHash: hash, UserID: u.ID, OrgID: u.OrgID, Email: u.Email, CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(life)}
	if err := tx.InsertPasswordReset(r); err != nil {
		return err
	}
	if _, err := cmail.Enqueue(tx, u.OrgID, cmail.PasswordReset{
		To:   cmail.Recipient{Address: u.Email, Name: u.Name, Lang: cmail.Lang(u.Lang)},
		Link: s.opts.BaseURL + "/reset-password/" + token, ExpiresAt: r.ExpiresAt, FirstTime: first,
	}); err != nil {
		return err
	}
	return tx.Audit(actor, csphub.AuditEntry{Action: "user.password_link_sent", ResourceType: "user", ResourceID: u.ID})
}

// CompletePasswordResetInput is the new password.
type CompletePasswordResetInput struct {
	Password string `json:"password" maxLength:"1024"`
}

// CompletePasswordReset sets a new password with a link's token. The token
// works once, within its lifetime, for the user it was issued to; every
// session of that user ends. It signs nobody in, so it never bypasses MFA.
func (s *Service) CompletePasswordReset(ctx context.Context, token string, in CompletePasswordResetInput) error {
	hash := hashSecret(token)
	invalid := csphub.Errorf(csphub.KindNotFound, "invalid_password_link", "this link is not valid: it was used already, has expired, or was never issued")
	r, err := read(ctx, s, func(tx *store.Tx) (store.PasswordReset, error) { return tx.PasswordResetByHash(hash) })
	if err != nil {
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return invalid
		}
		return err
	}
	if r.UsedAt != nil || !r.ExpiresAt.After(s.clock.Now()) {
		return invalid
	}
	if err := password.Check(in.Password, r.Email); err != nil {
		return err
	}
	pw, err := password.Hash(in.Password)
	if err != nil {
		return err
	}
	_, err = write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		ok, err := tx.UsePasswordReset(hash)
		if err != nil {
			return struct{}{}, err
		}
		if !ok {
			return struct{}{}, invalid // a concurrent redemption, or expiry, won
		}
		u, err := tx.User(r.OrgID, r.UserID)
		if err != nil {
			return struct{}{}, err
		}
		if u.Email != r.Email {
			return struct{}{}, invalid // the link was for an address the user no longer has
		}
		if err := tx.SetPassword(u.OrgID, u.ID, pw); err != nil {
			return struct{}{}, err
		}
		if err := tx.DeleteUserSessions(u.ID); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Audit(csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: u.OrgID, OrgKind: u.OrgKind, RequestID: csphub.RequestID(ctx)},
			csphub.AuditEntry{Action: "user.password_set", ResourceType: "user", ResourceID: u.ID})
	})
	return err
}

// CreateOperatorAdmin creates an operator admin with no password and
// returns a one-time link (also emailed) to choose it: how the first
// operator admin of a deployment is set up, from the command line.
func (s *Service) CreateOperatorAdmin(ctx context.Context, email, name, lang string) (csphub.User, string, error) {
	addr, fe := checkEmail("email", email)
	name = strings.TrimSpace(name)
	var fields []csphub.FieldError
	if fe != nil {
		fields = append(fields, *fe)
	}
	if name == "" || strings.ContainsAny(name, "\r\n\x00") {
		fields = append(fields, csphub.FieldError{Field: "name", Code: "invalid_name", Message: "must be 1 to 200 characters on one line"})
	}
	if lang != "en" && lang != "fr" {
		fields = append(fields, csphub.FieldError{Field: "lang", Code: "unsupported_language", Message: "must be en or fr"})
	}
	if len(fields) > 0 {
		return csphub.User{}, "", csphub.Invalid(fields...)
	}
	token, hash, err := newSecret("")
	if err != nil {
		return csphub.User{}, "", err
	}
	u, err := write(ctx, s, func(tx *store.Tx) (csphub.User, error) {
		op, err := tx.OperatorOrganization()
		if err != nil {
			return csphub.User{}, err
		}
		u := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: op.ID, Email: addr, Name: name, Lang: lang,
			Status: csphub.UserActive, Roles: []string{csphub.RoleOperatorAdmin}, CreatedAt: tx.Now()}, OrgKind: csphub.OrgOperator}
		if err := tx.InsertUser(u); err != nil {
			return csphub.User{}, err
		}
		actor := csphub.System(csphub.RequestID(ctx))
		actor.OrgID = op.ID
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.create", ResourceType: "user", ResourceID: u.ID, After: u.User}); err != nil {
			return csphub.User{}, err
		}
		return u.User, s.issuePasswordLink(tx, u, token, hash, accountSetupLifetime, true, actor)
	})
	return u, s.opts.BaseURL + "/reset-password/" + token, err
}
