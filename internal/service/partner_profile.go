package service

import (
	"context"
	"strconv"

	"csphub"
	"csphub/internal/store"
)

// ProfileETag is the entity tag of a partner profile: its version.
func ProfileETag(p csphub.PartnerProfile) string { return `"p` + strconv.Itoa(p.Version) + `"` }

// partnerReader refuses anyone but a user or token of a partner.
func partnerReader(actor csphub.Actor) error {
	if actor.OrgKind != csphub.OrgPartner {
		return csphub.NotFound("partner_profile")
	}
	return nil
}

// GetPartnerProfile shows the caller's partner profile with its program
// information: memberships and the agreement.
func (s *Service) GetPartnerProfile(ctx context.Context, actor csphub.Actor) (PartnerProfileView, error) {
	if err := partnerReader(actor); err != nil {
		return PartnerProfileView{}, err
	}
	return read(ctx, s, func(tx *store.Tx) (PartnerProfileView, error) {
		return s.profileView(tx, actor.TenantID())
	})
}

func (s *Service) profileView(tx *store.Tx, orgID string) (PartnerProfileView, error) {
	var v PartnerProfileView
	var err error
	if v.Organization, err = tx.Organization(orgID, orgID); err != nil {
		return v, err
	}
	if v.Profile, err = tx.PartnerProfile(orgID, false); err != nil {
		return v, err
	}
	list, err := tx.Enrollments(orgID)
	if err != nil {
		return v, err
	}
	v.Memberships = memberships(list)
	v.AccountType = string(csphub.ProgramIndirectReseller)
	for _, m := range v.Memberships {
		if m.Program == csphub.ProgramIndirectProvider && m.State == csphub.EnrollmentApproved {
			v.AccountType = string(csphub.ProgramIndirectProvider)
		}
	}
	if v.Agreement, err = s.agreementStatus(tx, orgID); err != nil {
		return v, err
	}
	v.ETag = ProfileETag(v.Profile)
	return v, nil
}

// memberships keeps the latest application per program (list is newest
// first).
func memberships(list []csphub.Enrollment) []Membership {
	seen := map[csphub.Program]bool{}
	out := []Membership{}
	for _, e := range list {
		if seen[e.Program] {
			continue
		}
		seen[e.Program] = true
		since := e.SubmittedAt
		if e.DecidedAt != nil {
			since = *e.DecidedAt
		}
		out = append(out, Membership{Program: e.Program, State: e.State, EnrollmentID: e.ID, Since: since})
	}
	return out
}

