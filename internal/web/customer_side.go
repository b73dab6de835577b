package web

import (
	"net/http"
	"net/url"
	"time"

	"csphub"
	"csphub/internal/service"
)

// The customer's Partners page (/customer/partners): its relationships
// with partners (role and since), the links between its providers and
// resellers, and the delegated admin grants it gave. A global admin
// removes a partner's relationship, on a page of its own that is the
// confirmation, and terminates grants; both take effect on the partner's
// next request.

type customerGrantRow struct {
	ID           string
	Partner      string
	Roles        string
	StateText    string
	Since        time.Time
	Expires      time.Time
	TerminateURL string
}

type customerPartnersPage struct {
	Customer      customerRow
	Relationships []relationshipRow
	Links         []linkRow
	Grants        []customerGrantRow
	// GrantsHidden: the reader's role does not show grants.
	GrantsHidden bool
	CanManage    bool
	Done         string
	Actions      formState
	// Remove, when set, replaces the page with the confirmation of a
	// removal.
	Remove *relationshipRow
}

func (h *Handler) customerPartners(w http.ResponseWriter, r *http.Request) {
	v, ok := h.customerGuard(w, r)
	if !ok {
		return
	}
	h.renderCustomerPartners(w, r, v, http.StatusOK, customerPartnersPage{Done: doneOf(r, "accepted", "removed", "terminated")}, "")
}

// renderCustomerPartners reads the customer's chain and grants into page
// and shows it; remove names the relationship to confirm the removal of.
func (h *Handler) renderCustomerPartners(w http.ResponseWriter, r *http.Request, v *viewer, status int, page customerPartnersPage, remove string) {
	l := h.localizer(r)
	org := v.me.Organization
	chain, err := h.svc.CustomerRelationships(r.Context(), v.actor, org.ID)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page.CanManage = v.hasAnyRole(csphub.RoleGlobalAdmin)
	page.Customer = customerRow{ID: org.ID, Name: org.Name, Domain: org.Domain, Country: countryName(l, org.Country), Since: org.CreatedAt}
	base := ""
	if page.CanManage {
		base = customerPartnersPath
	}
	page.Relationships, page.Links = chainRows(l, chain, base)
	if remove != "" {
		for i := range page.Relationships {
			if page.Relationships[i].ID == remove {
				page.Remove = &page.Relationships[i]
			}
		}
		if page.Remove == nil {
			h.renderError(w, r, http.StatusNotFound)
			return
		}
	}
	if v.hasAnyRole(csphub.RoleGlobalAdmin, csphub.RoleAdminAgent) {
		res, err := h.svc.ListGrants(r.Context(), v.actor, service.GrantsGiven, "", delegationListPageSize)
		if err != nil {
			h.programFail(w, r, err)
			return
		}
		for _, g := range res.Items {
			if g.State != csphub.GrantActive && g.State != csphub.GrantPending {
				continue
			}
			row := customerGrantRow{ID: g.ID, Partner: g.GranteeName, Roles: roleLabels(l, g.Roles), StateText: grantStateLabel(l, &g.Grant),
				Since: g.CreatedAt, Expires: g.ExpiresAt}
			if g.ActivatedAt != nil {
				row.Since = *g.ActivatedAt
			}
			if page.CanManage || v.hasAnyRole(csphub.RoleAdminAgent) {
				row.TerminateURL = customerPartnersPath + "/grants/" + url.PathEscape(g.ID) + "/terminate"
			}
			page.Grants = append(page.Grants, row)
		}
	} else {
		page.GrantsHidden = true
	}
	noStore(w)
	h.render(w, r, status, pageCustomerPartners, navCustomers, page)
}

func (h *Handler) customerRemoveForm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.customerGuard(w, r)
	if !ok {
		return
	}
	h.renderCustomerPartners(w, r, v, http.StatusOK, customerPartnersPage{}, r.PathValue("id"))
}

func (h *Handler) customerRemove(w http.ResponseWriter, r *http.Request) {
	v, ok := h.customerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	_, err := h.svc.RemoveCustomerRelationship(r.Context(), v.actor, v.me.Organization.ID, r.PathValue("id"))
	if err == nil {
		redirect(w, r, customerPartnersPath+"?done=removed")
		return
	}
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		h.renderError(w, r, http.StatusNotFound)
		return
	}
	msg, status, ok := h.customerRefusal(w, r, h.localizer(r), err)
	if !ok {
		h.programFail(w, r, err)
		return
	}
	h.renderCustomerPartners(w, r, v, status, customerPartnersPage{Actions: formState{Problem: msg}}, "")
}

func (h *Handler) customerTerminateGrant(w http.ResponseWriter, r *http.Request) {
	v, ok := h.customerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	_, err := h.svc.TerminateGrant(r.Context(), v.actor, r.PathValue("id"))
	if err == nil {
		redirect(w, r, customerPartnersPath+"?done=terminated")
		return
	}
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		h.renderError(w, r, http.StatusNotFound)
		return
	}
	msg, status, ok := h.customerRefusal(w, r, h.localizer(r), err)
	if !ok {
		h.programFail(w, r, err)
		return
	}
	h.renderCustomerPartners(w, r, v, status, customerPartnersPage{Actions: formState{Problem: msg}}, "")
}
