package store

import (
	"database/sql"
	"errors"
	"fmt"

	"csphub"
)

// ProviderRegions lists the regions a provider is authorized for, by code.
func (tx *Tx) ProviderRegions(orgID string) ([]string, error) {
	rows, err := tx.query(`SELECT region_code FROM provider_regions WHERE org_id = ? ORDER BY region_code`, orgID)
	if err != nil {
		return nil, fmt.Errorf("read provider regions: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplaceProviderRegions sets the regions a provider is authorized for,
// keeping the authorization time of the regions it keeps.
func (tx *Tx) ReplaceProviderRegions(orgID string, regions []string, by string) error {
	current, err := tx.ProviderRegions(orgID)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, r := range regions {
		keep[r] = true
	}
	for _, r := range current {
		if !keep[r] {
			if _, err := tx.exec(`DELETE FROM provider_regions WHERE org_id = ? AND region_code = ?`, orgID, r); err != nil {
				return fmt.Errorf("remove provider region: %w", err)
			}
		}
		delete(keep, r)
	}
	for _, r := range regions {
		if !keep[r] {
			continue
		}
		delete(keep, r)
		if _, err := tx.exec(`INSERT INTO provider_regions (org_id, region_code, authorized_at, authorized_by) VALUES (?, ?, ?, ?)`,
			orgID, r, tx.now, by); err != nil {
			return fmt.Errorf("add provider region: %w", err)
		}
	}
	return nil
}

// ApprovedEnrollment returns an organization's approved application to a
// program; ok is false when it has none.
func (tx *Tx) ApprovedEnrollment(orgID string, program csphub.Program) (csphub.Enrollment, bool, error) {
	e, err := scanEnrollment(tx.queryRow(`SELECT `+enrollmentColumns+` FROM enrollments e
		WHERE e.org_id = ? AND e.program = ? AND e.state = 'approved'`, orgID, string(program)))
	if err != nil {
		if isNoRows(err) {
			return e, false, nil
		}
		return e, false, fmt.Errorf("read approved enrollment: %w", err)
	}
	return e, true, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
