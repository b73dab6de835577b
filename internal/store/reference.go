package store

import (
	"database/sql"
	"errors"

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
