package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"csphub"
	"csphub/internal/catalogfile"
	"csphub/internal/i18n"
	"csphub/internal/service"
	"csphub/internal/totp"
)

// journeyCast is who takes part in the journey in one language: the
// names, addresses and numbers a partner of that country would type.
type journeyCast struct {
	lang           string
	acceptLanguage string

	operatorEmail, operatorName string

	providerName, providerEmail, providerFirst, providerLast string

	// The reseller that enrols, in country with a postal code of the
	// right shape (badPostal is one the country refuses).
	resellerName, resellerDomain, resellerEmail, resellerFirst, resellerLast              string
	country, countryName, line1, city, postal, postalExample, badPostal, phone, partnerID string

	customerName, customerDomain, customerEmail, customerAdmin string
	agreementTitle, agreementBody                              string

	// offer is the customer's market's offer the provider orders, at
	// priceMinor per unit in currency.
	offer      string
	priceMinor int64
	currency   string
}

var journeyCasts = []journeyCast{
	{
		lang: "fr", acceptLanguage: "fr-FR,fr;q=0.9",
		operatorEmail: "olga@operateur.example", operatorName: "Olga Opératrice",
		providerName: "Fabrikam Distribution SARL", providerEmail: "marc@fabrikam.example", providerFirst: "Marc", providerLast: "Dubois",
		resellerName: "Contoso SAS", resellerDomain: "contoso.example", resellerEmail: "jeanne@contoso.example", resellerFirst: "Jeanne", resellerLast: "Martin",
		country: "FR", countryName: "France", line1: "12 rue de la Paix", city: "Paris", postal: "75002", postalExample: "75001", badPostal: "7500", phone: "01 23 45 67 89", partnerID: "4123456",
		customerName: "Northwind Traders", customerDomain: "northwind.example", customerEmail: "nadia@northwind.example", customerAdmin: "Nadia Roux",
		agreementTitle: "Contrat partenaire CSP", agreementBody: "Article 1. Le partenaire revend les services du programme.\n\nArticle 2. Le partenaire protège les données de ses clients.",
		offer: "CP-STANDARD-FR-P1M", priceMinor: 1170, currency: "EUR",
	},
	{
		lang: "en", acceptLanguage: "en-GB,en;q=0.9",
		operatorEmail: "olivia@operator.example", operatorName: "Olivia Operator",
		providerName: "Fabrikam Distribution SARL", providerEmail: "mark@fabrikam.example", providerFirst: "Mark", providerLast: "Dubois",
		resellerName: "Contoso Ltd", resellerDomain: "contoso.example", resellerEmail: "jane@contoso.example", resellerFirst: "Jane", resellerLast: "Smith",
		country: "GB", countryName: "United Kingdom", line1: "10 Downing Street", city: "London", postal: "SW1A 2AA", postalExample: "SW1A 1AA", badPostal: "SW1A", phone: "020 7946 0000", partnerID: "5123456",
		customerName: "Northwind Traders Ltd", customerDomain: "northwind.example", customerEmail: "nick@northwind.example", customerAdmin: "Nick Jones",
		agreementTitle: "CSP partner agreement", agreementBody: "Article 1. The partner resells the program's services.\n\nArticle 2. The partner protects its customers' data.",
		offer: "CP-STANDARD-GB-P1M", priceMinor: 990, currency: "GBP",
	},
}

// TestSourceJourneyInBrowser drives the program's whole journey, as the
// source document tells it, on a fresh server, once in French and once in
// English: a new partner enrols as an indirect reseller and verifies its
// contact's email from the mailbox; the operator approves; the global
// admin accepts the partner agreement, sees the banner and joins the
// admin agents; an indirect provider invites it; it authorizes the
// provider; it invites a customer for that provider; the customer
// accepts; the provider orders for the customer; the reseller finds the
// customer under View customers, and the subscription. Each step leaves a
// screenshot under $CSPHUB_ARTIFACTS; with CSPHUB_DOCS_SCREENSHOTS set to
// a directory, the English run also writes the ones docs/journeys.md
// shows there.
func TestSourceJourneyInBrowser(t *testing.T) {
	for _, cast := range journeyCasts {
		t.Run(cast.lang, func(t *testing.T) { runJourney(t, cast) })
	}
}

// journey is one run: the server, the browser, the clock and the catalog
// of the run's language.
type journey struct {
	t     *testing.T
	cast  journeyCast
	st    *enrollmentStack
	b     *browser
	clock *csphub.ManualClock
	loc   *i18n.Localizer
	step  int
}

func (j *journey) shot(name string) {
	j.t.Helper()
	j.audit(name)
	j.step++
	file := fmt.Sprintf("journey-%s-%02d-%s", j.cast.lang, j.step, name)
	j.b.screenshot(j.t, file)
	if dir := os.Getenv("CSPHUB_DOCS_SCREENSHOTS"); dir != "" && j.cast.lang == "en" && docScreenshots[name] {
		j.b.screenshotTo(j.t, filepath.Join(dir, "journey-"+name+".png"))
	}
}

