package web

import "net/http"

// Enrollments is what the enrollment, verification and partner profile pages need of the service.
type Enrollments interface{}

func (h *Handler) registerEnrollmentsPages(mux *http.ServeMux) {}
