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

// Customers: "Invite new customers" and "View customers".
//
// A reseller's admin agent or sales agent (or global admin) invites a
// customer for one of its indirect providers, with which its relationship
// must be active; the email carries a single-use link (256 bits, stored as
// its SHA-256, 30 days). The customer's global admin (signed in, or
// creating the customer organization in the same request) accepts: in one
// transaction csphub creates the three-party link (the customer's reseller
// relationship with the provider naming the reseller), the customer's
// relationships with both partners, the delegated admin grants the
// customer agreed to, the audit records, the events and the emails to both
// partners. The customer must be located in the reseller's region, and the
// provider authorized for it; the acceptance page says so before anything
// is created. A provider may also create a customer directly for one of
// its active resellers.
//
// Who sees which customer follows from the relationship rows alone: a
// partner its own customers (a provider, optionally through one reseller;
// a reseller, optionally those shared with one provider), the operator
// every customer, a customer itself. To anyone else a customer does not
// exist (404).

const (
	customerInvitationLifetime = 30 * 24 * time.Hour
	// customerInvitesPerDay caps the invitations one reseller creates in
	// 24 hours (resends have their own limits, per invitation).
	customerInvitesPerDay = 1000
	// customerResendInterval is the least time between two sends of one
	// invitation; maxSends bounds how many times one is sent.
	customerResendInterval = time.Hour
	maxSends               = 5
	maxBulkRows            = 500
)

var (
	errCustomerInviter = csphub.Errorf(csphub.KindForbidden, "customer_agent_required",
		"only a global admin, admin agent or sales agent of a reseller can invite customers")
	errCustomerInvitationNotFound = csphub.Errorf(csphub.KindNotFound, "invitation_not_found",
		"this invitation link is not valid: check that you copied the whole link from the email")
	errCustomerAdmin = csphub.Errorf(csphub.KindForbidden, "customer_admin_required",
		"only a global admin of the customer's organization can answer for it")
	errCustomerDelegated = csphub.Errorf(csphub.KindForbidden, "delegated_access_not_allowed",
		"customer relationships are managed by each organization's own users, not through a delegated admin grant")
)

// customerAgent checks that actor is a user or token of a partner
// organization acting in it, holding one of the agent roles; it returns
// the organization.
func customerAgent(tx *store.Tx, actor csphub.Actor, roles ...string) (csphub.Organization, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, errCustomerDelegated
	}
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken ||
		!slices.ContainsFunc(roles, actor.HasRole) {
		return csphub.Organization{}, errCustomerInviter
	}
	return partnershipOrg(tx, actor)
}

var customerAgentRoles = []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent, csphub.RoleSalesAgent}

// checkCustomerRoles normalizes the delegated admin roles an invitation
// asks for.
func checkCustomerRoles(field string, roles []string) ([]string, *csphub.FieldError) {
	out := []string{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if !slices.Contains(csphub.CustomerGrantRoles, r) {
			return nil, &csphub.FieldError{Field: field, Code: "invalid_role",
				Message: "must list customer roles among " + strings.Join(csphub.CustomerGrantRoles, ", ")}
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func checkCompanyName(name string) (string, *csphub.FieldError) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "\r\n\x00") || !utf8.ValidString(name) {
		return "", &csphub.FieldError{Field: "company_name", Code: "invalid_name", Message: "must be at most 200 characters on one line"}
	}
	return name, nil
}

// customerInvitationDraft is a validated invitation, before the rules that
// need the database.
type customerInvitationDraft struct {
	in                           InviteCustomerInput
	email, company               string
	resellerRoles, providerRoles []string
}

func checkCustomerInvitation(in InviteCustomerInput) (customerInvitationDraft, []csphub.FieldError) {
	var fields []csphub.FieldError
	d := customerInvitationDraft{in: in}
	if !csphub.ValidID(strings.TrimSpace(in.ProviderID)) {
		fields = append(fields, csphub.FieldError{Field: "provider_id", Code: "required", Message: "must name one of your indirect providers"})
	}
	var fe *csphub.FieldError
	if d.email, fe = checkEmail("email", in.Email); fe != nil {
		fields = append(fields, *fe)
	}
	if d.company, fe = checkCompanyName(in.CompanyName); fe != nil {
		fields = append(fields, *fe)
	}
	if in.Lang != "" {
		if fe := checkLang(in.Lang); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if d.resellerRoles, fe = checkCustomerRoles("reseller_roles", in.ResellerRoles); fe != nil {
		fields = append(fields, *fe)
	}
	if d.providerRoles, fe = checkCustomerRoles("provider_roles", in.ProviderRoles); fe != nil {
		fields = append(fields, *fe)
	}
	d.in.ProviderID = strings.TrimSpace(in.ProviderID)
	return d, fields
}

// activeProviderOf checks, with the relationship row locked, that the
// reseller's relationship with the provider is active.
func activeProviderOf(tx *store.Tx, resellerID, providerID string) (csphub.Partnership, error) {
	p, err := tx.LivePartnership(providerID, resellerID, true)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return p, csphub.Errorf(csphub.KindUnprocessable, "relationship_not_active",
			"your organization has no active relationship with this indirect provider")
	}
	if err != nil {
		return p, err
	}
	if p.State != csphub.PartnershipActive {
		return p, csphub.Errorf(csphub.KindUnprocessable, "relationship_not_active",
			"your relationship with this indirect provider is %s: it must be active", p.State)
	}
	return p, nil
}

// senderName is how emails name the person who acted.
func senderName(tx *store.Tx, actor csphub.Actor, org csphub.Organization) (string, string, error) {
	if actor.Kind == csphub.ActorUser {
		u, err := tx.User(org.ID, actor.ID)
		if err == nil {
			return u.Name, u.Lang, nil
		}
		if csphub.ErrorKind(err) != csphub.KindNotFound {
			return "", "", err
		}
	}
	return org.Name, "", nil
}

// inviteCustomer writes one invitation in tx: the rules, the row, the
// email, the audit record and the event.
func (s *Service) inviteCustomer(tx *store.Tx, actor csphub.Actor, reseller csphub.Organization, d customerInvitationDraft) (CustomerInvitationView, error) {
	if d.in.ProviderID == reseller.ID {
		return CustomerInvitationView{}, csphub.Errorf(csphub.KindUnprocessable, "relationship_not_active", "your organization cannot be its own indirect provider")
	}
	if _, err := activeProviderOf(tx, reseller.ID, d.in.ProviderID); err != nil {
		return CustomerInvitationView{}, err
	}
	provider, err := tx.Organization(d.in.ProviderID, d.in.ProviderID)
	if err != nil {
		return CustomerInvitationView{}, err
	}
	now := tx.Now()
	token, hash, err := newSecret("")
	if err != nil {
		return CustomerInvitationView{}, err
	}
	inviter, lang, err := senderName(tx, actor, reseller)
	if err != nil {
		return CustomerInvitationView{}, err
	}
	if d.in.Lang != "" {
		lang = d.in.Lang
	}
	if lang == "" {
		lang = "en"
	}
	v := csphub.CustomerInvitation{ID: csphub.NewID(), ResellerID: reseller.ID, ProviderID: provider.ID, Email: d.email,
		CompanyName: d.company, Lang: lang, State: csphub.CustomerInvitationPending, ResellerRoles: d.resellerRoles,
		ProviderRoles: d.providerRoles, InvitedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(customerInvitationLifetime),
		LastSentAt: now, SendCount: 1, Version: 1}
	if err := tx.InsertCustomerInvitation(v, hash); err != nil {
		return CustomerInvitationView{}, err
	}
	if err := s.sendCustomerInvitation(tx, v, reseller.Name, provider.Name, inviter, token); err != nil {
		return CustomerInvitationView{}, err
	}
	view := CustomerInvitationView{CustomerInvitation: v, ProviderName: provider.Name}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_invitation.create", ResourceType: "customer_invitation",
		ResourceID: v.ID, After: view}); err != nil {
		return CustomerInvitationView{}, err
	}
	return view, tx.Emit(actor, csphub.EventEntry{Type: "customer_invitation.created", Subject: v.ID, Data: view,
		Audience: []string{reseller.ID}})
}

