package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"csphub"
	"csphub/internal/store"
)

// The catalogue is the operator's: catalogue managers and operator admins
// import it, from a file (csphub operator import-catalog) or the API, and
// every partner and operator user reads it. An import names each offer by
// its stable code, so importing a file again updates the offers in place
// (their ids stay, and orders keep pointing at them).

// MaxCatalogImport is how many rows one import takes; larger files are
// imported in several calls (the command line does it).
const MaxCatalogImport = 5000

// Bounds of catalogue values. A price times a quantity stays far below
// the range of int64 (10^12 × 10^6 = 10^18), so totals never overflow.
const (
	maxCatalogName     = 200
	maxCatalogCode     = 100
	MaxOfferPriceMinor = 1_000_000_000_000
	MaxOfferQuantity   = 1_000_000
)

var catalogCodeShape = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

var errCatalogManagerRequired = csphub.Errorf(csphub.KindForbidden, "catalog_manager_required",
	"only the operator's catalogue managers and operator admins can import the catalogue")

// CatalogRow is one offer to import, as a row of a CSV file, an item of a
// YAML list or of an API request.
type CatalogRow struct {
	// Row numbers the row in its file (the line it starts on) or the item
	// in its request (from 1); results name it.
	Row           int    `json:"-" yaml:"-"`
	Code          string `json:"code,omitempty" doc:"The offer's stable code, unique in the catalogue: letters, digits and . _ : -, at most 100 characters. Importing the same code again updates the offer. Required."`
	ProductCode   string `json:"product_code,omitempty" doc:"Code of the product, same shape as code. Required."`
	ProductName   string `json:"product_name,omitempty" doc:"Name of the product, at most 200 characters. Required."`
	SKUCode       string `json:"sku_code,omitempty" doc:"Code of the SKU, same shape as code. Required."`
	SKUName       string `json:"sku_name,omitempty" doc:"Name of the SKU, at most 200 characters. Required."`
	Market        string `json:"market,omitempty" doc:"ISO 3166-1 alpha-2 country of a market of the program, e.g. FR. Required."`
	Currency      string `json:"currency,omitempty" doc:"ISO 4217 code: must be the market's currency, e.g. EUR for FR. Required."`
	PriceMinor    *int64 `json:"price_minor,omitempty" doc:"Unit price per billing period in minor units of the currency (cents; yen for JPY), 0 to 10^12. Required."`
	BillingCycle  string `json:"billing_cycle,omitempty" doc:"monthly or annual. Required."`
	Term          string `json:"term,omitempty" doc:"P1M, P1Y or P3Y; annual billing needs a term of a year or more. Required."`
	MinQuantity   int    `json:"min_quantity,omitempty" doc:"Least quantity of an order line, at least 1. Required."`
	MaxQuantity   int    `json:"max_quantity,omitempty" doc:"Greatest quantity, at least min_quantity and at most 1,000,000. Required."`
	AvailableFrom string `json:"available_from,omitempty" doc:"When the offer can first be bought: an RFC 3339 date-time, or a date YYYY-MM-DD (midnight UTC). Default: the time of the import for a new offer; an existing offer keeps its date."`
	AvailableTo   string `json:"available_to,omitempty" doc:"When the offer stops being sold (same forms), after available_from. Default: no end."`
	// Problems are reasons found while reading the row from its file (a
	// number that is not one, say): the import refuses the row with them
	// and its other reasons.
	Problems []csphub.FieldError `json:"-" yaml:"-"`
}

