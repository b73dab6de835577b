package web

import (
	"net/http"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/service"
)

// The partnership invitation (/partnership-invitations/{token}), the link
// of the email a provider's invitation sends. Anyone holding the link
// reads who invites and what authorizing means; a reseller's global admin
// or admin agent, signed in, answers it: the ticked box and "Authorize",
// or "Decline". Opening the link changes nothing, so that a mail scanner
// that fetches links does not answer it.

type invitationPage struct {
	Invitation service.InvitationView
	// RegionNames names the provider's regions, RoleNames the roles of the
	// delegated admin grant accepting gives it.
	RegionNames   string
	RoleNames     string
	AcceptAction  string
	DeclineAction string
	// Invalid says why the link cannot be answered: "unknown", "expired",
	// "used" (accepted or declined) or "cancelled".
	Invalid string
	// Reader is who reads: "visitor", "mfa" (signed in, MFA not passed
	// yet), "answer" (may answer) or "not_allowed".
	Reader  string
	MFAPath string
	Form    formState
	// Done is "declined" once the reader declined.
	Done string
	// EnrolLink: the refusal is that the reader's organization is not an
	// enrolled indirect reseller, which the enrollment fixes.
	EnrolLink bool
}

// invitationFields is the order of the acceptance form's fields.
var invitationFields = []string{"authorize"}

// notEnrolledCodes are the refusals an enrollment as indirect reseller
// fixes.
var notEnrolledCodes = []string{"not_enrolled"}

// invitationInvalid names why a link cannot be answered, from the
// service's refusal; ok is false for any other error.
func invitationInvalid(err error) (string, bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", false
	}
	code := e.Code
	switch {
	case e.Kind == csphub.KindNotFound:
		return "unknown", true
	case strings.Contains(code, "expired"):
		return "expired", true
	case strings.Contains(code, "cancelled"):
		return "cancelled", true
	case strings.Contains(code, "used") || code == "invitation_answered" || code == "invitation_not_open":
		return "used", true
	}
	return "", false
}

// invalidState names why an invitation in state s cannot be answered any
// more, or "" while it is open.
func (h *Handler) invalidState(inv service.InvitationView) string {
	switch inv.State {
	case csphub.PartnershipInvited:
		if !h.clock.Now().Before(inv.ExpiresAt) {
			return "expired"
		}
		return ""
	case csphub.PartnershipExpired:
		return "expired"
	case csphub.PartnershipCancelled:
		return "cancelled"
	}
	return "used"
}

// invitationBase is the page before the invitation is read: the actions,
// and who reads.
func (h *Handler) invitationBase(r *http.Request, token string) invitationPage {
	base := partnershipInvitationsPath + token
	page := invitationPage{AcceptAction: base + "/accept", DeclineAction: base + "/decline", Reader: "visitor"}
	if v := viewerFrom(r.Context()); v != nil {
		switch {
		case v.needsMFA():
			page.Reader, page.MFAPath = "mfa", v.mfaPath()
		case v.me.Organization.Kind == csphub.OrgPartner && v.hasAnyRole(partnershipManagers...):
			page.Reader = "answer"
		default:
			page.Reader = "not_allowed"
		}
	}
	return page
}

// readInvitation fills the page with the invitation of the link, or shows
// why the link cannot be used and returns false.
func (h *Handler) readInvitation(w http.ResponseWriter, r *http.Request, token string, page *invitationPage) bool {
	if !plausibleResetToken(token) {
		page.Invalid = "unknown"
		h.renderInvitation(w, r, http.StatusNotFound, *page)
		return false
	}
	inv, err := h.svc.InvitationOf(r.Context(), token)
	if err != nil {
		h.invitationRefused(w, r, *page, err)
		return false
	}
	h.fillInvitation(r, page, inv)
	if why := h.invalidState(inv); why != "" {
		page.Invalid = why
		h.renderInvitation(w, r, http.StatusGone, *page)
		return false
	}
	return true
}

