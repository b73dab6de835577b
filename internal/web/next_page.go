package web

import (
	"net/http"
	"time"
)

// A page that sends a visitor to sign in (an invitation link, say) names
// itself in ?next=; the sign-in form carries it, and when MFA comes in
// between, a short-lived cookie keeps it until MFA is passed.

// nextPath returns s when it is a path on this site, else "".
func nextPath(s string) string {
	if s == "" {
		return ""
	}
	if p := safeReturnPath(s); p == s {
		return p
	}
	return ""
}

func (h *Handler) nextCookieName() string {
	if h.secure {
		return "__Host-csphub_next"
	}
	return "csphub_next"
}

// rememberNext keeps where to go once MFA is passed (15 minutes at most).
func (h *Handler) rememberNext(w http.ResponseWriter, next string) {
	http.SetCookie(w, &http.Cookie{Name: h.nextCookieName(), Value: next, Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int((15 * time.Minute).Seconds())})
}

// takeNext returns the remembered page, if any, and forgets it.
func (h *Handler) takeNext(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(h.nextCookieName())
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: h.nextCookieName(), Value: "", Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return nextPath(c.Value)
}
