package web

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
)

// Identity is the part of the service the identity pages use; cmd/csphub
// passes its *service.Service.
type Identity interface {
	Signup(ctx context.Context, in service.SignupInput) (service.SignupResult, error)
	SignIn(ctx context.Context, in service.SignInInput) (service.Session, error)
	SessionActor(ctx context.Context, token string) (csphub.Actor, error)
	WhoAmI(ctx context.Context, actor csphub.Actor) (service.Me, error)
	SignOut(ctx context.Context, actor csphub.Actor, token string) error
	StartTOTPEnrollment(ctx context.Context, actor csphub.Actor) (service.TOTPEnrollment, error)
	VerifyTOTP(ctx context.Context, actor csphub.Actor, sessionToken, code string) (service.MFAResult, error)
	RedeemRecoveryCode(ctx context.Context, actor csphub.Actor, sessionToken, code string) (service.MFAResult, error)
	RequestPasswordReset(ctx context.Context, in service.PasswordResetRequest) error
	CompletePasswordReset(ctx context.Context, token string, in service.CompletePasswordResetInput) error
	AcceptUserInvitation(ctx context.Context, token string, in service.AcceptUserInvitationInput) (service.UserView, error)

	// Settings > Account settings.
	ListUsers(ctx context.Context, actor csphub.Actor, q, pageToken string, pageSize int) (service.UserPage, error)
	InviteUser(ctx context.Context, actor csphub.Actor, in service.InviteUserInput) (service.InvitedUser, error)
	GetUser(ctx context.Context, actor csphub.Actor, id string) (service.UserView, error)
	UpdateUser(ctx context.Context, actor csphub.Actor, id, ifMatch string, in service.UpdateUserInput) (service.UserView, error)
	DeleteUser(ctx context.Context, actor csphub.Actor, id, ifMatch string) error
	CreateAPIToken(ctx context.Context, actor csphub.Actor, in service.CreateAPITokenInput) (service.CreatedAPIToken, error)
	ListAPITokens(ctx context.Context, actor csphub.Actor, pageToken string, pageSize int) (service.APITokenPage, error)
	RevokeAPIToken(ctx context.Context, actor csphub.Actor, id string) error
	GetSSO(ctx context.Context, actor csphub.Actor) (service.SSOSettings, error)
	ConfigureSSO(ctx context.Context, actor csphub.Actor, in service.ConfigureSSOInput) (service.SSOSettings, error)
	DisableSSO(ctx context.Context, actor csphub.Actor) error
	SSORedirectURI() string

	Enrollments
	PartnerIDs
	Agreements
	Partnerships
	Directory
	Providers
	Delegation
	Customers
	Orders
	Overviews
}

var _ Identity = (*service.Service)(nil)

// maxSessionToken bounds the cookie value looked up; real tokens are 43
// characters.
const maxSessionToken = 256

// viewer is the session of the request, when its cookie names a live one.
type viewer struct {
	token string
	actor csphub.Actor
	me    service.Me
}

// needsMFA: the organization requires MFA and this session has not passed it.
func (v *viewer) needsMFA() bool { return v.me.MFARequired && !v.me.MFAPassed }

// mfaEnrolled: the user has an authenticator app set up.
func (v *viewer) mfaEnrolled() bool { return v.me.User != nil && v.me.User.MFAEnabled }

// mfaPath is where a session that has not passed MFA goes next.
func (v *viewer) mfaPath() string {
	if v.mfaEnrolled() {
		return "/mfa"
	}
	return "/mfa/setup"
}

type viewerKey struct{}

func viewerFrom(ctx context.Context) *viewer {
	v, _ := ctx.Value(viewerKey{}).(*viewer)
	return v
}

// withViewer loads the session the cookie names, if any, into the request.
// A cookie naming no live session is deleted, so that the browser stops
// sending it.
func (h *Handler) withViewer(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	if h.svc == nil {
		return r, nil
	}
	ck, err := r.Cookie(api.SessionCookie(h.secure))
	if err != nil || ck.Value == "" {
		return r, nil
	}
	if len(ck.Value) > maxSessionToken {
		h.clearSessionCookie(w)
		return r, nil
	}
	r2, err := h.withSession(r, ck.Value)
	if csphub.ErrorKind(err) == csphub.KindUnauthenticated {
		h.clearSessionCookie(w)
		return r, nil
	}
	return r2, err
}

// withSession puts the viewer of a session token into the request: the
// cookie's session, or one just opened while answering the request.
func (h *Handler) withSession(r *http.Request, token string) (*http.Request, error) {
	actor, err := h.svc.SessionActor(r.Context(), token)
	if err != nil {
		return r, err
	}
	actor.RequestID = csphub.RequestID(r.Context())
	me, err := h.svc.WhoAmI(r.Context(), actor)
	if err != nil {
		return r, err
	}
	v := &viewer{token: token, actor: actor, me: me}
	return r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)), nil
}

// setSessionCookie hands the browser a session token in the cookie the API
// also reads. Any earlier Set-Cookie of it in this response (the deletion
// of a stale one) is dropped, so the browser sees one answer.
func (h *Handler) setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	c := &http.Cookie{
		Name:     api.SessionCookie(h.secure),
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if token == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	hdr := w.Header()
	prefix := c.Name + "="
	var kept []string
	for _, v := range hdr.Values("Set-Cookie") {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	hdr.Del("Set-Cookie")
	for _, v := range kept {
		hdr.Add("Set-Cookie", v)
	}
	http.SetCookie(w, c)
}

func (h *Handler) clearSessionCookie(w http.ResponseWriter) {
	h.setSessionCookie(w, "", time.Time{})
}

// requireSession returns the request's session, or sends the browser to
// the sign-in page.
func (h *Handler) requireSession(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v := viewerFrom(r.Context())
	if v == nil {
		redirect(w, r, "/signin")
		return nil, false
	}
	return v, true
}

// requireMFAPassed is requireSession for pages beyond MFA: a session that
// has not passed MFA is sent to it.
func (h *Handler) requireMFAPassed(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireSession(w, r)
	if !ok {
		return nil, false
	}
	if v.needsMFA() {
		redirect(w, r, v.mfaPath())
		return nil, false
	}
	return v, true
}

// redirect sends the browser to a page of this site with GET.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// clientAddress is the peer's IP address, which sign-in throttling counts
// by, as the API does: forwarding headers are not trusted.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
