package web

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"strings"

	"csphub"
	"csphub/internal/service"
)

// The identity pages: sign-up, sign-in, MFA, sign-out, password reset.
// Every answer carries a session, a secret or a form's values, so none is
// cached.

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// endReplacedSession signs out the session a browser had before a new
// sign-in replaces its cookie, so that it does not stay valid unseen.
func (h *Handler) endReplacedSession(r *http.Request) {
	if v := viewerFrom(r.Context()); v != nil {
		if err := h.svc.SignOut(r.Context(), v.actor, v.token); err != nil {
			h.log.WarnContext(r.Context(), "web: ending the replaced session", "err", err,
				"request_id", csphub.RequestID(r.Context()))
		}
	}
}

// landingFor is where a user goes once signed in with MFA passed: partners
// to their CSP overview, the operator to its overview, customers home.
func landingFor(kind csphub.OrgKind) string {
	switch kind {
	case csphub.OrgPartner:
		return "/partner"
	case csphub.OrgOperator:
		return operatorOverviewPath
	}
	return "/"
}

// afterSignIn is where a new session goes first.
func afterSignIn(s service.Session) string {
	switch {
	case !s.MFARequired:
		return "/"
	case s.MFAEnrolled:
		return "/mfa"
	default:
		return "/mfa/setup"
	}
}

// --- sign-up ---

type signupPage struct {
	Form      formState
	Countries []countryOption
	Languages []string
}

// signupFields is the order of the fields on the sign-up page.
var signupFields = []string{"kind", "organization_name", "country", "domain", "name", "email", "password", "lang"}

func (h *Handler) signupForm(w http.ResponseWriter, r *http.Request) {
	if viewerFrom(r.Context()) != nil {
		redirect(w, r, "/")
		return
	}
	l := h.localizer(r)
	h.renderSignup(w, r, http.StatusOK, formState{Values: map[string]string{"kind": string(csphub.OrgPartner), "lang": l.Lang()}})
}

