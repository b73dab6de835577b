package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// The two sides of a provider–reseller relationship, each with its page:
// the provider's Indirect resellers (/partner/indirect-resellers) with the
// invitation form and the provider's actions (cancel an invitation,
// suspend, reactivate, terminate), and the reseller's Indirect providers
// (/partner/indirect-providers) with its own (terminate). Terminating asks
// for a reason on a page of its own, which is the confirmation.

type partnershipSide int

const (
	providerSide partnershipSide = iota // the provider's view of its resellers
	resellerSide                        // the reseller's view of its providers
)

func (s partnershipSide) base() string {
	if s == providerSide {
		return indirectResellersPath
	}
	return indirectProvidersPath
}

func (s partnershipSide) page() string {
	if s == providerSide {
		return pageIndirectResellers
	}
	return pageIndirectProviders
}

func (s partnershipSide) nav() string {
	if s == providerSide {
		return "indirect_resellers"
	}
	return "indirect_providers"
}

// states are the states the side's list can be filtered by: a reseller
// only sees relationships it accepted.
func (s partnershipSide) states() []csphub.PartnershipState {
	if s == providerSide {
		return []csphub.PartnershipState{csphub.PartnershipInvited, csphub.PartnershipActive, csphub.PartnershipSuspended,
			csphub.PartnershipTerminated, csphub.PartnershipDeclined, csphub.PartnershipExpired, csphub.PartnershipCancelled}
	}
	return []csphub.PartnershipState{csphub.PartnershipActive, csphub.PartnershipSuspended, csphub.PartnershipTerminated}
}

// done are the notices the side's list shows after an action.
func (s partnershipSide) done() []string {
	if s == providerSide {
		return []string{"invited", "cancel", "suspend", "reactivate", "terminated"}
	}
	return []string{"authorized", "terminated"}
}

// maxPartnershipSearch bounds the search box; names are at most 200
// characters.
const maxPartnershipSearch = 200

type partnershipRow struct {
	ID string
	// Name and PartnerID are the other party's; an invitation nobody
	// accepted yet has no name, and shows the address it was sent to.
	Name      string
	PartnerID string
	Email     string
	State     csphub.PartnershipState
	StateText string
	// Since is when the relationship began: accepted, else invited.
	Since time.Time
	// Expires is an open invitation's end; Ended, with Reason, a finished
	// relationship's.
	Expires    time.Time
	Ended      time.Time
	Reason     string
	RegionName string
	// GrantText is the delegated admin grant's state, on the reseller's
	// side.
	GrantText string
	// The actions the reader may take on the row; empty when not offered.
	CancelURL     string
	SuspendURL    string
	ReactivateURL string
	TerminateURL  string
	// On the reseller's side, for an active provider: its customers
	// shared with the reseller, and the invitation of new ones.
	CustomersURL       string
	InviteCustomersURL string
}

type partnershipStateChoice struct {
	Value    csphub.PartnershipState
	Label    string
	Selected bool
}

// terminateView is the confirmation of a termination, with its reason.
type terminateView struct {
	Row     partnershipRow
	Action  string
	Back    string
	Form    formState
	Allowed bool // the relationship is active or suspended
}

type partnershipsPage struct {
	Nav       programNav
	Rows      []partnershipRow
	Q         string
	State     string
	States    []partnershipStateChoice
	First     string // the first page with the same filters
	PageToken string
	NextURL   string
	// Filtered: a filter is set, so an empty list says "nothing matches".
	Filtered bool
	// CanManage: the reader holds a role that invites and changes
	// relationships.
	CanManage bool
	// Actions holds the refusal of a row's action.
	Actions   formState
	Form      formState // the invitation form, on the provider's side
	Languages []string
	// GrantRoles are the invitation form's role boxes: the delegated
	// admin roles an invitation may ask for.
	GrantRoles []roleOption
	Done       string
	// Terminate, when set, replaces the list with the confirmation of a
	// termination.
	Terminate *terminateView
}