// CatalogRowError is one reason a row was refused.
type CatalogRowError struct {
	Row       int    `json:"row"`
	OfferCode string `json:"offer_code,omitempty"`
	Field     string `json:"field"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// Outcomes of an imported row.
const (
	CatalogCreated   = "created"
	CatalogUpdated   = "updated"
	CatalogUnchanged = "unchanged"
	CatalogRefused   = "refused"
)

// CatalogResult is what became of one row of an import.
type CatalogResult struct {
	Row     int                 `json:"row" doc:"The item's position in the request, from 1 (the line in a file)"`
	Code    string              `json:"code" doc:"The offer's code, as sent"`
	Outcome string              `json:"outcome" enum:"created,updated,unchanged,refused"`
	OfferID string              `json:"offer_id,omitempty" doc:"The offer created, updated or left unchanged"`
	Errors  []csphub.FieldError `json:"errors,omitempty" doc:"Refused rows only: every reason, by field"`
}

// CatalogReport is the outcome of an import, row by row, in the order of
// the rows.
type CatalogReport struct {
	Created   int             `json:"created"`
	Updated   int             `json:"updated"`
	Unchanged int             `json:"unchanged" doc:"Rows equal to the offer stored already: nothing written"`
	Refused   int             `json:"refused"`
	Results   []CatalogResult `json:"results"`
}

// RowErrors lists every reason of every refused row, in row order.
func (r CatalogReport) RowErrors() []CatalogRowError {
	var out []CatalogRowError
	for _, res := range r.Results {
		for _, fe := range res.Errors {
			out = append(out, CatalogRowError{Row: res.Row, OfferCode: res.Code, Field: fe.Field, Code: fe.Code, Message: fe.Message})
		}
	}
	return out
}

// catalogImportEvent is the data of the catalog.imported event.
type catalogImportEvent struct {
	Created  []string `json:"created"`
	Updated  []string `json:"updated"`
	Refused  int      `json:"refused"`
	Received int      `json:"received"`
}

// parseCatalogTime reads an RFC 3339 date-time or a date (midnight UTC),
// to the second.
func parseCatalogTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Second), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func checkCatalogCode(field, v string, fields []csphub.FieldError) []csphub.FieldError {
	switch {
	case v == "":
		return append(fields, csphub.FieldError{Field: field, Code: "required", Message: "is required"})
	case len(v) > maxCatalogCode:
		return append(fields, csphub.FieldError{Field: field, Code: "too_long", Message: fmt.Sprintf("must be at most %d characters", maxCatalogCode)})
	case !catalogCodeShape.MatchString(v):
		return append(fields, csphub.FieldError{Field: field, Code: "invalid_code",
			Message: "must be letters, digits and . _ : - (starting with a letter or digit), without spaces"})
	}
	return fields
}

func checkCatalogName(field, v string, fields []csphub.FieldError) []csphub.FieldError {
	switch {
	case v == "":
		return append(fields, csphub.FieldError{Field: field, Code: "required", Message: "is required"})
	case utf8.RuneCountInString(v) > maxCatalogName:
		return append(fields, csphub.FieldError{Field: field, Code: "too_long", Message: fmt.Sprintf("must be at most %d characters", maxCatalogName)})
	case !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0:
		return append(fields, csphub.FieldError{Field: field, Code: "invalid_characters",
			Message: "must be text on one line, without control characters"})
	}
	return fields
}

// checkCatalogRow validates one row against the program's markets and
// returns the offer it describes (without id, availability defaults or
// update time) and every reason to refuse it.
func checkCatalogRow(in CatalogRow, markets map[string]csphub.Market) (csphub.Offer, bool, []csphub.FieldError) {
	fields := slices.Clone(in.Problems)
	known := map[string]bool{}
	for _, p := range in.Problems {
		known[p.Field] = true
	}
	o := csphub.Offer{
		Code: strings.TrimSpace(in.Code), ProductCode: strings.TrimSpace(in.ProductCode), ProductName: strings.TrimSpace(in.ProductName),
		SKUCode: strings.TrimSpace(in.SKUCode), SKUName: strings.TrimSpace(in.SKUName),
		Market: strings.ToUpper(strings.TrimSpace(in.Market)), Currency: strings.ToUpper(strings.TrimSpace(in.Currency)),
		BillingCycle: strings.ToLower(strings.TrimSpace(in.BillingCycle)), Term: strings.ToUpper(strings.TrimSpace(in.Term)),
		MinQuantity: in.MinQuantity, MaxQuantity: in.MaxQuantity,
	}
	fields = checkCatalogCode("code", o.Code, fields)
	fields = checkCatalogCode("product_code", o.ProductCode, fields)
	fields = checkCatalogName("product_name", o.ProductName, fields)
	fields = checkCatalogCode("sku_code", o.SKUCode, fields)
	fields = checkCatalogName("sku_name", o.SKUName, fields)

	market, isMarket := markets[o.Market]
	switch {
	case known["market"]:
	case o.Market == "":
		fields = append(fields, csphub.FieldError{Field: "market", Code: "required", Message: "is required"})
	case !ValidCountry(o.Market):
		fields = append(fields, csphub.FieldError{Field: "market", Code: "invalid_country",
			Message: "must be an ISO 3166-1 alpha-2 country code like FR or US"})
	case !isMarket:
		fields = append(fields, csphub.FieldError{Field: "market", Code: "unknown_market",
			Message: fmt.Sprintf("%s is not a market of the program", o.Market)})
	}
	switch {
	case known["currency"]:
	case o.Currency == "":
		fields = append(fields, csphub.FieldError{Field: "currency", Code: "required", Message: "is required"})
	case isMarket && o.Currency != market.Currency:
		fields = append(fields, csphub.FieldError{Field: "currency", Code: "currency_mismatch",
			Message: fmt.Sprintf("must be %s, the currency of the market %s, not %s", market.Currency, o.Market, shortValue(o.Currency))})
	}
	switch {
	case known["price_minor"]:
	case in.PriceMinor == nil:
		fields = append(fields, csphub.FieldError{Field: "price_minor", Code: "required", Message: "is required"})
	case *in.PriceMinor < 0:
		fields = append(fields, csphub.FieldError{Field: "price_minor", Code: "negative", Message: "must be 0 or more"})
	case *in.PriceMinor > MaxOfferPriceMinor:
		fields = append(fields, csphub.FieldError{Field: "price_minor", Code: "too_large",
			Message: fmt.Sprintf("must be at most %d minor units", int64(MaxOfferPriceMinor))})
	default:
		o.PriceMinor = *in.PriceMinor
	}
	cycleOK := o.BillingCycle == csphub.BillingMonthly || o.BillingCycle == csphub.BillingAnnual
	switch {
	case known["billing_cycle"]:
	case o.BillingCycle == "":
		fields = append(fields, csphub.FieldError{Field: "billing_cycle", Code: "required", Message: "is required"})
	case !cycleOK:
		fields = append(fields, csphub.FieldError{Field: "billing_cycle", Code: "invalid_billing_cycle", Message: "must be monthly or annual"})
	}
	termOK := o.Term == csphub.TermMonth || o.Term == csphub.TermYear || o.Term == csphub.TermThreeYears
	switch {
	case known["term"]:
	case o.Term == "":
		fields = append(fields, csphub.FieldError{Field: "term", Code: "required", Message: "is required"})
	case !termOK:
		fields = append(fields, csphub.FieldError{Field: "term", Code: "invalid_term", Message: "must be P1M, P1Y or P3Y"})
	case cycleOK && o.BillingCycle == csphub.BillingAnnual && o.Term == csphub.TermMonth:
		fields = append(fields, csphub.FieldError{Field: "term", Code: "term_shorter_than_cycle",
			Message: "P1M cannot be billed annually: annual billing needs a term of P1Y or P3Y"})
	}
	minOK := false
	switch {
	case known["min_quantity"]:
	case o.MinQuantity < 1:
		fields = append(fields, csphub.FieldError{Field: "min_quantity", Code: "too_small", Message: "must be at least 1"})
	default:
		minOK = true
	}
	switch {
	case known["max_quantity"]:
	case o.MaxQuantity < 1:
		fields = append(fields, csphub.FieldError{Field: "max_quantity", Code: "too_small", Message: "must be at least 1"})
	case o.MaxQuantity > MaxOfferQuantity:
		fields = append(fields, csphub.FieldError{Field: "max_quantity", Code: "too_large", Message: fmt.Sprintf("must be at most %d", MaxOfferQuantity)})
	case minOK && o.MaxQuantity < o.MinQuantity:
		fields = append(fields, csphub.FieldError{Field: "max_quantity", Code: "below_min_quantity",
			Message: fmt.Sprintf("must be at least min_quantity (%d)", o.MinQuantity)})
	}
	from, to := strings.TrimSpace(in.AvailableFrom), strings.TrimSpace(in.AvailableTo)
	hasFrom, fromOK := from != "", false
	switch {
	case known["available_from"] || from == "":
	default:
		if t, ok := parseCatalogTime(from); ok {
			o.AvailableFrom, fromOK = t, true
		} else {
			fields = append(fields, csphub.FieldError{Field: "available_from", Code: "invalid_time",
				Message: "must be a date YYYY-MM-DD or an RFC 3339 date-time like 2026-01-01T00:00:00Z"})
		}
	}
	switch {
	case known["available_to"] || to == "":
	default:
		t, ok := parseCatalogTime(to)
		switch {
		case !ok:
			fields = append(fields, csphub.FieldError{Field: "available_to", Code: "invalid_time",
				Message: "must be a date YYYY-MM-DD or an RFC 3339 date-time like 2026-01-01T00:00:00Z"})
		case fromOK && !t.After(o.AvailableFrom):
			fields = append(fields, csphub.FieldError{Field: "available_to", Code: "not_after_available_from",
				Message: "must be after available_from"})
		default:
			o.AvailableTo = &t
		}
	}
	return o, hasFrom, fields
}

// sameOfferTerms reports whether two offers say the same thing.
func sameOfferTerms(a, b csphub.Offer) bool {
	a.ID, a.UpdatedAt, b.ID, b.UpdatedAt = "", time.Time{}, "", time.Time{}
	at, bt := a.AvailableTo, b.AvailableTo
	a.AvailableTo, b.AvailableTo = nil, nil
	if (at == nil) != (bt == nil) || at != nil && !at.Equal(*bt) {
		return false
	}
	if !a.AvailableFrom.Equal(b.AvailableFrom) {
		return false
	}
	a.AvailableFrom, b.AvailableFrom = time.Time{}, time.Time{}
	return a == b
}

// ImportCatalog imports offers, for the operator's catalogue managers and
// operator admins. Every row is checked; the valid ones are created or
// updated (by code) together, in this transaction, each with an audit
// record, and the others are refused with every reason, so one bad row
// loses nothing else. A row repeating the code of an earlier row is
// refused. A row equal to its stored offer writes nothing.
func (s *Service) ImportCatalog(ctx context.Context, actor csphub.Actor, rows []CatalogRow) (CatalogReport, error) {
	return write(ctx, s, func(tx *store.Tx) (CatalogReport, error) {
		if err := requirePartnerIDRole(tx, actor, errCatalogManagerRequired, csphub.RoleCatalogManager, csphub.RoleOperatorAdmin); err != nil {
			return CatalogReport{}, err
		}
		switch {
		case len(rows) == 0:
			return CatalogReport{}, csphub.Invalid(csphub.FieldError{Field: "rows", Code: "empty", Message: "send at least one offer"})
		case len(rows) > MaxCatalogImport:
			return CatalogReport{}, csphub.Invalid(csphub.FieldError{Field: "rows", Code: "too_many",
				Message: fmt.Sprintf("%d offers sent; one import takes at most %d: split them into several imports", len(rows), MaxCatalogImport)})
		}
		list, err := tx.Markets()
		if err != nil {
			return CatalogReport{}, err
		}
		markets := make(map[string]csphub.Market, len(list))
		for _, m := range list {
			markets[m.Country] = m
		}

		rep := CatalogReport{Results: make([]CatalogResult, len(rows))}
		offers := make([]csphub.Offer, len(rows))
		keepFrom := make([]bool, len(rows))
		firstRow := make(map[string]int, len(rows))
		var codes []string
		for i, in := range rows {
			if in.Row <= 0 {
				in.Row = i + 1
			}
			o, hasFrom, fields := checkCatalogRow(in, markets)
			if o.Code != "" && catalogCodeShape.MatchString(o.Code) && len(o.Code) <= maxCatalogCode {
				if first, dup := firstRow[o.Code]; dup {
					fields = append(fields, csphub.FieldError{Field: "code", Code: "duplicate_in_batch",
						Message: fmt.Sprintf("appears more than once in this import (first at row %d)", first)})
				} else {
					firstRow[o.Code] = in.Row
				}
			}
			rep.Results[i] = CatalogResult{Row: in.Row, Code: shortValue(o.Code), Errors: fields}
			if len(fields) > 0 {
				rep.Results[i].Outcome = CatalogRefused
				rep.Refused++
				continue
			}
			offers[i], keepFrom[i] = o, !hasFrom
			codes = append(codes, o.Code)
		}
		existing, err := tx.OffersByCode(codes)
		if err != nil {
			return CatalogReport{}, err
		}
		now := tx.Now()
		ev := catalogImportEvent{Created: []string{}, Updated: []string{}, Refused: rep.Refused, Received: len(rows)}
		for i := range rows {
			res := &rep.Results[i]
			if res.Outcome == CatalogRefused {
				continue
			}
			o := offers[i]
			before, exists := existing[o.Code]
			if keepFrom[i] {
				o.AvailableFrom = now.UTC().Truncate(time.Second)
				if exists {
					o.AvailableFrom = before.AvailableFrom
				}
			}
			if o.AvailableTo != nil && !o.AvailableTo.After(o.AvailableFrom) {
				res.Outcome, res.Errors = CatalogRefused, []csphub.FieldError{{Field: "available_to", Code: "not_after_available_from",
					Message: fmt.Sprintf("must be after available_from (%s)", o.AvailableFrom.Format(time.RFC3339))}}
				rep.Refused++
				ev.Refused++
				continue
			}
			if exists && sameOfferTerms(before, o) {
				res.Outcome, res.OfferID = CatalogUnchanged, before.ID
				rep.Unchanged++
				continue
			}
			o.ID, o.UpdatedAt = csphub.NewID(), now
			after, created, err := tx.UpsertOffer(o)
			if err != nil {
				return CatalogReport{}, err
			}
			res.OfferID = after.ID
			entry := csphub.AuditEntry{Action: "offer.updated", ResourceType: "offer", ResourceID: after.ID, After: after}
			if created {
				entry.Action = "offer.created"
				res.Outcome = CatalogCreated
				rep.Created++
				ev.Created = append(ev.Created, after.ID)
			} else {
				entry.Before = before
				res.Outcome = CatalogUpdated
				rep.Updated++
				ev.Updated = append(ev.Updated, after.ID)
			}
			if err := tx.Audit(actor, entry); err != nil {
				return CatalogReport{}, err
			}
		}
		if rep.Created+rep.Updated > 0 {
			if err := tx.Emit(actor, csphub.EventEntry{Type: "catalog.imported", Subject: actor.TenantID(), Data: ev}); err != nil {
				return CatalogReport{}, err
			}
		}
		return rep, nil
	})
}

// --- reading the catalogue ---

// OfferPage is one page of offers.
type OfferPage struct {
	Items         []csphub.Offer `json:"items"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

var errCatalogReader = csphub.Errorf(csphub.KindForbidden, "partner_required",
	"the catalogue is for partner and operator users")

// requireCatalogReader admits the users and API tokens of partner
// organizations and of the operator.
func requireCatalogReader(tx *store.Tx, actor csphub.Actor) error {
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken || !csphub.ValidID(actor.OrgID) {
		return errCatalogReader
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return errCatalogReader
	}
	if err != nil {
		return err
	}
	if org.Kind != csphub.OrgPartner && org.Kind != csphub.OrgOperator {
		return errCatalogReader
	}
	return nil
}

// Page tokens of the offer list: the (product code, offer code) of the
// last offer of the previous page, opaque to clients.
func encodeOfferKeyset(k store.OfferKeyset) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o|" + k.Product + "|" + k.Code))
}

