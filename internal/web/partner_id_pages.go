package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// PartnerIDs is what the operator's partner ID import page need of the service.
type PartnerIDs interface {
	ImportPartnerIDs(ctx context.Context, actor csphub.Actor, rows []service.PartnerIDRow) (service.PartnerIDImport, error)
	ListPartnerIDs(ctx context.Context, actor csphub.Actor, q string, pageToken string, pageSize int) (service.PartnerIDPage, error)
	SetPartnerIDStatus(ctx context.Context, actor csphub.Actor, partnerID string, status csphub.PartnerIDStatus) (csphub.PartnerID, error)
}

// The operator console's partner IDs: the list, with a search, and the
// import of a CSV file whose answer shows the claim codes once.
const pageOperatorPartnerIDs = "operator_partner_ids"

var partnerIDPageNames = []string{pageOperatorPartnerIDs}

func (h *Handler) registerPartnerIDsPages(mux *http.ServeMux) {
	mux.Handle("GET /operator/partner-ids", h.page(h.partnerIDsList))
	mux.Handle("POST /operator/partner-ids", h.post(h.partnerIDsImport))
	mux.Handle("POST /operator/partner-ids/{partner_id}/status", h.post(h.partnerIDStatus))
}

// maxPartnerIDUpload caps an uploaded file: 5,000 rows of partner IDs
// with names of common length stay well below it, and the whole form stays
// below the server's default limit on request bodies (1 MiB).
const maxPartnerIDUpload = 960 << 10

type partnerIDRow struct {
	csphub.PartnerID
	StatusURL string
	// Toggle is the status the row's button sets.
	Toggle csphub.PartnerIDStatus
}

// partnerIDRefusal is one reason a row of an uploaded file was refused,
// in the reader's language.
type partnerIDRefusal struct {
	Row       int
	PartnerID string
	Field     string
	Message   string
}

// partnerIDReport is the answer to an upload.
type partnerIDReport struct {
	Imported int
	Refused  int
	Codes    []service.PartnerIDResult
	// CodesCSV is the same codes as a CSV file's text, to copy at once.
	CodesCSV string
	Refusals []partnerIDRefusal
}

type partnerIDsPage struct {
	Nav       programNav
	Items     []partnerIDRow
	Query     string
	First     string
	PageToken string
	NextURL   string
	// CanImport: the reader is an operator admin, who imports and
	// changes statuses; a verification reviewer only reads.
	CanImport bool
	Form      formState
	Report    *partnerIDReport
	Done      string
	MaxRows   int
	MaxKB     int
}

// The answer that shows claim codes cannot be fetched again.
func (p partnerIDsPage) oneTime() bool { return p.Report != nil && len(p.Report.Codes) > 0 }

// partnerIDsGuard lets through a signed-in operator user past MFA who
// holds a role that reads partner IDs; anyone else signed in gets 403.
func (h *Handler) partnerIDsGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireMFAPassed(w, r)
	if !ok {
		return nil, false
	}
	if v.me.Organization.Kind != csphub.OrgOperator ||
		!v.reviewsApplications() {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	return v, true
}

// canImportPartnerIDs: an operator admin acting as themselves.
func (v *viewer) canImportPartnerIDs() bool {
	return v.me.User != nil && v.actor.OnBehalfOf == "" && v.actor.HasRole(csphub.RoleOperatorAdmin)
}

// partnerIDsURL is the list's address with its search and, if any, a page
// or a notice.
func partnerIDsURL(q, page, done string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if page != "" {
		v.Set("page", page)
	}
	if done != "" {
		v.Set("done", done)
	}
	if len(v) == 0 {
		return "/operator/partner-ids"
	}
	return "/operator/partner-ids?" + v.Encode()
}

// searchOf reads the search from the query; an overlong one is passed on
// for the service to refuse.
func searchOf(r *http.Request) string { return strings.TrimSpace(r.URL.Query().Get("q")) }

