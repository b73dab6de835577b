package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Directory is what the provider directory, listing, business profile and contact request pages need of the service.
type Directory interface {
	SearchProviderDirectory(ctx context.Context, actor csphub.Actor, q service.DirectoryQuery) (service.DirectoryPage, error)
	SendContactRequest(ctx context.Context, actor csphub.Actor, providerID string, in service.ContactRequestInput) (service.ContactRequestView, error)
	GetProviderListing(ctx context.Context, actor csphub.Actor) (service.ProviderListing, error)
	UpdateProviderListing(ctx context.Context, actor csphub.Actor, ifMatch string, in service.ListingInput) (service.ProviderListing, error)
	ListContactRequests(ctx context.Context, actor csphub.Actor, pageToken string, pageSize int) (service.ContactRequestPage, error)
	MarkContactRequestRead(ctx context.Context, actor csphub.Actor, id string) (service.ContactRequestView, error)
	GetBusinessProfile(ctx context.Context, actor csphub.Actor) (service.BusinessProfileView, error)
	UpdateBusinessProfile(ctx context.Context, actor csphub.Actor, ifMatch string, in service.BusinessProfilePatch) (service.BusinessProfileView, error)
	ListRegions(ctx context.Context) ([]service.RegionView, error)
}

// The directory pages: "Find a provider" with a contact form per provider
// (/partner/directory), the provider's listing (/partner/listing), its
// inbox of contact requests (/partner/inbox), and every partner's business
// profile (/partner/business-profile).
const (
	pageDirectorySearch        = "directory_search"
	pagePartnerListing         = "partner_listing"
	pagePartnerInbox           = "partner_inbox"
	pagePartnerBusinessProfile = "partner_business_profile"
)

var directoryPageNames = []string{pageDirectorySearch, pagePartnerListing, pagePartnerInbox, pagePartnerBusinessProfile}

func (h *Handler) registerDirectoryPages(mux *http.ServeMux) {
	mux.Handle("GET /partner/directory", h.page(h.directorySearch))
	mux.Handle("POST /partner/directory/{org}/contact", h.post(h.directoryContact))
	mux.Handle("GET /partner/listing", h.page(h.partnerListing))
	mux.Handle("POST /partner/listing", h.post(h.partnerListingUpdate))
	mux.Handle("GET /partner/inbox", h.page(h.partnerInbox))
	mux.Handle("POST /partner/inbox/{id}/read", h.post(h.partnerInboxRead))
	mux.Handle("GET /partner/business-profile", h.page(h.businessProfile))
	mux.Handle("POST /partner/business-profile", h.post(h.businessProfileUpdate))
}

// dirOption is a choice of a select or a list of checkboxes.
type dirOption struct {
	Value, Label string
	Selected     bool
}

// directoryFieldErrors translates the service's field errors: a message
// under "directory.error.<field>.<code>", else a generic one and a log
// line. A field of a list ("markets[2]") is shown at its list's input;
// messages about a field the form does not show go to the whole form.
func (h *Handler) directoryFieldErrors(r *http.Request, l *i18n.Localizer, f *formState, fields []csphub.FieldError, order []string) {
	for _, fe := range fields {
		field, _, _ := strings.Cut(fe.Field, "[")
		key := "directory.error." + field + "." + fe.Code
		if !l.Has(key) {
			h.log.ErrorContext(r.Context(), "web: no message for a field error", "field", fe.Field, "code", fe.Code,
				"request_id", csphub.RequestID(r.Context()))
			key = "form.error.invalid"
		}
		if !slices.Contains(order, field) {
			if f.Problem == "" {
				f.Problem = l.T(key)
			}
			continue
		}
		f.fieldError(field, l.T(key))
	}
	f.sortSummary(order)
}

// directoryProblem translates a refusal shown for a whole form:
// "directory.error.<code>" with the status of its kind. ok is false when
// the catalog has no message for it.
func directoryProblem(w http.ResponseWriter, l *i18n.Localizer, err error) (msg string, status int, ok bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", 0, false
	}
	key := "directory.error." + e.Code
	if !l.Has(key) {
		return "", 0, false
	}
	switch e.Kind {
	case csphub.KindConflict:
		status = http.StatusConflict
	case csphub.KindPreconditionFailed:
		status = http.StatusPreconditionFailed
	case csphub.KindRateLimited:
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(max(e.RetryAfter, 1)))
	case csphub.KindNotFound:
		status = http.StatusNotFound
	case csphub.KindForbidden:
		status = http.StatusForbidden
	default:
		status = http.StatusUnprocessableEntity
	}
	return l.T(key), status, true
}

