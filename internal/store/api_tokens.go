package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// InsertAPIToken stores a new token (its hash only).
func (tx *Tx) InsertAPIToken(t csphub.APIToken, hash string) error {
	_, err := tx.exec(`INSERT INTO api_tokens (id, org_id, name, token_hash, roles, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.OrgID, t.Name, hash, strings.Join(t.Roles, " "), t.CreatedBy, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert api token: %w", err)
	}
	return nil
}

const tokenColumns = `t.id, t.org_id, t.name, t.roles, t.created_by, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

type rowScanner interface{ Scan(...any) error }

func scanToken(r rowScanner, extra ...any) (csphub.APIToken, error) {
	var t csphub.APIToken
	var roles string
	var revoked, used sql.NullTime
	err := r.Scan(append([]any{&t.ID, &t.OrgID, &t.Name, &roles, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &revoked, &used}, extra...)...)
	if err != nil {
		return t, err
	}
	t.Roles = strings.Fields(roles)
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if revoked.Valid {
		v := revoked.Time.UTC()
		t.RevokedAt = &v
	}
	if used.Valid {
		v := used.Time.UTC()
		t.LastUsedAt = &v
	}
	return t, nil
}

// APITokenByHash finds a token by the hash of its secret, with the kind of
// its organization.
func (tx *Tx) APITokenByHash(hash string) (csphub.APIToken, csphub.OrgKind, error) {
	var kind string
	t, err := scanToken(tx.queryRow(`SELECT `+tokenColumns+`, o.kind FROM api_tokens t
		JOIN organizations o ON o.id = t.org_id WHERE t.token_hash = ?`, hash), &kind)
	if errors.Is(err, sql.ErrNoRows) {
		return t, "", csphub.NotFound("api_token")
	}
	return t, csphub.OrgKind(kind), err
}

// APIToken reads one token of the tenant orgID.
func (tx *Tx) APIToken(orgID, id string) (csphub.APIToken, error) {
	t, err := scanToken(tx.queryRow(`SELECT `+tokenColumns+` FROM api_tokens t WHERE t.org_id = ? AND t.id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, csphub.NotFound("api_token")
	}
	return t, err
}

// APITokens lists the tenant's tokens, oldest first, after the keyset
// cursor (created_at, id) of the previous page.
func (tx *Tx) APITokens(orgID string, after *Keyset, limit int) ([]csphub.APIToken, error) {
	q := `SELECT ` + tokenColumns + ` FROM api_tokens t WHERE t.org_id = ?`
	args := []any{orgID}
	if after != nil {
		q += ` AND (t.created_at > ? OR (t.created_at = ? AND t.id > ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	q += ` ORDER BY t.created_at, t.id LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	out := []csphub.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes a token of the tenant; revoking twice is a no-op.
func (tx *Tx) RevokeAPIToken(orgID, id string) error {
	_, err := tx.exec(`UPDATE api_tokens SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL`, tx.now, orgID, id)
	return err
}

// TouchAPIToken records a use of the token.
func (tx *Tx) TouchAPIToken(orgID, id string) error {
	_, err := tx.exec(`UPDATE api_tokens SET last_used_at = ? WHERE org_id = ? AND id = ?`, tx.now, orgID, id)
	return err
}

// Keyset is the position of the last row of a page ordered by (time, id).
type Keyset struct {
	At time.Time
	ID string
}

// Throttle is the failed sign-in counter of one key (an account or an
// address).
type Throttle struct {
	Key          string
	Failures     int
	WindowStart  time.Time
	BlockedUntil *time.Time
}

// Throttles reads the counters of the given keys; absent keys are absent.
func (tx *Tx) Throttles(keys ...string) (map[string]Throttle, error) {
	out := map[string]Throttle{}
	for _, k := range keys {
		var t Throttle
		var blocked sql.NullTime
		err := tx.queryRow(`SELECT key, failures, window_start, blocked_until FROM sign_in_throttle WHERE key = ?`, k).
			Scan(&t.Key, &t.Failures, &t.WindowStart, &blocked)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read throttle: %w", err)
		}
		if blocked.Valid {
			b := blocked.Time.UTC()
			t.BlockedUntil = &b
		}
		t.WindowStart = t.WindowStart.UTC()
		out[k] = t
	}
	return out, nil
}

// LockThrottle reads a counter and locks it until the transaction ends,
// creating it (empty) if absent, so that concurrent failures on one key
// count one by one and a block set by one is seen by the next.
func (tx *Tx) LockThrottle(key string) (Throttle, error) {
	if _, err := tx.exec(`INSERT INTO sign_in_throttle (key, failures, window_start) VALUES (?, 0, ?)
		ON CONFLICT (key) DO NOTHING`, key, tx.now); err != nil {
		return Throttle{}, fmt.Errorf("create throttle: %w", err)
	}
	var t Throttle
	var blocked sql.NullTime
	err := tx.queryRow(`SELECT key, failures, window_start, blocked_until FROM sign_in_throttle WHERE key = ?`+tx.db.dialect.lockClause(), key).
		Scan(&t.Key, &t.Failures, &t.WindowStart, &blocked)
	if err != nil {
		return Throttle{}, fmt.Errorf("lock throttle: %w", err)
	}
	if blocked.Valid {
		b := blocked.Time.UTC()
		t.BlockedUntil = &b
	}
	t.WindowStart = t.WindowStart.UTC()
	return t, nil
}

// SaveThrottle writes a counter.
func (tx *Tx) SaveThrottle(t Throttle) error {
	_, err := tx.exec(`INSERT INTO sign_in_throttle (key, failures, window_start, blocked_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
		blocked_until = excluded.blocked_until`, t.Key, t.Failures, t.WindowStart, t.BlockedUntil)
	return err
}

// ClearThrottle forgets a counter after a successful sign-in.
func (tx *Tx) ClearThrottle(key string) error {
	_, err := tx.exec(`DELETE FROM sign_in_throttle WHERE key = ?`, key)
	return err
}
