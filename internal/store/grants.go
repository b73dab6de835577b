package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// Delegated admin grants. A grant has two organizations, the grantor (the
// organization acted in) and the grantee (whose users act); every read
// names the organization asking and finds only grants it is a side of.

const grantColumns = `g.id, g.grantor_id, g.grantee_id, g.partnership_id, g.roles, g.state, g.duration_days, g.auto_extend,
	g.created_at, g.activated_at, g.expires_at, g.ended_at, g.ended_by, g.updated_at, g.version`

// scanGrant reads the grantColumns, then extra.
func scanGrant(row interface{ Scan(...any) error }, extra ...any) (csphub.Grant, error) {
	var g csphub.Grant
	var partnership, endedBy sql.NullString
	var roles, state string
	var activated, ended sql.NullTime
	err := row.Scan(append([]any{&g.ID, &g.GrantorID, &g.GranteeID, &partnership, &roles, &state, &g.DurationDays, &g.AutoExtend,
		&g.CreatedAt, &activated, &g.ExpiresAt, &ended, &endedBy, &g.UpdatedAt, &g.Version}, extra...)...)
	if err != nil {
		return g, err
	}
	g.PartnershipID, g.EndedBy, g.State = partnership.String, endedBy.String, csphub.GrantState(state)
	g.Roles = splitGrantRoles(roles)
	g.CreatedAt, g.ExpiresAt, g.UpdatedAt = g.CreatedAt.UTC(), g.ExpiresAt.UTC(), g.UpdatedAt.UTC()
	g.ActivatedAt, g.EndedAt = grantTime(activated), grantTime(ended)
	return g, nil
}

