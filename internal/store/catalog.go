package store

import (
	"fmt"
	"strings"

	"csphub"
)

// offersByCodeChunk bounds the placeholders of one query of OffersByCode.
const offersByCodeChunk = 500

// OffersByCode reads the offers that have these codes, by code, locking
// their rows (on PostgreSQL) so that an import's before and after images
// stay true until it commits. Codes with no offer are absent from the map.
func (tx *Tx) OffersByCode(codes []string) (map[string]csphub.Offer, error) {
	out := make(map[string]csphub.Offer, len(codes))
	for start := 0; start < len(codes); start += offersByCodeChunk {
		chunk := codes[start:min(len(codes), start+offersByCodeChunk)]
		args := make([]any, len(chunk))
		for i, c := range chunk {
			args[i] = c
		}
		rows, err := tx.query(`SELECT `+offerColumns+` FROM offers f WHERE f.code IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)
			ORDER BY f.code`+tx.db.dialect.lockClause(), args...)
		if err != nil {
			return nil, fmt.Errorf("read offers by code: %w", err)
		}
		for rows.Next() {
			o, err := scanOffer(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read offers by code: %w", err)
			}
			out[o.Code] = o
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read offers by code: %w", err)
		}
	}
	return out, nil
}
