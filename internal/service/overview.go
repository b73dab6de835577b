package service

import (
	"context"
	"time"

	"csphub"
	"csphub/internal/store"
)

// The overviews answer "where do I stand and what do I do next": the
// partner's figures and recent activity on its CSP overview, and the
// program's figures, the review queue's head and the providers of each
// region on the operator's.

const (
	// recentOrderDays is how far back "orders in the last days" counts.
	recentOrderDays = 30
	// activityRecords is how many audit records the partner overview shows.
	activityRecords = 8
	// overviewQueueRows is how many applications the operator overview
	// shows of the review queue, due first.
	overviewQueueRows = 5
)

// PartnerFigures are a partner's numbers on its overview. Provider says
// the organization is an approved indirect provider, Reseller that it
// works as an indirect reseller: an approved reseller membership and, for
// a provider (which is also an approved reseller), at least one active
// provider of its own. The counts of a role that does not apply are
// counted all the same (zero, mostly) and not shown.
type PartnerFigures struct {
	Provider bool `json:"provider" doc:"The indirect provider figures apply"`
	Reseller bool `json:"reseller" doc:"The indirect reseller figures apply"`
	// As a provider.
	ActiveResellers        int `json:"active_resellers" doc:"Relationships with indirect resellers that are active"`
	OpenPartnerInvitations int `json:"open_partner_invitations" doc:"Invitations of resellers waiting for an answer and not expired"`
	RecentOrders           int `json:"recent_orders" doc:"Orders placed as provider since orders_since"`
	// As a reseller.
	ActiveProviders            int `json:"active_providers" doc:"Relationships with indirect providers that are active"`
	PendingCustomerInvitations int `json:"pending_customer_invitations" doc:"Customer invitations waiting for an answer and not expired"`
	// Either.
	Customers           int       `json:"customers" doc:"Customers with a live relationship with the organization, each counted once"`
	ActiveSubscriptions int       `json:"active_subscriptions" doc:"Active subscriptions naming the organization as provider or reseller of record"`
	OrdersSince         time.Time `json:"orders_since" doc:"30 days before now"`
}

// RecentActivity is an organization's latest audit records, newest first.
type RecentActivity struct {
	Records []ActivityRecord `json:"records"`
}

// ActivityRecord is one audit record as the overview shows it: what was
// done, when, and by whom.
type ActivityRecord struct {
	ID           string           `json:"id"`
	Action       string           `json:"action"`
	ResourceType string           `json:"resource_type"`
	ResourceID   string           `json:"resource_id"`
	At           time.Time        `json:"at"`
	ActorKind    csphub.ActorKind `json:"actor_kind"`
	ActorName    string           `json:"actor_name,omitempty" doc:"The user's or API token's name; empty for csphub itself and for an actor since deleted"`
	ActorEmail   string           `json:"actor_email,omitempty"`
	// Delegated: a partner's user or token made the change inside this
	// organization, through a delegated admin grant; ActorOrganization
	// names that partner.
	Delegated         bool   `json:"delegated"`
	ActorOrganization string `json:"actor_organization,omitempty"`
}

// auditReader: the roles that read an organization's audit log.
func auditReader(actor csphub.Actor) bool {
	return actor.HasRole(csphub.RoleGlobalAdmin) || actor.HasRole(csphub.RoleAccountAdmin) || actor.HasRole(csphub.RoleOperatorAdmin)
}

// partnerFigures counts the partner's figures inside the overview's
// transaction, once one of its memberships is approved (list holds its
// applications); before that there is nothing to count.
func (s *Service) partnerFigures(tx *store.Tx, orgID string, list []csphub.Enrollment) (*PartnerFigures, error) {
	var provider, reseller bool
	for _, e := range list {
		if e.State != csphub.EnrollmentApproved {
			continue
		}
		provider = provider || e.Program == csphub.ProgramIndirectProvider
		reseller = reseller || e.Program == csphub.ProgramIndirectReseller
	}
	if !provider && !reseller {
		return nil, nil
	}
	now := tx.Now()
	since := now.AddDate(0, 0, -recentOrderDays)
	c, err := tx.PartnerCounts(orgID, now, since)
	if err != nil {
		return nil, err
	}
	return &PartnerFigures{Provider: provider, Reseller: reseller && (!provider || c.ActiveProviders > 0),
		ActiveResellers: c.ActiveResellers, OpenPartnerInvitations: c.OpenPartnerInvitations, RecentOrders: c.OrdersSince,
		ActiveProviders: c.ActiveProviders, PendingCustomerInvitations: c.PendingCustomerInvitations,
		Customers: c.Customers, ActiveSubscriptions: c.ActiveSubscriptions, OrdersSince: since}, nil
}

