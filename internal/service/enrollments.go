package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	"csphub/internal/countries"
	cmail "csphub/internal/mail"
	"csphub/internal/password"
	"csphub/internal/store"
)

const (
	// reviewBusinessDays is how long the operator has to decide.
	reviewBusinessDays = 5
	// emailLinkLifetime is how long a verification link works.
	emailLinkLifetime = 7 * 24 * time.Hour
	// resendInterval is the shortest time between two verification emails.
	resendInterval = time.Minute
	maxReasonRunes = 2000
)

// profileInput is what an enrollment or a profile edit says about the
// partner, before normalization.
type profileInput struct {
	LegalName      string
	Address        csphub.Address
	PrimaryContact csphub.PrimaryContact
	SupportContact csphub.SupportContact
}

// normalizeProfile trims and checks every field of a profile, field by
// field. It does not look at the database (see checkEmailDomain).
func normalizeProfile(in profileInput) (profileInput, []csphub.FieldError) {
	var fields []csphub.FieldError
	add := func(fe *csphub.FieldError) {
		if fe != nil {
			fields = append(fields, *fe)
		}
	}
	in.LegalName = strings.TrimSpace(in.LegalName)
	add(checkLine("legal_name", in.LegalName, true))
	addr, errs := countries.NormalizeAddress("address.", in.Address)
	in.Address = addr
	fields = append(fields, errs...)
	country := in.Address.Country

	pc := &in.PrimaryContact
	pc.FirstName, pc.LastName = strings.TrimSpace(pc.FirstName), strings.TrimSpace(pc.LastName)
	add(checkLine("primary_contact.first_name", pc.FirstName, true))
	add(checkLine("primary_contact.last_name", pc.LastName, true))
	if email, fe := checkEmail("primary_contact.email", strings.TrimSpace(pc.Email)); fe != nil {
		add(fe)
	} else {
		pc.Email = email
	}
	if pc.Lang == "" {
		pc.Lang = "en"
	}
	if pc.Lang != "en" && pc.Lang != "fr" {
		add(&csphub.FieldError{Field: "primary_contact.lang", Code: "unsupported_language", Message: "must be en or fr"})
	}
	sc := &in.SupportContact
	if email, fe := checkEmail("support_contact.email", strings.TrimSpace(sc.Email)); fe != nil {
		add(fe)
	} else {
		sc.Email = email
	}
	if country != "" && !hasField(fields, "address.country") {
		phone, fe := countries.NormalizePhone("primary_contact.phone", country, pc.Phone)
		add(fe)
		pc.Phone = phone
		phone, fe = countries.NormalizePhone("support_contact.phone", country, sc.Phone)
		add(fe)
		sc.Phone = phone
	}
	sc.Website = strings.TrimSpace(sc.Website)
	add(checkWebsite(sc.Website))
	return in, fields
}

func hasField(fields []csphub.FieldError, name string) bool {
	return slices.ContainsFunc(fields, func(f csphub.FieldError) bool { return f.Field == name })
}

// checkLine checks a one-line text of at most 200 characters.
func checkLine(field, v string, required bool) *csphub.FieldError {
	if v == "" && required {
		return &csphub.FieldError{Field: field, Code: "required", Message: "is required"}
	}
	if utf8.RuneCountInString(v) > 200 || strings.ContainsAny(v, "\r\n\x00") {
		return &csphub.FieldError{Field: field, Code: "invalid_text", Message: "must be at most 200 characters on one line"}
	}
	return nil
}

// checkEmailDomain refuses a primary contact on a web-mail domain.
func (s *Service) checkEmailDomain(tx *store.Tx, email string) (*csphub.FieldError, error) {
	_, domain, ok := strings.Cut(email, "@")
	if !ok {
		return nil, nil
	}
	webmail, err := s.isWebmail(tx, domain)
	if err != nil || !webmail {
		return nil, err
	}
	return &csphub.FieldError{Field: "primary_contact.email", Code: "webmail_domain",
		Message: "must be an address of your company, not of a web-mail service like " + domain}, nil
}

// domainCheck is the email_domain check of an address against the
// organization's domain.
func domainCheck(email, orgDomain string, now time.Time) csphub.EnrollmentCheck {
	_, domain, _ := strings.Cut(email, "@")
	if domain == orgDomain || strings.HasSuffix(domain, "."+orgDomain) {
		return csphub.EnrollmentCheck{Name: csphub.CheckEmailDomain, Status: csphub.CheckPassed,
			Reason: "a company domain, matching " + orgDomain, UpdatedAt: now}
	}
	return csphub.EnrollmentCheck{Name: csphub.CheckEmailDomain, Status: csphub.CheckAttention,
		Reason: "not a web-mail domain, but " + domain + " differs from the organization's domain " + orgDomain, UpdatedAt: now}
}