func dirNotApproved(err error) bool {
	e := csphub.AsError(err)
	return e != nil && e.Code == "provider_not_approved"
}

// Names of codes in the reader's language.

func dirServiceLabel(l *i18n.Localizer, code string) string {
	if key := "directory.service." + code; l.Has(key) {
		return l.T(key)
	}
	return code
}

func dirIndustryLabel(l *i18n.Localizer, code string) string {
	if key := "directory.industry." + code; l.Has(key) {
		return l.T(key)
	}
	return code
}

// dirLanguageLabel names an ISO 639-1 language in the reader's language.
func dirLanguageLabel(l *i18n.Localizer, code string) string {
	b, err := language.ParseBase(code)
	if err != nil {
		return code
	}
	if name := display.Languages(language.Make(l.Lang())).Name(b); name != "" {
		return name
	}
	return code
}

func dirLabels(l *i18n.Localizer, codes []string, name func(*i18n.Localizer, string) string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = name(l, c)
	}
	return strings.Join(out, ", ")
}

func dirRegionLabel(l *i18n.Localizer, code string) string { return regionName(l, code, "") }

func dirCountryLabel(l *i18n.Localizer, code string) string { return countryName(l, code) }

// --- Find a provider ---

type directoryCard struct {
	service.DirectoryProvider
	CountryName, RegionNames, MarketNames, LanguageNames, ServiceNames string
	// ContactURL is the contact form's action; "" where the reader cannot
	// write to this provider (its own listing, or not an approved reseller).
	ContactURL string
	Form       formState
}

type directorySearchPage struct {
	Nav            programNav
	Q              string
	Regions        []dirOption
	Services       []dirOption
	YourRegionName string
	Providers      []directoryCard
	CanContact     bool
	Filtered       bool
	// Return carries the search to the contact forms, so that sending one
	// comes back to the same results.
	Return    url.Values
	First     string
	PageToken string
	NextURL   string
	Form      formState // refusals of the search itself, or of a provider gone meanwhile
	Done      string
}

// directoryQueryOf reads the search from a query string (the page) or the
// hidden fields of a contact form.
func directoryQueryOf(v url.Values) service.DirectoryQuery {
	q := service.DirectoryQuery{Q: strings.TrimSpace(v.Get("q")), Region: v.Get("region"), Service: v.Get("service"), PageToken: v.Get("page")}
	if len(q.PageToken) > 2000 {
		q.PageToken = "\x00"
	}
	return q
}

// directoryValues is the query string of a search, without its empty
// parts.
func directoryValues(q service.DirectoryQuery) url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"q": q.Q, "region": q.Region, "service": q.Service, "page": q.PageToken} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

func directoryURL(v url.Values) string {
	if len(v) == 0 {
		return "/partner/directory"
	}
	return "/partner/directory?" + v.Encode()
}

func (h *Handler) directorySearch(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	h.renderDirectory(w, r, v, http.StatusOK, directoryQueryOf(r.URL.Query()), "", formState{}, doneOf(r, "sent"))
}

