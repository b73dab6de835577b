package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"csphub"
	"csphub/internal/i18n"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Page templates: each is parsed together with the layout and defines the
// "title" and "content" blocks the layout executes.
const (
	pageHome           = "home"
	pageError          = "error"
	pageMailboxList    = "mailbox_list"
	pageMailboxMessage = "mailbox_message"
	pageAccount        = "account"
	pageSignup         = "signup"
	pageSignIn         = "signin"
	pageMFASetup       = "mfa_setup"
	pageMFA            = "mfa"
	pageRecoveryCodes  = "recovery_codes"
	pageForgotPassword = "forgot_password"
	pageResetPassword  = "reset_password"
	pageSettingsUsers  = "settings_users"
	pageSettingsUser   = "settings_user"
	pageSettingsTokens = "settings_tokens"
	pageSettingsSSO    = "settings_sso"
)

// pageNames lists every page: the core ones here, each feature's in its own
// file (enrollmentPageNames, partnerIDPageNames, agreementPageNames).
var pageNames = slices.Concat(corePageNames, enrollmentPageNames, partnerIDPageNames, agreementPageNames, partnershipPageNames, directoryPageNames, providerPageNames, delegationPageNames, customerPageNames, orderPageNames, overviewPageNames)

var corePageNames = []string{
	pageHome, pageError, pageMailboxList, pageMailboxMessage,
	pageAccount, pageSignup, pageSignIn, pageMFASetup, pageMFA, pageRecoveryCodes,
	pageForgotPassword, pageResetPassword,
	pageSettingsUsers, pageSettingsUser, pageSettingsTokens, pageSettingsSSO,
}

// pageSet holds every page parsed once per language, with T and the
// formatting functions bound to that language, so that a request picks a
// ready template instead of cloning one.
type pageSet map[string]map[string]*template.Template // page → lang → template

// funcs returns the template functions for one language. Parsing needs the
// same names, so tests call it with any Localizer.
func (h *Handler) funcs(l *i18n.Localizer) template.FuncMap {
	return template.FuncMap{
		"T":        l.T,
		"langName": func(tag string) string { return l.T("lang.name." + tag) },
		"date":     l.FormatDate,
		"dateTime": l.FormatDateTime,
		"number":   l.FormatNumber,
		"isoTime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join":     strings.Join,
		"asset":    h.assets.url,
		"mailURL":  mailURL,
		"pager":    func(first, pageToken, next string) pagerLinks { return pagerLinks{first, pageToken, next} },
		"mailHTMLURL": func(id string) string {
			return mailURL(id) + "/html"
		},
	}
}

// pagerLinks are the links between the pages of a keyset-paginated list.
type pagerLinks struct{ First, PageToken, Next string }

func parsePage(funcs template.FuncMap, name string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).ParseFS(templateFiles,
		"templates/layout.html", "templates/forms.html", "templates/partial_*.html", "templates/"+name+".html")
}

func (h *Handler) parsePages() (pageSet, error) {
	set := make(pageSet, len(pageNames))
	for _, name := range pageNames {
		set[name] = make(map[string]*template.Template)
		for _, tag := range h.i18n.Languages() {
			l := h.i18n.For(tag.String())
			t, err := parsePage(h.funcs(l), name)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", name, err)
			}
			set[name][l.Lang()] = t
		}
	}
	return set, nil
}

// layoutData is what the layout needs on every page; Page is the page's own
// data.
type layoutData struct {
	Lang           string
	Languages      []languageChoice
	ReturnPath     string // where the language switcher sends the reader back
	Nav            string // the nav item to mark as current
	MailboxEnabled bool
	// IdentityEnabled shows the sign-in and sign-up links to visitors.
	IdentityEnabled bool
	// SettingsEnabled shows the Settings link to a reader who may use it.
	SettingsEnabled bool
	// SSOSettingsEnabled shows the single sign-on tab of the settings.
	SSOSettingsEnabled bool
	// PartnerEnabled shows the partner program pages (overview, profile,
	// agreement) to a partner user; OperatorEnabled shows the operator
	// console to an operator user.
	PartnerEnabled  bool
	OperatorEnabled bool
	// OperatorReviewer: an operator user who reviews applications (an
	// admin or a verification reviewer).
	OperatorReviewer bool
	// CustomerEnabled shows a customer user its organization's pages
	// (its partners).
	CustomerEnabled bool
	// Account is who is signed in, nil for a visitor.
	Account *accountInfo
	// HideLangSwitch: the page cannot be shown again (a POST's answer that
	// holds one-time secrets), so leaving it to switch language would lose it.
	HideLangSwitch bool
	// Delegation is the banner of the organization acted in through a
	// delegated admin grant, or the notice that acting there ended.
	Delegation *delegationBanner
	Page       any
}

// settingsNav is what the settings tabs need: the current tab, and
// whether the reader may see the single sign-on one.
type settingsNav struct {
	Current string
	SSO     bool
}