func (s *Service) sendCustomerInvitation(tx *store.Tx, v csphub.CustomerInvitation, reseller, provider, inviter, token string) error {
	_, err := cmail.Enqueue(tx, v.ResellerID, cmail.CustomerInvitation{
		To: cmail.Recipient{Address: v.Email, Lang: cmail.Lang(v.Lang)}, Reseller: reseller, Provider: provider, InvitedBy: inviter,
		Company: v.CompanyName, ResellerRoles: v.ResellerRoles, ProviderRoles: v.ProviderRoles,
		Link: s.opts.BaseURL + "/customer-invitations/" + token, ExpiresAt: v.ExpiresAt,
	})
	return err
}

// checkInvitationQuota refuses a reseller that sent its day's invitations.
func checkInvitationQuota(tx *store.Tx, resellerID string, adding int) error {
	now := tx.Now()
	sent, first, err := tx.CustomerInvitationsSentSince(resellerID, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if sent+adding > customerInvitesPerDay {
		return &csphub.Error{Kind: csphub.KindRateLimited, Code: "invitation_limit",
			Message:    fmt.Sprintf("your organization may send %d customer invitations in 24 hours and sent %d", customerInvitesPerDay, sent),
			RetryAfter: retryAfter(first.Add(24 * time.Hour).Sub(now))}
	}
	return nil
}

// InviteCustomer: a reseller invites a customer for one of its providers.
func (s *Service) InviteCustomer(ctx context.Context, actor csphub.Actor, in InviteCustomerInput) (CustomerInvitationView, error) {
	d, fields := checkCustomerInvitation(in)
	if len(fields) > 0 {
		return CustomerInvitationView{}, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (CustomerInvitationView, error) {
		reseller, err := customerAgent(tx, actor, customerAgentRoles...)
		if err != nil {
			return CustomerInvitationView{}, err
		}
		if err := tx.LockPartnerOrganization(reseller.ID); err != nil {
			return CustomerInvitationView{}, err
		}
		if err := checkInvitationQuota(tx, reseller.ID, 1); err != nil {
			return CustomerInvitationView{}, err
		}
		return s.inviteCustomer(tx, actor, reseller, d)
	})
}

// BulkInviteCustomers checks every row of a batch first, then sends the
// invitations of the rows that pass, in one transaction; the report says
// for each row what was sent or why it was refused.
func (s *Service) BulkInviteCustomers(ctx context.Context, actor csphub.Actor, in BulkCustomerInvitations) (BulkInvitationReport, error) {
	if len(in.Items) == 0 || len(in.Items) > maxBulkRows {
		return BulkInvitationReport{}, csphub.Invalid(csphub.FieldError{Field: "items", Code: "out_of_range",
			Message: fmt.Sprintf("must hold 1 to %d invitations", maxBulkRows)})
	}
	drafts := make([]customerInvitationDraft, len(in.Items))
	report := BulkInvitationReport{Results: make([]BulkInvitationResult, len(in.Items))}
	seen := map[string]int{}
	for i, item := range in.Items {
		d, fields := checkCustomerInvitation(item)
		report.Results[i] = BulkInvitationResult{Row: i + 1, Email: strings.TrimSpace(item.Email)}
		key := d.in.ProviderID + "|" + d.email
		if first, dup := seen[key]; dup && len(fields) == 0 {
			fields = append(fields, csphub.FieldError{Field: "email", Code: "duplicate",
				Message: fmt.Sprintf("repeats row %d for the same provider", first)})
		}
		if len(fields) > 0 {
			report.Results[i].Error = csphub.Invalid(fields...)
			continue
		}
		seen[key] = i + 1
		drafts[i] = d
	}
	return write(ctx, s, func(tx *store.Tx) (BulkInvitationReport, error) {
		reseller, err := customerAgent(tx, actor, customerAgentRoles...)
		if err != nil {
			return BulkInvitationReport{}, err
		}
		if err := tx.LockPartnerOrganization(reseller.ID); err != nil {
			return BulkInvitationReport{}, err
		}
		out := BulkInvitationReport{Results: slices.Clone(report.Results)}
		valid := 0
		for i := range out.Results {
			if out.Results[i].Error != nil {
				continue
			}
			// The rules that need the database, row by row, before anything is sent.
			if _, err := activeProviderOf(tx, reseller.ID, drafts[i].in.ProviderID); err != nil {
				if csphub.AsError(err) == nil || csphub.ErrorKind(err) == csphub.KindInternal {
					return BulkInvitationReport{}, err
				}
				out.Results[i].Error = csphub.AsError(err)
				continue
			}
			valid++
		}
		if err := checkInvitationQuota(tx, reseller.ID, valid); err != nil {
			return BulkInvitationReport{}, err
		}
		for i := range out.Results {
			if out.Results[i].Error != nil {
				out.Refused++
				continue
			}
			v, err := s.inviteCustomer(tx, actor, reseller, drafts[i])
			if err != nil {
				return BulkInvitationReport{}, err
			}
			out.Results[i].Invitation = &v
			out.Sent++
		}
		return out, nil
	})
}

// ListCustomerInvitations lists a reseller's invitations, newest first.
func (s *Service) ListCustomerInvitations(ctx context.Context, actor csphub.Actor, state, pageToken string, limit int) (CustomerInvitationPage, error) {
	after, err := decodeKeyset(pageToken)
	if err != nil {
		return CustomerInvitationPage{}, err
	}
	states := []csphub.CustomerInvitationState{csphub.CustomerInvitationPending, csphub.CustomerInvitationAccepted,
		csphub.CustomerInvitationDeclined, csphub.CustomerInvitationCancelled, csphub.CustomerInvitationExpired}
	if state != "" && !slices.Contains(states, csphub.CustomerInvitationState(state)) {
		return CustomerInvitationPage{}, csphub.Invalid(csphub.FieldError{Field: "state", Code: "invalid_state",
			Message: "must be one of pending, accepted, declined, cancelled, expired"})
	}
	size := pageSize(limit)
	return read(ctx, s, func(tx *store.Tx) (CustomerInvitationPage, error) {
		reseller, err := customerAgent(tx, actor, customerAgentRoles...)
		if err != nil {
			return CustomerInvitationPage{}, err
		}
		rows, err := tx.CustomerInvitations(reseller.ID, state, after, size+1)
		if err != nil {
			return CustomerInvitationPage{}, err
		}
		p := CustomerInvitationPage{Items: make([]CustomerInvitationView, 0, min(len(rows), size))}
		for _, r := range rows[:min(len(rows), size)] {
			p.Items = append(p.Items, CustomerInvitationView{CustomerInvitation: r.CustomerInvitation, ProviderName: r.ProviderName})
		}
		if len(rows) > size {
			last := p.Items[size-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// lockedCustomerInvitation checks the actor and locks one of its
// organization's invitations.
func lockedCustomerInvitation(tx *store.Tx, actor csphub.Actor, id string) (csphub.Organization, csphub.CustomerInvitation, error) {
	reseller, err := customerAgent(tx, actor, customerAgentRoles...)
	if err != nil {
		return reseller, csphub.CustomerInvitation{}, err
	}
	if !csphub.ValidID(id) {
		return reseller, csphub.CustomerInvitation{}, csphub.NotFound("customer_invitation")
	}
	v, err := tx.CustomerInvitationForUpdate(reseller.ID, id)
	return reseller, v, err
}

// ResendCustomerInvitation sends a pending invitation again with a new
// link (the old one stops working) valid 30 days from now; at most once an
// hour and five times in all.
func (s *Service) ResendCustomerInvitation(ctx context.Context, actor csphub.Actor, id string) (CustomerInvitationView, error) {
	return write(ctx, s, func(tx *store.Tx) (CustomerInvitationView, error) {
		reseller, v, err := lockedCustomerInvitation(tx, actor, id)
		if err != nil {
			return CustomerInvitationView{}, err
		}
		now := tx.Now()
		if v.State != csphub.CustomerInvitationPending || !v.ExpiresAt.After(now) {
			return CustomerInvitationView{}, csphub.Conflict("invitation_not_pending", "only a pending invitation is sent again; invite the customer anew")
		}
		if v.SendCount >= maxSends {
			return CustomerInvitationView{}, &csphub.Error{Kind: csphub.KindRateLimited, Code: "resend_limit",
				Message: fmt.Sprintf("this invitation was sent %d times, the most it may be; cancel it and invite anew", v.SendCount)}
		}
		if wait := v.LastSentAt.Add(customerResendInterval).Sub(now); wait > 0 {
			return CustomerInvitationView{}, &csphub.Error{Kind: csphub.KindRateLimited, Code: "resend_too_soon",
				Message: "this invitation was sent less than an hour ago", RetryAfter: retryAfter(wait)}
		}
		if _, err := activeProviderOf(tx, reseller.ID, v.ProviderID); err != nil {
			return CustomerInvitationView{}, err
		}
		token, hash, err := newSecret("")
		if err != nil {
			return CustomerInvitationView{}, err
		}
		before := v
		v.LastSentAt, v.ExpiresAt, v.SendCount, v.Version = now, now.Add(customerInvitationLifetime), v.SendCount+1, v.Version+1
		if ok, err := tx.SaveCustomerInvitation(v, csphub.CustomerInvitationPending, hash); err != nil || !ok {
			return CustomerInvitationView{}, orConflict(err, ok)
		}
		provider, err := tx.Organization(v.ProviderID, v.ProviderID)
		if err != nil {
			return CustomerInvitationView{}, err
		}
		inviter, _, err := senderName(tx, actor, reseller)
		if err != nil {
			return CustomerInvitationView{}, err
		}
		if err := s.sendCustomerInvitation(tx, v, reseller.Name, provider.Name, inviter, token); err != nil {
			return CustomerInvitationView{}, err
		}
		view := CustomerInvitationView{CustomerInvitation: v, ProviderName: provider.Name}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_invitation.resend", ResourceType: "customer_invitation",
			ResourceID: v.ID, Before: before, After: view}); err != nil {
			return CustomerInvitationView{}, err
		}
		return view, tx.Emit(actor, csphub.EventEntry{Type: "customer_invitation.resent", Subject: v.ID, Data: view, Audience: []string{reseller.ID}})
	})
}

// CancelCustomerInvitation withdraws a pending invitation: its link stops
// working.
func (s *Service) CancelCustomerInvitation(ctx context.Context, actor csphub.Actor, id string) (CustomerInvitationView, error) {
	return write(ctx, s, func(tx *store.Tx) (CustomerInvitationView, error) {
		_, v, err := lockedCustomerInvitation(tx, actor, id)
		if err != nil {
			return CustomerInvitationView{}, err
		}
		if v.State != csphub.CustomerInvitationPending {
			return CustomerInvitationView{}, csphub.Conflict("invalid_transition", fmt.Sprintf("an invitation that is %s cannot be cancelled", v.State))
		}
		return s.moveCustomerInvitation(tx, actor, v, csphub.CustomerInvitationCancelled, "")
	})
}

// moveCustomerInvitation ends a locked pending invitation (cancelled,
// declined, expired), saved only if nobody changed it meanwhile, and
// audits and publishes the change.
func (s *Service) moveCustomerInvitation(tx *store.Tx, actor csphub.Actor, v csphub.CustomerInvitation, to csphub.CustomerInvitationState,
	customerID string) (CustomerInvitationView, error) {
	before := v
	now := tx.Now()
	v.State, v.AnsweredAt, v.Version = to, utcPtr(now), v.Version+1
	if customerID != "" {
		v.CustomerID = customerID
	}
	if ok, err := tx.SaveCustomerInvitation(v, csphub.CustomerInvitationPending, ""); err != nil || !ok {
		return CustomerInvitationView{}, orConflict(err, ok)
	}
	provider, err := tx.Organization(v.ProviderID, v.ProviderID)
	if err != nil {
		return CustomerInvitationView{}, err
	}
	view := CustomerInvitationView{CustomerInvitation: v, ProviderName: provider.Name}
	verb := map[csphub.CustomerInvitationState]string{csphub.CustomerInvitationCancelled: "cancel", csphub.CustomerInvitationDeclined: "decline",
		csphub.CustomerInvitationExpired: "expire", csphub.CustomerInvitationAccepted: "accept"}[to]
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_invitation." + verb, ResourceType: "customer_invitation",
		ResourceID: v.ID, Before: before, After: view}); err != nil {
		return CustomerInvitationView{}, err
	}
	audience := []string{v.ResellerID}
	if to == csphub.CustomerInvitationAccepted {
		audience = append(audience, v.ProviderID, customerID)
	}
	return view, tx.Emit(actor, csphub.EventEntry{Type: "customer_invitation." + string(to), Subject: v.ID, Data: view, Audience: audience})
}

// customerInvitationOpen refuses an invitation that can no longer be
// answered, saying why.
func customerInvitationOpen(v csphub.CustomerInvitation, now time.Time) error {
	switch {
	case v.State == csphub.CustomerInvitationPending && v.ExpiresAt.After(now):
		return nil
	case v.State == csphub.CustomerInvitationPending || v.State == csphub.CustomerInvitationExpired:
		return csphub.Conflict("invitation_expired", "this invitation expired; ask the reseller for a new one")
	case v.State == csphub.CustomerInvitationCancelled:
		return csphub.Conflict("invitation_cancelled", "the reseller cancelled this invitation")
	case v.State == csphub.CustomerInvitationDeclined:
		return csphub.Conflict("invitation_used", "this invitation was declined already; ask the reseller for a new one")
	default:
		return csphub.Conflict("invitation_used", "this invitation was accepted already; a link works once")
	}
}

func customerInvitationByToken(tx *store.Tx, token string, lock bool) (csphub.CustomerInvitation, error) {
	if token == "" || len(token) > 100 {
		return csphub.CustomerInvitation{}, errCustomerInvitationNotFound
	}
	v, err := tx.CustomerInvitationByTokenHash(hashSecret(token), lock)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return v, errCustomerInvitationNotFound
	}
	return v, err
}

// customerCountries are the countries where the customer of an invitation
// may be: the reseller's region, when the provider is authorized for it.
func (s *Service) customerCountries(tx *store.Tx, v csphub.CustomerInvitation) (region string, countries []string, err error) {
	rst, err := s.partnerStanding(tx, v.ResellerID)
	if err != nil {
		return "", nil, err
	}
	pst, err := s.partnerStanding(tx, v.ProviderID)
	if err != nil {
		return "", nil, err
	}
	countries = []string{}
	if rst.Region == "" || !slices.Contains(pst.ProviderRegions, rst.Region) {
		return rst.Region, countries, nil
	}
	markets, err := tx.Markets()
	if err != nil {
		return "", nil, err
	}
	for _, m := range markets {
		if m.RegionCode == rst.Region {
			countries = append(countries, m.Country)
		}
	}
	slices.Sort(countries)
	return rst.Region, countries, nil
}

// CustomerInvitationOf describes an invitation link before anyone answers
// it: who asks for what, and where the customer must be located.
func (s *Service) CustomerInvitationOf(ctx context.Context, token string) (CustomerInvitationOffer, error) {
	return read(ctx, s, func(tx *store.Tx) (CustomerInvitationOffer, error) {
		v, err := customerInvitationByToken(tx, token, false)
		if err != nil {
			return CustomerInvitationOffer{}, err
		}
		if err := customerInvitationOpen(v, tx.Now()); err != nil {
			return CustomerInvitationOffer{}, err
		}
		return s.offerOf(tx, v)
	})
}

func (s *Service) offerOf(tx *store.Tx, v csphub.CustomerInvitation) (CustomerInvitationOffer, error) {
	reseller, err := tx.Organization(v.ResellerID, v.ResellerID)
	if err != nil {
		return CustomerInvitationOffer{}, err
	}
	provider, err := tx.Organization(v.ProviderID, v.ProviderID)
	if err != nil {
		return CustomerInvitationOffer{}, err
	}
	rpid, err := tx.PartnerIDOfOrganization(v.ResellerID)
	if err != nil {
		return CustomerInvitationOffer{}, err
	}
	ppid, err := tx.PartnerIDOfOrganization(v.ProviderID)
	if err != nil {
		return CustomerInvitationOffer{}, err
	}
	region, countries, err := s.customerCountries(tx, v)
	if err != nil {
		return CustomerInvitationOffer{}, err
	}
	return CustomerInvitationOffer{InvitationID: v.ID, State: v.State, ResellerName: reseller.Name, ResellerPartnerID: rpid,
		ProviderName: provider.Name, ProviderPartnerID: ppid, Email: v.Email, CompanyName: v.CompanyName, Lang: v.Lang,
		ResellerRoles: v.ResellerRoles, ProviderRoles: v.ProviderRoles, ExpiresAt: v.ExpiresAt, Region: region, Countries: countries}, nil
}

// customerOutsideRegion is the refusal of a customer located where the
// reseller may not sell or the provider is not authorized.
func customerOutsideRegion(country, region string) error {
	return csphub.Errorf(csphub.KindUnprocessable, "customer_region_mismatch",
		"the customer is located in %s, outside the region %s where the reseller sells through this provider", country, region)
}

// AcceptCustomerInvitation: the customer's global admin accepts; with
// NewCustomer, a visitor creates the customer organization and its first
// user in the same transaction.
func (s *Service) AcceptCustomerInvitation(ctx context.Context, actor csphub.Actor, token string, in AcceptCustomerInvitationInput) (CustomerAcceptance, error) {
	var fresh *newOrganization
	if in.NewCustomer != nil {
		if actor.Kind != "" {
			return CustomerAcceptance{}, csphub.Invalid(csphub.FieldError{Field: "new_customer", Code: "signed_in",
				Message: "you are signed in: accept for your organization, or sign out to create a new one"})
		}
		nc := in.NewCustomer
		n, err := prepareOrganization(SignupInput{Kind: string(csphub.OrgCustomer), OrgName: nc.OrgName, Country: nc.Country,
			Domain: nc.Domain, Name: nc.Name, Email: nc.Email, Password: nc.Password, Lang: nc.Lang}, csphub.OrgCustomer)
		if err != nil {
			if e := csphub.AsError(err); e != nil {
				for i := range e.Fields {
					e.Fields[i].Field = "new_customer." + e.Fields[i].Field
				}
			}
			return CustomerAcceptance{}, err
		}
		fresh = &n
	} else if actor.Kind == "" {
		return CustomerAcceptance{}, csphub.Errorf(csphub.KindUnauthenticated, "unauthenticated",
			"sign in as a global admin of the customer's organization, or create it with new_customer")
	}
	return write(ctx, s, func(tx *store.Tx) (CustomerAcceptance, error) {
		v, err := customerInvitationByToken(tx, token, true)
		if err != nil {
			return CustomerAcceptance{}, err
		}
		if err := customerInvitationOpen(v, tx.Now()); err != nil {
			return CustomerAcceptance{}, err
		}
		var out CustomerAcceptance
		var customer csphub.Organization
		if fresh != nil {
			// The region is checked before the organization exists.
			if err := s.customerMayJoin(tx, v, fresh.in.Country); err != nil {
				return CustomerAcceptance{}, err
			}
			res, err := fresh.insert(ctx, tx)
			if err != nil {
				return CustomerAcceptance{}, err
			}
			customer, out.User = res.Organization, &res.User
			actor = csphub.Actor{Kind: csphub.ActorUser, ID: res.User.ID, OrgID: customer.ID, OrgKind: csphub.OrgCustomer,
				Roles: res.User.Roles, RequestID: csphub.RequestID(ctx)}
		} else {
			if customer, err = customerAdmin(tx, actor); err != nil {
				return CustomerAcceptance{}, err
			}
			if err := s.customerMayJoin(tx, v, customer.Country); err != nil {
				return CustomerAcceptance{}, err
			}
		}
		if _, err := activeProviderOf(tx, v.ResellerID, v.ProviderID); err != nil {
			return CustomerAcceptance{}, csphub.Errorf(csphub.KindConflict, "relationship_not_active",
				"the reseller's relationship with this provider is no longer active; ask the reseller for a new invitation")
		}
		if _, err := s.moveCustomerInvitation(tx, actor, v, csphub.CustomerInvitationAccepted, customer.ID); err != nil {
			return CustomerAcceptance{}, err
		}
		out.Customer = customer
		var grants []grantAsk
		if in.GrantReseller && len(v.ResellerRoles) > 0 {
			grants = append(grants, grantAsk{v.ResellerID, v.ResellerRoles})
		}
		if in.GrantProvider && len(v.ProviderRoles) > 0 {
			grants = append(grants, grantAsk{v.ProviderID, v.ProviderRoles})
		}
		link, rels, made, err := s.linkCustomer(tx, actor, customer, v.ProviderID, v.ResellerID, v.ID, grants)
		if err != nil {
			return CustomerAcceptance{}, err
		}
		out.Link, out.Relationships, out.Grants = link, rels, made
		return out, s.notifyCustomerPartners(tx, customer.Name, v.ProviderID, v.ResellerID, "accepted", "")
	})
}

// customerAdmin checks that actor is a user of a customer organization,
// acting in it, with global_admin; it returns the organization.
func customerAdmin(tx *store.Tx, actor csphub.Actor) (csphub.Organization, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, errCustomerDelegated
	}
	if actor.Kind != csphub.ActorUser || !actor.HasRole(csphub.RoleGlobalAdmin) || !csphub.ValidID(actor.OrgID) {
		return csphub.Organization{}, errCustomerAdmin
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if err != nil {
		return org, err
	}
	if org.Kind != csphub.OrgCustomer {
		return org, csphub.Errorf(csphub.KindForbidden, "customer_required",
			"this invitation is for a customer organization; sign in with the customer's account, or sign out and create it")
	}
	return org, nil
}

// customerMayJoin checks that a customer located in country may enter a
// relationship with the invitation's reseller and provider.
func (s *Service) customerMayJoin(tx *store.Tx, v csphub.CustomerInvitation, country string) error {
	region, countries, err := s.customerCountries(tx, v)
	if err != nil {
		return err
	}
	if !slices.Contains(countries, country) {
		return customerOutsideRegion(country, region)
	}
	return nil
}

type grantAsk struct {
	grantee string
	roles   []string
}

// linkCustomer creates the three-party link, the customer's relationships
// with both partners (unless they exist) and the grants, with their audit
// records and events.
func (s *Service) linkCustomer(tx *store.Tx, actor csphub.Actor, customer csphub.Organization, providerID, resellerID, invitationID string,
	grants []grantAsk) (csphub.CustomerLink, []csphub.CustomerRelationship, []csphub.Grant, error) {
	// One customer's links and relationships are made one transaction at a
	// time: two acceptances at once (two providers of one reseller) would
	// otherwise both find no relationship with the reseller and both
	// insert one.
	if err := tx.LockPartnerOrganization(customer.ID); err != nil {
		return csphub.CustomerLink{}, nil, nil, err
	}
	now := tx.Now()
	link := csphub.CustomerLink{ID: csphub.NewID(), CustomerID: customer.ID, ProviderID: providerID, ResellerID: resellerID,
		State: csphub.RelationshipActive, InvitationID: invitationID, CreatedAt: now, Version: 1}
	if err := tx.InsertCustomerLink(customer, link); err != nil {
		return link, nil, nil, err
	}
	audience := []string{customer.ID, providerID, resellerID}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_link.create", ResourceType: "customer_link", ResourceID: link.ID, After: link}); err != nil {
		return link, nil, nil, err
	}
	if err := tx.Emit(actor, csphub.EventEntry{Type: "customer_link.created", Subject: link.ID, Data: link, Audience: audience}); err != nil {
		return link, nil, nil, err
	}
	var rels []csphub.CustomerRelationship
	for _, p := range []struct {
		id   string
		role csphub.PartnerRole
	}{{providerID, csphub.PartnerRoleProvider}, {resellerID, csphub.PartnerRoleReseller}} {
		r, created, err := tx.EnsureCustomerRelationship(customer, p.id, p.role)
		if err != nil {
			return link, nil, nil, err
		}
		rels = append(rels, r)
		if !created {
			continue
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_relationship.create", ResourceType: "customer_relationship",
			ResourceID: r.ID, After: r}); err != nil {
			return link, nil, nil, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "customer_relationship.created", Subject: r.ID, Data: r,
			Audience: []string{customer.ID, p.id}}); err != nil {
			return link, nil, nil, err
		}
	}
	made := []csphub.Grant{}
	for _, a := range grants {
		g := csphub.Grant{ID: csphub.NewID(), GrantorID: customer.ID, GranteeID: a.grantee, Roles: slices.Clone(a.roles),
			State: csphub.GrantActive, DurationDays: csphub.GrantDefaultDays, CreatedAt: now, ActivatedAt: utcPtr(now),
			ExpiresAt: now.AddDate(0, 0, csphub.GrantDefaultDays), UpdatedAt: now, Version: 1}
		if err := tx.InsertGrant(g); err != nil {
			return link, nil, nil, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "delegated_admin_grant.create", ResourceType: grantResource, ResourceID: g.ID, After: g}); err != nil {
			return link, nil, nil, err
		}
		if err := tx.Emit(actor, grantEvent("grant.created", g)); err != nil {
			return link, nil, nil, err
		}
		made = append(made, g)
	}
	return link, rels, made, nil
}

