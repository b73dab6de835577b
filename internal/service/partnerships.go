package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	cmail "csphub/internal/mail"
	"csphub/internal/store"
)

// Provider–reseller relationships (the partnership).
//
// An approved indirect provider with the current partner agreement accepted
// invites a reseller by email: a single-use link (256 bits, stored as its
// SHA-256, 30 days). A global admin or admin agent of an enrolled reseller
// located in a region the provider is authorized for opens it, ticks the
// box and authorizes the provider: the relationship becomes active and the
// reseller gives the provider a delegated admin grant (the roles the
// invitation listed, admin_agent by default, for
// the 1 day to 2 years the reseller chooses, 2 years by default, extended
// by 180 days at expiry when the reseller asks for it). Or the reseller declines; the provider may cancel an open
// invitation; an unanswered one expires. The provider suspends and
// reactivates; either side terminates with a reason, which ends the grants
// that came with the relationship.
//
// Every change moves the row along csphub.CanMovePartnership, saved only if
// its state and version are those read (the row locked meanwhile), and is
// audited, published to both sides and emailed to both sides. Only the two
// sides ever see a relationship; to anyone else it does not exist.

const (
	// partnerInvitationLifetime is how long an invitation link works.
	partnerInvitationLifetime = 30 * 24 * time.Hour
	// expiryBatch is how many due invitations one transaction expires.
	expiryBatch = 100
	// maxPartnershipQuery bounds the search prefix of the lists.
	maxPartnershipQuery = 200
)

// defaultPartnershipGrantRoles are the roles of the delegated admin grant
// an invitation asks for when it lists none.
func defaultPartnershipGrantRoles() []string { return []string{csphub.RoleAdminAgent} }

// checkPartnershipGrantRoles normalizes the delegated admin roles an
// invitation asks for: partner roles but global_admin (a provider never
// administers a reseller as its global admin), in the order of
// csphub.RolesOf, admin_agent when none is listed.
func checkPartnershipGrantRoles(roles []string) ([]string, []csphub.FieldError) {
	asked := map[string]bool{}
	var fields []csphub.FieldError
	for _, r := range roles {
		r = strings.TrimSpace(r)
		switch {
		case r == csphub.RoleGlobalAdmin:
			fields = append(fields, csphub.FieldError{Field: "grant_roles", Code: "role_not_grantable",
				Message: "global_admin cannot be asked for: a provider administers a reseller with the other partner roles"})
		case !csphub.ValidRole(csphub.OrgPartner, r):
			fields = append(fields, csphub.FieldError{Field: "grant_roles", Code: "invalid_role",
				Message: fmt.Sprintf("there is no partner role %q; the roles are %s", r, strings.Join(partnershipGrantableRoles(), ", "))})
		default:
			asked[r] = true
		}
	}
	if len(fields) > 0 {
		return nil, fields
	}
	var out []string
	for _, r := range partnershipGrantableRoles() {
		if asked[r] {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = defaultPartnershipGrantRoles()
	}
	return out, nil
}

// partnershipGrantableRoles are the roles an invitation may ask for.
func partnershipGrantableRoles() []string {
	return slices.DeleteFunc(csphub.RolesOf(csphub.OrgPartner), func(r string) bool { return r == csphub.RoleGlobalAdmin })
}

// PartnershipGrantableRoles lists the delegated admin roles a provider's
// invitation may ask for, in their usual order.
func PartnershipGrantableRoles() []string { return partnershipGrantableRoles() }

var (
	errPartnershipRole = csphub.Errorf(csphub.KindForbidden, "partnership_role_required",
		"only a global admin or admin agent of a partner organization can do this")
	errPartnershipDelegated = csphub.Errorf(csphub.KindForbidden, "delegated_access_not_allowed",
		"relationships between partners are managed by each partner's own users, not through a delegated admin grant")
	errPartnershipPartner = csphub.Errorf(csphub.KindForbidden, "partner_required",
		"only partner organizations have indirect providers and resellers")
	errPartnershipInvitationNotFound = csphub.Errorf(csphub.KindNotFound, "invitation_not_found",
		"this invitation link is not valid: check that you copied the whole link from the email")
	errPartnershipProviderOnly = csphub.Errorf(csphub.KindForbidden, "provider_only",
		"only the indirect provider can do this")
)

// partnershipActor checks that actor is a user (or, unless usersOnly, an
// API token) of a partner organization, acting in it, holding global_admin
// or admin_agent; it returns the organization.
func partnershipActor(tx *store.Tx, actor csphub.Actor, usersOnly bool) (csphub.Organization, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, errPartnershipDelegated
	}
	if usersOnly && actor.Kind == csphub.ActorToken {
		return csphub.Organization{}, csphub.Errorf(csphub.KindForbidden, "user_required",
			"a person authorizes an indirect provider: sign in as a global admin or admin agent, not with an API token")
	}
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken ||
		!actor.HasRole(csphub.RoleGlobalAdmin) && !actor.HasRole(csphub.RoleAdminAgent) {
		return csphub.Organization{}, errPartnershipRole
	}
	return partnershipOrg(tx, actor)
}