// renderDirectory shows a page of the directory; form, when contactOrg is
// set, is that provider's contact form as it was refused; otherwise it
// holds refusals of the page.
func (h *Handler) renderDirectory(w http.ResponseWriter, r *http.Request, v *viewer, status int, q service.DirectoryQuery, contactOrg string, form formState, done string) {
	l := h.localizer(r)
	q.PageSize = h.settingsPageSize
	page := directorySearchPage{Nav: programNav{Current: "directory"}, Q: q.Q, Done: done, PageToken: q.PageToken,
		Filtered: q.Q != "" || q.Region != "" || q.Service != ""}
	if contactOrg == "" {
		page.Form = form
	}
	regions, err := h.svc.ListRegions(r.Context())
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	for _, rg := range regions {
		page.Regions = append(page.Regions, dirOption{Value: rg.Code, Label: regionName(l, rg.Code, rg.Name), Selected: rg.Code == q.Region})
	}
	for _, s := range csphub.ProviderServices {
		page.Services = append(page.Services, dirOption{Value: s, Label: dirServiceLabel(l, s), Selected: s == q.Service})
	}
	res, err := h.svc.SearchProviderDirectory(r.Context(), v.actor, q)
	if e := csphub.AsError(err); e != nil && e.Kind == csphub.KindInvalid {
		// A search the form cannot make (a hand-written or stale link).
		h.directoryFieldErrors(r, l, &page.Form, e.Fields, nil)
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
		q = service.DirectoryQuery{PageSize: h.settingsPageSize}
		page.Filtered, page.Q, page.PageToken = false, "", ""
		res, err = h.svc.SearchProviderDirectory(r.Context(), v.actor, q)
	}
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	page.CanContact = res.CanContact
	if res.YourRegion != "" {
		page.YourRegionName = dirRegionLabel(l, res.YourRegion)
	}
	ret := directoryValues(q)
	page.Return = ret
	first := url.Values{}
	for k, val := range ret {
		if k != "page" {
			first[k] = val
		}
	}
	page.First = directoryURL(first)
	if res.NextPageToken != "" {
		next := url.Values{}
		for k, val := range first {
			next[k] = val
		}
		next.Set("page", res.NextPageToken)
		page.NextURL = directoryURL(next)
	}
	shown := false
	for _, p := range res.Items {
		c := directoryCard{DirectoryProvider: p, CountryName: dirCountryLabel(l, p.Country), RegionNames: dirLabels(l, p.Regions, dirRegionLabel),
			MarketNames: dirLabels(l, p.Markets, dirCountryLabel), LanguageNames: dirLabels(l, p.Languages, dirLanguageLabel),
			ServiceNames: dirLabels(l, p.Services, dirServiceLabel)}
		if res.CanContact && p.OrganizationID != v.me.Organization.ID {
			c.ContactURL = "/partner/directory/" + url.PathEscape(p.OrganizationID) + "/contact"
		}
		if p.OrganizationID == contactOrg && c.ContactURL != "" {
			shown = true
			// The summary links to this card's message box.
			c.Form = form
			c.Form.Summary = slices.Clone(form.Summary)
			for i := range c.Form.Summary {
				c.Form.Summary[i].Field = "message-" + p.OrganizationID
			}
		}
		page.Providers = append(page.Providers, c)
	}
	if contactOrg != "" && !shown {
		// The provider left this page meanwhile, or the reader may not
		// write to it: the refusal goes on top.
		page.Form.Problem = cmp.Or(form.Problem, dirFirstMessage(form))
	}
	noStore(w)
	h.render(w, r, status, pageDirectorySearch, "partner", page)
}

func dirFirstMessage(f formState) string {
	if len(f.Summary) > 0 {
		return f.Summary[0].Message
	}
	return ""
}

