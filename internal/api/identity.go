package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"csphub"
	"csphub/internal/service"
)

// SessionCookie names the session cookie: with the __Host- prefix (Secure,
// Path=/, no Domain) whenever csphub is served over HTTPS; plain HTTP is
// only for a newcomer's localhost, where browsers refuse Secure cookies.
func SessionCookie(secure bool) string {
	if secure {
		return "__Host-csphub_session"
	}
	return "csphub_session"
}

// Credentials authenticates requests by API token (Authorization: Bearer
// csphub_...), session token (Authorization: Bearer <session>), or session
// cookie.
type Credentials struct {
	Service *service.Service
	Secure  bool
}

// Authenticate implements Authenticator.
func (c Credentials) Authenticate(r *http.Request) (csphub.Actor, bool, error) {
	token := sessionToken(r, c.Secure)
	if token == "" {
		return csphub.Actor{}, false, nil
	}
	var a csphub.Actor
	var err error
	if strings.HasPrefix(token, service.APITokenPrefix) {
		a, err = c.Service.TokenActor(r.Context(), token)
	} else {
		a, err = c.Service.SessionActor(r.Context(), token)
	}
	return a, err == nil, err
}

func sessionToken(r *http.Request, secure bool) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if ck, err := r.Cookie(SessionCookie(secure)); err == nil {
		return ck.Value
	}
	return ""
}

type signupInput struct {
	Body service.SignupInput
}

type signupOutput struct{ Body service.SignupResult }

func (a *API) signup(ctx context.Context, in *signupInput) (*signupOutput, error) {
	out, err := a.svc.Signup(ctx, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &signupOutput{Body: out}, nil
}

type signInInput struct {
	Body service.SignInInput
}

type signInBody struct {
	service.Session
	SessionToken string `json:"session_token" doc:"Send as Authorization: Bearer from non-browser clients; browsers use the cookie"`
}

type signInOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      signInBody
}

func (a *API) signIn(ctx context.Context, in *signInInput) (*signInOutput, error) {
	in.Body.Address = clientAddress(ctx)
	sess, err := a.svc.SignIn(ctx, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &signInOutput{SetCookie: a.sessionCookie(sess.Token, sess.ExpiresAt), Body: signInBody{Session: sess, SessionToken: sess.Token}}, nil
}

func (a *API) sessionCookie(value string, expires time.Time) http.Cookie {
	c := http.Cookie{Name: SessionCookie(a.opts.SecureCookies), Value: value, Path: "/", HttpOnly: true,
		Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

type signOutOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

func (a *API) signOut(ctx context.Context, _ *struct{}) (*signOutOutput, error) {
	actor := actorFrom(ctx)
	if actor.Kind != csphub.ActorUser {
		return nil, a.fail(ctx, csphub.Errorf(csphub.KindInvalid, "not_a_session", "API tokens are revoked, not signed out"))
	}
	if err := a.svc.SignOut(ctx, actor, tokenFrom(ctx)); err != nil {
		return nil, a.fail(ctx, err)
	}
	return &signOutOutput{SetCookie: a.sessionCookie("", time.Time{})}, nil
}

// meBody is the caller, and the organization it acts in when it sends
// On-Behalf-Of (roles are then the delegated ones).
type meBody struct {
	service.Me
	OnBehalfOf *csphub.Organization `json:"on_behalf_of,omitempty" doc:"The organization acted in through a delegated admin grant (On-Behalf-Of)"`
}

type meOutput struct{ Body meBody }

func (a *API) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	actor := actorFrom(ctx)
	me, err := a.svc.WhoAmI(ctx, actor)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &meOutput{Body: meBody{Me: me}}
	if org, ok, err := a.svc.ActingIn(ctx, actor); err != nil {
		return nil, a.fail(ctx, err)
	} else if ok {
		out.Body.OnBehalfOf = &org
	}
	return out, nil
}

type createTokenInput struct {
	Body service.CreateAPITokenInput
}

type createTokenOutput struct{ Body service.CreatedAPIToken }

func (a *API) createAPIToken(ctx context.Context, in *createTokenInput) (*createTokenOutput, error) {
	t, err := a.svc.CreateAPIToken(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &createTokenOutput{Body: t}, nil
}

type listTokensInput struct {
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type listTokensOutput struct{ Body service.APITokenPage }

func (a *API) listAPITokens(ctx context.Context, in *listTokensInput) (*listTokensOutput, error) {
	p, err := a.svc.ListAPITokens(ctx, actorFrom(ctx), in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listTokensOutput{Body: p}, nil
}

type tokenIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

func (a *API) revokeAPIToken(ctx context.Context, in *tokenIDInput) (*struct{}, error) {
	if err := a.svc.RevokeAPIToken(ctx, actorFrom(ctx), in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}
