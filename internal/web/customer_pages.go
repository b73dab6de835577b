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

// Customers is what the customer pages need of the service: "Invite new
// customers" and its invitations, "View customers", the acceptance page
// the invitation email links to, and the customer's own Partners page.
type Customers interface {
	InviteCustomer(ctx context.Context, actor csphub.Actor, in service.InviteCustomerInput) (service.CustomerInvitationView, error)
	BulkInviteCustomers(ctx context.Context, actor csphub.Actor, in service.BulkCustomerInvitations) (service.BulkInvitationReport, error)
	ListCustomerInvitations(ctx context.Context, actor csphub.Actor, state, pageToken string, pageSize int) (service.CustomerInvitationPage, error)
	ResendCustomerInvitation(ctx context.Context, actor csphub.Actor, id string) (service.CustomerInvitationView, error)
	CancelCustomerInvitation(ctx context.Context, actor csphub.Actor, id string) (service.CustomerInvitationView, error)
	CustomerInvitationOf(ctx context.Context, token string) (service.CustomerInvitationOffer, error)
	AcceptCustomerInvitation(ctx context.Context, actor csphub.Actor, token string, in service.AcceptCustomerInvitationInput) (service.CustomerAcceptance, error)
	DeclineCustomerInvitation(ctx context.Context, actor csphub.Actor, token string) (service.CustomerInvitationView, error)
	CreateCustomer(ctx context.Context, actor csphub.Actor, in service.CreateCustomerInput) (service.CustomerAcceptance, error)
	ListCustomers(ctx context.Context, actor csphub.Actor, q service.CustomerQuery) (service.CustomerPage, error)
	GetCustomer(ctx context.Context, actor csphub.Actor, id string) (service.CustomerView, error)
	CustomerRelationships(ctx context.Context, actor csphub.Actor, id string) (service.CustomerChain, error)
	RemoveCustomerRelationship(ctx context.Context, actor csphub.Actor, customerID, relationshipID string) (service.CustomerRelationshipView, error)
}

// The customer pages. On the partner's side: the invitation form
// (/partner/customer-invitations/new, reached per provider from the
// Indirect providers page), the reseller's invitations with the CSV
// upload (/partner/customer-invitations), "View customers"
// (/partner/customers, for a reseller optionally those it shares with one
// provider, for a provider optionally those it has through one reseller),
// a customer's chain (/partner/customers/{id}) and the provider's "Create
// a customer" (/partner/customers/new). The page the invitation email
// links to (/customer-invitations/{token}). On the customer's side, its
// partners, links and the grants it gave (/customer/partners).
const (
	pageCustomerInvite      = "partner_customer_invite"
	pageCustomerInvitations = "partner_customer_invitations"
	pagePartnerCustomers    = "partner_customers"
	pagePartnerCustomer     = "partner_customer"
	pageCustomerNew         = "partner_customer_new"
	pageCustomerInvitation  = "customer_invitation"
	pageCustomerPartners    = "customer_partners"

	customerInvitationsPath     = "/partner/customer-invitations"
	partnerCustomersPath        = "/partner/customers"
	customerInvitationLinksPath = "/customer-invitations/"
	customerPartnersPath        = "/customer/partners"

	// navCustomers marks the Customers item of the layout's nav, for
	// partners and for customers.
	navCustomers = "customers"
)

var customerPageNames = []string{pageCustomerInvite, pageCustomerInvitations, pagePartnerCustomers, pagePartnerCustomer,
	pageCustomerNew, pageCustomerInvitation, pageCustomerPartners}

