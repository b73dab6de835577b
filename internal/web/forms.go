package web

import (
	"net/http"
	"slices"
	"strconv"

	"csphub"
	"csphub/internal/i18n"
)

// maxIdentityFormBytes caps the identity forms: the sign-up form with a
// long passphrase and names in any script stays far below it.
const maxIdentityFormBytes = 16 << 10

// formState is what a form page shows again after a refused submission:
// the values typed (never a password or a code), a message per field, and
// a message for the whole form.
type formState struct {
	Values  map[string]string
	Errors  map[string]string // field → message
	Summary []fieldMessage    // the same messages in the order of the form
	Problem string
}

type fieldMessage struct {
	Field   string // also the id of the input, for the summary's links
	Message string
}

// fieldError records the first message of a field.
func (f *formState) fieldError(field, message string) {
	if _, seen := f.Errors[field]; seen {
		return
	}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	f.Errors[field] = message
	f.Summary = append(f.Summary, fieldMessage{Field: field, Message: message})
}

// sortSummary puts the messages in the order of the fields on the page;
// fields not on it go last.
func (f *formState) sortSummary(order []string) {
	rank := func(field string) int {
		if i := slices.Index(order, field); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(f.Summary, func(a, b fieldMessage) int { return rank(a.Field) - rank(b.Field) })
}

// parseForm reads a POSTed form, answering 400 itself when it cannot.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxIdentityFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusBadRequest)
		return false
	}
	return true
}

// fieldErrors translates the service's field errors: each code has a
// message under "form.error.<field>.<code>". A code with none (a rule
// added to the service before its message) gets a generic message and a
// log line rather than a raw key.
func (h *Handler) fieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string) {
	for _, fe := range fields {
		key := fieldErrorKey(fe.Field, fe.Code)
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", fe.Code,
				"request_id", csphub.RequestID(r.Context()))
			key = "form.error.invalid"
		}
		f.fieldError(fe.Field, l.T(key))
	}
	f.sortSummary(order)
}

func fieldErrorKey(field, code string) string { return "form.error." + field + "." + code }

// throttled tells the reader how long to wait after too many attempts,
// and sets Retry-After for clients that read it.
func throttled(w http.ResponseWriter, l *i18n.Localizer, e *csphub.Error) string {
	seconds := max(e.RetryAfter, 1)
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	if seconds <= 90 {
		return l.T("form.error.wait_seconds", "count", seconds)
	}
	return l.T("form.error.wait_minutes", "count", (seconds+59)/60)
}