// UpdatePartnerProfile edits the caller's partner profile. A changed
// primary contact email must be confirmed again; after approval, a changed
// legal name or country sends the membership back to review.
func (s *Service) UpdatePartnerProfile(ctx context.Context, actor csphub.Actor, ifMatch string, in ProfilePatch) (PartnerProfileView, error) {
	if err := partnerEditor(actor); err != nil {
		return PartnerProfileView{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (PartnerProfileView, error) {
		if _, _, err := s.applyProfilePatch(tx, actor, ifMatch, in, nil); err != nil {
			return PartnerProfileView{}, err
		}
		return s.profileView(tx, actor.TenantID())
	})
}

// applyProfilePatch changes the profile and carries the consequences to
// the organization's applications, except skip's transitions, which its
// caller makes. It reports whether the primary contact's email changed.
func (s *Service) applyProfilePatch(tx *store.Tx, actor csphub.Actor, ifMatch string, in ProfilePatch, skip *csphub.Enrollment) (bool, csphub.PartnerProfile, error) {
	orgID := actor.TenantID()
	before, err := tx.PartnerProfile(orgID, true)
	if err != nil {
		return false, before, err
	}
	if !etagMatches(ifMatch, ProfileETag(before)) {
		return false, before, csphub.Errorf(csphub.KindPreconditionFailed, "stale_profile", "the profile changed since you read it; reload it and apply your change again")
	}
	p := profileInput{LegalName: before.LegalName, Address: before.Address, PrimaryContact: before.PrimaryContact, SupportContact: before.SupportContact}
	if in.LegalName != nil {
		p.LegalName = *in.LegalName
	}
	if in.Address != nil {
		p.Address = *in.Address
	}
	if in.PrimaryContact != nil {
		p.PrimaryContact = *in.PrimaryContact
	}
	if in.SupportContact != nil {
		p.SupportContact = *in.SupportContact
	}
	p, fields := normalizeProfile(p)
	if len(fields) > 0 {
		return false, before, csphub.Invalid(fields...)
	}
	emailChanged := p.PrimaryContact.Email != before.PrimaryContact.Email
	legalChanged := p.LegalName != before.LegalName || p.Address.Country != before.Address.Country
	if emailChanged {
		fe, err := s.checkEmailDomain(tx, p.PrimaryContact.Email)
		if err != nil {
			return false, before, err
		}
		if fe != nil {
			return false, before, csphub.Invalid(*fe)
		}
	}
	if p.Address.Country != before.Address.Country {
		if _, err := tx.MarketOf(p.Address.Country); err != nil {
			return false, before, csphub.Invalid(csphub.FieldError{Field: "address.country", Code: "country_not_supported", Message: "the program does not operate in this country"})
		}
	}
	after := before
	after.LegalName, after.Address, after.PrimaryContact, after.SupportContact = p.LegalName, p.Address, p.PrimaryContact, p.SupportContact
	if after == before {
		return false, before, nil
	}
	after.Version, after.UpdatedAt = before.Version+1, tx.Now()
	if ok, err := tx.UpdatePartnerProfile(after); err != nil || !ok {
		return false, before, orConflict(err, ok)
	}
	org, err := tx.Organization(orgID, orgID)
	if err != nil {
		return false, before, err
	}
	if legalChanged {
		if err := tx.UpdateOrganizationLegal(orgID, after.LegalName, after.Address.Country); err != nil {
			return false, before, err
		}
	}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_profile.update", ResourceType: "partner_profile", ResourceID: orgID, Before: before, After: after}); err != nil {
		return false, before, err
	}
	if err := tx.Emit(actor, csphub.EventEntry{Type: "partner_profile.updated", Subject: orgID, Data: after}); err != nil {
		return false, before, err
	}
	list, err := tx.Enrollments(orgID)
	if err != nil {
		return false, before, err
	}
	now := tx.Now()
	for _, e := range list {
		if e.State == csphub.EnrollmentRejected {
			continue
		}
		if emailChanged {
			if err := tx.SetEnrollmentCheck(e.ID, csphub.EnrollmentCheck{Name: csphub.CheckEmailOwnership, Status: csphub.CheckPending,
				Reason: "waiting for " + after.PrimaryContact.Email + " to open the link sent to it", UpdatedAt: now}); err != nil {
				return false, before, err
			}
			if err := tx.SetEnrollmentCheck(e.ID, domainCheck(after.PrimaryContact.Email, org.Domain, now)); err != nil {
				return false, before, err
			}
		}
		if p.Address.Country != before.Address.Country {
			if err := tx.SetEnrollmentCheck(e.ID, csphub.EnrollmentCheck{Name: csphub.CheckPartnerIDLocation, Status: csphub.CheckAttention,
				Reason: "the legal country changed from " + before.Address.Country + " to " + after.Address.Country + "; the reviewer checks the partner ID's location", UpdatedAt: now}); err != nil {
				return false, before, err
			}
		}
		if skip != nil && e.ID == skip.ID {
			continue
		}
		if p.Address.Country != before.Address.Country {
			e.Country = after.Address.Country
		}
		moved := false // a transition below saves the row, country included
		if legalChanged && e.State == csphub.EnrollmentApproved {
			moved = true
			if err := tx.SetEnrollmentCheck(e.ID, csphub.EnrollmentCheck{Name: csphub.CheckBusiness, Status: csphub.CheckPending,
				Reason: "the legal name or country changed; waiting for a reviewer", UpdatedAt: now}); err != nil {
				return false, before, err
			}
			if e, err = s.transition(tx, actor, e, csphub.EnrollmentInReview, "the legal name or country changed after approval", true); err != nil {
				return false, before, err
			}
		}
		if emailChanged {
			if e.State == csphub.EnrollmentInReview && !moved {
				moved = true
				if e, err = s.transition(tx, actor, e, csphub.EnrollmentEmailVerification, "the primary contact's email address changed", false); err != nil {
					return false, before, err
				}
			}
			token, tokenHash, err := newSecret("")
			if err != nil {
				return false, before, err
			}
			if err := s.sendVerification(tx, e, after, token, tokenHash); err != nil {
				return false, before, err
			}
		}
		if p.Address.Country != before.Address.Country && !moved {
			// Keep the queue's country in step without a transition.
			e.Version, e.UpdatedAt = e.Version+1, now
			if ok, err := tx.SaveEnrollment(e); err != nil || !ok {
				return false, before, orConflict(err, ok)
			}
		}
	}
	if skip != nil && p.Address.Country != before.Address.Country {
		skip.Country = after.Address.Country
	}
	return emailChanged, after, nil
}

// PartnerOverview is the partner's CSP overview: the enrollment, the
// agreement, the next step, the partner's figures and its recent activity.
func (s *Service) PartnerOverview(ctx context.Context, actor csphub.Actor) (PartnerOverview, error) {
	if actor.OrgKind != csphub.OrgPartner {
		return PartnerOverview{}, csphub.NotFound("partner_profile")
	}
	return read(ctx, s, func(tx *store.Tx) (PartnerOverview, error) {
		var o PartnerOverview
		var err error
		orgID := actor.TenantID()
		if o.Organization, err = tx.Organization(orgID, orgID); err != nil {
			return o, err
		}
		list, err := tx.Enrollments(orgID)
		if err != nil {
			return o, err
		}
		for _, e := range list {
			if e.Program != csphub.ProgramIndirectReseller {
				continue
			}
			v, err := s.enrollmentView(tx, e)
			if err != nil {
				return o, err
			}
			o.Enrolled, o.Enrollment = true, &v
			break
		}
		if o.Agreement, err = s.agreementStatus(tx, orgID); err != nil {
			return o, err
		}
		o.CanAcceptAgreement = actor.Kind == csphub.ActorUser && actor.HasRole(csphub.RoleGlobalAdmin)
		o.AdminAgentStep = o.Enrollment != nil && o.Enrollment.State == csphub.EnrollmentApproved &&
			actor.Kind == csphub.ActorUser && actor.HasRole(csphub.RoleGlobalAdmin) && !actor.HasRole(csphub.RoleAdminAgent)
		if o.Figures, err = s.partnerFigures(tx, orgID, list); err != nil {
			return o, err
		}
		// The activity is the audit log's head: for those who read the log.
		if auditReader(actor) {
			if o.Activity, err = s.recentActivity(tx, orgID); err != nil {
				return o, err
			}
		}
		return o, nil
	})
}