// partnershipReader checks that actor is a user or token of a partner
// organization acting in it, whatever its roles.
func partnershipReader(tx *store.Tx, actor csphub.Actor) (csphub.Organization, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, errPartnershipDelegated
	}
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken {
		return csphub.Organization{}, errPartnershipPartner
	}
	return partnershipOrg(tx, actor)
}

func partnershipOrg(tx *store.Tx, actor csphub.Actor) (csphub.Organization, error) {
	if !csphub.ValidID(actor.OrgID) {
		return csphub.Organization{}, errPartnershipPartner
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return org, errPartnershipPartner
	}
	if err != nil {
		return org, err
	}
	if org.Kind != csphub.OrgPartner {
		return org, errPartnershipPartner
	}
	return org, nil
}

// checkPartnershipReason normalizes a reason; a termination requires one.
func checkPartnershipReason(reason string, required bool) (string, *csphub.FieldError) {
	reason = strings.TrimSpace(reason)
	if reason == "" && required {
		return "", &csphub.FieldError{Field: "reason", Code: "required", Message: "is required: both sides see why the relationship ends"}
	}
	if utf8.RuneCountInString(reason) > maxReasonRunes || strings.ContainsRune(reason, 0) || !utf8.ValidString(reason) {
		return "", &csphub.FieldError{Field: "reason", Code: "too_long", Message: fmt.Sprintf("must be at most %d characters of text", maxReasonRunes)}
	}
	return reason, nil
}

// providerReady refuses a provider that may not work with resellers: not
// an approved indirect provider, or without the current agreement accepted.
func providerReady(st PartnerStanding, own bool) error {
	who := "this organization is"
	if own {
		who = "your organization is"
	}
	if !st.ProviderApproved {
		return csphub.Conflict("provider_not_approved", who+" not an approved indirect provider: the indirect provider membership must be approved first")
	}
	if !st.AgreementSigned {
		return csphub.Conflict("agreement_not_accepted", "the provider's global admin must accept the current partner agreement first")
	}
	return nil
}

func regionNotAuthorized(region string, regions []string) error {
	where := "no region of the program"
	if region != "" {
		where = "the region " + region
	}
	e := csphub.Errorf(csphub.KindUnprocessable, "region_not_authorized",
		"the reseller is located in %s, and the provider is authorized only for: %s", where, strings.Join(regions, ", "))
	if len(regions) == 0 {
		e.Message = "the reseller is located in " + where + ", and the provider is authorized for no region yet"
	}
	return e
}

// partnerIDRegion returns the region of the partner that holds a partner
// ID: from its profile's legal country once an organization holds it, else
// from the country the ID was issued for. known is false for an ID csphub
// does not know.
func partnerIDRegion(tx *store.Tx, partnerID string) (region, orgID string, known bool, err error) {
	rec, err := tx.PartnerIDRecord(partnerID, false)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	country := rec.Country
	if rec.OrgID != "" {
		p, err := tx.PartnerProfile(rec.OrgID, false)
		switch {
		case err == nil:
			country = p.Address.Country
		case csphub.ErrorKind(err) != csphub.KindNotFound:
			return "", "", false, err
		}
	}
	m, err := tx.MarketOf(country)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return "", rec.OrgID, true, nil
	}
	if err != nil {
		return "", "", false, err
	}
	return m.RegionCode, rec.OrgID, true, nil
}

func retryAfter(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// partnershipContact is who receives a side's emails: the person who acted
// for it (the inviter, the accepter) while they are an active user, else
// the partner's primary contact. ok is false when there is nobody to write
// to.
func partnershipContact(tx *store.Tx, orgID, userID string) (cmail.Recipient, bool, error) {
	if csphub.ValidID(userID) {
		u, err := tx.User(orgID, userID)
		switch {
		case err == nil && u.Status == csphub.UserActive:
			return cmail.Recipient{Address: u.Email, Name: u.Name, Lang: cmail.Lang(u.Lang)}, true, nil
		case err != nil && csphub.ErrorKind(err) != csphub.KindNotFound:
			return cmail.Recipient{}, false, err
		}
	}
	p, err := tx.PartnerProfile(orgID, false)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return cmail.Recipient{}, false, nil
	}
	if err != nil {
		return cmail.Recipient{}, false, err
	}
	c := p.PrimaryContact
	return cmail.Recipient{Address: c.Email, Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Lang: cmail.Lang(c.Lang)}, true, nil
}

