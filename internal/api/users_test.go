package api_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/password"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
	"csphub/internal/totp"
)

var invitationLink = regexp.MustCompile(`/user-invitations/([A-Za-z0-9_-]{43})`)

// userWorld is an API served with real sessions, a manual clock, and the
// TOTP secrets of the users who enrolled, so that partner and operator
// users can pass MFA at every sign-in.
type userWorld struct {
	*env
	clock *csphub.ManualClock
	totp  map[string]string // email -> TOTP secret
}

func newUserWorld(t *testing.T, engine string) *userWorld {
	clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 10, 0, time.UTC))
	return &userWorld{env: newIdentityEnv(t, engine, clock), clock: clock, totp: map[string]string{}}
}

// session signs a user in with strongPassword and, when mfa is set, passes
// TOTP (enrolling it at the first sign-in), returning the session token.
func (w *userWorld) session(email string, mfa bool) string {
	w.t.Helper()
	tok, r := w.signIn(email, strongPassword)
	if r.status != 201 {
		w.t.Fatalf("sign in %s: %d %s", email, r.status, r.body)
	}
	if !mfa {
		return tok
	}
	secret, enrolled := w.totp[email]
	if !enrolled {
		var en service.TOTPEnrollment
		w.do("POST", "/api/v1/me/mfa/totp", tok, "").json(w.t, &en)
		secret = en.Secret
		w.totp[email] = secret
	} else {
		w.clock.Advance(30 * time.Second) // a TOTP code works once: use the next one
	}
	code, err := totp.Code(secret, w.clock.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	r = w.do("POST", "/api/v1/me/mfa/totp/verify", tok, `{"code":"`+code+`"}`)
	if r.status != 200 {
		w.t.Fatalf("MFA %s: %d %s", email, r.status, r.body)
	}
	var passed service.MFAResult
	r.json(w.t, &passed)
	return passed.SessionToken
}

// admin signs up an organization and returns it with a session of its
// global admin (MFA passed for partners).
func (w *userWorld) admin(kind, email string) (service.SignupResult, string) {
	w.t.Helper()
	out := w.signup(kind, email)
	return out, w.session(email, kind == "partner")
}

func inviteBody(email, name string, roles ...string) string {
	if roles == nil {
		roles = []string{}
	}
	b, _ := json.Marshal(map[string]any{"email": email, "name": name, "lang": "fr", "roles": roles})
	return string(b)
}

// invite invites email with roles and returns the new user and the token
// of the emailed link.
func (w *userWorld) invite(adminTok, email string, roles ...string) (service.InvitedUser, string) {
	w.t.Helper()
	r := w.do("POST", "/api/v1/users", adminTok, inviteBody(email, "Robert Dupont", roles...))
	if r.status != 201 {
		w.t.Fatalf("invite %s: %d %s", email, r.status, r.body)
	}
	var u service.InvitedUser
	r.json(w.t, &u)
	for _, m := range w.mail() {
		if m.To == email && m.Template == "user_invitation" {
			if l := invitationLink.FindStringSubmatch(m.Text); l != nil {
				return u, l[1]
			}
		}
	}
	w.t.Fatalf("no invitation email to %s", email)
	return u, ""
}

// member invites email with roles, accepts with strongPassword and signs
// in, returning the user and a session.
func (w *userWorld) member(adminTok, email string, mfa bool, roles ...string) (service.InvitedUser, string) {
	w.t.Helper()
	u, token := w.invite(adminTok, email, roles...)
	if r := w.accept(token, strongPassword); r.status != 200 {
		w.t.Fatalf("accept %s: %d %s", email, r.status, r.body)
	}
	return u, w.session(email, mfa)
}

func (w *userWorld) accept(token, pw string) response {
	w.t.Helper()
	return w.do("POST", "/api/v1/user-invitations/"+token+"/accept", "", `{"password":"`+pw+`"}`)
}

func (w *userWorld) user(tok, id string) (service.UserView, string) {
	w.t.Helper()
	r := w.do("GET", "/api/v1/users/"+id, tok, "")
	if r.status != 200 {
		w.t.Fatalf("get user %s: %d %s", id, r.status, r.body)
	}
	var v service.UserView
	r.json(w.t, &v)
	return v, r.header.Get("ETag")
}

func (w *userWorld) users(tok, query string) service.UserPage {
	w.t.Helper()
	r := w.do("GET", "/api/v1/users"+query, tok, "")
	if r.status != 200 {
		w.t.Fatalf("list users: %d %s", r.status, r.body)
	}
	var p service.UserPage
	r.json(w.t, &p)
	return p
}

// activeHolders counts the organization's active users with role who can
// sign in.
func (w *userWorld) activeHolders(tok, role string) int {
	w.t.Helper()
	n := 0
	for _, u := range w.users(tok, "?page_size=500").Items {
		if u.Status == csphub.UserActive && !u.InvitationPending && slices.Contains(u.Roles, role) {
			n++
		}
	}
	return n
}

func (w *userWorld) auditOf(tok string) []csphub.AuditRecord {
	w.t.Helper()
	if err := w.svc.SequenceJournal(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	var p service.AuditPage
	r := w.do("GET", "/api/v1/audit-records?action_prefix=user.&page_size=500", tok, "")
	if r.status != 200 {
		w.t.Fatalf("audit: %d %s", r.status, r.body)
	}
	r.json(w.t, &p)
	return p.Records
}

func (w *userWorld) eventsOf(tok string) []csphub.Event {
	w.t.Helper()
	if err := w.svc.SequenceJournal(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	var p service.EventPage
	r := w.do("GET", "/api/v1/events?page_size=500", tok, "")
	if r.status != 200 {
		w.t.Fatalf("events: %d %s", r.status, r.body)
	}
	r.json(w.t, &p)
	return p.Events
}

type request struct {
	method, path, token, body string
	ifMatch                   string
}

// all sends the requests at the same moment and returns their statuses and
// codes, in order.
func (w *userWorld) all(reqs []request) []string {
	w.t.Helper()
	out := make([]string, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, rq := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(rq.method, w.srv.URL+rq.path, strings.NewReader(rq.body))
			req.Header.Set("Content-Type", "application/json")
			if rq.token != "" {
				req.Header.Set("Authorization", "Bearer "+rq.token)
			}
			if rq.ifMatch != "" {
				req.Header.Set("If-Match", rq.ifMatch)
			}
			<-start
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				out[i] = "error: " + err.Error()
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			var p struct{ Code string }
			_ = json.Unmarshal(b, &p)
			out[i] = itoa(int64(res.StatusCode)) + " " + p.Code
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestUserInvitationAndAcceptance(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		org, admin := w.admin("customer", "admin@fabrikam.example")

		r := w.do("POST", "/api/v1/users", admin, inviteBody("Bob@Fabrikam.example", "Robert Dupont", "billing_admin"))
		if r.status != 201 || r.header.Get("ETag") == "" {
			t.Fatalf("invite: %d %v %s", r.status, r.header, r.body)
		}
		var bob service.InvitedUser
		r.json(t, &bob)
		if bob.Email != "bob@fabrikam.example" || bob.OrgID != org.Organization.ID || bob.Status != csphub.UserActive ||
			!bob.InvitationPending || !slices.Equal(bob.Roles, []string{"billing_admin"}) || bob.Lang != "fr" ||
			!bob.InvitationExpiresAt.Equal(w.clock.Now().Add(7*24*time.Hour)) {
			t.Fatalf("invited user %+v", bob)
		}
		mails := w.mail()
		if len(mails) != 1 || mails[0].To != "bob@fabrikam.example" || mails[0].Lang != "fr" || mails[0].Template != "user_invitation" ||
			!strings.Contains(mails[0].Subject, "Contoso customer") {
			t.Fatalf("mails %+v", mails)
		}
		m := invitationLink.FindStringSubmatch(mails[0].Text)
		if m == nil || !strings.Contains(mails[0].HTML, m[1]) || !strings.HasPrefix(mails[0].Text[strings.Index(mails[0].Text, "http"):], "http://127.0.0.1:8080/user-invitations/") {
			t.Fatalf("no link in %q", mails[0].Text)
		}
		token := m[1] // 43 base64url characters: 256 random bits

		// B1: the database keeps only the SHA-256 of the token.
		if engine == "sqlite" {
			raw, err := sql.Open("sqlite", "file:"+w.db.Where()+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var hash, all string
			if err := raw.QueryRow(`SELECT token_hash, id || user_id || org_id || email || invited_by FROM user_invitations`).Scan(&hash, &all); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(token))
			if hash != hex.EncodeToString(sum[:]) || strings.Contains(all, token) {
				t.Fatalf("stored %q, want the SHA-256 of the token only", hash)
			}
		}

		// Nobody signs in as an invited user before they choose a password.
		_, r = w.signIn("bob@fabrikam.example", strongPassword)
		wantProblem(t, r, 401, "invalid_credentials")

		// A weak password is refused and leaves the link usable.
		wantProblem(t, w.accept(token, "password"), 422, "invalid_input")
		r = w.do("POST", "/api/v1/user-invitations/"+token+"/accept", "", `{"name":"Bob Dupont","password":"`+strongPassword+`"}`)
		if r.status != 200 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		var accepted service.UserView
		r.json(t, &accepted)
		if accepted.ID != bob.ID || accepted.InvitationPending || accepted.Name != "Bob Dupont" {
			t.Fatalf("accepted %+v", accepted)
		}
		// B2: a second redemption fails, with the answer an unknown token gets (A3).
		used := wantProblem(t, w.accept(token, strongPassword), 404, "invitation_not_found")
		unknown := wantProblem(t, w.accept(strings.Repeat("A", 43), strongPassword), 404, "invitation_not_found")
		if used.Detail != unknown.Detail {
			t.Fatalf("used %q, unknown %q: the answers must not differ", used.Detail, unknown.Detail)
		}
		bobTok := w.session("bob@fabrikam.example", false)
		// A billing admin does not manage users.
		wantProblem(t, w.do("GET", "/api/v1/users", bobTok, ""), 403, "missing_role")

		// The list: filters on email or name prefix, ignoring case; pages by keyset.
		w.invite(admin, "carol@fabrikam.example", "user")
		if p := w.users(admin, ""); len(p.Items) != 3 || p.Items[0].Email != "admin@fabrikam.example" || p.NextPageToken != "" {
			t.Fatalf("list %+v", p)
		}
		for q, want := range map[string]int{"bob": 1, "BOB@": 1, "bob%20dup": 1, "Robert": 1, "jeanne": 1, "%25": 0, "_": 0, "fabrikam": 0, "": 3} {
			if p := w.users(admin, "?q="+q); len(p.Items) != want {
				t.Errorf("q=%s: %d users, want %d", q, len(p.Items), want)
			}
		}
		var seen []string
		next := ""
		for range 4 {
			p := w.users(admin, "?page_size=2&page_token="+next)
			for _, u := range p.Items {
				seen = append(seen, u.Email)
			}
			if next = p.NextPageToken; next == "" {
				break
			}
		}
		if len(seen) != 3 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 3 {
			t.Fatalf("pages gave %v", seen)
		}
		wantProblem(t, w.do("GET", "/api/v1/users?page_token=garbage", admin, ""), 422, "invalid_input")

		// Every change has its audit record (with before/after) and its event.
		actions := map[string]csphub.AuditRecord{}
		for _, rec := range w.auditOf(admin) {
			actions[rec.Action] = rec
		}
		if rec := actions["user.invite"]; rec.After == nil || rec.ResourceID == "" {
			t.Fatalf("no user.invite audit record: %v", actions)
		}
		if rec := actions["user.invitation_accept"]; rec.Before == nil || rec.After == nil || rec.ActorID != bob.ID {
			t.Fatalf("user.invitation_accept audit record: %+v", rec)
		}
		types := map[string]int{}
		for _, ev := range w.eventsOf(admin) {
			types[ev.Type]++
		}
		if types["user.invited"] != 2 || types["user.updated"] != 1 {
			t.Fatalf("events %v", types)
		}

		// An invitation is for one email: inviting a taken one is refused.
		wantProblem(t, w.do("POST", "/api/v1/users", admin, inviteBody("bob@fabrikam.example", "Bob")), 409, "email_taken")
		// A retried invitation with its Idempotency-Key creates one user and sends one email.
		body := inviteBody("dave@fabrikam.example", "Dave")
		first := w.do("POST", "/api/v1/users", admin, body, "Idempotency-Key", "invite-dave")
		again := w.do("POST", "/api/v1/users", admin, body, "Idempotency-Key", "invite-dave")
		var u1, u2 service.InvitedUser
		first.json(t, &u1)
		again.json(t, &u2)
		if mails := w.mail(); first.status != 201 || again.status != 201 || u1.ID != u2.ID || again.header.Get("Idempotent-Replayed") != "true" || len(mails) != 1 {
			t.Fatalf("retried invitation: %d %d %s %s, %d mails", first.status, again.status, first.body, again.body, len(mails))
		}
	})
}

// B3, B4: the link expires by the injected clock, and works only for the
// user it was issued to, as long as that user is active.
func TestUserInvitationExpiryAndBinding(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, admin := w.admin("customer", "admin@fabrikam.example")

		_, late := w.invite(admin, "late@fabrikam.example", "user")
		_, onTime := w.invite(admin, "ontime@fabrikam.example", "user")
		w.clock.Advance(7*24*time.Hour - time.Second)
		if r := w.accept(onTime, strongPassword); r.status != 200 {
			t.Fatalf("a second before expiry: %d %s", r.status, r.body)
		}
		w.clock.Advance(time.Second)
		wantProblem(t, w.accept(late, strongPassword), 404, "invitation_not_found")
		admin = w.session("admin@fabrikam.example", false) // sessions end after 7 days too

		// Disabled or deleted since the invitation: the link is dead.
		disabled, tok1 := w.invite(admin, "disabled@fabrikam.example", "user")
		deleted, tok2 := w.invite(admin, "deleted@fabrikam.example", "user")
		if r := w.do("PATCH", "/api/v1/users/"+disabled.ID, admin, `{"status":"disabled"}`); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if r := w.do("DELETE", "/api/v1/users/"+deleted.ID, admin, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		wantProblem(t, w.accept(tok1, strongPassword), 404, "invitation_not_found")
		wantProblem(t, w.accept(tok2, strongPassword), 404, "invitation_not_found")
		if v, _ := w.user(admin, disabled.ID); !v.InvitationPending {
			t.Fatal("a refused link set a password")
		}
	})
}

// B2: 100 concurrent redemptions of one link, exactly one success.
func TestUserInvitationConcurrentRedemptions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, admin := w.admin("customer", "admin@fabrikam.example")
		u, token := w.invite(admin, "racer@fabrikam.example", "user")
		reqs := make([]request, 100)
		for i := range reqs {
			reqs[i] = request{"POST", "/api/v1/user-invitations/" + token + "/accept", "", `{"password":"` + strongPassword + `"}`, ""}
		}
		counts := map[string]int{}
		for _, s := range w.all(reqs) {
			counts[s]++
		}
		if counts["200 "] != 1 || counts["404 invitation_not_found"] != 99 {
			t.Fatalf("outcomes %v", counts)
		}
		if v, _ := w.user(admin, u.ID); v.InvitationPending {
			t.Fatal("the winner's password was not kept")
		}
		w.session("racer@fabrikam.example", false)
	})
}

func TestUserManagementRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		org, g := w.admin("partner", "ga@contoso.example")
		gaID := org.User.ID
		aaUser, aa := w.member(g, "aa@contoso.example", true, "account_admin")
		agent, _ := w.invite(g, "agent@contoso.example", "admin_agent")
		_, helpdesk := w.member(g, "help@contoso.example", true, "helpdesk_agent")

		// Only admins manage users.
		for _, rq := range []request{{"GET", "/api/v1/users", helpdesk, "", ""}, {"POST", "/api/v1/users", helpdesk, inviteBody("x@contoso.example", "X"), ""},
			{"GET", "/api/v1/users/" + agent.ID, helpdesk, "", ""}, {"PATCH", "/api/v1/users/" + agent.ID, helpdesk, `{"name":"X"}`, ""},
			{"DELETE", "/api/v1/users/" + agent.ID, helpdesk, "", ""}} {
			wantProblem(t, w.do(rq.method, rq.path, rq.token, rq.body), 403, "missing_role")
		}
		// Roles must exist in a partner organization.
		for _, role := range []string{"user", "operator_admin", "superuser"} {
			p := wantProblem(t, w.do("POST", "/api/v1/users", g, inviteBody("x@contoso.example", "X", role)), 422, "invalid_input")
			if p.Errors[0].Field != "roles" || p.Errors[0].Code != "unknown_role" {
				t.Fatalf("%s: %+v", role, p)
			}
		}
		// An account admin grants only roles they hold, never global_admin...
		wantProblem(t, w.do("POST", "/api/v1/users", aa, inviteBody("x@contoso.example", "X", "global_admin")), 403, "global_admin_required")
		wantProblem(t, w.do("POST", "/api/v1/users", aa, inviteBody("x@contoso.example", "X", "sales_agent")), 403, "role_not_held")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+agent.ID, aa, `{"roles":["admin_agent","global_admin"]}`), 403, "global_admin_required")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+agent.ID, aa, `{"roles":["billing_admin"]}`), 403, "role_not_held")
		if r := w.do("POST", "/api/v1/users", aa, inviteBody("x@contoso.example", "X", "account_admin")); r.status != 201 {
			t.Fatalf("account admin grants account_admin: %d %s", r.status, r.body)
		}
		// ...may keep or remove roles they do not hold...
		if r := w.do("PATCH", "/api/v1/users/"+agent.ID, aa, `{"roles":["account_admin","admin_agent"],"name":"Agent Smith"}`); r.status != 200 {
			t.Fatalf("account admin adds account_admin: %d %s", r.status, r.body)
		}
		// ...and leaves global admins alone.
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+gaID, aa, `{"name":"Renamed"}`), 403, "global_admin_required")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+gaID, aa, `{"status":"disabled"}`), 403, "global_admin_required")
		wantProblem(t, w.do("DELETE", "/api/v1/users/"+gaID, aa, ""), 403, "global_admin_required")
		// The global admin grants global_admin.
		if r := w.do("PATCH", "/api/v1/users/"+aaUser.ID, g, `{"roles":["account_admin","global_admin"]}`); r.status != 200 {
			t.Fatalf("global admin grants global_admin: %d %s", r.status, r.body)
		}
		// Nobody disables or deletes themselves.
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+gaID, g, `{"status":"disabled"}`), 422, "cannot_disable_self")
		wantProblem(t, w.do("DELETE", "/api/v1/users/"+gaID, g, ""), 422, "cannot_delete_self")
		// Bad values are refused field by field.
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+agent.ID, g, `{"status":"invited"}`), 422, "invalid_input")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+agent.ID, g, `{"lang":"de"}`), 422, "invalid_input")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+agent.ID, g, `{"name":"a\nBcc: x@evil.example"}`), 422, "invalid_input")
		wantProblem(t, w.do("POST", "/api/v1/users", g, inviteBody("not an email", "X")), 422, "invalid_input")
		wantProblem(t, w.do("GET", "/api/v1/users/not-an-id", g, ""), 404, "user_not_found")
	})
}