// partnershipListURL is a side's list with its filters and, if any, a page.
func partnershipListURL(base, q, state, page string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if state != "" {
		v.Set("state", state)
	}
	if page != "" {
		v.Set("page", page)
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// rowOf shows a relationship from the reader's organization's side.
func (h *Handler) rowOf(l *i18n.Localizer, v *viewer, side partnershipSide, p service.PartnershipView) partnershipRow {
	row := partnershipRow{ID: p.ID, State: p.State, StateText: partnershipStateLabel(l, p.State), Since: p.InvitedAt, Reason: p.EndedReason}
	if p.AcceptedAt != nil {
		row.Since = *p.AcceptedAt
	}
	if side == providerSide {
		row.Name, row.PartnerID = p.ResellerName, p.ResellerPartnerID
		if row.PartnerID == "" {
			row.PartnerID = p.InvitedPartnerID
		}
		if p.ResellerID == "" {
			row.Email = p.InvitedEmail
		}
	} else {
		row.Name, row.PartnerID = p.ProviderName, p.ProviderPartnerID
		row.GrantText = grantStateLabel(l, p.Grant)
		if p.State == csphub.PartnershipActive {
			q := "?provider_id=" + url.QueryEscape(p.ProviderID)
			row.CustomersURL = partnerCustomersPath + q
			if v.hasAnyRole(customerInviters...) {
				row.InviteCustomersURL = customerInvitationsPath + "/new" + q
			}
		}
	}
	if p.Region != "" {
		row.RegionName = regionName(l, p.Region, "")
	}
	switch p.State {
	case csphub.PartnershipInvited:
		row.Expires = p.ExpiresAt
	case csphub.PartnershipTerminated, csphub.PartnershipDeclined, csphub.PartnershipExpired, csphub.PartnershipCancelled:
		row.Ended = p.UpdatedAt
		if p.EndedAt != nil {
			row.Ended = *p.EndedAt
		}
	}
	if v.hasAnyRole(partnershipManagers...) {
		base := side.base() + "/" + url.PathEscape(p.ID)
		if side == providerSide {
			switch p.State {
			case csphub.PartnershipInvited:
				row.CancelURL = base + "/cancel"
			case csphub.PartnershipActive:
				row.SuspendURL = base + "/suspend"
			case csphub.PartnershipSuspended:
				row.ReactivateURL = base + "/reactivate"
			}
		}
		if csphub.CanMovePartnership(p.State, csphub.PartnershipTerminated) {
			row.TerminateURL = base + "/terminate"
		}
	}
	return row
}

func (h *Handler) indirectResellers(w http.ResponseWriter, r *http.Request) {
	h.partnershipList(w, r, providerSide)
}

func (h *Handler) indirectProviders(w http.ResponseWriter, r *http.Request) {
	h.partnershipList(w, r, resellerSide)
}

func (h *Handler) partnershipList(w http.ResponseWriter, r *http.Request, side partnershipSide) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	state := q.Get("state")
	if utf8.RuneCountInString(search) > maxPartnershipSearch || state != "" && !slices.Contains(side.states(), csphub.PartnershipState(state)) {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	page := h.partnershipsPage(l, v, side)
	page.Q, page.State, page.Done = search, state, doneOf(r, side.done()...)
	h.renderPartnerships(w, r, v, side, http.StatusOK, page, pageTokenOf(r))
}

// partnershipsPage is a side's page before its list is read.
func (h *Handler) partnershipsPage(l *i18n.Localizer, v *viewer, side partnershipSide) partnershipsPage {
	return partnershipsPage{Nav: programNav{Current: side.nav()}, CanManage: v.hasAnyRole(partnershipManagers...),
		Languages: h.languageTags(), Form: formState{Values: map[string]string{"lang": l.Lang()}},
		GrantRoles: roleOptions(l, service.PartnershipGrantableRoles(), []string{csphub.RoleAdminAgent})}
}

// renderPartnerships reads one page of the side's list, with the page's
// filters, and shows it.
func (h *Handler) renderPartnerships(w http.ResponseWriter, r *http.Request, v *viewer, side partnershipSide, status int, page partnershipsPage, pageToken string) {
	l := h.localizer(r)
	query := service.PartnershipQuery{Q: page.Q, State: page.State, PageToken: pageToken, PageSize: h.settingsPageSize}
	list := h.svc.ListIndirectResellers
	if side == resellerSide {
		list = h.svc.ListIndirectProviders
	}
	res, err := list(r.Context(), v.actor, query)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page.PageToken = pageToken
	page.First = partnershipListURL(side.base(), page.Q, page.State, "")
	page.Filtered = page.Q != "" || page.State != ""
	for _, s := range side.states() {
		page.States = append(page.States, partnershipStateChoice{Value: s, Label: partnershipStateLabel(l, s), Selected: string(s) == page.State})
	}
	for _, p := range res.Items {
		page.Rows = append(page.Rows, h.rowOf(l, v, side, p))
	}
	if res.NextPageToken != "" {
		page.NextURL = partnershipListURL(side.base(), page.Q, page.State, res.NextPageToken)
	}
	noStore(w)
	h.render(w, r, status, side.page(), "partner", page)
}

// invitePartnerFields is the order of the invitation form's fields.
var invitePartnerFields = []string{"email", "partner_id", "grant_roles", "lang"}

// partnerIDRefusals are the refusals of an invitation that concern the
// partner ID it names.
var partnerIDRefusals = []string{"region_not_authorized", "own_invitation"}

func (h *Handler) invitePartner(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	in := service.InvitePartnerInput{Email: strings.TrimSpace(f.Get("email")), PartnerID: strings.TrimSpace(f.Get("partner_id")),
		Lang: f.Get("lang"), GrantRoles: f["grant_roles"]}
	_, err := h.svc.InvitePartner(r.Context(), v.actor, in)
	if err == nil {
		redirect(w, r, indirectResellersPath+"?done=invited")
		return
	}
	page := h.partnershipsPage(l, v, providerSide)
	page.Form = formState{Values: map[string]string{"email": in.Email, "partner_id": in.PartnerID, "lang": in.Lang}}
	page.GrantRoles = roleOptions(l, service.PartnershipGrantableRoles(), in.GrantRoles)
	status := http.StatusUnprocessableEntity
	e := csphub.AsError(err)
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.partnershipFieldErrors(r, l, &page.Form, e.Fields, invitePartnerFields)
	default:
		msg, st, ok := h.partnershipRefusal(w, r, l, err, "invite")
		if !ok {
			h.programFail(w, r, err)
			return
		}
		status = st
		if in.PartnerID != "" && e != nil && slices.Contains(partnerIDRefusals, e.Code) {
			// A refusal about the partner ID named goes next to it.
			page.Form.fieldError("partner_id", msg)
		} else {
			page.Form.Problem = msg
		}
	}
	h.renderPartnerships(w, r, v, providerSide, status, page, "")
}

// partnershipAction runs one of the provider's one-step actions on a row:
// cancel an invitation, suspend, reactivate.
func (h *Handler) partnershipAction(side partnershipSide, action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := h.partnerGuard(w, r)
		if !ok || !h.parseForm(w, r) {
			return
		}
		id := r.PathValue("id")
		var err error
		switch action {
		case "cancel":
			_, err = h.svc.CancelInvitation(r.Context(), v.actor, id)
		case "suspend":
			_, err = h.svc.SuspendPartnership(r.Context(), v.actor, id, service.PartnershipChange{})
		case "reactivate":
			_, err = h.svc.ReactivatePartnership(r.Context(), v.actor, id)
		}
		if err == nil {
			redirect(w, r, side.base()+"?done="+action)
			return
		}
		h.actionRefused(w, r, v, side, err)
	}
}

