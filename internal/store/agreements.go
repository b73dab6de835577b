package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// Partner agreements: the versions the operator publishes, each for a set
// of regions, and the acceptances of partners' global admins. Versions are
// few (a handful a year), so lists of them are bounded rather than paged.

const agreementColumns = `a.id, a.version, a.title, a.body, a.url, a.effective_at, a.published_at`

func scanAgreement(row interface{ Scan(...any) error }, extra ...any) (csphub.Agreement, error) {
	var a csphub.Agreement
	dest := append([]any{&a.ID, &a.Version, &a.Title, &a.Body, &a.URL, &a.EffectiveAt, &a.PublishedAt}, extra...)
	err := row.Scan(dest...)
	a.EffectiveAt, a.PublishedAt = a.EffectiveAt.UTC(), a.PublishedAt.UTC()
	return a, err
}

// inPlaceholders returns "?, ?, ?" for n arguments.
func inPlaceholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func inArgs(values []string) []any {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return args
}

// InsertAgreement stores a published version and its regions. A version
// name already used is a conflict.
func (tx *Tx) InsertAgreement(a csphub.Agreement, publishedBy string) error {
	_, err := tx.exec(`INSERT INTO agreements (id, version, title, body, url, effective_at, published_at, published_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Version, a.Title, a.Body, a.URL, a.EffectiveAt, a.PublishedAt, publishedBy)
	if err != nil && tx.db.dialect.uniqueViolation(err) {
		return &csphub.Error{Kind: csphub.KindConflict, Code: "agreement_version_exists",
			Message: "a version " + a.Version + " of the agreement was published already",
			Fields: []csphub.FieldError{{Field: "version", Code: "version_taken",
				Message: "is already used by a published version; choose another version name"}}}
	}
	if err != nil {
		return fmt.Errorf("insert agreement: %w", err)
	}
	for _, r := range a.Regions {
		if _, err := tx.exec(`INSERT INTO agreement_regions (agreement_id, region_code) VALUES (?, ?)`, a.ID, r); err != nil {
			return fmt.Errorf("insert agreement region: %w", err)
		}
	}
	return nil
}

// LockRegions locks the rows of the given regions until commit, so that
// publications for the same region run one at a time, and returns the
// codes that exist, sorted.
func (tx *Tx) LockRegions(codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	rows, err := tx.query(`SELECT code FROM regions WHERE code IN (`+inPlaceholders(len(codes))+`) ORDER BY code`+
		tx.db.dialect.lockClause(), inArgs(codes)...)
	if err != nil {
		return nil, fmt.Errorf("lock regions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Agreement reads one version with its regions.
func (tx *Tx) Agreement(id string) (csphub.Agreement, error) {
	a, err := scanAgreement(tx.queryRow(`SELECT `+agreementColumns+` FROM agreements a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, csphub.NotFound("agreement")
	}
	if err != nil {
		return a, fmt.Errorf("read agreement: %w", err)
	}
	list := []csphub.Agreement{a}
	if err := tx.fillAgreementRegions(list); err != nil {
		return a, err
	}
	return list[0], nil
}

// Agreements lists at most limit versions, the latest effective first.
func (tx *Tx) Agreements(limit int) ([]csphub.Agreement, error) {
	return tx.agreementList(`SELECT `+agreementColumns+` FROM agreements a
		ORDER BY a.effective_at DESC, a.published_at DESC, a.id DESC LIMIT ?`, limit)
}

// AgreementsInForce lists at most limit versions of a region that took
// effect at or before at, the one in force first.
func (tx *Tx) AgreementsInForce(region string, at time.Time, limit int) ([]csphub.Agreement, error) {
	return tx.agreementList(`SELECT `+agreementColumns+` FROM agreement_regions r
		JOIN agreements a ON a.id = r.agreement_id
		WHERE r.region_code = ? AND a.effective_at <= ?
		ORDER BY a.effective_at DESC, a.published_at DESC, a.id DESC LIMIT ?`, region, at, limit)
}

// CurrentAgreement returns the version in force in a region at the given
// instant: the one that took effect last. ok is false when none has.
func (tx *Tx) CurrentAgreement(region string, at time.Time) (csphub.Agreement, bool, error) {
	list, err := tx.AgreementsInForce(region, at, 1)
	if err != nil || len(list) == 0 {
		return csphub.Agreement{}, false, err
	}
	return list[0], true, nil
}