func splitGrantRoles(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func grantTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// InsertGrant stores a new delegated admin grant.
func (tx *Tx) InsertGrant(g csphub.Grant) error {
	var partnership any
	if g.PartnershipID != "" {
		partnership = g.PartnershipID
	}
	_, err := tx.exec(`INSERT INTO delegated_admin_grants (id, grantor_id, grantee_id, partnership_id, roles, state, duration_days,
		auto_extend, created_at, activated_at, expires_at, ended_at, ended_by, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.GrantorID, g.GranteeID, partnership, strings.Join(g.Roles, ","), string(g.State), g.DurationDays,
		g.AutoExtend, g.CreatedAt, g.ActivatedAt, g.ExpiresAt, g.EndedAt, nullable(g.EndedBy), g.UpdatedAt, g.Version)
	if err != nil {
		return fmt.Errorf("insert delegated admin grant: %w", err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// GrantRow is a grant with the names of both organizations, as lists and
// pages show it.
type GrantRow struct {
	csphub.Grant
	GrantorName string
	GranteeName string
}

const grantRowQuery = `SELECT ` + grantColumns + `, gr.name, ge.name
	FROM delegated_admin_grants g
	JOIN organizations gr ON gr.id = g.grantor_id
	JOIN organizations ge ON ge.id = g.grantee_id`

func scanGrantRow(row interface{ Scan(...any) error }) (GrantRow, error) {
	var r GrantRow
	g, err := scanGrant(row, &r.GrantorName, &r.GranteeName)
	r.Grant = g
	return r, err
}

// GrantOf reads one grant that orgID is a side of (grantor or grantee).
// With lock, the row stays locked until commit, so that concurrent
// changes of the grant queue.
func (tx *Tx) GrantOf(orgID, id string, lock bool) (GrantRow, error) {
	q := grantRowQuery + ` WHERE g.id = ? AND (g.grantor_id = ? OR g.grantee_id = ?)`
	if lock {
		// Lock the grant only, not the organizations it names.
		q = `SELECT ` + grantColumns + `, '', '' FROM delegated_admin_grants g
			WHERE g.id = ? AND (g.grantor_id = ? OR g.grantee_id = ?)` + tx.db.dialect.lockClause()
	}
	r, err := scanGrantRow(tx.queryRow(q, id, orgID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, csphub.NotFound("grant")
	}
	if err != nil {
		return r, fmt.Errorf("read delegated admin grant: %w", err)
	}
	return r, nil
}

// GrantDirection says which side of its grants an organization lists.
type GrantDirection string

const (
	GrantsGiven    GrantDirection = "given"    // the organization is the grantor
	GrantsReceived GrantDirection = "received" // the organization is the grantee
)

// Grants lists the grants orgID gave or received, newest first, after the
// keyset (created_at, id) of the previous page. Given grants are read
// through the delegated_admin_grants_grantor index in order; received ones
// through delegated_admin_grants_grantee, which holds the few grants an
// organization receives.
func (tx *Tx) Grants(orgID string, dir GrantDirection, after *Keyset, limit int) ([]GrantRow, error) {
	var q string
	switch dir {
	case GrantsGiven:
		q = grantRowQuery + ` WHERE g.grantor_id = ?`
	case GrantsReceived:
		q = grantRowQuery + ` WHERE g.grantee_id = ?`
	default:
		return nil, fmt.Errorf("list delegated admin grants: unknown direction %q", dir)
	}
	args := []any{orgID}
	if after != nil {
		q += ` AND (g.created_at < ? OR (g.created_at = ? AND g.id < ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	q += ` ORDER BY g.created_at DESC, g.id DESC LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list delegated admin grants: %w", err)
	}
	defer rows.Close()
	out := []GrantRow{}
	for rows.Next() {
		r, err := scanGrantRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Delegation is one grant through which a grantee's users may act in the
// grantor's organization right now, with what decides whether it still
// counts: the grantor's kind and the state of the relationship the grant
// came with ("" when it came with none).
type Delegation struct {
	GrantID          string
	Roles            []string
	GrantorKind      csphub.OrgKind
	PartnershipState string
}

// Delegations returns the active grants from grantorID to granteeID that
// have not expired at now, through the delegated_admin_grants_grantee
// index, with the grantor's kind and the relationship's state in the same
// query. An auto-extending grant past its expiry still counts: its
// extension is due, and waits only for the expiry job's next run.
func (tx *Tx) Delegations(granteeID, grantorID string, now time.Time) ([]Delegation, error) {
	rows, err := tx.query(`SELECT g.id, g.roles, o.kind, p.state
		FROM delegated_admin_grants g
		JOIN organizations o ON o.id = g.grantor_id
		LEFT JOIN partnerships p ON p.id = g.partnership_id
		WHERE g.grantee_id = ? AND g.grantor_id = ? AND g.state = 'active' AND (g.expires_at > ? OR g.auto_extend)
		ORDER BY g.created_at, g.id`, granteeID, grantorID, now)
	if err != nil {
		return nil, fmt.Errorf("read delegations: %w", err)
	}
	defer rows.Close()
	var out []Delegation
	for rows.Next() {
		var d Delegation
		var roles, kind string
		var state sql.NullString
		if err := rows.Scan(&d.GrantID, &roles, &kind, &state); err != nil {
			return nil, err
		}
		d.Roles, d.GrantorKind, d.PartnershipState = splitGrantRoles(roles), csphub.OrgKind(kind), state.String
		out = append(out, d)
	}
	return out, rows.Err()
}

// SaveGrant writes a grant's state, activation, expiry and end back, if
// its version is still from; it reports whether it did (false: someone
// changed it meanwhile). The grant's version becomes from+1.
func (tx *Tx) SaveGrant(g csphub.Grant, from int) (bool, error) {
	res, err := tx.exec(`UPDATE delegated_admin_grants SET state = ?, activated_at = ?, expires_at = ?, ended_at = ?, ended_by = ?,
		updated_at = ?, version = ?
		WHERE id = ? AND grantor_id = ? AND version = ?`,
		string(g.State), g.ActivatedAt, g.ExpiresAt, g.EndedAt, nullable(g.EndedBy), g.UpdatedAt, from+1, g.ID, g.GrantorID, from)
	if err != nil {
		return false, fmt.Errorf("save delegated admin grant: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DueGrant is a grant the expiry job must look at, with the state of the
// relationship it came with ("" when none).
type DueGrant struct {
	csphub.Grant
	PartnershipState string
}

// DueGrants returns, locked, at most limit grants that are due at now:
// active or pending grants past their expiry (through the
// delegated_admin_grants_expiring index), and pending grants created at or
// before pendingBefore.
func (tx *Tx) DueGrants(now, pendingBefore time.Time, limit int) ([]DueGrant, error) {
	lock := tx.db.dialect.lockClause()
	if lock != "" {
		// Lock the grants only: the relationship is read, not changed.
		lock = " FOR UPDATE OF g"
	}
	rows, err := tx.query(`SELECT `+grantColumns+`, p.state
		FROM delegated_admin_grants g
		LEFT JOIN partnerships p ON p.id = g.partnership_id
		WHERE g.id IN (
			SELECT id FROM (SELECT id FROM delegated_admin_grants
				WHERE state IN ('pending', 'active') AND expires_at <= ? ORDER BY expires_at, id LIMIT ?) expiring
			UNION
			SELECT id FROM (SELECT id FROM delegated_admin_grants
				WHERE state = 'pending' AND created_at <= ? ORDER BY created_at, id LIMIT ?) stale)
		ORDER BY g.expires_at, g.id`+lock, now, limit, pendingBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("read due grants: %w", err)
	}
	defer rows.Close()
	var out []DueGrant
	for rows.Next() {
		var d DueGrant
		var state sql.NullString
		g, err := scanGrant(rows, &state)
		if err != nil {
			return nil, err
		}
		d.Grant, d.PartnershipState = g, state.String
		out = append(out, d)
	}
	return out, rows.Err()
}

// PendingGrants lists, newest first, at most limit pending grant requests
// orgID received as grantor (GrantsGiven: it is asked to give them) or made
// as grantee (GrantsReceived), through the delegated_admin_grants_pending
// index's partial condition.
func (tx *Tx) PendingGrants(orgID string, dir GrantDirection, limit int) ([]GrantRow, error) {
	var q string
	switch dir {
	case GrantsGiven:
		q = grantRowQuery + ` WHERE g.grantor_id = ?`
	case GrantsReceived:
		q = grantRowQuery + ` WHERE g.grantee_id = ?`
	default:
		return nil, fmt.Errorf("list pending grants: unknown direction %q", dir)
	}
	rows, err := tx.query(q+` AND g.state = 'pending' ORDER BY g.created_at DESC, g.id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending grants: %w", err)
	}
	defer rows.Close()
	out := []GrantRow{}
	for rows.Next() {
		r, err := scanGrantRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PendingGrantExists reports whether grantee already waits for an answer
// from grantor to a grant request.
func (tx *Tx) PendingGrantExists(grantorID, granteeID string) (bool, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM delegated_admin_grants WHERE grantee_id = ? AND grantor_id = ? AND state = 'pending'`,
		granteeID, grantorID).Scan(&n); err != nil {
		return false, fmt.Errorf("count pending grants: %w", err)
	}
	return n > 0, nil
}

// ActivePartnershipID returns the id of the active relationship between a
// provider and a reseller; ok is false when they have none.
func (tx *Tx) ActivePartnershipID(providerID, resellerID string) (id string, ok bool, err error) {
	err = tx.queryRow(`SELECT id FROM partnerships WHERE provider_id = ? AND reseller_id = ? AND state = 'active'`,
		providerID, resellerID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read active partnership: %w", err)
	}
	return id, true, nil
}

// PartnershipStateOf returns the state of a relationship a grant came
// with, read for share (locked against a concurrent change until commit on
// PostgreSQL).
func (tx *Tx) PartnershipStateOf(id string) (csphub.PartnershipState, error) {
	var state string
	err := tx.queryRow(`SELECT state FROM partnerships WHERE id = ?`+tx.db.dialect.shareClause(), id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", csphub.NotFound("partnership")
	}
	if err != nil {
		return "", fmt.Errorf("read partnership state: %w", err)
	}
	return csphub.PartnershipState(state), nil
}
