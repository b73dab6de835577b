package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
	"csphub/internal/testdb"
)

// textArgs is text with arguments: the catalog's message, escaped as
// html/template escapes text (which also turns + into &#43;).
func textArgs(b *i18n.Bundle, lang, key string, args ...any) string {
	return strings.ReplaceAll(html.EscapeString(b.For(lang).T(key, args...)), "+", "&#43;")
}

// fieldErrorShown checks that a field's message is next to it, linked from
// the summary, and that the field is marked invalid.
func fieldErrorShown(t *testing.T, body, field, msg string) {
	t.Helper()
	mustContain(t, body,
		`<p class="field-error" id="`+field+`-error">`+msg+`</p>`,
		`<li><a href="#`+field+`">`+msg+`</a></li>`)
	if !regexp.MustCompile(`id="` + field + `"[^>]*aria-invalid="true"`).MatchString(body) {
		t.Errorf("%s is not marked invalid", field)
	}
}

func TestEnrollFormStartsWithTheCountry(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)

	// A visitor first says where the business is: the rest of the form
	// follows that country's formats.
	res := s.get(t, "/enroll", "Accept-Language", "fr")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /enroll: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	mustContain(t, res.body, `<form class="form" method="get" action="/enroll" novalidate>`,
		`<option value="FR">France</option>`, `<option value="US">États-Unis</option>`, text(b, "fr", "enroll.country.label"))
	// Only the countries where the program operates are offered.
	mustNotContain(t, res.body, `<option value="AD">`, `action="/enroll" method="post"`)

	res = s.get(t, "/enroll?country=ZZ", "Accept-Language", "en")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown country: %d", res.StatusCode)
	}
	fieldErrorShown(t, res.body, "country", text(b, "en", "form.error.country.invalid_country"))

	// The United States list their states, and show their examples.
	res = s.get(t, "/enroll?country=US", "Accept-Language", "en")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /enroll?country=US: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<form class="form" method="post" action="/enroll" novalidate>`,
		`<input type="hidden" name="country" value="US">`,
		`<select id="state" name="state" autocomplete="address-level1" required>`, `<option value="WA">Washington</option>`,
		`href="/enroll?step=country&amp;country=US"`,
		text(b, "en", "enroll.account.legend"), `id="account_password"`, text(b, "en", "enroll.partner_id.intro"),
		text(b, "en", "enrollment.legal.legend"), text(b, "en", "enrollment.primary.legend"), text(b, "en", "enrollment.support.legend"))
	if !regexp.MustCompile(`<p class="hint" id="postal_code-hint">For example [0-9]{5}\.</p>`).MatchString(res.body) {
		t.Error("no postal code example for the United States")
	}
	if !regexp.MustCompile(`<p class="hint" id="primary_phone-hint">A number of the address’s country, for example &#43;1 [0-9 -]+\.</p>`).MatchString(res.body) {
		t.Error("no phone example for the United States")
	}
	// France has no list of regions: the state is free text, optional.
	res = s.get(t, "/enroll?country=FR", "Accept-Language", "fr")
	mustContain(t, res.body, `<input type="text" id="state" name="state" value="" maxlength="100" autocomplete="address-level1">`,
		text(b, "fr", "enrollment.field.state_optional"), textArgs(b, "fr", "enrollment.hint.postal_code", "example", "75001"))
	// The choice can be changed, and shows again selected.
	res = s.get(t, "/enroll?step=country&country=FR", "Accept-Language", "fr")
	mustContain(t, res.body, `<option value="FR" selected>France</option>`)
}