func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	in := service.SignupInput{
		Kind: f.Get("kind"), OrgName: f.Get("organization_name"), Country: f.Get("country"), Domain: f.Get("domain"),
		Name: f.Get("name"), Email: strings.TrimSpace(f.Get("email")), Password: f.Get("password"), Lang: f.Get("lang"),
	}
	res, err := h.svc.Signup(r.Context(), in)
	if err != nil {
		l := h.localizer(r)
		form := formState{Values: map[string]string{
			"kind": in.Kind, "organization_name": in.OrgName, "country": in.Country, "domain": in.Domain,
			"name": in.Name, "email": in.Email, "lang": in.Lang,
		}}
		e := csphub.AsError(err)
		switch {
		case e == nil:
			h.fail(w, r, err)
			return
		case e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
			h.fieldErrors(r, l, &form, e.Fields, signupFields)
		case e.Code == "email_taken":
			form.fieldError("email", l.T(fieldErrorKey("email", "email_taken")))
		case e.Code == "organization_exists":
			form.Problem = l.T("signup.error.organization_exists")
		default:
			h.fail(w, r, err)
			return
		}
		h.renderSignup(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	// The language chosen for the account is the one its pages speak from
	// now on in this browser.
	http.SetCookie(w, h.langCookie(r, res.User.Lang))
	// The new admin is signed in at once, so that MFA setup follows.
	sess, err := h.svc.SignIn(r.Context(), service.SignInInput{Email: res.User.Email, Password: in.Password, Address: clientAddress(r)})
	if err != nil {
		h.log.WarnContext(r.Context(), "web: sign-in after sign-up", "err", err, "request_id", csphub.RequestID(r.Context()))
		redirect(w, r, "/signin")
		return
	}
	h.endReplacedSession(r)
	h.setSessionCookie(w, sess.Token, sess.ExpiresAt)
	redirect(w, r, afterSignIn(sess))
}

func (h *Handler) renderSignup(w http.ResponseWriter, r *http.Request, status int, form formState) {
	l := h.localizer(r)
	var langs []string
	for _, tag := range h.i18n.Languages() {
		langs = append(langs, tag.String())
	}
	noStore(w)
	h.render(w, r, status, pageSignup, "", signupPage{Form: form, Countries: h.countries[l.Lang()], Languages: langs})
}

// --- sign-in and sign-out ---

type signInPage struct {
	Form formState
	Done string // what just happened: "reset", "invited" or "signed_out", for a notice
	Next string // the page to go on to once signed in (see next_page.go)
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request) {
	next := nextPath(r.URL.Query().Get("next"))
	if viewerFrom(r.Context()) != nil {
		redirect(w, r, cmp.Or(next, "/"))
		return
	}
	page := signInPage{Next: next}
	switch done := r.URL.Query().Get("done"); done {
	case "reset", "signed_out", "invited":
		page.Done = done
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageSignIn, "", page)
}

// signIn answers an unknown email and a wrong password with the same
// message (the service takes the same time for both).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	form := formState{Values: map[string]string{"email": email}}
	if email == "" {
		form.fieldError("email", l.T("form.error.email.required"))
	}
	if password == "" {
		form.fieldError("password", l.T("form.error.password.required"))
	}
	if form.Errors != nil {
		h.renderSignIn(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	sess, err := h.svc.SignIn(r.Context(), service.SignInInput{Email: email, Password: password, Address: clientAddress(r)})
	if err != nil {
		e := csphub.AsError(err)
		switch {
		case e != nil && e.Kind == csphub.KindRateLimited:
			form.Problem = throttled(w, l, e)
			h.renderSignIn(w, r, http.StatusTooManyRequests, form)
		case e != nil && (e.Kind == csphub.KindUnauthenticated || e.Kind == csphub.KindInvalid):
			form.Problem = l.T("signin.error.invalid")
			h.renderSignIn(w, r, http.StatusUnprocessableEntity, form)
		default:
			h.fail(w, r, err)
		}
		return
	}
	h.endReplacedSession(r)
	h.setSessionCookie(w, sess.Token, sess.ExpiresAt)
	h.clearDelegationCookie(w) // a new session starts in its own organization
	next := nextPath(r.PostForm.Get("next"))
	switch {
	case next != "" && !sess.MFARequired:
		redirect(w, r, next)
	case next != "":
		h.rememberNext(w, next)
		redirect(w, r, afterSignIn(sess))
	default:
		redirect(w, r, afterSignIn(sess))
	}
}

func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, form formState) {
	noStore(w)
	h.render(w, r, status, pageSignIn, "", signInPage{Form: form, Next: nextPath(r.PostForm.Get("next"))})
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if v := viewerFrom(r.Context()); v != nil {
		if err := h.svc.SignOut(r.Context(), v.actor, v.token); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.clearSessionCookie(w)
	h.clearDelegationCookie(w) // acting in another organization ends with the session
	redirect(w, r, "/signin?done=signed_out")
}

// --- multi-factor authentication ---

type mfaSetupPage struct {
	Started bool         // the QR code and the secret are shown
	Retry   bool         // a first code was refused: the code field, and a way to start again
	QRCode  template.URL // a data: URL made by the service
	Secret  string       // in groups of four, as apps show keys
	Form    formState
}

type mfaPage struct {
	Form formState
}

// recoveryCodesPage is shown once, as the answer to the first successful
// code; nothing can show the codes again.
type recoveryCodesPage struct {
	Codes []string
	Next  string // where the reader goes on to
}

func (recoveryCodesPage) oneTime() bool { return true }

// mfaSetupGuard lets through a signed-in user who has no authenticator yet.
func (h *Handler) mfaSetupGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireSession(w, r)
	if !ok {
		return nil, false
	}
	if v.mfaEnrolled() {
		if v.needsMFA() {
			redirect(w, r, "/mfa")
		} else {
			redirect(w, r, "/")
		}
		return nil, false
	}
	return v, true
}

// mfaSetupForm explains the step and offers to start it. Starting creates
// a new secret, a change of state, so it is the POST below, never this GET
// (a prefetch or a second tab would otherwise replace the secret shown).
func (h *Handler) mfaSetupForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.mfaSetupGuard(w, r); !ok {
		return
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageMFASetup, "", mfaSetupPage{})
}

func (h *Handler) mfaSetupStart(w http.ResponseWriter, r *http.Request) {
	v, ok := h.mfaSetupGuard(w, r)
	if !ok {
		return
	}
	en, err := h.svc.StartTOTPEnrollment(r.Context(), v.actor)
	if err != nil {
		if e := csphub.AsError(err); e != nil && e.Code == "mfa_already_enabled" {
			redirect(w, r, "/mfa")
			return
		}
		h.fail(w, r, err)
		return
	}
	page := mfaSetupPage{Started: true, Secret: groupSecret(en.Secret)}
	// html/template refuses data: URLs unless told; this one is the
	// service's own PNG, so it is marked safe once its shape is checked.
	if strings.HasPrefix(en.QRCode, "data:image/png;base64,") {
		page.QRCode = template.URL(en.QRCode)
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageMFASetup, "", page)
}