func partnershipViewOf(r store.PartnershipRow) PartnershipView {
	return PartnershipView{Partnership: r.Partnership, ProviderName: r.ProviderName, ProviderPartnerID: r.ProviderPartnerID,
		ResellerName: r.ResellerName, ResellerPartnerID: r.ResellerPartnerID, Grant: r.Grant}
}

// partnershipView reads a relationship as pages show it, inside the
// caller's transaction.
func partnershipView(tx *store.Tx, p csphub.Partnership) (PartnershipView, error) {
	r, err := tx.PartnershipRowOf(p.ProviderID, p.ID)
	if err != nil {
		return PartnershipView{}, err
	}
	return partnershipViewOf(r), nil
}

// partnershipChangeAudit is what the audit trail and the events keep of a
// change: the relationship after it, and the reason given.
type partnershipChangeAudit struct {
	PartnershipView
	Reason string `json:"reason,omitempty"`
}

// notifyPartnership emails both sides about a change. person is who acted
// for the reseller side when the row does not say (a decline).
func (s *Service) notifyPartnership(tx *store.Tx, v PartnershipView, change, reason, endedBy, person string) error {
	reseller := v.ResellerName
	if reseller == "" {
		reseller = v.InvitedEmail
	}
	msg := cmail.PartnershipStatus{Provider: v.ProviderName, Reseller: reseller, Change: change, EndedBy: endedBy, Reason: reason}

	to, ok, err := partnershipContact(tx, v.ProviderID, v.InvitedBy)
	if err != nil {
		return err
	}
	providerLang := to.Lang
	if ok {
		m := msg
		m.To, m.Side, m.Link = to, "provider", s.opts.BaseURL+"/partner/indirect-resellers"
		if _, err := cmail.Enqueue(tx, v.ProviderID, m); err != nil {
			return err
		}
	}

	if v.ResellerID != "" {
		if person == "" {
			person = v.AcceptedBy
		}
		to, ok, err = partnershipContact(tx, v.ResellerID, person)
		if err != nil {
			return err
		}
	} else {
		// Nobody answered the invitation yet: the invited address is the
		// reseller's side.
		to, ok = cmail.Recipient{Address: v.InvitedEmail, Lang: providerLang}, true
	}
	if !ok {
		return nil
	}
	m := msg
	m.To, m.Side, m.Link = to, "reseller", s.opts.BaseURL+"/partner/indirect-providers"
	orgID := v.ResellerID
	if orgID == "" {
		orgID = v.ProviderID
	}
	_, err = cmail.Enqueue(tx, orgID, m)
	return err
}

// movePartnership moves a locked relationship to another state along the
// state machine, saves it if nobody changed it meanwhile, ends the grants
// of a terminated one, and audits, publishes and emails the change. org is
// the side that acts (none for the system); person, who acted for the
// reseller side when the row does not say.
func (s *Service) movePartnership(tx *store.Tx, actor csphub.Actor, org csphub.Organization, p csphub.Partnership,
	to csphub.PartnershipState, change, reason, person string) (PartnershipView, error) {
	if !csphub.CanMovePartnership(p.State, to) {
		return PartnershipView{}, csphub.Conflict("invalid_transition", fmt.Sprintf("a relationship that is %s cannot become %s", p.State, to))
	}
	before := p
	now := tx.Now()
	p.State, p.UpdatedAt, p.Version = to, now, p.Version+1
	switch to {
	case csphub.PartnershipDeclined, csphub.PartnershipCancelled, csphub.PartnershipExpired, csphub.PartnershipTerminated:
		p.EndedAt, p.EndedByOrg, p.EndedReason = utcPtr(now), org.ID, reason
	}
	if to == csphub.PartnershipDeclined {
		// The reseller that declined is recorded: the provider sees who did.
		p.ResellerID = org.ID
	}
	if ok, err := tx.SavePartnership(p, before.State); err != nil || !ok {
		return PartnershipView{}, orConflict(err, ok)
	}
	ended := int64(0)
	if to == csphub.PartnershipTerminated && p.ResellerID != "" {
		n, err := tx.TerminatePartnershipGrants(p.ProviderID, p.ResellerID, p.ID, actor.ID)
		if err != nil {
			return PartnershipView{}, err
		}
		ended = n
	}
	v, err := partnershipView(tx, p)
	if err != nil {
		return PartnershipView{}, err
	}
	beforeView := v
	beforeView.Partnership = before
	verb := map[string]string{"declined": "decline", "cancelled": "cancel", "expired": "expire", "suspended": "suspend",
		"reactivated": "reactivate", "terminated": "terminate"}[change]
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "partnership." + verb, ResourceType: "partnership", ResourceID: p.ID,
		Before: beforeView, After: partnershipChangeAudit{PartnershipView: v, Reason: reason}}); err != nil {
		return PartnershipView{}, err
	}
	if ended > 0 {
		// The grants end with the relationship: both organizations' logs
		// show it, and grant listeners hear of it.
		ending := map[string]any{"partnership_id": p.ID, "grantor_id": p.ResellerID, "grantee_id": p.ProviderID, "grants_terminated": ended}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "delegated_admin_grant.terminate", ResourceType: "delegated_admin_grant", ResourceID: p.ID,
			After: ending}); err != nil {
			return PartnershipView{}, err
		}
		other := csphub.System(actor.RequestID)
		other.OrgID = p.ResellerID
		if actor.TenantID() == p.ResellerID {
			other.OrgID = p.ProviderID
		}
		if err := tx.Audit(other, csphub.AuditEntry{Action: "delegated_admin_grant.terminate", ResourceType: "delegated_admin_grant", ResourceID: p.ID,
			After: ending}); err != nil {
			return PartnershipView{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "grant.terminated", Subject: p.ID, Data: ending, Audience: partnershipAudience(p)}); err != nil {
			return PartnershipView{}, err
		}
	}
	if err := tx.Emit(actor, csphub.EventEntry{Type: "partnership." + string(to), Subject: p.ID,
		Data: partnershipChangeAudit{PartnershipView: v, Reason: reason}, Audience: partnershipAudience(p)}); err != nil {
		return PartnershipView{}, err
	}
	endedBy := org.Name
	if err := s.notifyPartnership(tx, v, change, reason, endedBy, person); err != nil {
		return PartnershipView{}, err
	}
	return v, nil
}