func TestEnrollFormShowsEachErrorAndKeepsWhatWasTyped(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)
	form := enrollValuesFR()
	form.Set("account_password", "password1") // common
	form.Set("account_email", "nope")
	form.Set("partner_id", "12")
	form.Set("claim_code", "ABC-123")
	form.Set("postal_code", "7500")
	form.Set("primary_email", "jeanne@gmail.com")
	form.Set("primary_phone", "+1 202 555 0100")
	form.Set("support_website", "ftp://support")
	form.Set("city", "")
	res := s.postForm(t, "/enroll", form, "Accept-Language", "fr")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d: %.2000s", res.StatusCode, res.body)
	}
	if s.sessionCookie(res) != nil {
		t.Error("a refused enrollment signed someone in")
	}
	fieldErrorShown(t, res.body, "account_email", text(b, "fr", "form.error.email.invalid_email"))
	fieldErrorShown(t, res.body, "account_password", text(b, "fr", "form.error.password.common"))
	fieldErrorShown(t, res.body, "partner_id", text(b, "fr", "enrollment.error.partner_id.invalid_partner_id"))
	fieldErrorShown(t, res.body, "city", text(b, "fr", "enrollment.error.city.required"))
	fieldErrorShown(t, res.body, "postal_code", textArgs(b, "fr", "enrollment.error.postal_code.invalid_postal_code_example", "example", "75001"))
	fieldErrorShown(t, res.body, "primary_phone", textArgs(b, "fr", "enrollment.error.primary_phone.phone_country_mismatch_example", "example", "+33 1 23 45 67 89"))
	fieldErrorShown(t, res.body, "support_website", text(b, "fr", "enrollment.error.support_website.invalid_url"))
	// The summary follows the order of the form.
	last := -1
	for _, f := range []string{"account_email", "account_password", "partner_id", "city", "postal_code", "primary_phone", "support_website"} {
		i := strings.Index(res.body, `<li><a href="#`+f+`">`)
		if i < last {
			t.Errorf("summary: %s out of order", f)
		}
		last = i
	}
	// Everything typed stays, except the password.
	mustContain(t, res.body, `value="nope"`, `value="Jeanne Martin"`, `value="contoso.example"`, `value="12"`, `value="ABC-123"`,
		`value="Contoso SAS"`, `value="12 rue de la Paix"`, `value="7500"`, `value="jeanne@gmail.com"`, `value="&#43;1 202 555 0100"`,
		`value="support@contoso.example"`, `value="ftp://support"`, `<input type="hidden" name="country" value="FR">`,
		`<select id="primary_lang" name="primary_lang"`, `<option value="fr" lang="fr" selected>`)
	mustNotContain(t, res.body, "password1", goodPassword)

	// A web-mail primary contact is refused once the rest is right.
	form = enrollValuesFR()
	form.Set("primary_email", "jeanne@gmail.com")
	res = s.postForm(t, "/enroll", form, "Accept-Language", "en")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("web-mail: %d", res.StatusCode)
	}
	fieldErrorShown(t, res.body, "primary_email", text(b, "en", "enrollment.error.primary_email.webmail_domain"))
	mustContain(t, res.body, `value="jeanne@gmail.com"`)

	// A partner ID and claim code that do not match.
	form = enrollValuesFR()
	form.Set("partner_id", "4000001")
	form.Set("claim_code", "WRONG-CODE")
	res = s.postForm(t, "/enroll", form, "Accept-Language", "en")
	fieldErrorShown(t, res.body, "claim_code", text(b, "en", "enrollment.error.claim_code.claim_failed"))

	// A claim code without its partner ID.
	form.Set("partner_id", "")
	res = s.postForm(t, "/enroll", form, "Accept-Language", "en")
	fieldErrorShown(t, res.body, "partner_id", text(b, "en", "enrollment.error.partner_id.required"))

	// A tampered country goes back to the first step.
	form = enrollValuesFR()
	form.Set("country", "XX")
	res = s.postForm(t, "/enroll", form, "Accept-Language", "en")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad country: %d", res.StatusCode)
	}
	fieldErrorShown(t, res.body, "country", text(b, "en", "form.error.country.invalid_country"))
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", s.logs)
	}
}

