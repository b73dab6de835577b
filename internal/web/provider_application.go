package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"csphub"
	"csphub/internal/service"
)

// The partner's application to become an indirect provider
// (/partner/provider-application): what the membership means, the support
// contact resellers will reach, and the application once sent. Only a
// global admin of an approved indirect reseller applies; the application
// goes straight to the operator's review.

type providerApplicationPage struct {
	Nav programNav
	// Application is the latest indirect provider application, nil when
	// there is none.
	Application *service.EnrollmentView
	// Enrolled: the organization has a partner profile (it enrolled as
	// an indirect reseller); ResellerApproved: that membership is approved.
	Enrolled         bool
	ResellerApproved bool
	GlobalAdmin      bool
	// CanApply: the form shows (a global admin of an approved reseller
	// with no application under way).
	CanApply   bool
	InfoAction string
	Hints      countryHints // the partner's country, for the phone example
	Form       formState
	Done       string
}

// ChecksTable is called by the page as ($.Page.ChecksTable .Checks).
func (providerApplicationPage) ChecksTable(c []csphub.EnrollmentCheck) checksTable {
	return checksTable{Checks: c}
}

// providerApplyFields is the order of the application form's fields.
var providerApplyFields = []string{"support_email", "support_phone", "support_website"}

// providerStanding is where the partner stands with both memberships: its
// profile (nil before it enrolled), its reseller membership's state, and
// its latest provider application's id.
type providerStanding struct {
	Profile       *service.PartnerProfileView
	Reseller      csphub.EnrollmentState
	ProviderApp   string
	ProviderState csphub.EnrollmentState
}

func (h *Handler) providerStandingOf(ctx context.Context, v *viewer) (providerStanding, error) {
	var st providerStanding
	p, err := h.svc.GetPartnerProfile(ctx, v.actor)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Profile = &p
	for _, m := range p.Memberships {
		switch m.Program {
		case csphub.ProgramIndirectReseller:
			st.Reseller = m.State
		case csphub.ProgramIndirectProvider:
			st.ProviderApp, st.ProviderState = m.EnrollmentID, m.State
		}
	}
	return st, nil
}

func (h *Handler) providerApplication(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	h.renderProviderApplication(w, r, v, http.StatusOK, nil, doneOf(r, "submitted", "answered"))
}

// renderProviderApplication shows the page; form is what was typed, nil
// to prefill the support contact from the profile.
func (h *Handler) renderProviderApplication(w http.ResponseWriter, r *http.Request, v *viewer, status int, form *formState, done string) {
	st, err := h.providerStandingOf(r.Context(), v)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	l := h.localizer(r)
	page := providerApplicationPage{Nav: programNav{Current: "provider_application"}, Done: done,
		Enrolled: st.Profile != nil, ResellerApproved: st.Reseller == csphub.EnrollmentApproved,
		GlobalAdmin: v.hasAnyRole(csphub.RoleGlobalAdmin)}
	if st.ProviderApp != "" {
		e, err := h.svc.GetEnrollment(r.Context(), v.actor, st.ProviderApp)
		if err != nil {
			h.programFail(w, r, err)
			return
		}
		page.Application = &e
		page.InfoAction = providerApplicationPath + "/" + url.PathEscape(e.ID) + "/info"
	}
	page.CanApply = page.GlobalAdmin && page.ResellerApproved &&
		(page.Application == nil || page.Application.State == csphub.EnrollmentRejected)
	if form != nil {
		page.Form = *form
	} else if st.Profile != nil {
		sc := st.Profile.Profile.SupportContact
		page.Form = formState{Values: map[string]string{"support_email": sc.Email, "support_phone": sc.Phone, "support_website": sc.Website}}
	}
	if st.Profile != nil {
		page.Hints = h.countryHints(l, st.Profile.Profile.Address.Country)
	}
	noStore(w)
	h.render(w, r, status, pageProviderApply, "partner", page)
}

func (h *Handler) applyAsProvider(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	form := formState{Values: map[string]string{}}
	for _, name := range providerApplyFields {
		form.Values[name] = strings.TrimSpace(r.PostForm.Get(name))
	}
	val := form.Values
	_, err := h.svc.Enroll(r.Context(), v.actor, service.EnrollmentInput{
		Program:        string(csphub.ProgramIndirectProvider),
		SupportContact: csphub.SupportContact{Email: val["support_email"], Phone: val["support_phone"], Website: val["support_website"]},
	})
	if err == nil {
		redirect(w, r, providerApplicationPath+"?done=submitted")
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		country := ""
		if p, perr := h.svc.GetPartnerProfile(r.Context(), v.actor); perr == nil {
			country = p.Profile.Address.Country
		}
		h.programFieldErrors(r, l, &form, e.Fields, providerApplyFields, h.countryHints(l, country))
	case e != nil && e.Code == "mfa_required":
		h.programFail(w, r, err)
		return
	default:
		// Not an approved reseller, an application already under way,
		// not a global admin: the page says which, and shows where the
		// partner stands.
		msg, st, ok := providerProblem(l, err)
		if !ok {
			if msg, st, ok = programProblem(l, err); !ok {
				h.programFail(w, r, err)
				return
			}
		}
		form.Problem, status = msg, st
	}
	h.renderProviderApplication(w, r, v, status, &form, "")
}

// answerProviderInfoRequest answers the reviewer's request for
// information about the provider application.
func (h *Handler) answerProviderInfoRequest(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	msg := strings.TrimSpace(r.PostForm.Get("message"))
	form := formState{Values: map[string]string{"message": msg}}
	_, err := h.svc.AnswerInfoRequest(r.Context(), v.actor, r.PathValue("id"), service.InfoAnswer{Message: msg})
	if err == nil {
		redirect(w, r, providerApplicationPath+"?done=answered")
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.programFieldErrors(r, l, &form, e.Fields, []string{"message"}, countryHints{})
	default:
		text, st, ok := programProblem(l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = text, st
	}
	h.renderProviderApplication(w, r, v, status, &form, "")
}

// providerCard is what the partner's overview shows about the indirect
// provider membership: an offer to apply, to a global admin of an approved
// reseller that has not applied, or where its application stands.
type providerCard struct {
	Offer bool
	State csphub.EnrollmentState // of the latest application, "" for none
}

// providerCardOf reads the profile's memberships once the reseller's
// application is approved; before that there is nothing to show.
func (h *Handler) providerCardOf(ctx context.Context, v *viewer, o service.PartnerOverview) (providerCard, error) {
	if o.Enrollment == nil || o.Enrollment.State != csphub.EnrollmentApproved {
		return providerCard{}, nil
	}
	st, err := h.providerStandingOf(ctx, v)
	if err != nil {
		return providerCard{}, err
	}
	c := providerCard{State: st.ProviderState}
	c.Offer = st.ProviderApp == "" && st.Reseller == csphub.EnrollmentApproved && v.hasAnyRole(csphub.RoleGlobalAdmin)
	return c, nil
}
