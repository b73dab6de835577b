package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// Provider–reseller relationships. A row is born as an emailed invitation
// of a provider (state invited, reseller_id NULL, only the SHA-256 of the
// link's token kept) and becomes the relationship when a reseller accepts
// it. Every read names the organization asking (provider or reseller side),
// except the lookup by the link's token, which is what proves the right to
// see an invitation.

const partnershipColumns = `p.id, p.provider_id, p.reseller_id, p.state, p.invited_email, p.invited_partner_id, p.invited_by,
	p.invited_at, p.expires_at, p.region_code, p.accepted_by, p.accepted_at, p.ended_by_org, p.ended_reason, p.ended_at,
	p.updated_at, p.version, p.grant_roles`

// partnershipScan holds the nullable columns of a partnership while it is
// scanned.
type partnershipScan struct {
	reseller, region, acceptedBy, endedBy sql.NullString
	acceptedAt, endedAt                   sql.NullTime
	state, grantRoles                     string
}

func (s *partnershipScan) dest(p *csphub.Partnership) []any {
	return []any{&p.ID, &p.ProviderID, &s.reseller, &s.state, &p.InvitedEmail, &p.InvitedPartnerID, &p.InvitedBy,
		&p.InvitedAt, &p.ExpiresAt, &s.region, &s.acceptedBy, &s.acceptedAt, &s.endedBy, &p.EndedReason, &s.endedAt,
		&p.UpdatedAt, &p.Version, &s.grantRoles}
}

func (s *partnershipScan) finish(p *csphub.Partnership) {
	p.ResellerID, p.Region, p.AcceptedBy, p.EndedByOrg = s.reseller.String, s.region.String, s.acceptedBy.String, s.endedBy.String
	p.State, p.GrantRoles = csphub.PartnershipState(s.state), splitGrantRoles(s.grantRoles)
	p.InvitedAt, p.ExpiresAt, p.UpdatedAt = p.InvitedAt.UTC(), p.ExpiresAt.UTC(), p.UpdatedAt.UTC()
	p.AcceptedAt, p.EndedAt = partnershipTime(s.acceptedAt), partnershipTime(s.endedAt)
}

func partnershipTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func scanPartnership(row interface{ Scan(...any) error }) (csphub.Partnership, error) {
	var p csphub.Partnership
	var s partnershipScan
	if err := row.Scan(s.dest(&p)...); err != nil {
		return p, err
	}
	s.finish(&p)
	return p, nil
}