func TestEnrollAsVisitorCreatesTheAccount(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		s := newEnrollmentServer(t, engine, 50)
		b := catalog(t)
		ctx := context.Background()
		res := s.postForm(t, "/enroll", enrollValuesFR(), "Accept-Language", "fr")
		// Partner users set up MFA before anything else.
		wantRedirect(t, res, "/mfa/setup")
		c := s.sessionCookie(res)
		if c == nil || c.Value == "" {
			t.Fatal("the new global admin is not signed in")
		}
		c = s.passMFA(t, c)

		// The organization, its global admin and the application exist.
		res = s.get(t, "/partner/enrollment", append(s.withSession(c), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("application page: %d %s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, text(b, "fr", "enrollment.application.title"),
			text(b, "fr", "enrollment.state.email_verification_pending"),
			textArgs(b, "fr", "enrollment.application.verify.text", "email", "jeanne@contoso.example"),
			`aria-current="page">`+text(b, "fr", "partner.nav.enrollment"),
			text(b, "fr", "enrollment.check.email_ownership"), text(b, "fr", "enrollment.check.email_domain"),
			text(b, "fr", "enrollment.check.partner_id_location"), text(b, "fr", "enrollment.check.business"),
			text(b, "fr", "enrollment.check_help.email_ownership.pending"),
			text(b, "fr", "enrollment.history.new"), "Jeanne Martin")
		mustContain(t, res.body, `<p class="account-who">`+textArgs(b, "fr", "layout.account.signed_in_as", "name", "Jeanne Martin", "organization", "Contoso SAS"))
		links, _ := s.verificationLinks(t)
		if links["jeanne@contoso.example"] == "" {
			t.Fatalf("no verification email: %v", links)
		}
		// The enrollment form now sends the admin to the application.
		wantRedirect(t, s.get(t, "/enroll", s.withSession(c)...), "/partner/enrollment")
		wantRedirect(t, s.postForm(t, "/enroll", enrollValuesFR(), s.withSession(c)...), "/partner/enrollment")

		// The profile holds what was typed, normalized, with a new partner ID.
		res = s.get(t, "/partner/profile", append(s.withSession(c), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("profile: %d", res.StatusCode)
		}
		mustContain(t, res.body, "Contoso SAS", "12 rue de la Paix", "75002", "&#43;33123456789", text(b, "en", "enrollment.membership.indirect_reseller"),
			text(b, "en", "enrollment.state.email_verification_pending"), text(b, "en", "enrollment.profile.agreement.not_signed"))
		if !regexp.MustCompile(`<dt>` + text(b, "en", "enrollment.field.partner_id") + `</dt><dd>[1-9][0-9]{6}</dd>`).MatchString(res.body) {
			t.Error("no partner ID issued")
		}

		// The same email cannot enrol twice.
		form := enrollValuesFR()
		form.Set("account_domain", "contoso2.example")
		res = s.postForm(t, "/enroll", form, "Accept-Language", "en")
		if res.StatusCode != http.StatusUnprocessableEntity && res.StatusCode != http.StatusConflict {
			t.Fatalf("second enrollment with the same email: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "account_email", text(b, "en", "form.error.email.email_taken"))
		_ = ctx
	})
}

func TestSignedInGlobalAdminEnrolsTheOrganization(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)
	c := s.partnerAdmin(t) // signed up at /signup: Contoso Partner, FR, contoso.example

	// Not enrolled: the overview calls to action.
	res := s.get(t, "/partner", append(s.withSession(c), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "enrollment.overview.cta.heading"), `<a class="button primary" href="/enroll">`,
		`aria-current="page">`+text(b, "en", "layout.nav.partner"))
	mustContain(t, s.get(t, "/partner/enrollment", s.withSession(c)...).body, text(b, "en", "enrollment.application.none"))
	mustContain(t, s.get(t, "/partner/profile", s.withSession(c)...).body, text(b, "en", "enrollment.profile.none"))

	// The form has no account section and starts in the organization's
	// country, with the admin as primary contact.
	res = s.get(t, "/enroll", append(s.withSession(c), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("form: %d", res.StatusCode)
	}
	mustContain(t, res.body, `<input type="hidden" name="country" value="FR">`, `value="Jeanne"`, `value="Martin"`, `value="jeanne@contoso.example"`)
	mustNotContain(t, res.body, `id="account_password"`, text(b, "en", "enroll.account.legend"))

	form := enrollValuesFR()
	for _, f := range []string{"account_domain", "account_name", "account_email", "account_password", "account_lang"} {
		form.Del(f)
	}
	// The legal entity must be in the account's country.
	form.Set("country", "DE")
	form.Set("postal_code", "10115")
	form.Set("primary_phone", "+49 30 1234567")
	form.Set("support_phone", "+49 30 7654321")
	res = s.postForm(t, "/enroll", form, append(s.withSession(c), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("other country: %d %.1000s", res.StatusCode, res.body)
	}
	fieldErrorShown(t, res.body, "country", text(b, "en", "enrollment.error.country.country_mismatch"))
	mustContain(t, res.body, `<option value="DE" selected>`)

	form = enrollValuesFR()
	for _, f := range []string{"account_domain", "account_name", "account_email", "account_password", "account_lang"} {
		form.Del(f)
	}
	wantRedirect(t, s.postForm(t, "/enroll", form, s.withSession(c)...), "/partner/enrollment?done=submitted")
	res = s.get(t, "/partner/enrollment?done=submitted", append(s.withSession(c), "Accept-Language", "en")...)
	mustContain(t, res.body, text(b, "en", "enrollment.application.notice.submitted"), text(b, "en", "enrollment.state.email_verification_pending"))

	// Resending the verification email: once, then not again at once.
	res = s.get(t, "/partner/enrollment", s.withSession(c)...)
	resend := regexp.MustCompile(`<form method="post" action="(/partner/enrollment/[^"]+/resend)">`).FindStringSubmatch(res.body)
	if resend == nil {
		t.Fatalf("no resend button: %s", res.body)
	}
	s.clock.Advance(2 * time.Minute)
	wantRedirect(t, s.postForm(t, resend[1], nil, s.withSession(c)...), "/partner/enrollment?done=resent")
	res = s.postForm(t, resend[1], nil, append(s.withSession(c), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second resend at once: %d %v", res.StatusCode, res.Header)
	}
	mustContain(t, res.body, `class="error-summary"`)
}

func TestEnrollmentVerificationPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		s := newEnrollmentServer(t, engine, 50)
		b := catalog(t)
		wantRedirect(t, s.postForm(t, "/enroll", enrollValuesFR()), "/mfa/setup")
		links, _ := s.verificationLinks(t)
		link := links["jeanne@contoso.example"]
		if link == "" {
			t.Fatalf("no link: %v", links)
		}

		// Opening the link changes nothing: it says whose application and
		// which address, with a button to confirm. No sign-in is needed.
		res := s.get(t, link, "Accept-Language", "fr")
		if res.StatusCode != http.StatusOK || res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET link: %d %v", res.StatusCode, res.Header)
		}
		mustContain(t, res.body, "Contoso SAS", "jeanne@contoso.example", `<form method="post" action="`+link+`">`,
			text(b, "fr", "enrollment.verify.submit"))
		res = s.get(t, link)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("the link stopped working after being opened: %d", res.StatusCode)
		}

		res = s.postForm(t, link, nil, "Accept-Language", "fr")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("confirm: %d %s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, textArgs(b, "fr", "enrollment.verify.done", "email", "jeanne@contoso.example"))

		// Used: a clear page, for GET and POST.
		for _, r := range []response{s.get(t, link, "Accept-Language", "en"), s.postForm(t, link, nil, "Accept-Language", "en")} {
			if r.StatusCode != http.StatusGone {
				t.Errorf("used link: %d", r.StatusCode)
			}
			mustContain(t, r.body, text(b, "en", "enrollment.verify.used"))
			mustNotContain(t, r.body, "Contoso SAS")
		}
		// Unknown and mangled links.
		for _, p := range []string{"/enrollments/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/enrollments/verify/not%20a%20token"} {
			r := s.get(t, p, "Accept-Language", "en")
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d", p, r.StatusCode)
			}
			mustContain(t, r.body, text(b, "en", "enrollment.verify.unknown"))
			if r := s.postForm(t, p, nil); r.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s: %d", p, r.StatusCode)
			}
		}

		// Expired: a second applicant waits more than 7 days.
		form := enrollValuesFR()
		for k, v := range map[string]string{"account_domain": "fabrikam.example", "account_email": "marc@fabrikam.example",
			"primary_email": "marc@fabrikam.example", "legal_name": "Fabrikam SARL"} {
			form.Set(k, v)
		}
		wantRedirect(t, s.postForm(t, "/enroll", form), "/mfa/setup")
		links, _ = s.verificationLinks(t)
		s.clock.Advance(8 * 24 * time.Hour)
		for _, r := range []response{s.get(t, links["marc@fabrikam.example"], "Accept-Language", "en"), s.postForm(t, links["marc@fabrikam.example"], nil, "Accept-Language", "en")} {
			if r.StatusCode != http.StatusGone {
				t.Errorf("expired link: %d", r.StatusCode)
			}
			mustContain(t, r.body, text(b, "en", "enrollment.verify.expired"))
		}
		// A POST from another site is refused before anything.
		r := httpPost(link, "https://evil.example")
		if res := s.do(t, r); res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST: %d", res.StatusCode)
		}
	})
}

