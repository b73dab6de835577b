package web

import "net/http"

// Register mounts every page route on mux. It is the one list of the UI's
// routes; the API registers its own under /api/ on the same mux. "/"
// catches every path nothing else claims and answers the localized 404; it
// has no method so that it never conflicts with a method-less pattern such
// as "/api/" or "/healthz" (ServeMux refuses "GET /" beside those).
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", h.page(h.home))
	mux.Handle("POST /lang", h.page(h.csrf.Handler(http.HandlerFunc(h.switchLanguage)).ServeHTTP))
	mux.Handle("GET /mailbox", h.page(h.mailboxList))
	mux.Handle("GET /mailbox/{id}", h.page(h.mailboxMessage))
	mux.HandleFunc("GET /mailbox/{id}/html", h.mailboxMessageHTML)
	mux.HandleFunc("GET /static/", h.static)
	mux.Handle("/", h.page(h.notFound))
}