// groupSecret splits a base32 secret into groups of four characters, the
// way authenticator apps accept it typed.
func groupSecret(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mfaGuard lets through a session that still has to pass MFA with an
// authenticator already set up.
func (h *Handler) mfaGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireSession(w, r)
	if !ok {
		return nil, false
	}
	switch {
	case !v.mfaEnrolled():
		redirect(w, r, "/mfa/setup")
		return nil, false
	case !v.needsMFA():
		redirect(w, r, "/")
		return nil, false
	}
	return v, true
}

func (h *Handler) mfaForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.mfaGuard(w, r); !ok {
		return
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageMFA, "", mfaPage{})
}

// mfaVerify checks a code from the app: the first one completes the setup
// (and shows the recovery codes), later ones pass MFA at sign-in.
func (h *Handler) mfaVerify(w http.ResponseWriter, r *http.Request) {
	v, ok := h.requireSession(w, r)
	if !ok {
		return
	}
	if v.mfaEnrolled() && !v.needsMFA() {
		redirect(w, r, "/")
		return
	}
	if !h.parseForm(w, r) {
		return
	}
	res, err := h.svc.VerifyTOTP(r.Context(), v.actor, v.token, r.PostForm.Get("code"))
	if err != nil {
		h.mfaRefused(w, r, v, err, "code")
		return
	}
	h.mfaPassed(w, r, v, res)
}

func (h *Handler) mfaRecovery(w http.ResponseWriter, r *http.Request) {
	v, ok := h.mfaGuard(w, r)
	if !ok {
		return
	}
	if !h.parseForm(w, r) {
		return
	}
	res, err := h.svc.RedeemRecoveryCode(r.Context(), v.actor, v.token, r.PostForm.Get("recovery_code"))
	if err != nil {
		h.mfaRefused(w, r, v, err, "recovery_code")
		return
	}
	h.mfaPassed(w, r, v, res)
}

// mfaPassed hands over the session's new id (the service renewed it) and
// goes on: to the recovery codes after the first code, else home.
func (h *Handler) mfaPassed(w http.ResponseWriter, r *http.Request, v *viewer, res service.MFAResult) {
	h.setSessionCookie(w, res.SessionToken, res.ExpiresAt)
	next := cmp.Or(h.takeNext(w, r), landingFor(v.me.Organization.Kind))
	if len(res.RecoveryCodes) == 0 {
		redirect(w, r, next)
		return
	}
	v.token, v.me.MFAPassed = res.SessionToken, true
	noStore(w)
	h.render(w, r, http.StatusOK, pageRecoveryCodes, "", recoveryCodesPage{Codes: res.RecoveryCodes, Next: next})
}

// mfaRefused shows the form again with why the code was refused.
func (h *Handler) mfaRefused(w http.ResponseWriter, r *http.Request, v *viewer, err error, field string) {
	l := h.localizer(r)
	e := csphub.AsError(err)
	var form formState
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindRateLimited:
		form.Problem = throttled(w, l, e)
		status = http.StatusTooManyRequests
	case e != nil && e.Code == "invalid_mfa_code" && field == "code":
		form.fieldError(field, l.T("mfa.error.code"))
	case e != nil && e.Code == "invalid_mfa_code":
		form.fieldError(field, l.T("mfa.error.recovery_code"))
	case e != nil && e.Code == "mfa_not_enrolled":
		redirect(w, r, "/mfa/setup")
		return
	default:
		h.fail(w, r, err)
		return
	}
	noStore(w)
	if !v.mfaEnrolled() {
		h.render(w, r, status, pageMFASetup, "", mfaSetupPage{Retry: true, Form: form})
		return
	}
	h.render(w, r, status, pageMFA, "", mfaPage{Form: form})
}

// --- password reset ---

type forgotPasswordPage struct {
	Form formState
	Sent bool
}

type resetPasswordPage struct {
	Form       formState
	Token      string
	Action     string // where the form posts: the link's own path
	Invitation bool   // an invitation to join an organization, not a reset
	Invalid    bool   // the link cannot work: used, expired or mangled
}

// passwordLink is an emailed link that lets its holder choose a password:
// a password reset, or an invitation to join an organization. Both pages
// work the same way and differ only in wording and in the use case called.
type passwordLink struct {
	path       string // the link's path, before the token
	invitation bool
	complete   func(ctx context.Context, token, password string) error
	done       string // the sign-in page's notice afterwards
}

