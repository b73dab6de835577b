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

// Partnerships is what the indirect providers/resellers pages and the invitation acceptance page need of the service.
type Partnerships interface {
	InvitePartner(ctx context.Context, actor csphub.Actor, in service.InvitePartnerInput) (service.PartnershipView, error)
	InvitationOf(ctx context.Context, token string) (service.InvitationView, error)
	AcceptInvitation(ctx context.Context, actor csphub.Actor, token string, in service.AcceptInvitationInput) (service.PartnershipView, error)
	DeclineInvitation(ctx context.Context, actor csphub.Actor, token string) (service.PartnershipView, error)
	CancelInvitation(ctx context.Context, actor csphub.Actor, id string) (service.PartnershipView, error)
	SuspendPartnership(ctx context.Context, actor csphub.Actor, id string, in service.PartnershipChange) (service.PartnershipView, error)
	ReactivatePartnership(ctx context.Context, actor csphub.Actor, id string) (service.PartnershipView, error)
	TerminatePartnership(ctx context.Context, actor csphub.Actor, id string, in service.PartnershipChange) (service.PartnershipView, error)
	GetPartnership(ctx context.Context, actor csphub.Actor, id string) (service.PartnershipView, error)
	ListIndirectResellers(ctx context.Context, actor csphub.Actor, q service.PartnershipQuery) (service.PartnershipPage, error)
	ListIndirectProviders(ctx context.Context, actor csphub.Actor, q service.PartnershipQuery) (service.PartnershipPage, error)
}

// The provider–reseller pages: the provider's Indirect resellers page
// with its invitation form, the reseller's Indirect providers page, and
// the page the invitation email links to, where the reseller authorizes
// the provider or declines.
const (
	pageIndirectResellers      = "partner_indirect_resellers"
	pageIndirectProviders      = "partner_indirect_providers"
	pagePartnershipInvitation  = "partnership_invitation"
	indirectResellersPath      = "/partner/indirect-resellers"
	indirectProvidersPath      = "/partner/indirect-providers"
	partnershipInvitationsPath = "/partnership-invitations/"
)

var partnershipPageNames = []string{pageIndirectResellers, pageIndirectProviders, pagePartnershipInvitation}

func (h *Handler) registerPartnershipsPages(mux *http.ServeMux) {
	mux.Handle("GET "+indirectResellersPath, h.page(h.indirectResellers))
	mux.Handle("POST "+indirectResellersPath, h.post(h.invitePartner))
	mux.Handle("POST "+indirectResellersPath+"/{id}/cancel", h.post(h.partnershipAction(providerSide, "cancel")))
	mux.Handle("POST "+indirectResellersPath+"/{id}/suspend", h.post(h.partnershipAction(providerSide, "suspend")))
	mux.Handle("POST "+indirectResellersPath+"/{id}/reactivate", h.post(h.partnershipAction(providerSide, "reactivate")))
	mux.Handle("GET "+indirectResellersPath+"/{id}/terminate", h.page(h.terminateForm(providerSide)))
	mux.Handle("POST "+indirectResellersPath+"/{id}/terminate", h.post(h.terminate(providerSide)))
	mux.Handle("GET "+indirectProvidersPath, h.page(h.indirectProviders))
	mux.Handle("GET "+indirectProvidersPath+"/{id}/terminate", h.page(h.terminateForm(resellerSide)))
	mux.Handle("POST "+indirectProvidersPath+"/{id}/terminate", h.post(h.terminate(resellerSide)))
	mux.Handle("GET "+partnershipInvitationsPath+"{token}", h.page(h.invitationPage))
	mux.Handle("POST "+partnershipInvitationsPath+"{token}/accept", h.post(h.invitationAnswer(true)))
	mux.Handle("POST "+partnershipInvitationsPath+"{token}/decline", h.post(h.invitationAnswer(false)))
}

// partnershipManagers are the roles that invite resellers, answer
// invitations and change relationships; the pages offer those actions to
// them only, and the service decides.
var partnershipManagers = []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}

// partnershipStateLabel names a relationship's state in the reader's
// language.
func partnershipStateLabel(l *i18n.Localizer, s csphub.PartnershipState) string {
	if key := "partnership.state." + string(s); l.Has(key) {
		return l.T(key)
	}
	return string(s)
}

// grantStateLabel names the state of the delegated admin grant that came
// with a relationship; nil is "none".
func grantStateLabel(l *i18n.Localizer, g *csphub.Grant) string {
	if g == nil {
		return l.T("partnership.grant.none")
	}
	if key := "partnership.grant." + string(g.State); l.Has(key) {
		return l.T(key)
	}
	return string(g.State)
}

// regionNames names regions in the reader's language, in the order given.
func regionNames(l *i18n.Localizer, codes []string) string {
	names := make([]string, 0, len(codes))
	for _, c := range codes {
		names = append(names, regionName(l, c, ""))
	}
	return strings.Join(names, ", ")
}

// partnershipFieldErrors translates the service's field errors: a message
// under "partnership.error.<field>.<code>", else the shared
// "form.error.<field>.<code>", else a generic one and a log line.
// Messages about a field the form does not show go to the whole form.
func (h *Handler) partnershipFieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string) {
	for _, fe := range fields {
		key := "partnership.error." + fe.Field + "." + fe.Code
		if !l.Has(key) {
			key = fieldErrorKey(fe.Field, fe.Code)
		}
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", fe.Code,
				"request_id", csphub.RequestID(r.Context()))
			key = "form.error.invalid"
		}
		if !slices.Contains(order, fe.Field) {
			if f.Problem == "" {
				f.Problem = l.T(key)
			}
			continue
		}
		f.fieldError(fe.Field, l.T(key))
	}
	f.sortSummary(order)
}

// partnershipRefusal translates a refusal of the service that a page
// shows as a whole: a rule of the program (the provider is not approved,
// no accepted agreement, a region it is not authorized for), a cap on
// invitations, a relationship that changed meanwhile, a missing role.
// The message is "partnership.error.<where>.<code>" (the same code means
// something else to the provider inviting and to the reseller answering),
// else "partnership.error.<code>", else a generic one by kind and a log
// line. ok is false for what no page shows (an absent record, a server
// error).
func (h *Handler) partnershipRefusal(w http.ResponseWriter, r *http.Request, l *i18n.Localizer, err error, where string) (msg string, status int, ok bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", 0, false
	}
	var generic string
	switch e.Kind {
	case csphub.KindConflict:
		status, generic = http.StatusConflict, "partnership.error.changed"
	case csphub.KindPreconditionFailed:
		status, generic = http.StatusPreconditionFailed, "partnership.error.changed"
	case csphub.KindUnprocessable, csphub.KindInvalid:
		status, generic = http.StatusUnprocessableEntity, "partnership.error.refused"
	case csphub.KindForbidden:
		status, generic = http.StatusForbidden, "partnership.error.forbidden"
	case csphub.KindRateLimited:
		status, generic = http.StatusTooManyRequests, "partnership.error.rate_limited"
	default:
		return "", 0, false
	}
	key := "partnership.error." + where + "." + e.Code
	if !l.Has(key) {
		key = "partnership.error." + e.Code
	}
	if !l.Has(key) {
		h.log.ErrorContext(r.Context(), "web: no message for a refusal", "code", e.Code, "kind", string(e.Kind),
			"request_id", csphub.RequestID(r.Context()))
		key = generic
	}
	msg = l.T(key)
	if e.Kind == csphub.KindRateLimited {
		msg += " " + throttled(w, l, e)
	}
	return msg, status, true
}
