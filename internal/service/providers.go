package service

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"csphub"
	"csphub/internal/countries"
	"csphub/internal/store"
)

// enrolProvider is an approved indirect reseller's application to become an
// indirect provider. What was verified for the reseller membership (the
// primary contact's address, the partner ID's location) is not verified
// again: the application goes straight to review, where the operator
// confirms the distributor. It gives its customer support contact alone.
func (s *Service) enrolProvider(ctx context.Context, actor csphub.Actor, in EnrollmentInput) (EnrollResult, error) {
	if actor.Kind == "" || in.Account != nil {
		return EnrollResult{}, csphub.Invalid(csphub.FieldError{Field: "account", Code: "reseller_first",
			Message: "every partner enrols as an indirect reseller first; sign in as its global admin to apply as a provider"})
	}
	if actor.Kind != csphub.ActorUser || actor.OrgKind != csphub.OrgPartner || !actor.HasRole(csphub.RoleGlobalAdmin) {
		return EnrollResult{}, csphub.Errorf(csphub.KindForbidden, "global_admin_required", "only a global admin of a partner organization can enrol it")
	}
	if in.PartnerID != "" || in.ClaimCode != "" {
		return EnrollResult{}, csphub.Invalid(csphub.FieldError{Field: "partner_id", Code: "already_linked",
			Message: "a provider applies with the partner ID of its reseller membership; leave it out"})
	}
	return write(ctx, s, func(tx *store.Tx) (EnrollResult, error) {
		var res EnrollResult
		orgID := actor.TenantID()
		org, err := tx.Organization(orgID, orgID)
		if err != nil {
			return res, err
		}
		reseller, ok, err := tx.ApprovedEnrollment(orgID, csphub.ProgramIndirectReseller)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, csphub.Conflict("reseller_not_approved", "every partner enrols as an indirect reseller first; apply as a provider once that membership is approved")
		}
		// The contact's address counts as verified only if it still is
		// (a new primary contact since approval must confirm theirs).
		resellerChecks, err := tx.EnrollmentChecks(reseller.ID)
		if err != nil {
			return res, err
		}
		contactVerified := false
		for _, c := range resellerChecks {
			contactVerified = contactVerified || (c.Name == csphub.CheckEmailOwnership && c.Status == csphub.CheckPassed)
		}
		before, err := tx.PartnerProfile(orgID, true)
		if err != nil {
			return res, err
		}
		sc := in.SupportContact
		var fields []csphub.FieldError
		if email, fe := checkEmail("support_contact.email", strings.TrimSpace(sc.Email)); fe != nil {
			fields = append(fields, *fe)
		} else {
			sc.Email = email
		}
		phone, fe := countries.NormalizePhone("support_contact.phone", before.Address.Country, sc.Phone)
		if fe != nil {
			fields = append(fields, *fe)
		}
		sc.Phone = phone
		sc.Website = strings.TrimSpace(sc.Website)
		if fe := checkWebsite(sc.Website); fe != nil {
			fields = append(fields, *fe)
		}
		if len(fields) > 0 {
			return res, csphub.Invalid(fields...)
		}
		now := tx.Now()
		profile := before
		if sc != before.SupportContact {
			profile.SupportContact, profile.Version, profile.UpdatedAt = sc, before.Version+1, now
			if ok, err := tx.UpdatePartnerProfile(profile); err != nil || !ok {
				return res, orConflict(err, ok)
			}
			if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_profile.update", ResourceType: "partner_profile", ResourceID: orgID,
				Before: before, After: profile}); err != nil {
				return res, err
			}
		}
		e := csphub.Enrollment{ID: csphub.NewID(), OrgID: orgID, Program: csphub.ProgramIndirectProvider, State: csphub.EnrollmentSubmitted,
			Country: org.Country, SubmittedAt: now, DueAt: csphub.AddBusinessDays(now, reviewBusinessDays), UpdatedAt: now, Version: 1}
		if err := tx.InsertEnrollment(e); err != nil {
			return res, err
		}
		verified := "verified for the indirect reseller membership"
		ownership := csphub.EnrollmentCheck{Name: csphub.CheckEmailOwnership, Status: csphub.CheckPassed, Reason: profile.PrimaryContact.Email + " " + verified, UpdatedAt: now}
		if !contactVerified {
			ownership = csphub.EnrollmentCheck{Name: csphub.CheckEmailOwnership, Status: csphub.CheckPending,
				Reason: "waiting for " + profile.PrimaryContact.Email + " to open the link sent to it", UpdatedAt: now}
		}
		for _, c := range []csphub.EnrollmentCheck{
			ownership,
			domainCheck(profile.PrimaryContact.Email, org.Domain, now),
			{Name: csphub.CheckPartnerIDLocation, Status: csphub.CheckPassed, Reason: "partner ID " + profile.PartnerID + " " + verified, UpdatedAt: now},
			{Name: csphub.CheckBusiness, Status: csphub.CheckPending, Reason: "waiting for a reviewer to confirm the distributor", UpdatedAt: now},
		} {
			if err := tx.SetEnrollmentCheck(e.ID, c); err != nil {
				return res, err
			}
		}
		if err := s.recordTransition(tx, actor, nil, e, ""); err != nil {
			return res, err
		}
		if contactVerified {
			if e, err = s.transition(tx, actor, e, csphub.EnrollmentInReview, "", true); err != nil {
				return res, err
			}
		} else {
			if e, err = s.transition(tx, actor, e, csphub.EnrollmentEmailVerification, "", false); err != nil {
				return res, err
			}
			token, tokenHash, err := newSecret("")
			if err != nil {
				return res, err
			}
			if err := s.sendVerification(tx, e, profile, token, tokenHash); err != nil {
				return res, err
			}
		}
		view, err := s.enrollmentView(tx, e)
		if err != nil {
			return res, err
		}
		res.Enrollment = view
		return res, nil
	})
}