// httpPost is a form POST that says where it comes from.
func httpPost(target, origin string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(""))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	return r
}

// enrolledAndVerified enrols a visitor's organization, confirms the
// contact's email and returns the admin's session past MFA.
func (s *identityServer) enrolledAndVerified(t *testing.T, form url.Values) *http.Cookie {
	t.Helper()
	c, _ := s.enrolledAndVerifiedWithSecret(t, form)
	return c
}

// enrolledAndVerifiedWithSecret is enrolledAndVerified, with the admin's
// TOTP secret for signing in again later.
func (s *identityServer) enrolledAndVerifiedWithSecret(t *testing.T, form url.Values) (*http.Cookie, string) {
	t.Helper()
	res := s.postForm(t, "/enroll", form)
	wantRedirect(t, res, "/mfa/setup")
	secret, _, c := s.enrol(t, s.sessionCookie(res))
	links, _ := s.verificationLinks(t)
	link := links[form.Get("primary_email")]
	if link == "" {
		t.Fatalf("no link to %s: %v", form.Get("primary_email"), links)
	}
	if res := s.postForm(t, link, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d", res.StatusCode)
	}
	return c, secret
}

var queueLink = regexp.MustCompile(`<td><a href="(/operator/enrollments/[^"]+)">([^<]*)</a></td>`)

