package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"csphub"
	"csphub/internal/service"
)

// Delegation is what the organization switcher and the grant requests
// need of the service.
type Delegation interface {
	ListGrants(ctx context.Context, actor csphub.Actor, direction, pageToken string, pageSize int) (service.GrantPage, error)
	PendingGrantRequests(ctx context.Context, actor csphub.Actor, direction string) ([]service.GrantView, error)
	ApproveGrant(ctx context.Context, actor csphub.Actor, id string) (service.GrantView, error)
	TerminateGrant(ctx context.Context, actor csphub.Actor, id string) (service.GrantView, error)
	DelegatedActor(ctx context.Context, actor csphub.Actor, orgID string) (csphub.Actor, error)
	ActingIn(ctx context.Context, actor csphub.Actor) (csphub.Organization, bool, error)
}

// The organization switcher: /partner/organizations lists the
// organizations whose active delegated admin grants the reader's
// organization received, and lets the reader act in one of them, or
// return to their own.
//
// The choice is a cookie holding only the organization's id. Every request
// that reads it turns the session's actor into a delegated one afresh
// (DelegatedActor), so that a terminated grant or relationship stops the
// very next page: the cookie is then dropped, and the page shows the
// reader's own organization with a notice.
//
// The pages follow the API, where only GET /api/v1/me and GET
// /api/v1/partner-profile work through a grant: the partner profile page
// alone shows the organization acted in (read-only, as the service refuses
// delegated writes). Every other page, while acting, shows the banner
// naming the organization acted in and keeps working on the reader's own
// organization, with the reader's own actor.
//
// The same page shows the pending delegated admin grant requests: those
// partners made to the reader's organization, which its global admin
// approves and its global admins and admin agents decline, and those the
// reader's organization made, waiting for an answer.
const (
	pagePartnerOrganizations  = "partner_organizations"
	partnerOrganizationsPath  = "/partner/organizations"
	delegationCookieName      = "csphub_acting_in"
	delegationListPageSize    = 50
	delegationCookieMaxLength = 64
)

var delegationPageNames = []string{pagePartnerOrganizations}

func (h *Handler) registerDelegationPages(mux *http.ServeMux) {
	mux.Handle("GET "+partnerOrganizationsPath, h.page(h.partnerOrganizations))
	mux.Handle("POST "+partnerOrganizationsPath+"/act", h.post(h.actInOrganization))
	mux.Handle("POST "+partnerOrganizationsPath+"/return", h.post(h.returnToOwnOrganization))
	mux.Handle("POST "+partnerOrganizationsPath+"/requests/{id}/approve", h.post(h.answerGrantRequest(true)))
	mux.Handle("POST "+partnerOrganizationsPath+"/requests/{id}/decline", h.post(h.answerGrantRequest(false)))
}

// delegationCookie names the cookie of the organization acted in; over
// HTTPS it takes the __Host- prefix, as the session cookie does.
func delegationCookie(secure bool) string {
	if secure {
		return "__Host-" + delegationCookieName
	}
	return delegationCookieName
}