// notifyCustomerPartners emails the reseller and the provider about a
// customer's change.
func (s *Service) notifyCustomerPartners(tx *store.Tx, customer, providerID, resellerID, change, partner string) error {
	provider, err := tx.Organization(providerID, providerID)
	if err != nil {
		return err
	}
	reseller, err := tx.Organization(resellerID, resellerID)
	if err != nil {
		return err
	}
	for _, side := range []string{providerID, resellerID} {
		to, ok, err := partnershipContact(tx, side, "")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, err := cmail.Enqueue(tx, side, cmail.CustomerRelationshipStatus{To: to, Customer: customer, Reseller: reseller.Name,
			Provider: provider.Name, Change: change, Partner: partner, Link: s.opts.BaseURL + "/partner/customers"}); err != nil {
			return err
		}
	}
	return nil
}

// DeclineCustomerInvitation: the customer declines. The link is the proof:
// whoever received it may decline without an account.
func (s *Service) DeclineCustomerInvitation(ctx context.Context, actor csphub.Actor, token string) (CustomerInvitationView, error) {
	return write(ctx, s, func(tx *store.Tx) (CustomerInvitationView, error) {
		v, err := customerInvitationByToken(tx, token, true)
		if err != nil {
			return CustomerInvitationView{}, err
		}
		if err := customerInvitationOpen(v, tx.Now()); err != nil {
			return CustomerInvitationView{}, err
		}
		if actor.Kind == "" {
			// An anonymous answer is recorded for the reseller.
			actor = csphub.System(csphub.RequestID(ctx))
			actor.OrgID = v.ResellerID
		}
		view, err := s.moveCustomerInvitation(tx, actor, v, csphub.CustomerInvitationDeclined, "")
		if err != nil {
			return CustomerInvitationView{}, err
		}
		name := v.CompanyName
		if name == "" {
			name = v.Email
		}
		return view, s.notifyCustomerPartners(tx, name, v.ProviderID, v.ResellerID, "declined", "")
	})
}