func (h *Handler) partnerIDsList(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerIDsGuard(w, r)
	if !ok {
		return
	}
	h.renderPartnerIDs(w, r, v, http.StatusOK, searchOf(r), pageTokenOf(r), formState{}, nil, doneOf(r, "activated", "deactivated"))
}

func (h *Handler) renderPartnerIDs(w http.ResponseWriter, r *http.Request, v *viewer, status int, q, pageToken string,
	form formState, report *partnerIDReport, done string) {
	list, err := h.svc.ListPartnerIDs(r.Context(), v.actor, q, pageToken, h.settingsPageSize)
	if err != nil {
		h.partnerIDsFail(w, r, err)
		return
	}
	page := partnerIDsPage{Nav: programNav{Current: "partner_ids"}, Query: q, First: partnerIDsURL(q, "", ""), PageToken: pageToken,
		CanImport: v.canImportPartnerIDs(), Form: form, Report: report, Done: done,
		MaxRows: service.MaxPartnerIDImport, MaxKB: maxPartnerIDUpload >> 10}
	for _, p := range list.Items {
		row := partnerIDRow{PartnerID: p, StatusURL: "/operator/partner-ids/" + url.PathEscape(p.PartnerID) + "/status",
			Toggle: csphub.PartnerIDInactive}
		if p.Status == csphub.PartnerIDInactive {
			row.Toggle = csphub.PartnerIDActive
		}
		page.Items = append(page.Items, row)
	}
	if list.NextPageToken != "" {
		page.NextURL = partnerIDsURL(q, list.NextPageToken, "")
	}
	noStore(w)
	h.render(w, r, status, pageOperatorPartnerIDs, "operator", page)
}

// partnerIDsFail answers an error no form can show: a refusal is the 403
// page, a bad page token or search 400, an absent ID 404.
func (h *Handler) partnerIDsFail(w http.ResponseWriter, r *http.Request, err error) {
	if csphub.ErrorKind(err) == csphub.KindForbidden {
		h.renderError(w, r, http.StatusForbidden)
		return
	}
	h.fail(w, r, err)
}

// readPartnerIDUpload reads the file of the upload form. It answers a
// message key for the reader when there is no usable file.
func readPartnerIDUpload(w http.ResponseWriter, r *http.Request) ([]byte, string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPartnerIDUpload+64<<10) // the file and the form's own parts
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "partner_ids.import.error.no_file"
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "partner_ids.import.error.no_file"
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "partner_ids.import.error.too_large"
		}
		if err != nil {
			return nil, "partner_ids.import.error.no_file"
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, maxPartnerIDUpload+1))
		switch {
		case errors.As(err, &tooBig) || len(data) > maxPartnerIDUpload:
			return nil, "partner_ids.import.error.too_large"
		case err != nil:
			return nil, "partner_ids.import.error.no_file"
		case part.FileName() == "" && len(data) == 0:
			return nil, "partner_ids.import.error.no_file"
		}
		return data, ""
	}
}

