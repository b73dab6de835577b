package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"csphub"
	"csphub/internal/store"
)

// Delegated admin grants (after Microsoft's GDAP). A grant lets users of
// the grantee organization act inside the grantor organization with the
// listed roles only, until it ends. Grants are created when a reseller
// accepts a provider's partnership invitation (partnerships.go), or
// requested here by a partner of the grantor and approved by the grantor's
// global admin; here they are read, terminated, expired or extended, and
// turned into the actor of a delegated request.
//
// The rules:
//   - a grant is seen by the global admins and admin agents of both its
//     organizations (users or API tokens), never through a grant; anyone
//     else gets 404;
//   - a partner's global admin or admin agent requests a grant (pending)
//     from an organization it has a relationship with: a reseller it is
//     the active indirect provider of, or a customer with an active
//     relationship with it; only the grantor's global admin approves it,
//     and the grant then lasts its duration from the approval;
//   - only the grantor terminates a grant, at any time, without ending the
//     relationship it came with (terminating a pending request declines
//     it);
//   - an active grant past its expiry is extended by 180 days when it
//     auto-extends (and its relationship still lives), and expires
//     otherwise; a pending grant expires after 90 days;
//   - a delegated actor is worked out afresh on every request, so that a
//     termination, an expiry or the end of the relationship stops the very
//     next request.

// GrantView is a grant with the names of both organizations.
type GrantView struct {
	csphub.Grant
	GrantorName string `json:"grantor_name" doc:"The organization acted in"`
	GranteeName string `json:"grantee_name" doc:"The organization whose users act"`
}