func (h *Handler) directoryContact(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	org := r.PathValue("org")
	q := directoryQueryOf(r.PostForm)
	message := r.PostForm.Get("message")
	form := formState{Values: map[string]string{"message": message}}
	_, err := h.svc.SendContactRequest(r.Context(), v.actor, org, service.ContactRequestInput{Message: message})
	if err == nil {
		back := directoryValues(q)
		back.Set("done", "sent")
		redirect(w, r, directoryURL(back))
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.directoryFieldErrors(r, l, &form, e.Fields, []string{"message"})
	case e != nil && e.Code == "delegated_access_not_allowed":
		h.programFail(w, r, err)
		return
	default:
		msg, st, ok := directoryProblem(w, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	h.renderDirectory(w, r, v, status, q, org, form, "")
}

// --- the provider's listing ---

type dirMarketGroup struct {
	RegionName string
	Markets    []dirOption
}

type partnerListingPage struct {
	Nav          programNav
	NotApproved  bool
	Listing      service.ProviderListing
	CanEdit      bool
	ETag         string
	Form         formState
	Services     []dirOption
	MarketGroups []dirMarketGroup
	// Names of the saved listing's codes, for readers who cannot edit.
	RegionNames, MarketNames, LanguageNames, ServiceNames string
	Done                                                  string
}

// directoryListingFields is the order of the listing form's fields.
var directoryListingFields = []string{"published", "description", "website", "contact_email", "contact_phone", "languages", "services", "markets"}

func formOfListing(p service.ProviderListing) (formState, []string, []string) {
	published := ""
	if p.Published {
		published = "yes"
	}
	return formState{Values: map[string]string{"published": published, "description": p.Description, "website": p.Website,
		"contact_email": p.ContactEmail, "contact_phone": p.ContactPhone, "languages": strings.Join(p.Languages, ", ")}}, p.Services, p.Markets
}

func (h *Handler) partnerListing(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	p, err := h.svc.GetProviderListing(r.Context(), v.actor)
	if dirNotApproved(err) {
		noStore(w)
		h.render(w, r, http.StatusOK, pagePartnerListing, "partner", partnerListingPage{Nav: programNav{Current: "listing"}, NotApproved: true})
		return
	}
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	form, services, markets := formOfListing(p)
	h.renderListing(w, r, v, http.StatusOK, p, service.ListingETag(p), form, services, markets, doneOf(r, "saved"))
}

func (h *Handler) renderListing(w http.ResponseWriter, r *http.Request, v *viewer, status int, p service.ProviderListing, etag string,
	form formState, services, markets []string, done string) {
	l := h.localizer(r)
	page := partnerListingPage{Nav: programNav{Current: "listing"}, Listing: p, ETag: etag, Form: form, Done: done,
		CanEdit:     v.hasAnyRole(csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin),
		RegionNames: dirLabels(l, p.Regions, dirRegionLabel), MarketNames: dirLabels(l, p.Markets, dirCountryLabel),
		LanguageNames: dirLabels(l, p.Languages, dirLanguageLabel), ServiceNames: dirLabels(l, p.Services, dirServiceLabel)}
	for _, s := range csphub.ProviderServices {
		page.Services = append(page.Services, dirOption{Value: s, Label: dirServiceLabel(l, s), Selected: slices.Contains(services, s)})
	}
	regions, err := h.svc.ListRegions(r.Context())
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	for _, rg := range regions {
		if !slices.Contains(p.Regions, rg.Code) {
			continue
		}
		g := dirMarketGroup{RegionName: regionName(l, rg.Code, rg.Name)}
		for _, m := range rg.Markets {
			g.Markets = append(g.Markets, dirOption{Value: m.Country, Label: dirCountryLabel(l, m.Country), Selected: slices.Contains(markets, m.Country)})
		}
		slices.SortFunc(g.Markets, func(a, b dirOption) int { return strings.Compare(sortKey(a.Label), sortKey(b.Label)) })
		page.MarketGroups = append(page.MarketGroups, g)
	}
	noStore(w)
	h.render(w, r, status, pagePartnerListing, "partner", page)
}

// dirSplitLanguages reads the languages typed as "fr, en" or "fr en".
func dirSplitLanguages(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' })
}

func (h *Handler) partnerListingUpdate(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	form := formState{Values: map[string]string{}}
	for _, name := range []string{"description", "website", "contact_email", "contact_phone", "languages"} {
		form.Values[name] = strings.TrimSpace(f.Get(name))
	}
	if f.Get("published") == "yes" {
		form.Values["published"] = "yes"
	}
	in := service.ListingInput{Published: form.Values["published"] == "yes", Description: f.Get("description"),
		Website: form.Values["website"], ContactEmail: form.Values["contact_email"], ContactPhone: form.Values["contact_phone"],
		Languages: dirSplitLanguages(form.Values["languages"]), Services: f["services"], Markets: f["markets"]}
	etag := f.Get("etag")
	_, err := h.svc.UpdateProviderListing(r.Context(), v.actor, ifMatchOf(etag), in)
	if err == nil {
		redirect(w, r, "/partner/listing?done=saved")
		return
	}
	cur, gerr := h.svc.GetProviderListing(r.Context(), v.actor)
	if dirNotApproved(err) || dirNotApproved(gerr) {
		noStore(w)
		h.render(w, r, http.StatusConflict, pagePartnerListing, "partner", partnerListingPage{Nav: programNav{Current: "listing"}, NotApproved: true})
		return
	}
	if gerr != nil {
		h.programFail(w, r, gerr)
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		form.Values["description"] = f.Get("description")
		h.directoryFieldErrors(r, l, &form, e.Fields, directoryListingFields)
	case e != nil && e.Kind == csphub.KindPreconditionFailed:
		// Show the listing as it is now, to make the change again knowingly.
		fresh, services, markets := formOfListing(cur)
		fresh.Problem = l.T("directory.error.etag_mismatch")
		h.renderListing(w, r, v, http.StatusPreconditionFailed, cur, service.ListingETag(cur), fresh, services, markets, "")
		return
	case e != nil && e.Code == "partner_admin_required":
		h.renderError(w, r, http.StatusForbidden)
		return
	default:
		msg, st, ok := directoryProblem(w, l, err)
		if !ok {
			h.programFail(w, r, err)
			return
		}
		form.Problem, status = msg, st
	}
	h.renderListing(w, r, v, status, cur, etag, form, f["services"], f["markets"], "")
}

// --- the provider's inbox ---

type dirInboxRow struct {
	service.ContactRequestView
	ReadOn  time.Time // zero while unread
	ReadURL string    // "" once read
}

type partnerInboxPage struct {
	Nav         programNav
	NotApproved bool
	Requests    []dirInboxRow
	First       string
	PageToken   string
	NextURL     string
	Done        string
}

func (h *Handler) partnerInbox(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	pageToken := pageTokenOf(r)
	list, err := h.svc.ListContactRequests(r.Context(), v.actor, pageToken, h.settingsPageSize)
	page := partnerInboxPage{Nav: programNav{Current: "inbox"}, First: "/partner/inbox", PageToken: pageToken, Done: doneOf(r, "read")}
	if dirNotApproved(err) {
		page.NotApproved = true
		noStore(w)
		h.render(w, r, http.StatusOK, pagePartnerInbox, "partner", page)
		return
	}
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	for _, c := range list.Items {
		row := dirInboxRow{ContactRequestView: c}
		if c.ReadAt == nil {
			row.ReadURL = "/partner/inbox/" + url.PathEscape(c.ID) + "/read"
		} else {
			row.ReadOn = *c.ReadAt
		}
		page.Requests = append(page.Requests, row)
	}
	if list.NextPageToken != "" {
		page.NextURL = "/partner/inbox?page=" + url.QueryEscape(list.NextPageToken)
	}
	noStore(w)
	h.render(w, r, http.StatusOK, pagePartnerInbox, "partner", page)
}

func (h *Handler) partnerInboxRead(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	if _, err := h.svc.MarkContactRequestRead(r.Context(), v.actor, r.PathValue("id")); err != nil {
		h.programFail(w, r, err)
		return
	}
	back := url.Values{"done": {"read"}}
	if p := r.PostForm.Get("page"); p != "" && len(p) <= 200 {
		back.Set("page", p)
	}
	redirect(w, r, "/partner/inbox?"+back.Encode())
}

// --- the business profile ---

type businessProfilePage struct {
	Nav           programNav
	Profile       service.BusinessProfileView
	CanEdit       bool
	ETag          string
	Form          formState
	Industries    []dirOption
	IndustryNames string
	Done          string
}

var businessProfileFields = []string{"description", "website", "industries"}

func formOfBusinessProfile(p service.BusinessProfileView) formState {
	return formState{Values: map[string]string{"description": p.Description, "website": p.Website}}
}

func (h *Handler) businessProfile(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok {
		return
	}
	p, err := h.svc.GetBusinessProfile(r.Context(), v.actor)
	if err != nil {
		h.programFail(w, r, err)
		return
	}
	h.renderBusinessProfile(w, r, v, http.StatusOK, p, service.BusinessProfileETag(p), formOfBusinessProfile(p), p.Industries, doneOf(r, "saved"))
}

func (h *Handler) renderBusinessProfile(w http.ResponseWriter, r *http.Request, v *viewer, status int, p service.BusinessProfileView, etag string,
	form formState, industries []string, done string) {
	l := h.localizer(r)
	page := businessProfilePage{Nav: programNav{Current: "business_profile"}, Profile: p, ETag: etag, Form: form, Done: done,
		CanEdit: v.hasAnyRole(csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin), IndustryNames: dirLabels(l, p.Industries, dirIndustryLabel)}
	for _, ind := range service.BusinessIndustries {
		page.Industries = append(page.Industries, dirOption{Value: ind, Label: dirIndustryLabel(l, ind), Selected: slices.Contains(industries, ind)})
	}
	noStore(w)
	h.render(w, r, status, pagePartnerBusinessProfile, "partner", page)
}

func (h *Handler) businessProfileUpdate(w http.ResponseWriter, r *http.Request) {
	v, ok := h.partnerGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	description, website, industries := f.Get("description"), strings.TrimSpace(f.Get("website")), f["industries"]
	if industries == nil {
		industries = []string{}
	}
	form := formState{Values: map[string]string{"description": description, "website": website}}
	etag := f.Get("etag")
	_, err := h.svc.UpdateBusinessProfile(r.Context(), v.actor, ifMatchOf(etag),
		service.BusinessProfilePatch{Description: &description, Website: &website, Industries: &industries})
	if err == nil {
		redirect(w, r, "/partner/business-profile?done=saved")
		return
	}
	cur, gerr := h.svc.GetBusinessProfile(r.Context(), v.actor)
	if gerr != nil {
		h.programFail(w, r, gerr)
		return
	}
	e := csphub.AsError(err)
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
		h.directoryFieldErrors(r, l, &form, e.Fields, businessProfileFields)
	case e != nil && e.Kind == csphub.KindPreconditionFailed:
		fresh := formOfBusinessProfile(cur)
		fresh.Problem = l.T("directory.error.etag_mismatch")
		h.renderBusinessProfile(w, r, v, http.StatusPreconditionFailed, cur, service.BusinessProfileETag(cur), fresh, cur.Industries, "")
		return
	case e != nil && e.Code == "partner_admin_required":
		h.renderError(w, r, http.StatusForbidden)
		return
	default:
		h.programFail(w, r, err)
		return
	}
	h.renderBusinessProfile(w, r, v, status, cur, etag, form, industries, "")
}
