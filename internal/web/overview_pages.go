package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Overviews is what the operator's overview needs of the service; the
// partner's overview is Enrollments' PartnerOverview.
type Overviews interface {
	ProgramOverview(ctx context.Context, actor csphub.Actor) (service.ProgramOverview, error)
}

// The overviews: the partner's figures and recent activity, shown on its
// CSP overview (/partner, enrollment_partner.go), and the operator's home
// (/operator): the program's figures, the head of the review queue and
// the providers of each region.
const (
	pageOperatorOverview = "operator_overview"
	operatorOverviewPath = "/operator"
)

var overviewPageNames = []string{pageOperatorOverview}

func (h *Handler) registerOverviewPages(mux *http.ServeMux) {
	mux.Handle("GET "+operatorOverviewPath, h.page(h.operatorOverview))
}

// overviewFigure is one number of an overview, with what it counts and,
// when a page lists those things, the link to it.
type overviewFigure struct {
	Label string
	Value int
	URL   string
}

// partnerFiguresOf lists the partner's figures for the roles that apply:
// a provider's, then a reseller's, then those of either, each once.
func partnerFiguresOf(l *i18n.Localizer, f *service.PartnerFigures) []overviewFigure {
	if f == nil {
		return nil
	}
	var out []overviewFigure
	add := func(key string, n int, link string) {
		out = append(out, overviewFigure{Label: l.T(key), Value: n, URL: link})
	}
	if f.Provider {
		add("overview.figures.active_resellers", f.ActiveResellers, indirectResellersPath+"?state="+string(csphub.PartnershipActive))
		add("overview.figures.open_partner_invitations", f.OpenPartnerInvitations, indirectResellersPath+"?state="+string(csphub.PartnershipInvited))
	}
	if f.Reseller {
		add("overview.figures.active_providers", f.ActiveProviders, indirectProvidersPath+"?state="+string(csphub.PartnershipActive))
		add("overview.figures.pending_customer_invitations", f.PendingCustomerInvitations,
			customerInvitationsPath+"?state="+string(csphub.CustomerInvitationPending))
	}
	add("overview.figures.customers", f.Customers, partnerCustomersPath)
	add("overview.figures.active_subscriptions", f.ActiveSubscriptions, subscriptionsPath+"?status="+string(csphub.SubscriptionActive))
	if f.Provider {
		add("overview.figures.recent_orders", f.RecentOrders, ordersPath)
	}
	return out
}

// activityRow is one audit record as the overview lists it.
type activityRow struct {
	At   time.Time
	Who  string
	What string
}

// actionShape is the shape of an action code that may name a catalog key.
var actionShape = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

// actionLabel names an action: its own message, else its area's with the
// code, else the code alone.
func actionLabel(l *i18n.Localizer, action string) string {
	if !actionShape.MatchString(action) {
		return l.T("overview.activity.other", "code", action)
	}
	if key := "overview.activity.action." + action; l.Has(key) {
		return l.T(key)
	}
	area, _, _ := strings.Cut(action, ".")
	if key := "overview.activity.area." + area; l.Has(key) {
		return l.T("overview.activity.in_area", "area", l.T(key), "code", action)
	}
	return l.T("overview.activity.other", "code", action)
}

// actorLabel names who made a change: a user by name and email, a token
// by name, csphub itself; a partner acting through a grant with its
// organization.
func actorLabel(l *i18n.Localizer, r service.ActivityRecord) string {
	var who string
	switch {
	case r.ActorKind == csphub.ActorUser && r.ActorName != "":
		who = l.T("overview.activity.actor.user", "name", r.ActorName, "email", r.ActorEmail)
	case r.ActorKind == csphub.ActorUser:
		who = l.T("overview.activity.actor.former_user")
	case r.ActorKind == csphub.ActorToken && r.ActorName != "":
		who = l.T("overview.activity.actor.token", "name", r.ActorName)
	case r.ActorKind == csphub.ActorToken:
		who = l.T("overview.activity.actor.former_token")
	default:
		who = l.T("overview.activity.actor.system")
	}
	if r.Delegated && r.ActorOrganization != "" {
		return l.T("overview.activity.actor.delegated", "actor", who, "organization", r.ActorOrganization)
	}
	return who
}

func activityRowsOf(l *i18n.Localizer, a *service.RecentActivity) []activityRow {
	if a == nil {
		return nil
	}
	rows := make([]activityRow, 0, len(a.Records))
	for _, r := range a.Records {
		rows = append(rows, activityRow{At: r.At, Who: actorLabel(l, r), What: actionLabel(l, r.Action)})
	}
	return rows
}

// --- the operator's overview ---

type regionProviders struct {
	Name      string
	Providers []providerLink
}

type providerLink struct {
	Name      string
	PartnerID string
	URL       string // "" when the reader may not open the provider's page
}

type operatorOverviewPage struct {
	Nav     programNav
	Figures []overviewFigure
	// Queue is nil for a reader who does not review applications.
	Queue *queueHead
	// Regions lists every region with its providers.
	Regions []regionProviders
}

type queueHead struct {
	Open, Overdue int
	Rows          []queueRow
	// More: the queue holds more than the rows shown.
	More    bool
	FullURL string
}

func (h *Handler) operatorOverview(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	o, err := h.svc.ProgramOverview(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	l := h.localizer(r)
	f := o.Figures
	page := operatorOverviewPage{Nav: programNav{Current: "overview"}}
	add := func(key string, n int, link string) {
		page.Figures = append(page.Figures, overviewFigure{Label: l.T(key), Value: n, URL: link})
	}
	// The review queue lists both programs' applications, so a count of
	// one program links nowhere: the queue's own section below links to it
	// (for those who may read it).
	add("overview.program.partners_enrolling", f.PartnersEnrolling, "")
	add("overview.program.partners_approved", f.PartnersApproved, "")
	add("overview.program.providers_applying", f.ProvidersApplying, "")
	add("overview.program.providers_approved", f.ProvidersApproved, "#regions-heading")
	add("overview.program.active_providers", f.ActiveProviders, "")
	add("overview.program.active_resellers", f.ActiveResellers, "")
	add("overview.program.customers", f.Customers, "")
	add("overview.program.active_subscriptions", f.ActiveSubscriptions, subscriptionsPath+"?status="+string(csphub.SubscriptionActive))
	add("overview.program.recent_orders", f.RecentOrders, ordersPath)
	if q := o.Queue; q != nil {
		head := &queueHead{Open: q.Open, Overdue: q.Overdue, More: q.Open > len(q.Items), FullURL: queueURL("", "", "")}
		for _, it := range q.Items {
			head.Rows = append(head.Rows, queueRowOf(l, it))
		}
		page.Queue = head
	}
	// The provider pages are for the operator's admins and reviewers.
	canOpen := v.reviewsApplications()
	for _, rp := range o.Regions {
		row := regionProviders{Name: regionName(l, rp.Region.Code, rp.Region.Name)}
		for _, p := range rp.Providers {
			link := providerLink{Name: p.Name, PartnerID: p.PartnerID}
			if canOpen {
				link.URL = operatorProvidersPath + url.PathEscape(p.OrganizationID)
			}
			row.Providers = append(row.Providers, link)
		}
		page.Regions = append(page.Regions, row)
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageOperatorOverview, "operator", page)
}