func TestOperatorReviewsAndDecides(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		s := newEnrollmentServer(t, engine, 1)
		b := catalog(t)
		partner, partnerSecret := s.enrolledAndVerifiedWithSecret(t, enrollValuesFR())
		second := enrollValuesFR()
		for k, v := range map[string]string{"account_domain": "fabrikam.example", "account_email": "marc@fabrikam.example",
			"primary_email": "marc@fabrikam.example", "legal_name": "Fabrikam SARL"} {
			second.Set(k, v)
		}
		s.clock.Advance(time.Hour)
		res := s.postForm(t, "/enroll", second)
		wantRedirect(t, res, "/mfa/setup")
		op, secret := s.operatorAdminWithSecret(t)

		// The queue, one a page: the older application first.
		res = s.get(t, "/operator/enrollments", append(s.withSession(op), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("queue: %d %s", res.StatusCode, res.body)
		}
		mustContain(t, res.body, text(b, "fr", "enrollment.queue.title"), "Contoso SAS", text(b, "fr", "enrollment.state.in_review"),
			`aria-current="page">`+text(b, "fr", "operator.nav.enrollments"), `<td>France</td>`,
			textArgs(b, "fr", "enrollment.age_days", "count", 0))
		mustNotContain(t, res.body, "Fabrikam SARL")
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(res.body)
		if next == nil {
			t.Fatalf("no next page: %s", res.body)
		}
		res = s.get(t, html.UnescapeString(next[1]), s.withSession(op)...)
		mustContain(t, res.body, "Fabrikam SARL", text(b, "en", "enrollment.state.email_verification_pending"))
		mustNotContain(t, res.body, "Contoso SAS")

		// Filters: by state, by country.
		res = s.get(t, "/operator/enrollments?state=email_verification_pending", s.withSession(op)...)
		mustContain(t, res.body, "Fabrikam SARL", `<option value="email_verification_pending" selected>`)
		mustNotContain(t, res.body, "Contoso SAS")
		res = s.get(t, "/operator/enrollments?country=US", s.withSession(op)...)
		mustContain(t, res.body, text(b, "en", "enrollment.queue.none_matching"), `<option value="US" selected>`)
		if r := s.get(t, "/operator/enrollments?state=nonsense", s.withSession(op)...); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad state filter: %d", r.StatusCode)
		}

		// Overdue after the due date (5 business days); the sessions have
		// ended meanwhile.
		s.clock.Advance(8 * 24 * time.Hour)
		op = s.signInAgain(t, "olga@operator.example", secret)
		partner = s.signInAgain(t, "jeanne@contoso.example", partnerSecret)
		res = s.get(t, "/operator/enrollments?state=in_review", append(s.withSession(op), "Accept-Language", "en")...)
		mustContain(t, res.body, "Contoso SAS", `<strong>`+text(b, "en", "enrollment.overdue")+`</strong>`, textArgs(b, "en", "enrollment.age_days", "count", 8))
		app := queueLink.FindStringSubmatch(res.body)
		if app == nil {
			t.Fatalf("no link to the application: %s", res.body)
		}
		page := app[1]

		// The application: every check, the profile, the history.
		res = s.get(t, page, append(s.withSession(op), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("application: %d", res.StatusCode)
		}
		mustContain(t, res.body, textArgs(b, "en", "enrollment.review.heading", "name", "Contoso SAS"),
			text(b, "en", "enrollment.check_status.passed"), text(b, "en", "enrollment.checks.details"),
			"12 rue de la Paix", "jeanne@contoso.example", "support@contoso.example",
			text(b, "en", "enrollment.state.in_review"), text(b, "en", "enrollment.history.new"),
			`<input type="radio" id="decision" name="decision" value="approve" required>`)

		// A reason is required to ask for information; what was chosen stays.
		decision := page + "/decision"
		res = s.postForm(t, decision, url.Values{"decision": {"request_info"}, "reason": {" "}}, append(s.withSession(op), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("no reason: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "reason", text(b, "fr", "enrollment.error.reason.required"))
		mustContain(t, res.body, `value="request_info" checked`)
		res = s.postForm(t, decision, url.Values{"decision": {"maybe"}}, s.withSession(op)...)
		fieldErrorShown(t, res.body, "decision", text(b, "en", "enrollment.error.decision.invalid_decision"))

		wantRedirect(t, s.postForm(t, decision, url.Values{"decision": {"request_info"}, "reason": {"Send the registration certificate."}}, s.withSession(op)...),
			page+"?done=request_info")
		res = s.get(t, page+"?done=request_info", s.withSession(op)...)
		mustContain(t, res.body, text(b, "en", "enrollment.review.notice.request_info"), text(b, "en", "enrollment.review.decision.not_in_review"))
		mustNotContain(t, res.body, `name="decision"`)
		// Deciding again is refused: the application waits for the applicant.
		res = s.postForm(t, decision, url.Values{"decision": {"approve"}}, s.withSession(op)...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("decide while info requested: %d", res.StatusCode)
		}
		mustContain(t, res.body, text(b, "en", "enrollment.error.state_changed"))

		// The applicant sees the request and answers it.
		res = s.get(t, "/partner/enrollment", append(s.withSession(partner), "Accept-Language", "en")...)
		mustContain(t, res.body, text(b, "en", "enrollment.state.info_requested"),
			textArgs(b, "en", "enrollment.application.info.asked", "reason", "Send the registration certificate."))
		info := regexp.MustCompile(`action="(/partner/enrollment/[^"]+/info)"`).FindStringSubmatch(res.body)
		if info == nil {
			t.Fatalf("no answer form: %s", res.body)
		}
		res = s.postForm(t, info[1], url.Values{"message": {""}}, append(s.withSession(partner), "Accept-Language", "en")...)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty answer: %d", res.StatusCode)
		}
		fieldErrorShown(t, res.body, "message", text(b, "en", "enrollment.error.message.required"))
		wantRedirect(t, s.postForm(t, info[1], url.Values{"message": {"Attached to our website: contoso.example/kbis"}}, s.withSession(partner)...),
			"/partner/enrollment?done=answered")
		// Answering twice finds the application in review.
		res = s.postForm(t, info[1], url.Values{"message": {"again"}}, s.withSession(partner)...)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("second answer: %d", res.StatusCode)
		}

		// Approved: the applicant sees it, and the overview shows the next step.
		wantRedirect(t, s.postForm(t, decision, url.Values{"decision": {"approve"}}, s.withSession(op)...), page+"?done=approve")
		res = s.get(t, page, append(s.withSession(op), "Accept-Language", "en")...)
		mustContain(t, res.body, text(b, "en", "enrollment.state.approved"), "Attached to our website: contoso.example/kbis",
			"Send the registration certificate.")
		res = s.get(t, "/partner", append(s.withSession(partner), "Accept-Language", "fr")...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("overview: %d", res.StatusCode)
		}
		self := regexp.MustCompile(`<li><a href="(/settings/users/[^"]+)">` + regexp.QuoteMeta(text(b, "fr", "enrollment.overview.admin_agent.step1")) + `</a></li>`).FindStringSubmatch(res.body)
		if self == nil {
			t.Fatalf("no admin agent step: %s", res.body)
		}
		mustContain(t, res.body, text(b, "fr", "enrollment.state.approved"), text(b, "fr", "enrollment.overview.admin_agent.heading"))
		// The link opens the admin's own page in User management.
		if r := s.get(t, self[1], s.withSession(partner)...); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "jeanne@contoso.example") {
			t.Errorf("user page: %d", r.StatusCode)
		}
		res = s.get(t, "/partner/enrollment", append(s.withSession(partner), "Accept-Language", "en")...)
		mustContain(t, res.body, text(b, "en", "enrollment.application.approved"))
		mustNotContain(t, res.body, `/resend"`, `/info"`)

		// The agreement of the partner's region: the overview and the
		// profile's Program information say it is not signed, then, once
		// the global admin accepts it, signed, with the green banner.
		ctx := context.Background()
		opActor, err := s.svc.SessionActor(ctx, op.Value)
		if err != nil {
			t.Fatal(err)
		}
		ag, err := s.svc.PublishAgreement(ctx, opActor, service.PublishAgreementInput{Version: "2026-03", Title: "Contrat partenaire CSP",
			Body: "Article 1.", EffectiveAt: s.clock.Now().Add(-time.Hour), Regions: []string{"europe"}})
		if err != nil {
			t.Fatal(err)
		}
		frPartner := append(s.withSession(partner), "Accept-Language", "fr")
		res = s.get(t, "/partner/profile", frPartner...)
		mustContain(t, res.body, "<td>"+text(b, "fr", "enrollment.profile.agreement.not_signed")+"</td>", `<a href="/partner/agreement">`)
		res = s.get(t, "/partner", frPartner...)
		mustContain(t, res.body, text(b, "fr", "agreement.banner.unsigned.heading"), text(b, "fr", "agreement.banner.unsigned.admin"))
		mustNotContain(t, res.body, "notice-success")
		me, err := s.svc.SessionActor(ctx, partner.Value)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.AcceptAgreement(ctx, me, ag.ID, service.AcceptAgreementInput{SignerName: "Jeanne Martin",
			SignerEmail: "jeanne@contoso.example", SignerPhone: "01 23 45 67 89"}); err != nil {
			t.Fatal(err)
		}
		res = s.get(t, "/partner/profile", frPartner...)
		mustContain(t, res.body, `<th scope="row">`+text(b, "fr", "enrollment.membership.indirect_reseller")+"</th>",
			"<td>"+text(b, "fr", "enrollment.profile.agreement.signed")+"</td>",
			textArgs(b, "fr", "enrollment.profile.agreement.accepted", "version", "2026-03", "name", "Jeanne Martin", "date", s.clock.Now()))
		mustNotContain(t, res.body, text(b, "fr", "enrollment.profile.agreement.not_signed"))
		res = s.get(t, "/partner", frPartner...)
		mustContain(t, res.body, `<div class="notice notice-success" role="status">`,
			textArgs(b, "fr", "agreement.banner.signed", "version", "2026-03", "date", s.clock.Now()))
		mustNotContain(t, res.body, text(b, "fr", "agreement.banner.unsigned.heading"))
		if strings.Contains(s.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", s.logs)
		}
	})
}

