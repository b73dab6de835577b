package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// Partner IDs: the program's numeric partner identifiers. The operator
// imports existing ones (each with a claim code whose SHA-256 alone is
// kept) and csphub issues new ones at enrollment; an organization links
// one by proving it holds the claim code.

// PartnerIDRecord is a partner ID row, with the hash of its claim code
// ("" for an issued ID, which has none).
type PartnerIDRecord struct {
	csphub.PartnerID
	ClaimCodeHash string
}

const partnerIDColumns = `partner_id, legal_name, country, status, source, claim_code_hash, org_id, created_at, linked_at`

func scanPartnerID(row interface{ Scan(...any) error }) (PartnerIDRecord, error) {
	var p PartnerIDRecord
	var status string
	var hash, org sql.NullString
	var linked sql.NullTime
	if err := row.Scan(&p.PartnerID.PartnerID, &p.LegalName, &p.Country, &status, &p.Source, &hash, &org, &p.CreatedAt, &linked); err != nil {
		return p, err
	}
	p.Status, p.ClaimCodeHash, p.OrgID, p.CreatedAt = csphub.PartnerIDStatus(status), hash.String, org.String, p.CreatedAt.UTC()
	if linked.Valid {
		t := linked.Time.UTC()
		p.LinkedAt = &t
	}
	return p, nil
}

// partnerIDInsertChunk bounds the rows of one multi-row INSERT: nine
// parameters a row stay far below both engines' parameter limits.
const partnerIDInsertChunk = 200

// InsertPartnerIDs stores new partner IDs and returns the ids it stored.
// A partner ID that exists already (committed meanwhile by another
// import) is skipped rather than failing the transaction, so that the
// caller can report it row by row.
func (tx *Tx) InsertPartnerIDs(recs []PartnerIDRecord) (map[string]bool, error) {
	inserted := make(map[string]bool, len(recs))
	for start := 0; start < len(recs); start += partnerIDInsertChunk {
		chunk := recs[start:min(len(recs), start+partnerIDInsertChunk)]
		args := make([]any, 0, len(chunk)*9)
		for _, p := range chunk {
			var linked any
			if p.LinkedAt != nil {
				linked = *p.LinkedAt
			}
			args = append(args, p.PartnerID.PartnerID, p.LegalName, p.Country, string(p.Status), p.Source,
				nullString(p.ClaimCodeHash), nullString(p.OrgID), p.CreatedAt, linked)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ")
		rows, err := tx.query(`INSERT INTO partner_ids (`+partnerIDColumns+`) VALUES `+values+`
			ON CONFLICT (partner_id) DO NOTHING RETURNING partner_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("insert partner ids: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			inserted[id] = true
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insert partner ids: %w", err)
		}
		rows.Close()
	}
	return inserted, nil
}

// partnerIDLookupChunk bounds the ids of one IN list.
const partnerIDLookupChunk = 500

// ExistingPartnerIDs returns which of ids exist already, in one query per
// few hundred ids.
func (tx *Tx) ExistingPartnerIDs(ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	for start := 0; start < len(ids); start += partnerIDLookupChunk {
		chunk := ids[start:min(len(ids), start+partnerIDLookupChunk)]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.query(`SELECT partner_id FROM partner_ids WHERE partner_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read partner ids: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			found[id] = true
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, err
		}
		rows.Close()
	}
	return found, nil
}

// PartnerIDRecord reads one partner ID; with lock, its row stays locked
// until commit, so that two transactions linking or changing it run one
// after the other.
func (tx *Tx) PartnerIDRecord(partnerID string, lock bool) (PartnerIDRecord, error) {
	q := `SELECT ` + partnerIDColumns + ` FROM partner_ids WHERE partner_id = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	p, err := scanPartnerID(tx.queryRow(q, partnerID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, csphub.NotFound("partner_id")
	}
	if err != nil {
		return p, fmt.Errorf("read partner id: %w", err)
	}
	return p, nil
}

// PartnerIDOfOrganization returns the partner ID linked to an
// organization, or "" when it has none.
func (tx *Tx) PartnerIDOfOrganization(orgID string) (string, error) {
	var id string
	err := tx.queryRow(`SELECT partner_id FROM partner_ids WHERE org_id = ?`, orgID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read partner id of organization: %w", err)
	}
	return id, nil
}

// PartnerIDKeyset is the position of a partner ID in the list order.
type PartnerIDKeyset struct {
	CreatedAt time.Time
	PartnerID string
}

// PartnerIDs lists partner IDs oldest first (the partner_ids_created
// index), after the keyset position of the previous page. A non-empty
// prefix keeps the IDs that start with it or whose legal name does,
// ignoring case.
func (tx *Tx) PartnerIDs(prefix string, after *PartnerIDKeyset, limit int) ([]csphub.PartnerID, error) {
	q := `SELECT ` + partnerIDColumns + ` FROM partner_ids WHERE 1 = 1`
	var args []any
	if prefix != "" {
		like := likePrefix(strings.ToLower(prefix))
		q += ` AND (partner_id LIKE ? ESCAPE '\' OR lower(legal_name) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	if after != nil {
		q += ` AND (created_at > ? OR (created_at = ? AND partner_id > ?))`
		args = append(args, after.CreatedAt, after.CreatedAt, after.PartnerID)
	}
	q += ` ORDER BY created_at, partner_id LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list partner ids: %w", err)
	}
	defer rows.Close()
	out := []csphub.PartnerID{}
	for rows.Next() {
		p, err := scanPartnerID(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p.PartnerID)
	}
	return out, rows.Err()
}

// SetPartnerIDStatus changes the status of a partner ID.
func (tx *Tx) SetPartnerIDStatus(partnerID string, status csphub.PartnerIDStatus) error {
	res, err := tx.exec(`UPDATE partner_ids SET status = ? WHERE partner_id = ?`, string(status), partnerID)
	if err != nil {
		return fmt.Errorf("set partner id status: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.NotFound("partner_id")
	}
	return nil
}

// LinkPartnerID links a partner ID to an organization at this
// transaction's instant. Linking it again to the same organization changes
// nothing; a partner ID linked to another organization is not linked
// (false).
func (tx *Tx) LinkPartnerID(partnerID, orgID string) (bool, error) {
	res, err := tx.exec(`UPDATE partner_ids SET org_id = ?, linked_at = ? WHERE partner_id = ? AND org_id IS NULL`,
		orgID, tx.now, partnerID)
	if err != nil {
		return false, fmt.Errorf("link partner id: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var owner sql.NullString
	err = tx.queryRow(`SELECT org_id FROM partner_ids WHERE partner_id = ?`, partnerID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return false, csphub.NotFound("partner_id")
	}
	if err != nil {
		return false, fmt.Errorf("link partner id: %w", err)
	}
	return owner.String == orgID, nil
}
