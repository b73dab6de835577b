package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// The guided enrollment as an indirect reseller (/enroll). A visitor
// creates the work account with it; a signed-in global admin enrols the
// partner organization it belongs to. The country comes first, so that
// the postal code, phone and state fields follow its rules.

// enrollFields is the order of the fields on the enrollment form; the
// error summary follows it.
var enrollFields = []string{
	"account_domain", "account_name", "account_email", "account_password", "account_lang",
	"partner_id", "claim_code",
	"legal_name", "country", "address_line1", "address_line2", "city", "state", "postal_code",
	"primary_first_name", "primary_last_name", "primary_email", "primary_phone", "primary_lang",
	"support_email", "support_phone", "support_website",
}

// enrollFieldOf names the form field of one of the service's field paths
// ("address.postal_code", "primary_contact.email", ...).
func enrollFieldOf(path string) string {
	p := strings.ToLower(strings.TrimPrefix(path, "body."))
	for _, prefix := range []struct{ from, to string }{
		{"account.", "account_"},
		{"primary_contact.", "primary_"},
		{"support_contact.", "support_"},
		{"profile.primary_contact.", "primary_"},
		{"profile.support_contact.", "support_"},
	} {
		if rest, ok := strings.CutPrefix(p, prefix.from); ok {
			return prefix.to + rest
		}
	}
	p = strings.TrimPrefix(p, "profile.")
	if rest, ok := strings.CutPrefix(p, "address."); ok {
		switch rest {
		case "line1", "line2":
			return "address_" + rest
		}
		return rest
	}
	return p
}

// coreFieldNames are the fields whose messages the core catalog already
// has ("form.error.email.invalid_email"), keyed by the last part of the
// enrollment form's field name.
var coreFieldNames = map[string]string{
	"account_domain": "domain", "account_name": "name", "account_email": "email", "account_password": "password",
	"account_lang": "lang", "primary_email": "email", "support_email": "email", "primary_lang": "lang",
}

// programFieldErrors translates the service's field errors for the
// program's forms. A message is looked up, in order, under
// "enrollment.error.<field>.<code>", the core form's message of the same
// kind of field, and "enrollment.error.<code>"; a code with none gets a
// generic message and a log line. hints fills the country's examples into
// the postal code and phone messages.
func (h *Handler) programFieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string, hints countryHints) {
	for _, fe := range fields {
		field := enrollFieldOf(fe.Field)
		if !slices.Contains(order, field) {
			// A rule about something the form does not show: the form
			// as a whole is refused.
			field = ""
		}
		msg := h.programFieldMessage(r, l, field, fe, hints)
		if field == "" {
			if f.Problem == "" {
				f.Problem = msg
			}
			continue
		}
		f.fieldError(field, msg)
	}
	f.sortSummary(order)
}

func (h *Handler) programFieldMessage(r *http.Request, l *i18n.Localizer, field string, fe csphub.FieldError, hints countryHints) string {
	code := fe.Code
	if field != "" {
		if key := "enrollment.error." + field + "." + code; l.Has(key) {
			return exampleMessage(l, key, field, hints)
		}
		if core, ok := coreFieldNames[field]; ok {
			if key := fieldErrorKey(core, code); l.Has(key) {
				return l.T(key)
			}
		}
	}
	if key := "enrollment.error." + code; l.Has(key) {
		return l.T(key)
	}
	h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", code,
		"request_id", csphub.RequestID(r.Context()))
	return l.T("form.error.invalid")
}

// exampleMessage renders a field's message, with the country's example
// when the message has a variant that shows one.
func exampleMessage(l *i18n.Localizer, key, field string, hints countryHints) string {
	example := ""
	switch field {
	case "postal_code":
		example = hints.PostalExample
	case "primary_phone", "support_phone":
		example = hints.PhoneExample
	}
	if example != "" && l.Has(key+"_example") {
		return l.T(key+"_example", "example", example)
	}
	return l.T(key)
}

type enrollPage struct {
	Form    formState
	Visitor bool
	// ChooseCountry shows the first step alone: where the business is.
	ChooseCountry bool
	Countries     []countryOption
	CountryName   string // the chosen country, shown in the form
	ChangeCountry string // the first step again, with the country chosen
	Languages     []string
	Hints         countryHints
}

// enrollGuard decides who may see the enrollment form: a visitor, or a
// partner's global admin past MFA whose organization has no application
// under way (it is sent to that application instead). It returns a nil
// viewer for a visitor.
func (h *Handler) enrollGuard(w http.ResponseWriter, r *http.Request) (v *viewer, ok bool) {
	v = viewerFrom(r.Context())
	if v == nil {
		return nil, true
	}
	if v.needsMFA() {
		redirect(w, r, v.mfaPath())
		return nil, false
	}
	if v.me.Organization.Kind != csphub.OrgPartner || !v.hasAnyRole(csphub.RoleGlobalAdmin) {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	list, err := h.svc.ListEnrollments(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return nil, false
	}
	for _, e := range list {
		if e.Program == csphub.ProgramIndirectReseller && e.State != csphub.EnrollmentRejected {
			redirect(w, r, "/partner/enrollment")
			return nil, false
		}
	}
	return v, true
}

func (h *Handler) enrollForm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.enrollGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	q := r.URL.Query()
	country := strings.ToUpper(strings.TrimSpace(q.Get("country")))
	if country == "" && v != nil && q.Get("step") != "country" {
		country = v.me.Organization.Country
	}
	form := formState{Values: map[string]string{"country": country, "account_lang": l.Lang(), "primary_lang": l.Lang()}}
	if v != nil {
		// The signed-in admin is the likely primary contact.
		first, last, _ := strings.Cut(strings.TrimSpace(v.me.User.Name), " ")
		form.Values["primary_first_name"], form.Values["primary_last_name"] = first, last
		form.Values["primary_email"], form.Values["primary_lang"] = v.me.User.Email, v.me.User.Lang
	}
	status := http.StatusOK
	choose := q.Get("step") == "country" || !h.offeredCountry(country)
	if choose && q.Has("country") && !h.offeredCountry(country) {
		form.fieldError("country", l.T("form.error.country.invalid_country"))
		status = http.StatusUnprocessableEntity
	}
	h.renderEnroll(w, r, v, status, choose, form)
}