// Enroll applies to the partner program. A signed-in global admin of a
// partner organization enrols it; a visitor gives in.Account and the
// organization and its first user are created in the same transaction.
// The application is submitted, then waits for its primary contact to
// confirm their email address.
func (s *Service) Enroll(ctx context.Context, actor csphub.Actor, in EnrollmentInput) (EnrollResult, error) {
	var fields []csphub.FieldError
	if in.Program == "" {
		in.Program = string(csphub.ProgramIndirectReseller)
	}
	if in.Program == string(csphub.ProgramIndirectProvider) {
		return s.enrolProvider(ctx, actor, in)
	}
	if in.Program != string(csphub.ProgramIndirectReseller) {
		fields = append(fields, csphub.FieldError{Field: "program", Code: "invalid_program",
			Message: "must be indirect_reseller or indirect_provider"})
	}
	anonymous := actor.Kind == ""
	switch {
	case anonymous && in.Account == nil:
		fields = append(fields, csphub.FieldError{Field: "account", Code: "required",
			Message: "sign in as a global admin of your partner organization, or give the work account to create"})
	case !anonymous && in.Account != nil:
		fields = append(fields, csphub.FieldError{Field: "account", Code: "signed_in",
			Message: "you are signed in: the enrollment is for your organization, leave the account out"})
	case !anonymous && (actor.OrgKind != csphub.OrgPartner || !actor.HasRole(csphub.RoleGlobalAdmin) || actor.Kind != csphub.ActorUser):
		return EnrollResult{}, csphub.Errorf(csphub.KindForbidden, "global_admin_required",
			"only a global admin of a partner organization can enrol it")
	}
	p, errs := normalizeProfile(profileInput{LegalName: in.LegalName, Address: in.Address, PrimaryContact: in.PrimaryContact, SupportContact: in.SupportContact})
	fields = append(fields, errs...)
	in.PartnerID, in.ClaimCode = strings.TrimSpace(in.PartnerID), strings.TrimSpace(in.ClaimCode)
	if in.PartnerID != "" && !ValidPartnerID(in.PartnerID) {
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "invalid_partner_id", Message: "must be 6 to 10 digits, not starting with 0"})
	}
	if in.PartnerID != "" && in.ClaimCode == "" {
		fields = append(fields, csphub.FieldError{Field: "claim_code", Code: "required", Message: "is required to link a partner ID"})
	}
	if in.PartnerID == "" && in.ClaimCode != "" {
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "required", Message: "is required with a claim code"})
	}
	var acct EnrollmentAccount
	var passwordHash string
	if anonymous && in.Account != nil {
		acct = *in.Account
		acct.Name = strings.TrimSpace(acct.Name)
		if fe := checkUserName("account.name", acct.Name); fe != nil {
			fields = append(fields, *fe)
		}
		acct.Domain = strings.ToLower(strings.TrimSpace(acct.Domain))
		if !domainShape.MatchString(acct.Domain) || len(acct.Domain) > 253 {
			fields = append(fields, csphub.FieldError{Field: "account.domain", Code: "invalid_domain", Message: "must be a domain name like contoso.com"})
		}
		email, fe := checkEmail("account.email", strings.TrimSpace(acct.Email))
		if fe != nil {
			fields = append(fields, *fe)
		}
		acct.Email = email
		if acct.Lang == "" {
			acct.Lang = "en"
		}
		if acct.Lang != "en" && acct.Lang != "fr" {
			fields = append(fields, csphub.FieldError{Field: "account.lang", Code: "unsupported_language", Message: "must be en or fr"})
		}
		if err := password.Check(acct.Password, acct.Email, p.LegalName, acct.Domain); err != nil {
			e := csphub.AsError(err)
			if e == nil {
				return EnrollResult{}, err
			}
			for _, f := range e.Fields {
				f.Field = "account." + f.Field
				fields = append(fields, f)
			}
		}
		if len(fields) == 0 {
			h, err := password.Hash(acct.Password)
			if err != nil {
				return EnrollResult{}, err
			}
			passwordHash = h
		}
	}
	if len(fields) > 0 {
		return EnrollResult{}, csphub.Invalid(fields...)
	}
	token, tokenHash, err := newSecret("")
	if err != nil {
		return EnrollResult{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (EnrollResult, error) {
		var res EnrollResult
		fe, err := s.checkEmailDomain(tx, p.PrimaryContact.Email)
		if err != nil {
			return res, err
		}
		if fe != nil {
			return res, csphub.Invalid(*fe)
		}
		if _, err := tx.MarketOf(p.Address.Country); err != nil {
			return res, csphub.Invalid(csphub.FieldError{Field: "address.country", Code: "country_not_supported", Message: "the program does not operate in this country"})
		}
		var org csphub.Organization
		if anonymous {
			org = csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgPartner, Name: p.LegalName, Country: p.Address.Country, Domain: acct.Domain, CreatedAt: tx.Now()}
			if err := tx.InsertOrganization(org); err != nil {
				return res, err
			}
			u := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: org.ID, Email: acct.Email, Name: acct.Name, Lang: acct.Lang,
				Status: csphub.UserActive, Roles: []string{csphub.RoleGlobalAdmin}, CreatedAt: tx.Now()}, PasswordHash: passwordHash}
			if err := tx.InsertUser(u); err != nil {
				if e := csphub.AsError(err); e != nil && e.Code == "email_taken" {
					return res, csphub.Invalid(csphub.FieldError{Field: "account.email", Code: "email_taken", Message: e.Message})
				}
				return res, err
			}
			actor = csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: org.ID, OrgKind: org.Kind, Roles: u.Roles, RequestID: csphub.RequestID(ctx)}
			if err := tx.Audit(actor, csphub.AuditEntry{Action: "organization.create", ResourceType: "organization", ResourceID: org.ID, After: org}); err != nil {
				return res, err
			}
			if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.create", ResourceType: "user", ResourceID: u.ID, After: u.User}); err != nil {
				return res, err
			}
			if err := tx.Emit(actor, csphub.EventEntry{Type: "organization.created", Subject: org.ID, Data: org}); err != nil {
				return res, err
			}
			res.Organization, res.User = &org, &u.User
		} else {
			if org, err = tx.Organization(actor.OrgID, actor.OrgID); err != nil {
				return res, err
			}
			if org.Country != p.Address.Country {
				return res, csphub.Invalid(csphub.FieldError{Field: "address.country", Code: "country_mismatch",
					Message: fmt.Sprintf("must be your account's country (%s); the legal entity must be in the same country or region as your account", org.Country)})
			}
		}
		var pid csphub.PartnerID
		if in.PartnerID != "" {
			// An organization linked already can only claim its own ID
			// again, which changes nothing.
			linkedBefore, err := tx.PartnerIDOfOrganization(org.ID)
			if err != nil {
				return res, err
			}
			claimed, fes, err := s.claimPartnerID(tx, org.ID, org.Country, in.PartnerID, in.ClaimCode)
			if err != nil {
				return res, err
			}
			if len(fes) > 0 {
				return res, csphub.Invalid(fes...)
			}
			pid = claimed
			if linkedBefore == "" {
				if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_id.link", ResourceType: "partner_id", ResourceID: pid.PartnerID, After: pid}); err != nil {
					return res, err
				}
			}
		} else {
			existing, err := tx.PartnerProfile(org.ID, true)
			switch {
			case err == nil:
				pid = csphub.PartnerID{PartnerID: existing.PartnerID, Country: org.Country, Source: "issued"}
			case csphub.ErrorKind(err) == csphub.KindNotFound:
				if pid, err = s.issuePartnerID(tx, org.ID, p.LegalName, org.Country); err != nil {
					return res, err
				}
				if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_id.issue", ResourceType: "partner_id", ResourceID: pid.PartnerID, After: pid}); err != nil {
					return res, err
				}
			default:
				return res, err
			}
		}
		now := tx.Now()
		profile := csphub.PartnerProfile{OrgID: org.ID, PartnerID: pid.PartnerID, LegalName: p.LegalName, Address: p.Address,
			PrimaryContact: p.PrimaryContact, SupportContact: p.SupportContact, Version: 1, UpdatedAt: now}
		before, err := tx.PartnerProfile(org.ID, true)
		hadProfile := err == nil
		switch {
		case err == nil:
			profile.Version = before.Version + 1
			if ok, err := tx.UpdatePartnerProfile(profile); err != nil || !ok {
				return res, orConflict(err, ok)
			}
		case csphub.ErrorKind(err) == csphub.KindNotFound:
			if err := tx.InsertPartnerProfile(profile); err != nil {
				return res, err
			}
		default:
			return res, err
		}
		e := csphub.Enrollment{ID: csphub.NewID(), OrgID: org.ID, Program: csphub.ProgramIndirectReseller, State: csphub.EnrollmentSubmitted,
			Country: org.Country, SubmittedAt: now, DueAt: csphub.AddBusinessDays(now, reviewBusinessDays), UpdatedAt: now, Version: 1}
		if err := tx.InsertEnrollment(e); err != nil {
			if ce := csphub.AsError(err); ce != nil && ce.Code == "enrollment_exists" {
				return res, ce
			}
			return res, err
		}
		location := fmt.Sprintf("partner ID %s is located in %s, the account's country", pid.PartnerID, org.Country)
		if in.PartnerID == "" {
			location = fmt.Sprintf("partner ID %s was issued for %s, the account's country", pid.PartnerID, org.Country)
		}
		for _, c := range []csphub.EnrollmentCheck{
			{Name: csphub.CheckEmailOwnership, Status: csphub.CheckPending, Reason: "waiting for " + profile.PrimaryContact.Email + " to open the link sent to it", UpdatedAt: now},
			domainCheck(profile.PrimaryContact.Email, org.Domain, now),
			{Name: csphub.CheckPartnerIDLocation, Status: csphub.CheckPassed, Reason: location, UpdatedAt: now},
			{Name: csphub.CheckBusiness, Status: csphub.CheckPending, Reason: "waiting for a reviewer", UpdatedAt: now},
		} {
			if err := tx.SetEnrollmentCheck(e.ID, c); err != nil {
				return res, err
			}
		}
		if err := s.recordTransition(tx, actor, nil, e, ""); err != nil {
			return res, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_profile.update", ResourceType: "partner_profile", ResourceID: org.ID,
			Before: optional(before, hadProfile), After: profile}); err != nil {
			return res, err
		}
		if e, err = s.transition(tx, actor, e, csphub.EnrollmentEmailVerification, "", false); err != nil {
			return res, err
		}
		if err := s.sendVerification(tx, e, profile, token, tokenHash); err != nil {
			return res, err
		}
		view, err := s.enrollmentView(tx, e)
		if err != nil {
			return res, err
		}
		res.Enrollment = view
		return res, nil
	})
}

