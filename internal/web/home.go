package web

import "net/http"

// home is the program's front page for visitors, and the account's home
// for a signed-in user; a session that has not passed MFA is sent to it.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if v := viewerFrom(r.Context()); v != nil {
		if v.needsMFA() {
			redirect(w, r, v.mfaPath())
			return
		}
		h.accountHome(w, r, v)
		return
	}
	h.render(w, r, http.StatusOK, pageHome, "home", nil)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, http.StatusNotFound)
}
