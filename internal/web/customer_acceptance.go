package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// The customer invitation (/customer-invitations/{token}), the link of
// the email a reseller's "Invite new customers" sends. The page says, in
// the invitation's language unless the reader chose one, who asks for
// what: a reseller relationship with the provider naming the reseller as
// indirect reseller, and the delegated admin roles each asks for (each
// with a box to agree), and where the customer must be located. A global
// admin of a customer organization, signed in, accepts or declines; a
// visitor creates the customer organization and accepts in the same
// request, or signs in and comes back. A customer located outside the
// countries allowed is told so before anything is done. Opening the link
// changes nothing.

// acceptCustomerFields is the order of the acceptance form's fields.
var acceptCustomerFields = []string{"grant_reseller", "grant_provider", "organization_name", "country", "domain", "name", "email", "password"}

type customerInvitationView struct {
	Offer             service.CustomerInvitationOffer
	ResellerRoleNames string
	ProviderRoleNames string
	Countries         []countryOption
	CountryNames      string
	RegionName        string
	// Reader is who reads: "visitor", "answer" (a customer global admin
	// who may accept), "wrong_region" (a customer global admin located
	// elsewhere) or "not_allowed".
	Reader string
	// OrgName and OrgCountry are the signed-in customer's.
	OrgName       string
	OrgCountry    string
	AcceptAction  string
	DeclineAction string
	SignInURL     string
	Form          formState
	// Invalid says why the link cannot be answered: "unknown", "expired",
	// "used" or "cancelled".
	Invalid string
	// Closed: the reseller's region is not one the provider may serve, so
	// no customer can accept now.
	Closed bool
	// Done is "accepted" or "declined" once answered; CustomerURL is then
	// the customer's page, SignedIn whether the reader is signed in to it.
	Done        string
	CustomerURL string
	SignedIn    bool
}

// oneTime: the answer to an acceptance cannot be shown again.
func (p customerInvitationView) oneTime() bool { return p.Done != "" }

