package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// UserRecord is a user with the secrets only the identity use cases read.
type UserRecord struct {
	csphub.User
	OrgKind      csphub.OrgKind
	PasswordHash string
	TOTPSecret   string
	TOTPLastStep int64
}

// InsertUser stores a new user and its roles.
func (tx *Tx) InsertUser(u UserRecord) error {
	_, err := tx.exec(`INSERT INTO users (id, org_id, email, name, lang, password_hash, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.OrgID, u.Email, u.Name, u.Lang, nullString(u.PasswordHash), string(u.Status), u.CreatedAt, u.CreatedAt)
	if err != nil {
		if tx.db.dialect.uniqueViolation(err) {
			return csphub.Conflict("email_taken", "a user with this email already exists")
		}
		return fmt.Errorf("insert user: %w", err)
	}
	for _, r := range u.Roles {
		if _, err := tx.exec(`INSERT INTO user_roles (org_id, user_id, role) VALUES (?, ?, ?)`, u.OrgID, u.ID, r); err != nil {
			return fmt.Errorf("insert role: %w", err)
		}
	}
	return nil
}

const userColumns = `u.id, u.org_id, u.email, u.name, u.lang, u.status, u.password_hash, u.totp_secret,
	u.totp_enabled_at, u.totp_last_step, u.created_at, o.kind`

func (tx *Tx) scanUser(row *sql.Row) (UserRecord, error) {
	var u UserRecord
	var status, kind string
	var hash, secret sql.NullString
	var enabled sql.NullTime
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Lang, &status, &hash, &secret, &enabled, &u.TOTPLastStep, &u.CreatedAt, &kind)
	if errors.Is(err, sql.ErrNoRows) {
		return u, csphub.NotFound("user")
	}
	if err != nil {
		return u, fmt.Errorf("read user: %w", err)
	}
	u.Status, u.OrgKind = csphub.UserStatus(status), csphub.OrgKind(kind)
	u.PasswordHash, u.TOTPSecret, u.MFAEnabled = hash.String, secret.String, enabled.Valid
	u.CreatedAt = u.CreatedAt.UTC()
	u.Roles, err = tx.userRoles(u.OrgID, u.ID)
	return u, err
}

// UserByEmail finds a user by email, in any organization: signing in
// starts from the email alone.
func (tx *Tx) UserByEmail(email string) (UserRecord, error) {
	return tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users u JOIN organizations o ON o.id = u.org_id
		WHERE u.email = ?`, strings.ToLower(email)))
}

