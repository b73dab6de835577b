package web

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// "Invite new customers": the reseller's invitation form, per provider,
// its list of invitations with Resend and Cancel, and the CSV upload that
// invites many customers at once and reports on every row.

// inviteCustomerFields is the order of the invitation form's fields.
var inviteCustomerFields = []string{"provider_id", "email", "company_name", "lang", "reseller_roles", "provider_roles"}

type customerInvitePage struct {
	Nav       programNav
	Form      formState
	Providers []partnerChoice
	Languages []string
	// The delegated admin roles the invitation may ask for, for the
	// reseller and for the provider.
	ResellerRoles []roleOption
	ProviderRoles []roleOption
	CanInvite     bool
}

func (h *Handler) customerInviteBase(r *http.Request, v *viewer, providerID string) (customerInvitePage, error) {
	l := h.localizer(r)
	providers, err := h.partnersOf(r.Context(), v.actor, resellerSide, csphub.PartnershipActive)
	if err != nil {
		return customerInvitePage{}, err
	}
	providers, _ = selectPartner(providers, providerID)
	return customerInvitePage{Nav: programNav{Current: "customer_invitations"}, Providers: providers, Languages: h.languageTags(),
		Form:          formState{Values: map[string]string{"lang": l.Lang(), "provider_id": providerID}},
		ResellerRoles: roleOptions(l, csphub.CustomerGrantRoles, nil), ProviderRoles: roleOptions(l, csphub.CustomerGrantRoles, nil),
		CanInvite: v.hasAnyRole(customerInviters...)}, nil
}

func (h *Handler) customerInviteForm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	providerID := r.URL.Query().Get("provider_id")
	if len(providerID) > 64 {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	page, err := h.customerInviteBase(r, v, providerID)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pageCustomerInvite, navCustomers, page)
}

func (h *Handler) inviteCustomer(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	in := service.InviteCustomerInput{ProviderID: strings.TrimSpace(f.Get("provider_id")), Email: strings.TrimSpace(f.Get("email")),
		CompanyName: strings.TrimSpace(f.Get("company_name")), Lang: f.Get("lang"),
		ResellerRoles: f["reseller_roles"], ProviderRoles: f["provider_roles"]}
	_, err := h.svc.InviteCustomer(r.Context(), v.actor, in)
	if err == nil {
		redirect(w, r, customerInvitationsPath+"?done=invited")
		return
	}
	page, perr := h.customerInviteBase(r, v, in.ProviderID)
	if perr != nil {
		h.programFail(w, r, perr)
		return
	}
	page.Form.Values = map[string]string{"provider_id": in.ProviderID, "email": in.Email, "company_name": in.CompanyName, "lang": in.Lang}
	page.ResellerRoles = roleOptions(l, csphub.CustomerGrantRoles, in.ResellerRoles)
	page.ProviderRoles = roleOptions(l, csphub.CustomerGrantRoles, in.ProviderRoles)
	status := http.StatusUnprocessableEntity
	e := csphub.AsError(err)
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.customerFieldErrors(r, l, &page.Form, e.Fields, inviteCustomerFields, "")
	default:
		msg, st, ok := h.customerRefusal(w, r, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		status = st
		if e.Code == "relationship_not_active" {
			// The provider chosen is the problem: say so next to it.
			page.Form.fieldError("provider_id", msg)
		} else {
			page.Form.Problem = msg
		}
	}
	noStore(w)
	h.render(w, r, status, pageCustomerInvite, navCustomers, page)
}

// --- the list ---

type customerInvitationRow struct {
	ID           string
	Email        string
	CompanyName  string
	ProviderName string
	State        csphub.CustomerInvitationState
	StateText    string
	Sent         time.Time
	SendCount    int
	Expires      time.Time
	ResendURL    string
	CancelURL    string
}

// bulkRow is one row of a CSV upload's report.
type bulkRow struct {
	Line   int
	Email  string
	Sent   bool
	Reason string
}

type customerInvitationsPage struct {
	Nav       programNav
	Rows      []customerInvitationRow
	State     string
	States    []partnershipStateChoice
	First     string
	PageToken string
	NextURL   string
	CanInvite bool
	Done      string
	Actions   formState // a refused Resend or Cancel
	Upload    formState // a refused upload
	// Report is the outcome of an upload, row by row.
	Report        []bulkRow
	ReportSent    int
	ReportRefused int
	HasReport     bool
	MaxRows       int
}

