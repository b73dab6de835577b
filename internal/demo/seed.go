// Package demo builds csphub's demo world: an operator, two indirect
// providers, four indirect resellers at different stages of the program,
// their customers, the sample catalogue, orders and subscriptions, and
// invitations waiting for an answer.
//
// The world is built through the use cases, as its people would build it
// (signing up, confirming emails by their links, reviewing, accepting
// agreements and invitations, ordering), so that its audit trail, events
// and emails are real. Links sent by email are read back from the outbox
// (or the local mailbox, once delivered). Every demo user's email is under
// Domain and their password is Password; partner and operator users have
// TOTP enrolled, and Code gives their current code.
package demo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"csphub"
	"csphub/internal/catalogfile"
	"csphub/internal/service"
	"csphub/internal/totp"
)

// ErrIncomplete is returned for a database holding part of the demo world
// only: an earlier seeding stopped half-way.
var ErrIncomplete = errors.New("the database holds part of the demo world only (an earlier seeding stopped half-way); start again from an empty database")

// Seed builds the demo world, or finds it built and changes nothing. The
// operator organization must exist (`csphub serve` creates it at its first
// start). Links in the emails it sends name the service's base URL.
func Seed(ctx context.Context, svc *service.Service) (Report, error) {
	if _, _, err := svc.OperatorOrganization(ctx); err != nil {
		return Report{}, err
	}
	found, ready, err := presentUsers(ctx, svc)
	if err != nil {
		return Report{}, err
	}
	switch all := len(describe(false).Users()); {
	case ready == all:
		return describe(false), nil
	case found > 0:
		return Report{}, ErrIncomplete
	}
	s := &seeder{svc: svc, ctx: ctx, partners: map[string]*partnerState{}, customers: map[string]*customerState{}}
	if err := s.build(); err != nil {
		return Report{}, err
	}
	return describe(true), nil
}

// presentUsers counts the demo users that exist (found) and those of them
// that are ready: with TOTP enrolled, for those who enrol it.
func presentUsers(ctx context.Context, svc *service.Service) (int, int, error) {
	found, ready := 0, 0
	for _, u := range describe(false).Users() {
		st, err := svc.TOTPStateOf(ctx, u.Email)
		switch {
		case csphub.ErrorKind(err) == csphub.KindNotFound:
			continue
		case err != nil:
			return 0, 0, err
		}
		found++
		if st.Enabled || !u.MFA {
			ready++
		}
	}
	return found, ready, nil
}

type seeder struct {
	svc       *service.Service
	ctx       context.Context
	operator  csphub.Actor // the operator admin
	reviewer  csphub.Actor
	agreement string
	partners  map[string]*partnerState
	customers map[string]*customerState
	sessions  []session
}

type session struct {
	actor csphub.Actor
	token string
}

type partnerState struct {
	spec      partnerSpec
	orgID     string
	partnerID string
	admin     csphub.Actor
	token     string
}

type customerState struct {
	spec  customerSpec
	orgID string
}

// step names a failing step of the seeding.
func step(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("demo world: %s: %w", what, err)
}

func (s *seeder) build() error {
	for _, f := range []func() error{
		s.setUpOperator,
		s.publishAgreement,
		s.importCatalogue,
		s.enrolPartners,
		s.relatePartners,
		s.linkCustomers,
		s.placeOrders,
		s.leavePending,
		s.addCatalogManager,
	} {
		if err := f(); err != nil {
			return err
		}
	}
	for _, ss := range s.sessions {
		if err := s.svc.SignOut(s.ctx, ss.actor, ss.token); err != nil {
			return step("sign out", err)
		}
	}
	return nil
}

// signIn signs email in and, for partner and operator users, enrols TOTP
// and passes it with a first code, as the MFA page has them do.
func (s *seeder) signIn(email string, enrolTOTP bool) (csphub.Actor, string, error) {
	sess, err := s.svc.SignIn(s.ctx, service.SignInInput{Email: email, Password: Password, Address: "demo"})
	if err != nil {
		return csphub.Actor{}, "", step("sign in as "+email, err)
	}
	token := sess.Token
	actor, err := s.svc.SessionActor(s.ctx, token)
	if err != nil {
		return csphub.Actor{}, "", step("session of "+email, err)
	}
	if enrolTOTP {
		en, err := s.svc.StartTOTPEnrollment(s.ctx, actor)
		if err != nil {
			return csphub.Actor{}, "", step("TOTP enrollment of "+email, err)
		}
		code, err := totp.Code(en.Secret, s.svc.Clock().Now())
		if err != nil {
			return csphub.Actor{}, "", err
		}
		res, err := s.svc.VerifyTOTP(s.ctx, actor, token, code)
		if err != nil {
			return csphub.Actor{}, "", step("first TOTP code of "+email, err)
		}
		token = res.SessionToken
		if actor, err = s.svc.SessionActor(s.ctx, token); err != nil {
			return csphub.Actor{}, "", step("session of "+email, err)
		}
	}
	s.sessions = append(s.sessions, session{actor, token})
	return actor, token, nil
}

