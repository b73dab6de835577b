package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// routes lists every API operation. Each one needs an entry in the
// authorization table (authz.go).
func (a *API) routes() {
	register(a, huma.Operation{
		OperationID: "getOpenAPI", Method: http.MethodGet, Path: "/api/v1/openapi.json",
		Summary: "This API's OpenAPI 3.1 document", Tags: []string{"meta"},
	}, a.getOpenAPI)

	register(a, huma.Operation{
		OperationID: "signup", Method: http.MethodPost, Path: "/api/v1/signup",
		Summary:       "Create a partner or customer organization with its first user",
		Description:   "The first user becomes the organization's global admin. Partner users must then enrol TOTP multi-factor authentication.",
		Tags:          []string{"identity"},
		DefaultStatus: http.StatusCreated,
	}, a.signup)
	register(a, huma.Operation{
		OperationID: "signIn", Method: http.MethodPost, Path: "/api/v1/sessions",
		Summary:       "Sign in with email and password",
		Description:   "Opens a session (cookie, and a token for non-browser clients). Failed attempts are throttled per account and per address (429 with Retry-After). Unknown emails and wrong passwords get the same answer.",
		Tags:          []string{"identity"},
		DefaultStatus: http.StatusCreated,
	}, a.signIn)
	register(a, huma.Operation{
		OperationID: "signOut", Method: http.MethodDelete, Path: "/api/v1/sessions/current",
		Summary: "Sign out: end the current session", Tags: []string{"identity"}, DefaultStatus: http.StatusNoContent,
	}, a.signOut)
	register(a, huma.Operation{
		OperationID: "getMe", Method: http.MethodGet, Path: "/api/v1/me",
		Summary: "The caller: user or API token, organization, roles, MFA state", Tags: []string{"identity"},
	}, a.me)
	register(a, huma.Operation{
		OperationID: "startTOTPEnrollment", Method: http.MethodPost, Path: "/api/v1/me/mfa/totp",
		Summary:       "Start TOTP multi-factor authentication: a secret and its QR code",
		Description:   "The secret is pending until a first code is verified.",
		Tags:          []string{"identity"},
		DefaultStatus: http.StatusCreated,
	}, a.startTOTP)
	register(a, huma.Operation{
		OperationID: "verifyTOTP", Method: http.MethodPost, Path: "/api/v1/me/mfa/totp/verify",
		Summary:     "Pass multi-factor authentication with a TOTP code",
		Description: "The first success enables TOTP and returns single-use recovery codes. Every success renews the session id (new cookie and token). Codes are single-use; failures are throttled.",
		Tags:        []string{"identity"},
	}, a.verifyTOTP)
	register(a, huma.Operation{
		OperationID: "redeemRecoveryCode", Method: http.MethodPost, Path: "/api/v1/me/mfa/recovery",
		Summary: "Pass multi-factor authentication with a single-use recovery code", Tags: []string{"identity"},
	}, a.redeemRecoveryCode)
	register(a, huma.Operation{
		OperationID: "createAPIToken", Method: http.MethodPost, Path: "/api/v1/api-tokens",
		Summary:       "Create an API token for your organization",
		Description:   "The secret is in this response only. Roles are at most the creator's; expiry at most one year.",
		Tags:          []string{"identity"},
		DefaultStatus: http.StatusCreated,
	}, a.createAPIToken)
	register(a, huma.Operation{
		OperationID: "listAPITokens", Method: http.MethodGet, Path: "/api/v1/api-tokens",
		Summary: "List your organization's API tokens, with last use", Tags: []string{"identity"},
	}, a.listAPITokens)
	register(a, huma.Operation{
		OperationID: "revokeAPIToken", Method: http.MethodDelete, Path: "/api/v1/api-tokens/{id}",
		Summary: "Revoke an API token; it stops working on the next request", Tags: []string{"identity"}, DefaultStatus: http.StatusNoContent,
	}, a.revokeAPIToken)

	a.passwordResetRoutes()
	a.auditRoutes()

	register(a, huma.Operation{
		OperationID: "listEvents", Method: http.MethodGet, Path: "/api/v1/events",
		Summary:     "Read the event feed of your organization",
		Description: "Events your organization may see, in commit order, after the given position. Pass the returned `next` as `after` to resume; an empty page means you are up to date.",
		Tags:        []string{"events"},
	}, a.listEvents)

	register(a, huma.Operation{
		OperationID: "sendTestEmail", Method: http.MethodPost, Path: "/api/v1/operator/mail-tests",
		Summary:       "Send a test email through the outbox",
		Description:   "Queues a message that checks the deployment's mail settings. It is delivered after commit, retried while the server is down, and kept in the local mailbox when no SMTP server is configured.",
		Tags:          []string{"operator"},
		DefaultStatus: http.StatusCreated,
	}, a.sendTestEmail)

	a.userRoutes()
	a.ssoRoutes()
	a.referenceRoutes()
	a.partnerIDRoutes()
	a.enrollmentRoutes()
	a.agreementRoutes()
	a.providerRoutes()
	a.partnershipRoutes()
	a.grantRoutes()
	a.customerRoutes()
	a.orderRoutes()
	a.directoryRoutes()
	a.catalogRoutes()
}

// registerPlain adds the routes that are not JSON API operations: probes
// and metrics.
func (a *API) registerPlain() {
	a.mux.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.mux.HandleFunc("GET /readyz", a.readyz)
	if a.metrics != nil {
		a.mux.mux.Handle("GET /metrics", promHandler(a.metrics))
	}
	a.mux.mux.HandleFunc("/api/", NotFoundAPI)
}