func (h *Handler) setDelegationCookie(w http.ResponseWriter, orgID string) {
	c := &http.Cookie{
		Name:     delegationCookie(h.secure),
		Value:    orgID,
		Path:     "/",
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if orgID == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (h *Handler) clearDelegationCookie(w http.ResponseWriter) { h.setDelegationCookie(w, "") }

// delegation is where the request stands with the organization switcher.
type delegation struct {
	// Actor is the delegated actor, and Org the organization acted in,
	// when Acting.
	Acting bool
	Actor  csphub.Actor
	Org    csphub.Organization
	// Ended: the cookie named an organization the reader may no longer
	// act in; it has been dropped.
	Ended bool
}

type delegationKey struct{}

// resolveDelegation works out, once per request, the organization the
// cookie names, and returns the request carrying the answer. A cookie that
// no longer works is dropped.
func (h *Handler) resolveDelegation(w http.ResponseWriter, r *http.Request) (*http.Request, *delegation) {
	if d, ok := r.Context().Value(delegationKey{}).(*delegation); ok {
		return r, d
	}
	d := &delegation{}
	with := func() *http.Request { return r.WithContext(context.WithValue(r.Context(), delegationKey{}, d)) }
	v := viewerFrom(r.Context())
	if h.svc == nil || v == nil || v.me.User == nil || v.needsMFA() {
		return with(), d
	}
	ck, err := r.Cookie(delegationCookie(h.secure))
	if err != nil || ck.Value == "" {
		return with(), d
	}
	if len(ck.Value) > delegationCookieMaxLength || !csphub.ValidID(ck.Value) {
		h.clearDelegationCookie(w)
		d.Ended = true
		return with(), d
	}
	actor, err := h.svc.DelegatedActor(r.Context(), v.actor, ck.Value)
	if err == nil && (actor.OnBehalfOf == "" || actor.OnBehalfOf == actor.OrgID) {
		// The reader's own organization: nothing to act in.
		h.clearDelegationCookie(w)
		return with(), d
	}
	var org csphub.Organization
	if err == nil {
		org, _, err = h.svc.ActingIn(r.Context(), actor)
	}
	if err != nil {
		if k := csphub.ErrorKind(err); k != csphub.KindNotFound && k != csphub.KindForbidden {
			// A passing failure does not end the delegation: this request
			// runs in the user's own organization, the next one tries again.
			h.log.WarnContext(r.Context(), "web: the organization acted in", "err", err,
				"request_id", csphub.RequestID(r.Context()))
			return with(), d
		}
		h.clearDelegationCookie(w)
		d.Ended = true
		return with(), d
	}
	d.Acting, d.Actor, d.Org = true, actor, org
	return with(), d
}

// delegationFrom is the answer resolveDelegation left in the request.
func delegationFrom(ctx context.Context) *delegation {
	d, _ := ctx.Value(delegationKey{}).(*delegation)
	return d
}

// delegationBanner is what the layout shows: the organization acted in
// and the roles the reader holds there, or the notice that acting ended.
type delegationBanner struct {
	OrgName string
	Roles   string
	Ended   bool
}

// delegationBannerOf is the layout's banner for the request, nil when
// there is nothing to show.
func (h *Handler) delegationBannerOf(r *http.Request) *delegationBanner {
	d := delegationFrom(r.Context())
	switch {
	case d == nil:
		return nil
	case d.Acting:
		return &delegationBanner{OrgName: d.Org.Name, Roles: roleLabels(h.localizer(r), d.Actor.Roles)}
	case d.Ended:
		return &delegationBanner{Ended: true}
	}
	return nil
}

// --- the list ---

type organizationRow struct {
	OrgID     string
	Name      string
	Roles     string
	ExpiresAt time.Time
	Current   bool // the reader acts in it now
}

// grantRequestRow is a pending grant request: the other organization, the
// roles asked for, how long the grant would last and when the request
// expires, with the answers the reader may give.
type grantRequestRow struct {
	ID         string
	OrgName    string
	Roles      string
	Duration   string
	AutoExtend bool
	Requested  time.Time
	Expires    time.Time
	ApproveURL string
	DeclineURL string
}

type partnerOrganizationsPage struct {
	Nav  programNav
	Rows []organizationRow
	// Requests were made to the reader's organization; Waiting, by it;
	// Answer holds a refused answer to a request.
	Requests  []grantRequestRow
	Waiting   []grantRequestRow
	Answer    formState
	Done      string
	Form      formState // a refused choice
	First     string
	PageToken string
	NextURL   string
}

func (h *Handler) partnerOrganizations(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	pageToken := r.URL.Query().Get("page_token")
	h.renderOrganizations(w, r, v, http.StatusOK, pageToken, formState{}, doneOf(r, "returned", "approved", "declined"))
}

func (h *Handler) renderOrganizations(w http.ResponseWriter, r *http.Request, v *viewer, status int, pageToken string, form formState, done string) {
	h.renderOrganizationsPage(w, r, v, status, pageToken, form, done, formState{})
}

// renderOrganizationsPage shows the organizations one may act in and the
// pending grant requests; form holds a refused choice of organization,
// answer a refused answer to a request.
func (h *Handler) renderOrganizationsPage(w http.ResponseWriter, r *http.Request, v *viewer, status int, pageToken string, form formState, done string, answer formState) {
	r, d := h.resolveDelegation(w, r)
	res, err := h.svc.ListGrants(r.Context(), v.actor, service.GrantsReceived, pageToken, delegationListPageSize)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	l := h.localizer(r)
	page := partnerOrganizationsPage{Nav: programNav{Current: "organizations"}, Done: done, Form: form, Answer: answer,
		First: partnerOrganizationsPath, PageToken: pageToken}
	if res.NextPageToken != "" {
		page.NextURL = partnerOrganizationsPath + "?page_token=" + url.QueryEscape(res.NextPageToken)
	}
	// One row per organization, even when it gave several grants.
	seen := map[string]int{}
	var roles [][]string
	for _, g := range res.Items {
		if g.State != csphub.GrantActive {
			continue
		}
		i, ok := seen[g.GrantorID]
		if !ok {
			i = len(page.Rows)
			seen[g.GrantorID] = i
			roles = append(roles, nil)
			page.Rows = append(page.Rows, organizationRow{OrgID: g.GrantorID, Name: g.GrantorName,
				Current: d.Acting && d.Org.ID == g.GrantorID})
		}
		row := &page.Rows[i]
		for _, role := range g.Roles {
			if !slices.Contains(roles[i], role) {
				roles[i] = append(roles[i], role)
			}
		}
		if g.ExpiresAt.After(row.ExpiresAt) {
			row.ExpiresAt = g.ExpiresAt
		}
	}
	for i := range page.Rows {
		page.Rows[i].Roles = roleLabels(l, roles[i])
	}
	if !h.fillGrantRequests(w, r, v, &page) {
		return
	}
	noStore(w)
	h.render(w, r, status, pagePartnerOrganizations, "partner", page)
}

// fillGrantRequests reads the pending grant requests of both directions
// into the page; false when it already answered with an error.
func (h *Handler) fillGrantRequests(w http.ResponseWriter, r *http.Request, v *viewer, page *partnerOrganizationsPage) bool {
	l := h.localizer(r)
	asked, err := h.svc.PendingGrantRequests(r.Context(), v.actor, service.GrantsGiven)
	if err != nil {
		h.programFail(w, r, err)
		return false
	}
	made, err := h.svc.PendingGrantRequests(r.Context(), v.actor, service.GrantsReceived)
	if err != nil {
		h.programFail(w, r, err)
		return false
	}
	row := func(g service.GrantView, other string) grantRequestRow {
		return grantRequestRow{ID: g.ID, OrgName: other, Roles: roleLabels(l, g.Roles), AutoExtend: g.AutoExtend,
			Duration: l.T("delegation.requests.duration", "count", g.DurationDays), Requested: g.CreatedAt, Expires: g.ExpiresAt}
	}
	approver := v.hasAnyRole(csphub.RoleGlobalAdmin)
	decliner := v.hasAnyRole(csphub.RoleGlobalAdmin, csphub.RoleAdminAgent)
	for _, g := range asked {
		rr := row(g, g.GranteeName)
		base := partnerOrganizationsPath + "/requests/" + url.PathEscape(g.ID)
		if approver {
			rr.ApproveURL = base + "/approve"
		}
		if decliner {
			rr.DeclineURL = base + "/decline"
		}
		page.Requests = append(page.Requests, rr)
	}
	for _, g := range made {
		page.Waiting = append(page.Waiting, row(g, g.GrantorName))
	}
	return true
}

// answerGrantRequest approves (the grantor's global admin) or declines a
// pending grant request made to the reader's organization.
func (h *Handler) answerGrantRequest(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := h.partnerGuard(w, r)
		if !ok || !h.parseForm(w, r) {
			return
		}
		id := r.PathValue("id")
		var err error
		done := "approved"
		if approve {
			_, err = h.svc.ApproveGrant(r.Context(), v.actor, id)
		} else {
			done = "declined"
			_, err = h.svc.TerminateGrant(r.Context(), v.actor, id)
		}
		if err == nil {
			redirect(w, r, partnerOrganizationsPath+"?done="+done)
			return
		}
		e := csphub.AsError(err)
		if e == nil || e.Kind == csphub.KindNotFound {
			if e == nil {
				h.fail(w, r, err)
			} else {
				h.renderError(w, r, http.StatusNotFound)
			}
			return
		}
		l := h.localizer(r)
		status := http.StatusConflict
		if e.Kind == csphub.KindForbidden {
			status = http.StatusForbidden
		}
		key := "delegation.requests.error." + e.Code
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a refusal", "code", e.Code, "kind", string(e.Kind),
				"request_id", csphub.RequestID(r.Context()))
			key = "delegation.requests.error.refused"
		}
		h.renderOrganizationsRefused(w, r, v, status, l.T(key))
	}
}

