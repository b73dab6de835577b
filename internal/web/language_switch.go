package web

import (
	"net/http"
	"net/url"
	"strings"

	"csphub/internal/i18n"
)

const (
	langCookieMaxAge = 365 * 24 * 60 * 60
	maxFormBytes     = 4 << 10
	maxReturnPath    = 2048
)

// switchLanguage stores the chosen language in the lang cookie and sends the
// reader back to the page they were on. It is a POST (guarded against
// cross-site requests) because it changes state.
func (h *Handler) switchLanguage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	lang := r.PostForm.Get("lang")
	supported := false
	for _, tag := range h.i18n.Languages() {
		if tag.String() == lang {
			supported = true
			break
		}
	}
	if !supported {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	http.SetCookie(w, h.langCookie(r, lang))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, safeReturnPath(r.PostForm.Get("return")), http.StatusSeeOther)
}

// langCookie remembers the reader's language.
func (h *Handler) langCookie(r *http.Request, lang string) *http.Cookie {
	return &http.Cookie{
		Name:     i18n.CookieName,
		Value:    lang,
		Path:     "/",
		MaxAge:   langCookieMaxAge,
		HttpOnly: true, // nothing client-side reads it
		Secure:   h.secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	}
}

// safeReturnPath keeps a redirect target on this site: a path with an
// optional query, never a scheme, a host, a protocol-relative "//" or a
// backslash that some browsers read as a slash. Anything else gives "/".
func safeReturnPath(s string) string {
	if s == "" || len(s) > maxReturnPath || s[0] != '/' {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	u.Fragment = ""
	return u.RequestURI()
}
