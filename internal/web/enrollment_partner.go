package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/service"
)

// The partner's program pages: the CSP overview (/partner), the
// application and its review (/partner/enrollment), and the partner
// profile (/partner/profile).

// agreementBanner is what the agreement banner takes: where the partner
// stands with its region's agreement, and whether the reader may accept it.
type agreementBanner struct {
	Status    csphub.AgreementStatus
	CanAccept bool
}

type partnerOverviewPage struct {
	Overview service.PartnerOverview
	Banner   agreementBanner
	// UserURL is the reader's own page in User management, where the
	// admin agent role is given.
	UserURL string
	Nav     programNav
	// CanEnrol: the reader is a global admin, who alone may enrol.
	CanEnrol bool
	// Provider is the indirect provider membership: an offer to apply,
	// or where the application stands.
	Provider providerCard
	// Channel is the picture of the partner's relationships, once enrolled.
	Channel *channelPicture
	// Figures are the partner's numbers for its roles, once a membership
	// is approved; Activity its latest audit records, for admins
	// (ShowActivity), who may have none yet.
	Figures      []overviewFigure
	ShowActivity bool
	Activity     []activityRow
}

func (h *Handler) partnerOverview(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	o, err := h.svc.PartnerOverview(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	l := h.localizer(r)
	page := partnerOverviewPage{Overview: o, Nav: programNav{Current: "overview"},
		Banner:   agreementBanner{Status: o.Agreement, CanAccept: o.CanAcceptAgreement},
		UserURL:  "/settings/users/" + url.PathEscape(v.actor.ID),
		CanEnrol: v.hasAnyRole(csphub.RoleGlobalAdmin),
		Figures:  partnerFiguresOf(l, o.Figures), ShowActivity: o.Activity != nil, Activity: activityRowsOf(l, o.Activity)}
	if page.Provider, err = h.providerCardOf(r.Context(), v, o); err != nil {
		h.programFail(w, r, err)
		return
	}
	if o.Enrolled {
		if page.Channel, err = h.channelOf(r, v); err != nil {
			h.programFail(w, r, err)
			return
		}
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pagePartnerOverview, "partner", page)
}

// --- the application ---

type partnerEnrollmentPage struct {
	Nav programNav
	// Enrollment is the latest indirect reseller application, nil when
	// there is none.
	Enrollment *service.EnrollmentView
	Earlier    []service.EnrollmentView // earlier applications, newest first
	// CanEnrol: the reader may start an application (a global admin with
	// none under way).
	CanEnrol   bool
	InfoAction string
	Resend     string
	Form       formState
	Done       string
}

func (h *Handler) partnerEnrollment(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	h.renderPartnerEnrollment(w, r, v, http.StatusOK, formState{}, doneOf(r, "submitted", "answered", "resent"))
}

func (h *Handler) renderPartnerEnrollment(w http.ResponseWriter, r *http.Request, v *viewer, status int, form formState, done string) {
	list, err := h.svc.ListEnrollments(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page := partnerEnrollmentPage{Nav: programNav{Current: "enrollment"}, Form: form, Done: done}
	// Newest first, whatever order the service lists them in.
	slices.SortStableFunc(list, func(a, b service.EnrollmentView) int { return b.SubmittedAt.Compare(a.SubmittedAt) })
	for i := range list {
		e := list[i]
		if e.Program != csphub.ProgramIndirectReseller {
			continue
		}
		if page.Enrollment == nil {
			page.Enrollment = &e
			base := "/partner/enrollment/" + url.PathEscape(e.ID)
			page.InfoAction, page.Resend = base+"/info", base+"/resend"
			continue
		}
		page.Earlier = append(page.Earlier, e)
	}
	page.CanEnrol = v.hasAnyRole(csphub.RoleGlobalAdmin) &&
		(page.Enrollment == nil || page.Enrollment.State == csphub.EnrollmentRejected)
	noStore(w)
	h.render(w, r, status, pagePartnerEnrollment, "partner", page)
}

func (h *Handler) answerInfoRequest(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	msg := strings.TrimSpace(r.PostForm.Get("message"))
	form := formState{Values: map[string]string{"message": msg}}
	_, err := h.svc.AnswerInfoRequest(r.Context(), v.actor, r.PathValue("id"), service.InfoAnswer{Message: msg})
	if err == nil {
		redirect(w, r, "/partner/enrollment?done=answered")
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.programFieldErrors(r, l, &form, e.Fields, []string{"message"}, countryHints{})
	default:
		// The reviewer decided meanwhile: the page shows where it stands.
		msg, st, ok := programProblem(l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	h.renderPartnerEnrollment(w, r, v, status, form, "")
}

func (h *Handler) resendVerification(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	err := h.svc.ResendEnrollmentEmail(r.Context(), v.actor, r.PathValue("id"))
	if err == nil {
		redirect(w, r, "/partner/enrollment?done=resent")
		return
	}
	l := h.localizer(r)
	e := csphub.AsError(err)
	var form formState
	var status int
	if e != nil && e.Kind == csphub.KindRateLimited {
		form.Problem, status = throttled(w, l, e), http.StatusTooManyRequests
	} else {
		msg, st, ok := programProblem(l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	h.renderPartnerEnrollment(w, r, v, status, form, "")
}

// --- the partner profile ---

type partnerProfilePage struct {
	Nav      programNav
	Profile  *service.PartnerProfileView // nil: not enrolled yet
	Facts    profileFacts
	CanEdit  bool
	Approved bool // a change of legal name or country goes back to review
	ETag     string
	Form     formState
	Done     string
	// The edit form's choices.
	Countries []countryOption
	Languages []string
	Hints     countryHints
	// The country is a select on this form, never fixed text.
	CountryName, ChangeCountry string
}

// profileFields is the order of the profile form's fields.
var profileFields = []string{
	"legal_name", "country", "address_line1", "address_line2", "city", "state", "postal_code",
	"primary_first_name", "primary_last_name", "primary_email", "primary_phone", "primary_lang",
	"support_email", "support_phone", "support_website",
}

// canEditProfile: the roles that may change the partner profile.
func (v *viewer) canEditProfile() bool {
	return v.hasAnyRole(csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin)
}

func formOfProfile(p csphub.PartnerProfile) formState {
	a, pc, sc := p.Address, p.PrimaryContact, p.SupportContact
	return formState{Values: map[string]string{
		"legal_name": p.LegalName, "address_line1": a.Line1, "address_line2": a.Line2, "city": a.City,
		"state": a.State, "postal_code": a.PostalCode, "country": a.Country,
		"primary_first_name": pc.FirstName, "primary_last_name": pc.LastName, "primary_email": pc.Email,
		"primary_phone": pc.Phone, "primary_lang": pc.Lang,
		"support_email": sc.Email, "support_phone": sc.Phone, "support_website": sc.Website,
	}}
}

func (h *Handler) partnerProfile(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	// While acting in another organization, its profile, read-only.
	r, v = h.profileViewer(w, r, v)
	p, err := h.svc.GetPartnerProfile(r.Context(), v.actor)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		noStore(w)
		h.render(w, r, http.StatusOK, pagePartnerProfile, "partner", partnerProfilePage{Nav: programNav{Current: "profile"}})
		return
	}
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	h.renderProfile(w, r, v, http.StatusOK, p, p.ETag, formOfProfile(p.Profile), doneOf(r, "updated"))
}

func (h *Handler) renderProfile(w http.ResponseWriter, r *http.Request, v *viewer, status int, p service.PartnerProfileView, etag string, form formState, done string) {
	l := h.localizer(r)
	page := partnerProfilePage{Nav: programNav{Current: "profile"}, Profile: &p, CanEdit: v.canEditProfile(),
		Facts: factsOf(l, p.Profile),
		ETag:  etag, Form: form, Done: done, Countries: h.programCountries(l), Languages: h.languageTags(),
		Hints: h.countryHints(l, form.Values["country"])}
	// A profile entered through the API may be in a country the form does
	// not list: it stays a choice, so that saving keeps it.
	if c := p.Profile.Address.Country; c != "" && !slices.ContainsFunc(page.Countries, func(o countryOption) bool { return o.Code == c }) {
		page.Countries = append([]countryOption{{Code: c, Name: countryName(l, c)}}, page.Countries...)
	}
	for _, m := range p.Memberships {
		if m.Program == csphub.ProgramIndirectReseller && m.State == csphub.EnrollmentApproved {
			page.Approved = true
		}
	}
	noStore(w)
	h.render(w, r, status, pagePartnerProfile, "partner", page)
}

func (h *Handler) partnerProfileUpdate(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	form := formState{Values: map[string]string{}}
	for _, name := range profileFields {
		form.Values[name] = strings.TrimSpace(f.Get(name))
	}
	val := form.Values
	val["country"] = strings.ToUpper(val["country"])
	legal := val["legal_name"]
	patch := service.ProfilePatch{
		LegalName: &legal,
		Address: &csphub.Address{Line1: val["address_line1"], Line2: val["address_line2"], City: val["city"],
			State: val["state"], PostalCode: val["postal_code"], Country: val["country"]},
		PrimaryContact: &csphub.PrimaryContact{FirstName: val["primary_first_name"], LastName: val["primary_last_name"],
			Email: val["primary_email"], Phone: val["primary_phone"], Lang: val["primary_lang"]},
		SupportContact: &csphub.SupportContact{Email: val["support_email"], Phone: val["support_phone"], Website: val["support_website"]},
	}
	etag := f.Get("etag")
	if _, err := h.svc.UpdatePartnerProfile(r.Context(), v.actor, ifMatchOf(etag), patch); err != nil {
		h.profileRefused(w, r, v, err, form, etag)
		return
	}
	redirect(w, r, "/partner/profile?done=updated")
}

// profileRefused shows the profile again with why the change was refused.
// A stale ETag shows the profile as it is now, with the new ETag, so that
// the reader makes the change again knowingly; any other refusal keeps
// what was typed.
func (h *Handler) profileRefused(w http.ResponseWriter, r *http.Request, v *viewer, err error, form formState, etag string) {
	l := h.localizer(r)
	e := csphub.AsError(err)
	if e == nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusUnprocessableEntity
	switch {
	case e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.programFieldErrors(r, l, &form, e.Fields, profileFields, h.countryHints(l, form.Values["country"]))
	case e.Kind == csphub.KindPreconditionFailed:
		// A stale ETag, whatever the code.
		form.Problem, status = l.T("enrollment.error.etag_mismatch"), http.StatusPreconditionFailed
	case e.Kind == csphub.KindForbidden && e.Code != "mfa_required":
		form.Problem, status = l.T("enrollment.error.profile_forbidden"), http.StatusForbidden
	default:
		msg, st, ok := programProblem(l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	cur, gerr := h.svc.GetPartnerProfile(r.Context(), v.actor)
	if gerr != nil {
		h.programFail(w, r, gerr)
		return
	}
	if e.Kind == csphub.KindPreconditionFailed {
		fresh := formOfProfile(cur.Profile)
		fresh.Problem = form.Problem
		form, etag = fresh, cur.ETag
	}
	h.renderProfile(w, r, v, status, cur, etag, form, "")
}