func (h *Handler) registerCustomersPages(mux *http.ServeMux) {
	mux.Handle("GET "+customerInvitationsPath, h.page(h.customerInvitations))
	mux.Handle("POST "+customerInvitationsPath, h.post(h.inviteCustomer))
	mux.Handle("GET "+customerInvitationsPath+"/new", h.page(h.customerInviteForm))
	mux.Handle("POST "+customerInvitationsPath+"/bulk", h.post(h.bulkInviteCustomers))
	mux.Handle("POST "+customerInvitationsPath+"/{id}/resend", h.post(h.customerInvitationAction("resend")))
	mux.Handle("POST "+customerInvitationsPath+"/{id}/cancel", h.post(h.customerInvitationAction("cancel")))
	mux.Handle("GET "+partnerCustomersPath, h.page(h.partnerCustomers))
	mux.Handle("GET "+partnerCustomersPath+"/new", h.page(h.customerNewForm))
	mux.Handle("POST "+partnerCustomersPath+"/new", h.post(h.createCustomer))
	mux.Handle("GET "+partnerCustomersPath+"/{id}", h.page(h.partnerCustomer))
	mux.Handle("GET "+customerInvitationLinksPath+"{token}", h.page(h.customerInvitationPage))
	mux.Handle("POST "+customerInvitationLinksPath+"{token}/accept", h.post(h.customerInvitationAccept))
	mux.Handle("POST "+customerInvitationLinksPath+"{token}/decline", h.post(h.customerInvitationDecline))
	mux.Handle("GET "+customerPartnersPath, h.page(h.customerPartners))
	mux.Handle("GET "+customerPartnersPath+"/{id}/remove", h.page(h.customerRemoveForm))
	mux.Handle("POST "+customerPartnersPath+"/{id}/remove", h.post(h.customerRemove))
	mux.Handle("POST "+customerPartnersPath+"/grants/{id}/terminate", h.post(h.customerTerminateGrant))
}

// customerInviters are the roles that invite customers; the pages offer
// the form to them only, and the service decides.
var customerInviters = []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent, csphub.RoleSalesAgent}

// customerCreators are the provider's roles that create customers.
var customerCreators = []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}

// customerGuard lets through a signed-in user of a customer organization;
// anyone else signed in gets 403.
func (h *Handler) customerGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireMFAPassed(w, r)
	if !ok {
		return nil, false
	}
	if v.me.Organization.Kind != csphub.OrgCustomer {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	return v, true
}

// customerInvitationStateLabel names an invitation's state.
func customerInvitationStateLabel(l *i18n.Localizer, s csphub.CustomerInvitationState) string {
	if key := "customer.invitation_state." + string(s); l.Has(key) {
		return l.T(key)
	}
	return string(s)
}

// partnerRoleLabel names what a partner is to a customer.
func partnerRoleLabel(l *i18n.Localizer, r csphub.PartnerRole) string {
	if key := "customer.partner_role." + string(r); l.Has(key) {
		return l.T(key)
	}
	return string(r)
}

// relationshipStateLabel names a customer relationship's or link's state.
func relationshipStateLabel(l *i18n.Localizer, s csphub.RelationshipState) string {
	if key := "customer.relationship_state." + string(s); l.Has(key) {
		return l.T(key)
	}
	return string(s)
}

// countryChoices names countries in the reader’s language, sorted as the
// reader looks for them.
func (h *Handler) countryChoices(l *i18n.Localizer, codes []string) []countryOption {
	out := make([]countryOption, 0, len(codes))
	for _, c := range codes {
		out = append(out, countryOption{Code: c, Name: countryName(l, c)})
	}
	slices.SortFunc(out, func(a, b countryOption) int { return strings.Compare(sortKey(a.Name), sortKey(b.Name)) })
	return out
}

func joinCountryNames(opts []countryOption) string {
	names := make([]string, len(opts))
	for i, o := range opts {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// customerFieldMessage is the message of a field error: under
// "customer.error.<field>.<code>", else the shared
// "form.error.<field>.<code>", else a generic one and a log line.
func (h *Handler) customerFieldMessage(r *http.Request, l *i18n.Localizer, fe csphub.FieldError) string {
	key := "customer.error." + fe.Field + "." + fe.Code
	if !l.Has(key) {
		key = fieldErrorKey(fe.Field, fe.Code)
	}
	if !l.Has(key) {
		h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", fe.Code,
			"request_id", csphub.RequestID(r.Context()))
		key = "form.error.invalid"
	}
	return l.T(key)
}

// customerFieldErrors puts the service's field errors next to the fields
// of the form (order); the others go to the whole form. A prefix such as
// "new_customer." is dropped first.
func (h *Handler) customerFieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string, prefix string) {
	for _, fe := range fields {
		fe.Field = strings.TrimPrefix(fe.Field, prefix)
		m := h.customerFieldMessage(r, l, fe)
		if !slices.Contains(order, fe.Field) {
			if f.Problem == "" {
				f.Problem = m
			}
			continue
		}
		f.fieldError(fe.Field, m)
	}
	f.sortSummary(order)
}