// pageAudit lists what keeps a page from being read by assistive
// technology or the keyboard: a form field with no label, a label for no
// field, a duplicate id, a reference to a missing id, a refused field not
// marked invalid or without its error next to it, an image without alt
// text, a table without a caption, headings that skip a level or no single
// h1, a title that does not start with the h1, a page not in its
// language.
const pageAudit = `(() => {
  const out = [];
  const byId = id => document.getElementById(id);
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) { if (ids[el.id]) out.push('duplicate id ' + el.id); ids[el.id] = true; }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset'].includes(el.type)) continue;
    const labelled = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest('label') ||
      el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) out.push('no label for ' + el.tagName.toLowerCase() + ' ' + (el.name || el.id));
    const invalid = el.closest('.field-invalid');
    if (invalid && el.getAttribute('aria-invalid') !== 'true' && !['radio', 'checkbox'].includes(el.type)) out.push('refused field not marked invalid: ' + el.name);
  }
  for (const err of document.querySelectorAll('.field-error')) {
    if (!err.closest('.field, fieldset')) out.push('an error away from its field: ' + err.textContent.trim());
  }
  for (const l of document.querySelectorAll('label[for]')) if (!byId(l.htmlFor)) out.push('label for a missing field ' + l.htmlFor);
  for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls']) {
    for (const el of document.querySelectorAll('[' + attr + ']')) {
      for (const id of el.getAttribute(attr).split(/\s+/).filter(Boolean)) if (!byId(id)) out.push(attr + ' names a missing id ' + id);
    }
  }
  for (const a of document.querySelectorAll('.error-summary a[href^="#"]')) if (!byId(a.getAttribute('href').slice(1))) out.push('error summary links to a missing field ' + a.getAttribute('href'));
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) out.push('image without alt ' + img.src);
  for (const svg of document.querySelectorAll('main svg')) if (!svg.getAttribute('aria-labelledby') && !svg.getAttribute('aria-label') && svg.getAttribute('aria-hidden') !== 'true' && !svg.querySelector('title')) out.push('svg without a name');
  for (const t of document.querySelectorAll('main table')) if (!t.querySelector('caption') && !t.getAttribute('aria-label') && !t.getAttribute('aria-labelledby')) out.push('table without a caption');
  for (const th of document.querySelectorAll('main thead th')) if (!th.getAttribute('scope')) out.push('header cell without scope: ' + th.textContent.trim());
  const h1s = document.querySelectorAll('h1');
  if (h1s.length !== 1) out.push(h1s.length + ' h1 headings');
  let last = 0;
  for (const h of document.querySelectorAll('main h1, main h2, main h3, main h4')) {
    const level = Number(h.tagName[1]);
    if (last && level > last + 1) out.push('heading skips from h' + last + ' to h' + level + ': ' + h.textContent.trim());
    last = level;
  }
  if (h1s.length && !document.title.startsWith(h1s[0].textContent.trim().slice(0, 20))) out.push('title "' + document.title + '" does not start with the h1 "' + h1s[0].textContent.trim() + '"');
  if (!document.documentElement.lang) out.push('no lang on html');
  return out;
})()`

// audit fails for each problem pageAudit finds on the page shown, and
// checks the page is in the run's language.
func (j *journey) audit(step string) {
	j.t.Helper()
	for _, p := range pageEval[[]string](j.t, j.b, pageAudit) {
		j.t.Errorf("%s (%s): %s", step, pageEval[string](j.t, j.b, `location.pathname`), p)
	}
	if lang := pageEval[string](j.t, j.b, `document.documentElement.lang`); lang != j.cast.lang {
		j.t.Errorf("%s: the page is in %q, want %q", step, lang, j.cast.lang)
	}
}

// docScreenshots are the steps docs/journeys.md shows.
var docScreenshots = map[string]bool{
	"enroll-form": true, "mailbox-verification": true, "review": true, "overview-signed": true,
	"admin-agent": true, "provider-invites": true, "authorize": true, "invite-customer": true,
	"customer-accepts": true, "order-review": true, "reseller-customers": true, "reseller-subscription": true,
	"operator-overview": true, "provider-overview": true,
}

func (j *journey) heading(want string) {
	j.t.Helper()
	if got := pageText(j.t, j.b, "main h1"); got != want {
		j.t.Errorf("heading = %q, want %q", got, want)
	}
}

func (j *journey) notice(sel, want string) {
	j.t.Helper()
	if got := pageText(j.t, j.b, sel); got != want {
		j.t.Errorf("%s = %q, want %q", sel, got, want)
	}
}

// figures reads an overview's numbers, by what they count.
func (j *journey) figures() map[string]string {
	return pageEval[map[string]string](j.t, j.b, `Object.fromEntries([...document.querySelectorAll('dl.figures > div')].map(d => [d.querySelector('dt').textContent.trim(), d.querySelector('dd').textContent.trim()]))`)
}

// figuresAre fails for each overview number that is not as wanted, by
// catalog key.
func (j *journey) figuresAre(want map[string]string) {
	j.t.Helper()
	got := j.figures()
	for key, n := range want {
		if label := j.loc.T(key); got[label] != n {
			j.t.Errorf("overview figure %q = %q, want %s (all: %v)", label, got[label], n, got)
		}
	}
}

