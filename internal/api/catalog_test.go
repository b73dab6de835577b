package api_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

const catalogPath = "/api/v1/operator/catalog"

func offerItem(code, market, currency string, price int64) map[string]any {
	return map[string]any{"code": code, "product_code": "CLOUD-BACKUP", "product_name": "Cloud Backup", "sku_code": "CB-1TB",
		"sku_name": "Cloud Backup 1 TB", "market": market, "currency": currency, "price_minor": price, "billing_cycle": "monthly",
		"term": "P1M", "min_quantity": 1, "max_quantity": 1000, "available_from": "2026-01-01"}
}

func catalogBody(items ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"rows": items})
	return string(b)
}

func TestCatalogAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newPIDEnv(t, engine, 1<<16)
		body := catalogBody(
			offerItem("CB-FR-P1M", "FR", "EUR", 840),
			offerItem("CB-GB-P1M", "GB", "GBP", 720),
			offerItem("CB-CH-P1M", "CH", "EUR", 830),
			offerItem("CB-FR-P1M", "FR", "EUR", 850),
			map[string]any{"code": "CB-XX"},
		)
		// Partners, even claiming the operator's role, and reviewers are refused.
		wantProblem(t, e.do("POST", catalogPath, e.partner, body), 403, "missing_role")
		wantProblem(t, e.do("POST", catalogPath, e.reviewer, body), 403, "missing_role")
		wantProblem(t, e.do("POST", catalogPath, e.forged, body), 403, "catalog_manager_required")
		wantProblem(t, e.do("POST", catalogPath, "", body), 401, "unauthenticated")

		r := e.do("POST", catalogPath, e.catalog, body)
		if r.status != 200 {
			t.Fatalf("import: %d %s", r.status, r.body)
		}
		var rep service.CatalogReport
		r.json(t, &rep)
		if rep.Created != 2 || rep.Refused != 3 || len(rep.Results) != 5 {
			t.Fatalf("report: %s", r.body)
		}
		want := [][]string{nil, nil, {"currency:currency_mismatch"}, {"code:duplicate_in_batch"},
			{"product_code:required", "product_name:required", "sku_code:required", "sku_name:required", "market:required",
				"currency:required", "price_minor:required", "billing_cycle:required", "term:required", "min_quantity:too_small", "max_quantity:too_small"}}
		for i, res := range rep.Results {
			var got []string
			for _, fe := range res.Errors {
				got = append(got, fe.Field+":"+fe.Code)
			}
			if res.Row != i+1 || !slices.Equal(got, want[i]) || (want[i] == nil) != (res.Outcome == "created") {
				t.Errorf("row %d: %+v, want %v", i+1, res, want[i])
			}
		}
		// Again, by an operator admin, with a new price: updated in place.
		r = e.do("POST", catalogPath, e.admin, catalogBody(offerItem("CB-FR-P1M", "FR", "EUR", 860), offerItem("CB-GB-P1M", "GB", "GBP", 720)))
		var again service.CatalogReport
		r.json(t, &again)
		if r.status != 200 || again.Updated != 1 || again.Unchanged != 1 || again.Results[0].OfferID != rep.Results[0].OfferID {
			t.Fatalf("again: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("POST", catalogPath, e.admin, `{"rows":[]}`), 422, "invalid_input")

		// Any partner or operator user reads the offers.
		for _, tok := range []string{e.partner, e.reviewer} {
			r = e.do("GET", "/api/v1/offers", tok, "")
			var page service.OfferPage
			r.json(t, &page)
			if r.status != 200 || len(page.Items) != 2 || page.Items[0].Code != "CB-FR-P1M" || page.Items[0].PriceMinor != 860 {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
		}
		r = e.do("GET", "/api/v1/offers?market=GB&page_size=1", e.partner, "")
		var page service.OfferPage
		r.json(t, &page)
		if r.status != 200 || len(page.Items) != 1 || page.Items[0].Currency != "GBP" || page.NextPageToken != "" {
			t.Fatalf("GB: %d %s", r.status, r.body)
		}
		r = e.do("GET", "/api/v1/offers?page_size=1", e.partner, "")
		r.json(t, &page)
		if page.NextPageToken == "" {
			t.Fatalf("page 1: %s", r.body)
		}
		r = e.do("GET", "/api/v1/offers?page_size=1&page_token="+url.QueryEscape(page.NextPageToken), e.partner, "")
		var page2 service.OfferPage
		r.json(t, &page2)
		if r.status != 200 || len(page2.Items) != 1 || page2.Items[0].Code != "CB-GB-P1M" || page2.NextPageToken != "" {
			t.Fatalf("page 2: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("GET", "/api/v1/offers?market=AQ", e.partner, ""), 422, "invalid_input")
		wantProblem(t, e.do("GET", "/api/v1/offers?page_token=nope", e.partner, ""), 422, "invalid_input")
		wantProblem(t, e.do("GET", "/api/v1/offers", "", ""), 401, "unauthenticated")

		r = e.do("GET", "/api/v1/offers/"+rep.Results[1].OfferID, e.partner, "")
		var o csphub.Offer
		r.json(t, &o)
		if r.status != 200 || o.Code != "CB-GB-P1M" || o.Market != "GB" || o.ID != rep.Results[1].OfferID {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		wantProblem(t, e.do("GET", "/api/v1/offers/"+csphub.NewID(), e.partner, ""), 404, "offer_not_found")
		wantProblem(t, e.do("GET", "/api/v1/offers/"+rep.Results[1].OfferID, "", ""), 401, "unauthenticated")
	})
}