func TestOperatorConsoleIsForReviewersOnly(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)
	partner := s.enrolledAndVerified(t, enrollValuesFR())
	op := s.operatorAdmin(t)
	res := s.get(t, "/operator/enrollments", s.withSession(op)...)
	app := queueLink.FindStringSubmatch(res.body)
	if app == nil {
		t.Fatalf("no application in the queue: %s", res.body)
	}

	// A visitor is sent to sign in; a partner gets the 403 page, even its
	// own application's, and cannot decide it.
	wantRedirect(t, s.get(t, "/operator/enrollments"), "/signin")
	wantRedirect(t, s.get(t, app[1]), "/signin")
	for _, p := range []string{"/operator/enrollments", app[1]} {
		r := s.get(t, p, append(s.withSession(partner), "Accept-Language", "fr")...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("partner GET %s: %d", p, r.StatusCode)
		}
		mustContain(t, r.body, text(b, "fr", "error.forbidden.title"))
	}
	r := s.postForm(t, app[1]+"/decision", url.Values{"decision": {"approve"}}, s.withSession(partner)...)
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("partner decides: %d", r.StatusCode)
	}
	// An operator user who is no reviewer gets 403 from the service.
	ctx := context.Background()
	me, err := s.svc.SessionActor(ctx, op.Value)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.InviteUser(ctx, me, service.InviteUserInput{Email: "cat@operator.example", Name: "Cat", Roles: []string{csphub.RoleCatalogManager}}); err != nil {
		t.Fatal(err)
	}
	cat := s.acceptInvitation(t, "cat@operator.example")
	if r := s.get(t, "/operator/enrollments", s.withSession(cat)...); r.StatusCode != http.StatusForbidden {
		t.Errorf("catalog manager opens the queue: %d", r.StatusCode)
	}
	// The service shows an application to its organization and to the
	// reviewers only: to anyone else it does not exist.
	if r := s.get(t, app[1], s.withSession(cat)...); r.StatusCode != http.StatusNotFound {
		t.Errorf("catalog manager opens an application: %d", r.StatusCode)
	}
	if r := s.postForm(t, app[1]+"/decision", url.Values{"decision": {"approve"}}, s.withSession(cat)...); r.StatusCode != http.StatusForbidden {
		t.Errorf("catalog manager decides: %d", r.StatusCode)
	}
	// An application that does not exist is 404.
	if r := s.get(t, "/operator/enrollments/01JNOTANAPPLICATION000000", s.withSession(op)...); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown application: %d", r.StatusCode)
	}
	// The operator has no partner pages.
	if r := s.get(t, "/partner", s.withSession(op)...); r.StatusCode != http.StatusForbidden {
		t.Errorf("operator opens /partner: %d", r.StatusCode)
	}
	// Nothing was decided.
	res = s.get(t, app[1], s.withSession(op)...)
	mustContain(t, res.body, text(b, "en", "enrollment.state.in_review"))
}