var customerInvitationStates = []csphub.CustomerInvitationState{csphub.CustomerInvitationPending, csphub.CustomerInvitationAccepted,
	csphub.CustomerInvitationDeclined, csphub.CustomerInvitationCancelled, csphub.CustomerInvitationExpired}

func (h *Handler) customerInvitations(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	state := r.URL.Query().Get("state")
	valid := state == ""
	for _, s := range customerInvitationStates {
		valid = valid || string(s) == state
	}
	if !valid {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	page := customerInvitationsPage{State: state, Done: doneOf(r, "invited", "resend", "cancel")}
	h.renderCustomerInvitations(w, r, v, http.StatusOK, page, pageTokenOf(r))
}

func (h *Handler) renderCustomerInvitations(w http.ResponseWriter, r *http.Request, v *viewer, status int, page customerInvitationsPage, pageToken string) {
	l := h.localizer(r)
	res, err := h.svc.ListCustomerInvitations(r.Context(), v.actor, page.State, pageToken, h.settingsPageSize)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page.Nav = programNav{Current: "customer_invitations"}
	page.CanInvite = v.hasAnyRole(customerInviters...)
	page.MaxRows = maxBulkRows
	page.PageToken = pageToken
	page.First = customerInvitationsListURL(page.State, "")
	for _, s := range customerInvitationStates {
		page.States = append(page.States, partnershipStateChoice{Value: csphub.PartnershipState(s), Label: customerInvitationStateLabel(l, s),
			Selected: string(s) == page.State})
	}
	now := h.clock.Now()
	for _, it := range res.Items {
		row := customerInvitationRow{ID: it.ID, Email: it.Email, CompanyName: it.CompanyName, ProviderName: it.ProviderName,
			State: it.State, StateText: customerInvitationStateLabel(l, it.State), Sent: it.LastSentAt, SendCount: it.SendCount, Expires: it.ExpiresAt}
		if it.State == csphub.CustomerInvitationPending && !now.Before(it.ExpiresAt) {
			row.State, row.StateText = csphub.CustomerInvitationExpired, customerInvitationStateLabel(l, csphub.CustomerInvitationExpired)
		}
		if row.State == csphub.CustomerInvitationPending && page.CanInvite {
			base := customerInvitationsPath + "/" + url.PathEscape(it.ID)
			row.ResendURL, row.CancelURL = base+"/resend", base+"/cancel"
		}
		page.Rows = append(page.Rows, row)
	}
	if res.NextPageToken != "" {
		page.NextURL = customerInvitationsListURL(page.State, res.NextPageToken)
	}
	noStore(w)
	h.render(w, r, status, pageCustomerInvitations, navCustomers, page)
}

func customerInvitationsListURL(state, page string) string {
	v := url.Values{}
	if state != "" {
		v.Set("state", state)
	}
	if page != "" {
		v.Set("page", page)
	}
	if len(v) == 0 {
		return customerInvitationsPath
	}
	return customerInvitationsPath + "?" + v.Encode()
}

// customerInvitationAction resends or cancels one pending invitation.
func (h *Handler) customerInvitationAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := h.partnerGuard(w, r)
		if !ok || !h.parseForm(w, r) {
			return
		}
		id := r.PathValue("id")
		var err error
		if action == "resend" {
			_, err = h.svc.ResendCustomerInvitation(r.Context(), v.actor, id)
		} else {
			_, err = h.svc.CancelCustomerInvitation(r.Context(), v.actor, id)
		}
		if err == nil {
			redirect(w, r, customerInvitationsPath+"?done="+action)
			return
		}
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			h.renderError(w, r, http.StatusNotFound)
			return
		}
		msg, status, ok := h.customerRefusal(w, r, h.localizer(r), err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		page := customerInvitationsPage{Actions: formState{Problem: msg}}
		h.renderCustomerInvitations(w, r, v, status, page, "")
	}
}

// --- the CSV upload ---

const (
	maxBulkRows = 500
	// maxBulkBytes bounds the uploaded file: 500 rows of an email, a
	// provider and a company name fit in far less.
	maxBulkBytes = 512 << 10
)

var partnerIDShape = regexp.MustCompile(`^[1-9][0-9]{5,9}$`)

