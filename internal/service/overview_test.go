package service_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// ovWorld is an oWorld with more to count: a second customer, both
// customers shared with the two resellers, three orders (one older than
// 30 days), a cancelled subscription, open and expired invitations of
// resellers and of customers.
type ovWorld struct {
	*oWorld
	cust2 customer
}

func newOvWorld(t *testing.T, engine string) *ovWorld {
	t.Helper()
	w := &ovWorld{oWorld: newOWorld(t, engine)}
	w.cust2 = w.customer("Tailwind", "FR")
	w.link(w.prov, w.res, w.cust2)
	// The same customer through the other reseller is still one customer
	// of the provider.
	w.link(w.prov, w.res2, w.cust)
	monthly := w.offer("FR", "EUR", csphub.TermMonth, 1, 100)
	yearly := w.offer("FR", "EUR", csphub.TermYear, 1, 100)
	old := w.mustPlace(w.sales, w.cust.org.ID, oLine(monthly, 1, w.res))
	w.exec(`UPDATE orders SET created_at = ? WHERE id = ?`, w.clock.Now().AddDate(0, 0, -31), old.ID)
	w.mustPlace(w.sales, w.cust.org.ID, oLine(monthly, 2, w.res), oLine(yearly, 3, w.res2))
	o := w.mustPlace(w.sales, w.cust2.org.ID, oLine(yearly, 5, w.res))
	cancelled := "cancelled"
	if _, err := w.svc.UpdateSubscription(w.ctx, w.prov.agent, o.Lines[0].SubscriptionID, service.SubscriptionChange{Status: &cancelled}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	// Reseller invitations: one open, one past its expiry that the expiry
	// job has not reached yet.
	w.invite(w.prov.agent, "open@litware.example", "")
	expired, _ := w.invite(w.prov.agent, "late@litware.example", "")
	w.exec(`UPDATE partnerships SET expires_at = ? WHERE id = ?`, w.clock.Now().Add(-time.Minute), expired.ID)
	// Customer invitations of the first reseller: the same.
	w.inviteCustomer(w.res.agent, service.InviteCustomerInput{ProviderID: w.prov.org.ID, Email: "it@adventure.example"})
	late, _ := w.inviteCustomer(w.res.agent, service.InviteCustomerInput{ProviderID: w.prov.org.ID, Email: "it@wingtip.example"})
	w.exec(`UPDATE customer_invitations SET expires_at = ? WHERE id = ?`, w.clock.Now().Add(-time.Minute), late.ID)
	return w
}

func (w *ovWorld) overview(actor csphub.Actor) service.PartnerOverview {
	w.t.Helper()
	o, err := w.svc.PartnerOverview(w.ctx, actor)
	if err != nil {
		w.t.Fatalf("overview: %v", err)
	}
	return o
}

func TestPartnerOverviewFigures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOvWorld(t, engine)
		since := w.clock.Now().AddDate(0, 0, -30)

		// The provider (an approved reseller too, with no provider of its
		// own): two active resellers, one invitation still open, the two
		// customers once each, four subscriptions of which one is
		// cancelled, two orders in the last 30 days.
		got := w.overview(w.prov.agent).Figures
		want := &service.PartnerFigures{Provider: true, ActiveResellers: 2, OpenPartnerInvitations: 1, RecentOrders: 2,
			Customers: 2, ActiveSubscriptions: 3, OrdersSince: since}
		if got == nil || *got != *want {
			t.Errorf("provider's figures = %+v, want %+v", got, want)
		}
		// The first reseller: its provider, both customers, one customer
		// invitation still open, the subscriptions naming it; it orders
		// nothing itself.
		got = w.overview(w.res.ga).Figures
		want = &service.PartnerFigures{Reseller: true, ActiveProviders: 1, PendingCustomerInvitations: 1, Customers: 2,
			ActiveSubscriptions: 2, OrdersSince: since}
		if got == nil || *got != *want {
			t.Errorf("reseller's figures = %+v, want %+v", got, want)
		}
		got = w.overview(w.res2.agent).Figures
		want = &service.PartnerFigures{Reseller: true, ActiveProviders: 1, Customers: 1, ActiveSubscriptions: 1, OrdersSince: since}
		if got == nil || *got != *want {
			t.Errorf("second reseller's figures = %+v, want %+v", got, want)
		}
		// Suspending the relationship makes it no longer active.
		w.exec(`UPDATE partnerships SET state = 'suspended' WHERE provider_id = ? AND reseller_id = ?`, w.prov.org.ID, w.res2.org.ID)
		if got := w.overview(w.prov.agent).Figures; got.ActiveResellers != 1 {
			t.Errorf("after a suspension: %d active resellers, want 1", got.ActiveResellers)
		}
		if got := w.overview(w.res2.agent).Figures; got.ActiveProviders != 0 || !got.Reseller {
			t.Errorf("the suspended reseller: %+v", got)
		}

		// A partner still in review has nothing to count yet.
		newcomer := w.partnerParty("Newcomer", "FR")
		w.enrol(newcomer.org, csphub.ProgramIndirectReseller, csphub.EnrollmentInReview)
		if got := w.overview(newcomer.ga); got.Figures != nil {
			t.Errorf("figures before approval: %+v", got.Figures)
		}
	})
}