func TestPartnerProfileEdit(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)
	partner := s.enrolledAndVerified(t, enrollValuesFR())
	res, etag := s.profileForm(t, partner)
	mustContain(t, res.body, `<option value="FR" selected>`, `value="Contoso SAS"`, text(b, "en", "enrollment.profile.program.heading"))
	// Before approval, no warning about going back to review.
	mustNotContain(t, res.body, text(b, "en", "enrollment.profile.edit.review_warning"))

	form := profileValues(res.body)
	form.Set("etag", etag)
	form.Set("support_website", "https://help.contoso.example")
	wantRedirect(t, s.postForm(t, "/partner/profile", form, s.withSession(partner)...), "/partner/profile?done=updated")
	res = s.get(t, "/partner/profile?done=updated", append(s.withSession(partner), "Accept-Language", "en")...)
	mustContain(t, res.body, text(b, "en", "enrollment.profile.notice.updated"), "https://help.contoso.example")

	// The old ETag is stale: refused, the page shows the profile as it is now.
	form.Set("support_website", "https://stale.contoso.example")
	res = s.postForm(t, "/partner/profile", form, append(s.withSession(partner), "Accept-Language", "fr")...)
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale ETag: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "fr", "enrollment.error.etag_mismatch"), `value="https://help.contoso.example"`)
	mustNotContain(t, res.body, "https://stale.contoso.example")

	// Bad input keeps what was typed.
	_, etag = s.profileForm(t, partner)
	form.Set("etag", etag)
	form.Set("postal_code", "ABC")
	form.Set("legal_name", "Contoso France SAS")
	res = s.postForm(t, "/partner/profile", form, append(s.withSession(partner), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad postal code: %d", res.StatusCode)
	}
	fieldErrorShown(t, res.body, "postal_code", textArgs(b, "en", "enrollment.error.postal_code.invalid_postal_code_example", "example", "75001"))
	mustContain(t, res.body, `value="ABC"`, `value="Contoso France SAS"`)
}

var profileInput = regexp.MustCompile(`<input type="(?:text|email|hidden)" id="([a-z_0-9]+)" name="[a-z_0-9]+" value="([^"]*)"`)

// profileForm opens the profile page and returns it with its ETag.
func (s *identityServer) profileForm(t *testing.T, c *http.Cookie) (response, string) {
	t.Helper()
	res := s.get(t, "/partner/profile", append(s.withSession(c), "Accept-Language", "en")...)
	m := etagField.FindStringSubmatch(res.body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("profile: %d %.1000s", res.StatusCode, res.body)
	}
	return res, html.UnescapeString(m[1])
}

