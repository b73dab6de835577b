package service

import (
	"context"

	"csphub"
	"csphub/internal/countries"
	"csphub/internal/store"
)

// RegionMarket is a country where the program sells, as a region lists it.
type RegionMarket struct {
	Country  string `json:"country" doc:"ISO 3166-1 alpha-2"`
	Name     string `json:"name" doc:"English name of the country"`
	Currency string `json:"currency" doc:"ISO 4217 currency the market is priced in"`
}

// RegionView is a region of the program with its markets, by country code.
type RegionView struct {
	csphub.Region
	Markets []RegionMarket `json:"markets"`
}

// ListRegions lists the program's regions by code, each with its markets:
// public reference data, read in two queries whatever the number of
// regions.
func (s *Service) ListRegions(ctx context.Context) ([]RegionView, error) {
	return read(ctx, s, func(tx *store.Tx) ([]RegionView, error) {
		regions, err := tx.Regions()
		if err != nil {
			return nil, err
		}
		markets, err := tx.Markets()
		if err != nil {
			return nil, err
		}
		byRegion := map[string][]RegionMarket{}
		for _, m := range markets {
			name := m.Country
			if r, ok := countries.Lookup(m.Country); ok {
				name = r.Name
			}
			byRegion[m.RegionCode] = append(byRegion[m.RegionCode], RegionMarket{Country: m.Country, Name: name, Currency: m.Currency})
		}
		out := make([]RegionView, 0, len(regions))
		for _, r := range regions {
			ms := byRegion[r.Code]
			if ms == nil {
				ms = []RegionMarket{}
			}
			out = append(out, RegionView{Region: r, Markets: ms})
		}
		return out, nil
	})
}
