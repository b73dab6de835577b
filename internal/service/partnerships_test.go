package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var partnershipLink = regexp.MustCompile(`https?://[^ ]+/partnership-invitations/([A-Za-z0-9_-]{43})`)

// pWorld is a deployment with the partner agreement in force in Europe and
// North America, where tests build providers and resellers in any standing.
type pWorld struct {
	*agreementWorld
	n    int
	sent []store.Email // every email claimed so far
}

// party is a partner organization with a global admin and an admin agent
// (real users, so that emails reach them).
type party struct {
	org       csphub.Organization
	partnerID string
	ga, agent csphub.Actor
	gaEmail   string
	agentMail string
}

func newPWorld(t *testing.T, engine string) *pWorld {
	t.Helper()
	w := &pWorld{agreementWorld: newAgreementWorld(t, engine)}
	w.publish("2026-01", agrDay(1, 1), "europe", "north_america")
	return w
}

func (w *pWorld) exec(q string, args ...any) {
	w.t.Helper()
	if w.db.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if _, err := w.raw.Exec(q, args...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *pWorld) count(q string, args ...any) int {
	w.t.Helper()
	if w.db.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	var n int
	if err := w.raw.QueryRow(q, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// user stores an active user of org with roles and returns it as an actor.
func (w *pWorld) user(org csphub.Organization, email, lang string, roles ...string) csphub.Actor {
	w.t.Helper()
	u := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: org.ID, Email: email, Name: "User " + email, Lang: lang,
		Status: csphub.UserActive, Roles: roles}}
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		u.CreatedAt = tx.Now()
		return tx.InsertUser(u)
	}); err != nil {
		w.t.Fatal(err)
	}
	return csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: org.ID, OrgKind: org.Kind, Roles: roles, MFAPassed: true}
}

// enrol stores an application of org to program in state.
func (w *pWorld) enrol(org csphub.Organization, program csphub.Program, state csphub.EnrollmentState) {
	w.t.Helper()
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error {
		now := tx.Now()
		e := csphub.Enrollment{ID: csphub.NewID(), OrgID: org.ID, Program: program, State: state, Country: org.Country,
			SubmittedAt: now, DueAt: now, UpdatedAt: now, Version: 1}
		if state == csphub.EnrollmentApproved || state == csphub.EnrollmentRejected {
			e.DecidedAt = &now
		}
		return tx.InsertEnrollment(e)
	}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *pWorld) authorize(org csphub.Organization, regions ...string) {
	w.t.Helper()
	if err := w.db.Write(w.ctx, func(tx *store.Tx) error { return tx.ReplaceProviderRegions(org.ID, regions, "test") }); err != nil {
		w.t.Fatal(err)
	}
}

// partnerParty stores a partner named name located in country, with its
// two users; nothing enrolled.
func (w *pWorld) partnerParty(name, country string) party {
	w.t.Helper()
	w.n++
	pid := strconv.Itoa(7000000 + w.n)
	o := w.partner(pid, country)
	w.exec(`UPDATE organizations SET name = ? WHERE id = ?`, name, o.ID)
	o.Name = name
	slug := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	p := party{org: o, partnerID: pid, gaEmail: "ga@" + slug + ".example", agentMail: "agent@" + slug + ".example"}
	p.ga = w.user(o, p.gaEmail, "en", csphub.RoleGlobalAdmin)
	p.agent = w.user(o, p.agentMail, "fr", csphub.RoleAdminAgent)
	return p
}

// reseller is an enrolled (approved) indirect reseller.
func (w *pWorld) reseller(name, country string) party {
	w.t.Helper()
	p := w.partnerParty(name, country)
	w.enrol(p.org, csphub.ProgramIndirectReseller, csphub.EnrollmentApproved)
	return p
}

// provider is an approved indirect provider authorized for regions, whose
// global admin accepted the agreement.
func (w *pWorld) provider(name string, regions ...string) party {
	w.t.Helper()
	p := w.reseller(name, "FR")
	w.enrol(p.org, csphub.ProgramIndirectProvider, csphub.EnrollmentApproved)
	w.authorize(p.org, regions...)
	w.sign(p)
	return p
}

func (w *pWorld) sign(p party) {
	w.t.Helper()
	st, err := w.svc.OwnAgreementStatus(w.ctx, p.ga)
	if err != nil || st.Current == nil {
		w.t.Fatalf("agreement status: %+v %v", st, err)
	}
	if _, err := w.svc.AcceptAgreement(w.ctx, p.ga, st.Current.ID, agrSigner); err != nil {
		w.t.Fatal(err)
	}
}

// mail claims the queued emails, keeps them in w.sent and returns them.
func (w *pWorld) mail() []store.Email {
	w.t.Helper()
	msgs, err := w.db.ClaimOutbox(w.ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: 24 * time.Hour, Limit: 1000, MaxAttempts: 10})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []store.Email
	for _, m := range msgs {
		e, err := m.Email()
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, e)
		// Delivered: a later claim, after the clock moved past the lease,
		// does not return it again.
		if _, err := w.db.MarkOutboxSent(w.ctx, m.OutboxLease); err != nil {
			w.t.Fatal(err)
		}
	}
	w.sent = append(w.sent, out...)
	return out
}

// invite invites email as actor and returns the invitation and its link's
// token, read from the email.
func (w *pWorld) invite(actor csphub.Actor, email, partnerID string) (service.PartnershipView, string) {
	w.t.Helper()
	v, err := w.svc.InvitePartner(w.ctx, actor, service.InvitePartnerInput{Email: email, PartnerID: partnerID})
	if err != nil {
		w.t.Fatalf("invite %s: %v", email, err)
	}
	for _, m := range w.mail() {
		if m.To == email && m.Template == "partnership_invitation" {
			if l := partnershipLink.FindStringSubmatch(m.Text); l != nil {
				return v, l[1]
			}
		}
	}
	w.t.Fatalf("no invitation email to %s", email)
	return v, ""
}