func (h *Handler) renderEnroll(w http.ResponseWriter, r *http.Request, v *viewer, status int, choose bool, form formState) {
	l := h.localizer(r)
	country := form.Values["country"]
	page := enrollPage{Form: form, Visitor: v == nil, ChooseCountry: choose, Countries: h.programCountries(l),
		Languages: h.languageTags()}
	if !choose {
		page.CountryName = l.T(countryKey(country))
		page.ChangeCountry = "/enroll?step=country&country=" + url.QueryEscape(country)
		page.Hints = h.countryHints(l, country)
	}
	noStore(w)
	h.render(w, r, status, pageEnroll, "partner", page)
}

// enrollValues are the enrollment form's fields that are shown again
// after a refusal: all of them but the password.
var enrollValues = slices.DeleteFunc(slices.Clone(enrollFields), func(f string) bool { return f == "account_password" })

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request) {
	v, ok := h.enrollGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	form := formState{Values: map[string]string{}}
	for _, name := range enrollValues {
		form.Values[name] = strings.TrimSpace(f.Get(name))
	}
	val := form.Values
	val["country"] = strings.ToUpper(val["country"])
	if !h.offeredCountry(val["country"]) {
		form.fieldError("country", l.T("form.error.country.invalid_country"))
		h.renderEnroll(w, r, v, http.StatusUnprocessableEntity, true, form)
		return
	}
	in := service.EnrollmentInput{
		Program:   string(csphub.ProgramIndirectReseller),
		PartnerID: val["partner_id"],
		ClaimCode: val["claim_code"],
		LegalName: val["legal_name"],
		Address: csphub.Address{Line1: val["address_line1"], Line2: val["address_line2"], City: val["city"],
			State: val["state"], PostalCode: val["postal_code"], Country: val["country"]},
		PrimaryContact: csphub.PrimaryContact{FirstName: val["primary_first_name"], LastName: val["primary_last_name"],
			Email: val["primary_email"], Phone: val["primary_phone"], Lang: val["primary_lang"]},
		SupportContact: csphub.SupportContact{Email: val["support_email"], Phone: val["support_phone"], Website: val["support_website"]},
	}
	actor := csphub.Actor{RequestID: csphub.RequestID(r.Context())}
	password := f.Get("account_password")
	if v != nil {
		actor = v.actor
	} else {
		in.Account = &service.EnrollmentAccount{Domain: val["account_domain"], Name: val["account_name"],
			Email: val["account_email"], Password: password, Lang: val["account_lang"]}
	}
	res, err := h.svc.Enroll(r.Context(), actor, in)
	if err != nil {
		h.enrollRefused(w, r, v, err, form)
		return
	}
	if v != nil {
		redirect(w, r, "/partner/enrollment?done=submitted")
		return
	}
	// The visitor now has an account: its language is the one the pages
	// speak from now on, and it is signed in at once, so that MFA setup
	// follows.
	user := res.User
	if user == nil {
		redirect(w, r, "/signin")
		return
	}
	http.SetCookie(w, h.langCookie(r, user.Lang))
	sess, err := h.svc.SignIn(r.Context(), service.SignInInput{Email: user.Email, Password: password, Address: clientAddress(r)})
	if err != nil {
		h.log.WarnContext(r.Context(), "web: sign-in after enrollment", "err", err, "request_id", csphub.RequestID(r.Context()))
		redirect(w, r, "/signin")
		return
	}
	h.endReplacedSession(r)
	h.setSessionCookie(w, sess.Token, sess.ExpiresAt)
	h.clearDelegationCookie(w)
	if sess.MFARequired {
		redirect(w, r, afterSignIn(sess))
		return
	}
	redirect(w, r, "/partner/enrollment?done=submitted")
}

// enrollRefused shows the form again with why the service refused it,
// keeping everything typed but the password.
func (h *Handler) enrollRefused(w http.ResponseWriter, r *http.Request, v *viewer, err error, form formState) {
	l := h.localizer(r)
	e := csphub.AsError(err)
	if e == nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusUnprocessableEntity
	hints := h.countryHints(l, form.Values["country"])
	switch {
	case e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.programFieldErrors(r, l, &form, e.Fields, enrollFields, hints)
	case e.Code == "email_taken" && v == nil:
		form.fieldError("account_email", l.T(fieldErrorKey("email", "email_taken")))
		status = http.StatusConflict
	case e.Code == "organization_exists" && v == nil:
		form.fieldError("account_domain", l.T("enrollment.error.account_domain.organization_exists"))
		status = http.StatusConflict
	case e.Kind == csphub.KindConflict && e.Code == "enrollment_exists" && v != nil:
		redirect(w, r, "/partner/enrollment")
		return
	case e.Kind == csphub.KindRateLimited:
		form.Problem = throttled(w, l, e)
		status = http.StatusTooManyRequests
	case e.Kind == csphub.KindForbidden:
		h.renderError(w, r, http.StatusForbidden)
		return
	default:
		msg, st, ok := programProblem(l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	h.renderEnroll(w, r, v, status, false, form)
}
