package store

import (
	"database/sql"
	"errors"
	"fmt"

	"csphub"
)

// MarketOf returns the market of a country, or a not_found error when the
// program does not sell there.
func (tx *Tx) MarketOf(country string) (csphub.Market, error) {
	var m csphub.Market
	err := tx.queryRow(`SELECT country, region_code, currency FROM markets WHERE country = ?`, country).
		Scan(&m.Country, &m.RegionCode, &m.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		return m, csphub.NotFound("market")
	}
	return m, err
}

// Regions lists the program's regions by code.
func (tx *Tx) Regions() ([]csphub.Region, error) {
	rows, err := tx.query(`SELECT code, name FROM regions ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []csphub.Region
	for rows.Next() {
		var r csphub.Region
		if err := rows.Scan(&r.Code, &r.Name); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Markets lists every market, by region and then country: the whole
// table in one query.
func (tx *Tx) Markets() ([]csphub.Market, error) {
	rows, err := tx.query(`SELECT country, region_code, currency FROM markets ORDER BY region_code, country`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []csphub.Market
	for rows.Next() {
		var m csphub.Market
		if err := rows.Scan(&m.Country, &m.RegionCode, &m.Currency); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpsertRegion creates a region or renames it.
func (tx *Tx) UpsertRegion(r csphub.Region) error {
	_, err := tx.exec(`INSERT INTO regions (code, name) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name`, r.Code, r.Name)
	if err != nil {
		return fmt.Errorf("save region: %w", err)
	}
	return nil
}

// UpsertMarket adds a country to the program or moves it to another
// region or currency.
func (tx *Tx) UpsertMarket(m csphub.Market) error {
	_, err := tx.exec(`INSERT INTO markets (country, region_code, currency) VALUES (?, ?, ?)
		ON CONFLICT (country) DO UPDATE SET region_code = excluded.region_code, currency = excluded.currency`,
		m.Country, m.RegionCode, m.Currency)
	if err != nil {
		return fmt.Errorf("save market: %w", err)
	}
	return nil
}

// DeleteMarket takes a country out of the program.
func (tx *Tx) DeleteMarket(country string) error {
	_, err := tx.exec(`DELETE FROM markets WHERE country = ?`, country)
	if err != nil {
		return fmt.Errorf("delete market: %w", err)
	}
	return nil
}

// PartnersIn reports whether some partner's legal profile is in country.
func (tx *Tx) PartnersIn(country string) (bool, error) {
	var n int
	err := tx.queryRow(`SELECT COUNT(*) FROM (SELECT 1 FROM partner_profiles WHERE country = ? LIMIT 1) x`, country).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("partners in country: %w", err)
	}
	return n > 0, nil
}
