package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

const profileColumns = `org_id, partner_id, legal_name, address_line1, address_line2, city, state, postal_code, country,
	primary_first_name, primary_last_name, primary_email, primary_phone, primary_lang,
	support_email, support_phone, support_website, version, updated_at`

func profileArgs(p csphub.PartnerProfile) []any {
	a, pc, sc := p.Address, p.PrimaryContact, p.SupportContact
	return []any{p.OrgID, p.PartnerID, p.LegalName, a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country,
		pc.FirstName, pc.LastName, pc.Email, pc.Phone, pc.Lang, sc.Email, sc.Phone, sc.Website, p.Version, p.UpdatedAt}
}

func scanProfile(row interface{ Scan(...any) error }) (csphub.PartnerProfile, error) {
	var p csphub.PartnerProfile
	a, pc, sc := &p.Address, &p.PrimaryContact, &p.SupportContact
	err := row.Scan(&p.OrgID, &p.PartnerID, &p.LegalName, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &a.Country,
		&pc.FirstName, &pc.LastName, &pc.Email, &pc.Phone, &pc.Lang, &sc.Email, &sc.Phone, &sc.Website, &p.Version, &p.UpdatedAt)
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, err
}

// InsertPartnerProfile stores an organization's first profile.
func (tx *Tx) InsertPartnerProfile(p csphub.PartnerProfile) error {
	_, err := tx.exec(`INSERT INTO partner_profiles (`+profileColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, profileArgs(p)...)
	if err != nil && tx.db.dialect.uniqueViolation(err) {
		return csphub.Conflict("profile_exists", "this organization already has a partner profile")
	}
	if err != nil {
		return fmt.Errorf("insert partner profile: %w", err)
	}
	return nil
}

// PartnerProfile reads an organization's profile; with lock, the row stays
// locked until commit.
func (tx *Tx) PartnerProfile(orgID string, lock bool) (csphub.PartnerProfile, error) {
	q := `SELECT ` + profileColumns + ` FROM partner_profiles WHERE org_id = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	p, err := scanProfile(tx.queryRow(q, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, csphub.NotFound("partner_profile")
	}
	if err != nil {
		return p, fmt.Errorf("read partner profile: %w", err)
	}
	return p, nil
}

// UpdatePartnerProfile replaces a profile whose version is still
// p.Version-1; it reports false when another change came first.
func (tx *Tx) UpdatePartnerProfile(p csphub.PartnerProfile) (bool, error) {
	a, pc, sc := p.Address, p.PrimaryContact, p.SupportContact
	res, err := tx.exec(`UPDATE partner_profiles SET legal_name = ?, address_line1 = ?, address_line2 = ?, city = ?, state = ?,
		postal_code = ?, country = ?, primary_first_name = ?, primary_last_name = ?, primary_email = ?, primary_phone = ?,
		primary_lang = ?, support_email = ?, support_phone = ?, support_website = ?, version = ?, updated_at = ?
		WHERE org_id = ? AND version = ?`,
		p.LegalName, a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country, pc.FirstName, pc.LastName, pc.Email, pc.Phone,
		pc.Lang, sc.Email, sc.Phone, sc.Website, p.Version, p.UpdatedAt, p.OrgID, p.Version-1)
	if err != nil {
		return false, fmt.Errorf("update partner profile: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UpdateOrganizationLegal keeps an organization's name and country in step
// with its legal profile.
func (tx *Tx) UpdateOrganizationLegal(orgID, name, country string) error {
	_, err := tx.exec(`UPDATE organizations SET name = ?, name_key = ?, country = ? WHERE id = ?`, name, nameKey(name), country, orgID)
	if err != nil {
		return fmt.Errorf("update organization: %w", err)
	}
	return nil
}

const enrollmentColumns = `e.id, e.org_id, e.program, e.state, e.country, e.reason, e.submitted_at, e.due_at, e.decided_at, e.updated_at, e.version`

func scanEnrollment(row interface{ Scan(...any) error }, extra ...any) (csphub.Enrollment, error) {
	var e csphub.Enrollment
	var decided sql.NullTime
	var program, state string
	err := row.Scan(append([]any{&e.ID, &e.OrgID, &program, &state, &e.Country, &e.Reason, &e.SubmittedAt, &e.DueAt, &decided, &e.UpdatedAt, &e.Version}, extra...)...)
	e.Program, e.State = csphub.Program(program), csphub.EnrollmentState(state)
	e.SubmittedAt, e.DueAt, e.UpdatedAt = e.SubmittedAt.UTC(), e.DueAt.UTC(), e.UpdatedAt.UTC()
	if decided.Valid {
		t := decided.Time.UTC()
		e.DecidedAt = &t
	}
	return e, err
}

// InsertEnrollment stores a new application. A second open application of
// the organization to the same program is a conflict.
func (tx *Tx) InsertEnrollment(e csphub.Enrollment) error {
	_, err := tx.exec(`INSERT INTO enrollments (id, org_id, program, state, country, reason, submitted_at, due_at, decided_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.OrgID, string(e.Program), string(e.State), e.Country, e.Reason, e.SubmittedAt, e.DueAt, e.DecidedAt, e.UpdatedAt, e.Version)
	if err != nil && tx.db.dialect.uniqueViolation(err) {
		return csphub.Conflict("enrollment_exists", "this organization already has an application to this program that is open or approved")
	}
	if err != nil {
		return fmt.Errorf("insert enrollment: %w", err)
	}
	return nil
}