func partnershipAudience(p csphub.Partnership) []string {
	if p.ResellerID == "" {
		return []string{p.ProviderID}
	}
	return []string{p.ProviderID, p.ResellerID}
}

// InvitePartner: a provider's admin agent invites a reseller by email.
func (s *Service) InvitePartner(ctx context.Context, actor csphub.Actor, in InvitePartnerInput) (PartnershipView, error) {
	var fields []csphub.FieldError
	email, fe := checkEmail("email", in.Email)
	if fe != nil {
		fields = append(fields, *fe)
	}
	pid := strings.TrimSpace(in.PartnerID)
	if pid != "" && !ValidPartnerID(pid) {
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "invalid_partner_id", Message: "must be a partner ID: 6 to 10 digits, the first not 0"})
	}
	if in.Lang != "" {
		if fe := checkLang(in.Lang); fe != nil {
			fields = append(fields, *fe)
		}
	}
	grantRoles, fes := checkPartnershipGrantRoles(in.GrantRoles)
	fields = append(fields, fes...)
	if len(fields) > 0 {
		return PartnershipView{}, csphub.Invalid(fields...)
	}
	token, hash, err := newSecret("")
	if err != nil {
		return PartnershipView{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		org, err := partnershipActor(tx, actor, false)
		if err != nil {
			return PartnershipView{}, err
		}
		// One provider's invitations are counted and added one at a time.
		if err := tx.LockPartnerOrganization(org.ID); err != nil {
			return PartnershipView{}, err
		}
		st, err := s.partnerStanding(tx, org.ID)
		if err != nil {
			return PartnershipView{}, err
		}
		if err := providerReady(st, true); err != nil {
			return PartnershipView{}, err
		}
		if pid != "" {
			if pid == st.PartnerID {
				return PartnershipView{}, csphub.Errorf(csphub.KindUnprocessable, "own_invitation", "this is your own organization's partner ID")
			}
			region, holder, known, err := partnerIDRegion(tx, pid)
			if err != nil {
				return PartnershipView{}, err
			}
			if holder == org.ID {
				return PartnershipView{}, csphub.Errorf(csphub.KindUnprocessable, "own_invitation", "this is your own organization's partner ID")
			}
			if known && !slices.Contains(st.ProviderRegions, region) {
				return PartnershipView{}, regionNotAuthorized(region, st.ProviderRegions)
			}
		}
		now := tx.Now()
		sent, first, err := tx.PartnerInvitationsSince(org.ID, now.Add(-24*time.Hour))
		if err != nil {
			return PartnershipView{}, err
		}
		if sent >= s.opts.PartnerInvitesPerDay {
			return PartnershipView{}, &csphub.Error{Kind: csphub.KindRateLimited, Code: "invitation_limit",
				Message:    fmt.Sprintf("your organization sent %d invitations in the last 24 hours, the most it may; try again later", sent),
				RetryAfter: retryAfter(first.Add(24 * time.Hour).Sub(now))}
		}
		open, soonest, err := tx.OpenPartnerInvitations(org.ID, now)
		if err != nil {
			return PartnershipView{}, err
		}
		if open >= s.opts.OpenPartnerInvitations {
			return PartnershipView{}, &csphub.Error{Kind: csphub.KindRateLimited, Code: "open_invitation_limit",
				Message:    fmt.Sprintf("your organization has %d invitations waiting for an answer, the most it may; cancel some or wait for answers", open),
				RetryAfter: retryAfter(soonest.Sub(now))}
		}
		p := csphub.Partnership{ID: csphub.NewID(), ProviderID: org.ID, State: csphub.PartnershipInvited, InvitedEmail: email,
			InvitedPartnerID: pid, InvitedBy: actor.ID, InvitedAt: now, GrantRoles: grantRoles, ExpiresAt: now.Add(partnerInvitationLifetime),
			UpdatedAt: now, Version: 1}
		if err := tx.InsertPartnership(p, hash); err != nil {
			return PartnershipView{}, err
		}
		inviter, lang := org.Name, cmail.Lang(in.Lang)
		if actor.Kind == csphub.ActorUser {
			if u, err := tx.User(org.ID, actor.ID); err == nil {
				inviter = u.Name
				if lang == "" {
					lang = cmail.Lang(u.Lang)
				}
			} else if csphub.ErrorKind(err) != csphub.KindNotFound {
				return PartnershipView{}, err
			}
		}
		if _, err := cmail.Enqueue(tx, org.ID, cmail.PartnershipInvitation{
			To:       cmail.Recipient{Address: email, Lang: lang},
			Provider: org.Name, ProviderPartnerID: st.PartnerID, InvitedBy: inviter, PartnerID: pid, Roles: grantRoles,
			Link: s.opts.BaseURL + "/partnership-invitations/" + token, ExpiresAt: p.ExpiresAt,
		}); err != nil {
			return PartnershipView{}, err
		}
		v := PartnershipView{Partnership: p, ProviderName: org.Name, ProviderPartnerID: st.PartnerID}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "partnership.invite", ResourceType: "partnership", ResourceID: p.ID, After: v}); err != nil {
			return PartnershipView{}, err
		}
		return v, tx.Emit(actor, csphub.EventEntry{Type: "partnership.invited", Subject: p.ID, Data: v, Audience: []string{org.ID}})
	})
}