// refresh reads a session's actor again, after its user's roles changed.
func (s *seeder) refresh(token string) (csphub.Actor, error) {
	actor, err := s.svc.SessionActor(s.ctx, token)
	if err != nil {
		return actor, err
	}
	for i := range s.sessions {
		if s.sessions[i].token == token {
			s.sessions[i].actor = actor
		}
	}
	return actor, nil
}

// emailedToken returns the token of the newest link under path (such as
// "/customer-invitations/") emailed to address.
func (s *seeder) emailedToken(address, path string) (string, error) {
	re := regexp.MustCompile(regexp.QuoteMeta(path) + `([A-Za-z0-9_-]{43})`)
	mails, err := s.svc.EmailsTo(s.ctx, address)
	if err != nil {
		return "", err
	}
	for _, m := range slices.Backward(mails) {
		if l := re.FindStringSubmatch(m.Text); l != nil {
			return l[1], nil
		}
	}
	return "", fmt.Errorf("demo world: no email to %s with a link under %s", address, path)
}

// setUpOperator creates the operator admin, who chooses a password by the
// one-time link and enrols TOTP, then invites the verification reviewer.
func (s *seeder) setUpOperator() error {
	u := operatorAdmin
	_, link, err := s.svc.CreateOperatorAdmin(s.ctx, u.email(), u.name(), u.lang)
	if err != nil {
		return step("operator admin", err)
	}
	m := regexp.MustCompile(`/reset-password/([A-Za-z0-9_-]+)$`).FindStringSubmatch(link)
	if m == nil {
		return fmt.Errorf("demo world: unexpected password link %q", link)
	}
	if err := s.svc.CompletePasswordReset(s.ctx, m[1], service.CompletePasswordResetInput{Password: Password}); err != nil {
		return step("operator admin's password", err)
	}
	if s.operator, _, err = s.signIn(u.email(), true); err != nil {
		return err
	}
	s.reviewer, err = s.inviteOperatorUser(reviewerUser)
	return err
}

// inviteOperatorUser has the operator admin invite u, who accepts by the
// emailed link and enrols TOTP.
func (s *seeder) inviteOperatorUser(u operatorUser) (csphub.Actor, error) {
	if _, err := s.svc.InviteUser(s.ctx, s.operator, service.InviteUserInput{Email: u.email(), Name: u.name(), Lang: u.lang,
		Roles: []string{u.role}}); err != nil {
		return csphub.Actor{}, step("invite "+u.email(), err)
	}
	token, err := s.emailedToken(u.email(), "/user-invitations/")
	if err != nil {
		return csphub.Actor{}, err
	}
	if _, err := s.svc.AcceptUserInvitation(s.ctx, token, service.AcceptUserInvitationInput{Password: Password}); err != nil {
		return csphub.Actor{}, step("accept the invitation of "+u.email(), err)
	}
	actor, _, err := s.signIn(u.email(), true)
	return actor, err
}

// publishAgreement publishes the partner agreement, in force from today.
func (s *seeder) publishAgreement() error {
	now := s.svc.Clock().Now().UTC()
	a, err := s.svc.PublishAgreement(s.ctx, s.operator, service.PublishAgreementInput{
		Version:     "demo-" + now.Format("2006-01-02"),
		Title:       "Cloud Solution Provider partner agreement",
		Body:        agreementText,
		EffectiveAt: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC),
		Regions:     agreementRegion,
	})
	s.agreement = a.ID
	return step("publish the agreement", err)
}

const agreementText = `This agreement is between the operator of the program and the partner.

1. The partner resells the operator's cloud services to customers located in its region, through an authorized indirect provider.

2. The partner keeps its legal business profile and its contacts accurate.

3. This is the demo world's agreement: it binds nobody.`

// importCatalogue imports the sample catalogue.
func (s *seeder) importCatalogue() error {
	rows, err := catalogfile.Sample()
	if err != nil {
		return err
	}
	rep, err := s.svc.ImportCatalog(s.ctx, s.operator, rows)
	if err != nil {
		return step("import the sample catalogue", err)
	}
	if rep.Refused > 0 {
		return fmt.Errorf("demo world: the sample catalogue: %d rows refused: %v", rep.Refused, rep.RowErrors())
	}
	return nil
}