func (j *journey) tableText() string {
	return pageEval[string](j.t, j.b, `document.querySelector('main table').innerText`)
}

// tableHas fails for each of wants the page's first table lacks.
func (j *journey) tableHas(what string, wants ...string) {
	j.t.Helper()
	rows := j.tableText()
	for _, w := range wants {
		if !strings.Contains(rows, w) {
			j.t.Errorf("%s lacks %q: %q", what, w, rows)
		}
	}
}

// submit presses Enter on a form's submit button, as a keyboard user
// would, and waits for what the next page shows.
func (j *journey) submit(what, button, waitFor string) {
	j.t.Helper()
	j.b.do(j.t, what,
		chromedp.Focus(chromedp.CSS(button)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(waitFor)),
	)
}

// mailLink opens the local mailbox, as anyone reading the emails would,
// finds the newest message to someone that carries a link whose path
// starts with prefix, and returns that link.
func (j *journey) mailLink(to, prefix string) string {
	j.t.Helper()
	j.st.deliver(j.t)
	base := j.st.srv.URL
	j.b.do(j.t, "open the mailbox", chromedp.Navigate(base+"/mailbox"), chromedp.WaitVisible(chromedp.CSS("main table")))
	hrefs := pageEval[[]string](j.t, j.b, `[...document.querySelectorAll('main tbody tr')].filter(tr => tr.textContent.includes('`+to+`')).map(tr => tr.querySelector('a').getAttribute('href'))`)
	for _, href := range hrefs {
		j.b.do(j.t, "open "+href, chromedp.Navigate(base+href+"/html"), chromedp.WaitReady(chromedp.CSS("body")))
		link := pageEval[string](j.t, j.b, `(document.querySelector('a[href*="`+prefix+`"]') || {href: ''}).href`)
		if link != "" {
			if !strings.HasPrefix(link, base+prefix) {
				j.t.Fatalf("the link in the email to %s points elsewhere: %q", to, link)
			}
			// Back on the message's page, for the screenshot.
			j.b.do(j.t, "show the message", chromedp.Navigate(base+href), chromedp.WaitVisible(chromedp.CSS("main h1")))
			return link
		}
	}
	j.t.Fatalf("no email to %s with a link to %s in the mailbox (%d to that address)", to, prefix, len(hrefs))
	return ""
}

func (j *journey) signIn(email, password string) {
	j.t.Helper()
	signIn(j.t, j.b, j.st.srv.URL, email, password)
}

// signInWithCode signs in a user whose authenticator is set up; the clock
// moves on a period so that the code is one not used yet.
func (j *journey) signInWithCode(email, password, secret string) {
	j.t.Helper()
	j.signIn(email, password)
	j.clock.Advance(totp.Period)
	enterCode(j.t, j.b, j.clock, secret)
}

func (j *journey) firstSignIn(email, password string) string {
	j.t.Helper()
	j.signIn(email, password)
	j.b.do(j.t, "reach MFA setup", chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)))
	return setUpMFA(j.t, j.b, j.clock)
}