// invitationGrantRoles are the roles of the grant accepting p gives the
// provider: those the invitation listed.
func invitationGrantRoles(p csphub.Partnership) []string {
	if len(p.GrantRoles) == 0 {
		return defaultPartnershipGrantRoles()
	}
	return slices.Clone(p.GrantRoles)
}

// invitationOpen refuses an invitation that can no longer be answered,
// saying why.
func invitationOpen(p csphub.Partnership, now time.Time) error {
	switch {
	case p.State == csphub.PartnershipInvited && p.ExpiresAt.After(now):
		return nil
	case p.State == csphub.PartnershipInvited || p.State == csphub.PartnershipExpired:
		return csphub.Conflict("invitation_expired", "this invitation expired; ask the provider for a new one")
	case p.State == csphub.PartnershipCancelled:
		return csphub.Conflict("invitation_cancelled", "the provider cancelled this invitation")
	case p.State == csphub.PartnershipDeclined:
		return csphub.Conflict("invitation_used", "this invitation was declined already; ask the provider for a new one")
	default:
		return csphub.Conflict("invitation_used", "this invitation was accepted already; a link works once")
	}
}

// invitationByToken reads (and with lock, locks) the invitation of a link.
func invitationByToken(tx *store.Tx, token string, lock bool) (csphub.Partnership, error) {
	if token == "" || len(token) > 100 {
		return csphub.Partnership{}, errPartnershipInvitationNotFound
	}
	p, err := tx.PartnershipByTokenHash(hashSecret(token), lock)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return p, errPartnershipInvitationNotFound
	}
	return p, err
}

// InvitationOf describes an invitation link before anyone acts on it.
func (s *Service) InvitationOf(ctx context.Context, token string) (InvitationView, error) {
	return read(ctx, s, func(tx *store.Tx) (InvitationView, error) {
		p, err := invitationByToken(tx, token, false)
		if err != nil {
			return InvitationView{}, err
		}
		if err := invitationOpen(p, tx.Now()); err != nil {
			return InvitationView{}, err
		}
		org, err := tx.Organization(p.ProviderID, p.ProviderID)
		if err != nil {
			return InvitationView{}, err
		}
		st, err := s.partnerStanding(tx, p.ProviderID)
		if err != nil {
			return InvitationView{}, err
		}
		return InvitationView{PartnershipID: p.ID, State: p.State, ProviderName: org.Name, ProviderPartnerID: st.PartnerID,
			ProviderRegions: st.ProviderRegions, InvitedEmail: p.InvitedEmail, InvitedPartnerID: p.InvitedPartnerID,
			ExpiresAt: p.ExpiresAt, GrantRoles: invitationGrantRoles(p)}, nil
	})
}

