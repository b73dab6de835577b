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
	"csphub/internal/totp"
)

// newEnrollmentServer serves the pages over a real service on engine,
// with short lists so that the review queue pages with a few applications.
func newEnrollmentServer(t *testing.T, engine string, pageSize int) *identityServer {
	t.Helper()
	// A Monday morning: the due dates of the tests fall on business days.
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, engine, clock)
	svc := service.New(db, nil, service.Options{BaseURL: "https://csphub.example"})
	ts := newTestServer(t, Options{Service: svc, Clock: clock, SettingsPageSize: pageSize})
	// Every deployment has its operator, whom applications are shown to.
	if _, _, err := svc.EnsureOperator(context.Background(), service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"}); err != nil {
		t.Fatal(err)
	}
	return &identityServer{testServer: ts, db: db, svc: svc, clock: clock, cookie: "csphub_session"}
}

// operatorAdmin creates the operator organization and its first admin,
// who chooses a password through the emailed link, signs in and passes
// MFA; it returns the session.
func (s *identityServer) operatorAdmin(t *testing.T) *http.Cookie {
	c, _ := s.operatorAdminWithSecret(t)
	return c
}

// operatorAdminWithSecret is operatorAdmin, with the admin's TOTP secret
// for signing in again later.
func (s *identityServer) operatorAdminWithSecret(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"}); err != nil {
		t.Fatal(err)
	}
	_, link, err := s.svc.CreateOperatorAdmin(ctx, "olga@operator.example", "Olga Operator", "en")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, s.postForm(t, u.Path, url.Values{"password": {goodPassword}}), "/signin?done=reset")
	res := s.signIn(t, "olga@operator.example", goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	secret, _, c := s.enrol(t, s.sessionCookie(res))
	return c, secret
}

// signInAgain signs a user in with their password and the current code of
// their authenticator, and returns the session.
func (s *identityServer) signInAgain(t *testing.T, email, secret string) *http.Cookie {
	t.Helper()
	res := s.signIn(t, email, goodPassword)
	wantRedirect(t, res, "/mfa")
	code, err := totp.Code(secret, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = s.postForm(t, "/mfa", url.Values{"code": {code}}, s.withSession(s.sessionCookie(res))...)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || (loc != "/partner" && loc != "/operator") {
		t.Fatalf("after MFA: %d to %q, want the partner overview or the operator overview", res.StatusCode, loc)
	}
	return s.sessionCookie(res)
}

// passMFA sets up TOTP for a session that has to, and returns the session
// that passed it.
func (s *identityServer) passMFA(t *testing.T, c *http.Cookie) *http.Cookie {
	t.Helper()
	_, _, next := s.enrol(t, c)
	return next
}

var verifyLink = regexp.MustCompile(`https://csphub\.example(/enrollments/verify/[A-Za-z0-9_-]+)`)

// verificationLinks claims the queued emails and returns the paths of the
// verification links they carry, by recipient; the other emails are
// counted by recipient in others.
func (s *identityServer) verificationLinks(t *testing.T) (links map[string]string, others map[string]int) {
	t.Helper()
	msgs, err := s.db.ClaimOutbox(context.Background(), store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 100, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	links, others = map[string]string{}, map[string]int{}
	for _, m := range msgs {
		mail, err := m.Email()
		if err != nil {
			t.Fatal(err)
		}
		if l := verifyLink.FindStringSubmatch(mail.Text); l != nil {
			links[mail.To] = l[1]
			continue
		}
		others[mail.To]++
	}
	return links, others
}

// enrollValuesFR is a complete enrollment of a French business, as a
// visitor fills it in.
func enrollValuesFR() url.Values {
	return url.Values{
		"account_domain": {"contoso.example"}, "account_name": {"Jeanne Martin"}, "account_email": {"jeanne@contoso.example"},
		"account_password": {goodPassword}, "account_lang": {"fr"},
		"partner_id": {""}, "claim_code": {""},
		"legal_name": {"Contoso SAS"}, "country": {"FR"}, "address_line1": {"12 rue de la Paix"}, "address_line2": {""},
		"city": {"Paris"}, "state": {""}, "postal_code": {"75002"},
		"primary_first_name": {"Jeanne"}, "primary_last_name": {"Martin"}, "primary_email": {"jeanne@contoso.example"},
		"primary_phone": {"01 23 45 67 89"}, "primary_lang": {"fr"},
		"support_email": {"support@contoso.example"}, "support_phone": {"+33 1 98 76 54 32"}, "support_website": {"https://support.contoso.example"},
	}
}

// acceptInvitation follows the invitation emailed to email, chooses a
// password, signs in and passes MFA; it returns the session.
func (s *identityServer) acceptInvitation(t *testing.T, email string) *http.Cookie {
	t.Helper()
	link := s.invitationEmails(t)[email]
	if link == "" {
		t.Fatalf("no invitation to %s", email)
	}
	wantRedirect(t, s.postForm(t, link, url.Values{"password": {goodPassword}}), "/signin?done=invited")
	res := s.signIn(t, email, goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	return s.passMFA(t, s.sessionCookie(res))
}
