package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Agreements is what the partner agreement pages need of the service.
type Agreements interface {
	ListAgreements(ctx context.Context, actor csphub.Actor) ([]csphub.Agreement, error)
	AgreementRegions(ctx context.Context, actor csphub.Actor) ([]csphub.Region, error)
	PublishAgreement(ctx context.Context, actor csphub.Actor, in service.PublishAgreementInput) (csphub.Agreement, error)
	OwnAgreementStatus(ctx context.Context, actor csphub.Actor) (csphub.AgreementStatus, error)
	AcceptAgreement(ctx context.Context, actor csphub.Actor, agreementID string, in service.AcceptAgreementInput) (csphub.AgreementAcceptance, error)
}

// The partner agreement pages: the operator's versions and publication
// form (/operator/agreements), and the partner's agreement with the
// global admin's acceptance (/partner/agreement).
const (
	pageOperatorAgreements = "operator_agreements"
	pagePartnerAgreement   = "partner_agreement"
)

var agreementPageNames = []string{pageOperatorAgreements, pagePartnerAgreement}

func (h *Handler) registerAgreementsPages(mux *http.ServeMux) {
	mux.Handle("GET /operator/agreements", h.page(h.operatorAgreements))
	mux.Handle("POST /operator/agreements", h.post(h.publishAgreement))
	mux.Handle("GET /partner/agreement", h.page(h.partnerAgreement))
	mux.Handle("POST /partner/agreement", h.post(h.acceptAgreement))
}

// maxAgreementFormBytes caps the publication form: the agreement's text
// may run to a few hundred kilobytes.
const maxAgreementFormBytes = 1 << 20

// agreementFieldErrors translates the service's field errors: a message
// under "agreement.error.<field>.<code>", else a generic one and a log
// line. Messages about a field the form does not show go to the whole
// form.
func (h *Handler) agreementFieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string) {
	for _, fe := range fields {
		key := "agreement.error." + fe.Field + "." + fe.Code
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", fe.Code,
				"request_id", csphub.RequestID(r.Context()))
			key = "form.error.invalid"
		}
		if !slices.Contains(order, fe.Field) {
			if f.Problem == "" {
				f.Problem = l.T(key)
			}
			continue
		}
		f.fieldError(fe.Field, l.T(key))
	}
	f.sortSummary(order)
}

// regionName is a region's name in the reader's language, or the name the
// operator gave it for a region the catalogs do not know.
func regionName(l *i18n.Localizer, code, fallback string) string {
	if key := "agreement.region." + code; l.Has(key) {
		return l.T(key)
	}
	if fallback != "" {
		return fallback
	}
	return code
}

// paragraphsOf splits an agreement's plain text into paragraphs (blank
// lines between them), each a list of lines.
func paragraphsOf(body string) [][]string {
	var out [][]string
	for _, p := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.Trim(p, "\n"); strings.TrimSpace(p) != "" {
			out = append(out, strings.Split(p, "\n"))
		}
	}
	return out
}

// --- the operator's versions ---

type agreementRow struct {
	csphub.Agreement
	RegionNames string
	// State: "in_force" in at least one of its regions, "scheduled" (takes
	// effect later) or "superseded".
	State string
}

type regionChoice struct {
	Code, Name string
	Checked    bool
}

type operatorAgreementsPage struct {
	Nav        programNav
	Agreements []agreementRow
	CanPublish bool
	Regions    []regionChoice
	Form       formState
	Done       string
}

// publishFields is the order of the publication form's fields.
var publishFields = []string{"version", "title", "effective_at", "regions", "body", "url"}

// agreementRows names each version's regions and says whether it is in
// force, scheduled or superseded. list comes the latest effective first.
func agreementRows(l *i18n.Localizer, list []csphub.Agreement, names map[string]string, now time.Time) []agreementRow {
	current := map[string]bool{} // region → a version in force was seen
	rows := make([]agreementRow, len(list))
	for i, a := range list {
		row := agreementRow{Agreement: a, State: "superseded"}
		var regionNames []string
		for _, r := range a.Regions {
			regionNames = append(regionNames, regionName(l, r, names[r]))
			if a.EffectiveAt.After(now) {
				row.State = "scheduled"
			} else if !current[r] {
				current[r] = true
				row.State = "in_force"
			}
		}
		row.RegionNames = strings.Join(regionNames, ", ")
		rows[i] = row
	}
	return rows
}

func (h *Handler) operatorAgreements(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	h.renderOperatorAgreements(w, r, v, http.StatusOK, formState{}, doneOf(r, "published"))
}