// The organization keeps an active global admin who can sign in: not
// demoted, disabled or deleted, even by an API token holding global_admin;
// an invited admin who has not chosen a password does not count.
func TestLastGlobalAdminIsKept(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		org, a := w.admin("customer", "admin@fabrikam.example")
		aID := org.User.ID
		exp := w.clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
		var tok service.CreatedAPIToken
		w.do("POST", "/api/v1/api-tokens", a, `{"name":"automation","roles":["global_admin"],"expires_at":"`+exp+`"}`).json(t, &tok)

		wantProblem(t, w.do("PATCH", "/api/v1/users/"+aID, a, `{"roles":["billing_admin"]}`), 409, "last_global_admin")
		pending, _ := w.invite(a, "pending@fabrikam.example", "global_admin")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+aID, a, `{"roles":["billing_admin"]}`), 409, "last_global_admin")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+aID, tok.Secret, `{"status":"disabled"}`), 409, "last_global_admin")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+aID, tok.Secret, `{"roles":[]}`), 409, "last_global_admin")
		wantProblem(t, w.do("DELETE", "/api/v1/users/"+aID, tok.Secret, ""), 409, "last_global_admin")
		if v, _ := w.user(a, aID); v.Status != csphub.UserActive || !slices.Contains(v.Roles, "global_admin") {
			t.Fatalf("refused changes changed the admin: %+v", v)
		}
		// A pending invitation is not an admin; demoting or deleting it is fine.
		if r := w.do("DELETE", "/api/v1/users/"+pending.ID, tok.Secret, ""); r.status != 204 {
			t.Fatalf("delete pending admin: %d %s", r.status, r.body)
		}
		// With a second active admin, the first may step down.
		b, bSession := w.member(a, "second@fabrikam.example", false, "global_admin")
		if r := w.do("PATCH", "/api/v1/users/"+aID, a, `{"roles":["billing_admin"]}`); r.status != 200 {
			t.Fatalf("step down: %d %s", r.status, r.body)
		}
		// a's token lost global_admin with its creator; b's own token is
		// refused the deletion of the last global admin.
		wantProblem(t, w.do("DELETE", "/api/v1/users/"+b.ID, tok.Secret, ""), 401, "invalid_token")
		var bToken service.CreatedAPIToken
		exp = w.clock.Now().Add(time.Hour).Format(time.RFC3339)
		w.do("POST", "/api/v1/api-tokens", bSession, `{"name":"b","roles":["global_admin"],"expires_at":"`+exp+`"}`).json(t, &bToken)
		wantProblem(t, w.do("DELETE", "/api/v1/users/"+b.ID, bToken.Secret, ""), 409, "last_global_admin")
	})
}