func decodeOfferKeyset(token string) (*store.OfferKeyset, error) {
	if token == "" {
		return nil, nil
	}
	bad := csphub.Invalid(csphub.FieldError{Field: "page_token", Code: "invalid_page_token", Message: "is not a page token from this list"})
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != "o" || !catalogCodeShape.MatchString(parts[1]) || !catalogCodeShape.MatchString(parts[2]) {
		return nil, bad
	}
	return &store.OfferKeyset{Product: parts[1], Code: parts[2]}, nil
}

// ListOffers lists the catalogue by product and offer code, for partner
// and operator users; market (a country code) keeps that market's offers.
func (s *Service) ListOffers(ctx context.Context, actor csphub.Actor, market, pageToken string, pageSize int) (OfferPage, error) {
	if pageSize <= 0 || pageSize > 500 {
		pageSize = 50
	}
	market = strings.ToUpper(strings.TrimSpace(market))
	return read(ctx, s, func(tx *store.Tx) (OfferPage, error) {
		if err := requireCatalogReader(tx, actor); err != nil {
			return OfferPage{}, err
		}
		if market != "" {
			if !ValidCountry(market) {
				return OfferPage{}, csphub.Invalid(csphub.FieldError{Field: "market", Code: "invalid_country",
					Message: "must be an ISO 3166-1 alpha-2 country code like FR or US"})
			}
			if _, err := tx.MarketOf(market); csphub.ErrorKind(err) == csphub.KindNotFound {
				return OfferPage{}, csphub.Invalid(csphub.FieldError{Field: "market", Code: "unknown_market",
					Message: fmt.Sprintf("%s is not a market of the program", market)})
			} else if err != nil {
				return OfferPage{}, err
			}
		}
		after, err := decodeOfferKeyset(pageToken)
		if err != nil {
			return OfferPage{}, err
		}
		items, err := tx.Offers(market, after, pageSize+1)
		if err != nil {
			return OfferPage{}, err
		}
		p := OfferPage{Items: items[:min(len(items), pageSize)]}
		if len(items) > pageSize {
			last := p.Items[pageSize-1]
			p.NextPageToken = encodeOfferKeyset(store.OfferKeyset{Product: last.ProductCode, Code: last.Code})
		}
		return p, nil
	})
}

// GetOffer reads one offer, for partner and operator users.
func (s *Service) GetOffer(ctx context.Context, actor csphub.Actor, id string) (csphub.Offer, error) {
	return read(ctx, s, func(tx *store.Tx) (csphub.Offer, error) {
		if err := requireCatalogReader(tx, actor); err != nil {
			return csphub.Offer{}, err
		}
		if !csphub.ValidID(id) {
			return csphub.Offer{}, csphub.NotFound("offer")
		}
		return tx.Offer(id)
	})
}