// User reads a user of the tenant orgID.
func (tx *Tx) User(orgID, id string) (UserRecord, error) {
	return tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users u JOIN organizations o ON o.id = u.org_id
		WHERE u.org_id = ? AND u.id = ?`, orgID, id))
}

func (tx *Tx) userRoles(orgID, userID string) ([]string, error) {
	rows, err := tx.query(`SELECT role FROM user_roles WHERE org_id = ? AND user_id = ? ORDER BY role`, orgID, userID)
	if err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	defer rows.Close()
	roles := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, rows.Err()
}

// SetTOTPSecret stores a pending TOTP secret (not enabled until verified).
func (tx *Tx) SetTOTPSecret(orgID, userID, secret string) error {
	return tx.updateUser(orgID, userID, `totp_secret = ?, totp_enabled_at = NULL, totp_last_step = 0`, secret)
}

// EnableTOTP marks the user's TOTP secret verified and records the step of
// the code that proved it, so that code cannot be used again.
func (tx *Tx) EnableTOTP(orgID, userID string, step int64) error {
	// Conditional, so that two concurrent first verifications cannot both
	// enable TOTP with the same code.
	res, err := tx.exec(`UPDATE users SET totp_enabled_at = ?, totp_last_step = ?, updated_at = ?
		WHERE org_id = ? AND id = ? AND totp_enabled_at IS NULL AND totp_last_step < ?`,
		tx.now, step, tx.now, orgID, userID, step)
	if err != nil {
		return fmt.Errorf("enable totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.Errorf(csphub.KindUnauthenticated, "mfa_code_used", "this code was already used; wait for the next one")
	}
	return nil
}

// UseTOTPStep records the step of an accepted code; it fails if a code of
// that step or a later one was already used (a concurrent sign-in).
func (tx *Tx) UseTOTPStep(orgID, userID string, step int64) error {
	res, err := tx.exec(`UPDATE users SET totp_last_step = ?, updated_at = ? WHERE org_id = ? AND id = ? AND totp_last_step < ?`,
		step, tx.now, orgID, userID, step)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.Errorf(csphub.KindUnauthenticated, "mfa_code_used", "this code was already used; wait for the next one")
	}
	return nil
}

func (tx *Tx) updateUser(orgID, userID, set string, args ...any) error {
	args = append(args, tx.now, orgID, userID)
	res, err := tx.exec(`UPDATE users SET `+set+`, updated_at = ? WHERE org_id = ? AND id = ?`, args...)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.NotFound("user")
	}
	return nil
}

// SessionRecord is a stored session.
type SessionRecord struct {
	IDHash      string
	UserID      string
	OrgID       string
	MFAPassedAt *time.Time
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

// InsertSession stores a new session.
func (tx *Tx) InsertSession(s SessionRecord) error {
	_, err := tx.exec(`INSERT INTO sessions (id_hash, user_id, org_id, mfa_passed_at, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.IDHash, s.UserID, s.OrgID, s.MFAPassedAt, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	return err
}

// DeleteSession ends one session.
func (tx *Tx) DeleteSession(idHash string) error {
	_, err := tx.exec(`DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// Principal is what authenticating a request reads, in one query: the
// session or token, the user and organization behind it, and the roles.
type Principal struct {
	Session *SessionRecord
	User    UserRecord
}

// SessionPrincipal reads a session with its user, organization and roles.
func (tx *Tx) SessionPrincipal(idHash string) (Principal, error) {
	var s SessionRecord
	var mfa sql.NullTime
	err := tx.queryRow(`SELECT id_hash, user_id, org_id, mfa_passed_at, created_at, last_seen_at, expires_at
		FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.IDHash, &s.UserID, &s.OrgID, &mfa, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, csphub.NotFound("session")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("read session: %w", err)
	}
	if mfa.Valid {
		t := mfa.Time.UTC()
		s.MFAPassedAt = &t
	}
	u, err := tx.User(s.OrgID, s.UserID)
	return Principal{Session: &s, User: u}, err
}

// TouchSession records activity on a session.
func (tx *Tx) TouchSession(idHash string) error {
	_, err := tx.exec(`UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, tx.now, idHash)
	return err
}

// ReplaceSession renews a session's id (after MFA, against fixation),
// keeping its other facts, and marks MFA passed.
func (tx *Tx) ReplaceSession(orgID, userID, oldHash, newHash string, mfaPassed bool) error {
	set := `id_hash = ?, last_seen_at = ?`
	args := []any{newHash, tx.now}
	if mfaPassed {
		set += `, mfa_passed_at = ?`
		args = append(args, tx.now)
	}
	res, err := tx.exec(`UPDATE sessions SET `+set+` WHERE id_hash = ? AND org_id = ? AND user_id = ?`, append(args, oldHash, orgID, userID)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.NotFound("session")
	}
	return nil
}

// ReplaceRecoveryCodes stores a user's new recovery codes (hashes), voiding
// the old ones.
func (tx *Tx) ReplaceRecoveryCodes(userID string, hashes []string) error {
	if _, err := tx.exec(`DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.exec(`INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode consumes one unused recovery code; it reports false if the
// code is unknown or was used already.
func (tx *Tx) UseRecoveryCode(userID, hash string) (bool, error) {
	res, err := tx.exec(`UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
		tx.now, userID, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