// renderOrganizationsRefused shows the page with a refused answer.
func (h *Handler) renderOrganizationsRefused(w http.ResponseWriter, r *http.Request, v *viewer, status int, problem string) {
	h.renderOrganizationsPage(w, r, v, status, "", formState{}, "", formState{Problem: problem})
}

// actInOrganization starts acting in the organization the form names,
// when the reader may: the cookie is set only after the service agreed.
func (h *Handler) actInOrganization(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	org := strings.TrimSpace(r.PostForm.Get("org"))
	actor, err := h.svc.DelegatedActor(r.Context(), v.actor, org)
	if err != nil {
		l := h.localizer(r)
		var form formState
		status := http.StatusForbidden
		switch e := csphub.AsError(err); {
		case e == nil:
			h.fail(w, r, err)
			return
		case e.Kind == csphub.KindNotFound:
			form.Problem, status = l.T("delegation.error.not_granted"), http.StatusNotFound
		case e.Kind == csphub.KindForbidden && e.Code == "no_granted_role":
			form.Problem = l.T("delegation.error.no_granted_role")
		case e.Kind == csphub.KindForbidden:
			form.Problem = l.T("delegation.error.not_allowed")
		default:
			h.programFail(w, r, err)
			return
		}
		h.renderOrganizations(w, r, v, status, "", form, "")
		return
	}
	if actor.OnBehalfOf == "" || actor.OnBehalfOf == actor.OrgID {
		h.clearDelegationCookie(w)
		redirect(w, r, partnerOrganizationsPath+"?done=returned")
		return
	}
	h.setDelegationCookie(w, actor.OnBehalfOf)
	redirect(w, r, "/partner/profile")
}

// returnToOwnOrganization stops acting in another organization.
func (h *Handler) returnToOwnOrganization(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireSession(w, r); !ok {
		return
	}
	h.clearDelegationCookie(w)
	redirect(w, r, partnerOrganizationsPath+"?done=returned")
}

// profileViewer is the viewer the partner profile page reads with: the
// delegated one while the reader acts in another organization, so that
// the page shows that organization's profile (read-only: a delegated
// viewer holds no role the edit form asks for).
func (h *Handler) profileViewer(w http.ResponseWriter, r *http.Request, v *viewer) (*http.Request, *viewer) {
	r, d := h.resolveDelegation(w, r)
	if !d.Acting {
		return r, v
	}
	dv := *v
	dv.actor = d.Actor
	return r, &dv
}