func (h *Handler) renderOperatorAgreements(w http.ResponseWriter, r *http.Request, v *viewer, status int, form formState, done string) {
	l := h.localizer(r)
	list, err := h.svc.ListAgreements(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	regions, err := h.svc.AgreementRegions(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	names := map[string]string{}
	checked := strings.Split(form.Values["regions"], ",")
	page := operatorAgreementsPage{Nav: programNav{Current: "agreements"}, Form: form, Done: done,
		CanPublish: v.hasAnyRole(csphub.RoleOperatorAdmin)}
	for _, rg := range regions {
		names[rg.Code] = rg.Name
		page.Regions = append(page.Regions, regionChoice{Code: rg.Code, Name: regionName(l, rg.Code, rg.Name),
			Checked: slices.Contains(checked, rg.Code)})
	}
	page.Agreements = agreementRows(l, list, names, h.clock.Now())
	noStore(w)
	h.render(w, r, status, pageOperatorAgreements, "operator", page)
}

func (h *Handler) publishAgreement(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAgreementFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusRequestEntityTooLarge)
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	in := service.PublishAgreementInput{Version: strings.TrimSpace(f.Get("version")), Title: strings.TrimSpace(f.Get("title")),
		Body: f.Get("body"), URL: strings.TrimSpace(f.Get("url")), Regions: f["regions"]}
	form := formState{Values: map[string]string{"version": in.Version, "title": in.Title, "body": in.Body, "url": in.URL,
		"effective_at": strings.TrimSpace(f.Get("effective_at")), "regions": strings.Join(in.Regions, ",")}}
	var dateBad bool
	if d := form.Values["effective_at"]; d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			dateBad = true
		}
		in.EffectiveAt = t
	}
	// An unreadable date goes to the service as no date, which it never
	// publishes; its other refusals are shown with the date's.
	_, err := h.svc.PublishAgreement(r.Context(), v.actor, in)
	if err == nil {
		redirect(w, r, "/operator/agreements?done=published")
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	if dateBad && e != nil && e.Kind == csphub.KindInvalid {
		form.fieldError("effective_at", l.T("agreement.error.effective_at.invalid_date"))
	}
	switch {
	case e != nil && (e.Kind == csphub.KindInvalid || e.Kind == csphub.KindConflict) && len(e.Fields) > 0:
		if e.Kind == csphub.KindConflict {
			status = http.StatusConflict
		}
		h.agreementFieldErrors(r, l, &form, e.Fields, publishFields)
	default:
		h.programFail(w, r, err)
		return
	}
	h.renderOperatorAgreements(w, r, v, status, form, "")
}

// --- the partner's agreement ---

type partnerAgreementPage struct {
	Nav    programNav
	Status csphub.AgreementStatus
	Banner agreementBanner
	// RegionName names the partner's region in the reader's language.
	RegionName string
	// Paragraphs is the text of the version in force.
	Paragraphs [][]string
	CanAccept  bool
	Form       formState
	Done       string
}

// acceptFields is the order of the acceptance form's fields.
var acceptFields = []string{"signer_name", "signer_email", "signer_phone", "accept"}

func (h *Handler) partnerAgreement(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	form := formState{Values: map[string]string{}}
	if u := v.me.User; u != nil {
		form.Values["signer_name"], form.Values["signer_email"] = u.Name, u.Email
	}
	h.renderPartnerAgreement(w, r, v, http.StatusOK, form, doneOf(r, "accepted"))
}

func (h *Handler) renderPartnerAgreement(w http.ResponseWriter, r *http.Request, v *viewer, status int, form formState, done string) {
	l := h.localizer(r)
	st, err := h.svc.OwnAgreementStatus(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	canAccept := service.CanAcceptAgreement(v.actor)
	page := partnerAgreementPage{Nav: programNav{Current: "agreement"}, Status: st, CanAccept: canAccept,
		Banner: agreementBanner{Status: st, CanAccept: canAccept}, Form: form, Done: done}
	if st.Region != "" {
		page.RegionName = regionName(l, st.Region, "")
	}
	if st.Current != nil {
		page.Paragraphs = paragraphsOf(st.Current.Body)
	}
	noStore(w)
	h.render(w, r, status, pagePartnerAgreement, "partner", page)
}

func (h *Handler) acceptAgreement(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	in := service.AcceptAgreementInput{SignerName: strings.TrimSpace(f.Get("signer_name")),
		SignerEmail: strings.TrimSpace(f.Get("signer_email")), SignerPhone: strings.TrimSpace(f.Get("signer_phone"))}
	form := formState{Values: map[string]string{"signer_name": in.SignerName, "signer_email": in.SignerEmail,
		"signer_phone": in.SignerPhone, "accept": f.Get("accept")}}
	if !service.CanAcceptAgreement(v.actor) {
		h.renderError(w, r, http.StatusForbidden)
		return
	}
	if f.Get("accept") != "yes" {
		// Nothing is recorded unless the reader ticked the box.
		form.fieldError("accept", l.T("agreement.error.accept.required"))
		h.renderPartnerAgreement(w, r, v, http.StatusUnprocessableEntity, form, "")
		return
	}
	_, err := h.svc.AcceptAgreement(r.Context(), v.actor, strings.TrimSpace(f.Get("agreement")), in)
	if err == nil {
		redirect(w, r, "/partner/agreement?done=accepted")
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.agreementFieldErrors(r, l, &form, e.Fields, acceptFields)
	case e != nil && (e.Code == "not_current_agreement" || e.Code == "agreement_not_found"):
		// A newer version took effect since the page was read: the page
		// shows it, to be read and accepted, its box unticked.
		form.Problem, status = l.T("agreement.error.not_current"), http.StatusConflict
		delete(form.Values, "accept")
	case e != nil && e.Code == "not_enrolled":
		form.Problem, status = l.T("agreement.error.not_enrolled"), http.StatusConflict
	default:
		h.programFail(w, r, err)
		return
	}
	h.renderPartnerAgreement(w, r, v, status, form, "")
}