// Two admins step down at the same moment: the tenant lock makes the
// second see the first's commit, so exactly one succeeds. Then two admins
// demote, or disable, each other: the second, re-reading its own roles
// after the lock, finds it no longer holds them.
func TestLastGlobalAdminUnderConcurrency(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		org, a := w.admin("customer", "a@fabrikam.example")
		b, bTok := w.member(a, "b@fabrikam.example", false, "global_admin")
		ids, toks := []string{org.User.ID, b.ID}, []string{a, bTok}
		for round := range 5 {
			out := w.all([]request{
				{"PATCH", "/api/v1/users/" + ids[0], toks[0], `{"roles":["billing_admin"]}`, ""},
				{"PATCH", "/api/v1/users/" + ids[1], toks[1], `{"roles":["billing_admin"]}`, ""},
			})
			sorted := slices.Sorted(slices.Values(out))
			if !slices.Equal(sorted, []string{"200 ", "409 last_global_admin"}) {
				t.Fatalf("round %d: %v", round, out)
			}
			keeper := slices.Index(out, "409 last_global_admin")
			if n := w.activeHolders(toks[keeper], "global_admin"); n != 1 {
				t.Fatalf("round %d: %d global admins", round, n)
			}
			if r := w.do("PATCH", "/api/v1/users/"+ids[1-keeper], toks[keeper], `{"roles":["global_admin"]}`); r.status != 200 {
				t.Fatalf("re-grant: %d %s", r.status, r.body)
			}
		}

		out := w.all([]request{
			{"PATCH", "/api/v1/users/" + ids[1], toks[0], `{"roles":[]}`, ""},
			{"PATCH", "/api/v1/users/" + ids[0], toks[1], `{"roles":[]}`, ""},
		})
		if n := slices.Index(out, "200 "); n < 0 || !strings.HasPrefix(out[1-n], "403 ") {
			t.Fatalf("cross demotion: %v", out)
		}
		winner := slices.Index(out, "200 ")
		if n := w.activeHolders(toks[winner], "global_admin"); n != 1 {
			t.Fatalf("after cross demotion: %d global admins", n)
		}
		if r := w.do("PATCH", "/api/v1/users/"+ids[1-winner], toks[winner], `{"roles":["global_admin"]}`); r.status != 200 {
			t.Fatalf("re-grant: %d %s", r.status, r.body)
		}

		out = w.all([]request{
			{"PATCH", "/api/v1/users/" + ids[1], toks[0], `{"status":"disabled"}`, ""},
			{"PATCH", "/api/v1/users/" + ids[0], toks[1], `{"status":"disabled"}`, ""},
		})
		winner = slices.Index(out, "200 ")
		if winner < 0 || !(strings.HasPrefix(out[1-winner], "403 ") || strings.HasPrefix(out[1-winner], "401 ")) {
			t.Fatalf("cross disabling: %v", out)
		}
		if n := w.activeHolders(toks[winner], "global_admin"); n != 1 {
			t.Fatalf("after cross disabling: %d global admins", n)
		}
	})
}

