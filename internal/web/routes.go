package web

import "net/http"

// Register mounts every page route on mux. It is the one list of the UI's
// routes; the API registers its own under /api/ on the same mux. "/"
// catches every path nothing else claims and answers the localized 404; it
// has no method so that it never conflicts with a method-less pattern such
// as "/api/" or "/healthz" (ServeMux refuses "GET /" beside those).
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", h.page(h.home))
	mux.Handle("POST /lang", h.page(h.csrf.Handler(http.HandlerFunc(h.switchLanguage)).ServeHTTP))
	mux.Handle("GET /mailbox", h.page(h.mailboxList))
	mux.Handle("GET /mailbox/{id}", h.page(h.mailboxMessage))
	mux.HandleFunc("GET /mailbox/{id}/html", h.mailboxMessageHTML)
	mux.HandleFunc("GET /static/", h.static)
	if h.svc != nil {
		// Without the service these paths fall to "/" and answer 404.
		mux.Handle("GET /signup", h.page(h.signupForm))
		mux.Handle("POST /signup", h.post(h.signup))
		mux.Handle("GET /signin", h.page(h.signInForm))
		mux.Handle("POST /signin", h.post(h.signIn))
		mux.Handle("POST /signout", h.post(h.signOut))
		mux.Handle("GET /mfa/setup", h.page(h.mfaSetupForm))
		mux.Handle("POST /mfa/setup", h.post(h.mfaSetupStart))
		mux.Handle("GET /mfa", h.page(h.mfaForm))
		mux.Handle("POST /mfa", h.post(h.mfaVerify))
		mux.Handle("POST /mfa/recovery", h.post(h.mfaRecovery))
		mux.Handle("GET /forgot-password", h.page(h.forgotPasswordForm))
		mux.Handle("POST /forgot-password", h.post(h.forgotPassword))
		mux.Handle("GET /reset-password/{token}", h.page(h.passwordLinkForm(h.resetLink())))
		mux.Handle("POST /reset-password/{token}", h.post(h.passwordLinkSubmit(h.resetLink())))
		mux.Handle("GET /user-invitations/{token}", h.page(h.passwordLinkForm(h.invitationLink())))
		mux.Handle("POST /user-invitations/{token}", h.post(h.passwordLinkSubmit(h.invitationLink())))
		mux.Handle("GET /settings", h.page(h.settingsHome))
		mux.Handle("GET /settings/users", h.page(h.usersList))
		mux.Handle("POST /settings/users", h.post(h.inviteUser))
		mux.Handle("GET /settings/users/{id}", h.page(h.userEdit))
		mux.Handle("POST /settings/users/{id}", h.post(h.userUpdate))
		mux.Handle("POST /settings/users/{id}/delete", h.post(h.userDelete))
		mux.Handle("GET /settings/api-tokens", h.page(h.tokensList))
		mux.Handle("POST /settings/api-tokens", h.post(h.tokenCreate))
		mux.Handle("POST /settings/api-tokens/{id}/revoke", h.post(h.tokenRevoke))
		mux.Handle("GET /settings/sso", h.page(h.ssoForm))
		mux.Handle("POST /settings/sso", h.post(h.ssoSave))
		mux.Handle("POST /settings/sso/disable", h.post(h.ssoDisable))
		h.registerPartnerIDsPages(mux)
		h.registerEnrollmentsPages(mux)
		h.registerAgreementsPages(mux)
		h.registerPartnershipsPages(mux)
		h.registerDirectoryPages(mux)
		h.registerProvidersPages(mux)
		h.registerDelegationPages(mux)
		h.registerCustomersPages(mux)
		h.registerOrdersPages(mux)
		h.registerOverviewPages(mux)
	}
	mux.Handle("/", h.page(h.notFound))
}

// post wraps a form handler: a cross-site request is refused before the
// session is even looked up.
func (h *Handler) post(fn http.HandlerFunc) http.Handler {
	return h.csrf.Handler(h.page(fn))
}
