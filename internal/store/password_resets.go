package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"csphub"
)

// PasswordReset is a stored single-use link to set a password.
type PasswordReset struct {
	TokenHash string
	UserID    string
	OrgID     string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// InsertPasswordReset stores a new link.
func (tx *Tx) InsertPasswordReset(r PasswordReset) error {
	_, err := tx.exec(`INSERT INTO password_resets (token_hash, user_id, org_id, email, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, r.TokenHash, r.UserID, r.OrgID, r.Email, r.CreatedAt, r.ExpiresAt)
	return err
}

// PasswordResetByHash reads a link by the hash of its token.
func (tx *Tx) PasswordResetByHash(hash string) (PasswordReset, error) {
	var r PasswordReset
	var used sql.NullTime
	err := tx.queryRow(`SELECT token_hash, user_id, org_id, email, created_at, expires_at, used_at
		FROM password_resets WHERE token_hash = ?`, hash).
		Scan(&r.TokenHash, &r.UserID, &r.OrgID, &r.Email, &r.CreatedAt, &r.ExpiresAt, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return r, csphub.NotFound("password_reset")
	}
	if err != nil {
		return r, fmt.Errorf("read password reset: %w", err)
	}
	if used.Valid {
		u := used.Time.UTC()
		r.UsedAt = &u
	}
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	return r, nil
}

// UsePasswordReset consumes a link; it reports false if it was used
// already (a concurrent redemption won).
func (tx *Tx) UsePasswordReset(hash string) (bool, error) {
	res, err := tx.exec(`UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		tx.now, hash, tx.now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetPassword replaces a user's password hash.
func (tx *Tx) SetPassword(orgID, userID, hash string) error {
	return tx.updateUser(orgID, userID, `password_hash = ?`, hash)
}

// DeleteUserSessions ends every session of a user.
func (tx *Tx) DeleteUserSessions(userID string) error {
	_, err := tx.exec(`DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}