func (h *Handler) partnerIDsImport(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerIDsGuard(w, r)
	if !ok {
		return
	}
	if !v.canImportPartnerIDs() {
		h.renderError(w, r, http.StatusForbidden)
		return
	}
	l := h.localizer(r)
	var form formState
	data, problem := readPartnerIDUpload(w, r)
	if problem != "" {
		if problem == "partner_ids.import.error.too_large" {
			form.fieldError("file", l.T(problem, "size", maxPartnerIDUpload>>10))
			h.renderPartnerIDs(w, r, v, http.StatusRequestEntityTooLarge, "", "", form, nil, "")
			return
		}
		form.fieldError("file", l.T(problem))
		status := http.StatusUnprocessableEntity
		h.renderPartnerIDs(w, r, v, status, "", "", form, nil, "")
		return
	}
	rows, parseErrs := service.ParsePartnerIDCSV(bytes.NewReader(data))
	if len(rows) == 0 {
		if len(parseErrs) == 0 {
			form.fieldError("file", l.T("partner_ids.import.error.no_rows"))
			h.renderPartnerIDs(w, r, v, http.StatusUnprocessableEntity, "", "", form, nil, "")
			return
		}
		form.fieldError("file", l.T("partner_ids.import.error.unreadable"))
		report := &partnerIDReport{Refused: countRefusedRows(parseErrs), Refusals: h.partnerIDRefusals(r, l, parseErrs)}
		h.renderPartnerIDs(w, r, v, http.StatusUnprocessableEntity, "", "", form, report, "")
		return
	}
	im, err := h.svc.ImportPartnerIDs(r.Context(), v.actor, rows)
	if err != nil {
		if e := csphub.AsError(err); e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0 && e.Fields[0].Code == "too_many" {
			form.fieldError("file", l.T("partner_ids.import.error.too_many", "count", len(rows), "max", service.MaxPartnerIDImport))
			h.renderPartnerIDs(w, r, v, http.StatusUnprocessableEntity, "", "", form, nil, "")
			return
		}
		h.partnerIDsFail(w, r, err)
		return
	}
	all := append(parseErrs, im.RowErrors()...)
	sortRowErrors(all)
	report := &partnerIDReport{Imported: im.Imported, Refused: countRefusedRows(all), Refusals: h.partnerIDRefusals(r, l, all)}
	var codes bytes.Buffer
	cw := csv.NewWriter(&codes)
	_ = cw.Write([]string{"partner_id", "claim_code"})
	for _, res := range im.Results {
		if res.Outcome == service.PartnerIDImported {
			report.Codes = append(report.Codes, res)
			_ = cw.Write([]string{res.PartnerID, res.ClaimCode})
		}
	}
	cw.Flush()
	report.CodesCSV = codes.String()
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.renderPartnerIDs(w, r, v, http.StatusOK, "", "", formState{}, report, "")
}

// partnerIDFields are the fields a refusal can name, each with a label in
// the catalogs.
var partnerIDFields = map[string]bool{"partner_id": true, "legal_name": true, "country": true, "status": true,
	"row": true, "header": true, "file": true}

// partnerIDRefusals words the refusals in the reader's language: each
// code has a message under "partner_ids.error.<code>". A code with none
// (a rule added to the service before its message) gets a generic message
// and a log line rather than a raw key.
func (h *Handler) partnerIDRefusals(r *http.Request, l *i18n.Localizer, errs []service.PartnerIDRowError) []partnerIDRefusal {
	out := make([]partnerIDRefusal, 0, len(errs))
	for _, e := range errs {
		key := "partner_ids.error." + e.Code
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a partner ID refusal", "field", e.Field, "code", e.Code,
				"request_id", csphub.RequestID(r.Context()))
			key = "partner_ids.error.invalid"
		}
		field := "file"
		if partnerIDFields[e.Field] {
			field = e.Field
		}
		out = append(out, partnerIDRefusal{Row: e.Row, PartnerID: e.PartnerID, Field: l.T("partner_ids.field." + field), Message: l.T(key)})
	}
	return out
}

// sortRowErrors orders refusals by row; the reasons of one row keep the
// order the service gave them.
func sortRowErrors(errs []service.PartnerIDRowError) {
	slices.SortStableFunc(errs, func(a, b service.PartnerIDRowError) int { return cmp.Compare(a.Row, b.Row) })
}

func countRefusedRows(errs []service.PartnerIDRowError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		seen[e.Row] = true
	}
	return len(seen)
}

func (h *Handler) partnerIDStatus(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerIDsGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	if !v.canImportPartnerIDs() {
		h.renderError(w, r, http.StatusForbidden)
		return
	}
	status := csphub.PartnerIDStatus(r.PostForm.Get("status"))
	p, err := h.svc.SetPartnerIDStatus(r.Context(), v.actor, r.PathValue("partner_id"), status)
	if err != nil {
		h.partnerIDsFail(w, r, err)
		return
	}
	done := "activated"
	if p.Status == csphub.PartnerIDInactive {
		done = "deactivated"
	}
	q := strings.TrimSpace(r.PostForm.Get("q"))
	if len(q) > 200 {
		q = ""
	}
	redirect(w, r, partnerIDsURL(q, "", done))
}