// answerableInvitation locks the invitation of a link and checks that the
// reseller's organization may answer it.
func answerableInvitation(tx *store.Tx, reseller csphub.Organization, token string) (csphub.Partnership, error) {
	p, err := invitationByToken(tx, token, true)
	if err != nil {
		return p, err
	}
	if err := invitationOpen(p, tx.Now()); err != nil {
		return p, err
	}
	if p.ProviderID == reseller.ID {
		return p, csphub.Errorf(csphub.KindUnprocessable, "own_invitation", "your organization sent this invitation; a reseller answers it")
	}
	return p, nil
}

func partnerIDMismatch(p csphub.Partnership, partnerID string) error {
	if p.InvitedPartnerID == "" || p.InvitedPartnerID == partnerID {
		return nil
	}
	return csphub.Errorf(csphub.KindForbidden, "partner_id_mismatch",
		"this invitation is for the partner with partner ID %s; sign in to that partner's organization to answer it", p.InvitedPartnerID)
}

// AcceptInvitation: the reseller authorizes the indirect provider.
func (s *Service) AcceptInvitation(ctx context.Context, actor csphub.Actor, token string, in AcceptInvitationInput) (PartnershipView, error) {
	var fields []csphub.FieldError
	if !in.Authorize {
		fields = append(fields, csphub.FieldError{Field: "authorize", Code: "required",
			Message: "tick the box to authorize the indirect provider"})
	}
	days := in.DurationDays
	switch {
	case days == 0:
		days = csphub.GrantDefaultDays
	case days < csphub.GrantMinDays || days > csphub.GrantMaxDays:
		fields = append(fields, csphub.FieldError{Field: "duration_days", Code: "out_of_range",
			Message: fmt.Sprintf("must be from %d day to %d days (2 years)", csphub.GrantMinDays, csphub.GrantMaxDays)})
	}
	if len(fields) > 0 {
		return PartnershipView{}, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		reseller, err := partnershipActor(tx, actor, true)
		if err != nil {
			return PartnershipView{}, err
		}
		p, err := answerableInvitation(tx, reseller, token)
		if err != nil {
			return PartnershipView{}, err
		}
		rst, err := s.partnerStanding(tx, reseller.ID)
		if err != nil {
			return PartnershipView{}, err
		}
		if !rst.ResellerEnrolled {
			return PartnershipView{}, csphub.Conflict("not_enrolled",
				"your organization must enrol as an indirect reseller before it authorizes an indirect provider")
		}
		if err := partnerIDMismatch(p, rst.PartnerID); err != nil {
			return PartnershipView{}, err
		}
		pst, err := s.partnerStanding(tx, p.ProviderID)
		if err != nil {
			return PartnershipView{}, err
		}
		if err := providerReady(pst, false); err != nil {
			return PartnershipView{}, err
		}
		if rst.Region == "" || !slices.Contains(pst.ProviderRegions, rst.Region) {
			return PartnershipView{}, regionNotAuthorized(rst.Region, pst.ProviderRegions)
		}
		live, err := tx.LivePartnershipExists(p.ProviderID, reseller.ID)
		if err != nil {
			return PartnershipView{}, err
		}
		if live {
			return PartnershipView{}, csphub.Conflict("partnership_exists", "your organization already has a relationship with this provider")
		}
		before := p
		now := tx.Now()
		p.ResellerID, p.Region, p.AcceptedBy, p.AcceptedAt = reseller.ID, rst.Region, actor.ID, utcPtr(now)
		p.State, p.UpdatedAt, p.Version = csphub.PartnershipActive, now, p.Version+1
		ok, err := tx.SavePartnership(p, csphub.PartnershipInvited)
		if err != nil {
			return PartnershipView{}, err
		}
		if !ok {
			return PartnershipView{}, invitationOpen(csphub.Partnership{State: csphub.PartnershipActive}, now)
		}
		g := csphub.Grant{ID: csphub.NewID(), GrantorID: reseller.ID, GranteeID: p.ProviderID, PartnershipID: p.ID,
			Roles: invitationGrantRoles(p), State: csphub.GrantActive, DurationDays: days, AutoExtend: in.AutoExtend,
			CreatedAt: now, ActivatedAt: utcPtr(now), ExpiresAt: now.AddDate(0, 0, days), UpdatedAt: now, Version: 1}
		if err := tx.InsertGrant(g); err != nil {
			return PartnershipView{}, err
		}
		v, err := partnershipView(tx, p)
		if err != nil {
			return PartnershipView{}, err
		}
		beforeView := PartnershipView{Partnership: before, ProviderName: v.ProviderName, ProviderPartnerID: v.ProviderPartnerID}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "partnership.accept", ResourceType: "partnership", ResourceID: p.ID,
			Before: beforeView, After: v}); err != nil {
			return PartnershipView{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "delegated_admin_grant.create", ResourceType: "delegated_admin_grant",
			ResourceID: g.ID, After: g}); err != nil {
			return PartnershipView{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "partnership.accepted", Subject: p.ID, Data: v, Audience: partnershipAudience(p)}); err != nil {
			return PartnershipView{}, err
		}
		return v, s.notifyPartnership(tx, v, "accepted", "", "", actor.ID)
	})
}

