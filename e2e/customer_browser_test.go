package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"csphub"
	"csphub/internal/catalogfile"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/totp"
)

var partnershipTokenShape = regexp.MustCompile(`/partnership-invitations/([A-Za-z0-9_-]+)`)

// TestCustomerInBrowser walks "Invite new customers" in French: the
// reseller invites a customer from its Indirect providers page; the
// customer opens the link from the mailbox, creates its organization and
// accepts; the customer then appears on the reseller's "View customers"
// page for that provider and on the provider's customer list.
func TestCustomerInBrowser(t *testing.T) {
	clock := csphub.NewManualClock(time.Now())
	st := startEnrollmentStack(t, clock)
	ctx := context.Background()
	_, fr := catalogs(t)
	const (
		password      = "correct horse battery staple"
		providerEmail = "marc@fabrikam.example"
		resellerEmail = "jeanne@contoso.example"
		customerEmail = "it@northwind.example"
		customerName  = "Northwind Traders"
	)

	// The world, through the service: an approved provider authorized for
	// Europe that accepted the agreement, an approved reseller in France,
	// and the active relationship between them.
	opOrg, _, err := st.svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Opérateur", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	opUser, _, err := st.svc.CreateOperatorAdmin(ctx, "olga@operator.example", "Olga Opératrice", "fr")
	if err != nil {
		t.Fatal(err)
	}
	operator := csphub.Actor{Kind: csphub.ActorUser, ID: opUser.ID, OrgID: opOrg.ID, OrgKind: csphub.OrgOperator, Roles: opUser.Roles, MFAPassed: true}
	provider := approvedPartner(t, st, operator, "Fabrikam SARL", "fabrikam.example", "Marc", "Dubois", providerEmail, password)
	reseller := approvedPartner(t, st, operator, "Contoso SAS", "contoso.example", "Jeanne", "Martin", resellerEmail, password)
	applied, err := st.svc.Enroll(ctx, provider.actor, service.EnrollmentInput{Program: string(csphub.ProgramIndirectProvider),
		SupportContact: csphub.SupportContact{Email: "aide@fabrikam.example", Phone: "01 23 45 67 99"}})
	if err != nil {
		t.Fatalf("provider application: %v", err)
	}
	if _, err := st.svc.DecideEnrollment(ctx, operator, applied.Enrollment.ID, service.Decision{Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.AuthorizeProviderRegions(ctx, operator, provider.actor.OrgID, []string{"europe"}); err != nil {
		t.Fatal(err)
	}
	agreement, err := st.svc.PublishAgreement(ctx, operator, service.PublishAgreementInput{Version: "2026-01", Title: "Contrat partenaire CSP",
		Body: "Article 1. Le partenaire revend les services du programme.", EffectiveAt: clock.Now().Add(-time.Hour), Regions: []string{"europe"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.AcceptAgreement(ctx, provider.actor, agreement.ID, service.AcceptAgreementInput{SignerName: "Marc Dubois",
		SignerEmail: providerEmail, SignerPhone: "01 23 45 67 89"}); err != nil {
		t.Fatal(err)
	}
	// What ordering needs: the reseller's agreement, the catalogue, and
	// the provider's admin an admin agent too.
	if _, err := st.svc.AcceptAgreement(ctx, reseller.actor, agreement.ID, service.AcceptAgreementInput{SignerName: "Jeanne Martin",
		SignerEmail: resellerEmail, SignerPhone: "01 23 45 67 89"}); err != nil {
		t.Fatal(err)
	}
	rows, err := catalogfile.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.svc.ImportCatalog(ctx, operator, rows); err != nil {
		t.Fatal(err)
	}
	roles := []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}
	if _, err := st.svc.UpdateUser(ctx, provider.actor, provider.actor.ID, "", service.UpdateUserInput{Roles: &roles}); err != nil {
		t.Fatalf("make the provider's admin an admin agent: %v", err)
	}
	claimQueued(t, st)
	if _, err := st.svc.InvitePartner(ctx, provider.actor, service.InvitePartnerInput{Email: resellerEmail, Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := st.db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "test", Lease: 24 * time.Hour, Limit: 100, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	token := ""
	for _, m := range msgs {
		if mail, err := m.Email(); err == nil && mail.To == resellerEmail {
			if l := partnershipTokenShape.FindStringSubmatch(mail.Text); l != nil {
				token = l[1]
			}
		}
	}
	if token == "" {
		t.Fatal("no partnership invitation")
	}
	if _, err := st.svc.AcceptInvitation(ctx, reseller.actor, token, service.AcceptInvitationInput{Authorize: true}); err != nil {
		t.Fatalf("accept the partnership: %v", err)
	}
	claimQueued(t, st)

	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"},
	}); err != nil {
		t.Fatal(err)
	}
	step := 0
	shot := func(name string) {
		step++
		b.screenshot(t, fmt.Sprintf("customer-%02d-%s", step, name))
	}
	heading := func(want string) {
		t.Helper()
		if got := pageText(t, b, "main h1"); got != want {
			t.Errorf("heading = %q, want %q", got, want)
		}
	}
	tableText := func() string { return pageEval[string](t, b, `document.querySelector('main table').innerText`) }

	// 1. The reseller invites a customer for its provider, from the
	// Indirect providers page.
	signIn(t, b, st.srv.URL, resellerEmail, password)
	b.do(t, "reach MFA setup", chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)))
	resellerSecret := setUpMFA(t, b, clock)
	b.do(t, "open the indirect providers",
		chromedp.Click(chromedp.CSS(`nav.settings-nav a[href="/partner/indirect-providers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main table a[href^="/partner/customer-invitations/new"]`)),
	)
	shot("providers")
	b.do(t, "open the invitation form",
		chromedp.Click(chromedp.CSS(`main table a[href^="/partner/customer-invitations/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/partner/customer-invitations"] #email`)),
	)
	heading(fr.T("customer.invite.title"))
	if got := pageEval[string](t, b, `document.querySelector('#provider_id').selectedOptions[0].textContent`); !strings.HasPrefix(got, provider.name) {
		t.Errorf("provider chosen = %q", got)
	}
	b.do(t, "fill the invitation",
		chromedp.SendKeys(chromedp.CSS("#email"), customerEmail),
		chromedp.SendKeys(chromedp.CSS("#company_name"), customerName),
		chromedp.Click(chromedp.CSS(`input[name="reseller_roles"][value="user"]`)),
	)
	shot("invite-form")
	b.do(t, "send the invitation",
		chromedp.Focus(chromedp.CSS(`form[action="/partner/customer-invitations"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main .notice-success`)),
	)
	if got := pageText(t, b, `main .notice-success`); got != fr.T("customer.invitations.notice.invited") {
		t.Errorf("notice = %q", got)
	}
	if row := tableText(); !strings.Contains(row, customerEmail) || !strings.Contains(row, provider.name) ||
		!strings.Contains(row, fr.T("customer.invitation_state.pending")) {
		t.Errorf("the invitation is not listed: %q", row)
	}
	shot("invitations")
	signOut(t, b)

	// 2. The customer opens the link from the mailbox, creates its
	// organization and accepts.
	st.deliver(t)
	b.do(t, "open the mailbox", chromedp.Navigate(st.srv.URL+"/mailbox"), chromedp.WaitVisible(chromedp.CSS("main table")))
	mailURL := pageEval[string](t, b, `(() => { for (const tr of document.querySelectorAll('main tbody tr')) { if (tr.textContent.includes('`+customerEmail+`')) { const a = tr.querySelector('a'); if (a) return a.getAttribute('href'); } } return ''; })()`)
	if mailURL == "" {
		t.Fatalf("no email to %s in the mailbox", customerEmail)
	}
	b.do(t, "open the invitation email", chromedp.Navigate(st.srv.URL+mailURL+"/html"), chromedp.WaitVisible(chromedp.CSS(`a[href*="/customer-invitations/"]`)))
	link := pageEval[string](t, b, `document.querySelector('a[href*="/customer-invitations/"]').href`)
	if !strings.HasPrefix(link, st.srv.URL+"/customer-invitations/") {
		t.Fatalf("invitation link %q", link)
	}
	b.do(t, "follow the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#organization_name`)))
	heading(fr.T("customer.accept.title"))
	if got := pageText(t, b, "main .lead"); got != fr.T("customer.accept.lead", "reseller", reseller.name, "provider", provider.name) {
		t.Errorf("lead = %q", got)
	}
	if got := pageText(t, b, "#countries"); !strings.Contains(got, "France") {
		t.Errorf("countries = %q", got)
	}
	if got := pageEval[string](t, b, `document.querySelector('#organization_name').value`); got != customerName {
		t.Errorf("organization name = %q", got)
	}
	shot("acceptance")
	b.do(t, "create the organization and accept",
		chromedp.SetValue(chromedp.CSS("#country"), "FR"),
		chromedp.SendKeys(chromedp.CSS("#domain"), "northwind.example"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Nadia Roux"),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#grant_reseller")),
	)
	shot("acceptance-filled")
	b.do(t, "submit",
		chromedp.Focus(chromedp.CSS(`form[action$="/accept"] button[type="submit"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`main .notice-success`)),
	)
	if got := pageText(t, b, `main .notice-success`); got != fr.T("customer.accept.accepted", "customer", customerName, "reseller", reseller.name, "provider", provider.name) {
		t.Errorf("confirmation = %q", got)
	}
	shot("accepted")
	b.do(t, "go to the customer's partners",
		chromedp.Click(chromedp.CSS(`main a.button.primary[href="/customer/partners"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	heading(fr.T("customer.partners.title"))
	if rows := tableText(); !strings.Contains(rows, reseller.name) || !strings.Contains(rows, provider.name) {
		t.Errorf("the customer's partners: %q", rows)
	}
	shot("customer-partners")
	signOut(t, b)

	// 3. The reseller's View customers page for that provider shows it.
	signIn(t, b, st.srv.URL, resellerEmail, password)
	clock.Advance(totp.Period)
	enterCode(t, b, clock, resellerSecret)
	b.do(t, "open the indirect providers",
		chromedp.Navigate(st.srv.URL+"/partner/indirect-providers"),
		chromedp.WaitVisible(chromedp.CSS(`main table a[href^="/partner/customers?provider_id="]`)),
		chromedp.Click(chromedp.CSS(`main table a[href^="/partner/customers?provider_id="]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	heading(fr.T("customer.list.title_provider", "provider", provider.name))
	if rows := tableText(); !strings.Contains(rows, customerName) || !strings.Contains(rows, "northwind.example") {
		t.Errorf("the reseller's customers: %q", rows)
	}
	shot("reseller-customers")
	fitsNarrow(t, b, st.srv.URL+"/partner/customers")
	signOut(t, b)

	// 4. So does the provider's customer list.
	signIn(t, b, st.srv.URL, providerEmail, password)
	b.do(t, "reach MFA setup", chromedp.WaitVisible(chromedp.CSS(`main form[action="/mfa/setup"]`)))
	setUpMFA(t, b, clock)
	b.do(t, "open the customers",
		chromedp.Click(chromedp.CSS(`nav.site-nav a[href="/partner/customers"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	heading(fr.T("customer.list.title"))
	if rows := tableText(); !strings.Contains(rows, customerName) || !strings.Contains(rows, reseller.name) {
		t.Errorf("the provider's customers: %q", rows)
	}
	shot("provider-customers")

	// 5. The provider orders for the customer: the cart, its review, the
	// order; each line is a subscription.
	b.do(t, "open the customer",
		chromedp.Click(chromedp.CSS(`main table a[href^="/partner/customers/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main a.button.primary[href$="/orders/new"]`)),
		chromedp.Click(chromedp.CSS(`main a.button.primary[href$="/orders/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main form[action$="/orders/review"]`)),
	)
	heading(fr.T("order.cart.title", "customer", customerName))
	if got := pageEval[string](t, b, `document.querySelector('#reseller_partner_id').selectedOptions[0].textContent`); !strings.HasPrefix(got, reseller.name) {
		t.Errorf("reseller of record = %q", got)
	}
	qty := pageEval[string](t, b, `(() => { for (const tr of document.querySelectorAll('main tbody tr')) { if (tr.textContent.includes('CP-STANDARD-FR-P1M')) return '#' + tr.querySelector('input').id; } return ''; })()`)
	if qty == "" {
		t.Fatal("no Cloud Productivity Standard offer in the cart")
	}
	b.do(t, "fill the cart", chromedp.SendKeys(chromedp.CSS(qty), "12"))
	shot("order-cart")
	b.do(t, "review the order",
		chromedp.Click(chromedp.CSS(`main form[action$="/orders/review"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main form[action$="/orders"] tfoot`)),
	)
	heading(fr.T("order.review.title", "customer", customerName))
	if total := pageText(t, b, "main tfoot td"); total != fr.FormatMoney(12*1170, "EUR") {
		t.Errorf("total = %q, want %q", total, fr.FormatMoney(12*1170, "EUR"))
	}
	shot("order-review")
	b.do(t, "place the order",
		chromedp.Click(chromedp.CSS(`main form[action$="/orders"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`main .notice-success`)),
	)
	if got := pageText(t, b, `main .notice-success`); got != fr.T("order.detail.notice.placed") {
		t.Errorf("notice = %q", got)
	}
	if rows := tableText(); !strings.Contains(rows, "Cloud Productivity Standard") || !strings.Contains(rows, reseller.name) {
		t.Errorf("the order's lines: %q", rows)
	}
	shot("order-placed")
	signOut(t, b)

	// 6. The reseller reads the subscription, without the forms that
	// change it.
	signIn(t, b, st.srv.URL, resellerEmail, password)
	clock.Advance(totp.Period)
	enterCode(t, b, clock, resellerSecret)
	b.do(t, "open the subscriptions",
		chromedp.Navigate(st.srv.URL+"/partner"),
		chromedp.Click(chromedp.CSS(`nav.settings-nav a[href="/subscriptions"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	if rows := tableText(); !strings.Contains(rows, "Cloud Productivity Standard") || !strings.Contains(rows, customerName) ||
		!strings.Contains(rows, fr.T("subscription.status.active")) {
		t.Errorf("the reseller's subscriptions: %q", rows)
	}
	b.do(t, "open the subscription",
		chromedp.Click(chromedp.CSS(`main table a[href^="/subscriptions/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main .notice`)),
	)
	if got := pageText(t, b, "main .notice"); got != fr.T("subscription.read_only") {
		t.Errorf("reseller's notice = %q", got)
	}
	if n := pageEval[int](t, b, `document.querySelectorAll('main input[name="action"]').length`); n != 0 {
		t.Errorf("the reseller gets %d change forms", n)
	}
	shot("reseller-subscription")
	signOut(t, b)

	// 7. The customer sees its subscription.
	signIn(t, b, st.srv.URL, customerEmail, password)
	b.do(t, "open the customer's subscriptions",
		chromedp.WaitVisible(chromedp.CSS(`nav.site-nav a[href="/subscriptions"]`)),
		chromedp.Click(chromedp.CSS(`nav.site-nav a[href="/subscriptions"]`)),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	heading(fr.T("subscription.list.title"))
	if rows := tableText(); !strings.Contains(rows, "Cloud Productivity Standard") || !strings.Contains(rows, reseller.name) ||
		!strings.Contains(rows, "12") {
		t.Errorf("the customer's subscriptions: %q", rows)
	}
	shot("customer-subscriptions")
	fitsNarrow(t, b, st.srv.URL+"/subscriptions")
	b.checkConsoleClean(t)
}