// ExpireCustomerInvitations ends the pending invitations past their expiry
// (the background job, driven by the injected clock); it returns how many.
func (s *Service) ExpireCustomerInvitations(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := write(ctx, s, func(tx *store.Tx) (int, error) {
			due, err := tx.DueCustomerInvitations(tx.Now(), expiryBatch)
			if err != nil {
				return 0, err
			}
			for _, v := range due {
				sys := csphub.System(csphub.RequestID(ctx))
				sys.OrgID = v.ResellerID
				if _, err := s.moveCustomerInvitation(tx, sys, v, csphub.CustomerInvitationExpired, ""); err != nil {
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

// CreateCustomer: a provider's admin agent creates a customer organization
// for one of its active resellers, with the customer's first global admin,
// who receives a link to choose a password.
func (s *Service) CreateCustomer(ctx context.Context, actor csphub.Actor, in CreateCustomerInput) (CustomerAcceptance, error) {
	var fields []csphub.FieldError
	resellerID := strings.TrimSpace(in.ResellerID)
	if !csphub.ValidID(resellerID) {
		fields = append(fields, csphub.FieldError{Field: "reseller_id", Code: "required", Message: "must name one of your indirect resellers"})
	}
	name := strings.TrimSpace(in.OrgName)
	if name == "" || utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "\r\n\x00") {
		fields = append(fields, csphub.FieldError{Field: "organization_name", Code: "invalid_name", Message: "must be 1 to 200 characters on one line"})
	}
	if !ValidCountry(in.Country) {
		fields = append(fields, csphub.FieldError{Field: "country", Code: "invalid_country", Message: "must be an ISO 3166-1 alpha-2 country code like FR or US"})
	}
	domain := strings.ToLower(strings.TrimSpace(in.Domain))
	if !domainShape.MatchString(domain) || len(domain) > 253 {
		fields = append(fields, csphub.FieldError{Field: "domain", Code: "invalid_domain", Message: "must be a domain name like contoso.com"})
	}
	adminName := strings.TrimSpace(in.AdminName)
	if fe := checkUserName("admin_name", adminName); fe != nil {
		fields = append(fields, *fe)
	}
	email, fe := checkEmail("admin_email", in.AdminEmail)
	if fe != nil {
		fields = append(fields, *fe)
	}
	lang := in.Lang
	if lang == "" {
		lang = "en"
	}
	if fe := checkLang(lang); fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		return CustomerAcceptance{}, csphub.Invalid(fields...)
	}
	token, hash, err := newSecret("")
	if err != nil {
		return CustomerAcceptance{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (CustomerAcceptance, error) {
		provider, err := customerAgent(tx, actor, csphub.RoleGlobalAdmin, csphub.RoleAdminAgent)
		if err != nil {
			return CustomerAcceptance{}, err
		}
		if _, err := activeProviderOf(tx, resellerID, provider.ID); err != nil {
			return CustomerAcceptance{}, csphub.Errorf(csphub.KindUnprocessable, "relationship_not_active",
				"your organization has no active relationship with this indirect reseller")
		}
		region, countries, err := s.customerCountries(tx, csphub.CustomerInvitation{ResellerID: resellerID, ProviderID: provider.ID})
		if err != nil {
			return CustomerAcceptance{}, err
		}
		if !slices.Contains(countries, in.Country) {
			return CustomerAcceptance{}, customerOutsideRegion(in.Country, region)
		}
		now := tx.Now()
		customer := csphub.Organization{ID: csphub.NewID(), Kind: csphub.OrgCustomer, Name: name, Country: in.Country, Domain: domain, CreatedAt: now}
		if err := tx.InsertOrganization(customer); err != nil {
			return CustomerAcceptance{}, err
		}
		u := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: customer.ID, Email: email, Name: adminName, Lang: lang,
			Status: csphub.UserActive, Roles: []string{csphub.RoleGlobalAdmin}, CreatedAt: now}, OrgKind: csphub.OrgCustomer}
		if err := tx.InsertUser(u); err != nil {
			return CustomerAcceptance{}, err
		}
		inv := store.UserInvitation{ID: csphub.NewID(), TokenHash: hash, OrgID: customer.ID, UserID: u.ID, Email: email,
			InvitedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(invitationLifetime)}
		if err := tx.InsertUserInvitation(inv); err != nil {
			return CustomerAcceptance{}, err
		}
		inviter, _, err := senderName(tx, actor, provider)
		if err != nil {
			return CustomerAcceptance{}, err
		}
		if _, err := cmail.Enqueue(tx, customer.ID, cmail.UserInvitation{
			To: cmail.Recipient{Address: email, Name: adminName, Lang: cmail.Lang(lang)}, Organization: customer.Name,
			InvitedBy: inviter, Link: s.opts.BaseURL + "/user-invitations/" + token, ExpiresAt: inv.ExpiresAt,
		}); err != nil {
			return CustomerAcceptance{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer.create", ResourceType: "organization", ResourceID: customer.ID,
			After: customer}); err != nil {
			return CustomerAcceptance{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.invite", ResourceType: "user", ResourceID: u.ID,
			After: invitationAudit{User: viewOfRecord(u), InvitationID: inv.ID, ExpiresAt: inv.ExpiresAt}}); err != nil {
			return CustomerAcceptance{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "customer.created", Subject: customer.ID, Data: customer,
			Audience: []string{provider.ID, resellerID}}); err != nil {
			return CustomerAcceptance{}, err
		}
		link, rels, _, err := s.linkCustomer(tx, actor, customer, provider.ID, resellerID, "", nil)
		if err != nil {
			return CustomerAcceptance{}, err
		}
		out := CustomerAcceptance{Customer: customer, User: &u.User, Link: link, Relationships: rels, Grants: []csphub.Grant{}}
		return out, s.notifyCustomerPartners(tx, customer.Name, provider.ID, resellerID, "created", "")
	})
}

// customerViewer is who reads customers: the operator, or a partner.
type customerViewer struct {
	operator bool
	org      csphub.Organization
}

func customerReader(tx *store.Tx, actor csphub.Actor) (customerViewer, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return customerViewer{}, errCustomerDelegated
	}
	if actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken || !csphub.ValidID(actor.OrgID) {
		return customerViewer{}, errPartnershipPartner
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if err != nil {
		return customerViewer{}, err
	}
	switch org.Kind {
	case csphub.OrgOperator:
		return customerViewer{operator: true, org: org}, nil
	case csphub.OrgPartner:
		return customerViewer{org: org}, nil
	}
	return customerViewer{}, csphub.Errorf(csphub.KindForbidden, "partner_required", "only partners and the operator list customers")
}

// customerPageToken encodes the keyset of a customer list.
func customerPageToken(k store.CustomerKeyset, sort store.CustomerSort) string {
	if sort == store.CustomersByDate {
		return encodeKeyset(store.Keyset{At: k.At, ID: k.ID})
	}
	return encodeNameKeyset(k.Name, k.ID)
}

// ListCustomers is "View customers": exactly the customers the caller may
// see, one keyset page at a time.
func (s *Service) ListCustomers(ctx context.Context, actor csphub.Actor, q CustomerQuery) (CustomerPage, error) {
	var fields []csphub.FieldError
	sort := store.CustomerSort(q.Sort)
	if sort == "" {
		sort = store.CustomersByName
	}
	if sort != store.CustomersByName && sort != store.CustomersByDate {
		fields = append(fields, csphub.FieldError{Field: "sort", Code: "invalid_sort", Message: "must be name or created"})
	}
	var after *store.CustomerKeyset
	if q.PageToken != "" {
		if sort == store.CustomersByDate {
			k, err := decodeKeyset(q.PageToken)
			if err != nil {
				fields = append(fields, csphub.AsError(err).Fields...)
			} else {
				after = &store.CustomerKeyset{At: k.At, ID: k.ID}
			}
		} else {
			name, id, err := decodeNameKeyset(q.PageToken)
			if err != nil {
				fields = append(fields, csphub.AsError(err).Fields...)
			} else {
				after = &store.CustomerKeyset{Name: name, ID: id}
			}
		}
	}
	prefix := strings.TrimSpace(q.Q)
	if utf8.RuneCountInString(prefix) > maxPartnershipQuery || !utf8.ValidString(prefix) || strings.ContainsRune(prefix, 0) {
		fields = append(fields, csphub.FieldError{Field: "q", Code: "too_long", Message: fmt.Sprintf("must be at most %d characters of text", maxPartnershipQuery)})
	}
	providerID, resellerID := strings.TrimSpace(q.ProviderID), strings.TrimSpace(q.ResellerID)
	for _, f := range []struct{ name, v string }{{"provider_id", providerID}, {"reseller_id", resellerID}} {
		if f.v != "" && !csphub.ValidID(f.v) {
			fields = append(fields, csphub.FieldError{Field: f.name, Code: "invalid_id", Message: "must be an organization id"})
		}
	}
	if len(fields) > 0 {
		return CustomerPage{}, csphub.Invalid(fields...)
	}
	size := pageSize(q.PageSize)
	return read(ctx, s, func(tx *store.Tx) (CustomerPage, error) {
		viewer, err := customerReader(tx, actor)
		if err != nil {
			return CustomerPage{}, err
		}
		f := store.CustomerFilter{Prefix: prefix, Sort: sort}
		switch {
		case viewer.operator && providerID != "" && resellerID != "":
			f.PartnerID, f.Other, f.Provider = providerID, resellerID, true
		case viewer.operator && providerID != "":
			f.PartnerID = providerID
		case viewer.operator && resellerID != "":
			f.PartnerID = resellerID
		case viewer.operator:
			f.Operator = true
		case providerID != "" && resellerID != "":
			return CustomerPage{}, csphub.Invalid(csphub.FieldError{Field: "provider_id", Code: "one_filter",
				Message: "give provider_id (as a reseller) or reseller_id (as a provider), not both"})
		case resellerID != "":
			f.PartnerID, f.Other, f.Provider = viewer.org.ID, resellerID, true
		case providerID != "":
			f.PartnerID, f.Other = viewer.org.ID, providerID
		default:
			f.PartnerID = viewer.org.ID
		}
		rows, err := tx.Customers(f, after, size+1)
		if err != nil {
			return CustomerPage{}, err
		}
		page := rows[:min(len(rows), size)]
		seer := viewer.org.ID
		if viewer.operator {
			seer = ""
		}
		if err := tx.CustomerPartners(page, seer); err != nil {
			return CustomerPage{}, err
		}
		out := CustomerPage{Items: make([]CustomerView, 0, len(page))}
		for _, r := range page {
			out.Items = append(out.Items, customerViewOf(r))
		}
		if len(rows) > size {
			last := page[size-1]
			out.NextPageToken = customerPageToken(store.CustomerKeyset{Name: last.NameKey, At: last.Since, ID: last.ID}, sort)
		}
		return out, nil
	})
}

func customerViewOf(r store.CustomerRow) CustomerView {
	v := CustomerView{Organization: r.Organization, Since: r.Since, Partners: make([]PartnerOfRecord, 0, len(r.Partners))}
	for _, p := range r.Partners {
		v.Partners = append(v.Partners, PartnerOfRecord{OrganizationID: p.OrgID, Name: p.Name, PartnerID: p.PartnerID, Role: p.Role,
			ResellerIDs: p.Resellers})
	}
	return v
}

// visibleCustomer reads a customer that the caller may see: its own
// organization, a customer it has a live relationship with, or any
// customer for the operator. Anything else is not found.
func visibleCustomer(tx *store.Tx, actor csphub.Actor, id string) (csphub.Organization, string, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, "", errCustomerDelegated
	}
	if !csphub.ValidID(id) || !csphub.ValidID(actor.OrgID) {
		return csphub.Organization{}, "", csphub.NotFound("customer")
	}
	if actor.OrgID == id && actor.OrgKind == csphub.OrgCustomer {
		org, err := tx.CustomerOrganization(id)
		return org, id, err
	}
	viewerOrg, err := tx.Organization(actor.OrgID, actor.OrgID)
	if err != nil {
		return csphub.Organization{}, "", err
	}
	switch viewerOrg.Kind {
	case csphub.OrgOperator:
		org, err := tx.CustomerOrganization(id)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return org, "", csphub.NotFound("customer")
		}
		return org, "", err
	case csphub.OrgPartner:
		ok, err := tx.CustomerVisible(viewerOrg.ID, id)
		if err != nil {
			return csphub.Organization{}, "", err
		}
		if !ok {
			return csphub.Organization{}, "", csphub.NotFound("customer")
		}
		org, err := tx.CustomerOrganization(id)
		return org, viewerOrg.ID, err
	}
	return csphub.Organization{}, "", csphub.NotFound("customer")
}