func optional(v any, present bool) any {
	if !present {
		return nil
	}
	return v
}

// orConflict turns a lost optimistic update into a conflict.
func orConflict(err error, ok bool) error {
	if err != nil {
		return err
	}
	if !ok {
		return csphub.Conflict("concurrent_change", "someone changed this at the same time; reload and try again")
	}
	return nil
}

// actorName is how the history names who acted.
func actorName(tx *store.Tx, actor csphub.Actor) string {
	switch actor.Kind {
	case csphub.ActorUser:
		if u, err := tx.User(actor.OrgID, actor.ID); err == nil {
			return u.Name
		}
	case csphub.ActorToken:
		return "API token " + actor.ID
	}
	return "csphub"
}

// recordTransition appends the step from → e.State to the history, audits
// it and emits the event seen by the applicant and the operator.
func (s *Service) recordTransition(tx *store.Tx, actor csphub.Actor, from *csphub.Enrollment, e csphub.Enrollment, name string) error {
	t := csphub.EnrollmentTransition{ID: csphub.NewID(), To: e.State, ActorKind: actor.Kind, ActorID: actor.ID, Reason: e.Reason, At: tx.Now()}
	if from != nil {
		t.From = from.State
	}
	if t.ActorName = name; name == "" {
		t.ActorName = actorName(tx, actor)
	}
	if t.ActorKind == "" {
		t.ActorKind = csphub.ActorSystem
	}
	if err := tx.InsertEnrollmentTransition(e.ID, actor.OrgID, t); err != nil {
		return err
	}
	action, event := "enrollment.transition", "enrollment."+string(e.State)
	if from == nil {
		action = "enrollment.submit"
	}
	var before any
	if from != nil {
		before = *from
	}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: action, ResourceType: "enrollment", ResourceID: e.ID, Before: before, After: e}); err != nil {
		return err
	}
	op, err := tx.OperatorOrganization()
	if err != nil {
		return err
	}
	return tx.Emit(actor, csphub.EventEntry{Type: event, Subject: e.ID, Data: e, Audience: []string{e.OrgID, op.ID}})
}

