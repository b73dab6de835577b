package web

import (
	"net/http"
	"net/url"
	"strconv"
)

const (
	maxPageToken = 512
	maxMailID    = 128
)

// mailHTMLCSP governs an email's HTML body, which came from templates fed
// with user input: no script, no plugin, no remote fetch (images must be
// inline), no form. The sandbox directive applies even when the body is
// opened outside its frame; allow-popups lets its links open in a new tab.
const mailHTMLCSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'; " +
	"sandbox allow-popups allow-popups-to-escape-sandbox"

func (h *Handler) mailboxEnabled(r *http.Request) bool {
	return h.mailbox != nil && (h.mailAllow == nil || h.mailAllow(r))
}

type mailboxListPage struct {
	Messages  []MailSummary
	PageToken string
	NextURL   string
}

func (h *Handler) mailboxList(w http.ResponseWriter, r *http.Request) {
	if !h.mailboxEnabled(r) {
		h.notFound(w, r)
		return
	}
	token := r.URL.Query().Get("page")
	if len(token) > maxPageToken {
		h.renderError(w, r, http.StatusBadRequest)
		return
	}
	mail, next, err := h.mailbox.ListMail(r.Context(), token, h.pageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := mailboxListPage{Messages: mail, PageToken: token}
	if next != "" {
		data.NextURL = "/mailbox?" + url.Values{"page": {next}}.Encode()
	}
	// Emails hold invitation and verification links: keep them out of caches.
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, pageMailboxList, "mailbox", data)
}

type mailboxMessagePage struct {
	Message MailMessage
}

func (h *Handler) mailboxMessage(w http.ResponseWriter, r *http.Request) {
	msg, ok := h.loadMail(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, pageMailboxMessage, "mailbox", mailboxMessagePage{Message: msg})
}

// mailboxMessageHTML serves an email's HTML body as its own document, so
// that it gets a CSP of its own instead of inheriting the page's (a srcdoc
// frame would), and its links stay clickable.
func (h *Handler) mailboxMessageHTML(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w.Header())
	msg, ok := h.loadMail(w, r)
	if !ok {
		return
	}
	if msg.HTMLBody == "" {
		h.notFound(w, r)
		return
	}
	// A base target sends every link to a new tab, out of the frame, where
	// the sandbox lets it open normally.
	body := `<!doctype html><meta charset="utf-8"><base target="_blank">` + msg.HTMLBody
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", mailHTMLCSP)
	hdr.Set("X-Frame-Options", "SAMEORIGIN")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// loadMail fetches the email named in the path, answering the request
// itself when it cannot.
func (h *Handler) loadMail(w http.ResponseWriter, r *http.Request) (MailMessage, bool) {
	if !h.mailboxEnabled(r) {
		h.notFound(w, r)
		return MailMessage{}, false
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxMailID {
		h.notFound(w, r)
		return MailMessage{}, false
	}
	msg, err := h.mailbox.GetMail(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return MailMessage{}, false
	}
	return msg, true
}
