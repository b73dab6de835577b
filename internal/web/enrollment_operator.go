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

// The operator's review console: the queue of applications
// (/operator/enrollments), one application with every check, and the
// reviewer's decision.

// queueStates are the states the queue can be filtered by.
var queueStates = []csphub.EnrollmentState{
	csphub.EnrollmentSubmitted, csphub.EnrollmentEmailVerification, csphub.EnrollmentInReview,
	csphub.EnrollmentInfoRequested, csphub.EnrollmentApproved, csphub.EnrollmentRejected,
}

type queueRow struct {
	service.ReviewQueueItem
	URL         string
	CountryName string
}

// queueRowOf is an application as the queue lists it, on the queue and at
// the head of the operator's overview.
func queueRowOf(l *i18n.Localizer, it service.ReviewQueueItem) queueRow {
	return queueRow{ReviewQueueItem: it, URL: "/operator/enrollments/" + url.PathEscape(it.ID), CountryName: countryName(l, it.Country)}
}

type stateChoice struct {
	Value    csphub.EnrollmentState
	Selected bool
}

type reviewQueuePage struct {
	Nav       programNav
	Items     []queueRow
	State     string
	Country   string
	States    []stateChoice
	Countries []countryOption
	First     string // the first page with the same filters
	PageToken string
	NextURL   string
	// Filtered: a filter is set, so an empty queue says "nothing matches".
	Filtered bool
}

// queueURL is the queue's address with its filters and, if any, a page.
func queueURL(state, country, page string) string {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if country != "" {
		q.Set("country", country)
	}
	if page != "" {
		q.Set("page", page)
	}
	if len(q) == 0 {
		return "/operator/enrollments"
	}
	return "/operator/enrollments?" + q.Encode()
}

func (h *Handler) reviewQueue(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	q := r.URL.Query()
	state := q.Get("state")
	if state != "" && !slices.Contains(queueStates, csphub.EnrollmentState(state)) {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	country := strings.ToUpper(strings.TrimSpace(q.Get("country")))
	if country != "" && !h.offeredCountry(country) {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	token := pageTokenOf(r)
	res, err := h.svc.ReviewQueue(r.Context(), v.actor, service.ReviewQueueQuery{State: state, Country: country,
		PageToken: token, PageSize: h.settingsPageSize})
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page := reviewQueuePage{Nav: programNav{Current: "enrollments"}, State: state, Country: country,
		Countries: h.programCountries(l), First: queueURL(state, country, ""), PageToken: token,
		Filtered: state != "" || country != ""}
	for _, s := range queueStates {
		page.States = append(page.States, stateChoice{Value: s, Selected: string(s) == state})
	}
	for _, it := range res.Items {
		page.Items = append(page.Items, queueRowOf(l, it))
	}
	if res.NextPageToken != "" {
		page.NextURL = queueURL(state, country, res.NextPageToken)
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageOperatorEnrollments, "operator", page)
}

type reviewPage struct {
	Nav        programNav
	Enrollment service.EnrollmentView
	Facts      profileFacts
	// CanDecide: the application is in review and the reader is a
	// reviewer; the decision form shows.
	CanDecide bool
	Action    string
	Form      formState
	Done      string
}

// decisionFields is the order of the decision form's fields.
var decisionFields = []string{"decision", "reason"}

func (h *Handler) reviewEnrollment(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok {
		return
	}
	h.renderReview(w, r, v, http.StatusOK, formState{}, doneOf(r, "approve", "reject", "request_info"))
}

func (h *Handler) renderReview(w http.ResponseWriter, r *http.Request, v *viewer, status int, form formState, done string) {
	id := r.PathValue("id")
	e, err := h.svc.GetEnrollment(r.Context(), v.actor, id)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page := reviewPage{Nav: programNav{Current: "enrollments"}, Enrollment: e, Form: form, Done: done,
		Facts:     factsOf(h.localizer(r), e.Profile),
		Action:    "/operator/enrollments/" + url.PathEscape(id) + "/decision",
		CanDecide: e.State == csphub.EnrollmentInReview && v.reviewsApplications()}
	noStore(w)
	h.render(w, r, status, pageOperatorEnrollment, "operator", page)
}

func (h *Handler) decideEnrollment(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operatorGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	in := service.Decision{Decision: r.PostForm.Get("decision"), Reason: strings.TrimSpace(r.PostForm.Get("reason"))}
	form := formState{Values: map[string]string{"decision": in.Decision, "reason": in.Reason}}
	_, err := h.svc.DecideEnrollment(r.Context(), v.actor, r.PathValue("id"), in)
	if err == nil {
		redirect(w, r, "/operator/enrollments/"+url.PathEscape(r.PathValue("id"))+"?done="+url.QueryEscape(in.Decision))
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.programFieldErrors(r, l, &form, e.Fields, decisionFields, countryHints{})
	default:
		msg, st, ok := programProblem(l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	h.renderReview(w, r, v, status, form, "")
}