// SettingsNav is called by the settings pages as ($.SettingsNav "users").
func (d layoutData) SettingsNav(current string) settingsNav {
	return settingsNav{Current: current, SSO: d.SSOSettingsEnabled}
}

// OperatorNav is called by the operator pages as ($.OperatorNav .Nav): the
// tabs the reader may open.
func (d layoutData) OperatorNav(n programNav) programNav {
	n.Reviewer = d.OperatorReviewer
	return n
}

// OrdersNav is OperatorNav for the order pages' tabs.
func (d layoutData) OrdersNav(n ordersNav) ordersNav {
	n.Program = d.OperatorNav(n.Program)
	return n
}

type accountInfo struct {
	Name    string
	OrgName string
}

// oneTimePage is implemented by page data that must not offer the
// language switcher.
type oneTimePage interface{ oneTime() bool }

type languageChoice struct {
	Tag     string
	Current bool
}

// render executes a page into a buffer first, so that a template failure
// becomes a clean error page rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, nav string, data any) {
	l := h.localizer(r)
	r, _ = h.resolveDelegation(w, r)
	var buf bytes.Buffer
	if err := h.execute(&buf, r, l, page, nav, data); err != nil {
		h.log.ErrorContext(r.Context(), "web: render failed", "page", page, "lang", l.Lang(),
			"request_id", csphub.RequestID(r.Context()), "err", err)
		if page == pageError {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		h.renderError(w, r, http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Language", l.Lang())
	hdr.Add("Vary", "Accept-Language, Cookie")
	if hdr.Get("Cache-Control") == "" {
		hdr.Set("Cache-Control", "private, no-cache")
	}
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) execute(buf *bytes.Buffer, r *http.Request, l *i18n.Localizer, page, nav string, data any) error {
	tmpl := h.pages[page][l.Lang()]
	if tmpl == nil {
		return fmt.Errorf("no template %s for %s", page, l.Lang())
	}
	langs := h.i18n.Languages()
	choices := make([]languageChoice, len(langs))
	for i, tag := range langs {
		choices[i] = languageChoice{Tag: tag.String(), Current: tag == l.Tag()}
	}
	ld := layoutData{
		Lang:            l.Lang(),
		Languages:       choices,
		ReturnPath:      returnPathOf(r),
		Nav:             nav,
		MailboxEnabled:  h.mailboxEnabled(r),
		IdentityEnabled: h.svc != nil,
		Page:            data,
	}
	if v := viewerFrom(r.Context()); v != nil && v.me.User != nil {
		ld.Account = &accountInfo{Name: v.me.User.Name, OrgName: v.me.Organization.Name}
		ld.SettingsEnabled = !v.needsMFA() && v.canManageSettings()
		ld.SSOSettingsEnabled = ld.SettingsEnabled && v.canManageSSO()
		ld.PartnerEnabled = !v.needsMFA() && v.me.Organization.Kind == csphub.OrgPartner
		ld.OperatorEnabled = !v.needsMFA() && v.me.Organization.Kind == csphub.OrgOperator
		ld.OperatorReviewer = ld.OperatorEnabled && v.reviewsApplications()
		ld.CustomerEnabled = !v.needsMFA() && v.me.Organization.Kind == csphub.OrgCustomer
		ld.Delegation = h.delegationBannerOf(r)
	}
	if p, ok := data.(oneTimePage); ok && p.oneTime() {
		ld.HideLangSwitch = true
	}
	return tmpl.ExecuteTemplate(buf, "layout", ld)
}

// returnPathOf is the page to come back to after switching language: the
// current one, unless it cannot be fetched again with GET.
func returnPathOf(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "/"
	}
	return safeReturnPath(r.URL.RequestURI())
}

type errorPage struct {
	Kind string // selects the message in error.html
	Code string
}

// renderError shows the localized page for status; it never includes the
// cause, which callers log.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int) {
	kind := "internal"
	switch status {
	case http.StatusNotFound:
		kind = "not_found"
	case http.StatusBadRequest:
		kind = "bad_request"
	case http.StatusForbidden:
		kind = "forbidden"
	}
	h.renderErrorKind(w, r, status, kind)
}

// renderErrorKind shows the error page of one kind (its title and text
// keys are error.<kind>.*) with status.
func (h *Handler) renderErrorKind(w http.ResponseWriter, r *http.Request, status int, kind string) {
	setPageHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, pageError, "", errorPage{Kind: kind, Code: strconv.Itoa(status)})
}

// fail answers a backend error by its domain kind: absent things are 404,
// bad input 400, anything else is logged and shown as a generic 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch csphub.ErrorKind(err) {
	case csphub.KindNotFound:
		h.renderError(w, r, http.StatusNotFound)
	case csphub.KindInvalid:
		h.renderError(w, r, http.StatusBadRequest)
	default:
		h.log.ErrorContext(r.Context(), "web: backend error", "path", r.URL.Path,
			"request_id", csphub.RequestID(r.Context()), "err", err)
		h.renderError(w, r, http.StatusInternalServerError)
	}
}

func mailURL(id string) string { return "/mailbox/" + url.PathEscape(id) }