// DeclineInvitation: the reseller declines.
func (s *Service) DeclineInvitation(ctx context.Context, actor csphub.Actor, token string) (PartnershipView, error) {
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		reseller, err := partnershipActor(tx, actor, false)
		if err != nil {
			return PartnershipView{}, err
		}
		p, err := answerableInvitation(tx, reseller, token)
		if err != nil {
			return PartnershipView{}, err
		}
		pid, err := tx.PartnerIDOfOrganization(reseller.ID)
		if err != nil {
			return PartnershipView{}, err
		}
		if err := partnerIDMismatch(p, pid); err != nil {
			return PartnershipView{}, err
		}
		return s.movePartnership(tx, actor, reseller, p, csphub.PartnershipDeclined, "declined", "", actor.ID)
	})
}

// lockedPartnership checks the actor and locks a relationship its
// organization is a side of; providerOnly refuses the reseller side.
func lockedPartnership(tx *store.Tx, actor csphub.Actor, id string, providerOnly bool) (csphub.Organization, csphub.Partnership, error) {
	org, err := partnershipActor(tx, actor, false)
	if err != nil {
		return org, csphub.Partnership{}, err
	}
	if !csphub.ValidID(id) {
		return org, csphub.Partnership{}, csphub.NotFound("partnership")
	}
	p, err := tx.PartnershipForUpdate(org.ID, id)
	if err != nil {
		return org, p, err
	}
	if providerOnly && p.ProviderID != org.ID {
		return org, p, errPartnershipProviderOnly
	}
	return org, p, nil
}

// CancelInvitation: the provider withdraws an open invitation.
func (s *Service) CancelInvitation(ctx context.Context, actor csphub.Actor, id string) (PartnershipView, error) {
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		org, p, err := lockedPartnership(tx, actor, id, true)
		if err != nil {
			return PartnershipView{}, err
		}
		return s.movePartnership(tx, actor, org, p, csphub.PartnershipCancelled, "cancelled", "", "")
	})
}

// SuspendPartnership: the provider suspends an active relationship.
func (s *Service) SuspendPartnership(ctx context.Context, actor csphub.Actor, id string, in PartnershipChange) (PartnershipView, error) {
	reason, fe := checkPartnershipReason(in.Reason, false)
	if fe != nil {
		return PartnershipView{}, csphub.Invalid(*fe)
	}
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		org, p, err := lockedPartnership(tx, actor, id, true)
		if err != nil {
			return PartnershipView{}, err
		}
		return s.movePartnership(tx, actor, org, p, csphub.PartnershipSuspended, "suspended", reason, "")
	})
}

// ReactivatePartnership: the provider reactivates a suspended one.
func (s *Service) ReactivatePartnership(ctx context.Context, actor csphub.Actor, id string) (PartnershipView, error) {
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		org, p, err := lockedPartnership(tx, actor, id, true)
		if err != nil {
			return PartnershipView{}, err
		}
		if p.State != csphub.PartnershipSuspended {
			return PartnershipView{}, csphub.Conflict("invalid_transition", fmt.Sprintf("only a suspended relationship is reactivated; this one is %s", p.State))
		}
		// Reactivating restores ordering and delegated admin: the provider
		// must still meet what accepting required.
		pst, err := s.partnerStanding(tx, p.ProviderID)
		if err != nil {
			return PartnershipView{}, err
		}
		if err := providerReady(pst, true); err != nil {
			return PartnershipView{}, err
		}
		if p.Region == "" || !slices.Contains(pst.ProviderRegions, p.Region) {
			return PartnershipView{}, regionNotAuthorized(p.Region, pst.ProviderRegions)
		}
		return s.movePartnership(tx, actor, org, p, csphub.PartnershipActive, "reactivated", "", "")
	})
}

// TerminatePartnership: either side ends the relationship with a reason.
func (s *Service) TerminatePartnership(ctx context.Context, actor csphub.Actor, id string, in PartnershipChange) (PartnershipView, error) {
	reason, fe := checkPartnershipReason(in.Reason, true)
	if fe != nil {
		return PartnershipView{}, csphub.Invalid(*fe)
	}
	return write(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		org, p, err := lockedPartnership(tx, actor, id, false)
		if err != nil {
			return PartnershipView{}, err
		}
		return s.movePartnership(tx, actor, org, p, csphub.PartnershipTerminated, "terminated", reason, "")
	})
}

