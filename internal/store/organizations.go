package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"csphub"
)

// InsertOrganization stores a new organization.
func (tx *Tx) InsertOrganization(o csphub.Organization) error {
	_, err := tx.exec(`INSERT INTO organizations (id, kind, name, name_key, country, domain, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, o.ID, string(o.Kind), o.Name, nameKey(o.Name), o.Country, o.Domain, o.CreatedAt)
	if err != nil && tx.db.dialect.uniqueViolation(err) {
		return csphub.Conflict("organization_exists", "the organization already exists")
	}
	return err
}

// nameKey folds a name for sorting and prefix search, the same way on both
// engines (SQLite's lower() folds ASCII only).
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Organization returns one organization, as seen by the tenant orgID: an
// organization sees itself (relationships widen this in later use cases).
func (tx *Tx) Organization(orgID, id string) (csphub.Organization, error) {
	if orgID != id {
		return csphub.Organization{}, csphub.NotFound("organization")
	}
	return tx.organization(`WHERE id = ?`, id)
}

// OperatorOrganization returns the deployment's operator organization.
func (tx *Tx) OperatorOrganization() (csphub.Organization, error) {
	return tx.organization(`WHERE kind = 'operator'`)
}

func (tx *Tx) organization(where string, args ...any) (csphub.Organization, error) {
	var o csphub.Organization
	var kind string
	err := tx.queryRow(`SELECT id, kind, name, country, domain, created_at FROM organizations `+where, args...).
		Scan(&o.ID, &kind, &o.Name, &o.Country, &o.Domain, &o.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return o, csphub.NotFound("organization")
	}
	if err != nil {
		return o, fmt.Errorf("read organization: %w", err)
	}
	o.Kind = csphub.OrgKind(kind)
	o.CreatedAt = o.CreatedAt.UTC()
	return o, nil
}
