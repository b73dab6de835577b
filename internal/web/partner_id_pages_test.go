package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// newPartnerIDServer serves the pages over a real service on engine, with
// lists of two rows so that paging shows.
func newPartnerIDServer(t *testing.T, engine string) *identityServer {
	t.Helper()
	clock := csphub.NewManualClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, engine, clock)
	svc := service.New(db, nil, service.Options{BaseURL: "https://csphub.example"})
	ts := newTestServer(t, Options{Service: svc, Clock: clock, SettingsPageSize: 2})
	return &identityServer{testServer: ts, db: db, svc: svc, clock: clock, cookie: "csphub_session"}
}

// pidOperatorAdmin sets up the operator organization and its first admin,
// who chooses a password through the link, signs in and passes MFA. It
// returns the session and the admin as an actor.
func (s *identityServer) pidOperatorAdmin(t *testing.T) (*http.Cookie, csphub.Actor) {
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
	_, _, c := s.enrol(t, s.sessionCookie(res))
	actor, err := s.svc.SessionActor(ctx, c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return c, actor
}

// pidReviewer invites a verification reviewer into the operator
// organization, who accepts, signs in and passes MFA.
func (s *identityServer) pidReviewer(t *testing.T, admin csphub.Actor) *http.Cookie {
	t.Helper()
	ctx := context.Background()
	if _, err := s.svc.InviteUser(ctx, admin, service.InviteUserInput{Email: "rita@operator.example", Name: "Rita Reviewer",
		Roles: []string{csphub.RoleVerificationReviewer}}); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: time.Hour, Limit: 50, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	token := ""
	for _, m := range msgs {
		mail, err := m.Email()
		if err != nil {
			t.Fatal(err)
		}
		if l := regexp.MustCompile(`/user-invitations/([A-Za-z0-9_-]+)`).FindStringSubmatch(mail.Text); l != nil && mail.To == "rita@operator.example" {
			token = l[1]
		}
	}
	if _, err := s.svc.AcceptUserInvitation(ctx, token, service.AcceptUserInvitationInput{Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	res := s.signIn(t, "rita@operator.example", goodPassword)
	wantRedirect(t, res, "/mfa/setup")
	_, _, c := s.enrol(t, s.sessionCookie(res))
	return c
}

// upload posts a file through the import form.
func (s *identityServer) upload(t *testing.T, c *http.Cookie, name string, content []byte, header ...string) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	} else {
		mw.WriteField("other", "value")
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/operator/partner-ids", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Cookie", c.Name+"="+c.Value)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return s.do(t, r)
}

func pidText(b *i18n.Bundle, lang, key string, args ...any) string {
	return html.EscapeString(b.For(lang).T(key, args...))
}

var (
	shownClaimCode = regexp.MustCompile(`<tr><td>(\d+)</td><td>(\d+)</td><td><code class="secret">([A-Z2-7-]{35})</code></td></tr>`)
	nextPage       = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
)

func TestOperatorPartnerIDsPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		s := newPartnerIDServer(t, engine)
		b := catalog(t)
		ctx := context.Background()
		admin, adminActor := s.pidOperatorAdmin(t)
		sess := s.withSession(admin)

		// An empty list, the search and the upload form.
		res := s.get(t, "/operator/partner-ids", sess...)
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("list: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		mustContain(t, res.body, pidText(b, "en", "partner_ids.title"), pidText(b, "en", "partner_ids.list.empty"),
			`<a href="/operator/partner-ids" aria-current="page">`+pidText(b, "en", "operator.nav.partner_ids")+`</a>`,
			`enctype="multipart/form-data"`, `<input type="file" id="file" name="file"`, `role="search"`)

		// An upload with good and bad rows: the good ones are imported and
		// their codes shown once; the others are listed with their reasons.
		csvFile := "Partner_ID,Legal Name,Country,Status\n" +
			"1234567,Contoso SAS,FR,active\n" +
			"0123456,Leading Zero,FR,\n" +
			"7654321,Northwind GmbH,de,inactive\n" +
			"2345678,Nowhere,XX,\n" +
			"1234567,Contoso again,FR,\n" +
			"3456789,Short row\n" +
			"4567890,<script>alert(1)</script>,GB,\n"
		res = s.upload(t, admin, "ids.csv", []byte(csvFile))
		if res.StatusCode != http.StatusOK || res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("upload: %d %v\n%s", res.StatusCode, res.Header, res.body)
		}
		codes := map[string]string{}
		for _, m := range shownClaimCode.FindAllStringSubmatch(res.body, -1) {
			codes[m[2]] = m[3]
		}
		if len(codes) != 3 || codes["1234567"] == "" || codes["7654321"] == "" || codes["4567890"] == "" {
			t.Fatalf("codes shown: %v\n%s", codes, res.body)
		}
		mustContain(t, res.body, pidText(b, "en", "partner_ids.report.summary", "imported", 3, "refused", 4),
			pidText(b, "en", "partner_ids.report.codes_warning"),
			"partner_id,claim_code\n1234567,"+codes["1234567"],
			"<tr><td>3</td><td>0123456</td><td>"+pidText(b, "en", "partner_ids.field.partner_id")+"</td><td>"+pidText(b, "en", "partner_ids.error.invalid_partner_id")+"</td></tr>",
			"<tr><td>5</td><td>2345678</td><td>"+pidText(b, "en", "partner_ids.field.country")+"</td><td>"+pidText(b, "en", "partner_ids.error.invalid_country")+"</td></tr>",
			"<tr><td>6</td><td>1234567</td><td>"+pidText(b, "en", "partner_ids.field.partner_id")+"</td><td>"+pidText(b, "en", "partner_ids.error.duplicate_in_batch")+"</td></tr>",
			"<tr><td>7</td><td>3456789</td><td>"+pidText(b, "en", "partner_ids.field.row")+"</td><td>"+pidText(b, "en", "partner_ids.error.wrong_field_count")+"</td></tr>",
			"&lt;script&gt;")
		// The page with the codes cannot be left to switch language.
		mustNotContain(t, res.body, `action="/lang"`, "<script>alert")
		for id, code := range codes {
			var rec store.PartnerIDRecord
			if err := s.db.Read(ctx, func(tx *store.Tx) (err error) {
				rec, err = tx.PartnerIDRecord(id, false)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(strings.ReplaceAll(code, "-", "")))
			if rec.ClaimCodeHash != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: the stored hash is not the shown code's", id)
			}
		}

		// The list shows them afterwards, never their codes; two a page.
		res = s.get(t, "/operator/partner-ids", sess...)
		mustContain(t, res.body, "<td>1234567</td>", "<td>Contoso SAS</td>", "<td>FR</td>", pidText(b, "en", "partner_ids.source.imported"),
			pidText(b, "en", "partner_ids.not_linked"), `action="/lang"`)
		for _, code := range codes {
			mustNotContain(t, res.body, code)
		}
		next := nextPage.FindStringSubmatch(res.body)
		if next == nil {
			t.Fatalf("no next page: %s", res.body)
		}
		res = s.get(t, html.UnescapeString(next[1]), sess...)
		mustContain(t, res.body, "<td>7654321</td>", pidText(b, "en", "partner_ids.status.inactive"),
			`<a href="/operator/partner-ids">`+pidText(b, "en", "settings.pagination.first"))
		if res := s.get(t, "/operator/partner-ids?page=garbage", sess...); res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad page token: %d", res.StatusCode)
		}

		// Search by the start of the ID or of the legal name; the pages of
		// a search keep it.
		res = s.get(t, "/operator/partner-ids?q=northwind", sess...)
		mustContain(t, res.body, "<td>7654321</td>", `value="northwind"`)
		mustNotContain(t, res.body, "<td>1234567</td>")
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertPartnerIDs([]store.PartnerIDRecord{
				{PartnerID: csphub.PartnerID{PartnerID: "1234568", LegalName: "Bis", Country: "FR", Status: "active", Source: "imported", CreatedAt: tx.Now()}},
				{PartnerID: csphub.PartnerID{PartnerID: "1234569", LegalName: "Ter", Country: "FR", Status: "active", Source: "imported", CreatedAt: tx.Now()}}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		res = s.get(t, "/operator/partner-ids?q=12345", sess...)
		next = nextPage.FindStringSubmatch(res.body)
		if next == nil || !strings.Contains(html.UnescapeString(next[1]), "q=12345") {
			t.Fatalf("the next page of a search: %v", next)
		}
		res = s.get(t, html.UnescapeString(next[1]), sess...)
		mustContain(t, res.body, "<td>1234569</td>", `<a href="/operator/partner-ids?q=12345">`)
		res = s.get(t, "/operator/partner-ids?q=nothing", sess...)
		mustContain(t, res.body, pidText(b, "en", "partner_ids.list.none_matching"))

		// Deactivate and reactivate from the list.
		wantRedirect(t, s.postForm(t, "/operator/partner-ids/1234567/status", url.Values{"status": {"inactive"}, "q": {"1234"}}, sess...),
			"/operator/partner-ids?done=deactivated&q=1234")
		res = s.get(t, "/operator/partner-ids?done=deactivated&q=1234567", sess...)
		mustContain(t, res.body, pidText(b, "en", "partner_ids.notice.deactivated"), pidText(b, "en", "partner_ids.activate", "id", "1234567"))
		wantRedirect(t, s.postForm(t, "/operator/partner-ids/1234567/status", url.Values{"status": {"active"}}, sess...),
			"/operator/partner-ids?done=activated")
		if res := s.postForm(t, "/operator/partner-ids/9999999/status", url.Values{"status": {"active"}}, sess...); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown ID: %d", res.StatusCode)
		}
		if res := s.postForm(t, "/operator/partner-ids/1234567/status", url.Values{"status": {"paused"}}, sess...); res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad status: %d", res.StatusCode)
		}

		// Refused uploads, in French: each says why, and nothing is imported.
		fr := []string{"Accept-Language", "fr"}
		res = s.upload(t, admin, "", nil, fr...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("no file: %d", res.StatusCode)
		}
		mustContain(t, res.body, `<p class="field-error" id="file-error">`+pidText(b, "fr", "partner_ids.import.error.no_file")+`</p>`, `aria-invalid="true"`)
		res = s.upload(t, admin, "big.csv", bytes.Repeat([]byte("x"), maxPartnerIDUpload+1), fr...)
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("too large: %d", res.StatusCode)
		}
		mustContain(t, res.body, pidText(b, "fr", "partner_ids.import.error.too_large", "size", maxPartnerIDUpload>>10))
		// The server's own limit on bodies, when lower, says the same.
		limited := s.mux
		s.mux = http.NewServeMux()
		s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, 100<<10)
			limited.ServeHTTP(w, r)
		}))
		res = s.upload(t, admin, "big.csv", bytes.Repeat([]byte("1234567,Contoso,FR\n"), 10000), fr...)
		s.mux = limited
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("above the server's limit: %d", res.StatusCode)
		}
		res = s.upload(t, admin, "ids.csv", []byte("id;name;country\n1111111;X;FR\n"), fr...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad header: %d", res.StatusCode)
		}
		mustContain(t, res.body, pidText(b, "fr", "partner_ids.import.error.unreadable"),
			"<td>1</td><td>–</td><td>"+pidText(b, "fr", "partner_ids.field.header")+"</td><td>"+pidText(b, "fr", "partner_ids.error.unknown_column")+"</td>",
			pidText(b, "fr", "partner_ids.error.missing_column"))
		res = s.upload(t, admin, "ids.csv", []byte("partner_id,legal_name,country\n"), fr...)
		mustContain(t, res.body, pidText(b, "fr", "partner_ids.import.error.no_rows"))
		var many strings.Builder
		many.WriteString("partner_id,legal_name,country\n")
		for i := range service.MaxPartnerIDImport + 1 {
			fmt.Fprintf(&many, "%d,P,FR\n", 5_000_000+i)
		}
		res = s.upload(t, admin, "many.csv", []byte(many.String()), fr...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("too many rows: %d", res.StatusCode)
		}
		mustContain(t, res.body, pidText(b, "fr", "partner_ids.import.error.too_many", "count", service.MaxPartnerIDImport+1, "max", service.MaxPartnerIDImport))
		if p, err := s.svc.ListPartnerIDs(ctx, adminActor, "5000", "", 10); err != nil || len(p.Items) != 0 {
			t.Fatalf("a refused upload imported %v %v", p, err)
		}
		// All refused: the report, no codes, and the language switch stays.
		res = s.upload(t, admin, "ids.csv", []byte("partner_id,legal_name,country\n1234567,Contoso SAS,FR\n"), fr...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("all refused: %d", res.StatusCode)
		}
		mustContain(t, res.body, pidText(b, "fr", "partner_ids.report.summary", "imported", 0, "refused", 1),
			pidText(b, "fr", "partner_ids.error.partner_id_exists"), `action="/lang"`)
		mustNotContain(t, res.body, pidText(b, "fr", "partner_ids.report.codes_warning"))

		// A cross-site upload is refused before anything is read.
		res = s.upload(t, admin, "ids.csv", []byte("partner_id,legal_name,country\n8888888,X,FR\n"), "Sec-Fetch-Site", "cross-site")
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site upload: %d", res.StatusCode)
		}

		// A verification reviewer reads the list, and nothing more.
		reviewer := s.pidReviewer(t, adminActor)
		res = s.get(t, "/operator/partner-ids", s.withSession(reviewer)...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("reviewer list: %d", res.StatusCode)
		}
		mustContain(t, res.body, "<td>1234567</td>")
		mustNotContain(t, res.body, `enctype="multipart/form-data"`, `/status"`)
		if res := s.upload(t, reviewer, "ids.csv", []byte("partner_id,legal_name,country\n8888888,X,FR\n")); res.StatusCode != http.StatusForbidden {
			t.Errorf("reviewer upload: %d", res.StatusCode)
		}
		if res := s.postForm(t, "/operator/partner-ids/1234567/status", url.Values{"status": {"inactive"}}, s.withSession(reviewer)...); res.StatusCode != http.StatusForbidden {
			t.Errorf("reviewer status: %d", res.StatusCode)
		}

		// A partner is refused; a visitor is sent to sign in.
		partner := s.signup(t, "jeanne@contoso.example")
		_, _, partner = s.enrol(t, partner)
		for _, c := range []struct{ method, path string }{{"GET", "/operator/partner-ids"}, {"POST", "/operator/partner-ids/1234567/status"}} {
			r := httptest.NewRequest(c.method, c.path, strings.NewReader("status=inactive"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Cookie", partner.Name+"="+partner.Value)
			if res := s.do(t, r); res.StatusCode != http.StatusForbidden {
				t.Errorf("partner %s %s: %d", c.method, c.path, res.StatusCode)
			}
		}
		if res := s.upload(t, partner, "ids.csv", []byte("partner_id,legal_name,country\n8888888,X,FR\n")); res.StatusCode != http.StatusForbidden {
			t.Errorf("partner upload: %d", res.StatusCode)
		}
		wantRedirect(t, s.get(t, "/operator/partner-ids"), "/signin")
		if p, err := s.svc.ListPartnerIDs(ctx, adminActor, "8888888", "", 10); err != nil || len(p.Items) != 0 {
			t.Fatalf("a refused caller imported: %v %v", p, err)
		}
		if p, err := s.svc.ListPartnerIDs(ctx, adminActor, "1234567", "", 10); err != nil || p.Items[0].Status != csphub.PartnerIDActive {
			t.Fatalf("a refused caller changed a status: %v %v", p, err)
		}
	})
}