// enrolPartners takes every partner as far as its stage: enrollment as an
// indirect reseller with a new work account, the contact's email
// confirmed, approval, the admin agent role, the provider membership and
// its regions and listing, the agreement.
func (s *seeder) enrolPartners() error {
	for _, p := range partners {
		if err := s.enrolPartner(p); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) enrolPartner(p partnerSpec) error {
	email := p.adminEmail()
	res, err := s.svc.Enroll(s.ctx, csphub.Actor{}, service.EnrollmentInput{
		Program:   string(csphub.ProgramIndirectReseller),
		Account:   &service.EnrollmentAccount{Domain: p.domain(), Name: p.admin.name(), Email: email, Password: Password, Lang: p.admin.lang},
		LegalName: p.legalName, Address: p.address,
		PrimaryContact: csphub.PrimaryContact{FirstName: p.admin.first, LastName: p.admin.last, Email: email, Phone: p.phone, Lang: p.admin.lang},
		SupportContact: csphub.SupportContact{Email: "support@" + p.domain(), Phone: p.phone, Website: "https://www." + p.domain() + "/support"},
	})
	if err != nil {
		return step("enrol "+p.legalName, err)
	}
	st := &partnerState{spec: p, orgID: res.Organization.ID, partnerID: res.Enrollment.Profile.PartnerID}
	s.partners[p.key] = st
	token, err := s.emailedToken(email, "/enrollments/verify/")
	if err != nil {
		return err
	}
	if _, err := s.svc.VerifyEnrollmentEmail(s.ctx, res.Enrollment.ID, token); err != nil {
		return step("confirm the email of "+email, err)
	}
	if st.admin, st.token, err = s.signIn(email, true); err != nil {
		return err
	}
	if p.stage == stageInReview {
		return nil
	}
	if err := s.approve(res.Enrollment.ID, "legal entity confirmed in the company register"); err != nil {
		return err
	}
	// Once the account is ready the enrolling user joins the admin agent
	// group, as the program asks, to work with customers and orders.
	roles := []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}
	if _, err := s.svc.UpdateUser(s.ctx, st.admin, st.admin.ID, "", service.UpdateUserInput{Roles: &roles}); err != nil {
		return step("make "+email+" an admin agent", err)
	}
	if st.admin, err = s.refresh(st.token); err != nil {
		return err
	}
	if p.provider != nil {
		if err := s.enrolProvider(st); err != nil {
			return err
		}
	}
	if p.stage == stageActive {
		if _, err := s.svc.AcceptAgreement(s.ctx, st.admin, s.agreement, service.AcceptAgreementInput{
			SignerName: p.admin.name(), SignerEmail: email, SignerPhone: p.phone}); err != nil {
			return step(p.legalName+" accepts the agreement", err)
		}
	}
	if p.provider != nil {
		l := p.provider
		if _, err := s.svc.UpdateProviderListing(s.ctx, st.admin, "", service.ListingInput{Published: true, Description: l.description,
			Website: "https://www." + p.domain(), ContactEmail: "partners@" + p.domain(), ContactPhone: p.phone,
			Languages: l.languages, Services: l.services, Markets: l.markets}); err != nil {
			return step("publish the listing of "+p.legalName, err)
		}
	}
	return nil
}

func (s *seeder) approve(enrollmentID, reason string) error {
	_, err := s.svc.DecideEnrollment(s.ctx, s.reviewer, enrollmentID, service.Decision{Decision: "approve", Reason: reason})
	return step("approve enrollment "+enrollmentID, err)
}

// enrolProvider has an approved reseller apply as an indirect provider; the
// reviewer approves it and the operator admin authorizes its regions.
func (s *seeder) enrolProvider(st *partnerState) error {
	p := st.spec
	res, err := s.svc.Enroll(s.ctx, st.admin, service.EnrollmentInput{Program: string(csphub.ProgramIndirectProvider),
		SupportContact: csphub.SupportContact{Email: "support@" + p.domain(), Phone: p.phone, Website: "https://www." + p.domain() + "/support"}})
	if err != nil {
		return step(p.legalName+" applies as a provider", err)
	}
	if err := s.approve(res.Enrollment.ID, "distribution agreement and credit checks done"); err != nil {
		return err
	}
	_, err = s.svc.AuthorizeProviderRegions(s.ctx, s.operator, st.orgID, p.provider.regions)
	return step("authorize the regions of "+p.legalName, err)
}