// customerRefusal translates a refusal a page shows as a whole: the
// message is "customer.error.<code>", else a generic one by kind and a
// log line; ok is false for what no page shows (an absent record, a
// server error).
func (h *Handler) customerRefusal(w http.ResponseWriter, r *http.Request, l *i18n.Localizer, err error) (msg string, status int, ok bool) {
	return h.refusal(w, r, l, err, "customer.error.")
}

// refusal is the message and status of a use case's refusal: the
// message under prefix+code, else the generic one of its kind
// (prefix+"changed", "refused", "forbidden" or "rate_limited"); ok is
// false for errors that are not refusals.
func (h *Handler) refusal(w http.ResponseWriter, r *http.Request, l *i18n.Localizer, err error, prefix string) (msg string, status int, ok bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", 0, false
	}
	var generic string
	switch e.Kind {
	case csphub.KindConflict, csphub.KindPreconditionFailed:
		generic = prefix + "changed"
	case csphub.KindUnprocessable, csphub.KindInvalid:
		generic = prefix + "refused"
	case csphub.KindForbidden:
		generic = prefix + "forbidden"
	case csphub.KindRateLimited:
		generic = prefix + "rate_limited"
	default:
		return "", 0, false
	}
	status = kindStatus(e.Kind)
	key := prefix + e.Code
	if !l.Has(key) {
		h.log.ErrorContext(r.Context(), "web: no message for a refusal", "code", e.Code, "kind", string(e.Kind),
			"request_id", csphub.RequestID(r.Context()))
		key = generic
	}
	msg = l.T(key)
	if e.Kind == csphub.KindRateLimited && w != nil {
		msg += " " + throttled(w, l, e)
	}
	return msg, status, true
}

// partnerChoice is one of the reader's providers or resellers, for a
// form's select or a list's filter.
type partnerChoice struct {
	OrgID     string
	Name      string
	PartnerID string
	State     csphub.PartnershipState
	Selected  bool
}

// maxPartnerPages bounds how many pages of relationships a form's select
// reads (500 each).
const maxPartnerPages = 10

// partnersOf lists the reader's accepted relationships on one side (its
// providers for resellerSide, its resellers for providerSide), one entry
// per organization, the live ones first; only those in state when set.
func (h *Handler) partnersOf(ctx context.Context, actor csphub.Actor, side partnershipSide, state csphub.PartnershipState) ([]partnerChoice, error) {
	list := h.svc.ListIndirectProviders
	if side == providerSide {
		list = h.svc.ListIndirectResellers
	}
	var out []partnerChoice
	seen := map[string]bool{}
	token := ""
	for range maxPartnerPages {
		res, err := list(ctx, actor, service.PartnershipQuery{State: string(state), PageToken: token, PageSize: 500})
		if err != nil {
			return nil, err
		}
		for _, p := range res.Items {
			c := partnerChoice{OrgID: p.ProviderID, Name: p.ProviderName, PartnerID: p.ProviderPartnerID, State: p.State}
			if side == providerSide {
				c = partnerChoice{OrgID: p.ResellerID, Name: p.ResellerName, PartnerID: p.ResellerPartnerID, State: p.State}
			}
			if c.OrgID == "" || seen[c.OrgID] {
				continue
			}
			seen[c.OrgID] = true
			out = append(out, c)
		}
		if res.NextPageToken == "" {
			break
		}
		token = res.NextPageToken
	}
	live := func(s csphub.PartnershipState) int {
		if s == csphub.PartnershipActive || s == csphub.PartnershipSuspended {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b partnerChoice) int { return live(a.State) - live(b.State) })
	return out, nil
}

// selectPartner marks the choice of id; false when id is not among them.
func selectPartner(choices []partnerChoice, id string) ([]partnerChoice, bool) {
	found := false
	for i := range choices {
		choices[i].Selected = choices[i].OrgID == id
		found = found || choices[i].Selected
	}
	return choices, found
}
