package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// User management: the queries behind Settings > Account settings > User
// management. Every write of user management first locks the tenant with
// LockUserAdministration, so that rules over the whole organization (it
// keeps one active global admin) are decided on rows nobody else changes
// meanwhile.

// ManagedUser is a user as user management shows it: no secrets, only
// whether a password was chosen (an invited user has none until they
// accept the invitation).
type ManagedUser struct {
	csphub.User
	PasswordSet bool
}

// LockUserAdministration locks the organization's row until commit. On
// PostgreSQL two user-management transactions of one organization thus run
// one after the other, and each statement after the lock sees what the
// previous one committed; SQLite's IMMEDIATE write transactions already run
// one at a time.
func (tx *Tx) LockUserAdministration(orgID string) error {
	var id string
	err := tx.queryRow(`SELECT id FROM organizations WHERE id = ?`+tx.db.dialect.lockClause(), orgID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return csphub.NotFound("organization")
	}
	if err != nil {
		return fmt.Errorf("lock organization: %w", err)
	}
	return nil
}

// ActiveAdmins returns, locked until commit, the users of the organization
// who hold role, are active and have a password: the admins who can sign
// in. Invited admins who have not chosen a password yet do not count, since
// their invitation may never be accepted.
func (tx *Tx) ActiveAdmins(orgID, role string) ([]string, error) {
	rows, err := tx.query(`SELECT u.id FROM users u
		JOIN user_roles r ON r.org_id = u.org_id AND r.user_id = u.id
		WHERE u.org_id = ? AND r.role = ? AND u.status = 'active' AND u.password_hash IS NOT NULL
		ORDER BY u.id`+tx.db.dialect.lockClause(), orgID, role)
	if err != nil {
		return nil, fmt.Errorf("read admins: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// UserForUpdate reads a user of the tenant orgID and locks its row until
// commit.
func (tx *Tx) UserForUpdate(orgID, id string) (UserRecord, error) {
	return tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users u JOIN organizations o ON o.id = u.org_id
		WHERE u.org_id = ? AND u.id = ?`+tx.db.dialect.lockClause(), orgID, id))
}

const managedUserColumns = `u.id, u.org_id, u.email, u.name, u.lang, u.status,
	u.password_hash IS NOT NULL, u.totp_enabled_at IS NOT NULL, u.created_at`

// ManagedUsers lists the tenant's users, oldest first, after the keyset
// cursor of the previous page. A non-empty prefix keeps the users whose
// email or name starts with it, ignoring case.
func (tx *Tx) ManagedUsers(orgID, prefix string, after *Keyset, limit int) ([]ManagedUser, error) {
	q := `SELECT ` + managedUserColumns + ` FROM users u WHERE u.org_id = ?`
	args := []any{orgID}
	if prefix != "" {
		like := likePrefix(strings.ToLower(prefix))
		q += ` AND (u.email LIKE ? ESCAPE '\' OR lower(u.name) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	if after != nil {
		q += ` AND (u.created_at > ? OR (u.created_at = ? AND u.id > ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	q += ` ORDER BY u.created_at, u.id LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []ManagedUser{}
	for rows.Next() {
		var u ManagedUser
		var status string
		if err := rows.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Lang, &status, &u.PasswordSet, &u.MFAEnabled, &u.CreatedAt); err != nil {
			return nil, err
		}
		u.Status, u.CreatedAt, u.Roles = csphub.UserStatus(status), u.CreatedAt.UTC(), []string{}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, tx.fillRoles(orgID, out)
}

// fillRoles reads the roles of a page of users in one query.
func (tx *Tx) fillRoles(orgID string, users []ManagedUser) error {
	if len(users) == 0 {
		return nil
	}
	index := make(map[string]int, len(users))
	args := []any{orgID}
	for i, u := range users {
		index[u.ID] = i
		args = append(args, u.ID)
	}
	rows, err := tx.query(`SELECT user_id, role FROM user_roles WHERE org_id = ? AND user_id IN (?`+
		strings.Repeat(", ?", len(users)-1)+`) ORDER BY user_id, role`, args...)
	if err != nil {
		return fmt.Errorf("read roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			users[i].Roles = append(users[i].Roles, role)
		}
	}
	return rows.Err()
}

// likePrefix escapes LIKE's wildcards in s and appends one.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// UpdateManagedUser writes the fields user management changes.
func (tx *Tx) UpdateManagedUser(orgID, id, name, lang string, status csphub.UserStatus) error {
	return tx.updateUser(orgID, id, `name = ?, lang = ?, status = ?`, name, lang, string(status))
}

// ReplaceUserRoles sets a user's roles to exactly roles.
func (tx *Tx) ReplaceUserRoles(orgID, userID string, roles []string) error {
	if _, err := tx.exec(`DELETE FROM user_roles WHERE org_id = ? AND user_id = ?`, orgID, userID); err != nil {
		return fmt.Errorf("replace roles: %w", err)
	}
	for _, r := range roles {
		if _, err := tx.exec(`INSERT INTO user_roles (org_id, user_id, role) VALUES (?, ?, ?)`, orgID, userID, r); err != nil {
			return fmt.Errorf("replace roles: %w", err)
		}
	}
	return nil
}

// DeleteManagedUser removes a user of the tenant; roles, sessions, recovery
// codes and invitations go with it.
func (tx *Tx) DeleteManagedUser(orgID, id string) error {
	res, err := tx.exec(`DELETE FROM users WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.NotFound("user")
	}
	return nil
}

// EndUserSessions deletes every session of a user of the tenant and
// reports how many there were.
func (tx *Tx) EndUserSessions(orgID, userID string) (int64, error) {
	res, err := tx.exec(`DELETE FROM sessions WHERE org_id = ? AND user_id = ?`, orgID, userID)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return res.RowsAffected()
}

// UserInvitation is an emailed link for an invited user to choose a
// password. Only the hash of its token is kept.
type UserInvitation struct {
	ID        string
	TokenHash string
	OrgID     string
	UserID    string
	Email     string
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// InsertUserInvitation stores a new invitation.
func (tx *Tx) InsertUserInvitation(inv UserInvitation) error {
	_, err := tx.exec(`INSERT INTO user_invitations (id, token_hash, org_id, user_id, email, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.TokenHash, inv.OrgID, inv.UserID, inv.Email, inv.InvitedBy, inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert user invitation: %w", err)
	}
	return nil
}

// UserInvitationByHash reads an invitation by the hash of its token. With
// lock, its row stays locked until commit, so that concurrent redemptions of
// one link queue behind each other and only the first finds it unused.
func (tx *Tx) UserInvitationByHash(hash string, lock bool) (UserInvitation, error) {
	var inv UserInvitation
	var used sql.NullTime
	q := `SELECT id, token_hash, org_id, user_id, email, invited_by, created_at, expires_at, used_at
		FROM user_invitations WHERE token_hash = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	err := tx.queryRow(q, hash).
		Scan(&inv.ID, &inv.TokenHash, &inv.OrgID, &inv.UserID, &inv.Email, &inv.InvitedBy, &inv.CreatedAt, &inv.ExpiresAt, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, csphub.NotFound("user_invitation")
	}
	if err != nil {
		return inv, fmt.Errorf("read user invitation: %w", err)
	}
	if used.Valid {
		t := used.Time.UTC()
		inv.UsedAt = &t
	}
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	return inv, nil
}

// UseUserInvitation consumes an unused, unexpired invitation; it reports
// false when another redemption won or the invitation expired.
func (tx *Tx) UseUserInvitation(hash string) (bool, error) {
	res, err := tx.exec(`UPDATE user_invitations SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		tx.now, hash, tx.now)
	if err != nil {
		return false, fmt.Errorf("use user invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetInvitedUserPassword sets the first password of an invited user, and
// their name when one is given. It fails if the user already has a
// password, so an invitation never overwrites one.
func (tx *Tx) SetInvitedUserPassword(orgID, userID, passwordHash, name string) error {
	set, args := `password_hash = ?`, []any{passwordHash}
	if name != "" {
		set, args = set+`, name = ?`, append(args, name)
	}
	args = append(args, tx.now, orgID, userID)
	res, err := tx.exec(`UPDATE users SET `+set+`, updated_at = ? WHERE org_id = ? AND id = ? AND password_hash IS NULL`, args...)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.NotFound("user_invitation")
	}
	return nil
}
