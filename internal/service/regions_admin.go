package service

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"csphub"
	"csphub/internal/countries"
	"csphub/internal/store"
)

var regionCodeShape = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// SaveRegion creates a region or renames it. Operator admins only.
func (s *Service) SaveRegion(ctx context.Context, actor csphub.Actor, r csphub.Region) (csphub.Region, error) {
	r.Name = strings.TrimSpace(r.Name)
	var fields []csphub.FieldError
	if !regionCodeShape.MatchString(r.Code) {
		fields = append(fields, csphub.FieldError{Field: "code", Code: "invalid_region_code", Message: "must be 2 to 40 lower-case letters, digits or underscores, like europe"})
	}
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 || strings.ContainsAny(r.Name, "\r\n\x00") {
		fields = append(fields, csphub.FieldError{Field: "name", Code: "invalid_name", Message: "must be 1 to 100 characters on one line"})
	}
	if len(fields) > 0 {
		return r, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (csphub.Region, error) {
		if err := requireOperatorRole(tx, actor, csphub.RoleOperatorAdmin); err != nil {
			return r, err
		}
		if err := tx.UpsertRegion(r); err != nil {
			return r, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "region.save", ResourceType: "region", ResourceID: r.Code, After: r}); err != nil {
			return r, err
		}
		return r, tx.Emit(actor, csphub.EventEntry{Type: "region.saved", Subject: r.Code, Data: r})
	})
}

// SaveMarket adds a country to a region with the currency it is priced in,
// or moves it. The country needs a validation rule (postal codes, phones).
// Operator admins only.
func (s *Service) SaveMarket(ctx context.Context, actor csphub.Actor, m csphub.Market) (csphub.Market, error) {
	var fields []csphub.FieldError
	if _, ok := countries.Lookup(m.Country); !ok || !ValidCountry(m.Country) {
		fields = append(fields, csphub.FieldError{Field: "country", Code: "country_not_supported", Message: "must be an ISO 3166-1 alpha-2 country with validation rules"})
	}
	if cur, err := currency.ParseISO(m.Currency); err != nil || cur.String() != m.Currency {
		fields = append(fields, csphub.FieldError{Field: "currency", Code: "invalid_currency", Message: "must be an ISO 4217 currency code like EUR"})
	}
	if len(fields) > 0 {
		return m, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (csphub.Market, error) {
		if err := requireOperatorRole(tx, actor, csphub.RoleOperatorAdmin); err != nil {
			return m, err
		}
		regions, err := tx.Regions()
		if err != nil {
			return m, err
		}
		known := false
		for _, r := range regions {
			known = known || r.Code == m.RegionCode
		}
		if !known {
			return m, csphub.Invalid(csphub.FieldError{Field: "region", Code: "unknown_region", Message: "is not a region of the program"})
		}
		var before any
		if b, err := tx.MarketOf(m.Country); err == nil {
			before = b
		} else if csphub.ErrorKind(err) != csphub.KindNotFound {
			return m, err
		}
		if err := tx.UpsertMarket(m); err != nil {
			return m, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "market.save", ResourceType: "market", ResourceID: m.Country, Before: before, After: m}); err != nil {
			return m, err
		}
		return m, tx.Emit(actor, csphub.EventEntry{Type: "market.saved", Subject: m.Country, Data: m})
	})
}

// RemoveMarket takes a country out of the program, refused while partners
// are located there. Operator admins only.
func (s *Service) RemoveMarket(ctx context.Context, actor csphub.Actor, country string) error {
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		if err := requireOperatorRole(tx, actor, csphub.RoleOperatorAdmin); err != nil {
			return struct{}{}, err
		}
		before, err := tx.MarketOf(country)
		if err != nil {
			return struct{}{}, err
		}
		used, err := tx.PartnersIn(country)
		if err != nil {
			return struct{}{}, err
		}
		if used {
			return struct{}{}, csphub.Conflict("market_in_use", "partners are located in this country; the market stays")
		}
		if err := tx.DeleteMarket(country); err != nil {
			return struct{}{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "market.remove", ResourceType: "market", ResourceID: country, Before: before}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Emit(actor, csphub.EventEntry{Type: "market.removed", Subject: country, Data: before})
	})
	return err
}