// GrantPage is one page of grants, newest first.
type GrantPage struct {
	Items         []GrantView `json:"items"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// Directions of a list of grants.
const (
	GrantsGiven    = string(store.GrantsGiven)
	GrantsReceived = string(store.GrantsReceived)
)

// grantResource names grants in audit records.
const grantResource = "delegated_admin_grant"

var (
	errGrantAdmin = csphub.Errorf(csphub.KindForbidden, "admin_required",
		"only a global admin or admin agent can see and end delegated admin grants")
	errGrantThroughGrant = csphub.Errorf(csphub.KindForbidden, "delegated_access_not_allowed",
		"delegated admin grants are managed by the organization's own admins, not through a delegated admin grant")
	errGrantorOnly = csphub.Errorf(csphub.KindForbidden, "grantor_only",
		"only the organization that gave a grant can terminate it")
	errGrantEnded   = csphub.Conflict("grant_ended", "this grant has already ended")
	errNoDelegation = csphub.NotFound("organization")

	errGrantApprover = csphub.Errorf(csphub.KindForbidden, "global_admin_required",
		"only a global admin of the organization asked for the grant approves it, signed in as themselves")
	errGrantNotPending     = csphub.Conflict("grant_not_pending", "only a pending grant request is approved; this grant is not pending")
	errGrantRequestExpired = csphub.Conflict("grant_request_expired",
		"this grant request is more than 90 days old and has expired; the partner may request again")
)

// RequestGrantInput is a partner's request for a delegated admin grant.
type RequestGrantInput struct {
	GrantorID    string   `json:"grantor_id" maxLength:"36" doc:"The organization whose users would be administered: a reseller whose active indirect provider you are, or a customer with an active relationship with you"`
	Roles        []string `json:"roles" minItems:"1" maxItems:"10" doc:"The roles asked for, roles of the grantor's kind of organization (partner or customer)"`
	DurationDays int      `json:"duration_days,omitempty" doc:"How long the grant lasts once approved, in days: 1 to 730 (2 years, the default when 0 or absent)"`
	AutoExtend   bool     `json:"auto_extend,omitempty" doc:"Extend the grant by 180 days each time it reaches its expiry"`
}

func viewOfGrant(r store.GrantRow) GrantView {
	return GrantView{Grant: r.Grant, GrantorName: r.GrantorName, GranteeName: r.GranteeName}
}

// grantAdmin checks that actor may read and manage its organization's
// grants: a user or token of its own organization (never through a grant)
// with global_admin or admin_agent.
func grantAdmin(actor csphub.Actor) error {
	switch {
	case actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID:
		return errGrantThroughGrant
	case actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken, !csphub.ValidID(actor.OrgID):
		return errGrantAdmin
	case !actor.HasRole(csphub.RoleGlobalAdmin) && !actor.HasRole(csphub.RoleAdminAgent):
		return errGrantAdmin
	}
	return nil
}

// ListGrants lists the grants the actor's organization gave (direction
// "given": it is the grantor) or received ("received": its users act in
// the grantor), newest first, in keyset pages.
func (s *Service) ListGrants(ctx context.Context, actor csphub.Actor, direction, pageToken string, pageSize int) (GrantPage, error) {
	if err := grantAdmin(actor); err != nil {
		return GrantPage{}, err
	}
	dir := store.GrantDirection(direction)
	if dir != store.GrantsGiven && dir != store.GrantsReceived {
		return GrantPage{}, csphub.Invalid(csphub.FieldError{Field: "direction", Code: "invalid_direction", Message: "must be given or received"})
	}
	after, err := decodeKeyset(pageToken)
	if err != nil {
		return GrantPage{}, err
	}
	switch {
	case pageSize <= 0:
		pageSize = 50
	case pageSize > 500:
		pageSize = 500
	}
	return read(ctx, s, func(tx *store.Tx) (GrantPage, error) {
		rows, err := tx.Grants(actor.OrgID, dir, after, pageSize+1)
		if err != nil {
			return GrantPage{}, err
		}
		p := GrantPage{Items: make([]GrantView, 0, len(rows))}
		for _, r := range rows {
			p.Items = append(p.Items, viewOfGrant(r))
		}
		if len(p.Items) > pageSize {
			p.Items = p.Items[:pageSize]
			last := p.Items[pageSize-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// GetGrant shows one grant to either of its organizations.
func (s *Service) GetGrant(ctx context.Context, actor csphub.Actor, id string) (GrantView, error) {
	if err := grantAdmin(actor); err != nil {
		return GrantView{}, err
	}
	if !csphub.ValidID(id) {
		return GrantView{}, csphub.NotFound("grant")
	}
	return read(ctx, s, func(tx *store.Tx) (GrantView, error) {
		r, err := tx.GrantOf(actor.OrgID, id, false)
		return viewOfGrant(r), err
	})
}

// TerminateGrant ends a pending or active grant at once: the grantee's
// next delegated request is refused. Only the grantor's global admins and
// admin agents do it, never through a grant; the relationship the grant
// came with goes on.
func (s *Service) TerminateGrant(ctx context.Context, actor csphub.Actor, id string) (GrantView, error) {
	if err := grantAdmin(actor); err != nil {
		return GrantView{}, err
	}
	if !csphub.ValidID(id) {
		return GrantView{}, csphub.NotFound("grant")
	}
	return write(ctx, s, func(tx *store.Tx) (GrantView, error) {
		r, err := tx.GrantOf(actor.OrgID, id, true)
		if err != nil {
			return GrantView{}, err
		}
		if r.GrantorID != actor.OrgID {
			return GrantView{}, errGrantorOnly
		}
		if r.State != csphub.GrantActive && r.State != csphub.GrantPending {
			return GrantView{}, errGrantEnded
		}
		before := r.Grant
		now := tx.Now()
		r.State, r.EndedAt, r.EndedBy, r.UpdatedAt = csphub.GrantTerminated, &now, actor.ID, now
		if err := s.saveGrant(tx, &r.Grant, before); err != nil {
			return GrantView{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "grant.terminate", ResourceType: grantResource, ResourceID: r.ID,
			Before: before, After: r.Grant}); err != nil {
			return GrantView{}, err
		}
		if err := tx.Emit(actor, grantEvent("grant.terminated", r.Grant)); err != nil {
			return GrantView{}, err
		}
		// Names come from the unlocked read.
		full, err := tx.GrantOf(actor.OrgID, id, false)
		return viewOfGrant(full), err
	})
}

// checkGrantRequest validates what needs no database: the grantor's id,
// the duration (0 is the default), and that roles are listed.
func checkGrantRequest(in RequestGrantInput) (string, int, []csphub.FieldError) {
	var fields []csphub.FieldError
	grantor := strings.TrimSpace(in.GrantorID)
	if !csphub.ValidID(grantor) {
		fields = append(fields, csphub.FieldError{Field: "grantor_id", Code: "invalid_id", Message: "must be the id of an organization"})
	}
	days := in.DurationDays
	switch {
	case days == 0:
		days = csphub.GrantDefaultDays
	case days < csphub.GrantMinDays || days > csphub.GrantMaxDays:
		fields = append(fields, csphub.FieldError{Field: "duration_days", Code: "out_of_range",
			Message: fmt.Sprintf("must be from %d day to %d days (2 years)", csphub.GrantMinDays, csphub.GrantMaxDays)})
	}
	if len(in.Roles) == 0 {
		fields = append(fields, csphub.FieldError{Field: "roles", Code: "required", Message: "list at least one role"})
	}
	return grantor, days, fields
}

// grantRequestRoles checks that every role asked for exists in the
// grantor's kind of organization, and returns them in csphub.RolesOf order.
func grantRequestRoles(kind csphub.OrgKind, roles []string) ([]string, error) {
	asked := map[string]bool{}
	var fields []csphub.FieldError
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if !csphub.ValidRole(kind, r) {
			fields = append(fields, csphub.FieldError{Field: "roles", Code: "invalid_role",
				Message: fmt.Sprintf("there is no role %q in a %s organization; its roles are %s", r, kind, strings.Join(csphub.RolesOf(kind), ", "))})
			continue
		}
		asked[r] = true
	}
	if len(fields) > 0 {
		return nil, csphub.Invalid(fields...)
	}
	var out []string
	for _, r := range csphub.RolesOf(kind) {
		if asked[r] {
			out = append(out, r)
		}
	}
	return out, nil
}

// grantAuditBoth audits a change of a grant in the actor's organization's
// log and, by the system, in the other organization's.
func grantAuditBoth(tx *store.Tx, actor csphub.Actor, g csphub.Grant, e csphub.AuditEntry) error {
	if err := tx.Audit(actor, e); err != nil {
		return err
	}
	other := csphub.System(actor.RequestID)
	other.OrgID = g.GrantorID
	if actor.TenantID() == g.GrantorID {
		other.OrgID = g.GranteeID
	}
	return tx.Audit(other, e)
}

// RequestGrant: a partner's global admin or admin agent asks another
// organization for a delegated admin grant, which stays pending until the
// grantor's global admin approves it (or terminates it: declined), and
// expires unanswered after 90 days. The grantor must be a reseller whose
// active indirect provider the partner is (the grant then comes with that
// relationship, and ends with it), or a customer with an active
// relationship with the partner; any other organization, existing or not,
// answers 404. The roles must exist in the grantor's kind; one request at
// a time between two organizations.
func (s *Service) RequestGrant(ctx context.Context, actor csphub.Actor, in RequestGrantInput) (GrantView, error) {
	if err := grantAdmin(actor); err != nil {
		return GrantView{}, err
	}
	grantorID, days, fields := checkGrantRequest(in)
	if len(fields) > 0 {
		return GrantView{}, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (GrantView, error) {
		own, err := tx.Organization(actor.OrgID, actor.OrgID)
		if err != nil {
			return GrantView{}, err
		}
		if own.Kind != csphub.OrgPartner {
			return GrantView{}, csphub.Errorf(csphub.KindForbidden, "partner_required", "only partner organizations request delegated admin grants")
		}
		if grantorID == own.ID {
			return GrantView{}, csphub.Errorf(csphub.KindUnprocessable, "own_organization", "your users already act in your own organization")
		}
		grantor, err := tx.Organization(grantorID, grantorID)
		if err != nil {
			return GrantView{}, err
		}
		var partnershipID string
		switch grantor.Kind {
		case csphub.OrgPartner:
			id, ok, err := tx.ActivePartnershipID(own.ID, grantor.ID)
			if err != nil {
				return GrantView{}, err
			}
			if !ok {
				return GrantView{}, errNoDelegation
			}
			partnershipID = id
		case csphub.OrgCustomer:
			ok, err := tx.CustomerVisible(own.ID, grantor.ID)
			if err != nil {
				return GrantView{}, err
			}
			if !ok {
				return GrantView{}, errNoDelegation
			}
		default:
			return GrantView{}, errNoDelegation
		}
		roles, err := grantRequestRoles(grantor.Kind, in.Roles)
		if err != nil {
			return GrantView{}, err
		}
		pending, err := tx.PendingGrantExists(grantor.ID, own.ID)
		if err != nil {
			return GrantView{}, err
		}
		if pending {
			return GrantView{}, csphub.Conflict("grant_request_exists",
				"your organization already waits for this organization's answer to a grant request; wait for it, or have it declined")
		}
		now := tx.Now()
		g := csphub.Grant{ID: csphub.NewID(), GrantorID: grantor.ID, GranteeID: own.ID, PartnershipID: partnershipID, Roles: roles,
			State: csphub.GrantPending, DurationDays: days, AutoExtend: in.AutoExtend, CreatedAt: now,
			ExpiresAt: now.AddDate(0, 0, csphub.GrantPendingDays), UpdatedAt: now, Version: 1}
		if err := tx.InsertGrant(g); err != nil {
			return GrantView{}, err
		}
		if err := grantAuditBoth(tx, actor, g, csphub.AuditEntry{Action: "grant.request", ResourceType: grantResource, ResourceID: g.ID, After: g}); err != nil {
			return GrantView{}, err
		}
		if err := tx.Emit(actor, grantEvent("grant.requested", g)); err != nil {
			return GrantView{}, err
		}
		return GrantView{Grant: g, GrantorName: grantor.Name, GranteeName: own.Name}, nil
	})
}

// ApproveGrant: the grantor's global admin approves a pending grant
// request, signed in as themselves (not with an API token, never through a
// grant). The grant becomes active at once and lasts its duration from
// now. A request past its 90 days, or whose relationship is no longer
// active, is refused.
func (s *Service) ApproveGrant(ctx context.Context, actor csphub.Actor, id string) (GrantView, error) {
	if err := grantAdmin(actor); err != nil {
		return GrantView{}, err
	}
	if !csphub.ValidID(id) {
		return GrantView{}, csphub.NotFound("grant")
	}
	return write(ctx, s, func(tx *store.Tx) (GrantView, error) {
		r, err := tx.GrantOf(actor.OrgID, id, true)
		if err != nil {
			return GrantView{}, err
		}
		if r.GrantorID != actor.OrgID {
			return GrantView{}, csphub.Errorf(csphub.KindForbidden, "grantor_only", "only the organization asked for a grant approves it")
		}
		if actor.Kind != csphub.ActorUser || !actor.HasRole(csphub.RoleGlobalAdmin) {
			return GrantView{}, errGrantApprover
		}
		now := tx.Now()
		switch {
		case r.State == csphub.GrantTerminated || r.State == csphub.GrantExpired:
			return GrantView{}, errGrantEnded
		case r.State != csphub.GrantPending:
			return GrantView{}, errGrantNotPending
		case !r.ExpiresAt.After(now) || !r.CreatedAt.After(now.AddDate(0, 0, -csphub.GrantPendingDays)):
			return GrantView{}, errGrantRequestExpired
		}
		if r.PartnershipID != "" {
			st, err := tx.PartnershipStateOf(r.PartnershipID)
			if err != nil {
				return GrantView{}, err
			}
			if st != csphub.PartnershipActive {
				return GrantView{}, csphub.Conflict("partnership_not_active",
					"the relationship this request came with is "+string(st)+": a grant is approved only while it is active")
			}
		}
		before := r.Grant
		r.State, r.ActivatedAt, r.ExpiresAt, r.UpdatedAt = csphub.GrantActive, &now, now.AddDate(0, 0, r.DurationDays), now
		if err := s.saveGrant(tx, &r.Grant, before); err != nil {
			return GrantView{}, err
		}
		if err := grantAuditBoth(tx, actor, r.Grant, csphub.AuditEntry{Action: "grant.approve", ResourceType: grantResource, ResourceID: r.ID,
			Before: before, After: r.Grant}); err != nil {
			return GrantView{}, err
		}
		if err := tx.Emit(actor, grantEvent("grant.approved", r.Grant)); err != nil {
			return GrantView{}, err
		}
		full, err := tx.GrantOf(actor.OrgID, id, false)
		return viewOfGrant(full), err
	})
}

// maxPendingGrantRequests bounds the list of pending requests pages show.
const maxPendingGrantRequests = 100

// PendingGrantRequests lists, newest first, the pending grant requests the
// actor's organization was asked for (direction "given": it would be the
// grantor) or made (direction "received"), at most 100.
func (s *Service) PendingGrantRequests(ctx context.Context, actor csphub.Actor, direction string) ([]GrantView, error) {
	if err := grantAdmin(actor); err != nil {
		return nil, err
	}
	dir := store.GrantDirection(direction)
	if dir != store.GrantsGiven && dir != store.GrantsReceived {
		return nil, csphub.Invalid(csphub.FieldError{Field: "direction", Code: "invalid_direction", Message: "must be given or received"})
	}
	return read(ctx, s, func(tx *store.Tx) ([]GrantView, error) {
		rows, err := tx.PendingGrants(actor.OrgID, dir, maxPendingGrantRequests)
		if err != nil {
			return nil, err
		}
		out := make([]GrantView, 0, len(rows))
		for _, r := range rows {
			out = append(out, viewOfGrant(r))
		}
		return out, nil
	})
}

// saveGrant writes g (changed from before) if nobody changed it meanwhile.
func (s *Service) saveGrant(tx *store.Tx, g *csphub.Grant, before csphub.Grant) error {
	ok, err := tx.SaveGrant(*g, before.Version)
	if err != nil {
		return err
	}
	if !ok {
		return csphub.Conflict("grant_changed", "the grant changed meanwhile; read it again and retry")
	}
	g.Version = before.Version + 1
	return nil
}

// grantEvent is an event about a grant, for both its organizations.
func grantEvent(typ string, g csphub.Grant) csphub.EventEntry {
	return csphub.EventEntry{Type: typ, Subject: g.ID, Data: g, Audience: []string{g.GrantorID, g.GranteeID}}
}

// grantExpiryBatch bounds the grants one expiry transaction handles.
const grantExpiryBatch = 100

// ExpireGrants is the background job over grants, driven by the injected
// clock: an active grant past its expiry is extended by 180 days (as many
// times as it takes to reach the future) when it auto-extends and its
// relationship is active or suspended, and expires otherwise; a pending
// grant expires 90 days after its request (or at its expiry, if sooner).
// Each change is audited in both organizations' logs (by the system) and
// announced to both. It returns how many grants it changed.
func (s *Service) ExpireGrants(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := write2(ctx, s, func(tx *store.Tx) (int, bool, error) {
			now := tx.Now()
			due, err := tx.DueGrants(now, now.AddDate(0, 0, -csphub.GrantPendingDays), grantExpiryBatch)
			if err != nil {
				return 0, false, err
			}
			changed := 0
			for _, d := range due {
				ok, err := s.expireGrant(ctx, tx, d, now)
				if err != nil {
					return 0, false, err
				}
				if ok {
					changed++
				}
			}
			// A batch where nothing was due any more (changed meanwhile)
			// ends the run instead of looping on it.
			return changed, changed > 0 && len(due) > 0, nil
		})
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// write2 is write for a use case with two results.
func write2[A, B any](ctx context.Context, s *Service, fn func(tx *store.Tx) (A, B, error)) (A, B, error) {
	type pair struct {
		a A
		b B
	}
	p, err := write(ctx, s, func(tx *store.Tx) (pair, error) {
		a, b, err := fn(tx)
		return pair{a, b}, err
	})
	return p.a, p.b, err
}

// expireGrant applies the expiry rules to one locked grant; false when it
// is not due any more.
func (s *Service) expireGrant(ctx context.Context, tx *store.Tx, d store.DueGrant, now time.Time) (bool, error) {
	before := d.Grant
	g := d.Grant
	var action, event string
	switch {
	case g.State == csphub.GrantActive && !g.ExpiresAt.After(now) && g.AutoExtend && relationshipLives(d.PartnershipState):
		for !g.ExpiresAt.After(now) {
			g.ExpiresAt = g.ExpiresAt.AddDate(0, 0, csphub.GrantExtensionDays)
		}
		action, event = "grant.extend", "grant.extended"
	case g.State == csphub.GrantActive && !g.ExpiresAt.After(now),
		g.State == csphub.GrantPending && (!g.ExpiresAt.After(now) || !g.CreatedAt.After(now.AddDate(0, 0, -csphub.GrantPendingDays))):
		g.State, g.EndedAt = csphub.GrantExpired, &now
		action, event = "grant.expire", "grant.expired"
	default:
		return false, nil
	}
	g.UpdatedAt = now
	if err := s.saveGrant(tx, &g, before); err != nil {
		return false, err
	}
	// The system acts; each organization's log shows the change.
	for _, org := range []string{g.GrantorID, g.GranteeID} {
		sys := csphub.System(csphub.RequestID(ctx))
		sys.OrgID = org
		if err := tx.Audit(sys, csphub.AuditEntry{Action: action, ResourceType: grantResource, ResourceID: g.ID, Before: before, After: g}); err != nil {
			return false, err
		}
	}
	return true, tx.Emit(csphub.System(csphub.RequestID(ctx)), grantEvent(event, g))
}

// relationshipLives: a grant that came with no relationship, or with one
// that is active or suspended (it may be reactivated), may be extended.
func relationshipLives(state string) bool {
	switch csphub.PartnershipState(state) {
	case "", csphub.PartnershipActive, csphub.PartnershipSuspended:
		return true
	}
	return false
}

// DelegatedActor turns actor into the actor of a request made in
// organization orgID through a delegated admin grant (the On-Behalf-Of
// header). The actor's organization must hold an active, unexpired grant
// from orgID (an auto-extending grant past its expiry counts: the expiry
// job extends it) whose relationship, when it came with one, is active; the
// result acts in orgID (OnBehalfOf, so TenantID is orgID and audit records
// name both organizations) with the roles both the grant lists and the
// actor holds in its own organization; in a customer organization, whose
// roles no partner user holds, an admin agent of the grantee acts with
// every role the grant lists (GDAP: admin agents get the customer roles
// granted), anyone else still with those of the grant's roles they hold.
// Its OrgKind is the grantor's:
// use cases read OrgKind as the kind of the organization acted in (which
// roles exist there, whether it has a partner profile), while the MFA
// requirement, which follows the user's own organization, is checked here
// before anything else. It is worked out afresh on every request.
//
// Without such a grant the answer is 404 organization not found, whether
// or not the organization exists; with a grant but none of its roles, 403.
// Acting in one's own organization returns actor unchanged.
func (s *Service) DelegatedActor(ctx context.Context, actor csphub.Actor, orgID string) (csphub.Actor, error) {
	orgID = strings.TrimSpace(orgID)
	switch {
	case actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID:
		return csphub.Actor{}, csphub.Errorf(csphub.KindForbidden, "delegation_not_allowed", "a delegated actor cannot act through another grant")
	case actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken:
		return csphub.Actor{}, csphub.Errorf(csphub.KindForbidden, "delegation_not_allowed", "only users and API tokens act through a delegated admin grant")
	case !csphub.ValidID(actor.OrgID):
		return csphub.Actor{}, errNoDelegation
	case orgID == actor.OrgID:
		return actor, nil
	case !csphub.ValidID(orgID):
		return csphub.Actor{}, errNoDelegation
	case csphub.MFARequired(actor.OrgKind) && !actor.MFAPassed:
		return csphub.Actor{}, csphub.Errorf(csphub.KindForbidden, "mfa_required", "set up and pass multi-factor authentication first")
	}
	ds, err := read(ctx, s, func(tx *store.Tx) ([]store.Delegation, error) {
		return tx.Delegations(actor.OrgID, orgID, tx.Now())
	})
	if err != nil {
		return csphub.Actor{}, err
	}
	var kind csphub.OrgKind
	granted := map[string]bool{}
	usable := false
	for _, d := range ds {
		if d.PartnershipState != "" && d.PartnershipState != string(csphub.PartnershipActive) {
			continue
		}
		usable, kind = true, d.GrantorKind
		for _, r := range d.Roles {
			granted[r] = true
		}
	}
	if !usable {
		return csphub.Actor{}, errNoDelegation
	}
	// Admin agents administer customers with the roles the customer granted.
	agentOfCustomer := kind == csphub.OrgCustomer && actor.HasRole(csphub.RoleAdminAgent)
	var roles []string
	for _, r := range csphub.RolesOf(kind) {
		if granted[r] && (agentOfCustomer || actor.HasRole(r)) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return csphub.Actor{}, csphub.Errorf(csphub.KindForbidden, "no_granted_role",
			"your roles include none of the roles this organization granted yours")
	}
	delegated := actor
	delegated.OnBehalfOf, delegated.OrgKind, delegated.Roles = orgID, kind, slices.Clip(roles)
	return delegated, nil
}

// ActingIn returns the organization a delegated actor acts in; ok is false
// for an actor acting in its own organization.
func (s *Service) ActingIn(ctx context.Context, actor csphub.Actor) (org csphub.Organization, ok bool, err error) {
	if actor.OnBehalfOf == "" || actor.OnBehalfOf == actor.OrgID {
		return csphub.Organization{}, false, nil
	}
	org, err = read(ctx, s, func(tx *store.Tx) (csphub.Organization, error) {
		return tx.Organization(actor.OnBehalfOf, actor.OnBehalfOf)
	})
	return org, err == nil, err
}