// actionRefused shows the side's list again with why an action was
// refused; an absent relationship is the 404 page.
func (h *Handler) actionRefused(w http.ResponseWriter, r *http.Request, v *viewer, side partnershipSide, err error) {
	l := h.localizer(r)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		h.renderError(w, r, http.StatusNotFound)
		return
	}
	msg, status, ok := h.partnershipRefusal(w, r, l, err, "change")
	if !ok {
		h.programFail(w, r, err)
		return
	}
	page := h.partnershipsPage(l, v, side)
	page.Actions.Problem = msg
	h.renderPartnerships(w, r, v, side, status, page, "")
}

// sideRelationship reads the relationship of the path for a side's page:
// the reader's organization must be that side of it.
func (h *Handler) sideRelationship(w http.ResponseWriter, r *http.Request, v *viewer, side partnershipSide) (service.PartnershipView, bool) {
	p, err := h.svc.GetPartnership(r.Context(), v.actor, r.PathValue("id"))
	if err != nil {
		h.programFail(w, r, err)
		return p, false
	}
	org := v.actor.TenantID()
	if side == providerSide && p.ProviderID != org || side == resellerSide && p.ResellerID != org {
		h.renderError(w, r, http.StatusNotFound)
		return p, false
	}
	return p, true
}

func (h *Handler) terminateForm(side partnershipSide) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := h.partnerGuard(w, r)
		if !ok {
			return
		}
		p, ok := h.sideRelationship(w, r, v, side)
		if !ok {
			return
		}
		h.renderTerminate(w, r, v, side, http.StatusOK, p, formState{})
	}
}