func runJourney(t *testing.T, c journeyCast) {
	clock := csphub.NewManualClock(time.Now())
	st := startEnrollmentStack(t, clock)
	ctx := context.Background()
	en, fr := catalogs(t)
	loc := en
	if c.lang == "fr" {
		loc = fr
	}
	const password = "correct horse battery staple"
	base := st.srv.URL

	// What a fresh deployment's operator does from the command line
	// before anyone enrols: the operator organization and its first admin
	// (who sets a password by the link printed), the partner IDs of the
	// program, the partner agreement for Europe, the catalogue; and one
	// indirect provider, approved for Europe, that accepted the agreement.
	opOrg, _, err := st.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	opUser, firstPassword, err := st.svc.CreateOperatorAdmin(ctx, c.operatorEmail, c.operatorName, c.lang)
	if err != nil {
		t.Fatal(err)
	}
	operator := csphub.Actor{Kind: csphub.ActorUser, ID: opUser.ID, OrgID: opOrg.ID, OrgKind: csphub.OrgOperator, Roles: opUser.Roles, MFAPassed: true}
	imported, err := st.svc.ImportPartnerIDs(ctx, operator, []service.PartnerIDRow{{Row: 1, PartnerID: c.partnerID, LegalName: c.resellerName, Country: c.country, Status: "active"}})
	if err != nil || imported.Imported != 1 || imported.Results[0].ClaimCode == "" {
		t.Fatalf("import the partner ID: %+v %v", imported, err)
	}
	claimCode := imported.Results[0].ClaimCode
	agreement, err := st.svc.PublishAgreement(ctx, operator, service.PublishAgreementInput{
		Version: "2026-01", Title: c.agreementTitle, Body: c.agreementBody,
		EffectiveAt: clock.Now().Add(-time.Hour), Regions: []string{"europe"}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := catalogfile.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.ImportCatalog(ctx, operator, rows); err != nil {
		t.Fatal(err)
	}
	seedProvider(t, st, operator, agreement.ID, c, password)

	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": c.acceptLanguage},
	}); err != nil {
		t.Fatal(err)
	}
	j := &journey{t: t, cast: c, st: st, b: b, clock: clock, loc: loc}

	// 0. The operator's admin sets a password by the link given at setup.
	b.do(t, "open the first-password link", chromedp.Navigate(firstPassword), chromedp.WaitVisible(chromedp.CSS("main form #password")))
	b.do(t, "choose a password", chromedp.SendKeys(chromedp.CSS("#password"), password))
	j.submit("set the password", `main form button[type="submit"]`, `form[action="/signin"]`)

	// 1. A new partner enrols as an indirect reseller: the country first,
	// then the form; a postal code of the wrong shape is refused next to
	// its field, and nothing typed is lost but the password.
	b.do(t, "open the enrollment", chromedp.Navigate(base+"/enroll"), chromedp.WaitVisible(chromedp.CSS(`form[action="/enroll"] select#country`)))
	j.heading(loc.T("enroll.title"))
	b.do(t, "choose the country", chromedp.SetValue(chromedp.CSS("#country"), c.country))
	j.submit("go on to the form", `form[action="/enroll"] button[type="submit"]`, `form[method="post"][action="/enroll"]`)
	j.notice("#postal_code-hint", loc.T("enrollment.hint.postal_code", "example", c.postalExample))
	b.do(t, "fill in the enrollment, with a postal code of the wrong shape",
		chromedp.SendKeys(chromedp.CSS("#account_domain"), c.resellerDomain),
		chromedp.SendKeys(chromedp.CSS("#account_name"), c.resellerFirst+" "+c.resellerLast),
		chromedp.SendKeys(chromedp.CSS("#account_email"), c.resellerEmail),
		chromedp.SendKeys(chromedp.CSS("#account_password"), password),
		chromedp.SendKeys(chromedp.CSS("#partner_id"), c.partnerID),
		chromedp.SendKeys(chromedp.CSS("#claim_code"), claimCode),
		chromedp.SendKeys(chromedp.CSS("#legal_name"), c.resellerName),
		chromedp.SendKeys(chromedp.CSS("#address_line1"), c.line1),
		chromedp.SendKeys(chromedp.CSS("#city"), c.city),
		chromedp.SendKeys(chromedp.CSS("#postal_code"), c.badPostal),
		chromedp.SendKeys(chromedp.CSS("#primary_first_name"), c.resellerFirst),
		chromedp.SendKeys(chromedp.CSS("#primary_last_name"), c.resellerLast),
		chromedp.SendKeys(chromedp.CSS("#primary_email"), c.resellerEmail),
		chromedp.SendKeys(chromedp.CSS("#primary_phone"), c.phone),
		chromedp.SendKeys(chromedp.CSS("#support_email"), "support@"+c.resellerDomain),
		chromedp.SendKeys(chromedp.CSS("#support_phone"), c.phone),
		chromedp.SendKeys(chromedp.CSS("#support_website"), "https://support."+c.resellerDomain),
	)
	if got := pageEval[string](t, b, `document.querySelector('#account_lang').value + '|' + document.querySelector('#primary_lang').value`); got != c.lang+"|"+c.lang {
		t.Errorf("the form's languages start as %q, want %s", got, c.lang)
	}
	j.shot("enroll-form")
	j.submit("submit with a postal code of the wrong shape", `form[method="post"][action="/enroll"] button[type="submit"]`, ".error-summary")
	j.notice("#postal_code-error", loc.T("enrollment.error.postal_code.invalid_postal_code_example", "example", c.postalExample))
	if !pageEval[bool](t, b, `document.activeElement.classList.contains('error-summary')`) {
		t.Error("the error summary does not have the focus")
	}
	if got := pageEval[string](t, b, `document.querySelector('#claim_code').value + '|' + document.querySelector('#legal_name').value + '|' + document.querySelector('#account_password').value`); got != claimCode+"|"+c.resellerName+"|" {
		t.Errorf("values after the refusal: %q", got)
	}
	j.shot("enroll-error")
	b.do(t, "correct the postal code",
		chromedp.Click(chromedp.CSS(`.error-summary a[href="#postal_code"]`)),
		// The refused code is a prefix of the right one: type the rest.
		chromedp.SendKeys(chromedp.CSS("#postal_code"), kb.End+strings.TrimPrefix(c.postal, c.badPostal)),
		chromedp.SendKeys(chromedp.CSS("#account_password"), password),
	)
	j.submit("submit the enrollment", `form[method="post"][action="/enroll"] button[type="submit"]`, `main form[action="/mfa/setup"]`)
	j.heading(loc.T("mfa.setup.title"))
	resellerSecret := setUpMFA(t, b, clock)
	b.do(t, "open the application", chromedp.Navigate(base+"/partner/enrollment"), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	j.heading(loc.T("enrollment.application.title"))
	if got := pageText(t, b, "dl.facts strong"); got != loc.T("enrollment.state.email_verification_pending") {
		t.Errorf("state after enrolling = %q", got)
	}
	j.shot("application-pending")

	// 2. The primary contact verifies its address from the mailbox.
	verify := j.mailLink(c.resellerEmail, "/enrollments/verify/")
	j.shot("mailbox-verification")
	b.do(t, "follow the verification link", chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.CSS(`main form[method="post"]`)))
	j.heading(loc.T("enrollment.verify.title"))
	j.submit("confirm the address", `main form[method="post"] button`, `main .notice[role="status"]`)
	j.notice(`main .notice[role="status"]`, loc.T("enrollment.verify.done", "email", c.resellerEmail))
	j.shot("verified")
	signOut(t, b)

	// 3. The operator reviews and approves the application.
	j.firstSignIn(c.operatorEmail, password)
	// The operator lands on the program's overview, the new application
	// at the head of its queue.
	if got := pageEval[string](t, b, `location.pathname`); got != "/operator" {
		t.Errorf("the operator lands on %s, want /operator", got)
	}
	j.heading(loc.T("overview.operator.title"))
	j.figuresAre(map[string]string{"overview.program.partners_enrolling": "1", "overview.program.providers_approved": "1"})
	j.tableHas("the overview's review queue", c.resellerName, c.countryName)
	j.shot("operator-overview")
	b.do(t, "open the review queue", chromedp.Navigate(base+"/operator/enrollments"), chromedp.WaitVisible(chromedp.CSS("main table")))
	j.heading(loc.T("enrollment.queue.title"))
	j.tableHas("the review queue", c.resellerName, c.partnerID, loc.T("enrollment.state.in_review"))
	b.do(t, "open the application",
		chromedp.Click(chromedp.CSS(`main tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/decision"]`)),
	)
	j.heading(loc.T("enrollment.review.heading", "name", c.resellerName))
	j.shot("review")
	b.do(t, "choose to approve", chromedp.Click(chromedp.CSS("#decision")))
	j.submit("approve", `form[action$="/decision"] button[type="submit"]`, `main .notice[role="status"]`)
	j.notice(`main .notice[role="status"]`, loc.T("enrollment.review.notice.approve"))
	j.shot("approved")
	review := pageEval[string](t, b, `location.pathname`)
	fitsNarrow(t, b, base+"/operator/enrollments")
	fitsNarrow(t, b, base+review)
	signOut(t, b)

	// 4. The global admin accepts the agreement, sees the banner, and
	// joins the admin agents as the overview asks.
	j.signInWithCode(c.resellerEmail, password, resellerSecret)
	b.do(t, "open the CSP overview", chromedp.Navigate(base+"/partner"), chromedp.WaitVisible(chromedp.CSS(`main a[href="/partner/agreement"]`)))
	j.heading(loc.T("enrollment.overview.title"))
	if n := pageEval[int](t, b, `document.querySelectorAll('.notice-success').length`); n != 0 {
		t.Errorf("%d confirmation banners before the acceptance", n)
	}
	j.shot("overview-unsigned")
	b.do(t, "open the agreement",
		chromedp.Click(chromedp.CSS(`main a[href="/partner/agreement"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/partner/agreement"]`)),
		chromedp.SetValue(chromedp.CSS("#signer_name"), c.resellerFirst+" "+c.resellerLast),
		chromedp.SetValue(chromedp.CSS("#signer_email"), c.resellerEmail),
		chromedp.SetValue(chromedp.CSS("#signer_phone"), c.phone),
		chromedp.Click(chromedp.CSS("#accept")),
	)
	j.shot("agreement")
	j.submit("accept the agreement", `form[action="/partner/agreement"] button[type="submit"]`, `.notice-success`)
	b.do(t, "back to the CSP overview", chromedp.Navigate(base+"/partner"), chromedp.WaitVisible(chromedp.CSS(`.notice-success`)))
	j.notice(".notice-success", loc.T("agreement.banner.signed", "version", agreement.Version, "date", clock.Now()))
	if got := pageEval[string](t, b, `location.pathname`); got != "/partner" {
		t.Errorf("the overview is at %s", got)
	}
	if got := pageText(t, b, "#admin-agent-heading"); got != loc.T("enrollment.overview.admin_agent.heading") {
		t.Errorf("admin agent step = %q", got)
	}
	j.shot("overview-signed")
	b.do(t, "follow the admin agent step",
		chromedp.Click(chromedp.CSS(`[aria-labelledby="admin-agent-heading"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="roles"][value="admin_agent"]`)),
	)
	if pageEval[bool](t, b, `document.querySelector('input[name="roles"][value="admin_agent"]').checked`) {
		t.Error("already an admin agent before ticking the box")
	}
	b.do(t, "tick admin agent", chromedp.Click(chromedp.CSS(`input[name="roles"][value="admin_agent"]`)))
	j.shot("admin-agent")
	j.submit("save the roles", `main form[method="post"] button.primary`, `main .notice[role="status"]`)
	j.notice(`main .notice[role="status"]`, loc.T("settings.users.notice.updated"))
	b.do(t, "back to the CSP overview", chromedp.Navigate(base+"/partner"), chromedp.WaitVisible(chromedp.CSS(`.notice-success`)))
	if n := pageEval[int](t, b, `document.querySelectorAll('#admin-agent-heading').length`); n != 0 {
		t.Error("the overview still asks to join the admin agents")
	}
	signOut(t, b)

	// 5. The indirect provider invites the reseller.
	providerSecret := j.firstSignIn(c.providerEmail, password)
	j.shot("provider-start")
	b.do(t, "open the indirect resellers",
		chromedp.Click(chromedp.CSS(`nav.settings-nav a[href="/partner/indirect-resellers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[method="post"][action="/partner/indirect-resellers"]`)),
	)
	j.heading(loc.T("partnership.resellers.title"))
	j.notice(`nav.settings-nav a[aria-current="page"]`, loc.T("partnership.nav.indirect_resellers"))
	if got := pageEval[string](t, b, `document.querySelector('#lang').value`); got != c.lang {
		t.Errorf("the invitation's language starts as %q, want %s", got, c.lang)
	}
	b.do(t, "type the reseller's address", chromedp.SendKeys(chromedp.CSS("#email"), c.resellerEmail))
	j.shot("provider-invites")
	j.submit("invite the reseller", `form[method="post"][action="/partner/indirect-resellers"] button[type="submit"]`, `main .notice-success`)
	j.notice(`main .notice-success`, loc.T("partnership.resellers.notice.invited"))
	j.tableHas("the provider's resellers", c.resellerEmail, loc.T("partnership.state.invited"))
	signOut(t, b)

	// 6. The reseller opens the link and authorizes the provider, after a
	// try without ticking the box.
	j.signInWithCode(c.resellerEmail, password, resellerSecret)
	invitation := j.mailLink(c.resellerEmail, "/partnership-invitations/")
	b.do(t, "follow the invitation link", chromedp.Navigate(invitation), chromedp.WaitVisible(chromedp.CSS(`#authorize`)))
	j.heading(loc.T("partnership.invitation.title"))
	j.notice("main .lead", loc.T("partnership.invitation.lead", "provider", c.providerName))
	meaning := pageText(t, b, `section[aria-labelledby="meaning-heading"]`)
	for _, key := range []string{"partnership.invitation.meaning.orders", "partnership.invitation.meaning.remove"} {
		if !strings.Contains(meaning, loc.T(key)) {
			t.Errorf("what authorizing means lacks %q: %q", loc.T(key), meaning)
		}
	}
	if facts := pageText(t, b, "main dl.facts"); !strings.Contains(facts, c.providerName) || !strings.Contains(facts, "Europe") {
		t.Errorf("the invitation's facts = %q", facts)
	}
	j.shot("invitation")
	fitsNarrow(t, b, invitation)
	b.do(t, "back to a wide window", chromedp.Navigate(invitation), chromedp.WaitVisible(chromedp.CSS(`#authorize`)))
	j.submit("authorize without ticking", `form[action$="/accept"] button[type="submit"]`, ".error-summary")
	j.notice("#authorize-error", loc.T("partnership.error.authorize.required"))
	b.do(t, "tick Authorize indirect provider",
		chromedp.Click(chromedp.CSS(`.error-summary a[href="#authorize"]`)),
		chromedp.Click(chromedp.CSS("#authorize")),
	)
	j.shot("authorize")
	j.submit("authorize", `form[action$="/accept"] button[type="submit"]`, `main .notice-success`)
	j.heading(loc.T("partnership.providers.title"))
	j.notice(`main .notice-success`, loc.T("partnership.providers.notice.authorized"))
	j.tableHas("the reseller's providers", c.providerName, loc.T("partnership.state.active"), "Europe",
		loc.T("customer.action.view_customers"), loc.T("customer.action.invite_customers"))
	j.shot("providers")

	// 7. The reseller invites a customer for that provider.
	b.do(t, "open the customer invitation",
		chromedp.Click(chromedp.CSS(`main table a[href^="/partner/customer-invitations/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/partner/customer-invitations"] #email`)),
		chromedp.SendKeys(chromedp.CSS("#email"), c.customerEmail),
		chromedp.SendKeys(chromedp.CSS("#company_name"), c.customerName),
		chromedp.Click(chromedp.CSS(`input[name="reseller_roles"][value="user"]`)),
	)
	j.heading(loc.T("customer.invite.title"))
	if got := pageEval[string](t, b, `document.querySelector('#provider_id').selectedOptions[0].textContent`); !strings.HasPrefix(got, c.providerName) {
		t.Errorf("provider chosen = %q", got)
	}
	j.shot("invite-customer")
	j.submit("send the invitation", `form[action="/partner/customer-invitations"] button[type="submit"]`, `main .notice-success`)
	j.notice(`main .notice-success`, loc.T("customer.invitations.notice.invited"))
	j.tableHas("the customer invitations", c.customerEmail, c.providerName, loc.T("customer.invitation_state.pending"))
	signOut(t, b)

	// 8. The customer opens the link, creates its organization and
	// accepts the relationship with both partners.
	acceptance := j.mailLink(c.customerEmail, "/customer-invitations/")
	b.do(t, "follow the customer's link", chromedp.Navigate(acceptance), chromedp.WaitVisible(chromedp.CSS(`#organization_name`)))
	j.heading(loc.T("customer.accept.title"))
	j.notice("main .lead", loc.T("customer.accept.lead", "reseller", c.resellerName, "provider", c.providerName))
	if got := pageText(t, b, "#countries"); !strings.Contains(got, c.countryName) {
		t.Errorf("the countries the customer may be in = %q", got)
	}
	if got := pageEval[string](t, b, `document.querySelector('#organization_name').value`); got != c.customerName {
		t.Errorf("organization name = %q, want the invitation's %q", got, c.customerName)
	}
	b.do(t, "create the organization",
		chromedp.SetValue(chromedp.CSS("#country"), c.country),
		chromedp.SendKeys(chromedp.CSS("#domain"), c.customerDomain),
		chromedp.SendKeys(chromedp.CSS("#name"), c.customerAdmin),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#grant_reseller")),
	)
	j.shot("customer-accepts")
	j.submit("accept", `form[action$="/accept"] button[type="submit"]`, `main .notice-success`)
	j.notice(`main .notice-success`, loc.T("customer.accept.accepted", "customer", c.customerName, "reseller", c.resellerName, "provider", c.providerName))
	if n := pageEval[int](t, b, `document.querySelectorAll('header form.account').length`); n != 1 {
		t.Error("the page that confirms the acceptance does not show the new admin signed in")
	}
	j.shot("customer-accepted")
	b.do(t, "go to the customer's partners",
		chromedp.Click(chromedp.CSS(`main a.button.primary[href="/customer/partners"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	j.heading(loc.T("customer.partners.title"))
	j.tableHas("the customer's partners", c.resellerName, c.providerName)
	signOut(t, b)

	// 9. The provider places an order for the customer through the
	// reseller: the cart, its review, the order.
	j.signInWithCode(c.providerEmail, password, providerSecret)
	b.do(t, "open the indirect resellers", chromedp.Navigate(base+"/partner/indirect-resellers"), chromedp.WaitVisible(chromedp.CSS("main table")))
	j.tableHas("the provider's resellers", c.resellerName, loc.T("partnership.state.active"), "Europe", loc.T("partnership.action.suspend"))
	j.shot("resellers")
	fitsNarrow(t, b, base+"/partner/indirect-resellers")
	b.do(t, "open the provider's customers",
		chromedp.Click(chromedp.CSS(`nav.site-nav a[href="/partner/customers"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	j.heading(loc.T("customer.list.title"))
	j.tableHas("the provider's customers", c.customerName, c.resellerName)
	b.do(t, "open the cart",
		chromedp.Click(chromedp.CSS(`main table a[href^="/partner/customers/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main a.button.primary[href$="/orders/new"]`)),
		chromedp.Click(chromedp.CSS(`main a.button.primary[href$="/orders/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main form[action$="/orders/review"]`)),
	)
	j.heading(loc.T("order.cart.title", "customer", c.customerName))
	if got := pageEval[string](t, b, `document.querySelector('#reseller_partner_id').selectedOptions[0].textContent`); !strings.HasPrefix(got, c.resellerName) {
		t.Errorf("reseller of record = %q", got)
	}
	qty := pageEval[string](t, b, `(() => { for (const tr of document.querySelectorAll('main tbody tr')) { if (tr.textContent.includes('`+c.offer+`')) return '#' + tr.querySelector('input').id; } return ''; })()`)
	if qty == "" {
		t.Fatalf("no %s offer in the cart", c.offer)
	}
	b.do(t, "fill the cart", chromedp.SendKeys(chromedp.CSS(qty), "12"))
	j.submit("review the order", `main form[action$="/orders/review"] button[type="submit"]`, `main form[action$="/orders"] tfoot`)
	j.heading(loc.T("order.review.title", "customer", c.customerName))
	j.notice("main tfoot td", loc.FormatMoney(12*c.priceMinor, c.currency))
	j.shot("order-review")
	j.submit("place the order", `main form[action$="/orders"] button.primary`, `main .notice-success`)
	j.notice(`main .notice-success`, loc.T("order.detail.notice.placed"))
	j.tableHas("the order's lines", "Cloud Productivity Standard", c.resellerName)
	j.shot("order-placed")
	b.do(t, "open the provider's overview", chromedp.Navigate(base+"/partner"), chromedp.WaitVisible(chromedp.CSS(`.notice-success`)))
	j.figuresAre(map[string]string{"overview.figures.active_resellers": "1", "overview.figures.open_partner_invitations": "0",
		"overview.figures.customers": "1", "overview.figures.active_subscriptions": "1", "overview.figures.recent_orders": "1"})
	j.shot("provider-overview")
	signOut(t, b)

	// 10. The reseller finds the customer under View customers for that
	// provider, and the subscription.
	j.signInWithCode(c.resellerEmail, password, resellerSecret)
	b.do(t, "view the provider's customers",
		chromedp.Navigate(base+"/partner/indirect-providers"),
		chromedp.WaitVisible(chromedp.CSS(`main table a[href^="/partner/customers?provider_id="]`)),
		chromedp.Click(chromedp.CSS(`main table a[href^="/partner/customers?provider_id="]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	j.heading(loc.T("customer.list.title_provider", "provider", c.providerName))
	j.tableHas("the reseller's customers", c.customerName, c.customerDomain)
	j.shot("reseller-customers")
	b.do(t, "open the subscriptions",
		chromedp.Navigate(base+"/partner"),
		chromedp.Click(chromedp.CSS(`nav.settings-nav a[href="/subscriptions"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	j.tableHas("the reseller's subscriptions", "Cloud Productivity Standard", c.customerName, loc.T("subscription.status.active"))
	b.do(t, "open the subscription",
		chromedp.Click(chromedp.CSS(`main table a[href^="/subscriptions/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main .notice`)),
	)
	j.notice("main .notice", loc.T("subscription.read_only"))
	if n := pageEval[int](t, b, `document.querySelectorAll('main input[name="action"]').length`); n != 0 {
		t.Errorf("the reseller gets %d forms that change the subscription", n)
	}
	j.shot("reseller-subscription")
	b.do(t, "open the CSP overview", chromedp.Navigate(base+"/partner"), chromedp.WaitVisible(chromedp.CSS(`.notice-success`)))
	j.figuresAre(map[string]string{"overview.figures.active_providers": "1", "overview.figures.customers": "1",
		"overview.figures.pending_customer_invitations": "0", "overview.figures.active_subscriptions": "1"})
	j.shot("reseller-overview")
	for _, p := range []string{"/partner", "/partner/enrollment", "/partner/profile", "/partner/indirect-providers", "/partner/customers", "/subscriptions"} {
		fitsNarrow(t, b, base+p)
	}
	signOut(t, b)

	// 11. The customer's admin sees the subscription too.
	j.signIn(c.customerEmail, password)
	b.do(t, "open the customer's subscriptions",
		chromedp.WaitVisible(chromedp.CSS(`nav.site-nav a[href="/subscriptions"]`)),
		chromedp.Click(chromedp.CSS(`nav.site-nav a[href="/subscriptions"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	j.heading(loc.T("subscription.list.title"))
	j.tableHas("the customer's subscriptions", "Cloud Productivity Standard", c.resellerName, "12")
	j.shot("customer-subscriptions")
	fitsNarrow(t, b, base+"/subscriptions")

	// The refusals were answered 422, which the browser reports; any other
	// message is a fault.
	b.checkConsoleCleanExcept(t, func(m chromedp.ConsoleMessage) bool {
		if m.Source != "network" || !strings.Contains(m.Text, "status of 422") {
			return false
		}
		u, err := url.Parse(m.URL)
		return err == nil && (u.Path == "/enroll" || strings.HasSuffix(u.Path, "/accept"))
	})
}

// seedProvider makes an indirect provider as the operator would have it
// before the journey: enrolled, verified and approved, its provider
// application approved for Europe, the agreement accepted, and its global
// admin an admin agent, as ordering asks.
func seedProvider(t *testing.T, st *enrollmentStack, operator csphub.Actor, agreementID string, c journeyCast, password string) {
	t.Helper()
	ctx := context.Background()
	res, err := st.svc.Enroll(ctx, csphub.Actor{}, service.EnrollmentInput{
		Account:        &service.EnrollmentAccount{Domain: "fabrikam.example", Name: c.providerFirst + " " + c.providerLast, Email: c.providerEmail, Password: password, Lang: c.lang},
		LegalName:      c.providerName,
		Address:        csphub.Address{Line1: "1 place de la Bourse", City: "Lyon", PostalCode: "69002", Country: "FR"},
		PrimaryContact: csphub.PrimaryContact{FirstName: c.providerFirst, LastName: c.providerLast, Email: c.providerEmail, Phone: "04 72 00 00 00", Lang: c.lang},
		SupportContact: csphub.SupportContact{Email: "support@fabrikam.example", Phone: "04 72 00 00 01"},
	})
	if err != nil {
		t.Fatalf("enrol the provider: %v", err)
	}
	token := claimQueued(t, st)[c.providerEmail]
	if token == "" {
		t.Fatalf("no verification email to %s", c.providerEmail)
	}
	if _, err := st.svc.VerifyEnrollmentEmail(ctx, res.Enrollment.ID, token); err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.DecideEnrollment(ctx, operator, res.Enrollment.ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	u := res.User
	actor := csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: u.OrgID, OrgKind: csphub.OrgPartner, Roles: u.Roles, MFAPassed: true}
	applied, err := st.svc.Enroll(ctx, actor, service.EnrollmentInput{Program: string(csphub.ProgramIndirectProvider),
		SupportContact: csphub.SupportContact{Email: "support@fabrikam.example", Phone: "04 72 00 00 01"}})
	if err != nil {
		t.Fatalf("provider application: %v", err)
	}
	if _, err := st.svc.DecideEnrollment(ctx, operator, applied.Enrollment.ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.AuthorizeProviderRegions(ctx, operator, u.OrgID, []string{"europe"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.AcceptAgreement(ctx, actor, agreementID, service.AcceptAgreementInput{SignerName: c.providerFirst + " " + c.providerLast,
		SignerEmail: c.providerEmail, SignerPhone: "04 72 00 00 00"}); err != nil {
		t.Fatal(err)
	}
	roles := []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}
	if _, err := st.svc.UpdateUser(ctx, actor, u.ID, "", service.UpdateUserInput{Roles: &roles}); err != nil {
		t.Fatalf("make the provider's admin an admin agent: %v", err)
	}
	claimQueued(t, st)

}