// transition moves an application to another state along the state
// machine, records it, and (when notify) emails the primary contact.
func (s *Service) transition(tx *store.Tx, actor csphub.Actor, e csphub.Enrollment, to csphub.EnrollmentState, reason string, notify bool) (csphub.Enrollment, error) {
	if !csphub.CanTransition(e.State, to) {
		return e, csphub.Conflict("invalid_transition", fmt.Sprintf("an application %s cannot become %s", e.State, to))
	}
	before := e
	e.State, e.Reason, e.UpdatedAt, e.Version = to, reason, tx.Now(), e.Version+1
	switch to {
	case csphub.EnrollmentApproved, csphub.EnrollmentRejected:
		e.DecidedAt = utcPtr(tx.Now())
	case csphub.EnrollmentInReview:
		if before.State == csphub.EnrollmentApproved {
			// Back to review after a change: a new review period.
			e.DecidedAt, e.DueAt = nil, csphub.AddBusinessDays(tx.Now(), reviewBusinessDays)
		}
	}
	if ok, err := tx.SaveEnrollment(e); err != nil || !ok {
		return e, orConflict(err, ok)
	}
	if err := s.recordTransition(tx, actor, &before, e, ""); err != nil {
		return e, err
	}
	if notify {
		if err := s.sendStatus(tx, e); err != nil {
			return e, err
		}
	}
	return e, nil
}

func (s *Service) sendStatus(tx *store.Tx, e csphub.Enrollment) error {
	p, err := tx.PartnerProfile(e.OrgID, false)
	if err != nil {
		return err
	}
	_, err = cmail.Enqueue(tx, e.OrgID, cmail.EnrollmentStatus{
		To:        cmail.Recipient{Address: p.PrimaryContact.Email, Name: p.PrimaryContact.FirstName + " " + p.PrimaryContact.LastName, Lang: cmail.Lang(p.PrimaryContact.Lang)},
		LegalName: p.LegalName, Program: string(e.Program), State: string(e.State), Reason: e.Reason,
		Link: s.opts.BaseURL + "/partner/enrollment",
	})
	return err
}

