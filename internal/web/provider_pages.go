package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Providers is what the indirect provider pages (applying as a provider,
// the operator's regional authorization and reference data) need of the
// service. Applying goes through Enroll and the partner profile, which
// Enrollments already has.
type Providers interface {
	GetProvider(ctx context.Context, actor csphub.Actor, orgID string) (service.ProviderView, error)
	AuthorizeProviderRegions(ctx context.Context, actor csphub.Actor, orgID string, regions []string) (service.ProviderView, error)
	ListRegions(ctx context.Context) ([]service.RegionView, error)
	SaveRegion(ctx context.Context, actor csphub.Actor, r csphub.Region) (csphub.Region, error)
	SaveMarket(ctx context.Context, actor csphub.Actor, m csphub.Market) (csphub.Market, error)
	RemoveMarket(ctx context.Context, actor csphub.Actor, country string) error
}

// The indirect provider pages: the partner's application to become one
// (/partner/provider-application), the operator's page of a provider with
// the regions it is authorized for (/operator/providers/{org}), and the
// operator's regions and markets (/operator/regions).
const (
	pageProviderApply    = "partner_provider_apply"
	pageOperatorProvider = "operator_provider"
	pageOperatorRegions  = "operator_regions"

	providerApplicationPath = "/partner/provider-application"
	operatorProvidersPath   = "/operator/providers/"
	operatorRegionsPath     = "/operator/regions"
)

var providerPageNames = []string{pageProviderApply, pageOperatorProvider, pageOperatorRegions}

func (h *Handler) registerProvidersPages(mux *http.ServeMux) {
	mux.Handle("GET "+providerApplicationPath, h.page(h.providerApplication))
	mux.Handle("POST "+providerApplicationPath, h.post(h.applyAsProvider))
	mux.Handle("POST "+providerApplicationPath+"/{id}/info", h.post(h.answerProviderInfoRequest))
	mux.Handle("GET "+operatorProvidersPath+"{org}", h.page(h.operatorProvider))
	mux.Handle("POST "+operatorProvidersPath+"{org}/regions", h.post(h.authorizeProviderRegions))
	mux.Handle("GET "+operatorRegionsPath, h.page(h.operatorRegions))
	mux.Handle("POST "+operatorRegionsPath, h.post(h.saveRegion))
	mux.Handle("POST "+operatorRegionsPath+"/markets", h.post(h.saveMarket))
	mux.Handle("POST "+operatorRegionsPath+"/markets/{country}/remove", h.post(h.removeMarket))
}

// providerFieldErrors translates the service's field errors on the
// operator's provider and region forms. field maps the service's field
// path to the form's field ("regions[2]" → "regions"); the message is
// "provider.error.<form field>.<code>", else a generic one and a log line.
// A message about a field the form does not show goes to the whole form.
func (h *Handler) providerFieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string, field func(string) string) {
	for _, fe := range fields {
		name := field(fe.Field)
		key := "provider.error." + name + "." + fe.Code
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", fe.Code,
				"request_id", csphub.RequestID(r.Context()))
			key = "form.error.invalid"
		}
		if !slices.Contains(order, name) {
			if f.Problem == "" {
				f.Problem = l.T(key)
			}
			continue
		}
		f.fieldError(name, l.T(key))
	}
	f.sortSummary(order)
}

// providerProblem is the message of a refusal a provider page shows as a
// whole, "provider.error.<code>", with its status; ok is false when the
// catalog has none (the caller answers it as an error page).
func providerProblem(l *i18n.Localizer, err error) (msg string, status int, ok bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", 0, false
	}
	key := "provider.error." + e.Code
	if !l.Has(key) {
		return "", 0, false
	}
	switch e.Kind {
	case csphub.KindConflict:
		status = http.StatusConflict
	case csphub.KindForbidden:
		status = http.StatusForbidden
	case csphub.KindNotFound:
		status = http.StatusNotFound
	case csphub.KindInvalid, csphub.KindUnprocessable:
		status = http.StatusUnprocessableEntity
	default:
		return "", 0, false
	}
	return l.T(key), status, true
}

// withoutIndex drops a list index from a field path: "regions[1]" is the
// "regions" field.
func withoutIndex(path string) string {
	if i := strings.IndexByte(path, '['); i >= 0 {
		return path[:i]
	}
	return path
}