// recentActivity reads the organization's latest audit records and names
// their actors, in two queries.
func (s *Service) recentActivity(tx *store.Tx, orgID string) (*RecentActivity, error) {
	recs, err := tx.RecentAuditRecords(orgID, "", activityRecords)
	if err != nil {
		return nil, err
	}
	actors, err := tx.AuditActors(orgID, recs)
	if err != nil {
		return nil, err
	}
	out := &RecentActivity{Records: make([]ActivityRecord, 0, len(recs))}
	for _, r := range recs {
		a := ActivityRecord{ID: r.ID, Action: r.Action, ResourceType: r.ResourceType, ResourceID: r.ResourceID, At: r.At,
			ActorKind: r.ActorKind, Delegated: r.ActorOrgID != orgID}
		if who, ok := actors[string(r.ActorKind)+"/"+r.ActorID]; ok && who.OrgID == r.ActorOrgID {
			a.ActorName, a.ActorEmail = who.Name, who.Email
			if a.Delegated {
				a.ActorOrganization = who.OrgName
			}
		}
		out.Records = append(out.Records, a)
	}
	return out, nil
}

// ProgramOverview is the operator's home: the program in figures, the
// head of the review queue and the providers of each region.
type ProgramOverview struct {
	Figures ProgramFigures `json:"figures"`
	// Queue is the review queue's open applications, for reviewers; nil
	// for the operator's other users.
	Queue   *QueueSummary     `json:"queue,omitempty"`
	Regions []RegionProviders `json:"regions"`
}

// ProgramFigures count the whole program.
type ProgramFigures struct {
	PartnersEnrolling   int       `json:"partners_enrolling" doc:"Indirect reseller applications still open"`
	PartnersApproved    int       `json:"partners_approved" doc:"Approved indirect reseller memberships"`
	ProvidersApplying   int       `json:"providers_applying" doc:"Indirect provider applications still open"`
	ProvidersApproved   int       `json:"providers_approved" doc:"Approved indirect provider memberships"`
	ActiveProviders     int       `json:"active_providers" doc:"Indirect providers with at least one active reseller relationship"`
	ActiveResellers     int       `json:"active_resellers" doc:"Indirect resellers with at least one active provider relationship"`
	Customers           int       `json:"customers" doc:"Customer organizations"`
	ActiveSubscriptions int       `json:"active_subscriptions"`
	RecentOrders        int       `json:"recent_orders" doc:"Orders placed since orders_since"`
	OrdersSince         time.Time `json:"orders_since" doc:"30 days before now"`
}

// QueueSummary is the head of the review queue: how many applications are
// open and overdue, and the first of them, due first (so the overdue
// lead).
type QueueSummary struct {
	Open    int               `json:"open"`
	Overdue int               `json:"overdue"`
	Items   []ReviewQueueItem `json:"items"`
}

// RegionProviders is a region with the approved providers authorized for
// it, by name.
type RegionProviders struct {
	Region    csphub.Region `json:"region"`
	Providers []ProviderRef `json:"providers"`
}

// ProviderRef names an indirect provider.
type ProviderRef struct {
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	PartnerID      string `json:"partner_id"`
}

// ProgramOverview reads the operator's overview. Every operator role may
// (it is where the operator lands); the review queue's head is for those
// who see the queue.
func (s *Service) ProgramOverview(ctx context.Context, actor csphub.Actor) (ProgramOverview, error) {
	return read(ctx, s, func(tx *store.Tx) (ProgramOverview, error) {
		var o ProgramOverview
		if err := requireOperatorRole(tx, actor, csphub.RoleOperatorAdmin, csphub.RoleVerificationReviewer, csphub.RoleCatalogManager); err != nil {
			return o, err
		}
		now := tx.Now()
		since := now.AddDate(0, 0, -recentOrderDays)
		c, err := tx.ProgramCounts(now, since)
		if err != nil {
			return o, err
		}
		o.Figures = ProgramFigures{PartnersEnrolling: c.PartnersEnrolling, PartnersApproved: c.PartnersApproved,
			ProvidersApplying: c.ProvidersApplying, ProvidersApproved: c.ProvidersApproved, ActiveProviders: c.ActiveProviders,
			ActiveResellers: c.ActiveResellers, Customers: c.Customers, ActiveSubscriptions: c.ActiveSubscriptions,
			RecentOrders: c.OrdersSince, OrdersSince: since}
		// The same roles as the review queue's (the actor is the operator's).
		if reviewsApplications(actor) {
			rows, err := tx.ReviewQueue(nil, "", nil, overviewQueueRows)
			if err != nil {
				return o, err
			}
			o.Queue = &QueueSummary{Open: c.QueueOpen, Overdue: c.QueueOverdue, Items: reviewQueueItems(rows, now)}
		}
		regions, err := tx.Regions()
		if err != nil {
			return o, err
		}
		providers, err := tx.ProvidersByRegion()
		if err != nil {
			return o, err
		}
		byRegion := map[string][]ProviderRef{}
		for _, p := range providers {
			byRegion[p.RegionCode] = append(byRegion[p.RegionCode], ProviderRef{OrganizationID: p.OrgID, Name: p.Name, PartnerID: p.PartnerID})
		}
		o.Regions = make([]RegionProviders, 0, len(regions))
		for _, r := range regions {
			list := byRegion[r.Code]
			if list == nil {
				list = []ProviderRef{}
			}
			o.Regions = append(o.Regions, RegionProviders{Region: r, Providers: list})
		}
		return o, nil
	})
}