func TestPartnerOverviewRecentActivity(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOvWorld(t, engine)
		// The latest change: the agent invites one more reseller.
		w.invite(w.prov.agent, "last@litware.example", "")

		// The global admin reads the latest eight records, newest first,
		// each actor named; nothing of another organization.
		a := w.overview(w.prov.ga).Activity
		if a == nil || len(a.Records) != 8 {
			t.Fatalf("activity: %+v", a)
		}
		first := a.Records[0]
		if first.Action != "partnership.invite" || first.ActorKind != csphub.ActorUser || first.ActorName != "User agent@fabrikam.example" ||
			first.ActorEmail != "agent@fabrikam.example" || first.Delegated || first.ActorOrganization != "" || !first.At.Equal(w.clock.Now()) {
			t.Errorf("newest record = %+v", first)
		}
		if !slices.IsSortedFunc(a.Records, func(x, y service.ActivityRecord) int {
			return strings.Compare(y.ID, x.ID)
		}) {
			t.Errorf("not newest first: %+v", a.Records)
		}
		for _, r := range a.Records {
			if w.count(`SELECT COUNT(*) FROM audit_records WHERE id = ? AND (actor_org_id = ? OR on_behalf_of = ?)`, r.ID, w.prov.org.ID, w.prov.org.ID) != 1 {
				t.Errorf("record %s (%s) is not the provider's", r.ID, r.Action)
			}
		}
		// The audit log is for admins: the sales agent and the admin
		// agent see the figures without it.
		for _, actor := range []csphub.Actor{w.sales, w.prov.agent} {
			if o := w.overview(actor); o.Activity != nil || o.Figures == nil {
				t.Errorf("%v: activity %+v, figures %+v", actor.Roles, o.Activity, o.Figures)
			}
		}
	})
}

