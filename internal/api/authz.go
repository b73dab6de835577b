package api

import (
	"net/http"
	"slices"

	"csphub"
)

// Access is what a route demands of its caller.
type Access struct {
	Public bool     // anyone, signed in or not
	Roles  []string // signed in with one of these roles; empty: any role
	// BeforeMFA admits sessions that have not passed multi-factor
	// authentication yet (MFA setup, sign-out, who am I); every other route
	// refuses them where MFA is required.
	BeforeMFA bool
	// Identify, on a public route, authenticates the caller when the request
	// carries credentials (bad ones are refused, and MFA applies as on any
	// route); without credentials the handler runs anonymously.
	Identify bool
	// Delegable admits callers acting inside another organization through a
	// delegated admin grant (header On-Behalf-Of: <organization id>); the
	// route then runs with the delegated actor (see guard). Deny by
	// default: a request naming On-Behalf-Of on any other route is refused
	// (403 delegation_not_allowed). Never mark routes that accept
	// agreements, change security or MFA settings, users, SSO, API tokens,
	// grants, enrollments or the partner profile.
	Delegable bool
}

var (
	public           = Access{Public: true}
	authenticated    = Access{}
	beforeMFA        = Access{BeforeMFA: true}
	credentialAdmins = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin, csphub.RoleOperatorAdmin}}
)

// Delegated admin (On-Behalf-Of) reaches the routes marked Delegable, one
// by one, and nothing else. Today: GET /api/v1/me (who acts, in which
// organization, with which delegated roles) and GET /api/v1/partner-profile
// (the reseller's profile, read by the provider that administers it).
// Everything else refuses delegated callers: accepting agreements, MFA and
// sessions, users, SSO, API tokens, the audit log and the event feed (the
// grantor's own security record), grants themselves, enrollments and the
// partner overview, and every change to the partner profile. Placing an
// order and changing a subscription are Delegable: rule 6 of an order
// admits the admin agent or sales agent role through a grant.
//
// authorization is the one table of who may call each API route, merged
// from one part per feature. A route with no entry is refused to everyone
// (and fails TestEveryRouteIsAuthorized).
var authorization = mergeAccess(coreAccess, enrollmentAccess, partnerIDAccess, agreementAccess, referenceAccess,
	partnershipAccess, grantAccess, directoryAccess, providerAccess, customerAccess, orderAccess, catalogAccess)

// mergeAccess joins the feature tables; a route in two of them is a
// programming error.
func mergeAccess(parts ...map[string]Access) map[string]Access {
	out := map[string]Access{}
	for _, p := range parts {
		for k, v := range p {
			if _, dup := out[k]; dup {
				panic("api: two access rules for " + k)
			}
			out[k] = v
		}
	}
	return out
}

var coreAccess = map[string]Access{
	"GET /api/v1/openapi.json": public,
	"GET /api/v1/events":       authenticated,

	"POST /api/v1/signup":                  public,
	"POST /api/v1/password-resets":         public,
	"POST /api/v1/password-resets/{token}": public,
	"POST /api/v1/sessions":                public,
	"DELETE /api/v1/sessions/current":      beforeMFA,
	"GET /api/v1/me":                       {BeforeMFA: true, Delegable: true},
	"POST /api/v1/me/mfa/totp":             beforeMFA,
	"POST /api/v1/me/mfa/totp/verify":      beforeMFA,
	"POST /api/v1/me/mfa/recovery":         beforeMFA,
	"GET /api/v1/audit-records":            credentialAdmins,
	"POST /api/v1/api-tokens":              credentialAdmins,
	"GET /api/v1/api-tokens":               credentialAdmins,
	"DELETE /api/v1/api-tokens/{id}":       credentialAdmins,

	"POST /api/v1/operator/mail-tests": {Roles: []string{csphub.RoleOperatorAdmin}},

	"GET /api/v1/users":                            userAdmins,
	"POST /api/v1/users":                           userAdmins,
	"GET /api/v1/users/{id}":                       userAdmins,
	"PATCH /api/v1/users/{id}":                     userAdmins,
	"DELETE /api/v1/users/{id}":                    userAdmins,
	"POST /api/v1/user-invitations/{token}/accept": public,

	"GET /api/v1/sso":        ssoAdmins,
	"PUT /api/v1/sso":        ssoAdmins,
	"DELETE /api/v1/sso":     ssoAdmins,
	"GET /auth/sso/start":    public,
	"GET /auth/sso/callback": public,
}