// sendVerification retires the application's earlier links and emails a
// new one to the primary contact.
func (s *Service) sendVerification(tx *store.Tx, e csphub.Enrollment, p csphub.PartnerProfile, token, tokenHash string) error {
	if err := tx.RetireEnrollmentEmailTokens(e.ID); err != nil {
		return err
	}
	t := store.EnrollmentEmailToken{TokenHash: tokenHash, EnrollmentID: e.ID, OrgID: e.OrgID, Email: p.PrimaryContact.Email,
		CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(emailLinkLifetime)}
	if err := tx.InsertEnrollmentEmailToken(t); err != nil {
		return err
	}
	_, err := cmail.Enqueue(tx, e.OrgID, cmail.EnrollmentVerification{
		To:        cmail.Recipient{Address: p.PrimaryContact.Email, Name: p.PrimaryContact.FirstName + " " + p.PrimaryContact.LastName, Lang: cmail.Lang(p.PrimaryContact.Lang)},
		LegalName: p.LegalName, Program: string(e.Program), Link: s.opts.BaseURL + "/enrollments/verify/" + token, ExpiresAt: t.ExpiresAt,
	})
	return err
}

// enrollmentView gathers what pages show of an application.
func (s *Service) enrollmentView(tx *store.Tx, e csphub.Enrollment) (EnrollmentView, error) {
	v := EnrollmentView{Enrollment: e}
	org, err := tx.Organization(e.OrgID, e.OrgID)
	if err != nil {
		return v, err
	}
	v.OrganizationName = org.Name
	if v.Profile, err = tx.PartnerProfile(e.OrgID, false); err != nil {
		return v, err
	}
	if v.Checks, err = tx.EnrollmentChecks(e.ID); err != nil {
		return v, err
	}
	if v.History, err = tx.EnrollmentTransitions(e.ID); err != nil {
		return v, err
	}
	now := s.clock.Now()
	v.AgeDays, v.Overdue = ageDays(e.SubmittedAt, now), e.Overdue(now)
	return v, nil
}