func TestProgramOverview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newOvWorld(t, engine)
		now := w.clock.Now()
		// A second provider, for Europe and North America; a third whose
		// provider membership is back in review keeps its region but is
		// not listed.
		adatum := w.cProvider("Adatum", "europe", "north_america")
		litware := w.cReseller("Litware", "FR")
		w.enrol(litware.org, csphub.ProgramIndirectProvider, csphub.EnrollmentInReview)
		w.authorize(litware.org, "europe")
		// Applications: one in review past its due date, one submitted due
		// in three days; Litware's, due tomorrow.
		late := w.partnerParty("Late Co", "FR")
		w.enrol(late.org, csphub.ProgramIndirectReseller, csphub.EnrollmentInReview)
		fresh := w.partnerParty("Fresh Co", "DE")
		w.enrol(fresh.org, csphub.ProgramIndirectReseller, csphub.EnrollmentSubmitted)
		due := func(p party, at time.Time) {
			w.exec(`UPDATE enrollments SET due_at = ? WHERE org_id = ? AND state <> 'approved'`, at, p.org.ID)
		}
		due(late, now.AddDate(0, 0, -2))
		due(fresh, now.AddDate(0, 0, 3))
		due(litware, now.AddDate(0, 0, 1))

		// partnerParty renames organizations behind the store's back: their
		// sort keys follow here.
		w.exec(`UPDATE organizations SET name_key = lower(name) WHERE kind = 'partner'`)

		o, err := w.svc.ProgramOverview(w.ctx, w.admin)
		if err != nil {
			t.Fatal(err)
		}
		// Approved resellers: Fabrikam, Contoso, Tailspin, Adatum, Litware.
		want := service.ProgramFigures{PartnersEnrolling: 2, PartnersApproved: 5, ProvidersApplying: 1, ProvidersApproved: 2,
			ActiveProviders: 1, ActiveResellers: 2, Customers: 2, ActiveSubscriptions: 3, RecentOrders: 2, OrdersSince: now.AddDate(0, 0, -30)}
		if o.Figures != want {
			t.Errorf("figures = %+v, want %+v", o.Figures, want)
		}
		if o.Queue == nil || o.Queue.Open != 3 || o.Queue.Overdue != 1 || len(o.Queue.Items) != 3 {
			t.Fatalf("queue = %+v", o.Queue)
		}
		var names []string
		for _, it := range o.Queue.Items {
			names = append(names, it.OrganizationName)
		}
		if !slices.Equal(names, []string{"Late Co", "Litware", "Fresh Co"}) || !o.Queue.Items[0].Overdue || o.Queue.Items[1].Overdue {
			t.Errorf("queue items = %v, overdue %v %v", names, o.Queue.Items[0].Overdue, o.Queue.Items[1].Overdue)
		}
		regions := map[string][]string{}
		for _, r := range o.Regions {
			for _, p := range r.Providers {
				regions[r.Region.Code] = append(regions[r.Region.Code], p.Name+" "+p.PartnerID)
			}
		}
		if got := regions["europe"]; !slices.Equal(got, []string{"Adatum " + adatum.partnerID, "Fabrikam " + w.prov.partnerID}) {
			t.Errorf("Europe's providers = %v", got)
		}
		if got := regions["north_america"]; !slices.Equal(got, []string{"Adatum " + adatum.partnerID}) {
			t.Errorf("North America's providers = %v", got)
		}
		if len(o.Regions) != 5 || len(regions) != 2 {
			t.Errorf("%d regions, %d with providers: %+v", len(o.Regions), len(regions), o.Regions)
		}

		// Only 5 rows of the queue, due first.
		for i := range 4 {
			p := w.partnerParty("Queued "+string(rune('A'+i)), "FR")
			w.enrol(p.org, csphub.ProgramIndirectReseller, csphub.EnrollmentInReview)
			due(p, now.AddDate(0, 0, -10+i))
		}
		o, err = w.svc.ProgramOverview(w.ctx, w.admin)
		if err != nil {
			t.Fatal(err)
		}
		names = nil
		for _, it := range o.Queue.Items {
			names = append(names, it.OrganizationName)
		}
		if o.Queue.Open != 7 || o.Queue.Overdue != 5 || !slices.Equal(names, []string{"Queued A", "Queued B", "Queued C", "Queued D", "Late Co"}) {
			t.Errorf("queue = open %d, overdue %d, %v", o.Queue.Open, o.Queue.Overdue, names)
		}

		// A catalog manager lands here too, without the queue.
		catalog := w.admin
		catalog.Roles = []string{csphub.RoleCatalogManager}
		if o, err := w.svc.ProgramOverview(w.ctx, catalog); err != nil || o.Queue != nil || o.Figures.PartnersApproved != 5 {
			t.Errorf("catalog manager: %+v %v", o, err)
		}
		// Anyone else is refused.
		roleless := w.admin
		roleless.Roles = nil
		delegated := w.admin
		delegated.OnBehalfOf = w.prov.org.ID
		for name, actor := range map[string]csphub.Actor{"a partner's admin": w.prov.ga, "a customer": w.cust.ga,
			"an operator user without a role": roleless, "the operator in a partner's organization": delegated} {
			_, err := w.svc.ProgramOverview(w.ctx, actor)
			if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindForbidden || e.Code != "operator_role_required" {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}
