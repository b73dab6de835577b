package demo_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"csphub"
	"csphub/internal/demo"
	"csphub/internal/service"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

// Seeding builds the world described by its report through the use cases;
// seeding again finds it and writes nothing, in any table.
func TestSeedTwice(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := testdb.Open(t, engine, nil)
		svc := service.New(db, nil, service.Options{})
		if _, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}); err != nil {
			t.Fatal(err)
		}
		first, err := demo.Seed(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		if !first.Created || first.Password != demo.Password {
			t.Fatalf("first seeding: created %v, password %q", first.Created, first.Password)
		}
		before, err := db.TableCountsForTest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		second, err := demo.Seed(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		if second.Created {
			t.Fatal("the second seeding built the world again")
		}
		after, err := db.TableCountsForTest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(before, after) {
			for _, table := range slices.Sorted(maps.Keys(after)) {
				if before[table] != after[table] {
					t.Errorf("%s: %d rows after the first seeding, %d after the second", table, before[table], after[table])
				}
			}
		}
		for _, table := range []string{"orders", "subscriptions", "offers", "audit_records", "events", "outbox", "delegated_admin_grants"} {
			if before[table] == 0 {
				t.Errorf("no rows in %s", table)
			}
		}
		if before["sessions"] != 0 {
			t.Errorf("%d sessions left open", before["sessions"])
		}
		checkWorld(t, ctx, svc, first)
	})
}

// actorOf acts as a demo user, as a signed-in session that passed MFA would.
func actorOf(t *testing.T, ctx context.Context, svc *service.Service, email, orgID string, kind csphub.OrgKind, roles ...string) csphub.Actor {
	t.Helper()
	st, err := svc.TOTPStateOf(ctx, email)
	if err != nil {
		t.Fatalf("%s: %v", email, err)
	}
	return csphub.Actor{Kind: csphub.ActorUser, ID: st.UserID, OrgID: orgID, OrgKind: kind, Roles: roles, MFAPassed: true}
}