// GetCustomer reads one customer with its partners of record.
func (s *Service) GetCustomer(ctx context.Context, actor csphub.Actor, id string) (CustomerView, error) {
	return read(ctx, s, func(tx *store.Tx) (CustomerView, error) {
		org, seer, err := visibleCustomer(tx, actor, id)
		if err != nil {
			return CustomerView{}, err
		}
		if seer == org.ID {
			seer = "" // a customer sees all its partners
		}
		rows := []store.CustomerRow{{Organization: org, Since: org.CreatedAt}}
		if err := tx.CustomerPartners(rows, seer); err != nil {
			return CustomerView{}, err
		}
		return customerViewOf(rows[0]), nil
	})
}

// CustomerRelationships shows a customer's chain: its relationships and
// the links between its providers and resellers. The customer and the
// operator see all of it; a partner, its own relationship and the links it
// is a party to, with the relationships of the partners on those links.
func (s *Service) CustomerRelationships(ctx context.Context, actor csphub.Actor, id string) (CustomerChain, error) {
	return read(ctx, s, func(tx *store.Tx) (CustomerChain, error) {
		org, seer, err := visibleCustomer(tx, actor, id)
		if err != nil {
			return CustomerChain{}, err
		}
		if seer == org.ID {
			seer = ""
		}
		rels, err := tx.CustomerRelationshipsOf(org.ID)
		if err != nil {
			return CustomerChain{}, err
		}
		links, err := tx.CustomerLinksOf(org.ID)
		if err != nil {
			return CustomerChain{}, err
		}
		out := CustomerChain{Customer: org, Relationships: []CustomerRelationshipView{}, Links: []csphub.CustomerLink{}}
		visible := map[string]bool{seer: true}
		for _, l := range links {
			if seer == "" || l.ProviderID == seer || l.ResellerID == seer {
				out.Links = append(out.Links, l)
				visible[l.ProviderID], visible[l.ResellerID] = true, true
			}
		}
		for _, r := range rels {
			if seer == "" || visible[r.PartnerID] {
				out.Relationships = append(out.Relationships, CustomerRelationshipView{CustomerRelationship: r.CustomerRelationship,
					PartnerName: r.PartnerName, PartnerPartnerID: r.PartnerPartnerID})
			}
		}
		return out, nil
	})
}