// GetPartnership shows one relationship to either side.
func (s *Service) GetPartnership(ctx context.Context, actor csphub.Actor, id string) (PartnershipView, error) {
	return read(ctx, s, func(tx *store.Tx) (PartnershipView, error) {
		org, err := partnershipReader(tx, actor)
		if csphub.ErrorKind(err) == csphub.KindForbidden && err != errPartnershipDelegated {
			return PartnershipView{}, csphub.NotFound("partnership")
		}
		if err != nil {
			return PartnershipView{}, err
		}
		if !csphub.ValidID(id) {
			return PartnershipView{}, csphub.NotFound("partnership")
		}
		r, err := tx.PartnershipRowOf(org.ID, id)
		if err != nil {
			return PartnershipView{}, err
		}
		return partnershipViewOf(r), nil
	})
}

// partnershipStates are the states a list filters on.
var partnershipStates = []csphub.PartnershipState{csphub.PartnershipInvited, csphub.PartnershipActive, csphub.PartnershipSuspended,
	csphub.PartnershipTerminated, csphub.PartnershipDeclined, csphub.PartnershipExpired, csphub.PartnershipCancelled}

// ListIndirectResellers is the provider's Indirect resellers page.
func (s *Service) ListIndirectResellers(ctx context.Context, actor csphub.Actor, q PartnershipQuery) (PartnershipPage, error) {
	return s.listPartnerships(ctx, actor, q, true)
}

// ListIndirectProviders is the reseller's Indirect providers page.
func (s *Service) ListIndirectProviders(ctx context.Context, actor csphub.Actor, q PartnershipQuery) (PartnershipPage, error) {
	return s.listPartnerships(ctx, actor, q, false)
}

// listPartnerships lists the relationships of the actor's organization
// from one side, newest first: on the provider side every invitation it
// sent (by invitation time), on the reseller side the providers it
// authorized (by acceptance time).
func (s *Service) listPartnerships(ctx context.Context, actor csphub.Actor, q PartnershipQuery, provider bool) (PartnershipPage, error) {
	var fields []csphub.FieldError
	after, err := decodeKeyset(q.PageToken)
	if err != nil {
		fields = append(fields, csphub.AsError(err).Fields...)
	}
	prefix := strings.TrimSpace(q.Q)
	if utf8.RuneCountInString(prefix) > maxPartnershipQuery || !utf8.ValidString(prefix) || strings.ContainsRune(prefix, 0) {
		fields = append(fields, csphub.FieldError{Field: "q", Code: "too_long", Message: fmt.Sprintf("must be at most %d characters of text", maxPartnershipQuery)})
	}
	if q.State != "" && !slices.Contains(partnershipStates, csphub.PartnershipState(q.State)) {
		fields = append(fields, csphub.FieldError{Field: "state", Code: "invalid_state",
			Message: "must be one of invited, active, suspended, terminated, declined, expired, cancelled"})
	}
	if len(fields) > 0 {
		return PartnershipPage{}, csphub.Invalid(fields...)
	}
	size := q.PageSize
	if size <= 0 || size > 500 {
		size = 50
	}
	return read(ctx, s, func(tx *store.Tx) (PartnershipPage, error) {
		org, err := partnershipReader(tx, actor)
		if err != nil {
			return PartnershipPage{}, err
		}
		f := store.PartnershipFilter{Prefix: prefix, State: q.State}
		var rows []store.PartnershipRow
		if provider {
			rows, err = tx.ProviderPartnerships(org.ID, f, after, size+1)
		} else {
			rows, err = tx.ResellerPartnerships(org.ID, f, after, size+1)
		}
		if err != nil {
			return PartnershipPage{}, err
		}
		p := PartnershipPage{Items: make([]PartnershipView, 0, min(len(rows), size))}
		for _, r := range rows[:min(len(rows), size)] {
			p.Items = append(p.Items, partnershipViewOf(r))
		}
		if len(rows) > size {
			last := p.Items[size-1]
			k := store.Keyset{At: last.InvitedAt, ID: last.ID}
			if !provider {
				k.At = *last.AcceptedAt
			}
			p.NextPageToken = encodeKeyset(k)
		}
		return p, nil
	})
}

// ExpireInvitations ends the invitations past their expiry (the
// background job, driven by the injected clock); it returns how many.
func (s *Service) ExpireInvitations(ctx context.Context) (int, error) {
	system := csphub.System(csphub.RequestID(ctx))
	total := 0
	for {
		n, err := write(ctx, s, func(tx *store.Tx) (int, error) {
			due, err := tx.DueInvitations(tx.Now(), expiryBatch)
			if err != nil {
				return 0, err
			}
			for _, p := range due {
				// The job acts for the provider, so that its audit log shows the expiry.
				sys := system
				sys.OrgID = p.ProviderID
				if _, err := s.movePartnership(tx, sys, csphub.Organization{}, p, csphub.PartnershipExpired, "expired", "", ""); err != nil {
					return 0, err
				}
			}
			return len(due), nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < expiryBatch {
			return total, nil
		}
	}
}
