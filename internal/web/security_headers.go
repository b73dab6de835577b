package web

import "net/http"

// pageCSP allows nothing but our own stylesheet, forms that post to us and
// the mailbox's sandboxed frame. With no script-src at all, no script of
// any kind runs, inline or not.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// page wraps a page handler with the headers every HTML page carries, and
// loads the session, if any, so that the layout can show who is signed in.
func (h *Handler) page(fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
		r, err := h.withViewer(w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		fn(w, r)
	})
}

func setPageHeaders(hdr http.Header) {
	hdr.Set("Content-Security-Policy", pageCSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
}
