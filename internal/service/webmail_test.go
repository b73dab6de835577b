package service

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

func TestBuiltInWebmail(t *testing.T) {
	for domain, want := range map[string]string{
		"gmail.com":           "gmail.com",
		"googlemail.com":      "googlemail.com",
		"mail.gmail.com":      "gmail.com",
		"ymail.com":           "ymail.com",
		"rocketmail.com":      "rocketmail.com",
		"icloud.com":          "icloud.com",
		"me.com":              "me.com",
		"mac.com":             "mac.com",
		"aol.com":             "aol.com",
		"aol.fr":              "aol.*",
		"aim.com":             "aim.com",
		"msn.com":             "msn.com",
		"yahoo.com":           "yahoo.*",
		"yahoo.fr":            "yahoo.*",
		"yahoo.co.uk":         "yahoo.*",
		"yahoo.com.br":        "yahoo.*",
		"mail.yahoo.fr":       "yahoo.*",
		"outlook.com":         "outlook.*",
		"outlook.fr":          "outlook.*",
		"hotmail.com":         "hotmail.*",
		"hotmail.co.uk":       "hotmail.*",
		"live.com":            "live.*",
		"live.fr":             "live.*",
		"live.com.mx":         "live.*",
		"contoso.com":         "",
		"gmail.contoso.com":   "", // contoso.com's subdomain, not Google's
		"live.contoso.com":    "", // contoso.com is not a top-level domain
		"yahoo.contoso.co":    "",
		"notgmail.com":        "",
		"gmail.com.evil.net":  "",
		"outlook.office.com":  "",
		"mymsn.com":           "",
		"hotmail":             "",
		"yahoo.co.uk.example": "",
	} {
		if got := builtInWebmail(domain); got != want {
			t.Errorf("builtInWebmail(%q) = %q, want %q", domain, got, want)
		}
	}
}

func TestParentDomains(t *testing.T) {
	if got := parentDomains("a.b.example.com"); !slices.Equal(got, []string{"a.b.example.com", "b.example.com", "example.com"}) {
		t.Fatal(got)
	}
	if got := parentDomains("example.com"); !slices.Equal(got, []string{"example.com"}) {
		t.Fatal(got)
	}
}

type webmailWorld struct {
	svc    *Service
	op     csphub.Organization
	admin  csphub.Actor
	others map[string]csphub.Actor
}

func newWebmailWorld(t *testing.T, engine string) webmailWorld {
	t.Helper()
	db := testdb.Open(t, engine, csphub.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)))
	s := New(db, nil, Options{})
	ctx := context.Background()
	op, _, err := s.EnsureOperator(ctx, OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	partner, err := s.Signup(ctx, SignupInput{Kind: "partner", OrgName: "Contoso", Country: "FR", Domain: "contoso.example",
		Name: "Jeanne Martin", Email: "jeanne@contoso.example", Password: "Tr3ss-lilac-harbor-9"})
	if err != nil {
		t.Fatal(err)
	}
	user := func(org string, kind csphub.OrgKind, roles ...string) csphub.Actor {
		return csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: org, OrgKind: kind, Roles: roles, MFAPassed: true}
	}
	delegated := user(partner.Organization.ID, csphub.OrgPartner, csphub.RoleOperatorAdmin)
	delegated.OnBehalfOf = op.ID
	return webmailWorld{svc: s, op: op, admin: user(op.ID, csphub.OrgOperator, csphub.RoleOperatorAdmin), others: map[string]csphub.Actor{
		"reviewer":                     user(op.ID, csphub.OrgOperator, csphub.RoleVerificationReviewer),
		"catalog manager":              user(op.ID, csphub.OrgOperator, csphub.RoleCatalogManager),
		"partner global admin":         user(partner.Organization.ID, csphub.OrgPartner, csphub.RoleGlobalAdmin),
		"operator_admin of a partner":  user(partner.Organization.ID, csphub.OrgPartner, csphub.RoleOperatorAdmin),
		"operator_admin acting inside": delegated,
		"nobody":                       {},
		"system":                       csphub.System("r"),
	}}
}

func (w webmailWorld) isWebmail(t *testing.T, domain string) bool {
	t.Helper()
	var got bool
	err := w.svc.db.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		got, err = w.svc.isWebmail(tx, domain)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func wantWebmailError(t *testing.T, err error, kind csphub.Kind, code string) {
	t.Helper()
	e := csphub.AsError(err)
	if e == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("error %v, want %s %s", err, kind, code)
	}
}

