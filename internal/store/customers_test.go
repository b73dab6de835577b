package store_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"csphub/internal/store"
	"csphub/internal/testdb"
)

// A provider's page of 100 customers, among 100,000 customers in the
// database, is one range of the customer_relationships_by_name index read
// in order: no scan of the table, no sort, and (PostgreSQL, which counts)
// no more rows read than the page holds plus one.
func TestCustomerListIsServedByAnIndex(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := testdb.Open(t, engine, nil)
		providerA, providerB := "01900000-0000-7000-a000-00000000000a", "01900000-0000-7000-a000-00000000000b"
		if err := db.SeedCustomersForTest(ctx, providerA, providerB, 100_000, 60_000); err != nil {
			t.Fatal(err)
		}
		page, err := readPage(db, store.CustomerFilter{PartnerID: providerA}, nil)
		if err != nil || len(page) != 101 {
			t.Fatalf("first page: %d rows, %v", len(page), err)
		}
		second, err := readPage(db, store.CustomerFilter{PartnerID: providerA},
			&store.CustomerKeyset{Name: page[99].NameKey, ID: page[99].ID})
		if err != nil || len(second) != 101 || second[0].ID != page[100].ID {
			t.Fatalf("second page does not start after the first: %v", err)
		}
		for i := 1; i < len(page); i++ {
			if page[i-1].NameKey >= page[i].NameKey {
				t.Fatalf("not in name order at %d: %q, %q", i, page[i-1].NameKey, page[i].NameKey)
			}
		}

		for _, c := range []struct {
			name  string
			f     store.CustomerFilter
			after *store.CustomerKeyset
			index string
		}{
			{"by name", store.CustomerFilter{PartnerID: providerA}, nil, "customer_relationships_by_name"},
			{"by name, a later page", store.CustomerFilter{PartnerID: providerA}, &store.CustomerKeyset{Name: page[99].NameKey, ID: page[99].ID}, "customer_relationships_by_name"},
			{"by name, searched", store.CustomerFilter{PartnerID: providerA, Prefix: "Customer 00"}, nil, "customer_relationships_by_name"},
			{"by date", store.CustomerFilter{PartnerID: providerA, Sort: store.CustomersByDate}, nil, "customer_relationships_by_date"},
		} {
			plan, err := db.CustomerListPlanForTest(ctx, c.f, c.after, 101)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s:\n%s", c.name, plan)
			if !strings.Contains(plan, c.index) {
				t.Errorf("%s: the plan does not use %s:\n%s", c.name, c.index, plan)
			}
			if engine == "sqlite" {
				if strings.Contains(plan, "TEMP B-TREE") || regexp.MustCompile(`SCAN (s|o)\b`).MatchString(plan) {
					t.Errorf("%s: the plan scans or sorts:\n%s", c.name, plan)
				}
				continue
			}
			if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") {
				t.Errorf("%s: the plan scans or sorts:\n%s", c.name, plan)
			}
			// The index node reads at most the page and the one row that
			// tells whether another page follows (more when the search
			// skips rows of the range).
			m := regexp.MustCompile(`Index (Only )?Scan[^\n]*` + c.index + `[^\n]*rows=(\d+)`).FindStringSubmatch(plan)
			if m == nil {
				t.Fatalf("%s: no row count for the index scan:\n%s", c.name, plan)
			}
			limit := 101
			if c.f.Prefix != "" {
				limit = 2000
			}
			if n, _ := strconv.Atoi(m[2]); n > limit {
				t.Errorf("%s: the index scan read %d rows for a page of 101:\n%s", c.name, n, plan)
			}
		}
	})
}

func readPage(db *store.DB, f store.CustomerFilter, after *store.CustomerKeyset) ([]store.CustomerRow, error) {
	var rows []store.CustomerRow
	err := db.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		rows, err = tx.Customers(f, after, 101)
		return err
	})
	return rows, err
}