// inInvitationLanguage is r read in lang, unless the reader chose a
// language (the switcher's cookie or their own setting).
func (h *Handler) inInvitationLanguage(r *http.Request, lang string) *http.Request {
	if lang == "" {
		return r
	}
	if _, err := r.Cookie(i18n.CookieName); err == nil {
		return r
	}
	if h.userLang != nil && h.userLang(r) != "" {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Accept-Language", lang)
	return r2
}

func (h *Handler) customerInvitationBase(r *http.Request, token string) customerInvitationView {
	base := customerInvitationLinksPath + token
	page := customerInvitationView{AcceptAction: base + "/accept", DeclineAction: base + "/decline", Reader: "visitor",
		SignInURL: "/signin?next=" + url.QueryEscape(base)}
	if v := viewerFrom(r.Context()); v != nil {
		page.Reader = "not_allowed"
		if !v.needsMFA() && v.me.Organization.Kind == csphub.OrgCustomer && v.hasAnyRole(csphub.RoleGlobalAdmin) {
			page.Reader = "answer"
		}
		page.OrgName = v.me.Organization.Name
	}
	return page
}

// readCustomerInvitation fills the page with the offer of the link, and
// returns the request in the invitation's language; false when it
// already showed why the link cannot be used.
func (h *Handler) readCustomerInvitation(w http.ResponseWriter, r *http.Request, token string, page *customerInvitationView) (*http.Request, bool) {
	if !plausibleResetToken(token) {
		page.Invalid = "unknown"
		h.renderCustomerInvitation(w, r, http.StatusNotFound, *page)
		return r, false
	}
	offer, err := h.svc.CustomerInvitationOf(r.Context(), token)
	if err != nil {
		h.customerInvitationRefused(w, r, *page, err)
		return r, false
	}
	r = h.inInvitationLanguage(r, offer.Lang)
	l := h.localizer(r)
	page.Offer = offer
	page.ResellerRoleNames = roleLabels(l, offer.ResellerRoles)
	page.ProviderRoleNames = roleLabels(l, offer.ProviderRoles)
	page.Countries = h.countryChoices(l, offer.Countries)
	page.CountryNames = joinCountryNames(page.Countries)
	page.RegionName = regionName(l, offer.Region, "")
	page.Closed = len(offer.Countries) == 0
	if v := viewerFrom(r.Context()); v != nil && page.Reader == "answer" {
		page.OrgCountry = countryName(l, v.me.Organization.Country)
		if !slices.Contains(offer.Countries, v.me.Organization.Country) {
			page.Reader = "wrong_region"
		}
	}
	return r, true
}

func (h *Handler) renderCustomerInvitation(w http.ResponseWriter, r *http.Request, status int, page customerInvitationView) {
	resetHeaders(w)
	h.render(w, r, status, pageCustomerInvitation, "", page)
}

// customerInvitationRefused shows why a link cannot be used, or the
// generic error.
func (h *Handler) customerInvitationRefused(w http.ResponseWriter, r *http.Request, page customerInvitationView, err error) {
	why, ok := invitationInvalid(err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	page.Invalid = why
	status := http.StatusGone
	if why == "unknown" {
		status = http.StatusNotFound
	}
	h.renderCustomerInvitation(w, r, status, page)
}

func (h *Handler) customerInvitationPage(w http.ResponseWriter, r *http.Request) {
	resetHeaders(w)
	token := r.PathValue("token")
	page := h.customerInvitationBase(r, token)
	r, ok := h.readCustomerInvitation(w, r, token, &page)
	if !ok {
		return
	}
	page.Form.Values = map[string]string{}
	h.renderCustomerInvitation(w, r, http.StatusOK, page)
}

func (h *Handler) customerInvitationAccept(w http.ResponseWriter, r *http.Request) {
	resetHeaders(w)
	if !h.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	page := h.customerInvitationBase(r, token)
	r, ok := h.readCustomerInvitation(w, r, token, &page)
	if !ok {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	page.Form.Values = map[string]string{"grant_reseller": f.Get("grant_reseller"), "grant_provider": f.Get("grant_provider")}
	in := service.AcceptCustomerInvitationInput{GrantReseller: f.Get("grant_reseller") == "yes", GrantProvider: f.Get("grant_provider") == "yes"}
	actor := csphub.Actor{}
	switch page.Reader {
	case "answer":
		actor = viewerFrom(r.Context()).actor
	case "visitor":
		nc := service.NewCustomer{OrgName: strings.TrimSpace(f.Get("organization_name")), Country: f.Get("country"),
			Domain: strings.TrimSpace(f.Get("domain")), Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")),
			Password: f.Get("password"), Lang: l.Lang()}
		for k, v := range map[string]string{"organization_name": nc.OrgName, "country": nc.Country, "domain": nc.Domain, "name": nc.Name, "email": nc.Email} {
			page.Form.Values[k] = v
		}
		in.NewCustomer = &nc
	case "wrong_region":
		// The page says why; nothing is sent to the service.
		h.renderCustomerInvitation(w, r, http.StatusUnprocessableEntity, page)
		return
	default:
		h.renderCustomerInvitation(w, r, http.StatusForbidden, page)
		return
	}
	if page.Closed {
		h.renderCustomerInvitation(w, r, http.StatusUnprocessableEntity, page)
		return
	}
	res, err := h.svc.AcceptCustomerInvitation(r.Context(), actor, token, in)
	if err == nil {
		page.Done, page.CustomerURL, page.SignedIn = "accepted", customerPartnersPath, page.Reader == "answer"
		page.OrgName = res.Customer.Name
		if in.NewCustomer != nil {
			// The new global admin is signed in, so the link leads to the
			// organization's partners at once.
			sess, serr := h.svc.SignIn(r.Context(), service.SignInInput{Email: in.NewCustomer.Email, Password: in.NewCustomer.Password,
				Address: clientAddress(r)})
			if serr == nil && !sess.MFARequired {
				h.setSessionCookie(w, sess.Token, sess.ExpiresAt)
				h.clearDelegationCookie(w)
				page.SignedIn = true
				// The page itself is the first the new admin sees signed
				// in: its header says so.
				if signed, verr := h.withSession(r, sess.Token); verr == nil {
					r = signed
				}
			} else if serr != nil {
				h.log.WarnContext(r.Context(), "web: signing the new customer in", "err", serr, "request_id", csphub.RequestID(r.Context()))
			}
		}
		if !page.SignedIn {
			page.CustomerURL = "/signin?next=" + url.QueryEscape(customerPartnersPath)
		}
		noStore(w)
		h.renderCustomerInvitation(w, r, http.StatusOK, page)
		return
	}
	if why, ok := invitationInvalid(err); ok {
		page.Invalid = why
		status := http.StatusGone
		if why == "unknown" {
			status = http.StatusNotFound
		}
		h.renderCustomerInvitation(w, r, status, page)
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.customerFieldErrors(r, l, &page.Form, e.Fields, acceptCustomerFields, "new_customer.")
	default:
		msg, st, ok := h.customerRefusal(w, r, l, err)
		if !ok {
			h.fail(w, r, err)
			return
		}
		status = st
		switch {
		case e.Code == "customer_region_mismatch" && in.NewCustomer != nil:
			page.Form.fieldError("country", l.T("customer.error.country.outside", "countries", page.CountryNames))
		case e.Code == "email_taken" && in.NewCustomer != nil:
			page.Form.fieldError("email", msg)
		default:
			page.Form.Problem = msg
		}
	}
	h.renderCustomerInvitation(w, r, status, page)
}

func (h *Handler) customerInvitationDecline(w http.ResponseWriter, r *http.Request) {
	resetHeaders(w)
	if !h.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	page := h.customerInvitationBase(r, token)
	r, ok := h.readCustomerInvitation(w, r, token, &page)
	if !ok {
		return
	}
	actor := csphub.Actor{}
	switch page.Reader {
	case "visitor":
	case "answer", "wrong_region":
		actor = viewerFrom(r.Context()).actor
	default:
		h.renderCustomerInvitation(w, r, http.StatusForbidden, page)
		return
	}
	if _, err := h.svc.DeclineCustomerInvitation(r.Context(), actor, token); err != nil {
		if why, ok := invitationInvalid(err); ok {
			page.Invalid = why
			h.renderCustomerInvitation(w, r, http.StatusGone, page)
			return
		}
		msg, status, ok := h.customerRefusal(w, r, h.localizer(r), err)
		if !ok {
			h.fail(w, r, err)
			return
		}
		page.Form.Problem = msg
		h.renderCustomerInvitation(w, r, status, page)
		return
	}
	page.Done = "declined"
	h.renderCustomerInvitation(w, r, http.StatusOK, page)
}