func (w *pWorld) accept(actor csphub.Actor, token string) (service.PartnershipView, error) {
	return w.svc.AcceptInvitation(w.ctx, actor, token, service.AcceptInvitationInput{Authorize: true})
}

// active invites the reseller's agent and has them accept.
func (w *pWorld) active(provider, reseller party) service.PartnershipView {
	w.t.Helper()
	_, token := w.invite(provider.agent, reseller.agentMail, "")
	v, err := w.accept(reseller.agent, token)
	if err != nil {
		w.t.Fatalf("accept: %v", err)
	}
	w.mail()
	return v
}

func pWantCode(t *testing.T, err error, kind csphub.Kind, code string) {
	t.Helper()
	if e := csphub.AsError(err); e == nil || e.Kind != kind || e.Code != code || e.Message == "" {
		t.Fatalf("got %v, want %s %s", err, kind, code)
	}
}

func (w *pWorld) eventTypes(actor csphub.Actor) []string {
	w.t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.svc.ListEvents(w.ctx, actor, 0, 500)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range p.Events {
		if strings.HasPrefix(e.Type, "partnership.") {
			out = append(out, e.Type)
		}
	}
	return out
}

func (w *pWorld) auditActions(actor csphub.Actor) []string {
	w.t.Helper()
	if err := w.svc.SequenceJournal(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.svc.ListAuditRecords(w.ctx, actor, 0, 500, "")
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, r := range p.Records {
		if strings.HasPrefix(r.Action, "partnership.") || strings.HasPrefix(r.Action, "delegated_admin_grant.") {
			out = append(out, r.Action)
		}
	}
	return out
}

func TestInvitePartnerRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		us := w.reseller("Northwind", "US")
		fr := w.reseller("Contoso", "FR")
		invite := func(a csphub.Actor, email, pid string) error {
			_, err := w.svc.InvitePartner(w.ctx, a, service.InvitePartnerInput{Email: email, PartnerID: pid})
			return err
		}

		// Field by field.
		_, err := w.svc.InvitePartner(w.ctx, prov.agent, service.InvitePartnerInput{Email: "not an email", PartnerID: "012", Lang: "de"})
		agrWantFields(t, err, "email/invalid_email", "partner_id/invalid_partner_id", "lang/unsupported_language")
		_, err = w.svc.InvitePartner(w.ctx, prov.agent, service.InvitePartnerInput{Email: "a@b.example", PartnerID: "12345678901"})
		agrWantFields(t, err, "partner_id/invalid_partner_id")

		// Who may invite: a provider's global admin or admin agent, as themselves.
		customer := w.org(csphub.OrgCustomer, "FR")
		for name, a := range map[string]csphub.Actor{
			"sales agent":   agrUser(prov.org, csphub.RoleSalesAgent),
			"account admin": agrUser(prov.org, csphub.RoleAccountAdmin),
			"operator":      w.admin,
			"system":        csphub.System(""),
		} {
			if err := invite(a, "x@contoso.example", ""); csphub.ErrorKind(err) != csphub.KindForbidden {
				t.Errorf("%s: %v", name, err)
			}
		}
		pWantCode(t, invite(agrUser(customer, csphub.RoleGlobalAdmin), "x@contoso.example", ""), csphub.KindForbidden, "partner_required")
		delegated := prov.agent
		delegated.OnBehalfOf = fr.org.ID
		pWantCode(t, invite(delegated, "x@contoso.example", ""), csphub.KindForbidden, "delegated_access_not_allowed")

		// The provider's standing.
		pWantCode(t, invite(fr.agent, "x@northwind.example", ""), csphub.KindConflict, "provider_not_approved")
		applying := w.reseller("Tailspin", "FR")
		w.enrol(applying.org, csphub.ProgramIndirectProvider, csphub.EnrollmentInReview)
		pWantCode(t, invite(applying.ga, "x@northwind.example", ""), csphub.KindConflict, "provider_not_approved")
		unsigned := w.reseller("Litware", "FR")
		w.enrol(unsigned.org, csphub.ProgramIndirectProvider, csphub.EnrollmentApproved)
		w.authorize(unsigned.org, "europe")
		pWantCode(t, invite(unsigned.ga, "x@northwind.example", ""), csphub.KindConflict, "agreement_not_accepted")

		// A known partner ID must be in a region the provider is
		// authorized for; an unknown one is checked at acceptance.
		pWantCode(t, invite(prov.agent, "x@northwind.example", us.partnerID), csphub.KindUnprocessable, "region_not_authorized")
		pWantCode(t, invite(prov.agent, "x@fabrikam.example", prov.partnerID), csphub.KindUnprocessable, "own_invitation")
		if w.count(`SELECT COUNT(*) FROM partnerships`) != 0 {
			t.Fatal("a refused invitation was stored")
		}
		if err := invite(prov.agent, "x@contoso.example", fr.partnerID); err != nil {
			t.Fatal(err)
		}
		if err := invite(prov.agent, "x@unknown.example", "9999999"); err != nil {
			t.Fatal(err)
		}
		// An API token of an admin agent invites too.
		if err := invite(csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: prov.org.ID, Roles: []string{csphub.RoleAdminAgent}},
			"y@contoso.example", ""); err != nil {
			t.Fatal(err)
		}
		// Authorized later for North America: the US reseller may be invited.
		w.authorize(prov.org, "europe", "north_america")
		if err := invite(prov.ga, "x@northwind.example", us.partnerID); err != nil {
			t.Fatal(err)
		}
		if n := w.count(`SELECT COUNT(*) FROM partnerships WHERE provider_id = ? AND state = 'invited'`, prov.org.ID); n != 4 {
			t.Fatalf("%d invitations", n)
		}
	})
}

