package web

import (
	"net/http"

	"csphub"
	"csphub/internal/service"
)

// The primary contact's email verification (/enrollments/verify/{token}),
// the link of the verification email. It needs no sign-in: the contact may
// have no account. Opening the link shows whose application it confirms;
// only the Confirm button (a POST) uses it, so that a mail scanner that
// fetches links does not.

type verifyPage struct {
	Link   service.EmailVerificationLink
	Action string
	// Done: the address is confirmed.
	Done bool
	// Invalid says why the link cannot work: "expired", "used" or
	// "unknown".
	Invalid string
	// SignedIn: the reader has a session, so the application page is a
	// link away.
	SignedIn bool
}

// invalidLink names why a link cannot be used, from the service's refusal.
func invalidLink(err error) (string, bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", false
	}
	switch {
	case e.Code == "link_expired":
		return "expired", true
	case e.Code == "link_used":
		return "used", true
	case e.Kind == csphub.KindNotFound || e.Kind == csphub.KindInvalid:
		return "unknown", true
	case e.Kind == csphub.KindConflict || e.Kind == csphub.KindPreconditionFailed || e.Kind == csphub.KindUnprocessable:
		// The application moved on without this link (a newer link was
		// sent, or the contact changed).
		return "used", true
	}
	return "", false
}

func (h *Handler) verificationForm(w http.ResponseWriter, r *http.Request) {
	resetHeaders(w)
	token := r.PathValue("token")
	page := verifyPage{Action: "/enrollments/verify/" + token, SignedIn: viewerFrom(r.Context()) != nil}
	if !plausibleResetToken(token) {
		page.Invalid = "unknown"
		h.render(w, r, http.StatusNotFound, pageEnrollmentVerify, "", page)
		return
	}
	link, err := h.svc.EmailVerificationLinkOf(r.Context(), token)
	if err != nil {
		h.verificationRefused(w, r, page, err)
		return
	}
	page.Link = link
	h.render(w, r, http.StatusOK, pageEnrollmentVerify, "", page)
}

func (h *Handler) verificationConfirm(w http.ResponseWriter, r *http.Request) {
	resetHeaders(w)
	token := r.PathValue("token")
	page := verifyPage{Action: "/enrollments/verify/" + token, SignedIn: viewerFrom(r.Context()) != nil}
	if !plausibleResetToken(token) {
		page.Invalid = "unknown"
		h.render(w, r, http.StatusNotFound, pageEnrollmentVerify, "", page)
		return
	}
	link, err := h.svc.EmailVerificationLinkOf(r.Context(), token)
	if err != nil {
		h.verificationRefused(w, r, page, err)
		return
	}
	page.Link = link
	if _, err := h.svc.VerifyEnrollmentEmail(r.Context(), link.EnrollmentID, token); err != nil {
		h.verificationRefused(w, r, page, err)
		return
	}
	page.Done = true
	h.render(w, r, http.StatusOK, pageEnrollmentVerify, "", page)
}

func (h *Handler) verificationRefused(w http.ResponseWriter, r *http.Request, page verifyPage, err error) {
	why, ok := invalidLink(err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	page.Invalid = why
	status := http.StatusNotFound
	if why != "unknown" {
		status = http.StatusGone
	}
	h.render(w, r, status, pageEnrollmentVerify, "", page)
}
