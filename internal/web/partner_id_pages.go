package web

import "net/http"

// PartnerIDs is what the operator's partner ID import page need of the service.
type PartnerIDs interface{}

func (h *Handler) registerPartnerIDsPages(mux *http.ServeMux) {}
