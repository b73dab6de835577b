package catalogfile_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/catalogfile"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

func problems(r service.CatalogRow) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Field+":"+p.Code)
	}
	return out
}

func errCodes(errs []service.CatalogRowError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

const header = "code,product_code,product_name,sku_code,sku_name,market,currency,price_minor,billing_cycle,term,min_quantity,max_quantity,available_from,available_to\n"

func TestParseCSV(t *testing.T) {
	rows, errs := catalogfile.ParseCSV(strings.NewReader("\ufeff" + strings.ToUpper(header[:4]) + header[4:] +
		"CP-FR-P1M,CP,Cloud Productivity,CP-STD,Standard,FR,EUR,1170,monthly,P1M,1,300,2026-01-01,\n" +
		"CP-FR-P1Y, CP ,\"Cloud Productivity, yearly\",CP-STD,Standard,FR,EUR,12.50,annual,P1Y,one,,,\n" +
		"SHORT,CP,Cloud\n" +
		"CP-JP-P1M,CP,Cloud Productivity,CP-STD,Standard,JP,JPY,,monthly,P1M,1,300,,2027-01-01\n"))
	if !slices.Equal(errCodes(errs), []string{"row:wrong_field_count"}) || errs[0].Row != 4 || errs[0].OfferCode != "SHORT" {
		t.Fatalf("errors %+v", errs)
	}
	if len(rows) != 3 || rows[0].Row != 2 || rows[1].Row != 3 || rows[2].Row != 5 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Code != "CP-FR-P1M" || r.ProductName != "Cloud Productivity" || r.Market != "FR" || r.PriceMinor == nil || *r.PriceMinor != 1170 ||
		r.BillingCycle != "monthly" || r.Term != "P1M" || r.MinQuantity != 1 || r.MaxQuantity != 300 || r.AvailableFrom != "2026-01-01" ||
		r.AvailableTo != "" || len(r.Problems) != 0 {
		t.Errorf("row 2: %+v", r)
	}
	if r := rows[1]; r.ProductCode != "CP" || r.ProductName != "Cloud Productivity, yearly" || r.PriceMinor != nil ||
		!slices.Equal(problems(r), []string{"price_minor:invalid_number", "min_quantity:invalid_number", "max_quantity:required"}) {
		t.Errorf("row 3: %+v %v", r, problems(r))
	}
	if r := rows[2]; r.PriceMinor != nil || len(r.Problems) != 0 || r.AvailableTo != "2027-01-01" {
		t.Errorf("row 5: %+v", r)
	}

	// Optional columns may be left out, in any order.
	rows, errs = catalogfile.ParseCSV(strings.NewReader("term,code,product_code,product_name,sku_code,sku_name,market,currency,price_minor,billing_cycle,Min Quantity,max-quantity\n" +
		"P1M,A,P,Product,S,Sku,FR,EUR,0,monthly,1,1\n"))
	if len(errs) != 0 || len(rows) != 1 || rows[0].Term != "P1M" || *rows[0].PriceMinor != 0 || rows[0].MaxQuantity != 1 {
		t.Fatalf("reordered: %+v %+v", rows, errs)
	}
}

func TestParseCSVHeaderAndFileErrors(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"header:missing_header"}},
		{"unknown and missing", "code,price,code\n", append([]string{"header:unknown_column", "header:duplicate_column"},
			slices.Repeat([]string{"header:missing_column"}, 11)...)},
		{"malformed header", "code,\"product\n", []string{"row:malformed_row"}},
	} {
		rows, errs := catalogfile.ParseCSV(strings.NewReader(c.text))
		if len(rows) != 0 || !slices.Equal(errCodes(errs), c.want) {
			t.Errorf("%s: %v %v", c.name, rows, errCodes(errs))
		}
		for _, e := range errs {
			if e.Row != 1 || e.Message == "" {
				t.Errorf("%s: %+v", c.name, e)
			}
		}
	}
	_, errs := catalogfile.ParseCSV(strings.NewReader("price_minor\n"))
	if len(errs) != 11 || !strings.Contains(errs[0].Message, "lacks the column code") {
		t.Errorf("missing: %+v", errs)
	}
	// A malformed row after the header is reported, and reading goes on.
	rows, errs := catalogfile.ParseCSV(strings.NewReader(header +
		"A,P,\"Pro\"duct,S,Sku,FR,EUR,1,monthly,P1M,1,1,,\n" +
		"B,P,Product,S,Sku,FR,EUR,1,monthly,P1M,1,1,,\n"))
	if len(rows) != 1 || rows[0].Code != "B" || !slices.Equal(errCodes(errs), []string{"row:malformed_row"}) || errs[0].Row != 2 {
		t.Errorf("malformed row: %+v %+v", rows, errs)
	}
}