// checkWebsite checks an optional web address.
func checkWebsite(site string) *csphub.FieldError {
	if site == "" {
		return nil
	}
	if u, err := url.Parse(site); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(site) > 500 {
		return &csphub.FieldError{Field: "support_contact.website", Code: "invalid_url", Message: "must be a web address like https://contoso.com/support"}
	}
	return nil
}

// ProviderView is an indirect provider as the operator sees it: who, and
// the regions it is authorized for.
type ProviderView struct {
	OrganizationID string   `json:"organization_id"`
	Name           string   `json:"name"`
	PartnerID      string   `json:"partner_id"`
	Country        string   `json:"country"`
	Region         string   `json:"region,omitempty" doc:"The provider's own region, from its legal country"`
	Regions        []string `json:"regions" doc:"The regions the operator authorized it for"`
}

// AuthorizeProviderRegions sets the regions an approved indirect provider
// may work in (it invites resellers located there). Operator admins only.
func (s *Service) AuthorizeProviderRegions(ctx context.Context, actor csphub.Actor, orgID string, regions []string) (ProviderView, error) {
	if !csphub.ValidID(orgID) {
		return ProviderView{}, csphub.NotFound("provider")
	}
	if len(regions) > 50 {
		return ProviderView{}, csphub.Invalid(csphub.FieldError{Field: "regions", Code: "too_many", Message: "must list at most 50 regions"})
	}
	return write(ctx, s, func(tx *store.Tx) (ProviderView, error) {
		if err := requireOperatorRole(tx, actor, csphub.RoleOperatorAdmin); err != nil {
			return ProviderView{}, err
		}
		if _, ok, err := tx.ApprovedEnrollment(orgID, csphub.ProgramIndirectProvider); err != nil || !ok {
			if err != nil {
				return ProviderView{}, err
			}
			return ProviderView{}, csphub.NotFound("provider")
		}
		known, err := tx.Regions()
		if err != nil {
			return ProviderView{}, err
		}
		var fields []csphub.FieldError
		wanted := []string{}
		for i, r := range regions {
			if !slices.ContainsFunc(known, func(k csphub.Region) bool { return k.Code == r }) {
				fields = append(fields, csphub.FieldError{Field: "regions[" + strconv.Itoa(i) + "]", Code: "unknown_region", Message: "is not a region of the program"})
				continue
			}
			if !slices.Contains(wanted, r) {
				wanted = append(wanted, r)
			}
		}
		if len(fields) > 0 {
			return ProviderView{}, csphub.Invalid(fields...)
		}
		before, err := s.providerView(tx, orgID)
		if err != nil {
			return ProviderView{}, err
		}
		if err := tx.ReplaceProviderRegions(orgID, wanted, actor.ID); err != nil {
			return ProviderView{}, err
		}
		after, err := s.providerView(tx, orgID)
		if err != nil {
			return ProviderView{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "provider.regions", ResourceType: "organization", ResourceID: orgID, Before: before, After: after}); err != nil {
			return ProviderView{}, err
		}
		return after, tx.Emit(actor, csphub.EventEntry{Type: "provider.regions_changed", Subject: orgID, Data: after, Audience: []string{orgID}})
	})
}

// GetProvider shows a provider and its authorized regions to the operator.
func (s *Service) GetProvider(ctx context.Context, actor csphub.Actor, orgID string) (ProviderView, error) {
	if !csphub.ValidID(orgID) {
		return ProviderView{}, csphub.NotFound("provider")
	}
	return read(ctx, s, func(tx *store.Tx) (ProviderView, error) {
		if err := requireOperatorRole(tx, actor, csphub.RoleOperatorAdmin, csphub.RoleVerificationReviewer); err != nil {
			return ProviderView{}, err
		}
		if _, ok, err := tx.ApprovedEnrollment(orgID, csphub.ProgramIndirectProvider); err != nil || !ok {
			if err != nil {
				return ProviderView{}, err
			}
			return ProviderView{}, csphub.NotFound("provider")
		}
		return s.providerView(tx, orgID)
	})
}

func (s *Service) providerView(tx *store.Tx, orgID string) (ProviderView, error) {
	st, err := s.partnerStanding(tx, orgID)
	if err != nil {
		return ProviderView{}, err
	}
	org, err := tx.Organization(orgID, orgID)
	if err != nil {
		return ProviderView{}, err
	}
	return ProviderView{OrganizationID: orgID, Name: org.Name, PartnerID: st.PartnerID, Country: org.Country, Region: st.Region, Regions: st.ProviderRegions}, nil
}

// requireOperatorRole refuses anyone but a user or token of the operator
// organization, acting in it, with one of roles.
func requireOperatorRole(tx *store.Tx, actor csphub.Actor, roles ...string) error {
	op, err := tx.OperatorOrganization()
	if err != nil {
		return err
	}
	if actor.TenantID() != op.ID || actor.OnBehalfOf != "" || !slices.ContainsFunc(roles, actor.HasRole) {
		return csphub.Errorf(csphub.KindForbidden, "operator_role_required", "only the operator's %s can do this", strings.Join(roles, " or "))
	}
	return nil
}