// bulkInviteCustomers reads an uploaded CSV (email, provider, company
// name; the provider by its organization id or its partner ID; a first
// line naming the columns is skipped), has the service check every row
// and send the valid ones, and shows the report of every row.
func (h *Handler) bulkInviteCustomers(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	refuse := func(status int, key string, args ...any) {
		page := customerInvitationsPage{}
		page.Upload.fieldError("file", l.T(key, args...))
		h.renderCustomerInvitations(w, r, v, status, page, "")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBulkBytes+(64<<10))
	if err := r.ParseMultipartForm(maxBulkBytes); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(http.StatusRequestEntityTooLarge, "customer.bulk.error.too_big")
			return
		}
		refuse(http.StatusBadRequest, "customer.bulk.error.no_file")
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	file, _, err := r.FormFile("file")
	if err != nil {
		refuse(http.StatusUnprocessableEntity, "customer.bulk.error.no_file")
		return
	}
	defer file.Close()
	records, lines, err := readInvitationCSV(file)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			refuse(http.StatusUnprocessableEntity, "customer.bulk.error.malformed", "line", pe.Line)
			return
		}
		refuse(http.StatusUnprocessableEntity, "customer.bulk.error.not_text")
		return
	}
	switch {
	case len(records) == 0:
		refuse(http.StatusUnprocessableEntity, "customer.bulk.error.empty")
		return
	case len(records) > maxBulkRows:
		refuse(http.StatusUnprocessableEntity, "customer.bulk.error.too_many", "count", maxBulkRows)
		return
	}
	// A provider may be named by its partner ID: the reseller's own
	// providers say which organization holds it.
	providers, err := h.partnersOf(r.Context(), v.actor, resellerSide, "")
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	byPartnerID := map[string]string{}
	for _, p := range providers {
		if p.PartnerID != "" {
			byPartnerID[p.PartnerID] = p.OrgID
		}
	}
	batch := service.BulkCustomerInvitations{Items: make([]service.InviteCustomerInput, len(records))}
	for i, rec := range records {
		provider := rec[1]
		if id, ok := byPartnerID[provider]; ok && partnerIDShape.MatchString(provider) {
			provider = id
		}
		batch.Items[i] = service.InviteCustomerInput{Email: rec[0], ProviderID: provider, CompanyName: rec[2], Lang: l.Lang()}
	}
	report, err := h.svc.BulkInviteCustomers(r.Context(), v.actor, batch)
	if err != nil {
		msg, status, ok := h.customerRefusal(w, r, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		h.renderCustomerInvitations(w, r, v, status, customerInvitationsPage{Upload: formState{Problem: msg}}, "")
		return
	}
	page := customerInvitationsPage{HasReport: true, ReportSent: report.Sent, ReportRefused: report.Refused}
	for _, res := range report.Results {
		row := bulkRow{Email: res.Email, Sent: res.Error == nil}
		if i := res.Row - 1; i >= 0 && i < len(lines) {
			row.Line = lines[i]
		}
		if res.Error != nil {
			row.Reason = h.bulkReason(r, l, res.Error)
		}
		page.Report = append(page.Report, row)
	}
	h.renderCustomerInvitations(w, r, v, http.StatusOK, page, "")
}

// bulkReason says why a row was refused.
func (h *Handler) bulkReason(r *http.Request, l *i18n.Localizer, e *csphub.Error) string {
	if e.Kind == csphub.KindInvalid && len(e.Fields) > 0 {
		msgs := make([]string, 0, len(e.Fields))
		for _, fe := range e.Fields {
			msgs = append(msgs, h.customerFieldMessage(r, l, fe))
		}
		return strings.Join(msgs, " ")
	}
	msg, _, ok := h.customerRefusal(nil, r, l, e)
	if !ok {
		return l.T("customer.error.refused")
	}
	return msg
}

// readInvitationCSV reads the rows of an upload, each as email, provider,
// company name (a missing company name is empty), with the line each
// starts on. Blank lines are skipped, and so is a first line naming the
// columns.
func readInvitationCSV(f io.Reader) (records [][3]string, lines []int, err error) {
	data, err := io.ReadAll(io.LimitReader(f, maxBulkBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if !utf8.Valid(data) || strings.ContainsRune(string(data), 0) {
		return nil, nil, errors.New("not UTF-8 text")
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	// Spreadsheets in French locales save with semicolons.
	if first, _, _ := strings.Cut(text, "\n"); strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		if n == 0 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "email") {
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(records) > maxBulkRows {
			break // too many rows: the caller says so
		}
		var row [3]string
		for i := 0; i < 3 && i < len(rec); i++ {
			row[i] = strings.TrimSpace(rec[i])
		}
		records = append(records, row)
		lines = append(lines, line)
	}
	return records, lines, nil
}