func TestInvitePartnerCaps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		other := w.provider("Adatum", "europe")
		svc := service.New(w.db, nil, service.Options{PartnerInvitesPerDay: 3, OpenPartnerInvitations: 4})
		invite := func(p party, i int) (service.PartnershipView, error) {
			return svc.InvitePartner(w.ctx, p.agent, service.InvitePartnerInput{Email: fmt.Sprintf("r%d@contoso.example", i)})
		}
		var first service.PartnershipView
		for i := range 3 {
			v, err := invite(prov, i)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = v
			}
			w.clock.Advance(time.Hour)
		}
		_, err := invite(prov, 3)
		pWantCode(t, err, csphub.KindRateLimited, "invitation_limit")
		// Retry when the first of the day's invitations leaves the window.
		if e := csphub.AsError(err); e.RetryAfter != int((21 * time.Hour).Seconds()) {
			t.Fatalf("retry after %d", e.RetryAfter)
		}
		// The cap is the provider's own.
		if _, err := invite(other, 0); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(21*time.Hour + time.Second)
		if _, err := invite(prov, 3); err != nil {
			t.Fatal(err)
		}
		_, err = invite(prov, 4)
		pWantCode(t, err, csphub.KindRateLimited, "invitation_limit")
		// A day after the third, four invitations wait for an answer: the open cap.
		w.clock.Advance(2 * time.Hour)
		_, err = invite(prov, 4)
		pWantCode(t, err, csphub.KindRateLimited, "open_invitation_limit")
		if e := csphub.AsError(err); e.RetryAfter <= 0 || time.Duration(e.RetryAfter)*time.Second > 30*24*time.Hour {
			t.Fatalf("retry after %d", e.RetryAfter)
		}
		if _, err := svc.CancelInvitation(w.ctx, prov.ga, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := invite(prov, 4); err != nil {
			t.Fatal(err)
		}
		// The defaults: 50 a day. The other provider sent one in the last
		// 24 hours already, so its 50th of this loop is refused.
		for i := range 50 {
			_, err := w.svc.InvitePartner(w.ctx, other.ga, service.InvitePartnerInput{Email: fmt.Sprintf("d%d@contoso.example", i)})
			if i < 49 && err != nil {
				t.Fatalf("invitation %d: %v", i, err)
			}
			if i == 49 {
				pWantCode(t, err, csphub.KindRateLimited, "invitation_limit")
			}
		}
	})
}

// The default cap on open invitations: 1,000 waiting for an answer.
func TestInvitePartnerDefaultOpenCap(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		// 999 open invitations sent more than a day ago (outside the daily
		// cap), still 29 days from their expiry.
		sentAt := w.clock.Now().Add(-25 * time.Hour)
		for i := range 999 {
			w.exec(`INSERT INTO partnerships (id, provider_id, state, invited_email, invited_partner_id, token_hash, invited_by,
				invited_at, expires_at, ended_reason, updated_at, version)
				VALUES (?, ?, 'invited', ?, '', ?, ?, ?, ?, '', ?, 1)`,
				csphub.NewID(), prov.org.ID, fmt.Sprintf("o%d@contoso.example", i), fmt.Sprintf("hash-%d", i), prov.agent.ID,
				sentAt, sentAt.Add(30*24*time.Hour), sentAt)
		}
		if _, err := w.svc.InvitePartner(w.ctx, prov.agent, service.InvitePartnerInput{Email: "the1000th@contoso.example"}); err != nil {
			t.Fatalf("the 1,000th: %v", err)
		}
		_, err := w.svc.InvitePartner(w.ctx, prov.agent, service.InvitePartnerInput{Email: "the1001st@contoso.example"})
		pWantCode(t, err, csphub.KindRateLimited, "open_invitation_limit")
		// Room again when the oldest open invitation expires.
		if e := csphub.AsError(err); e.RetryAfter != int((30*24*time.Hour - 25*time.Hour).Seconds()) {
			t.Fatalf("retry after %d", e.RetryAfter)
		}
	})
}

// The reseller shapes the grant it gives: 1 day to 2 years (2 years by
// default), extended by 180 days at expiry when it asks.
func TestAcceptanceGrantDuration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		a, b := w.reseller("Contoso", "FR"), w.reseller("Litware", "FR")
		_, tokenA := w.invite(prov.agent, a.agentMail, "")
		_, tokenB := w.invite(prov.agent, b.agentMail, "")

		for _, days := range []int{-1, 731, 100000} {
			_, err := w.svc.AcceptInvitation(w.ctx, a.agent, tokenA, service.AcceptInvitationInput{Authorize: true, DurationDays: days})
			agrWantFields(t, err, "duration_days/out_of_range")
		}
		_, err := w.svc.AcceptInvitation(w.ctx, a.agent, tokenA, service.AcceptInvitationInput{DurationDays: 731})
		agrWantFields(t, err, "authorize/required", "duration_days/out_of_range")
		if w.count(`SELECT COUNT(*) FROM delegated_admin_grants`) != 0 {
			t.Fatal("a refused acceptance made a grant")
		}

		// One day, extended: the expiry job adds 180 days.
		v, err := w.svc.AcceptInvitation(w.ctx, a.agent, tokenA, service.AcceptInvitationInput{Authorize: true, DurationDays: 1, AutoExtend: true})
		if err != nil || v.Grant == nil || v.Grant.DurationDays != 1 || !v.Grant.AutoExtend || !v.Grant.ExpiresAt.Equal(w.clock.Now().AddDate(0, 0, 1)) {
			t.Fatalf("one day: %+v %v", v.Grant, err)
		}
		// Two years, the most.
		v2, err := w.svc.AcceptInvitation(w.ctx, b.agent, tokenB, service.AcceptInvitationInput{Authorize: true, DurationDays: 730})
		if err != nil || v2.Grant == nil || v2.Grant.DurationDays != 730 || v2.Grant.AutoExtend || !v2.Grant.ExpiresAt.Equal(w.clock.Now().AddDate(0, 0, 730)) {
			t.Fatalf("two years: %+v %v", v2.Grant, err)
		}
		w.clock.Advance(24*time.Hour + time.Minute)
		if n, err := w.svc.ExpireGrants(w.ctx); err != nil || n != 1 {
			t.Fatalf("expiry job: %d %v", n, err)
		}
		g, err := w.svc.GetGrant(w.ctx, a.ga, v.Grant.ID)
		if err != nil || g.State != csphub.GrantActive || !g.ExpiresAt.Equal(v.Grant.ExpiresAt.AddDate(0, 0, 180)) {
			t.Fatalf("extended: %+v %v", g, err)
		}
		if _, err := w.svc.DelegatedActor(w.ctx, prov.agent, a.org.ID); err != nil {
			t.Fatalf("delegation after the extension: %v", err)
		}
	})
}

