package web

import "net/http"

// Agreements is what the partner agreement pages need of the service.
type Agreements interface{}

func (h *Handler) registerAgreementsPages(mux *http.ServeMux) {}