func (h *Handler) renderTerminate(w http.ResponseWriter, r *http.Request, v *viewer, side partnershipSide, status int, p service.PartnershipView, form formState) {
	l := h.localizer(r)
	page := h.partnershipsPage(l, v, side)
	page.Terminate = &terminateView{Row: h.rowOf(l, v, side, p), Back: side.base(), Form: form,
		Action:  side.base() + "/" + url.PathEscape(p.ID) + "/terminate",
		Allowed: csphub.CanMovePartnership(p.State, csphub.PartnershipTerminated) && page.CanManage}
	noStore(w)
	h.render(w, r, status, side.page(), "partner", page)
}

// terminateFields is the order of the termination form's fields.
var terminateFields = []string{"reason"}

func (h *Handler) terminate(side partnershipSide) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := h.partnerGuard(w, r)
		if !ok || !h.parseForm(w, r) {
			return
		}
		l := h.localizer(r)
		reason := strings.TrimSpace(r.PostForm.Get("reason"))
		form := formState{Values: map[string]string{"reason": reason}}
		p, ok := h.sideRelationship(w, r, v, side)
		if !ok {
			return
		}
		if reason == "" {
			// Both sides read the reason: nothing ends without one.
			form.fieldError("reason", l.T("partnership.error.reason.required"))
			h.renderTerminate(w, r, v, side, http.StatusUnprocessableEntity, p, form)
			return
		}
		_, err := h.svc.TerminatePartnership(r.Context(), v.actor, p.ID, service.PartnershipChange{Reason: reason})
		if err == nil {
			redirect(w, r, side.base()+"?done=terminated")
			return
		}
		status := http.StatusUnprocessableEntity
		e := csphub.AsError(err)
		switch {
		case e != nil && e.Kind == csphub.KindNotFound:
			h.renderError(w, r, http.StatusNotFound)
			return
		case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
			h.partnershipFieldErrors(r, l, &form, e.Fields, terminateFields)
		default:
			msg, st, ok := h.partnershipRefusal(w, r, l, err, "change")
			if !ok {
				h.programFail(w, r, err)
				return
			}
			form.Problem, status = msg, st
			// The relationship as it is now, which may have changed.
			if cur, gerr := h.svc.GetPartnership(r.Context(), v.actor, p.ID); gerr == nil {
				p = cur
			}
		}
		h.renderTerminate(w, r, v, side, status, p, form)
	}
}