func TestParseYAML(t *testing.T) {
	rows, errs := catalogfile.ParseYAML(strings.NewReader(`# a comment
- code: CP-FR-P1M
  product_code: CP
  product_name: Cloud Productivity
  sku_code: CP-STD
  sku_name: Standard
  market: FR
  currency: EUR
  price_minor: 1170
  billing_cycle: monthly
  term: P1M
  min_quantity: 1
  max_quantity: 300
  available_from: 2026-01-01
  available_to: 2027-01-01T00:00:00Z
- {code: 42, price_minor: 12.5, min_quantity: "3", colour: blue, market: [FR], max_quantity: ~}
- just a string
- code: B
  code: C
  price_minor: "1250"
  Min-Quantity: 2
`))
	if !slices.Equal(errCodes(errs), []string{"row:not_a_mapping"}) || errs[0].Row != 17 {
		t.Fatalf("errors %+v", errs)
	}
	if len(rows) != 3 || rows[0].Row != 2 || rows[1].Row != 16 || rows[2].Row != 18 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Code != "CP-FR-P1M" || r.SKUName != "Standard" || *r.PriceMinor != 1170 || r.MinQuantity != 1 || r.MaxQuantity != 300 ||
		r.AvailableFrom != "2026-01-01" || r.AvailableTo != "2027-01-01T00:00:00Z" || len(r.Problems) != 0 {
		t.Errorf("item 1: %+v", r)
	}
	if r := rows[1]; r.Code != "42" || r.PriceMinor != nil || r.MinQuantity != 3 ||
		!slices.Equal(problems(r), []string{"colour:unknown_field", "market:invalid_value", "price_minor:invalid_number", "max_quantity:required"}) {
		t.Errorf("item 2: %+v %v", r, problems(r))
	}
	if r := rows[2]; r.Code != "B" || *r.PriceMinor != 1250 || r.MinQuantity != 2 ||
		!slices.Equal(problems(r), []string{"code:duplicate_field", "max_quantity:required"}) {
		t.Errorf("item 3: %+v %v", r, problems(r))
	}

	for _, c := range []struct {
		name, text, want string
		line             int
	}{
		{"empty", "", "file:empty", 1},
		{"empty list", "[]\n", "file:empty", 1},
		{"mapping", "code: A\n", "file:not_a_list", 1},
		{"syntax", "- code: A\n  market: [FR\n- code: B\n", "file:invalid_yaml", 0},
		{"tabs", "- code: A\n\t- market: FR\n", "file:invalid_yaml", 2},
	} {
		rows, errs := catalogfile.ParseYAML(strings.NewReader(c.text))
		if len(rows) != 0 || len(errs) != 1 || errCodes(errs)[0] != c.want || (c.line > 0 && errs[0].Row != c.line) || errs[0].Message == "" {
			t.Errorf("%s: %+v %+v", c.name, rows, errs)
		}
	}
}

func TestParseChoosesTheFormatByName(t *testing.T) {
	if rows, errs := catalogfile.Parse("offers.CSV", strings.NewReader(header+"A,P,Product,S,Sku,FR,EUR,1,monthly,P1M,1,1,,\n")); len(rows) != 1 || len(errs) != 0 {
		t.Errorf("csv: %v %v", rows, errs)
	}
	for _, name := range []string{"offers.yaml", "dir/offers.yml"} {
		if rows, errs := catalogfile.Parse(name, strings.NewReader("- code: A\n")); len(rows) != 1 || len(errs) != 0 {
			t.Errorf("%s: %v %v", name, rows, errs)
		}
	}
	if _, errs := catalogfile.Parse("offers.xlsx", strings.NewReader("")); !slices.Equal(errCodes(errs), []string{"file:unknown_format"}) {
		t.Errorf("xlsx: %v", errs)
	}
}

func TestSampleCatalogue(t *testing.T) {
	rows, err := catalogfile.Sample()
	if err != nil {
		t.Fatal(err)
	}
	markets := map[string]string{}
	products := map[string]bool{}
	terms := map[string]int{}
	for _, r := range rows {
		if len(r.Problems) != 0 {
			t.Errorf("row %d: %v", r.Row, r.Problems)
		}
		if c, ok := markets[r.Market]; ok && c != r.Currency {
			t.Errorf("%s priced in %s and %s", r.Market, c, r.Currency)
		}
		markets[r.Market] = r.Currency
		products[r.ProductName] = true
		terms[r.BillingCycle+" "+r.Term]++
	}
	want := map[string]string{"FR": "EUR", "DE": "EUR", "ES": "EUR", "IT": "EUR", "NL": "EUR", "BE": "EUR", "GB": "GBP", "CH": "CHF",
		"US": "USD", "CA": "CAD", "AU": "AUD", "JP": "JPY"}
	if len(markets) != len(want) {
		t.Errorf("markets %v", markets)
	}
	for m, c := range want {
		if markets[m] != c {
			t.Errorf("%s: %q, want %s", m, markets[m], c)
		}
	}
	if len(products) < 3 || len(products) > 4 || terms["monthly P1M"] == 0 || terms["annual P1Y"] != terms["monthly P1M"] ||
		len(terms) != 2 {
		t.Errorf("products %v terms %v", products, terms)
	}

	// It imports cleanly on both engines, and importing it again changes nothing.
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := testdb.Open(t, engine, csphub.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)))
		svc := service.New(db, nil, service.Options{})
		op, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
		if err != nil {
			t.Fatal(err)
		}
		actor := csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: op.ID, OrgKind: csphub.OrgOperator,
			Roles: []string{csphub.RoleCatalogManager}, MFAPassed: true}
		rep, err := svc.ImportCatalog(ctx, actor, rows)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != len(rows) || rep.Refused != 0 {
			t.Fatalf("sample: %+v", rep.RowErrors())
		}
		again, err := svc.ImportCatalog(ctx, actor, rows)
		if err != nil || again.Unchanged != len(rows) {
			t.Fatalf("again: %+v %v", again, err)
		}
		page, err := svc.ListOffers(ctx, actor, "JP", "", 100)
		if err != nil || len(page.Items) != len(rows)/len(want) {
			t.Fatalf("JP: %d %v", len(page.Items), err)
		}
		for _, o := range page.Items {
			if o.Currency != "JPY" || o.PriceMinor < 100 || !o.AvailableAt(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("JP offer %+v", o)
			}
		}
	})
}