func ageDays(since, now time.Time) int {
	if now.Before(since) {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}

// isReviewer reports whether actor acts for the operator as a reviewer.
func isReviewer(tx *store.Tx, actor csphub.Actor) (bool, error) {
	if actor.OrgKind != csphub.OrgOperator || !reviewsApplications(actor) {
		return false, nil
	}
	op, err := tx.OperatorOrganization()
	if err != nil {
		return false, err
	}
	return actor.TenantID() == op.ID, nil
}

// reviewsApplications: the roles that review applications (the actor's
// organization is checked apart).
func reviewsApplications(actor csphub.Actor) bool {
	return actor.HasRole(csphub.RoleVerificationReviewer) || actor.HasRole(csphub.RoleOperatorAdmin)
}

// reviewQueueItems are the queue's rows as the reviewer reads them, aged
// and marked overdue at now.
func reviewQueueItems(rows []store.ReviewRow, now time.Time) []ReviewQueueItem {
	items := make([]ReviewQueueItem, 0, len(rows))
	for _, r := range rows {
		items = append(items, ReviewQueueItem{Enrollment: r.Enrollment, OrganizationName: r.OrganizationName,
			LegalName: r.LegalName, PartnerID: r.PartnerID, AgeDays: ageDays(r.SubmittedAt, now), Overdue: r.Overdue(now)})
	}
	return items
}

// loadEnrollment reads an application the actor may see: its own
// organization's, or any for a reviewer. Anyone else gets not found.
func loadEnrollment(tx *store.Tx, actor csphub.Actor, id string, lock bool) (csphub.Enrollment, bool, error) {
	if !csphub.ValidID(id) {
		return csphub.Enrollment{}, false, csphub.NotFound("enrollment")
	}
	reviewer, err := isReviewer(tx, actor)
	if err != nil {
		return csphub.Enrollment{}, false, err
	}
	if reviewer {
		e, err := tx.EnrollmentForReview(id, lock)
		return e, true, err
	}
	if actor.OrgKind != csphub.OrgPartner {
		return csphub.Enrollment{}, false, csphub.NotFound("enrollment")
	}
	e, err := tx.Enrollment(actor.TenantID(), id, lock)
	return e, false, err
}

// ListEnrollments lists the caller's organization's applications.
func (s *Service) ListEnrollments(ctx context.Context, actor csphub.Actor) ([]EnrollmentView, error) {
	return read(ctx, s, func(tx *store.Tx) ([]EnrollmentView, error) {
		if actor.OrgKind != csphub.OrgPartner {
			return []EnrollmentView{}, nil
		}
		list, err := tx.Enrollments(actor.TenantID())
		if err != nil {
			return nil, err
		}
		out := make([]EnrollmentView, 0, len(list))
		for _, e := range list {
			v, err := s.enrollmentView(tx, e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	})
}

// GetEnrollment shows an application to its organization or to a reviewer.
func (s *Service) GetEnrollment(ctx context.Context, actor csphub.Actor, id string) (EnrollmentView, error) {
	return read(ctx, s, func(tx *store.Tx) (EnrollmentView, error) {
		e, _, err := loadEnrollment(tx, actor, id, false)
		if err != nil {
			return EnrollmentView{}, err
		}
		return s.enrollmentView(tx, e)
	})
}

var (
	errLinkUsed    = csphub.Errorf(csphub.KindConflict, "link_used", "this link was already used or replaced by a newer one")
	errLinkExpired = csphub.Errorf(csphub.KindConflict, "link_expired", "this link has expired; ask for a new one from the application's page")
)

// EmailVerificationLinkOf describes a verification link before it is used,
// so that the page can say whose application it confirms.
func (s *Service) EmailVerificationLinkOf(ctx context.Context, token string) (EmailVerificationLink, error) {
	return read(ctx, s, func(tx *store.Tx) (EmailVerificationLink, error) {
		t, err := tx.EnrollmentEmailTokenByHash(hashSecret(token))
		if err != nil {
			return EmailVerificationLink{}, err
		}
		if t.UsedAt != nil {
			return EmailVerificationLink{}, errLinkUsed
		}
		if !tx.Now().Before(t.ExpiresAt) {
			return EmailVerificationLink{}, errLinkExpired
		}
		p, err := tx.PartnerProfile(t.OrgID, false)
		if err != nil {
			return EmailVerificationLink{}, err
		}
		return EmailVerificationLink{EnrollmentID: t.EnrollmentID, LegalName: p.LegalName, Email: t.Email, ExpiresAt: t.ExpiresAt}, nil
	})
}

// VerifyEnrollmentEmail redeems a verification link: the email_ownership
// check passes and an application waiting for it goes to review. A link
// works once, within its lifetime, for its own application and address.
func (s *Service) VerifyEnrollmentEmail(ctx context.Context, id, token string) (csphub.Enrollment, error) {
	if !csphub.ValidID(id) || token == "" || len(token) > 256 {
		return csphub.Enrollment{}, csphub.NotFound("verification_link")
	}
	hash := hashSecret(token)
	return write(ctx, s, func(tx *store.Tx) (csphub.Enrollment, error) {
		t, err := tx.EnrollmentEmailTokenByHash(hash)
		if err != nil {
			return csphub.Enrollment{}, err
		}
		if t.EnrollmentID != id {
			return csphub.Enrollment{}, csphub.NotFound("verification_link")
		}
		e, err := tx.Enrollment(t.OrgID, id, true)
		if err != nil {
			return e, err
		}
		ok, err := tx.UseEnrollmentEmailToken(hash, id)
		if err != nil {
			return e, err
		}
		if !ok {
			if t.UsedAt == nil && !tx.Now().Before(t.ExpiresAt) {
				return e, errLinkExpired
			}
			return e, errLinkUsed
		}
		p, err := tx.PartnerProfile(t.OrgID, false)
		if err != nil {
			return e, err
		}
		if p.PrimaryContact.Email != t.Email {
			return e, errLinkUsed
		}
		// The contact acts for the applicant, without an account of their own.
		contact := csphub.Actor{Kind: csphub.ActorSystem, ID: "email:" + t.Email, OrgID: t.OrgID, OrgKind: csphub.OrgPartner, RequestID: csphub.RequestID(ctx)}
		if err := tx.SetEnrollmentCheck(e.ID, csphub.EnrollmentCheck{Name: csphub.CheckEmailOwnership, Status: csphub.CheckPassed,
			Reason: t.Email + " opened the link sent to it", UpdatedAt: tx.Now()}); err != nil {
			return e, err
		}
		if e.State != csphub.EnrollmentEmailVerification {
			return e, tx.Audit(contact, csphub.AuditEntry{Action: "enrollment.email_verified", ResourceType: "enrollment", ResourceID: e.ID, After: e})
		}
		before := e
		e.State, e.Reason, e.UpdatedAt, e.Version = csphub.EnrollmentInReview, "", tx.Now(), e.Version+1
		if ok, err := tx.SaveEnrollment(e); err != nil || !ok {
			return e, orConflict(err, ok)
		}
		if err := s.recordTransition(tx, contact, &before, e, t.Email); err != nil {
			return e, err
		}
		return e, s.sendStatus(tx, e)
	})
}

// partnerEditor refuses anyone but a global admin or account admin of a
// partner organization.
func partnerEditor(actor csphub.Actor) error {
	if actor.OrgKind != csphub.OrgPartner || !(actor.HasRole(csphub.RoleGlobalAdmin) || actor.HasRole(csphub.RoleAccountAdmin)) {
		return csphub.Errorf(csphub.KindForbidden, "partner_admin_required", "only a global admin or account admin of the partner can do this")
	}
	return nil
}

// ResendEnrollmentEmail sends the primary contact a new verification link,
// retiring the earlier ones; at most one a minute.
func (s *Service) ResendEnrollmentEmail(ctx context.Context, actor csphub.Actor, id string) error {
	if err := partnerEditor(actor); err != nil {
		return err
	}
	token, tokenHash, err := newSecret("")
	if err != nil {
		return err
	}
	_, err = write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		e, _, err := loadEnrollment(tx, actor, id, true)
		if err != nil {
			return struct{}{}, err
		}
		if e.State == csphub.EnrollmentRejected {
			return struct{}{}, csphub.Conflict("enrollment_closed", "this application was rejected; apply again instead")
		}
		checks, err := tx.EnrollmentChecks(e.ID)
		if err != nil {
			return struct{}{}, err
		}
		if i := slices.IndexFunc(checks, func(c csphub.EnrollmentCheck) bool { return c.Name == csphub.CheckEmailOwnership }); i < 0 || checks[i].Status == csphub.CheckPassed {
			return struct{}{}, csphub.Conflict("email_already_verified", "the primary contact's email address is already confirmed")
		}
		last, err := tx.LatestEnrollmentEmailToken(e.ID)
		if err != nil {
			return struct{}{}, err
		}
		if wait := last.Add(resendInterval).Sub(tx.Now()); wait > 0 {
			return struct{}{}, &csphub.Error{Kind: csphub.KindRateLimited, Code: "resend_too_soon",
				Message: "a verification email was just sent; wait a minute before asking for another", RetryAfter: int(wait/time.Second) + 1}
		}
		p, err := tx.PartnerProfile(e.OrgID, false)
		if err != nil {
			return struct{}{}, err
		}
		if err := s.sendVerification(tx, e, p, token, tokenHash); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Audit(actor, csphub.AuditEntry{Action: "enrollment.verification_resent", ResourceType: "enrollment", ResourceID: e.ID,
			After: map[string]string{"email": p.PrimaryContact.Email}})
	})
	return err
}

func checkReason(reason string, required bool) (string, *csphub.FieldError) {
	reason = strings.TrimSpace(reason)
	if reason == "" && required {
		return "", &csphub.FieldError{Field: "reason", Code: "required", Message: "is required: the applicant sees it"}
	}
	if utf8.RuneCountInString(reason) > maxReasonRunes || strings.ContainsRune(reason, 0) {
		return "", &csphub.FieldError{Field: "reason", Code: "too_long", Message: fmt.Sprintf("must be at most %d characters", maxReasonRunes)}
	}
	return reason, nil
}

// AnswerInfoRequest answers a reviewer's request for information, with an
// optional correction of the profile; the application goes back to review
// (or to email verification when the primary contact's address changed).
func (s *Service) AnswerInfoRequest(ctx context.Context, actor csphub.Actor, id string, in InfoAnswer) (EnrollmentView, error) {
	if err := partnerEditor(actor); err != nil {
		return EnrollmentView{}, err
	}
	msg, fe := checkReason(in.Message, true)
	if fe != nil {
		fe.Field = "message"
		return EnrollmentView{}, csphub.Invalid(*fe)
	}
	token, tokenHash, err := newSecret("")
	if err != nil {
		return EnrollmentView{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (EnrollmentView, error) {
		e, _, err := loadEnrollment(tx, actor, id, true)
		if err != nil {
			return EnrollmentView{}, err
		}
		if e.State != csphub.EnrollmentInfoRequested {
			return EnrollmentView{}, csphub.Conflict("invalid_transition", "the reviewer has not asked this application for information")
		}
		emailChanged := false
		if in.Profile != nil {
			if emailChanged, _, err = s.applyProfilePatch(tx, actor, "", *in.Profile, &e); err != nil {
				return EnrollmentView{}, err
			}
		}
		to := csphub.EnrollmentInReview
		if emailChanged {
			to = csphub.EnrollmentEmailVerification
		}
		if e, err = s.transition(tx, actor, e, to, msg, !emailChanged); err != nil {
			return EnrollmentView{}, err
		}
		if emailChanged {
			p, err := tx.PartnerProfile(e.OrgID, false)
			if err != nil {
				return EnrollmentView{}, err
			}
			if err := s.sendVerification(tx, e, p, token, tokenHash); err != nil {
				return EnrollmentView{}, err
			}
		}
		return s.enrollmentView(tx, e)
	})
}

// ReviewQueue lists applications for the operator's reviewers, due first
// (so the oldest and the overdue lead), filtered by state and country.
func (s *Service) ReviewQueue(ctx context.Context, actor csphub.Actor, q ReviewQueueQuery) (ReviewQueuePage, error) {
	var fields []csphub.FieldError
	var states []string
	if q.State != "" {
		switch csphub.EnrollmentState(q.State) {
		case csphub.EnrollmentSubmitted, csphub.EnrollmentEmailVerification, csphub.EnrollmentInReview,
			csphub.EnrollmentInfoRequested, csphub.EnrollmentApproved, csphub.EnrollmentRejected:
			states = []string{q.State}
		default:
			fields = append(fields, csphub.FieldError{Field: "state", Code: "invalid_state", Message: "is not an enrollment state"})
		}
	}
	if q.Country != "" && !ValidCountry(q.Country) {
		fields = append(fields, csphub.FieldError{Field: "country", Code: "invalid_country", Message: "must be an ISO 3166-1 alpha-2 country code like FR"})
	}
	after, err := decodeKeyset(q.PageToken)
	if err != nil {
		return ReviewQueuePage{}, err
	}
	size := q.PageSize
	if size <= 0 {
		size = 50
	}
	if size > 200 {
		fields = append(fields, csphub.FieldError{Field: "page_size", Code: "out_of_range", Message: "must be between 1 and 200"})
	}
	if len(fields) > 0 {
		return ReviewQueuePage{}, csphub.Invalid(fields...)
	}
	return read(ctx, s, func(tx *store.Tx) (ReviewQueuePage, error) {
		ok, err := isReviewer(tx, actor)
		if err != nil {
			return ReviewQueuePage{}, err
		}
		if !ok {
			return ReviewQueuePage{}, csphub.Errorf(csphub.KindForbidden, "reviewer_required", "only the operator's verification reviewers and admins see the review queue")
		}
		rows, err := tx.ReviewQueue(states, q.Country, after, size+1)
		if err != nil {
			return ReviewQueuePage{}, err
		}
		page := ReviewQueuePage{Items: make([]ReviewQueueItem, 0, len(rows))}
		if len(rows) > size {
			rows = rows[:size]
			last := rows[size-1]
			page.NextPageToken = encodeKeyset(store.Keyset{At: last.DueAt, ID: last.ID})
		}
		page.Items = reviewQueueItems(rows, tx.Now())
		return page, nil
	})
}

// DecideEnrollment approves, rejects or asks for more information about an
// application in review. Only the operator's verification reviewers and
// admins decide; a partner never decides its own.
func (s *Service) DecideEnrollment(ctx context.Context, actor csphub.Actor, id string, in Decision) (EnrollmentView, error) {
	var to csphub.EnrollmentState
	switch in.Decision {
	case "approve":
		to = csphub.EnrollmentApproved
	case "reject":
		to = csphub.EnrollmentRejected
	case "request_info":
		to = csphub.EnrollmentInfoRequested
	default:
		return EnrollmentView{}, csphub.Invalid(csphub.FieldError{Field: "decision", Code: "invalid_decision", Message: "must be approve, reject or request_info"})
	}
	reason, fe := checkReason(in.Reason, to != csphub.EnrollmentApproved)
	if fe != nil {
		return EnrollmentView{}, csphub.Invalid(*fe)
	}
	return write(ctx, s, func(tx *store.Tx) (EnrollmentView, error) {
		ok, err := isReviewer(tx, actor)
		if err != nil {
			return EnrollmentView{}, err
		}
		if !ok {
			return EnrollmentView{}, csphub.Errorf(csphub.KindForbidden, "reviewer_required", "only the operator's verification reviewers and admins decide on applications")
		}
		e, err := tx.EnrollmentForReview(id, true)
		if err != nil {
			return EnrollmentView{}, err
		}
		if e.State != csphub.EnrollmentInReview {
			return EnrollmentView{}, csphub.Conflict("invalid_transition", fmt.Sprintf("only an application in review can be decided; this one is %s", e.State))
		}
		now := tx.Now()
		switch to {
		case csphub.EnrollmentApproved:
			checks, err := tx.EnrollmentChecks(e.ID)
			if err != nil {
				return EnrollmentView{}, err
			}
			for _, c := range checks {
				if c.Name == csphub.CheckEmailOwnership && c.Status != csphub.CheckPassed {
					return EnrollmentView{}, csphub.Conflict("email_not_verified", "the primary contact has not confirmed their email address yet")
				}
			}
			err = tx.SetEnrollmentCheck(e.ID, csphub.EnrollmentCheck{Name: csphub.CheckBusiness, Status: csphub.CheckPassed,
				Reason: "confirmed by " + actorName(tx, actor) + optionalSuffix(reason), UpdatedAt: now})
			if err != nil {
				return EnrollmentView{}, err
			}
		case csphub.EnrollmentRejected:
			if err := tx.SetEnrollmentCheck(e.ID, csphub.EnrollmentCheck{Name: csphub.CheckBusiness, Status: csphub.CheckFailed, Reason: reason, UpdatedAt: now}); err != nil {
				return EnrollmentView{}, err
			}
		}
		if e, err = s.transition(tx, actor, e, to, reason, true); err != nil {
			return EnrollmentView{}, err
		}
		return s.enrollmentView(tx, e)
	})
}

func optionalSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}