// A6: sessions read roles and status on every request, so a removed role
// or a disabled user loses access on the very next request; disabling and
// deleting also end the user's sessions.
func TestUserChangesTakeEffectOnTheNextRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, a := w.admin("customer", "a@fabrikam.example")
		b, bTok := w.member(a, "b@fabrikam.example", false, "global_admin")
		if r := w.do("GET", "/api/v1/users", bTok, ""); r.status != 200 {
			t.Fatalf("b lists users: %d", r.status)
		}
		// The role goes; the session stays, without the role.
		if r := w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"roles":["user"]}`); r.status != 200 {
			t.Fatalf("demote: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/users", bTok, ""), 403, "missing_role")
		var me service.Me
		w.do("GET", "/api/v1/me", bTok, "").json(t, &me)
		if !slices.Equal(me.Roles, []string{"user"}) {
			t.Fatalf("me after demotion: %+v", me)
		}
		// Disabled: every session ends, and signing in fails.
		bTok2 := w.session("b@fabrikam.example", false)
		if r := w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"status":"disabled"}`); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/me", bTok, ""), 401, "session_expired")
		wantProblem(t, w.do("GET", "/api/v1/me", bTok2, ""), 401, "session_expired")
		_, r := w.signIn("b@fabrikam.example", strongPassword)
		wantProblem(t, r, 401, "invalid_credentials")
		// Enabled again: a new sign-in works.
		if r := w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"status":"active"}`); r.status != 200 {
			t.Fatalf("enable: %d %s", r.status, r.body)
		}
		bTok3 := w.session("b@fabrikam.example", false)
		// Deleted: the session ends and the user is gone.
		if r := w.do("DELETE", "/api/v1/users/"+b.ID, a, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		wantProblem(t, w.do("GET", "/api/v1/me", bTok3, ""), 401, "session_expired")
		wantProblem(t, w.do("GET", "/api/v1/users/"+b.ID, a, ""), 404, "user_not_found")
		wantProblem(t, w.do("DELETE", "/api/v1/users/"+b.ID, a, ""), 404, "user_not_found")

		records := map[string][]csphub.AuditRecord{}
		for _, rec := range w.auditOf(a) {
			records[rec.Action] = append(records[rec.Action], rec)
		}
		if len(records["user.update"]) != 3 || len(records["user.delete"]) != 1 || records["user.delete"][0].Before == nil {
			t.Fatalf("audit records: %v", records)
		}
		for _, rec := range records["user.update"] {
			if rec.Before == nil || rec.After == nil || string(rec.Before) == string(rec.After) {
				t.Fatalf("user.update without before and after: %+v", rec)
			}
		}
		types := map[string]int{}
		for _, ev := range w.eventsOf(a) {
			types[ev.Type]++
		}
		if types["user.deleted"] != 1 || types["user.updated"] != 4 { // three changes and the acceptance
			t.Fatalf("events %v", types)
		}
	})
}

func TestUserETagAndIfMatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, a := w.admin("customer", "a@fabrikam.example")
		b, _ := w.invite(a, "b@fabrikam.example", "user")
		v0, etag0 := w.user(a, b.ID)
		if !strings.HasPrefix(etag0, `"`) || !strings.HasSuffix(etag0, `"`) || len(etag0) < 10 {
			t.Fatalf("ETag %q", etag0)
		}
		if _, again := w.user(a, b.ID); again != etag0 {
			t.Fatal("the ETag of an unchanged user changed")
		}
		r := w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"name":"Bea"}`, "If-Match", etag0)
		if r.status != 200 || r.header.Get("ETag") == "" || r.header.Get("ETag") == etag0 {
			t.Fatalf("patch with the current ETag: %d %v %s", r.status, r.header, r.body)
		}
		etag1 := r.header.Get("ETag")
		if _, now := w.user(a, b.ID); now != etag1 {
			t.Fatalf("GET ETag %q, PATCH said %q", now, etag1)
		}
		// Stale, weak or unknown tags: 412, and nothing changes.
		for _, tag := range []string{etag0, "W/" + etag1, `"nope"`, etag0 + ", " + `"other"`} {
			wantProblem(t, w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"name":"Stale"}`, "If-Match", tag), 412, "etag_mismatch")
			wantProblem(t, w.do("DELETE", "/api/v1/users/"+b.ID, a, "", "If-Match", tag), 412, "etag_mismatch")
		}
		if v, now := w.user(a, b.ID); v.Name != "Bea" || now != etag1 || v.ID != v0.ID {
			t.Fatalf("after refused updates: %+v %q", v, now)
		}
		// A list of tags matches if one does; * matches any existing user.
		if r := w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"lang":"en"}`, "If-Match", `"x", `+etag1); r.status != 200 {
			t.Fatalf("tag list: %d %s", r.status, r.body)
		}
		if r := w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"lang":"fr"}`, "If-Match", "*"); r.status != 200 {
			t.Fatalf("If-Match *: %d %s", r.status, r.body)
		}
		// Of two concurrent updates with the same tag, one wins and one gets 412.
		_, etag := w.user(a, b.ID)
		out := w.all([]request{
			{"PATCH", "/api/v1/users/" + b.ID, a, `{"name":"First"}`, etag},
			{"PATCH", "/api/v1/users/" + b.ID, a, `{"name":"Second"}`, etag},
		})
		if sorted := slices.Sorted(slices.Values(out)); !slices.Equal(sorted, []string{"200 ", "412 etag_mismatch"}) {
			t.Fatalf("concurrent updates with one tag: %v", out)
		}
		// An update that changes nothing records nothing and keeps the tag.
		v, etag2 := w.user(a, b.ID)
		before := len(w.auditOf(a))
		r = w.do("PATCH", "/api/v1/users/"+b.ID, a, `{"name":"`+v.Name+`"}`, "If-Match", etag2)
		if r.status != 200 || r.header.Get("ETag") != etag2 || len(w.auditOf(a)) != before {
			t.Fatalf("no-op update: %d %q", r.status, r.header.Get("ETag"))
		}
	})
}

// C8: fields a client may not set are refused, not ignored.
func TestUserMassAssignmentIsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		org, a := w.admin("customer", "a@fabrikam.example")
		other, _ := w.admin("customer", "other@northwind.example")
		b, _ := w.invite(a, "b@fabrikam.example", "user")
		_, etag := w.user(a, b.ID)
		for _, extra := range []string{`"organization_id":"` + other.Organization.ID + `"`, `"password_hash":"$argon2id$x"`,
			`"status":"disabled"`, `"id":"` + csphub.NewID() + `"`, `"mfa_enabled":true`, `"invitation_pending":false`} {
			body := `{"email":"x@fabrikam.example","name":"X","roles":["user"],` + extra + `}`
			wantProblem(t, w.do("POST", "/api/v1/users", a, body), 422, "invalid_input")
		}
		for _, body := range []string{`{"organization_id":"` + other.Organization.ID + `"}`, `{"password_hash":"$argon2id$x"}`,
			`{"email":"evil@fabrikam.example"}`, `{"mfa_enabled":false}`, `{"created_at":"2020-01-01T00:00:00Z"}`,
			`{"name":"X","password":"` + strongPassword + `"}`, `{"invitation_pending":false}`} {
			wantProblem(t, w.do("PATCH", "/api/v1/users/"+b.ID, a, body, "If-Match", etag), 422, "invalid_input")
		}
		wantProblem(t, w.do("POST", "/api/v1/user-invitations/"+strings.Repeat("A", 43)+"/accept", "",
			`{"password":"`+strongPassword+`","roles":["global_admin"]}`), 422, "invalid_input")
		if v, now := w.user(a, b.ID); now != etag || v.OrgID != org.Organization.ID || len(w.users(a, "").Items) != 2 {
			t.Fatalf("refused requests changed something: %+v", v)
		}
	})
}

// C1: another organization's admins, by session or API token, get 404 for
// a user id of this organization, and change nothing.
func TestUserRoutesAreTenantIsolated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		_, a := w.admin("customer", "a@fabrikam.example")
		target, _ := w.member(a, "target@fabrikam.example", false, "global_admin")
		_, etag := w.user(a, target.ID)

		_, customer := w.admin("customer", "admin@northwind.example")
		_, partner := w.admin("partner", "admin@contoso.example")
		exp := w.clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
		var tok service.CreatedAPIToken
		w.do("POST", "/api/v1/api-tokens", customer, `{"name":"automation","roles":["global_admin"],"expires_at":"`+exp+`"}`).json(t, &tok)

		for name, actor := range map[string]string{"customer admin": customer, "partner admin": partner, "api token": tok.Secret} {
			for _, rq := range []struct{ method, body, ifMatch string }{
				{"GET", "", ""}, {"PATCH", `{"name":"Owned"}`, ""}, {"PATCH", `{"status":"disabled"}`, etag},
				{"PATCH", `{"roles":[]}`, "*"}, {"DELETE", "", ""}, {"DELETE", "", etag},
			} {
				var r response
				if rq.ifMatch != "" {
					r = w.do(rq.method, "/api/v1/users/"+target.ID, actor, rq.body, "If-Match", rq.ifMatch)
				} else {
					r = w.do(rq.method, "/api/v1/users/"+target.ID, actor, rq.body)
				}
				if r.status != 404 {
					t.Fatalf("%s %s %s: %d %s", name, rq.method, rq.body, r.status, r.body)
				}
				wantProblem(t, r, 404, "user_not_found")
			}
			p := w.users(actor, "?q=target")
			if len(p.Items) != 0 {
				t.Fatalf("%s lists another organization's users: %+v", name, p.Items)
			}
		}
		if v, now := w.user(a, target.ID); now != etag || v.Status != csphub.UserActive {
			t.Fatalf("cross-tenant requests changed the user: %+v", v)
		}
		w.session("target@fabrikam.example", false) // still signs in
	})
}

// The operator organization manages its users the same way, with
// operator_admin in the global admin's place.
func TestOperatorUserManagement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newUserWorld(t, engine)
		ctx := context.Background()
		op, _, err := w.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
		if err != nil {
			t.Fatal(err)
		}
		hash, err := password.Hash(strongPassword)
		if err != nil {
			t.Fatal(err)
		}
		opID := csphub.NewID()
		if err := w.db.Write(ctx, func(tx *store.Tx) error {
			return tx.InsertUser(store.UserRecord{User: csphub.User{ID: opID, OrgID: op.ID, Email: "root@operator.example", Name: "Root",
				Lang: "en", Status: csphub.UserActive, Roles: []string{"operator_admin"}, CreatedAt: tx.Now()}, PasswordHash: hash})
		}); err != nil {
			t.Fatal(err)
		}
		root := w.session("root@operator.example", true)
		p := wantProblem(t, w.do("POST", "/api/v1/users", root, inviteBody("x@operator.example", "X", "global_admin")), 422, "invalid_input")
		if p.Errors[0].Code != "unknown_role" {
			t.Fatalf("%+v", p)
		}
		reviewer, revTok := w.member(root, "reviewer@operator.example", true, "verification_reviewer")
		wantProblem(t, w.do("GET", "/api/v1/users", revTok, ""), 403, "missing_role")
		wantProblem(t, w.do("PATCH", "/api/v1/users/"+opID, root, `{"roles":["catalog_manager"]}`), 409, "last_global_admin")
		if r := w.do("PATCH", "/api/v1/users/"+reviewer.ID, root, `{"roles":["operator_admin","verification_reviewer"]}`); r.status != 200 {
			t.Fatalf("grant operator_admin: %d %s", r.status, r.body)
		}
		if r := w.do("PATCH", "/api/v1/users/"+opID, root, `{"roles":["catalog_manager"]}`); r.status != 200 {
			t.Fatalf("step down with another operator admin: %d %s", r.status, r.body)
		}
	})
}

// B5 for user management: no invitation token, password or password hash
// reaches the logs, the audit records or the events.
func TestUserManagementKeepsSecretsOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 10, 0, time.UTC))
		e, logs := newLoggedEnv(t, engine, clock)
		db, svc := e.db, e.svc
		w := &userWorld{env: e, clock: clock, totp: map[string]string{}}

		_, admin := w.admin("customer", "a@fabrikam.example")
		const chosen = "my own long invitation passphrase"
		b, token := w.invite(admin, "b@fabrikam.example", "global_admin")
		wantProblem(t, w.accept(token, "password"), 422, "invalid_input")
		if r := w.accept(token, chosen); r.status != 200 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		w.accept(token, chosen)
		w.do("PATCH", "/api/v1/users/"+b.ID, admin, `{"roles":["user"]}`)
		w.do("PATCH", "/api/v1/users/"+b.ID, admin, `{"status":"disabled"}`)
		w.do("DELETE", "/api/v1/users/"+b.ID, admin, "")

		if err := svc.SequenceJournal(context.Background()); err != nil {
			t.Fatal(err)
		}
		var journal strings.Builder
		for _, table := range []string{"audit_records", "events"} {
			rows, err := db.DumpForTest(table)
			if err != nil {
				t.Fatal(err)
			}
			journal.WriteString(rows)
		}
		sum := sha256.Sum256([]byte(token))
		for _, s := range []string{token, hex.EncodeToString(sum[:]), chosen, strongPassword, "$argon2id$", "password_hash", "token_hash"} {
			if strings.Contains(logs.String(), s) {
				t.Errorf("%.10s… is in the logs", s)
			}
			if strings.Contains(journal.String(), s) {
				t.Errorf("%.10s… is in the audit records or events", s)
			}
		}
		if !strings.Contains(journal.String(), "user.invitation_accept") || !strings.Contains(journal.String(), "user.deleted") {
			t.Fatal("the script did not run through")
		}
	})
}
