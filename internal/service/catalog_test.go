package service

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/testdb"
)

func price(n int64) *int64 { return &n }

// catalogRow is a valid row for the FR market.
func catalogRow(row int, code string) CatalogRow {
	return CatalogRow{Row: row, Code: code, ProductCode: "CLOUD-PRODUCTIVITY", ProductName: "Cloud Productivity",
		SKUCode: "CP-STANDARD", SKUName: "Cloud Productivity Standard", Market: "FR", Currency: "EUR", PriceMinor: price(1170),
		BillingCycle: "monthly", Term: "P1M", MinQuantity: 1, MaxQuantity: 300, AvailableFrom: "2026-01-01"}
}

func catalogCodes(r CatalogResult) []string {
	var out []string
	for _, fe := range r.Errors {
		out = append(out, fe.Field+":"+fe.Code)
	}
	return out
}

func (w *pidWorld) catalogManager() csphub.Actor {
	return csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: w.op.ID, OrgKind: csphub.OrgOperator,
		Roles: []string{csphub.RoleCatalogManager}, MFAPassed: true}
}

func (w *pidWorld) importCatalog(actor csphub.Actor, rows ...CatalogRow) CatalogReport {
	w.t.Helper()
	rep, err := w.svc.ImportCatalog(context.Background(), actor, rows)
	if err != nil {
		w.t.Fatal(err)
	}
	return rep
}

