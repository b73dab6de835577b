package web

import "net/http"

// pageCSP allows nothing but our own stylesheet, forms that post to us and
// the mailbox's sandboxed frame. With no script-src at all, no script of
// any kind runs, inline or not.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// page wraps a page handler with the headers every HTML page carries.
func (h *Handler) page(fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
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