// profileValues reads the profile form's values as the page shows them.
func profileValues(body string) url.Values {
	v := url.Values{}
	for _, m := range profileInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, sel := range []string{"country", "primary_lang", "state"} {
		if m := regexp.MustCompile(`(?s)<select id="` + sel + `".*?<option value="([^"]*)"[^>]* selected>`).FindStringSubmatch(body); m != nil {
			v.Set(sel, m[1])
		}
	}
	return v
}

func TestApprovedProfileAndRejectedApplication(t *testing.T) {
	s := newEnrollmentServer(t, "sqlite", 50)
	b := catalog(t)
	ctx := context.Background()
	partner := s.enrolledAndVerified(t, enrollValuesFR())
	second := enrollValuesFR()
	for k, v := range map[string]string{"account_domain": "fabrikam.example", "account_email": "marc@fabrikam.example",
		"primary_email": "marc@fabrikam.example", "legal_name": "Fabrikam SARL"} {
		second.Set(k, v)
	}
	rejected := s.enrolledAndVerified(t, second)
	op := s.operatorAdmin(t)
	res := s.get(t, "/operator/enrollments", s.withSession(op)...)
	apps := map[string]string{}
	for _, m := range queueLink.FindAllStringSubmatch(res.body, -1) {
		apps[m[2]] = m[1]
	}
	if len(apps) != 2 {
		t.Fatalf("queue: %v", apps)
	}
	wantRedirect(t, s.postForm(t, apps["Contoso SAS"]+"/decision", url.Values{"decision": {"approve"}}, s.withSession(op)...), apps["Contoso SAS"]+"?done=approve")
	wantRedirect(t, s.postForm(t, apps["Fabrikam SARL"]+"/decision", url.Values{"decision": {"reject"}, "reason": {"The address is a mailbox service."}}, s.withSession(op)...),
		apps["Fabrikam SARL"]+"?done=reject")

	// Rejected: the reason shows, and the global admin may apply again.
	res = s.get(t, "/partner/enrollment", append(s.withSession(rejected), "Accept-Language", "fr")...)
	mustContain(t, res.body, text(b, "fr", "enrollment.state.rejected"), "The address is a mailbox service.",
		text(b, "fr", "enrollment.check_status.failed"), `<a class="button primary" href="/enroll">`)
	res = s.get(t, "/enroll", s.withSession(rejected)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("enrol again after a rejection: %d", res.StatusCode)
	}

	// Approved: the profile says so, and warns that a new legal name goes
	// back to review.
	res, etag := s.profileForm(t, partner)
	mustContain(t, res.body, text(b, "en", "enrollment.state.approved"), text(b, "en", "enrollment.profile.edit.review_warning"),
		text(b, "en", "enrollment.membership.indirect_reseller"))
	form := profileValues(res.body)
	form.Set("etag", etag)
	form.Set("legal_name", "Contoso France SAS")
	wantRedirect(t, s.postForm(t, "/partner/profile", form, s.withSession(partner)...), "/partner/profile?done=updated")
	res = s.get(t, "/partner/enrollment", append(s.withSession(partner), "Accept-Language", "en")...)
	mustContain(t, res.body, text(b, "en", "enrollment.state.in_review"))

	// A sales agent sees the profile but cannot change it.
	me, err := s.svc.SessionActor(ctx, partner.Value)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.InviteUser(ctx, me, service.InviteUserInput{Email: "sam@contoso.example", Name: "Sam", Roles: []string{csphub.RoleSalesAgent}}); err != nil {
		t.Fatal(err)
	}
	sam := s.acceptInvitation(t, "sam@contoso.example")
	res, _ = s.profileFormOf(t, sam)
	mustContain(t, res.body, "Contoso France SAS", text(b, "en", "enrollment.profile.edit.admins_only"))
	mustNotContain(t, res.body, `action="/partner/profile"`)
	res = s.postForm(t, "/partner/profile", form, append(s.withSession(sam), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("sales agent edits: %d", res.StatusCode)
	}
	mustContain(t, res.body, text(b, "en", "enrollment.error.profile_forbidden"))
	// Nor enrol, nor see the call to action as if it could.
	if r := s.get(t, "/enroll", s.withSession(sam)...); r.StatusCode != http.StatusForbidden {
		t.Errorf("sales agent opens /enroll: %d", r.StatusCode)
	}
	res = s.get(t, "/partner", append(s.withSession(sam), "Accept-Language", "en")...)
	mustNotContain(t, res.body, text(b, "en", "enrollment.overview.admin_agent.heading"))
}

// profileFormOf opens the profile page of a reader who may not edit it.
func (s *identityServer) profileFormOf(t *testing.T, c *http.Cookie) (response, string) {
	t.Helper()
	res := s.get(t, "/partner/profile", append(s.withSession(c), "Accept-Language", "en")...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("profile: %d", res.StatusCode)
	}
	return res, ""
}