// RemoveCustomerRelationship: a customer's global admin ends its
// relationship with a partner, and with it the links naming that partner
// and the delegated admin grants it gave the partner; the partner loses
// sight of the customer on its next request.
func (s *Service) RemoveCustomerRelationship(ctx context.Context, actor csphub.Actor, customerID, relationshipID string) (CustomerRelationshipView, error) {
	return write(ctx, s, func(tx *store.Tx) (CustomerRelationshipView, error) {
		if actor.OrgID != customerID || actor.OrgKind != csphub.OrgCustomer {
			// A partner, the operator or another customer: the customer's
			// relationships are not theirs to remove.
			if _, _, err := visibleCustomer(tx, actor, customerID); err != nil {
				return CustomerRelationshipView{}, err
			}
			return CustomerRelationshipView{}, errCustomerAdmin
		}
		customer, err := customerAdmin(tx, actor)
		if err != nil {
			return CustomerRelationshipView{}, err
		}
		if !csphub.ValidID(relationshipID) {
			return CustomerRelationshipView{}, csphub.NotFound("relationship")
		}
		r, err := tx.CustomerRelationshipForUpdate(customer.ID, relationshipID)
		if err != nil {
			return CustomerRelationshipView{}, err
		}
		if r.State != csphub.RelationshipActive {
			return CustomerRelationshipView{}, csphub.Conflict("relationship_removed", "this relationship was removed already")
		}
		if n, err := tx.ActiveSubscriptionsWith(customer.ID, r.PartnerID); err != nil {
			return CustomerRelationshipView{}, err
		} else if n > 0 {
			return CustomerRelationshipView{}, csphub.Conflict("active_subscriptions", fmt.Sprintf(
				"this partner still has %d active subscriptions of yours: they must be suspended or cancelled first", n))
		}
		before := r
		links, ok, err := tx.RemoveCustomerRelationship(r, actor.ID)
		if err != nil || !ok {
			return CustomerRelationshipView{}, orConflict(err, ok)
		}
		now := tx.Now()
		r.State, r.RemovedAt, r.RemovedBy, r.Version = csphub.RelationshipRemoved, utcPtr(now), actor.ID, r.Version+1
		partner, err := tx.Organization(r.PartnerID, r.PartnerID)
		if err != nil {
			return CustomerRelationshipView{}, err
		}
		pid, err := tx.PartnerIDOfOrganization(r.PartnerID)
		if err != nil {
			return CustomerRelationshipView{}, err
		}
		view := CustomerRelationshipView{CustomerRelationship: r, PartnerName: partner.Name, PartnerPartnerID: pid}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_relationship.remove", ResourceType: "customer_relationship",
			ResourceID: r.ID, Before: before, After: view}); err != nil {
			return CustomerRelationshipView{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "customer_relationship.removed", Subject: r.ID, Data: view,
			Audience: []string{customer.ID, r.PartnerID}}); err != nil {
			return CustomerRelationshipView{}, err
		}
		for _, l := range links {
			ended := l
			ended.State, ended.RemovedAt, ended.RemovedBy, ended.Version = csphub.RelationshipRemoved, utcPtr(now), actor.ID, l.Version+1
			if err := tx.Audit(actor, csphub.AuditEntry{Action: "customer_link.remove", ResourceType: "customer_link", ResourceID: l.ID,
				Before: l, After: ended}); err != nil {
				return CustomerRelationshipView{}, err
			}
			if err := tx.Emit(actor, csphub.EventEntry{Type: "customer_link.removed", Subject: l.ID, Data: ended,
				Audience: []string{customer.ID, l.ProviderID, l.ResellerID}}); err != nil {
				return CustomerRelationshipView{}, err
			}
			if err := s.notifyCustomerPartners(tx, customer.Name, l.ProviderID, l.ResellerID, "removed", partner.Name); err != nil {
				return CustomerRelationshipView{}, err
			}
		}
		n, err := tx.TerminateGrantsBetween(customer.ID, r.PartnerID, actor.ID)
		if err != nil {
			return CustomerRelationshipView{}, err
		}
		if n > 0 {
			ending := map[string]any{"grantor_id": customer.ID, "grantee_id": r.PartnerID, "grants_terminated": n}
			if err := tx.Audit(actor, csphub.AuditEntry{Action: "delegated_admin_grant.terminate", ResourceType: grantResource,
				ResourceID: r.ID, After: ending}); err != nil {
				return CustomerRelationshipView{}, err
			}
			if err := tx.Emit(actor, csphub.EventEntry{Type: "grant.terminated", Subject: r.ID, Data: ending,
				Audience: []string{customer.ID, r.PartnerID}}); err != nil {
				return CustomerRelationshipView{}, err
			}
		}
		return view, nil
	})
}
