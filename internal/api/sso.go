package api

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// ssoAdmins: an organization's provider decides who can sign in to it, so
// only its global admins manage it.
var ssoAdmins = Access{Roles: []string{csphub.RoleGlobalAdmin}}

// ssoRoutes: the organization's OpenID Connect settings (JSON, global
// admins), and the two browser endpoints of a sign-in, which answer with
// redirects rather than JSON (errors are still problem details).
func (a *API) ssoRoutes() {
	register(a, huma.Operation{
		OperationID: "getSSO", Method: http.MethodGet, Path: "/api/v1/sso",
		Summary:     "Your organization's single sign-on (OpenID Connect) settings",
		Description: "The client secret is never returned; `client_secret_set` says whether one is stored.",
		Tags:        []string{"sso"},
	}, a.getSSO)
	register(a, huma.Operation{
		OperationID: "configureSSO", Method: http.MethodPut, Path: "/api/v1/sso",
		Summary: "Set up or change your organization's OpenID Connect provider, and enable it",
		Description: "The issuer is checked by OpenID discovery before anything is stored. Register `redirect_uri` of the answer at the provider. " +
			"Users sign in with an email of an allowed domain that belongs to an existing active user of the organization; nobody is created. " +
			"The provider's own multi-factor authentication does not count: partner users still pass csphub's TOTP.",
		Tags: []string{"sso"},
	}, a.configureSSO)
	register(a, huma.Operation{
		OperationID: "disableSSO", Method: http.MethodDelete, Path: "/api/v1/sso",
		Summary:       "Turn single sign-on off for your organization",
		Description:   "The settings are kept (PUT enables them again); sign-ins in flight fail. Open sessions are not ended.",
		Tags:          []string{"sso"},
		DefaultStatus: http.StatusNoContent,
	}, a.disableSSO)
	register(a, huma.Operation{
		OperationID: "startSSO", Method: http.MethodGet, Path: "/auth/sso/start",
		Summary: "Browser: sign in through an organization's identity provider",
		Description: "Redirects (302) to the provider's authorization endpoint (authorization code flow, PKCE S256, nonce, state). " +
			"Give `org` (the organization id) or `email` (its domain picks the organization). A short-lived cookie binds the sign-in to this browser.",
		Tags:          []string{"sso"},
		DefaultStatus: http.StatusFound,
	}, a.startSSO)
	register(a, huma.Operation{
		OperationID: "finishSSO", Method: http.MethodGet, Path: service.SSOCallbackPath,
		Summary: "Browser: where the identity provider sends the user back",
		Description: "Checks the state against this browser's cookie, redeems the code and verifies the ID token, then sets the session cookie " +
			"and redirects (302) to the page asked for, or to /mfa when multi-factor authentication is still due.",
		Tags:          []string{"sso"},
		DefaultStatus: http.StatusFound,
	}, a.finishSSO)
}

type ssoOutput struct{ Body service.SSOSettings }

func (a *API) getSSO(ctx context.Context, _ *struct{}) (*ssoOutput, error) {
	out, err := a.svc.GetSSO(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &ssoOutput{Body: out}, nil
}

type configureSSOInput struct {
	Body service.ConfigureSSOInput
}

func (a *API) configureSSO(ctx context.Context, in *configureSSOInput) (*ssoOutput, error) {
	out, err := a.svc.ConfigureSSO(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &ssoOutput{Body: out}, nil
}

func (a *API) disableSSO(ctx context.Context, _ *struct{}) (*struct{}, error) {
	if err := a.svc.DisableSSO(ctx, actorFrom(ctx)); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}

// ssoBindingCookie names the cookie that ties a sign-in's state to the
// browser that started it, against login CSRF (a victim's browser made to
// finish an attacker's sign-in).
func ssoBindingCookie(secure bool) string {
	if secure {
		return "__Host-csphub_sso"
	}
	return "csphub_sso"
}

type startSSOInput struct {
	Org   string `query:"org" maxLength:"36" doc:"Id of the organization to sign in to"`
	Email string `query:"email" maxLength:"254" doc:"Your email address; its domain picks the organization"`
	Next  string `query:"next" maxLength:"2048" doc:"Path of csphub to land on after signing in (default /)"`
}

type redirectOutput struct {
	Location     string        `header:"Location" doc:"Where the browser goes next"`
	CacheControl string        `header:"Cache-Control"`
	SetCookie    []http.Cookie `header:"Set-Cookie"`
}

func (a *API) startSSO(ctx context.Context, in *startSSOInput) (*redirectOutput, error) {
	st, err := a.svc.StartSSO(ctx, service.StartSSOInput{OrgID: in.Org, Email: in.Email, RedirectAfter: in.Next})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	binding := http.Cookie{Name: ssoBindingCookie(a.opts.SecureCookies), Value: st.State, Path: "/", HttpOnly: true,
		Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: st.ExpiresAt}
	return &redirectOutput{Location: st.AuthURL, CacheControl: "no-store", SetCookie: []http.Cookie{binding}}, nil
}

type finishSSOInput struct {
	State            string `query:"state" maxLength:"512"`
	Code             string `query:"code" maxLength:"4096"`
	Error            string `query:"error" maxLength:"256" doc:"Set by the provider when it did not sign the user in"`
	HostBinding      string `cookie:"__Host-csphub_sso" maxLength:"512" doc:"Binds the sign-in to the browser (HTTPS deployments)"`
	LocalhostBinding string `cookie:"csphub_sso" maxLength:"512" doc:"Binds the sign-in to the browser (plain HTTP on localhost)"`
}

func (a *API) finishSSO(ctx context.Context, in *finishSSOInput) (*redirectOutput, error) {
	binding := in.LocalhostBinding
	if a.opts.SecureCookies {
		binding = in.HostBinding
	}
	if in.State == "" || subtle.ConstantTimeCompare([]byte(binding), []byte(in.State)) != 1 {
		return nil, a.fail(ctx, csphub.Errorf(csphub.KindUnauthenticated, "sso_browser_mismatch",
			"this sign-in was not started in this browser; start it again"))
	}
	code := in.Code
	if in.Error != "" {
		a.log.InfoContext(ctx, "identity provider refused the sign-in", slog.String("error", in.Error))
		code = "" // the attempt is still consumed and the refusal recorded
	}
	res, err := a.svc.FinishSSO(ctx, in.State, code)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	next := res.RedirectAfter
	if res.Session.MFARequired {
		next = "/mfa"
	}
	clear := http.Cookie{Name: ssoBindingCookie(a.opts.SecureCookies), Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode}
	return &redirectOutput{Location: next, CacheControl: "no-store",
		SetCookie: []http.Cookie{a.sessionCookie(res.Session.Token, res.Session.ExpiresAt), clear}}, nil
}
