package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// partnershipWorld is the pages over a real service with the program's
// people: the operator's admin, an indirect provider (Fabrikam, France)
// and an indirect reseller (Contoso, France), each enrolled through the
// pages and approved by the operator.
type partnershipWorld struct {
	*identityServer
	op       csphub.Actor
	opCookie *http.Cookie
	provider partnerAccount
	reseller partnerAccount
}

// partnerAccount is a partner's global admin: the session, the actor it
// stands for, the TOTP secret for signing in again, and the organization.
type partnerAccount struct {
	email     string
	cookie    *http.Cookie
	actor     csphub.Actor
	secret    string
	orgID     string
	partnerID string
	name      string
}

const (
	providerEmail = "marc@fabrikam.example"
	resellerEmail = "jeanne@contoso.example"
)

// providerSetup says how far the provider goes: an approved reseller
// only, an approved provider without regions or agreement, or ready.
type providerSetup int

const (
	providerResellerOnly providerSetup = iota // only its reseller membership is approved
	providerNoAgreement                       // approved provider with regions, no agreement accepted
	providerReady                             // approved, authorized for regions, agreement accepted
)

// newPartnershipWorld builds the world on engine; opts tune the service
// (the invitation caps); regions are those the operator authorizes the
// provider for.
func newPartnershipWorld(t *testing.T, engine string, opts service.Options, setup providerSetup, regions ...string) *partnershipWorld {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, engine, clock)
	opts.BaseURL = "https://csphub.example"
	svc := service.New(db, nil, opts)
	ts := newTestServer(t, Options{Service: svc, Clock: clock, SettingsPageSize: 2})
	if _, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"}); err != nil {
		t.Fatal(err)
	}
	w := &partnershipWorld{identityServer: &identityServer{testServer: ts, db: db, svc: svc, clock: clock, cookie: "csphub_session"}}
	w.opCookie = w.operatorAdmin(t)
	w.op = w.actorOf(t, w.opCookie)

	w.reseller = w.approvedReseller(t, enrollValuesFR())
	fabrikam := enrollValuesFR()
	for k, v := range map[string]string{"account_domain": "fabrikam.example", "account_name": "Marc Dubois", "account_email": providerEmail,
		"primary_first_name": "Marc", "primary_last_name": "Dubois", "primary_email": providerEmail, "legal_name": "Fabrikam SARL",
		"support_email": "support@fabrikam.example"} {
		fabrikam.Set(k, v)
	}
	w.provider = w.approvedReseller(t, fabrikam)
	if setup == providerResellerOnly {
		return w
	}
	res, err := svc.Enroll(ctx, w.provider.actor, service.EnrollmentInput{Program: string(csphub.ProgramIndirectProvider),
		SupportContact: csphub.SupportContact{Email: "help@fabrikam.example", Phone: "+33 1 23 45 67 99"}})
	if err != nil {
		t.Fatalf("provider application: %v", err)
	}
	if _, err := svc.DecideEnrollment(ctx, w.op, res.Enrollment.ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatalf("approve the provider: %v", err)
	}
	if len(regions) == 0 {
		regions = []string{"europe"}
	}
	if _, err := svc.AuthorizeProviderRegions(ctx, w.op, w.provider.orgID, regions); err != nil {
		t.Fatalf("authorize regions: %v", err)
	}
	if setup == providerReady {
		a, err := svc.PublishAgreement(ctx, w.op, service.PublishAgreementInput{Version: "2026-01", Title: "CSP partner agreement",
			Body: "Article 1.", EffectiveAt: clock.Now().Add(-time.Hour), Regions: []string{"europe", "north_america"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AcceptAgreement(ctx, w.provider.actor, a.ID, service.AcceptAgreementInput{SignerName: "Marc Dubois",
			SignerEmail: providerEmail, SignerPhone: "+33 1 23 45 67 89"}); err != nil {
			t.Fatalf("accept the agreement: %v", err)
		}
	}
	w.outbox(t) // the enrollment emails
	return w
}

func (w *partnershipWorld) actorOf(t *testing.T, c *http.Cookie) csphub.Actor {
	t.Helper()
	a, err := w.svc.SessionActor(context.Background(), c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// approvedReseller enrols a visitor's organization through the pages,
// confirms its contact and has the operator approve it.
func (w *partnershipWorld) approvedReseller(t *testing.T, form url.Values) partnerAccount {
	t.Helper()
	ctx := context.Background()
	c, secret := w.enrolledAndVerifiedWithSecret(t, form)
	a := partnerAccount{email: form.Get("account_email"), cookie: c, secret: secret, actor: w.actorOf(t, c), name: form.Get("legal_name")}
	a.orgID = a.actor.OrgID
	list, err := w.svc.ListEnrollments(ctx, a.actor)
	if err != nil || len(list) != 1 {
		t.Fatalf("enrollments: %v %v", list, err)
	}
	if _, err := w.svc.DecideEnrollment(ctx, w.op, list[0].ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	p, err := w.svc.GetPartnerProfile(ctx, a.actor)
	if err != nil {
		t.Fatal(err)
	}
	a.partnerID = p.Profile.PartnerID
	return a
}

// sentMail is a queued email, as the tests read it.
type sentMail struct {
	To, Subject, Text string
}

// outbox claims the queued emails.
func (w *partnershipWorld) outbox(t *testing.T) []sentMail {
	t.Helper()
	msgs, err := w.db.ClaimOutbox(context.Background(), store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 500, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	var out []sentMail
	for _, m := range msgs {
		mail, err := m.Email()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sentMail{To: mail.To, Subject: mail.Subject, Text: mail.Text})
	}
	return out
}

var partnershipLink = regexp.MustCompile(`https://csphub\.example(/partnership-invitations/[A-Za-z0-9_-]+)`)

// invitationLink claims the queued emails and returns the path of the
// partnership invitation sent to email.
func (w *partnershipWorld) invitationLink(t *testing.T, email string) string {
	t.Helper()
	for _, m := range w.outbox(t) {
		if l := partnershipLink.FindStringSubmatch(m.Text); l != nil && m.To == email {
			return l[1]
		}
	}
	t.Fatalf("no partnership invitation to %s", email)
	return ""
}

// invite sends an invitation from the provider's page and returns the
// link emailed to email.
func (w *partnershipWorld) invite(t *testing.T, email, partnerID string) string {
	t.Helper()
	res := w.postForm(t, indirectResellersPath, url.Values{"email": {email}, "partner_id": {partnerID}, "lang": {"fr"}},
		w.withSession(w.provider.cookie)...)
	wantRedirect(t, res, indirectResellersPath+"?done=invited")
	return w.invitationLink(t, email)
}

// as is the headers of a request by a session in a language.
func (w *partnershipWorld) as(a partnerAccount, lang string) []string {
	return append(w.withSession(a.cookie), "Accept-Language", lang)
}

// operatorSession is the operator admin's session.
func (w *partnershipWorld) operatorSession(t *testing.T) *http.Cookie { return w.opCookie }

// member invites a user with roles into the admin's organization and
// signs them in, past MFA.
func (w *partnershipWorld) member(t *testing.T, admin csphub.Actor, email string, roles ...string) *http.Cookie {
	t.Helper()
	if _, err := w.svc.InviteUser(context.Background(), admin, service.InviteUserInput{Email: email, Name: "Paul Durand", Roles: roles}); err != nil {
		t.Fatal(err)
	}
	link := w.invitationEmails(t)[email]
	if link == "" {
		t.Fatalf("no invitation to %s", email)
	}
	wantRedirect(t, w.postForm(t, link, url.Values{"password": {goodPassword}}), "/signin?done=invited")
	res := w.signIn(t, email, goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	return w.passMFA(t, w.sessionCookie(res))
}

// signupWith signs a visitor up with form and returns the session.
func (w *partnershipWorld) signupWith(t *testing.T, form url.Values) *http.Cookie {
	t.Helper()
	res := w.postForm(t, "/signup", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup: %d %s", res.StatusCode, res.body)
	}
	return w.sessionCookie(res)
}

// noErrorsLogged fails the test when a page logged an error (a missing
// message, a failed render).
func (w *partnershipWorld) noErrorsLogged(t *testing.T) {
	t.Helper()
	if regexp.MustCompile(`level=ERROR`).MatchString(w.logs.String()) {
		t.Errorf("errors logged:\n%s", w.logs)
	}
}