// returnsSecrets lists the routes whose responses carry secrets (a token,
// a TOTP secret, a session id, recovery codes). They ignore Idempotency-Key:
// a stored response would keep the secret in the database and replay it.
var returnsSecrets = map[string]bool{
	"POST /api/v1/api-tokens":         true,
	"POST /api/v1/me/mfa/totp":        true,
	"POST /api/v1/me/mfa/totp/verify": true,
	"POST /api/v1/me/mfa/recovery":    true,

	"POST /api/v1/operator/partner-ids": true, // claim codes
}

// guard wraps an API handler with the route's access rule: the caller is
// authenticated (when the route is not public), passed MFA where required,
// acts through a delegated admin grant when it sends On-Behalf-Of (on
// Delegable routes only; the roles checked are then the delegated ones),
// and holds one of the route's roles; then keyed POSTs go through the
// idempotency mechanism.
func (a *API) guard(pattern string, h http.Handler) http.Handler {
	acc, known := authorization[pattern]
	if acc.Public && acc.Delegable {
		panic("api: a public route cannot be Delegable: " + pattern)
	}
	a.access[pattern] = acc
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !known {
			a.writeProblem(w, r, newProblem(http.StatusForbidden, "route_not_authorized", "this route has no access rule"))
			return
		}
		onBehalfOf := r.Header.Get(onBehalfOfHeader)
		if onBehalfOf != "" && !acc.Delegable {
			a.writeProblem(w, r, newProblem(http.StatusForbidden, "delegation_not_allowed", "this route cannot be used through a delegated admin grant"))
			return
		}
		if acc.Public && acc.Identify && a.authn != nil && hasCredentials(r, a.opts.SecureCookies) {
			actor, ok, err := a.authn.Authenticate(r)
			if err != nil {
				a.writeProblem(w, r, a.fail(ctx, err).(*Problem))
				return
			}
			switch {
			case ok && !actor.MFAPassed && csphub.MFARequired(actor.OrgKind):
				a.writeProblem(w, r, newProblem(http.StatusForbidden, "mfa_required", "set up and pass multi-factor authentication first"))
				return
			case ok:
				if actor.RequestID == "" {
					actor.RequestID = csphub.RequestID(ctx)
				}
				r = r.WithContext(withToken(withActor(ctx, actor), sessionToken(r, a.opts.SecureCookies)))
			case r.Header.Get("Authorization") != "":
				// A stale session cookie is dropped; a bad header is a mistake.
				a.writeProblem(w, r, newProblem(http.StatusUnauthorized, "unauthenticated", "the credentials sent are not valid; send none to act anonymously"))
				return
			}
		}
		if !acc.Public {
			if a.authn == nil {
				a.writeProblem(w, r, newProblem(http.StatusUnauthorized, "unauthenticated", "sign in or send an API token"))
				return
			}
			actor, ok, err := a.authn.Authenticate(r)
			if err != nil {
				a.writeProblem(w, r, a.fail(ctx, err).(*Problem))
				return
			}
			if !ok {
				a.writeProblem(w, r, newProblem(http.StatusUnauthorized, "unauthenticated", "sign in or send an API token"))
				return
			}
			if !acc.BeforeMFA && !actor.MFAPassed && csphub.MFARequired(actor.OrgKind) {
				a.writeProblem(w, r, newProblem(http.StatusForbidden, "mfa_required", "set up and pass multi-factor authentication first"))
				return
			}
			if onBehalfOf != "" {
				// Worked out afresh on every request: a terminated or
				// expired grant, or an ended relationship, stops the next one.
				if actor, err = a.svc.DelegatedActor(ctx, actor, onBehalfOf); err != nil {
					a.writeProblem(w, r, a.fail(ctx, err).(*Problem))
					return
				}
			}
			if len(acc.Roles) > 0 && !slices.ContainsFunc(acc.Roles, actor.HasRole) {
				a.writeProblem(w, r, newProblem(http.StatusForbidden, "missing_role", "your roles do not allow this"))
				return
			}
			if actor.RequestID == "" {
				actor.RequestID = csphub.RequestID(ctx)
			}
			r = r.WithContext(withToken(withActor(ctx, actor), sessionToken(r, a.opts.SecureCookies)))
		}
		if r.Method == http.MethodPost && !acc.Public && !returnsSecrets[pattern] && r.Header.Get("Idempotency-Key") != "" {
			a.idempotent(pattern, w, r, h)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// onBehalfOfHeader names the organization a request acts in through a
// delegated admin grant.
const onBehalfOfHeader = "On-Behalf-Of"

// hasCredentials reports whether r carries a bearer token or a session
// cookie.
func hasCredentials(r *http.Request, secure bool) bool {
	return r.Header.Get("Authorization") != "" || sessionToken(r, secure) != ""
}