func TestWebmailDomainsOfTheOperator(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newWebmailWorld(t, engine)
		ctx := context.Background()

		for _, d := range []string{"gmail.com", "Mail.Yahoo.FR.", "HOTMAIL.co.uk", " icloud.com "} {
			if !w.isWebmail(t, d) {
				t.Errorf("%q is not web-mail", d)
			}
		}
		for _, d := range []string{"", "post.example", "contoso.example", "live.contoso.example"} {
			if w.isWebmail(t, d) {
				t.Errorf("%q is web-mail", d)
			}
		}

		if err := w.svc.AddWebmailDomain(ctx, w.admin, " Post.Example. "); err != nil {
			t.Fatal(err)
		}
		for d, want := range map[string]bool{"post.example": true, "POST.example": true, "eu.post.example": true,
			"a.b.post.example": true, "notpost.example": false, "example": false, "post.example.org": false} {
			if got := w.isWebmail(t, d); got != want {
				t.Errorf("after adding post.example, isWebmail(%q) = %v", d, got)
			}
		}

		// Refusals: duplicate, built-in, bad shape.
		wantWebmailError(t, w.svc.AddWebmailDomain(ctx, w.admin, "POST.EXAMPLE"), csphub.KindConflict, "webmail_domain_exists")
		wantWebmailError(t, w.svc.AddWebmailDomain(ctx, w.admin, "gmail.com"), csphub.KindConflict, "webmail_domain_built_in")
		wantWebmailError(t, w.svc.AddWebmailDomain(ctx, w.admin, "mail.yahoo.fr"), csphub.KindConflict, "webmail_domain_built_in")
		for _, bad := range []string{"", "example", "post example.com", "-post.example", "post..example", "http://post.example", "a@post.example", "post.example/x"} {
			err := w.svc.AddWebmailDomain(ctx, w.admin, bad)
			wantWebmailError(t, err, csphub.KindInvalid, "invalid_input")
			if f := csphub.AsError(err).Fields; len(f) != 1 || f[0].Field != "domain" || f[0].Code != "invalid_domain" {
				t.Errorf("%q: fields %+v", bad, f)
			}
		}

		// Only an operator admin, acting in the operator organization.
		for who, a := range w.others {
			wantWebmailError(t, w.svc.AddWebmailDomain(ctx, a, "other.example"), csphub.KindForbidden, "operator_admin_required")
			wantWebmailError(t, w.svc.RemoveWebmailDomain(ctx, a, "post.example"), csphub.KindForbidden, "operator_admin_required")
			if _, err := w.svc.ListWebmailDomains(ctx, a); csphub.ErrorKind(err) != csphub.KindForbidden {
				t.Errorf("%s lists web-mail domains: %v", who, err)
			}
		}

		list, err := w.svc.ListWebmailDomains(ctx, w.admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Operator) != 1 || list.Operator[0].Domain != "post.example" || list.Operator[0].CreatedBy != w.admin.ID ||
			!slices.Contains(list.BuiltIn, "gmail.com") || !slices.Contains(list.BuiltIn, "yahoo.*") {
			t.Fatalf("list %+v", list)
		}

		// Removal.
		wantWebmailError(t, w.svc.RemoveWebmailDomain(ctx, w.admin, "gmail.com"), csphub.KindConflict, "webmail_domain_built_in")
		wantWebmailError(t, w.svc.RemoveWebmailDomain(ctx, w.admin, "other.example"), csphub.KindNotFound, "webmail_domain_not_found")
		wantWebmailError(t, w.svc.RemoveWebmailDomain(ctx, w.admin, "not a domain"), csphub.KindInvalid, "invalid_input")
		if err := w.svc.RemoveWebmailDomain(ctx, w.admin, "post.EXAMPLE"); err != nil {
			t.Fatal(err)
		}
		if w.isWebmail(t, "post.example") {
			t.Error("post.example is still web-mail after its removal")
		}
		wantWebmailError(t, w.svc.RemoveWebmailDomain(ctx, w.admin, "post.example"), csphub.KindNotFound, "webmail_domain_not_found")

		// Audited and emitted, to the operator only.
		if err := w.svc.SequenceJournal(ctx); err != nil {
			t.Fatal(err)
		}
		audit, err := w.svc.ListAuditRecords(ctx, w.admin, 0, 100, "webmail_domain.")
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range audit.Records {
			actions = append(actions, r.Action+" "+r.ResourceID)
			if r.ActorID != w.admin.ID {
				t.Errorf("audit actor %s", r.ActorID)
			}
		}
		if !slices.Equal(actions, []string{"webmail_domain.add post.example", "webmail_domain.remove post.example"}) {
			t.Errorf("audit %v", actions)
		}
		evs, err := w.svc.ListEvents(ctx, w.admin, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs.Events {
			if e.Subject == "post.example" {
				types = append(types, e.Type)
			}
		}
		if !slices.Equal(types, []string{"webmail_domain.added", "webmail_domain.removed"}) {
			t.Errorf("events %v", types)
		}
		partnerEvents, err := w.svc.ListEvents(ctx, w.others["partner global admin"], 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range partnerEvents.Events {
			if e.Subject == "post.example" {
				t.Errorf("a partner sees %s", e.Type)
			}
		}
	})
}

func TestWebmailListIsBounded(t *testing.T) {
	w := newWebmailWorld(t, "sqlite")
	ctx := context.Background()
	err := w.svc.db.Write(ctx, func(tx *store.Tx) error {
		for i := range maxWebmailDomains {
			d := WebmailDomain{Domain: fmt.Sprintf("m%d.example", i), CreatedAt: tx.Now(), CreatedBy: "seed"}
			if err := tx.InsertWebmailDomain(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantWebmailError(t, w.svc.AddWebmailDomain(ctx, w.admin, "one-more.example"), csphub.KindConflict, "webmail_domain_limit")
}