func checkWorld(t *testing.T, ctx context.Context, svc *service.Service, rep demo.Report) {
	op, _, err := svc.OperatorOrganization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := actorOf(t, ctx, svc, "admin@operator."+demo.Domain, op.ID, csphub.OrgOperator, csphub.RoleOperatorAdmin)

	// Every demo user exists; partner and operator users have TOTP.
	for _, u := range rep.Users() {
		st, err := svc.TOTPStateOf(ctx, u.Email)
		if err != nil {
			t.Fatalf("%s: %v", u.Email, err)
		}
		if !demo.IsDemoEmail(u.Email) || st.Enabled != u.MFA {
			t.Errorf("%s: demo address %v, TOTP enabled %v, want %v", u.Email, demo.IsDemoEmail(u.Email), st.Enabled, u.MFA)
		}
	}

	// The applications: two providers and three resellers approved, one
	// reseller in review.
	type standing struct {
		orgID, partnerID   string
		reseller, provider csphub.EnrollmentState
		signed             bool
	}
	orgs := map[string]*standing{}
	for _, state := range []string{"in_review", "approved"} {
		page, err := svc.ReviewQueue(ctx, admin, service.ReviewQueueQuery{State: state, PageSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			st := orgs[it.LegalName]
			if st == nil {
				st = &standing{orgID: it.OrgID, partnerID: it.PartnerID}
				orgs[it.LegalName] = st
			}
			if it.Program == csphub.ProgramIndirectProvider {
				st.provider = it.State
			} else {
				st.reseller = it.State
			}
		}
	}
	for name, st := range orgs {
		a, err := svc.AgreementStatusOf(ctx, admin, st.partnerID)
		if err != nil {
			t.Fatal(err)
		}
		st.signed = a.Signed
		t.Logf("%s: reseller %s, provider %q, agreement %v", name, st.reseller, st.provider, st.signed)
	}
	want := map[string]standing{
		"Contoso Distribution SAS": {reseller: "approved", provider: "approved", signed: true},
		"Northwind Supply Inc.":    {reseller: "approved", provider: "approved", signed: true},
		"Fabrikam IT GmbH":         {reseller: "approved", signed: true},
		"Tailspin Cloud Ltd.":      {reseller: "approved", signed: true},
		"Litware Conseil SARL":     {reseller: "approved"},
		"Adatum Services B.V.":     {reseller: "in_review"},
	}
	if len(orgs) != len(want) {
		t.Errorf("%d partners, want %d", len(orgs), len(want))
	}
	for name, w := range want {
		got := orgs[name]
		if got == nil || got.reseller != w.reseller || got.provider != w.provider || got.signed != w.signed {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
	}

	// Both providers are listed; Fabrikam works with both.
	fabrikam := actorOf(t, ctx, svc, "jonas.weber@fabrikam-it."+demo.Domain, orgs["Fabrikam IT GmbH"].orgID, csphub.OrgPartner,
		csphub.RoleGlobalAdmin, csphub.RoleAdminAgent)
	dir, err := svc.SearchProviderDirectory(ctx, fabrikam, service.DirectoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dir.Items) != 2 {
		t.Errorf("%d providers in the directory, want 2: %+v", len(dir.Items), dir.Items)
	}
	provs, err := svc.ListIndirectProviders(ctx, fabrikam, service.PartnershipQuery{State: "active"})
	if err != nil {
		t.Fatal(err)
	}
	if len(provs.Items) != 2 {
		t.Errorf("Fabrikam has %d active providers, want 2", len(provs.Items))
	}

	// Contoso's invitation to Litware waits for an answer.
	contoso := actorOf(t, ctx, svc, "camille.bernard@contoso-distribution."+demo.Domain, orgs["Contoso Distribution SAS"].orgID,
		csphub.OrgPartner, csphub.RoleGlobalAdmin, csphub.RoleAdminAgent)
	invited, err := svc.ListIndirectResellers(ctx, contoso, service.PartnershipQuery{State: "invited"})
	if err != nil {
		t.Fatal(err)
	}
	if len(invited.Items) != 1 || invited.Items[0].InvitedEmail != "lea.girard@litware-conseil."+demo.Domain {
		t.Errorf("Contoso's pending invitations: %+v", invited.Items)
	}

	// Five customers, Alpine Ski House shared by both providers, and one
	// customer invitation waiting.
	cust, err := svc.ListCustomers(ctx, admin, service.CustomerQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(cust.Items) != 5 {
		t.Errorf("%d customers, want 5", len(cust.Items))
	}
	for _, c := range cust.Items {
		if c.Name == "Alpine Ski House GmbH" && len(c.Partners) != 3 {
			t.Errorf("Alpine Ski House's partners: %+v", c.Partners)
		}
	}
	pending, err := svc.ListCustomerInvitations(ctx, actorOf(t, ctx, svc, "avery.martin@tailspin-cloud."+demo.Domain,
		orgs["Tailspin Cloud Ltd."].orgID, csphub.OrgPartner, csphub.RoleGlobalAdmin, csphub.RoleAdminAgent), "pending", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending.Items) != 1 {
		t.Errorf("Tailspin's pending customer invitations: %+v", pending.Items)
	}

	// Subscriptions for the shared customers, with their reseller of record.
	subs, err := svc.ListSubscriptions(ctx, fabrikam, service.SubscriptionQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Items) == 0 {
		t.Error("Fabrikam's customers have no subscriptions")
	}
	for _, s := range subs.Items {
		if s.ResellerID != orgs["Fabrikam IT GmbH"].orgID || s.Status != csphub.SubscriptionActive {
			t.Errorf("subscription %+v", s)
		}
	}
}

// Code gives a code the demo user can pass MFA with, even right after the
// seeding used one of the current step; it refuses anyone outside the demo
// world.
func TestCode(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, "sqlite", nil)
	svc := service.New(db, nil, service.Options{})
	if _, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, svc); err != nil {
		t.Fatal(err)
	}
	email := "morgan.lee@northwind-supply." + demo.Domain
	sess, err := svc.SignIn(ctx, service.SignInInput{Email: email, Password: demo.Password})
	if err != nil {
		t.Fatal(err)
	}
	actor, err := svc.SessionActor(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := demo.Code(ctx, svc, email, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Code) != totp.Digits || now.Before(c.ValidFrom) || !now.Before(c.ValidUntil) {
		t.Fatalf("code %+v at %v", c, now)
	}
	if _, err := svc.VerifyTOTP(ctx, actor, sess.Token, c.Code); err != nil {
		t.Fatalf("the code is refused: %v", err)
	}
	// Codes are single-use: the next one is of a later step.
	next, err := demo.Code(ctx, svc, email, now)
	if err != nil {
		t.Fatal(err)
	}
	if next.ValidFrom.Before(c.ValidFrom.Add(totp.Period)) {
		t.Errorf("after %+v, the same step again: %+v", c, next)
	}
	for _, email := range []string{"someone@example.com", "admin@operator.demo.csphub.example.com", "lena.fischer@alpine-ski-house." + demo.Domain,
		"nobody@operator." + demo.Domain} {
		if c, err := demo.Code(ctx, svc, email, time.Now()); err == nil {
			t.Errorf("%s: code %s", email, c.Code)
		}
	}
}

// A database holding part of the world (an interrupted seeding, or a demo
// address taken by hand) is refused, not half-seeded again.
func TestSeedRefusesAPartialWorld(t *testing.T) {
	ctx := context.Background()
	svc := service.New(testdb.Open(t, "sqlite", nil), nil, service.Options{})
	if _, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateOperatorAdmin(ctx, "admin@operator."+demo.Domain, "Olivia Martin", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, svc); !errors.Is(err, demo.ErrIncomplete) {
		t.Fatalf("got %v, want ErrIncomplete", err)
	}
}