func TestImportCatalogRefusesEveryBadRowWithItsReasons(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		mod := func(row int, code string, f func(r *CatalogRow)) CatalogRow {
			r := catalogRow(row, code)
			f(&r)
			return r
		}
		rows := []CatalogRow{
			catalogRow(2, "CP-STD-FR-P1M"),
			mod(3, " CP-STD-DE-P1Y ", func(r *CatalogRow) {
				r.Market, r.Currency, r.BillingCycle, r.Term, r.PriceMinor = "de", "eur", "Annual", "p1y", price(11280)
				r.AvailableFrom, r.AvailableTo = "2026-01-01T00:00:00+01:00", "2027-01-01"
			}),
			mod(4, "CP-STD-JP-P1M", func(r *CatalogRow) { r.Market, r.Currency, r.PriceMinor, r.AvailableFrom = "JP", "JPY", price(0), "" }),
			mod(5, "", func(r *CatalogRow) {}),
			mod(6, "has space", func(r *CatalogRow) {}),
			mod(7, strings.Repeat("A", 101), func(r *CatalogRow) {}),
			mod(8, "BAD-PRODUCT", func(r *CatalogRow) { r.ProductCode, r.ProductName = "", "" }),
			mod(9, "BAD-SKU", func(r *CatalogRow) { r.SKUCode, r.SKUName = "sku/1", "Two\nLines" }),
			mod(10, "LONG-NAME", func(r *CatalogRow) { r.ProductName = strings.Repeat("é", 201) }),
			mod(11, "NO-MARKET", func(r *CatalogRow) { r.Market = "" }),
			mod(12, "NOT-A-COUNTRY", func(r *CatalogRow) { r.Market = "XX" }),
			mod(13, "NOT-A-MARKET", func(r *CatalogRow) { r.Market, r.Currency = "AQ", "USD" }),
			mod(14, "WRONG-CURRENCY", func(r *CatalogRow) { r.Currency = "USD" }),
			mod(15, "NO-CURRENCY", func(r *CatalogRow) { r.Currency = "" }),
			mod(16, "NEGATIVE", func(r *CatalogRow) { r.PriceMinor = price(-1) }),
			mod(17, "NO-PRICE", func(r *CatalogRow) { r.PriceMinor = nil }),
			mod(18, "HUGE-PRICE", func(r *CatalogRow) { r.PriceMinor = price(MaxOfferPriceMinor + 1) }),
			mod(19, "BAD-CYCLE", func(r *CatalogRow) { r.BillingCycle = "weekly" }),
			mod(20, "NO-CYCLE", func(r *CatalogRow) { r.BillingCycle = "" }),
			mod(21, "BAD-TERM", func(r *CatalogRow) { r.Term = "P2Y" }),
			mod(22, "NO-TERM", func(r *CatalogRow) { r.Term = "" }),
			mod(23, "ANNUAL-MONTH", func(r *CatalogRow) { r.BillingCycle = "annual" }),
			mod(24, "MIN-ZERO", func(r *CatalogRow) { r.MinQuantity = 0 }),
			mod(25, "MAX-BELOW-MIN", func(r *CatalogRow) { r.MinQuantity, r.MaxQuantity = 10, 5 }),
			mod(26, "MAX-ZERO", func(r *CatalogRow) { r.MaxQuantity = 0 }),
			mod(27, "MAX-HUGE", func(r *CatalogRow) { r.MaxQuantity = MaxOfferQuantity + 1 }),
			mod(28, "BAD-FROM", func(r *CatalogRow) { r.AvailableFrom = "01/02/2026" }),
			mod(29, "BAD-TO", func(r *CatalogRow) { r.AvailableTo = "soon" }),
			mod(30, "TO-BEFORE-FROM", func(r *CatalogRow) { r.AvailableTo = "2025-12-31" }),
			mod(31, "TO-EQUALS-FROM", func(r *CatalogRow) { r.AvailableTo = "2026-01-01T00:00:00Z" }),
			mod(32, "CP-STD-FR-P1M", func(r *CatalogRow) { r.PriceMinor = price(999) }),
			mod(33, "FROM-FILE", func(r *CatalogRow) {
				r.PriceMinor = nil
				r.Problems = []csphub.FieldError{{Field: "price_minor", Code: "invalid_number", Message: "must be a whole number"}}
			}),
			mod(34, "x y", func(r *CatalogRow) { r.Market, r.Currency, r.PriceMinor, r.Term, r.MinQuantity = "", "", nil, "", 0 }),
		}
		want := map[int][]string{
			5: {"code:required"}, 6: {"code:invalid_code"}, 7: {"code:too_long"},
			8:  {"product_code:required", "product_name:required"},
			9:  {"sku_code:invalid_code", "sku_name:invalid_characters"},
			10: {"product_name:too_long"},
			11: {"market:required"}, 12: {"market:invalid_country"}, 13: {"market:unknown_market"},
			14: {"currency:currency_mismatch"}, 15: {"currency:required"},
			16: {"price_minor:negative"}, 17: {"price_minor:required"}, 18: {"price_minor:too_large"},
			19: {"billing_cycle:invalid_billing_cycle"}, 20: {"billing_cycle:required"},
			21: {"term:invalid_term"}, 22: {"term:required"}, 23: {"term:term_shorter_than_cycle"},
			24: {"min_quantity:too_small"}, 25: {"max_quantity:below_min_quantity"}, 26: {"max_quantity:too_small"},
			27: {"max_quantity:too_large"},
			28: {"available_from:invalid_time"}, 29: {"available_to:invalid_time"},
			30: {"available_to:not_after_available_from"}, 31: {"available_to:not_after_available_from"},
			32: {"code:duplicate_in_batch"},
			33: {"price_minor:invalid_number"},
			34: {"code:invalid_code", "market:required", "currency:required", "price_minor:required", "term:required", "min_quantity:too_small"},
		}
		rep := w.importCatalog(w.catalogManager(), rows...)
		if rep.Created != 3 || rep.Updated != 0 || rep.Unchanged != 0 || rep.Refused != len(want) || len(rep.Results) != len(rows) {
			t.Fatalf("report: created %d updated %d unchanged %d refused %d results %d", rep.Created, rep.Updated, rep.Unchanged, rep.Refused, len(rep.Results))
		}
		for i, r := range rep.Results {
			if r.Row != rows[i].Row {
				t.Errorf("result %d is row %d, want %d", i, r.Row, rows[i].Row)
			}
			if wnt, refused := want[r.Row]; refused {
				if r.Outcome != CatalogRefused || r.OfferID != "" || !slices.Equal(catalogCodes(r), wnt) {
					t.Errorf("row %d: %s %v, want refused %v", r.Row, r.Outcome, catalogCodes(r), wnt)
				}
				for _, fe := range r.Errors {
					if fe.Message == "" {
						t.Errorf("row %d: %s has no message", r.Row, fe.Code)
					}
				}
				continue
			}
			if r.Outcome != CatalogCreated || !csphub.ValidID(r.OfferID) || len(r.Errors) != 0 {
				t.Errorf("row %d: %+v, want created", r.Row, r)
			}
		}
		if m := rep.Results[30].Errors[0].Message; !strings.Contains(m, "first at row 2") {
			t.Errorf("duplicate message %q does not name the first row", m)
		}
		if m := rep.Results[12].Errors[0].Message; !strings.Contains(m, "EUR") || !strings.Contains(m, "FR") {
			t.Errorf("currency message %q does not name the market's currency", m)
		}
		if errs := rep.RowErrors(); len(errs) != 37 || errs[0].Row != 5 || errs[0].Field != "code" || errs[1].OfferCode != "has space" {
			t.Errorf("row errors: %d %+v", len(errs), errs[:2])
		}

		// Stored normalized.
		de, err := w.svc.GetOffer(context.Background(), w.partnerActor(w.deOrg, csphub.RoleSalesAgent), rep.Results[1].OfferID)
		if err != nil {
			t.Fatal(err)
		}
		if de.Code != "CP-STD-DE-P1Y" || de.Market != "DE" || de.Currency != "EUR" || de.BillingCycle != "annual" || de.Term != "P1Y" ||
			de.PriceMinor != 11280 || !de.AvailableFrom.Equal(time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)) ||
			de.AvailableTo == nil || !de.AvailableTo.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || !de.UpdatedAt.Equal(w.clock.Now()) {
			t.Errorf("stored %+v", de)
		}
		// No available_from: from the time of the import.
		jp, err := w.svc.GetOffer(context.Background(), w.admin, rep.Results[2].OfferID)
		if err != nil || !jp.AvailableFrom.Equal(w.clock.Now()) || jp.AvailableTo != nil || jp.PriceMinor != 0 {
			t.Errorf("jp %+v %v", jp, err)
		}

		// One audit record per created offer, and one event.
		recs := w.audit("offer.")
		if len(recs) != 3 {
			t.Fatalf("%d audit records", len(recs))
		}
		for _, r := range recs {
			if r.Action != "offer.created" || r.ResourceType != "offer" || len(r.Before) != 0 || !strings.Contains(string(r.After), r.ResourceID) {
				t.Errorf("audit %+v", r)
			}
		}
		evs := w.events("catalog.imported")
		if len(evs) != 1 {
			t.Fatalf("events %+v", evs)
		}
		var data catalogImportEvent
		if err := json.Unmarshal(evs[0].Data, &data); err != nil || len(data.Created) != 3 || data.Refused != len(want) || data.Received != len(rows) {
			t.Errorf("event %s", evs[0].Data)
		}
	})
}