// Enrollment reads one application of an organization. With lock, the row
// stays locked until commit, so that concurrent transitions queue.
func (tx *Tx) Enrollment(orgID, id string, lock bool) (csphub.Enrollment, error) {
	q := `SELECT ` + enrollmentColumns + ` FROM enrollments e WHERE e.org_id = ? AND e.id = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	e, err := scanEnrollment(tx.queryRow(q, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, csphub.NotFound("enrollment")
	}
	if err != nil {
		return e, fmt.Errorf("read enrollment: %w", err)
	}
	return e, nil
}

// EnrollmentForReview reads any application, for the operator's reviewers
// (the operator's console spans every applicant by design).
func (tx *Tx) EnrollmentForReview(id string, lock bool) (csphub.Enrollment, error) {
	q := `SELECT ` + enrollmentColumns + ` FROM enrollments e WHERE e.id = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	e, err := scanEnrollment(tx.queryRow(q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, csphub.NotFound("enrollment")
	}
	if err != nil {
		return e, fmt.Errorf("read enrollment: %w", err)
	}
	return e, nil
}

// Enrollments lists an organization's applications, newest first (an
// organization has a handful).
func (tx *Tx) Enrollments(orgID string) ([]csphub.Enrollment, error) {
	rows, err := tx.query(`SELECT `+enrollmentColumns+` FROM enrollments e WHERE e.org_id = ? ORDER BY e.submitted_at DESC, e.id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list enrollments: %w", err)
	}
	defer rows.Close()
	out := []csphub.Enrollment{}
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SaveEnrollment writes an application's state, reason, country and
// decision time, if its version is still e.Version-1; it reports false when
// another transition came first.
func (tx *Tx) SaveEnrollment(e csphub.Enrollment) (bool, error) {
	res, err := tx.exec(`UPDATE enrollments SET state = ?, country = ?, reason = ?, decided_at = ?, due_at = ?, updated_at = ?, version = ?
		WHERE id = ? AND org_id = ? AND version = ?`,
		string(e.State), e.Country, e.Reason, e.DecidedAt, e.DueAt, e.UpdatedAt, e.Version, e.ID, e.OrgID, e.Version-1)
	if err != nil {
		return false, fmt.Errorf("save enrollment: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetEnrollmentCheck records the status of one check.
func (tx *Tx) SetEnrollmentCheck(enrollmentID string, c csphub.EnrollmentCheck) error {
	res, err := tx.exec(`UPDATE enrollment_checks SET status = ?, reason = ?, updated_at = ? WHERE enrollment_id = ? AND name = ?`,
		string(c.Status), c.Reason, c.UpdatedAt, enrollmentID, string(c.Name))
	if err != nil {
		return fmt.Errorf("update enrollment check: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	_, err = tx.exec(`INSERT INTO enrollment_checks (enrollment_id, name, status, reason, updated_at) VALUES (?, ?, ?, ?, ?)`,
		enrollmentID, string(c.Name), string(c.Status), c.Reason, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert enrollment check: %w", err)
	}
	return nil
}

// EnrollmentChecks reads the checks of an application.
func (tx *Tx) EnrollmentChecks(enrollmentID string) ([]csphub.EnrollmentCheck, error) {
	rows, err := tx.query(`SELECT name, status, reason, updated_at FROM enrollment_checks WHERE enrollment_id = ?`, enrollmentID)
	if err != nil {
		return nil, fmt.Errorf("read enrollment checks: %w", err)
	}
	defer rows.Close()
	byName := map[csphub.CheckName]csphub.EnrollmentCheck{}
	for rows.Next() {
		var c csphub.EnrollmentCheck
		var name, status string
		if err := rows.Scan(&name, &status, &c.Reason, &c.UpdatedAt); err != nil {
			return nil, err
		}
		c.Name, c.Status, c.UpdatedAt = csphub.CheckName(name), csphub.CheckStatus(status), c.UpdatedAt.UTC()
		byName[c.Name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]csphub.EnrollmentCheck, 0, len(csphub.Checks))
	for _, n := range csphub.Checks {
		if c, ok := byName[n]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// InsertEnrollmentTransition appends one step to an application's history.
func (tx *Tx) InsertEnrollmentTransition(enrollmentID, actorOrgID string, t csphub.EnrollmentTransition) error {
	var org any
	if actorOrgID != "" {
		org = actorOrgID
	}
	_, err := tx.exec(`INSERT INTO enrollment_transitions (id, enrollment_id, from_state, to_state, actor_kind, actor_id, actor_org_id, actor_name, reason, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, enrollmentID, string(t.From), string(t.To), string(t.ActorKind), t.ActorID, org, t.ActorName, t.Reason, t.At)
	if err != nil {
		return fmt.Errorf("insert enrollment transition: %w", err)
	}
	return nil
}

// EnrollmentTransitions reads an application's history, oldest first.
func (tx *Tx) EnrollmentTransitions(enrollmentID string) ([]csphub.EnrollmentTransition, error) {
	rows, err := tx.query(`SELECT id, from_state, to_state, actor_kind, actor_id, actor_name, reason, at
		FROM enrollment_transitions WHERE enrollment_id = ? ORDER BY at, id`, enrollmentID)
	if err != nil {
		return nil, fmt.Errorf("read enrollment history: %w", err)
	}
	defer rows.Close()
	out := []csphub.EnrollmentTransition{}
	for rows.Next() {
		var t csphub.EnrollmentTransition
		var from, to, kind string
		if err := rows.Scan(&t.ID, &from, &to, &kind, &t.ActorID, &t.ActorName, &t.Reason, &t.At); err != nil {
			return nil, err
		}
		t.From, t.To, t.ActorKind, t.At = csphub.EnrollmentState(from), csphub.EnrollmentState(to), csphub.ActorKind(kind), t.At.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// ReviewRow is one application of the review queue with what the queue
// shows of its applicant.
type ReviewRow struct {
	csphub.Enrollment
	OrganizationName string
	LegalName        string
	PartnerID        string
}

// ReviewQueue lists applications due first. states empty means every open
// state; country "" means every country. after is the (due_at, id) of the
// previous page's last row.
func (tx *Tx) ReviewQueue(states []string, country string, after *Keyset, limit int) ([]ReviewRow, error) {
	if len(states) == 0 {
		states = []string{string(csphub.EnrollmentSubmitted), string(csphub.EnrollmentEmailVerification),
			string(csphub.EnrollmentInReview), string(csphub.EnrollmentInfoRequested)}
	}
	q := `SELECT ` + enrollmentColumns + `, o.name, p.legal_name, p.partner_id
		FROM enrollments e JOIN organizations o ON o.id = e.org_id JOIN partner_profiles p ON p.org_id = e.org_id
		WHERE e.state IN (?` + strings.Repeat(", ?", len(states)-1) + `)`
	args := make([]any, 0, len(states)+5)
	for _, s := range states {
		args = append(args, s)
	}
	if country != "" {
		q += ` AND e.country = ?`
		args = append(args, country)
	}
	if after != nil {
		q += ` AND (e.due_at > ? OR (e.due_at = ? AND e.id > ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	q += ` ORDER BY e.due_at, e.id LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	defer rows.Close()
	out := []ReviewRow{}
	for rows.Next() {
		var r ReviewRow
		e, err := scanEnrollment(rows, &r.OrganizationName, &r.LegalName, &r.PartnerID)
		if err != nil {
			return nil, err
		}
		r.Enrollment = e
		out = append(out, r)
	}
	return out, rows.Err()
}

// EnrollmentEmailToken is an emailed link with which the primary contact
// proves they own their address. Only the SHA-256 of the token is kept;
// the row binds it to its enrollment, organization and email.
type EnrollmentEmailToken struct {
	TokenHash    string
	EnrollmentID string
	OrgID        string
	Email        string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	UsedAt       *time.Time
}

// InsertEnrollmentEmailToken stores a new link.
func (tx *Tx) InsertEnrollmentEmailToken(t EnrollmentEmailToken) error {
	_, err := tx.exec(`INSERT INTO enrollment_email_tokens (token_hash, enrollment_id, org_id, email, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.TokenHash, t.EnrollmentID, t.OrgID, t.Email, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert enrollment email token: %w", err)
	}
	return nil
}

// EnrollmentEmailTokenByHash reads a link by the hash of its token.
func (tx *Tx) EnrollmentEmailTokenByHash(hash string) (EnrollmentEmailToken, error) {
	var t EnrollmentEmailToken
	var used sql.NullTime
	err := tx.queryRow(`SELECT token_hash, enrollment_id, org_id, email, created_at, expires_at, used_at
		FROM enrollment_email_tokens WHERE token_hash = ?`, hash).
		Scan(&t.TokenHash, &t.EnrollmentID, &t.OrgID, &t.Email, &t.CreatedAt, &t.ExpiresAt, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return t, csphub.NotFound("verification_link")
	}
	if err != nil {
		return t, fmt.Errorf("read enrollment email token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if used.Valid {
		u := used.Time.UTC()
		t.UsedAt = &u
	}
	return t, nil
}

// UseEnrollmentEmailToken consumes an unused, unexpired link of the
// enrollment; it reports false when it was used, expired or replaced.
// The conditional UPDATE is what makes concurrent redemptions yield one
// success.
func (tx *Tx) UseEnrollmentEmailToken(hash, enrollmentID string) (bool, error) {
	res, err := tx.exec(`UPDATE enrollment_email_tokens SET used_at = ?
		WHERE token_hash = ? AND enrollment_id = ? AND used_at IS NULL AND expires_at > ?`,
		tx.now, hash, enrollmentID, tx.now)
	if err != nil {
		return false, fmt.Errorf("use enrollment email token: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetireEnrollmentEmailTokens ends every unused link of an enrollment (a
// new one replaces them): they count as used.
func (tx *Tx) RetireEnrollmentEmailTokens(enrollmentID string) error {
	_, err := tx.exec(`UPDATE enrollment_email_tokens SET used_at = ? WHERE enrollment_id = ? AND used_at IS NULL`,
		tx.now, enrollmentID)
	if err != nil {
		return fmt.Errorf("retire enrollment email tokens: %w", err)
	}
	return nil
}

// LatestEnrollmentEmailToken is when the newest link of an enrollment was
// sent, for the resend throttle; zero when none was.
func (tx *Tx) LatestEnrollmentEmailToken(enrollmentID string) (time.Time, error) {
	var at time.Time
	err := tx.queryRow(`SELECT created_at FROM enrollment_email_tokens WHERE enrollment_id = ? ORDER BY created_at DESC LIMIT 1`, enrollmentID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("latest enrollment email token: %w", err)
	}
	return at.UTC(), nil
}