func (h *Handler) resetLink() passwordLink {
	return passwordLink{path: "/reset-password/", done: "reset",
		complete: func(ctx context.Context, token, pw string) error {
			return h.svc.CompletePasswordReset(ctx, token, service.CompletePasswordResetInput{Password: pw})
		}}
}

func (h *Handler) invitationLink() passwordLink {
	return passwordLink{path: "/user-invitations/", invitation: true, done: "invited",
		complete: func(ctx context.Context, token, pw string) error {
			_, err := h.svc.AcceptUserInvitation(ctx, token, service.AcceptUserInvitationInput{Password: pw})
			return err
		}}
}

func (h *Handler) forgotPasswordForm(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	h.render(w, r, http.StatusOK, pageForgotPassword, "", forgotPasswordPage{})
}

// forgotPassword gives the same answer whether or not an account uses the
// address; only an address that cannot be one is refused.
func (h *Handler) forgotPassword(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	err := h.svc.RequestPasswordReset(r.Context(), service.PasswordResetRequest{Email: email})
	noStore(w)
	if err != nil {
		e := csphub.AsError(err)
		if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) == 0 {
			h.fail(w, r, err)
			return
		}
		form := formState{Values: map[string]string{"email": email}}
		h.fieldErrors(r, h.localizer(r), &form, e.Fields, []string{"email"})
		h.render(w, r, http.StatusUnprocessableEntity, pageForgotPassword, "", forgotPasswordPage{Form: form})
		return
	}
	h.render(w, r, http.StatusOK, pageForgotPassword, "", forgotPasswordPage{Sent: true})
}

// plausibleResetToken: the service's tokens are 43 characters of unpadded
// base64url; anything else cannot be one, and is not looked up.
func plausibleResetToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// resetHeaders keep the token in the address out of caches and of any
// Referer header.
func resetHeaders(w http.ResponseWriter) {
	noStore(w)
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func (l passwordLink) page(token string) resetPasswordPage {
	return resetPasswordPage{Token: token, Action: l.path + token, Invitation: l.invitation}
}

func (h *Handler) passwordLinkForm(l passwordLink) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resetHeaders(w)
		token := r.PathValue("token")
		if !plausibleResetToken(token) {
			h.render(w, r, http.StatusNotFound, pageResetPassword, "", resetPasswordPage{Invalid: true, Invitation: l.invitation})
			return
		}
		h.render(w, r, http.StatusOK, pageResetPassword, "", l.page(token))
	}
}

func (h *Handler) passwordLinkSubmit(l passwordLink) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resetHeaders(w)
		token := r.PathValue("token")
		invalid := resetPasswordPage{Invalid: true, Invitation: l.invitation}
		if !plausibleResetToken(token) {
			h.render(w, r, http.StatusNotFound, pageResetPassword, "", invalid)
			return
		}
		if !h.parseForm(w, r) {
			return
		}
		err := l.complete(r.Context(), token, r.PostForm.Get("password"))
		if err != nil {
			e := csphub.AsError(err)
			switch {
			case e != nil && e.Kind == csphub.KindNotFound:
				h.render(w, r, http.StatusNotFound, pageResetPassword, "", invalid)
			case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
				page := l.page(token)
				h.fieldErrors(r, h.localizer(r), &page.Form, e.Fields, []string{"password"})
				h.render(w, r, http.StatusUnprocessableEntity, pageResetPassword, "", page)
			default:
				h.fail(w, r, err)
			}
			return
		}
		redirect(w, r, "/signin?done="+l.done)
	}
}

// --- signed-in home ---

type accountPage struct {
	Name, Email      string
	OrgName, OrgKind string
	Country, Domain  string
	MFAEnabled       bool
}

// accountHome is the home page of a signed-in user who has passed MFA.
func (h *Handler) accountHome(w http.ResponseWriter, r *http.Request, v *viewer) {
	l := h.localizer(r)
	org := v.me.Organization
	country := org.Country
	if key := countryKey(org.Country); l.Has(key) {
		country = l.T(key)
	}
	page := accountPage{OrgName: org.Name, OrgKind: string(org.Kind), Country: country, Domain: org.Domain}
	if u := v.me.User; u != nil {
		page.Name, page.Email, page.MFAEnabled = u.Name, u.Email, u.MFAEnabled
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageAccount, "home", page)
}