// LatestAgreements returns, for each of the given regions that has one,
// the version that takes effect last (possibly in the future), without
// its regions.
func (tx *Tx) LatestAgreements(regions []string) (map[string]csphub.Agreement, error) {
	out := map[string]csphub.Agreement{}
	if len(regions) == 0 {
		return out, nil
	}
	rows, err := tx.query(`SELECT `+agreementColumns+`, r.region_code FROM agreement_regions r
		JOIN agreements a ON a.id = r.agreement_id
		WHERE r.region_code IN (`+inPlaceholders(len(regions))+`)
		ORDER BY r.region_code, a.effective_at DESC, a.published_at DESC, a.id DESC`, inArgs(regions)...)
	if err != nil {
		return nil, fmt.Errorf("latest agreements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var region string
		a, err := scanAgreement(rows, &region)
		if err != nil {
			return nil, err
		}
		if _, seen := out[region]; !seen {
			out[region] = a
		}
	}
	return out, rows.Err()
}

func (tx *Tx) agreementList(query string, args ...any) ([]csphub.Agreement, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	var out []csphub.Agreement
	for rows.Next() {
		a, err := scanAgreement(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	if err := tx.fillAgreementRegions(out); err != nil {
		return nil, err
	}
	return out, nil
}

// fillAgreementRegions reads the regions of every listed version in one
// query.
func (tx *Tx) fillAgreementRegions(list []csphub.Agreement) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	index := make(map[string]int, len(list))
	for i := range list {
		ids[i] = list[i].ID
		index[list[i].ID] = i
		list[i].Regions = []string{}
	}
	rows, err := tx.query(`SELECT agreement_id, region_code FROM agreement_regions
		WHERE agreement_id IN (`+inPlaceholders(len(ids))+`) ORDER BY region_code`, inArgs(ids)...)
	if err != nil {
		return fmt.Errorf("agreement regions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, region string
		if err := rows.Scan(&id, &region); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			list[i].Regions = append(list[i].Regions, region)
		}
	}
	return rows.Err()
}

const acceptanceColumns = `c.id, c.org_id, c.agreement_id, a.version, c.region_code, c.user_id,
	c.signer_name, c.signer_email, c.signer_phone, c.accepted_at`

func scanAcceptance(row interface{ Scan(...any) error }) (csphub.AgreementAcceptance, error) {
	var c csphub.AgreementAcceptance
	err := row.Scan(&c.ID, &c.OrgID, &c.AgreementID, &c.Version, &c.Region, &c.UserID,
		&c.SignerName, &c.SignerEmail, &c.SignerPhone, &c.AcceptedAt)
	c.AcceptedAt = c.AcceptedAt.UTC()
	return c, err
}

// InsertAgreementAcceptance records a partner's acceptance of a version. A
// second acceptance of the same version by the same organization is a
// conflict.
func (tx *Tx) InsertAgreementAcceptance(c csphub.AgreementAcceptance) error {
	_, err := tx.exec(`INSERT INTO agreement_acceptances
		(id, org_id, agreement_id, region_code, user_id, signer_name, signer_email, signer_phone, accepted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.OrgID, c.AgreementID, c.Region, c.UserID, c.SignerName, c.SignerEmail, c.SignerPhone, c.AcceptedAt)
	if err != nil && tx.db.dialect.uniqueViolation(err) {
		return csphub.Conflict("agreement_already_accepted", "your organization accepted this version already")
	}
	if err != nil {
		return fmt.Errorf("insert agreement acceptance: %w", err)
	}
	return nil
}

// AgreementAcceptance reads an organization's acceptance of one version.
func (tx *Tx) AgreementAcceptance(orgID, agreementID string) (csphub.AgreementAcceptance, error) {
	c, err := scanAcceptance(tx.queryRow(`SELECT `+acceptanceColumns+` FROM agreement_acceptances c
		JOIN agreements a ON a.id = c.agreement_id
		WHERE c.org_id = ? AND c.agreement_id = ?`, orgID, agreementID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, csphub.NotFound("agreement_acceptance")
	}
	if err != nil {
		return c, fmt.Errorf("read agreement acceptance: %w", err)
	}
	return c, nil
}

// LatestAgreementAcceptance reads an organization's latest acceptance, of
// any version; ok is false when it accepted none.
func (tx *Tx) LatestAgreementAcceptance(orgID string) (csphub.AgreementAcceptance, bool, error) {
	c, err := scanAcceptance(tx.queryRow(`SELECT `+acceptanceColumns+` FROM agreement_acceptances c
		JOIN agreements a ON a.id = c.agreement_id
		WHERE c.org_id = ? ORDER BY c.accepted_at DESC, c.id DESC LIMIT 1`, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("read latest agreement acceptance: %w", err)
	}
	return c, true, nil
}

// PartnerOrgOf returns the organization whose partner profile carries a
// partner ID, or not_found.
func (tx *Tx) PartnerOrgOf(partnerID string) (string, error) {
	var orgID string
	err := tx.queryRow(`SELECT org_id FROM partner_profiles WHERE partner_id = ?`, partnerID).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", csphub.NotFound("partner")
	}
	if err != nil {
		return "", fmt.Errorf("read partner: %w", err)
	}
	return orgID, nil
}

// AgreementVersionExists reports whether a version of this name was
// published.
func (tx *Tx) AgreementVersionExists(version string) (bool, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM agreements WHERE version = ?`, version).Scan(&n); err != nil {
		return false, fmt.Errorf("agreement version: %w", err)
	}
	return n > 0, nil
}