// invitePartner has a provider invite a reseller's admin, and returns the
// link's token.
func (s *seeder) invitePartner(ps partnershipSpec) (string, error) {
	prov, res := s.partners[ps.provider], s.partners[ps.reseller]
	if _, err := s.svc.InvitePartner(s.ctx, prov.admin, service.InvitePartnerInput{Email: res.spec.adminEmail(), PartnerID: res.partnerID}); err != nil {
		return "", step(prov.spec.legalName+" invites "+res.spec.legalName, err)
	}
	return s.emailedToken(res.spec.adminEmail(), "/partnership-invitations/")
}

// relatePartners has each provider invite its resellers, who authorize it.
func (s *seeder) relatePartners() error {
	for _, ps := range partnerships {
		token, err := s.invitePartner(ps)
		if err != nil {
			return err
		}
		res := s.partners[ps.reseller]
		if _, err := s.svc.AcceptInvitation(s.ctx, res.admin, token, service.AcceptInvitationInput{Authorize: true}); err != nil {
			return step(res.spec.legalName+" authorizes "+s.partners[ps.provider].spec.legalName, err)
		}
	}
	return nil
}

// linkCustomers has resellers invite customers for their providers; a new
// customer creates its organization while accepting, a known one accepts
// signed in.
func (s *seeder) linkCustomers() error {
	for _, l := range links {
		res, prov, c := s.partners[l.reseller], s.partners[l.provider], customerByKey(l.customer)
		email := c.adminEmail()
		if _, err := s.svc.InviteCustomer(s.ctx, res.admin, service.InviteCustomerInput{ProviderID: prov.orgID, Email: email,
			CompanyName: c.name, Lang: c.admin.lang, ResellerRoles: l.resellerRoles, ProviderRoles: l.providerRoles}); err != nil {
			return step(res.spec.legalName+" invites "+c.name, err)
		}
		token, err := s.emailedToken(email, "/customer-invitations/")
		if err != nil {
			return err
		}
		in := service.AcceptCustomerInvitationInput{GrantReseller: len(l.resellerRoles) > 0, GrantProvider: len(l.providerRoles) > 0}
		var actor csphub.Actor
		known := s.customers[c.key]
		if known == nil {
			in.NewCustomer = &service.NewCustomer{OrgName: c.name, Country: c.country, Domain: c.domain(), Name: c.admin.name(),
				Email: email, Password: Password, Lang: c.admin.lang}
		} else if actor, _, err = s.signIn(email, false); err != nil {
			return err
		}
		acc, err := s.svc.AcceptCustomerInvitation(s.ctx, actor, token, in)
		if err != nil {
			return step(c.name+" accepts "+res.spec.legalName+"'s invitation", err)
		}
		if known == nil {
			s.customers[c.key] = &customerState{spec: c, orgID: acc.Customer.ID}
		}
	}
	return nil
}

// placeOrders has the providers order for their customers, naming the
// reseller of record.
func (s *seeder) placeOrders() error {
	offers := map[string]map[string]string{} // market → offer code → id
	for _, o := range orders {
		prov, res, c := s.partners[o.provider], s.partners[o.reseller], s.customers[o.customer]
		market := c.spec.country
		if offers[market] == nil {
			page, err := s.svc.ListOffers(s.ctx, prov.admin, market, "", 500)
			if err != nil {
				return step("offers of "+market, err)
			}
			offers[market] = map[string]string{}
			for _, it := range page.Items {
				offers[market][it.Code] = it.ID
			}
		}
		in := service.PlaceOrderInput{}
		for _, l := range o.lines {
			id, ok := offers[market][l.offer]
			if !ok {
				return fmt.Errorf("demo world: no offer %s in market %s", l.offer, market)
			}
			in.Lines = append(in.Lines, service.OrderLineInput{OfferID: id, Quantity: l.quantity, ResellerPartnerID: res.partnerID})
		}
		if _, err := s.svc.PlaceOrder(s.ctx, prov.admin, c.orgID, in); err != nil {
			return step(prov.spec.legalName+" orders for "+c.spec.name, err)
		}
	}
	return nil
}

// leavePending sends the invitations nobody answers.
func (s *seeder) leavePending() error {
	if _, err := s.invitePartner(pendingPartnership); err != nil {
		return err
	}
	pc := pendingCustomer
	_, err := s.svc.InviteCustomer(s.ctx, s.partners[pc.reseller].admin, service.InviteCustomerInput{
		ProviderID: s.partners[pc.provider].orgID, Email: pc.email, CompanyName: pc.company, ResellerRoles: []string{csphub.RoleGlobalAdmin}})
	return step("invite "+pc.company, err)
}

// addCatalogManager has the operator admin invite the catalogue manager:
// the last demo user, whose presence marks the world complete.
func (s *seeder) addCatalogManager() error {
	_, err := s.inviteOperatorUser(catalogManager)
	return err
}