func (h *Handler) fillInvitation(r *http.Request, page *invitationPage, inv service.InvitationView) {
	l := h.localizer(r)
	page.Invitation = inv
	page.RegionNames = regionNames(l, inv.ProviderRegions)
	roles := inv.GrantRoles
	if len(roles) == 0 {
		roles = []string{csphub.RoleAdminAgent}
	}
	page.RoleNames = roleLabels(l, roles)
}

func (h *Handler) invitationPage(w http.ResponseWriter, r *http.Request) {
	resetHeaders(w)
	token := r.PathValue("token")
	page := h.invitationBase(r, token)
	if !h.readInvitation(w, r, token, &page) {
		return
	}
	if page.Reader == "mfa" {
		// Once MFA is passed, the reader comes back to the invitation.
		h.rememberNext(w, partnershipInvitationsPath+token)
	}
	h.renderInvitation(w, r, http.StatusOK, page)
}

func (h *Handler) renderInvitation(w http.ResponseWriter, r *http.Request, status int, page invitationPage) {
	resetHeaders(w)
	h.render(w, r, status, pagePartnershipInvitation, "", page)
}

// invitationRefused shows why a link cannot be used (404 for a link
// nobody sent, 410 for one that served or ended), or the generic error.
func (h *Handler) invitationRefused(w http.ResponseWriter, r *http.Request, page invitationPage, err error) {
	why, ok := invitationInvalid(err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	page.Invalid = why
	status := http.StatusGone
	if why == "unknown" {
		status = http.StatusNotFound
	}
	h.renderInvitation(w, r, status, page)
}

// invitationAnswer authorizes the provider (the box ticked) or declines.
func (h *Handler) invitationAnswer(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resetHeaders(w)
		token := r.PathValue("token")
		v := viewerFrom(r.Context())
		if v == nil || v.needsMFA() {
			// The page says how to sign in and come back.
			redirect(w, r, partnershipInvitationsPath+token)
			return
		}
		if !h.parseForm(w, r) {
			return
		}
		l := h.localizer(r)
		page := h.invitationBase(r, token)
		if !h.readInvitation(w, r, token, &page) {
			return
		}
		if page.Reader != "answer" {
			h.renderInvitation(w, r, http.StatusForbidden, page)
			return
		}
		var err error
		if accept {
			page.Form.Values = map[string]string{"authorize": r.PostForm.Get("authorize"), "auto_extend": r.PostForm.Get("auto_extend")}
			if r.PostForm.Get("authorize") != "yes" {
				// Nothing is authorized unless the reader ticked the box.
				page.Form.fieldError("authorize", l.T("partnership.error.authorize.required"))
				h.renderInvitation(w, r, http.StatusUnprocessableEntity, page)
				return
			}
			// The grant lasts the default two years; the reader may have it
			// extended by 180 days at each expiry.
			in := service.AcceptInvitationInput{Authorize: true, AutoExtend: r.PostForm.Get("auto_extend") == "yes"}
			if _, err = h.svc.AcceptInvitation(r.Context(), v.actor, token, in); err == nil {
				redirect(w, r, indirectProvidersPath+"?done=authorized")
				return
			}
		} else {
			if _, err = h.svc.DeclineInvitation(r.Context(), v.actor, token); err == nil {
				page.Done = "declined"
				h.renderInvitation(w, r, http.StatusOK, page)
				return
			}
		}
		if why, ok := invitationInvalid(err); ok {
			page.Invalid = why
			status := http.StatusGone
			if why == "unknown" {
				status = http.StatusNotFound
			}
			h.renderInvitation(w, r, status, page)
			return
		}
		e := csphub.AsError(err)
		status := http.StatusUnprocessableEntity
		switch {
		case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
			h.partnershipFieldErrors(r, l, &page.Form, e.Fields, invitationFields)
		default:
			msg, st, ok := h.partnershipRefusal(w, r, l, err, "answer")
			if !ok {
				h.fail(w, r, err)
				return
			}
			page.Form.Problem, status = msg, st
			page.EnrolLink = slices.Contains(notEnrolledCodes, e.Code)
		}
		h.renderInvitation(w, r, status, page)
	}
}