// The whole journey: invitation, the link, every refusal at acceptance,
// acceptance with its grant, emails, events and audit; then suspension,
// reactivation and termination, with the transitions refused on the way.
func TestPartnershipJourney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		res := w.reseller("Contoso", "FR")
		us := w.reseller("Northwind", "US")
		stranger := w.reseller("Tailspin", "FR")

		inv, token := w.invite(prov.agent, res.agentMail, "")
		if inv.State != csphub.PartnershipInvited || inv.ProviderName != "Fabrikam" || inv.ProviderPartnerID != prov.partnerID ||
			!inv.ExpiresAt.Equal(inv.InvitedAt.Add(30*24*time.Hour)) || inv.InvitedBy != prov.agent.ID || inv.ResellerID != "" {
			t.Fatalf("invitation: %+v", inv)
		}
		// The email: to the invited address, in the inviter's language,
		// with the link; only the token's SHA-256 is stored.
		m := w.sent[len(w.sent)-1]
		if m.Lang != "fr" || !strings.Contains(m.Text, "Fabrikam") || !strings.Contains(m.Text, "http://127.0.0.1:8080/partnership-invitations/"+token) {
			t.Fatalf("invitation email: %+v", m)
		}
		sum := sha256.Sum256([]byte(token))
		if w.count(`SELECT COUNT(*) FROM partnerships WHERE id = ? AND token_hash = ?`, inv.ID, hex.EncodeToString(sum[:])) != 1 ||
			w.count(`SELECT COUNT(*) FROM partnerships WHERE token_hash = ?`, token) != 0 {
			t.Fatal("the token's hash is not what is stored")
		}

		// The public view of the link.
		iv, err := w.svc.InvitationOf(w.ctx, token)
		if err != nil || iv.PartnershipID != inv.ID || iv.ProviderName != "Fabrikam" || !slices.Equal(iv.ProviderRegions, []string{"europe"}) ||
			!slices.Equal(iv.GrantRoles, []string{"admin_agent"}) || iv.InvitedEmail != res.agentMail {
			t.Fatalf("invitation view: %+v %v", iv, err)
		}
		for _, bad := range []string{"", "nope", token + "x", strings.Repeat("a", 200)} {
			_, err := w.svc.InvitationOf(w.ctx, bad)
			pWantCode(t, err, csphub.KindNotFound, "invitation_not_found")
		}

		// Refusals at acceptance, each leaving the link usable.
		_, err = w.svc.AcceptInvitation(w.ctx, res.agent, token, service.AcceptInvitationInput{})
		agrWantFields(t, err, "authorize/required")
		if e := csphub.AsError(err); e.Fields[0].Message != "tick the box to authorize the indirect provider" {
			t.Fatalf("message: %q", e.Fields[0].Message)
		}
		_, err = w.accept(agrUser(res.org, csphub.RoleSalesAgent), token)
		pWantCode(t, err, csphub.KindForbidden, "partnership_role_required")
		_, err = w.accept(csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: res.org.ID, Roles: []string{csphub.RoleGlobalAdmin}}, token)
		pWantCode(t, err, csphub.KindForbidden, "user_required")
		delegated := prov.agent
		delegated.OnBehalfOf = res.org.ID
		_, err = w.accept(delegated, token)
		pWantCode(t, err, csphub.KindForbidden, "delegated_access_not_allowed")
		_, err = w.accept(prov.ga, token)
		pWantCode(t, err, csphub.KindUnprocessable, "own_invitation")
		unenrolled := w.partnerParty("Wingtip", "FR")
		_, err = w.accept(unenrolled.ga, token)
		pWantCode(t, err, csphub.KindConflict, "not_enrolled")
		rejected := w.partnerParty("Proseware", "FR")
		w.enrol(rejected.org, csphub.ProgramIndirectReseller, csphub.EnrollmentRejected)
		_, err = w.accept(rejected.ga, token)
		pWantCode(t, err, csphub.KindConflict, "not_enrolled")
		_, err = w.accept(us.ga, token)
		pWantCode(t, err, csphub.KindUnprocessable, "region_not_authorized")
		_, err = w.accept(w.admin, token)
		pWantCode(t, err, csphub.KindForbidden, "partnership_role_required")
		customer := w.org(csphub.OrgCustomer, "FR")
		_, err = w.accept(agrUser(customer, csphub.RoleGlobalAdmin), token)
		pWantCode(t, err, csphub.KindForbidden, "partner_required")
		_, err = w.accept(res.agent, "unknown")
		pWantCode(t, err, csphub.KindNotFound, "invitation_not_found")
		if len(w.mail()) != 0 {
			t.Fatal("a refusal sent email")
		}

		// An enrolled reseller whose application is still in review may accept.
		v, err := w.accept(res.agent, token)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != csphub.PartnershipActive || v.ResellerID != res.org.ID || v.Region != "europe" || v.AcceptedBy != res.agent.ID ||
			v.AcceptedAt == nil || !v.AcceptedAt.Equal(w.clock.Now()) || v.ResellerName != "Contoso" || v.ResellerPartnerID != res.partnerID ||
			v.Version != 2 {
			t.Fatalf("accepted: %+v", v)
		}
		g := v.Grant
		if g == nil || g.GrantorID != res.org.ID || g.GranteeID != prov.org.ID || g.PartnershipID != v.ID || !slices.Equal(g.Roles, []string{"admin_agent"}) ||
			g.State != csphub.GrantActive || g.DurationDays != 730 || g.AutoExtend || !g.ExpiresAt.Equal(w.clock.Now().AddDate(0, 0, 730)) || g.ActivatedAt == nil {
			t.Fatalf("grant: %+v", g)
		}
		// Single use.
		_, err = w.accept(res.agent, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.accept(stranger.ga, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.InvitationOf(w.ctx, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.DeclineInvitation(w.ctx, res.agent, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")

		// Emails to both sides: the inviter and the accepter.
		to := map[string]string{}
		for _, m := range w.mail() {
			if m.Template != "partnership_status" {
				t.Fatalf("email: %+v", m)
			}
			to[m.To] = m.Text
		}
		if len(to) != 2 || !strings.Contains(to[prov.agentMail], "Contoso") || !strings.Contains(to[res.agentMail], "Fabrikam") ||
			!strings.Contains(to[prov.agentMail], "/partner/indirect-resellers") || !strings.Contains(to[res.agentMail], "/partner/indirect-providers") {
			t.Fatalf("acceptance emails: %v", to)
		}

		// Either side reads it; nobody else does.
		for _, a := range []csphub.Actor{prov.ga, res.ga, agrUser(res.org, csphub.RoleSalesAgent)} {
			if got, err := w.svc.GetPartnership(w.ctx, a, v.ID); err != nil || got.ID != v.ID || got.Grant == nil {
				t.Fatalf("get: %+v %v", got, err)
			}
		}
		for _, a := range []csphub.Actor{stranger.ga, agrUser(customer, csphub.RoleGlobalAdmin), w.admin} {
			_, err := w.svc.GetPartnership(w.ctx, a, v.ID)
			pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")
		}
		_, err = w.svc.GetPartnership(w.ctx, prov.ga, "not-an-id")
		pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")

		// A second invitation to the same reseller cannot make a second
		// live relationship.
		_, token2 := w.invite(prov.ga, res.gaEmail, res.partnerID)
		_, err = w.accept(res.ga, token2)
		pWantCode(t, err, csphub.KindConflict, "partnership_exists")

		// Suspension and reactivation: the provider's.
		_, err = w.svc.SuspendPartnership(w.ctx, res.ga, v.ID, service.PartnershipChange{})
		pWantCode(t, err, csphub.KindForbidden, "provider_only")
		_, err = w.svc.SuspendPartnership(w.ctx, stranger.ga, v.ID, service.PartnershipChange{})
		pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")
		_, err = w.svc.SuspendPartnership(w.ctx, agrUser(prov.org, csphub.RoleSalesAgent), v.ID, service.PartnershipChange{})
		pWantCode(t, err, csphub.KindForbidden, "partnership_role_required")
		_, err = w.svc.SuspendPartnership(w.ctx, prov.agent, v.ID, service.PartnershipChange{Reason: strings.Repeat("x", 2001)})
		agrWantFields(t, err, "reason/too_long")
		_, err = w.svc.ReactivatePartnership(w.ctx, prov.agent, v.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		_, err = w.svc.CancelInvitation(w.ctx, prov.agent, v.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		s, err := w.svc.SuspendPartnership(w.ctx, prov.agent, v.ID, service.PartnershipChange{Reason: " Unpaid invoices "})
		if err != nil || s.State != csphub.PartnershipSuspended || s.Version != 3 || s.Grant == nil {
			t.Fatalf("suspend: %+v %v", s, err)
		}
		_, err = w.svc.SuspendPartnership(w.ctx, prov.agent, v.ID, service.PartnershipChange{})
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		mails := w.mail()
		if len(mails) != 2 || !strings.Contains(mails[0].Text, "Unpaid invoices") {
			t.Fatalf("suspension emails: %+v", mails)
		}
		_, err = w.svc.ReactivatePartnership(w.ctx, res.ga, v.ID)
		pWantCode(t, err, csphub.KindForbidden, "provider_only")
		r, err := w.svc.ReactivatePartnership(w.ctx, prov.ga, v.ID)
		if err != nil || r.State != csphub.PartnershipActive {
			t.Fatalf("reactivate: %+v %v", r, err)
		}

		// Termination: either side, with a reason; the grant ends with it.
		_, err = w.svc.TerminatePartnership(w.ctx, res.ga, v.ID, service.PartnershipChange{Reason: "  "})
		agrWantFields(t, err, "reason/required")
		_, err = w.svc.TerminatePartnership(w.ctx, stranger.ga, v.ID, service.PartnershipChange{Reason: "no"})
		pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")
		term, err := w.svc.TerminatePartnership(w.ctx, res.agent, v.ID, service.PartnershipChange{Reason: "We work with another provider."})
		if err != nil || term.State != csphub.PartnershipTerminated || term.EndedByOrg != res.org.ID || term.EndedReason != "We work with another provider." ||
			term.EndedAt == nil || term.Grant != nil {
			t.Fatalf("terminate: %+v %v", term, err)
		}
		if w.count(`SELECT COUNT(*) FROM delegated_admin_grants WHERE partnership_id = ? AND state = 'terminated' AND ended_by = ?`, v.ID, res.agent.ID) != 1 {
			t.Fatal("the grant did not end with the relationship")
		}
		for _, f := range []func() error{
			func() error {
				_, err := w.svc.TerminatePartnership(w.ctx, prov.ga, v.ID, service.PartnershipChange{Reason: "again"})
				return err
			},
			func() error { _, err := w.svc.ReactivatePartnership(w.ctx, prov.ga, v.ID); return err },
			func() error {
				_, err := w.svc.SuspendPartnership(w.ctx, prov.ga, v.ID, service.PartnershipChange{})
				return err
			},
		} {
			pWantCode(t, f(), csphub.KindConflict, "invalid_transition")
		}
		mails = w.mail()
		if len(mails) != 4 { // reactivation and termination, both sides
			t.Fatalf("emails: %+v", mails)
		}
		for _, m := range mails[2:] {
			if !strings.Contains(m.Text, "We work with another provider.") || !strings.Contains(m.Text, "Contoso") {
				t.Fatalf("termination email: %+v", m)
			}
		}
		// Once ended, the pair may start again: the second invitation works.
		again, err := w.accept(res.ga, token2)
		if err != nil || again.State != csphub.PartnershipActive || again.Grant == nil {
			t.Fatalf("accept again: %+v %v", again, err)
		}

		// Events to both sides, audit on both sides.
		if got := w.eventTypes(prov.ga); !slices.Equal(got, []string{"partnership.invited", "partnership.accepted", "partnership.invited",
			"partnership.suspended", "partnership.active", "partnership.terminated", "partnership.accepted"}) {
			t.Fatalf("provider events: %v", got)
		}
		if got := w.eventTypes(res.ga); !slices.Equal(got, []string{"partnership.accepted", "partnership.suspended", "partnership.active",
			"partnership.terminated", "partnership.accepted"}) {
			t.Fatalf("reseller events: %v", got)
		}
		for _, side := range []csphub.Actor{prov.ga, res.ga} {
			all, err := w.svc.ListEvents(w.ctx, side, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(all.Events, func(e csphub.Event) bool { return e.Type == "grant.terminated" }) {
				t.Fatalf("no grant.terminated event for %s", side.OrgID)
			}
		}
		if got := w.eventTypes(stranger.ga); len(got) != 0 {
			t.Fatalf("a third partner sees: %v", got)
		}
		// The grant the reseller gave ends with the relationship: the
		// provider's log shows it too.
		if got := w.auditActions(prov.ga); !slices.Equal(got, []string{"partnership.invite", "partnership.invite", "partnership.suspend",
			"partnership.reactivate", "delegated_admin_grant.terminate"}) {
			t.Fatalf("provider audit: %v", got)
		}
		if got := w.auditActions(res.ga); !slices.Equal(got, []string{"partnership.accept", "delegated_admin_grant.create", "partnership.terminate",
			"delegated_admin_grant.terminate", "partnership.accept", "delegated_admin_grant.create"}) {
			t.Fatalf("reseller audit: %v", got)
		}
	})
}

// At acceptance the provider's standing is checked again.
func TestAcceptanceChecksTheProviderAgain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe", "north_america")
		us := w.reseller("Northwind", "US")
		fr := w.reseller("Contoso", "FR")
		other := w.reseller("Tailspin", "FR")

		_, usToken := w.invite(prov.agent, us.agentMail, us.partnerID)
		_, named := w.invite(prov.agent, fr.agentMail, fr.partnerID)
		_, open := w.invite(prov.agent, "who@ever.example", "")

		// The invitation names a partner ID: only that partner accepts or declines.
		_, err := w.accept(other.agent, named)
		pWantCode(t, err, csphub.KindForbidden, "partner_id_mismatch")
		_, err = w.svc.DeclineInvitation(w.ctx, other.agent, named)
		pWantCode(t, err, csphub.KindForbidden, "partner_id_mismatch")

		// The operator withdraws North America.
		w.authorize(prov.org, "europe")
		_, err = w.accept(us.agent, usToken)
		pWantCode(t, err, csphub.KindUnprocessable, "region_not_authorized")

		// A new agreement version takes effect: the provider must accept it.
		w.publish("2026-03b", agrDay(3, 10), "europe")
		w.clock.Set(agrDay(3, 11))
		_, err = w.accept(fr.agent, named)
		pWantCode(t, err, csphub.KindConflict, "agreement_not_accepted")
		w.sign(prov)
		if _, err := w.accept(fr.agent, named); err != nil {
			t.Fatal(err)
		}

		// The provider membership is withdrawn.
		w.exec(`UPDATE enrollments SET state = 'rejected' WHERE org_id = ? AND program = 'indirect_provider'`, prov.org.ID)
		_, err = w.accept(other.agent, open)
		pWantCode(t, err, csphub.KindConflict, "provider_not_approved")
		if _, err := w.svc.InvitationOf(w.ctx, open); err != nil {
			t.Fatalf("the link still shows: %v", err)
		}
	})
}

func TestDeclineAndCancel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		res := w.reseller("Contoso", "FR")
		stranger := w.reseller("Tailspin", "FR")

		inv, token := w.invite(prov.agent, res.agentMail, "")
		_, err := w.svc.DeclineInvitation(w.ctx, agrUser(res.org, csphub.RoleHelpdeskAgent), token)
		pWantCode(t, err, csphub.KindForbidden, "partnership_role_required")
		_, err = w.svc.DeclineInvitation(w.ctx, prov.agent, token)
		pWantCode(t, err, csphub.KindUnprocessable, "own_invitation")
		// The reseller is not a side before it answers.
		_, err = w.svc.GetPartnership(w.ctx, res.ga, inv.ID)
		pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")
		d, err := w.svc.DeclineInvitation(w.ctx, res.agent, token)
		if err != nil || d.State != csphub.PartnershipDeclined || d.ResellerName != "Contoso" || d.EndedByOrg != res.org.ID || d.AcceptedAt != nil || d.Grant != nil {
			t.Fatalf("decline: %+v %v", d, err)
		}
		_, err = w.accept(res.agent, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.InvitationOf(w.ctx, token)
		pWantCode(t, err, csphub.KindConflict, "invitation_used")
		_, err = w.svc.CancelInvitation(w.ctx, prov.agent, inv.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		to := map[string]bool{}
		for _, m := range w.mail() {
			to[m.To] = m.Template == "partnership_status"
		}
		if len(to) != 2 || !to[prov.agentMail] || !to[res.agentMail] {
			t.Fatalf("decline emails: %v", to)
		}
		if w.count(`SELECT COUNT(*) FROM delegated_admin_grants`) != 0 {
			t.Fatal("a declined invitation made a grant")
		}
		// Declined: not one of the reseller's providers.
		if p, err := w.svc.ListIndirectProviders(w.ctx, res.ga, service.PartnershipQuery{}); err != nil || len(p.Items) != 0 {
			t.Fatalf("reseller list: %+v %v", p, err)
		}

		// Cancellation: the provider's, while the invitation is open.
		inv2, token2 := w.invite(prov.agent, "someone@contoso.example", "")
		_, err = w.svc.CancelInvitation(w.ctx, res.ga, inv2.ID)
		pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")
		_, err = w.svc.CancelInvitation(w.ctx, stranger.ga, inv2.ID)
		pWantCode(t, err, csphub.KindNotFound, "partnership_not_found")
		c, err := w.svc.CancelInvitation(w.ctx, prov.ga, inv2.ID)
		if err != nil || c.State != csphub.PartnershipCancelled || c.EndedByOrg != prov.org.ID {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		_, err = w.svc.CancelInvitation(w.ctx, prov.ga, inv2.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		_, err = w.svc.InvitationOf(w.ctx, token2)
		pWantCode(t, err, csphub.KindConflict, "invitation_cancelled")
		_, err = w.accept(res.agent, token2)
		pWantCode(t, err, csphub.KindConflict, "invitation_cancelled")
		to = map[string]bool{}
		for _, m := range w.mail() {
			to[m.To] = true
		}
		if len(to) != 2 || !to[prov.gaEmail] && !to[prov.agentMail] || !to["someone@contoso.example"] {
			t.Fatalf("cancellation emails: %v", to)
		}
		if got := w.eventTypes(prov.ga); !slices.Equal(got, []string{"partnership.invited", "partnership.declined", "partnership.invited", "partnership.cancelled"}) {
			t.Fatalf("provider events: %v", got)
		}
		if got := w.eventTypes(res.ga); !slices.Equal(got, []string{"partnership.declined"}) {
			t.Fatalf("reseller events: %v", got)
		}
	})
}

func TestExpireInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		res := w.reseller("Contoso", "FR")
		a, tokenA := w.invite(prov.agent, "a@contoso.example", "")
		w.clock.Advance(time.Hour)
		_, tokenB := w.invite(prov.agent, "b@contoso.example", "")
		_, tokenC := w.invite(prov.agent, res.agentMail, "")
		accepted, err := w.accept(res.agent, tokenC)
		if err != nil {
			t.Fatal(err)
		}
		w.mail()

		w.clock.Advance(30*24*time.Hour - 2*time.Hour)
		if n, err := w.svc.ExpireInvitations(w.ctx); err != nil || n != 0 {
			t.Fatalf("expired %d early: %v", n, err)
		}
		w.clock.Advance(time.Hour) // a's 30 days are over, b's not yet
		// The link stops working at its expiry, before the job runs.
		_, err = w.svc.InvitationOf(w.ctx, tokenA)
		pWantCode(t, err, csphub.KindConflict, "invitation_expired")
		_, err = w.accept(res.agent, tokenA)
		pWantCode(t, err, csphub.KindConflict, "invitation_expired")
		if _, err := w.svc.InvitationOf(w.ctx, tokenB); err != nil {
			t.Fatal(err)
		}
		if n, err := w.svc.ExpireInvitations(w.ctx); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
		got, err := w.svc.GetPartnership(w.ctx, prov.ga, a.ID)
		if err != nil || got.State != csphub.PartnershipExpired || got.EndedAt == nil || got.EndedByOrg != "" {
			t.Fatalf("expired: %+v %v", got, err)
		}
		w.clock.Advance(time.Hour)
		if n, err := w.svc.ExpireInvitations(w.ctx); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
		if n, err := w.svc.ExpireInvitations(w.ctx); err != nil || n != 0 {
			t.Fatalf("expired %d again: %v", n, err)
		}
		_, err = w.svc.InvitationOf(w.ctx, tokenB)
		pWantCode(t, err, csphub.KindConflict, "invitation_expired")
		if got, _ := w.svc.GetPartnership(w.ctx, prov.ga, accepted.ID); got.State != csphub.PartnershipActive {
			t.Fatalf("an accepted relationship expired: %+v", got)
		}
		_, err = w.svc.CancelInvitation(w.ctx, prov.ga, a.ID)
		pWantCode(t, err, csphub.KindConflict, "invalid_transition")
		// Audited as the system; both sides told.
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'partnership.expire' AND actor_kind = 'system'`); n != 2 {
			t.Fatalf("%d expiry audit records", n)
		}
		to := map[string]int{}
		for _, m := range w.mail() {
			to[m.To]++
		}
		if to[prov.agentMail] != 2 || to["a@contoso.example"] != 1 || to["b@contoso.example"] != 1 {
			t.Fatalf("expiry emails: %v", to)
		}
		if got := w.eventTypes(prov.ga); !slices.Equal(got[len(got)-2:], []string{"partnership.expired", "partnership.expired"}) {
			t.Fatalf("events: %v", got)
		}
	})
}

// One link, a hundred acceptances at once: exactly one relationship.
func TestAcceptanceIsSingleUseUnderConcurrency(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		res := w.reseller("Contoso", "FR")
		other := w.reseller("Tailspin", "FR")
		_, token := w.invite(prov.agent, res.agentMail, "")

		var wg sync.WaitGroup
		errs := make([]error, 100)
		start := make(chan struct{})
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				actor := res.agent
				if i%2 == 1 {
					actor = other.ga
				}
				_, errs[i] = w.svc.AcceptInvitation(context.Background(), actor, token, service.AcceptInvitationInput{Authorize: true})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case csphub.AsError(err) != nil && csphub.AsError(err).Code == "invitation_used":
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d acceptances succeeded", ok)
		}
		if n := w.count(`SELECT COUNT(*) FROM partnerships WHERE state = 'active'`); n != 1 {
			t.Fatalf("%d active relationships", n)
		}
		if n := w.count(`SELECT COUNT(*) FROM delegated_admin_grants`); n != 1 {
			t.Fatalf("%d grants", n)
		}
		if n := w.count(`SELECT COUNT(*) FROM audit_records WHERE action = 'partnership.accept'`); n != 1 {
			t.Fatalf("%d acceptances audited", n)
		}
	})
}

func TestPartnershipLists(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPWorld(t, engine)
		prov := w.provider("Fabrikam", "europe")
		prov2 := w.provider("Adatum", "europe")
		names := []string{"Contoso", "Contour", "Litware", "Northwind", "Proseware"}
		var resellers []party
		for _, n := range names {
			resellers = append(resellers, w.reseller(n, "FR"))
		}
		// All at the same instant: the keyset's id breaks the ties.
		for _, r := range resellers[:3] {
			w.active(prov, r)
		}
		w.clock.Advance(time.Minute)
		for _, r := range resellers[3:] {
			w.active(prov, r)
		}
		w.active(prov2, resellers[0])
		w.invite(prov.agent, "open@wingtip.example", "8000123")
		declined, token := w.invite(prov.agent, "no@contoso.example", "")
		if _, err := w.svc.DeclineInvitation(w.ctx, resellers[4].ga, token); err != nil {
			t.Fatal(err)
		}

		// The provider's page, every page of two, newest invitation first.
		var all []service.PartnershipView
		q := service.PartnershipQuery{PageSize: 2}
		for pages := 0; ; pages++ {
			p, err := w.svc.ListIndirectResellers(w.ctx, prov.agent, q)
			if err != nil || len(p.Items) > 2 || pages > 5 {
				t.Fatalf("page: %+v %v", p, err)
			}
			all = append(all, p.Items...)
			if p.NextPageToken == "" {
				break
			}
			q.PageToken = p.NextPageToken
		}
		if len(all) != 7 || all[0].ID != declined.ID {
			t.Fatalf("%d rows, first %+v", len(all), all[0])
		}
		seen := map[string]bool{}
		for i, v := range all {
			if seen[v.ID] {
				t.Fatalf("row %s twice", v.ID)
			}
			seen[v.ID] = true
			if v.ProviderID != prov.org.ID || v.ProviderName != "Fabrikam" {
				t.Fatalf("row of another provider: %+v", v)
			}
			if i > 0 && (v.InvitedAt.After(all[i-1].InvitedAt) || v.InvitedAt.Equal(all[i-1].InvitedAt) && v.ID > all[i-1].ID) {
				t.Fatalf("out of order at %d", i)
			}
			if v.State == csphub.PartnershipActive && (v.Grant == nil || v.ResellerName == "" || v.ResellerPartnerID == "") {
				t.Fatalf("active row without its names or grant: %+v", v)
			}
		}

		list := func(provider bool, a csphub.Actor, q service.PartnershipQuery) []string {
			t.Helper()
			f := w.svc.ListIndirectResellers
			if !provider {
				f = w.svc.ListIndirectProviders
			}
			p, err := f(w.ctx, a, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, v := range p.Items {
				if provider {
					out = append(out, v.ResellerName+"/"+v.InvitedPartnerID)
				} else {
					out = append(out, v.ProviderName)
				}
			}
			slices.Sort(out)
			return out
		}
		if got := list(true, prov.ga, service.PartnershipQuery{Q: "cont"}); !slices.Equal(got, []string{"Contoso/", "Contour/"}) {
			t.Fatalf("by name: %v", got)
		}
		if got := list(true, prov.ga, service.PartnershipQuery{Q: resellers[3].partnerID}); !slices.Equal(got, []string{"Northwind/"}) {
			t.Fatalf("by partner ID: %v", got)
		}
		if got := list(true, prov.ga, service.PartnershipQuery{Q: "800"}); !slices.Equal(got, []string{"/8000123"}) {
			t.Fatalf("by invited partner ID: %v", got)
		}
		if got := list(true, prov.ga, service.PartnershipQuery{Q: "%"}); len(got) != 0 {
			t.Fatalf("wildcard: %v", got)
		}
		if got := list(true, prov.ga, service.PartnershipQuery{State: "declined"}); !slices.Equal(got, []string{"Proseware/"}) {
			t.Fatalf("declined: %v", got)
		}
		if got := list(true, prov.ga, service.PartnershipQuery{State: "invited"}); !slices.Equal(got, []string{"/8000123"}) {
			t.Fatalf("invited: %v", got)
		}
		if got := list(true, prov.ga, service.PartnershipQuery{State: "active", Q: "n"}); !slices.Equal(got, []string{"Northwind/"}) {
			t.Fatalf("active n: %v", got)
		}
		// The reseller's page: its providers, not the declined invitation.
		if got := list(false, resellers[0].ga, service.PartnershipQuery{}); !slices.Equal(got, []string{"Adatum", "Fabrikam"}) {
			t.Fatalf("reseller: %v", got)
		}
		if got := list(false, resellers[0].ga, service.PartnershipQuery{Q: "fab"}); !slices.Equal(got, []string{"Fabrikam"}) {
			t.Fatalf("reseller search: %v", got)
		}
		if got := list(false, resellers[0].ga, service.PartnershipQuery{Q: prov2.partnerID}); !slices.Equal(got, []string{"Adatum"}) {
			t.Fatalf("reseller search by partner ID: %v", got)
		}
		p, err := w.svc.ListIndirectProviders(w.ctx, resellers[0].agent, service.PartnershipQuery{PageSize: 1})
		if err != nil || len(p.Items) != 1 || p.Items[0].ProviderName != "Adatum" || p.NextPageToken == "" {
			t.Fatalf("reseller page: %+v %v", p, err)
		}
		p, err = w.svc.ListIndirectProviders(w.ctx, resellers[0].agent, service.PartnershipQuery{PageSize: 1, PageToken: p.NextPageToken})
		if err != nil || len(p.Items) != 1 || p.Items[0].ProviderName != "Fabrikam" || p.NextPageToken != "" || p.Items[0].Grant == nil {
			t.Fatalf("reseller page 2: %+v %v", p, err)
		}
		// Another partner sees nothing of it; a customer is refused.
		if got := list(true, prov2.ga, service.PartnershipQuery{}); !slices.Equal(got, []string{"Contoso/"}) {
			t.Fatalf("other provider: %v", got)
		}
		_, err = w.svc.ListIndirectResellers(w.ctx, agrUser(w.org(csphub.OrgCustomer, "FR"), csphub.RoleGlobalAdmin), service.PartnershipQuery{})
		pWantCode(t, err, csphub.KindForbidden, "partner_required")

		_, err = w.svc.ListIndirectResellers(w.ctx, prov.ga, service.PartnershipQuery{State: "gone", PageToken: "!!", Q: strings.Repeat("q", 201)})
		agrWantFields(t, err, "state/invalid_state", "page_token/invalid_page_token", "q/too_long")
	})
}