func TestImportCatalogUpdatesInPlace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		a, b := catalogRow(1, "CP-STD-FR-P1M"), catalogRow(2, "CP-STD-FR-P1Y")
		b.BillingCycle, b.Term, b.PriceMinor = "annual", "P1Y", price(11280)
		first := w.importCatalog(w.admin, a, b)
		if first.Created != 2 {
			t.Fatalf("first: %+v", first)
		}
		before, _ := w.svc.GetOffer(ctx, w.admin, first.Results[0].OfferID)

		// The same file again: nothing changes, nothing is recorded.
		w.clock.Advance(time.Hour)
		again := w.importCatalog(w.catalogManager(), a, b)
		if again.Unchanged != 2 || again.Created+again.Updated != 0 || again.Results[0].OfferID != first.Results[0].OfferID ||
			again.Results[1].Outcome != CatalogUnchanged {
			t.Fatalf("again: %+v", again)
		}
		// A new price, and an end date: updated, same id.
		a.PriceMinor, a.AvailableTo, a.MaxQuantity = price(1290), "2027-06-30", 500
		b.AvailableFrom = "" // an existing offer keeps its date
		w.clock.Advance(time.Hour)
		upd := w.importCatalog(w.catalogManager(), a, b)
		if upd.Updated != 1 || upd.Unchanged != 1 || upd.Results[0].Outcome != CatalogUpdated || upd.Results[0].OfferID != first.Results[0].OfferID {
			t.Fatalf("update: %+v", upd)
		}
		after, err := w.svc.GetOffer(ctx, w.admin, first.Results[0].OfferID)
		if err != nil || after.PriceMinor != 1290 || after.MaxQuantity != 500 || after.AvailableTo == nil || !after.UpdatedAt.Equal(w.clock.Now()) {
			t.Fatalf("after: %+v %v", after, err)
		}
		page, err := w.svc.ListOffers(ctx, w.admin, "", "", 10)
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("list: %+v %v", page, err)
		}
		// available_to before the date kept from the stored offer.
		b.AvailableTo = "2025-06-01"
		bad := w.importCatalog(w.admin, b)
		if bad.Refused != 1 || !slices.Equal(catalogCodes(bad.Results[0]), []string{"available_to:not_after_available_from"}) {
			t.Fatalf("bad end: %+v", bad)
		}

		recs := w.audit("offer.updated")
		if len(recs) != 1 || recs[0].ResourceID != after.ID {
			t.Fatalf("audit: %+v", recs)
		}
		var was, is csphub.Offer
		if json.Unmarshal(recs[0].Before, &was) != nil || json.Unmarshal(recs[0].After, &is) != nil ||
			was.PriceMinor != before.PriceMinor || is.PriceMinor != 1290 || was.ID != is.ID {
			t.Errorf("before %s after %s", recs[0].Before, recs[0].After)
		}
		if evs := w.events("catalog.imported"); len(evs) != 2 {
			t.Errorf("%d events, want 2 (nothing for the unchanged import)", len(evs))
		}
	})
}

func TestCatalogAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		row := catalogRow(1, "CP-STD-FR-P1M")
		for _, actor := range []csphub.Actor{
			w.reviewer,
			w.partnerActor(w.frOrg, csphub.RoleGlobalAdmin),
			w.partnerActor(w.frOrg, csphub.RoleCatalogManager), // a partner claiming the operator's role
			csphub.System("test"),
		} {
			_, err := w.svc.ImportCatalog(ctx, actor, []CatalogRow{row})
			wantKind(t, err, csphub.KindForbidden, "catalog_manager_required")
		}
		_, err := w.svc.ImportCatalog(ctx, w.admin, nil)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
		_, err = w.svc.ImportCatalog(ctx, w.admin, make([]CatalogRow, MaxCatalogImport+1))
		if e := wantKind(t, err, csphub.KindInvalid, "invalid_input"); e.Fields[0].Code != "too_many" {
			t.Errorf("too many: %+v", e)
		}
		rep := w.importCatalog(w.admin, row)

		// Partner and operator users read; customers and anonymous callers do not.
		for _, actor := range []csphub.Actor{w.partnerActor(w.frOrg, csphub.RoleHelpdeskAgent), w.reviewer, w.catalogManager()} {
			if p, err := w.svc.ListOffers(ctx, actor, "", "", 0); err != nil || len(p.Items) != 1 {
				t.Errorf("list as %s: %+v %v", actor.OrgID, p, err)
			}
			if _, err := w.svc.GetOffer(ctx, actor, rep.Results[0].OfferID); err != nil {
				t.Errorf("get: %v", err)
			}
		}
		cust, err := w.svc.Signup(ctx, SignupInput{Kind: "customer", OrgName: "Tailspin", Country: "FR", Domain: "tailspin.example",
			Name: "Admin Tailspin", Email: "admin@tailspin.example", Password: "correct horse battery staple", Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		customer := csphub.Actor{Kind: csphub.ActorUser, ID: cust.User.ID, OrgID: cust.Organization.ID, OrgKind: csphub.OrgCustomer,
			Roles: []string{csphub.RoleGlobalAdmin}}
		for _, actor := range []csphub.Actor{customer, {}, csphub.System("x")} {
			_, err := w.svc.ListOffers(ctx, actor, "", "", 10)
			wantKind(t, err, csphub.KindForbidden, "partner_required")
			_, err = w.svc.GetOffer(ctx, actor, rep.Results[0].OfferID)
			wantKind(t, err, csphub.KindForbidden, "partner_required")
		}
		partner := w.partnerActor(w.frOrg, csphub.RoleSalesAgent)
		_, err = w.svc.GetOffer(ctx, partner, csphub.NewID())
		wantKind(t, err, csphub.KindNotFound, "offer_not_found")
		_, err = w.svc.GetOffer(ctx, partner, "not an id")
		wantKind(t, err, csphub.KindNotFound, "offer_not_found")
	})
}

func TestListOffersByMarketInPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		var rows []CatalogRow
		for i, m := range []struct{ market, currency string }{{"FR", "EUR"}, {"DE", "EUR"}, {"GB", "GBP"}, {"JP", "JPY"}} {
			for j, product := range []string{"CLOUD-BACKUP", "CLOUD-SECURITY", "CLOUD-PRODUCTIVITY"} {
				r := catalogRow(i*3+j+1, product+"-"+m.market)
				r.ProductCode, r.Market, r.Currency = product, m.market, m.currency
				rows = append(rows, r)
			}
		}
		if rep := w.importCatalog(w.admin, rows...); rep.Created != 12 {
			t.Fatalf("import: %+v", rep)
		}
		partner := w.partnerActor(w.frOrg, csphub.RoleSalesAgent)
		var got []string
		token := ""
		for pages := 0; ; pages++ {
			p, err := w.svc.ListOffers(ctx, partner, "", token, 5)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Items {
				got = append(got, o.Code)
			}
			if p.NextPageToken == "" {
				if pages != 2 {
					t.Errorf("%d pages, want 3", pages+1)
				}
				break
			}
			token = p.NextPageToken
		}
		want := []string{"CLOUD-BACKUP-DE", "CLOUD-BACKUP-FR", "CLOUD-BACKUP-GB", "CLOUD-BACKUP-JP",
			"CLOUD-PRODUCTIVITY-DE", "CLOUD-PRODUCTIVITY-FR", "CLOUD-PRODUCTIVITY-GB", "CLOUD-PRODUCTIVITY-JP",
			"CLOUD-SECURITY-DE", "CLOUD-SECURITY-FR", "CLOUD-SECURITY-GB", "CLOUD-SECURITY-JP"}
		if !slices.Equal(got, want) {
			t.Errorf("pages: %v", got)
		}
		p, err := w.svc.ListOffers(ctx, partner, "gb", "", 2)
		if err != nil || len(p.Items) != 2 || p.Items[0].Code != "CLOUD-BACKUP-GB" || p.NextPageToken == "" {
			t.Fatalf("GB: %+v %v", p, err)
		}
		p, err = w.svc.ListOffers(ctx, partner, "GB", p.NextPageToken, 2)
		if err != nil || len(p.Items) != 1 || p.Items[0].Code != "CLOUD-SECURITY-GB" || p.NextPageToken != "" {
			t.Fatalf("GB page 2: %+v %v", p, err)
		}
		if p, err := w.svc.ListOffers(ctx, partner, "US", "", 10); err != nil || len(p.Items) != 0 {
			t.Fatalf("US: %+v %v", p, err)
		}
		_, err = w.svc.ListOffers(ctx, partner, "AQ", "", 10)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
		_, err = w.svc.ListOffers(ctx, partner, "XX", "", 10)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
		_, err = w.svc.ListOffers(ctx, partner, "", "garbage!", 10)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
	})
}
