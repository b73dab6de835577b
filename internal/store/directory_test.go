package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// directoryWorld is a database with partners in several regions, some of
// them approved indirect providers with listings.
type directoryWorld struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	clock *csphub.ManualClock
	next  int
}

func newDirectoryWorld(t *testing.T, engine string) *directoryWorld {
	clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	return &directoryWorld{t: t, ctx: context.Background(), db: testdb.Open(t, engine, clock), clock: clock, next: 2000000}
}

func (w *directoryWorld) write(fn func(tx *store.Tx) error) {
	w.t.Helper()
	if err := w.db.Write(w.ctx, fn); err != nil {
		w.t.Fatal(err)
	}
}

// partner stores a partner with a profile in country and, when program is
// set, an enrollment of that program in state.
func (w *directoryWorld) partner(name, country string, enrollments map[csphub.Program]csphub.EnrollmentState) csphub.PartnerProfile {
	w.t.Helper()
	w.next++
	id := fmt.Sprint(w.next)
	insertPartnerIDRow(w.t, w.db, id, country)
	p := enrolledOrg(w.t, w.db, name, country, id)
	w.write(func(tx *store.Tx) error {
		for program, state := range enrollments {
			if err := tx.InsertEnrollment(csphub.Enrollment{ID: csphub.NewID(), OrgID: p.OrgID, Program: program, State: state,
				Country: country, SubmittedAt: tx.Now(), DueAt: tx.Now(), UpdatedAt: tx.Now(), Version: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	return p
}

var approvedProvider = map[csphub.Program]csphub.EnrollmentState{
	csphub.ProgramIndirectReseller: csphub.EnrollmentApproved, csphub.ProgramIndirectProvider: csphub.EnrollmentApproved}

// provider stores an approved provider authorized for regions, with a
// listing published or not.
func (w *directoryWorld) provider(name, country string, published bool, services []string, regions ...string) csphub.PartnerProfile {
	w.t.Helper()
	p := w.partner(name, country, approvedProvider)
	w.write(func(tx *store.Tx) error {
		if err := tx.ReplaceProviderRegions(p.OrgID, regions, "operator"); err != nil {
			return err
		}
		ok, err := tx.SaveProviderListing(store.Listing{OrgID: p.OrgID, Published: published, Description: "About " + name,
			ContactEmail: "partners@" + p.OrgID[:8] + ".example", Languages: []string{"en"}, Services: services,
			Markets: []string{}, UpdatedAt: tx.Now(), Version: 1}, 0)
		if !ok && err == nil {
			err = fmt.Errorf("listing of %s not inserted", name)
		}
		return err
	})
	return p
}

func (w *directoryWorld) search(f store.DirectoryFilter, after *store.DirectoryKeyset, limit int) []store.DirectoryEntry {
	w.t.Helper()
	var out []store.DirectoryEntry
	if err := w.db.Read(w.ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.DirectoryProviders(f, after, limit)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func names(list []store.DirectoryEntry) []string {
	out := []string{}
	for _, e := range list {
		out = append(out, e.Name)
	}
	return out
}

func TestProviderListingRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirectoryWorld(t, engine)
		p := w.partner("Contoso SAS", "FR", approvedProvider)
		w.write(func(tx *store.Tx) error {
			l, ok, err := tx.ProviderListing(p.OrgID, true)
			if err != nil || ok || l.Version != 0 || len(l.Languages) != 0 || l.Languages == nil {
				t.Fatalf("no listing yet: %+v %v %v", l, ok, err)
			}
			l = store.Listing{OrgID: p.OrgID, Published: true, Description: "Line one\nline two", Website: "https://contoso.example",
				ContactEmail: "partners@contoso.example", ContactPhone: "+33123456789", Languages: []string{"fr", "en"},
				Services: []string{"technical_training", "financing"}, Markets: []string{"BE", "FR"}, UpdatedAt: tx.Now(), Version: 1}
			if ok, err := tx.SaveProviderListing(l, 0); err != nil || !ok {
				t.Fatalf("insert: %v %v", ok, err)
			}
			// A second first save loses: the listing exists.
			if ok, err := tx.SaveProviderListing(l, 0); err != nil || ok {
				t.Fatalf("insert twice: %v %v", ok, err)
			}
			got, ok, err := tx.ProviderListing(p.OrgID, false)
			if err != nil || !ok || got.Description != l.Description || !slices.Equal(got.Languages, []string{"fr", "en"}) ||
				!slices.Equal(got.Markets, []string{"BE", "FR"}) || !got.Published || !got.UpdatedAt.Equal(tx.Now()) {
				t.Fatalf("read back: %+v %v %v", got, ok, err)
			}
			l.Version, l.Published, l.Services = 2, false, []string{}
			if ok, err := tx.SaveProviderListing(l, 1); err != nil || !ok {
				t.Fatalf("update: %v %v", ok, err)
			}
			// A stale version loses.
			if ok, err := tx.SaveProviderListing(l, 1); err != nil || ok {
				t.Fatalf("stale update: %v %v", ok, err)
			}
			got, _, _ = tx.ProviderListing(p.OrgID, false)
			if got.Version != 2 || got.Published || len(got.Services) != 0 {
				t.Fatalf("after update: %+v", got)
			}
			return nil
		})
	})
}

func TestDirectorySearch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirectoryWorld(t, engine)
		training, support := []string{"technical_training"}, []string{"technical_support", "marketing_help"}
		w.provider("Alpine Distribution", "DE", true, training, "north_america")
		w.provider("Bravo Cloud", "FR", true, support, "europe")
		w.provider("Charlie IT", "FR", true, training, "europe", "asia_pacific")
		w.provider("Delta Hidden", "FR", false, training, "europe") // not published
		w.provider("Echo Partners", "US", true, support, "north_america")
		// A published listing whose provider membership is no longer approved.
		lapsed := w.partner("Foxtrot Lapsed", "FR", map[csphub.Program]csphub.EnrollmentState{
			csphub.ProgramIndirectReseller: csphub.EnrollmentApproved, csphub.ProgramIndirectProvider: csphub.EnrollmentInReview})
		w.write(func(tx *store.Tx) error {
			_, err := tx.SaveProviderListing(store.Listing{OrgID: lapsed.OrgID, Published: true, Languages: []string{}, Services: training,
				Markets: []string{}, UpdatedAt: tx.Now(), Version: 1}, 0)
			return err
		})

		all := w.search(store.DirectoryFilter{}, nil, 10)
		if got := names(all); !slices.Equal(got, []string{"Alpine Distribution", "Bravo Cloud", "Charlie IT", "Echo Partners"}) {
			t.Fatalf("everyone: %v", got)
		}
		if !slices.Equal(all[2].Regions, []string{"asia_pacific", "europe"}) || all[2].PartnerID == "" || all[2].Country != "FR" || all[0].InHomeRegion {
			t.Fatalf("entry: %+v", all[2])
		}

		// Providers of the home region first, each group by name.
		home := w.search(store.DirectoryFilter{HomeRegion: "europe"}, nil, 10)
		if got := names(home); !slices.Equal(got, []string{"Bravo Cloud", "Charlie IT", "Alpine Distribution", "Echo Partners"}) {
			t.Fatalf("home region first: %v", got)
		}
		if !home[0].InHomeRegion || !home[1].InHomeRegion || home[2].InHomeRegion {
			t.Fatalf("in home region: %+v", home)
		}
		// Keyset pages of one, across the boundary between the groups.
		var paged []string
		var after *store.DirectoryKeyset
		for i := 0; i < 6; i++ {
			page := w.search(store.DirectoryFilter{HomeRegion: "europe"}, after, 1)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page[0].Name)
			rank := 1
			if page[0].InHomeRegion {
				rank = 0
			}
			after = &store.DirectoryKeyset{Rank: rank, Name: page[0].Name, ID: page[0].OrgID}
		}
		if !slices.Equal(paged, names(home)) {
			t.Fatalf("paged: %v", paged)
		}

		if got := names(w.search(store.DirectoryFilter{Region: "north_america", HomeRegion: "europe"}, nil, 10)); !slices.Equal(got, []string{"Alpine Distribution", "Echo Partners"}) {
			t.Fatalf("by region: %v", got)
		}
		if got := w.search(store.DirectoryFilter{Region: "asia_pacific", HomeRegion: "europe"}, nil, 10); len(got) != 1 || !got[0].InHomeRegion {
			t.Fatalf("a region filter still tells the home region: %+v", got)
		}
		if got := names(w.search(store.DirectoryFilter{Service: "technical_support"}, nil, 10)); !slices.Equal(got, []string{"Bravo Cloud", "Echo Partners"}) {
			t.Fatalf("by service: %v", got)
		}
		// "_" is no wildcard: a service is matched whole.
		if got := w.search(store.DirectoryFilter{Service: "technical"}, nil, 10); len(got) != 0 {
			t.Fatalf("partial service: %v", names(got))
		}
		if got := names(w.search(store.DirectoryFilter{Prefix: "CH"}, nil, 10)); !slices.Equal(got, []string{"Charlie IT"}) {
			t.Fatalf("by name prefix: %v", got)
		}
		if got := names(w.search(store.DirectoryFilter{Prefix: all[3].PartnerID}, nil, 10)); !slices.Equal(got, []string{"Echo Partners"}) {
			t.Fatalf("by partner ID: %v", got)
		}
		if got := w.search(store.DirectoryFilter{Prefix: "%"}, nil, 10); len(got) != 0 {
			t.Fatalf("wildcard prefix: %v", names(got))
		}

		// One provider by id: published and approved only.
		w.write(func(tx *store.Tx) error {
			if e, err := tx.DirectoryProvider(all[2].OrgID); err != nil || e.Name != "Charlie IT" || len(e.Regions) != 2 {
				t.Fatalf("provider: %+v %v", e, err)
			}
			if _, err := tx.DirectoryProvider(lapsed.OrgID); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Fatalf("lapsed provider: %v", err)
			}
			return nil
		})
	})
}

func TestContactRequestRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirectoryWorld(t, engine)
		provider := w.provider("Bravo Cloud", "FR", true, []string{"financing"}, "europe")
		other := w.provider("Charlie IT", "FR", true, []string{"financing"}, "europe")
		reseller := w.partner("Contoso SAS", "FR", map[csphub.Program]csphub.EnrollmentState{csphub.ProgramIndirectReseller: csphub.EnrollmentApproved})
		userID := csphub.NewID()
		w.write(func(tx *store.Tx) error {
			return tx.InsertUser(store.UserRecord{User: csphub.User{ID: userID, OrgID: reseller.OrgID, Email: "jeanne@contoso.example",
				Name: "Jeanne Martin", Lang: "fr", Status: csphub.UserActive, Roles: []string{csphub.RoleSalesAgent}, CreatedAt: tx.Now()}})
		})
		var ids []string
		for i := 0; i < 3; i++ {
			w.write(func(tx *store.Tx) error {
				id := csphub.NewID()
				ids = append(ids, id)
				return tx.InsertContactRequest(store.ContactRequest{ID: id, ProviderID: provider.OrgID, ResellerID: reseller.OrgID,
					UserID: userID, Message: fmt.Sprint("message ", i), CreatedAt: tx.Now()})
			})
			w.clock.Advance(time.Hour)
		}
		w.write(func(tx *store.Tx) error {
			// A token's request: no sender name.
			return tx.InsertContactRequest(store.ContactRequest{ID: csphub.NewID(), ProviderID: other.OrgID, ResellerID: reseller.OrgID,
				UserID: csphub.NewID(), Message: "to the other provider", CreatedAt: tx.Now()})
		})
		w.write(func(tx *store.Tx) error {
			n, oldest, err := tx.ContactRequestsSince(reseller.OrgID, tx.Now().Add(-150*time.Minute))
			if err != nil || n != 3 || !oldest.Equal(tx.Now().Add(-2*time.Hour)) {
				t.Fatalf("since: %d %v %v", n, oldest, err)
			}
			if n, _, err := tx.ContactRequestsSince(provider.OrgID, time.Time{}); err != nil || n != 0 {
				t.Fatalf("the provider sent none: %d %v", n, err)
			}

			// Newest first, in keyset pages.
			page, err := tx.ContactRequests(provider.OrgID, nil, 2)
			if err != nil || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] {
				t.Fatalf("first page: %+v %v", page, err)
			}
			if r := page[0]; r.ResellerName != "Contoso SAS" || r.ResellerPartnerID != reseller.PartnerID || r.SenderName != "Jeanne Martin" ||
				r.SenderEmail != "jeanne@contoso.example" || r.Message != "message 2" || r.ReadAt != nil {
				t.Fatalf("row: %+v", r)
			}
			rest, err := tx.ContactRequests(provider.OrgID, &store.Keyset{At: page[1].CreatedAt, ID: page[1].ID}, 2)
			if err != nil || len(rest) != 1 || rest[0].ID != ids[0] {
				t.Fatalf("second page: %+v %v", rest, err)
			}
			theirs, err := tx.ContactRequests(other.OrgID, nil, 10)
			if err != nil || len(theirs) != 1 || theirs[0].SenderName != "" {
				t.Fatalf("other inbox: %+v %v", theirs, err)
			}

			// Another provider's request is not found in this inbox.
			if _, err := tx.ContactRequestOf(provider.OrgID, theirs[0].ID); csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Fatalf("cross-tenant read: %v", err)
			}
			if ok, err := tx.MarkContactRequestRead(provider.OrgID, theirs[0].ID); err != nil || ok {
				t.Fatalf("cross-tenant mark: %v %v", ok, err)
			}
			if ok, err := tx.MarkContactRequestRead(provider.OrgID, ids[0]); err != nil || !ok {
				t.Fatalf("mark: %v %v", ok, err)
			}
			if ok, err := tx.MarkContactRequestRead(provider.OrgID, ids[0]); err != nil || ok {
				t.Fatalf("mark twice: %v %v", ok, err)
			}
			r, err := tx.ContactRequestOf(provider.OrgID, ids[0])
			if err != nil || r.ReadAt == nil || !r.ReadAt.Equal(tx.Now()) {
				t.Fatalf("read at: %+v %v", r, err)
			}
			return nil
		})
	})
}

func TestBusinessProfileRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newDirectoryWorld(t, engine)
		p := w.partner("Contoso SAS", "FR", nil)
		w.write(func(tx *store.Tx) error {
			b, ok, err := tx.BusinessProfileOf(p.OrgID, true)
			if err != nil || ok || b.Version != 0 || b.Industries == nil {
				t.Fatalf("none yet: %+v %v %v", b, ok, err)
			}
			b = store.BusinessProfile{OrgID: p.OrgID, Description: "We sell", Website: "https://contoso.example",
				Industries: []string{"education", "retail"}, UpdatedAt: tx.Now(), Version: 1}
			if ok, err := tx.SaveBusinessProfile(b, 0); err != nil || !ok {
				t.Fatalf("insert: %v %v", ok, err)
			}
			if ok, err := tx.SaveBusinessProfile(b, 0); err != nil || ok {
				t.Fatalf("insert twice: %v %v", ok, err)
			}
			b.Version, b.Industries = 2, []string{}
			if ok, err := tx.SaveBusinessProfile(b, 1); err != nil || !ok {
				t.Fatalf("update: %v %v", ok, err)
			}
			if ok, err := tx.SaveBusinessProfile(b, 1); err != nil || ok {
				t.Fatalf("stale: %v %v", ok, err)
			}
			got, ok, err := tx.BusinessProfileOf(p.OrgID, false)
			if err != nil || !ok || got.Version != 2 || len(got.Industries) != 0 || got.Website != "https://contoso.example" {
				t.Fatalf("read back: %+v %v %v", got, ok, err)
			}
			return nil
		})
	})
}