// InsertPartnership stores a new invitation with the hash of its link's
// token and the roles of the grant it asks for (admin_agent when none).
func (tx *Tx) InsertPartnership(p csphub.Partnership, tokenHash string) error {
	roles := strings.Join(p.GrantRoles, ",")
	if roles == "" {
		roles = csphub.RoleAdminAgent
	}
	_, err := tx.exec(`INSERT INTO partnerships (id, provider_id, reseller_id, state, invited_email, invited_partner_id, token_hash,
		invited_by, invited_at, expires_at, region_code, accepted_by, accepted_at, ended_by_org, ended_reason, ended_at, updated_at, version,
		grant_roles)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.ProviderID, nullString(p.ResellerID), string(p.State), p.InvitedEmail, p.InvitedPartnerID, tokenHash,
		p.InvitedBy, p.InvitedAt, p.ExpiresAt, nullString(p.Region), nullString(p.AcceptedBy), p.AcceptedAt,
		nullString(p.EndedByOrg), p.EndedReason, p.EndedAt, p.UpdatedAt, p.Version, roles)
	if err != nil {
		return fmt.Errorf("insert partnership: %w", err)
	}
	return nil
}

// PartnershipByTokenHash reads the invitation whose link's token has this
// hash. With lock, its row stays locked until commit, so that concurrent
// answers to one link queue behind each other and only the first finds it
// open.
func (tx *Tx) PartnershipByTokenHash(hash string, lock bool) (csphub.Partnership, error) {
	q := `SELECT ` + partnershipColumns + ` FROM partnerships p WHERE p.token_hash = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	p, err := scanPartnership(tx.queryRow(q, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return p, csphub.NotFound("invitation")
	}
	if err != nil {
		return p, fmt.Errorf("read invitation: %w", err)
	}
	return p, nil
}

// PartnershipForUpdate reads a relationship that orgID is a side of
// (provider or reseller) and locks its row until commit.
func (tx *Tx) PartnershipForUpdate(orgID, id string) (csphub.Partnership, error) {
	p, err := scanPartnership(tx.queryRow(`SELECT `+partnershipColumns+` FROM partnerships p
		WHERE p.id = ? AND (p.provider_id = ? OR p.reseller_id = ?)`+tx.db.dialect.lockClause(), id, orgID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, csphub.NotFound("partnership")
	}
	if err != nil {
		return p, fmt.Errorf("read partnership: %w", err)
	}
	return p, nil
}

// SavePartnership writes a relationship's changing fields, provided it is
// still in state from at version p.Version-1; it reports false when another
// change came first. Making a second live relationship between the same two
// partners is a conflict (partnership_exists).
func (tx *Tx) SavePartnership(p csphub.Partnership, from csphub.PartnershipState) (bool, error) {
	res, err := tx.exec(`UPDATE partnerships SET reseller_id = ?, state = ?, region_code = ?, accepted_by = ?, accepted_at = ?,
		ended_by_org = ?, ended_reason = ?, ended_at = ?, updated_at = ?, version = ?
		WHERE id = ? AND provider_id = ? AND state = ? AND version = ?`,
		nullString(p.ResellerID), string(p.State), nullString(p.Region), nullString(p.AcceptedBy), p.AcceptedAt,
		nullString(p.EndedByOrg), p.EndedReason, p.EndedAt, p.UpdatedAt, p.Version,
		p.ID, p.ProviderID, string(from), p.Version-1)
	if err != nil {
		if tx.db.dialect.uniqueViolation(err) {
			return false, csphub.Conflict("partnership_exists", "these two partners already have an active or suspended relationship")
		}
		return false, fmt.Errorf("save partnership: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LivePartnershipExists reports whether a provider and a reseller have an
// active or suspended relationship.
func (tx *Tx) LivePartnershipExists(providerID, resellerID string) (bool, error) {
	var n int
	err := tx.queryRow(`SELECT COUNT(*) FROM partnerships
		WHERE provider_id = ? AND reseller_id = ? AND state IN ('active', 'suspended')`, providerID, resellerID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read live partnership: %w", err)
	}
	return n > 0, nil
}

// PartnerInvitationsSince counts a provider's invitations sent after since
// (the partnerships_provider index), and returns the first of them.
func (tx *Tx) PartnerInvitationsSince(providerID string, since time.Time) (int, time.Time, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM partnerships WHERE provider_id = ? AND invited_at > ?`, providerID, since).Scan(&n); err != nil {
		return 0, time.Time{}, fmt.Errorf("count invitations: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var first time.Time
	if err := tx.queryRow(`SELECT invited_at FROM partnerships WHERE provider_id = ? AND invited_at > ?
		ORDER BY invited_at, id LIMIT 1`, providerID, since).Scan(&first); err != nil {
		return 0, time.Time{}, fmt.Errorf("first invitation: %w", err)
	}
	return n, first.UTC(), nil
}

// OpenPartnerInvitations counts a provider's invitations still waiting for
// an answer at now, and returns the soonest expiry among them.
func (tx *Tx) OpenPartnerInvitations(providerID string, now time.Time) (int, time.Time, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM partnerships WHERE provider_id = ? AND state = 'invited' AND expires_at > ?`,
		providerID, now).Scan(&n); err != nil {
		return 0, time.Time{}, fmt.Errorf("count open invitations: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var soonest time.Time
	if err := tx.queryRow(`SELECT expires_at FROM partnerships WHERE provider_id = ? AND state = 'invited' AND expires_at > ?
		ORDER BY expires_at, id LIMIT 1`, providerID, now).Scan(&soonest); err != nil {
		return 0, time.Time{}, fmt.Errorf("soonest open invitation: %w", err)
	}
	return n, soonest.UTC(), nil
}

// LockPartnerOrganization locks an organization's row until commit: the
// invitations of one provider are counted and added one transaction at a
// time, so that its caps hold under concurrency.
func (tx *Tx) LockPartnerOrganization(orgID string) error {
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

// DueInvitations returns, locked, up to limit invitations still open whose
// expiry is at or before now, soonest first (the
// partnerships_open_invitations index). Rows another transaction holds are
// skipped: it is answering them.
func (tx *Tx) DueInvitations(now time.Time, limit int) ([]csphub.Partnership, error) {
	rows, err := tx.query(`SELECT `+partnershipColumns+` FROM partnerships p
		WHERE p.state = 'invited' AND p.expires_at <= ?
		ORDER BY p.expires_at, p.id LIMIT ?`+tx.db.dialect.skipLockedClause(), now, limit)
	if err != nil {
		return nil, fmt.Errorf("read due invitations: %w", err)
	}
	defer rows.Close()
	out := []csphub.Partnership{}
	for rows.Next() {
		p, err := scanPartnership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TerminatePartnershipGrants ends the pending and active delegated admin
// grants that came with a relationship, and reports how many.
func (tx *Tx) TerminatePartnershipGrants(providerID, resellerID, partnershipID, endedBy string) (int64, error) {
	res, err := tx.exec(`UPDATE delegated_admin_grants SET state = 'terminated', ended_at = ?, ended_by = ?, updated_at = ?, version = version + 1
		WHERE grantee_id = ? AND grantor_id = ? AND partnership_id = ? AND state IN ('pending', 'active')`,
		tx.now, nullString(endedBy), tx.now, providerID, resellerID, partnershipID)
	if err != nil {
		return 0, fmt.Errorf("terminate partnership grants: %w", err)
	}
	return res.RowsAffected()
}

// PartnershipRow is a relationship with what its lists show: both parties'
// names and partner IDs, and the active delegated admin grant that came
// with it, if any.
type PartnershipRow struct {
	csphub.Partnership
	ProviderName      string
	ProviderPartnerID string
	ResellerName      string
	ResellerPartnerID string
	Grant             *csphub.Grant
}

// PartnershipFilter narrows a list of relationships.
type PartnershipFilter struct {
	Prefix string // prefix of the other party's name or partner ID (or, for an invitation, the invited email or partner ID)
	State  string // one state, or "" for every one
}

// partnershipRowQuery joins the names, partner IDs and the active grant
// (the newest, through the delegated_admin_grants_grantee index) in the
// same query as the relationships.
const partnershipRowQuery = `SELECT ` + partnershipColumns + `,
	po.name, pp.partner_id, ro.name, rp.partner_id,
	g.id, g.roles, g.state, g.duration_days, g.auto_extend, g.created_at, g.activated_at, g.expires_at, g.ended_at, g.ended_by,
	g.updated_at, g.version
	FROM partnerships p
	JOIN organizations po ON po.id = p.provider_id
	LEFT JOIN partner_profiles pp ON pp.org_id = p.provider_id
	LEFT JOIN organizations ro ON ro.id = p.reseller_id
	LEFT JOIN partner_profiles rp ON rp.org_id = p.reseller_id
	LEFT JOIN delegated_admin_grants g ON g.id = (SELECT g2.id FROM delegated_admin_grants g2
		WHERE g2.grantee_id = p.provider_id AND g2.grantor_id = p.reseller_id AND g2.state = 'active' AND g2.partnership_id = p.id
		ORDER BY g2.created_at DESC, g2.id DESC LIMIT 1)`

func scanPartnershipRow(row interface{ Scan(...any) error }) (PartnershipRow, error) {
	var r PartnershipRow
	var s partnershipScan
	var providerPID, resellerName, resellerPID sql.NullString
	var gID, gRoles, gState, gEndedBy sql.NullString
	var gDays, gVersion sql.NullInt64
	var gAuto sql.NullBool
	var gCreated, gActivated, gExpires, gEnded, gUpdated sql.NullTime
	dest := append(s.dest(&r.Partnership), &r.ProviderName, &providerPID, &resellerName, &resellerPID,
		&gID, &gRoles, &gState, &gDays, &gAuto, &gCreated, &gActivated, &gExpires, &gEnded, &gEndedBy, &gUpdated, &gVersion)
	if err := row.Scan(dest...); err != nil {
		return r, err
	}
	s.finish(&r.Partnership)
	r.ProviderPartnerID, r.ResellerName, r.ResellerPartnerID = providerPID.String, resellerName.String, resellerPID.String
	if gID.Valid {
		g := csphub.Grant{ID: gID.String, GrantorID: r.ResellerID, GranteeID: r.ProviderID, PartnershipID: r.ID,
			Roles: []string{}, State: csphub.GrantState(gState.String), DurationDays: int(gDays.Int64), AutoExtend: gAuto.Bool,
			CreatedAt: gCreated.Time.UTC(), ActivatedAt: partnershipTime(gActivated), ExpiresAt: gExpires.Time.UTC(),
			EndedAt: partnershipTime(gEnded), EndedBy: gEndedBy.String, UpdatedAt: gUpdated.Time.UTC(), Version: int(gVersion.Int64)}
		if gRoles.String != "" {
			g.Roles = strings.Split(gRoles.String, ",")
		}
		r.Grant = &g
	}
	return r, nil
}

// PartnershipRowOf reads one relationship that orgID is a side of.
func (tx *Tx) PartnershipRowOf(orgID, id string) (PartnershipRow, error) {
	r, err := scanPartnershipRow(tx.queryRow(partnershipRowQuery+` WHERE p.id = ? AND (p.provider_id = ? OR p.reseller_id = ?)`, id, orgID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, csphub.NotFound("partnership")
	}
	if err != nil {
		return r, fmt.Errorf("read partnership: %w", err)
	}
	return r, nil
}

// ProviderPartnerships lists a provider's relationships, open invitations
// included, newest invitation first (the partnerships_provider index),
// after the keyset position (invited_at, id) of the previous page.
func (tx *Tx) ProviderPartnerships(providerID string, f PartnershipFilter, after *Keyset, limit int) ([]PartnershipRow, error) {
	q, args := partnershipListQuery(true, providerID, f, after, limit)
	return tx.partnershipRows(q, args...)
}

// ResellerPartnerships lists a reseller's relationships, newest acceptance
// first (the partnerships_reseller index), after the keyset position
// (accepted_at, id) of the previous page.
func (tx *Tx) ResellerPartnerships(resellerID string, f PartnershipFilter, after *Keyset, limit int) ([]PartnershipRow, error) {
	q, args := partnershipListQuery(false, resellerID, f, after, limit)
	return tx.partnershipRows(q, args...)
}

// partnershipListQuery is the query of one side's list: the provider's by
// (provider_id, invited_at, id), the reseller's by (reseller_id,
// accepted_at, id), both newest first; the prefix applies to the other
// party.
func partnershipListQuery(provider bool, orgID string, f PartnershipFilter, after *Keyset, limit int) (string, []any) {
	side, at, other, otherProfile := "p.provider_id", "p.invited_at", "ro", "rp"
	if !provider {
		side, at, other, otherProfile = "p.reseller_id", "p.accepted_at", "po", "pp"
	}
	q := partnershipRowQuery + ` WHERE ` + side + ` = ?`
	args := []any{orgID}
	if !provider {
		q += ` AND p.accepted_at IS NOT NULL`
	}
	if f.State != "" {
		q += ` AND p.state = ?`
		args = append(args, f.State)
	}
	if f.Prefix != "" {
		like := likePrefix(strings.ToLower(f.Prefix))
		q += ` AND (lower(` + other + `.name) LIKE ? ESCAPE '\' OR ` + otherProfile + `.partner_id LIKE ? ESCAPE '\'`
		args = append(args, like, like)
		if provider {
			// Before anyone answers, the invitation is all there is.
			q += ` OR p.invited_partner_id LIKE ? ESCAPE '\' OR p.invited_email LIKE ? ESCAPE '\'`
			args = append(args, like, like)
		}
		q += `)`
	}
	if after != nil {
		// A row comparison, so that both engines seek the index to the
		// position instead of filtering the rows before it.
		q += ` AND (` + at + `, p.id) < (?, ?)`
		args = append(args, after.At, after.ID)
	}
	q += ` ORDER BY ` + at + ` DESC, p.id DESC LIMIT ?`
	return q, append(args, limit)
}

func (tx *Tx) partnershipRows(q string, args ...any) ([]PartnershipRow, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list partnerships: %w", err)
	}
	defer rows.Close()
	out := []PartnershipRow{}
	for rows.Next() {
		r, err := scanPartnershipRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
