// Package web serves csphub's server-rendered pages: html/template and one
// stylesheet, all embedded, every visible word from the i18n catalogs.
// Pages reach data through small interfaces: Mailbox, which cmd/csphub
// wires to the store, and Identity, the use cases of internal/service
// behind sign-up, sign-in, MFA and password reset. Every change a reader
// makes is a POST, refused when it comes from another site.
package web

import (
	"fmt"
	"log/slog"
	"net/http"

	"csphub"
	"csphub/internal/i18n"
)

// Options configure the web UI. Every field is optional; the zero value
// serves the pages with the mailbox disabled.
type Options struct {
	// Logger records render failures and backend errors; nil means
	// slog.Default().
	Logger *slog.Logger

	// Mailbox is the local mailbox shown at /mailbox when csphub has no
	// SMTP server; nil disables those pages (they answer 404).
	Mailbox Mailbox

	// MailboxAllowed, when set, decides per request whether the mailbox
	// may be shown (it holds invitation links, so a deployment reachable
	// by others should restrict it); a refused request gets 404, as if
	// the mailbox did not exist. nil allows everyone.
	MailboxAllowed func(*http.Request) bool

	// MailboxPageSize is the number of emails per mailbox page; 0 means 50.
	MailboxPageSize int

	// I18n is the message bundle shared with the rest of the server; nil
	// means load one (strict when Dev is set).
	I18n *i18n.Bundle

	// UserLanguage returns the signed-in user's language setting, if any,
	// which wins over the cookie and Accept-Language. nil means none.
	UserLanguage func(*http.Request) string

	// Service runs the identity pages (sign-up, sign-in, MFA, password
	// reset, sign-out) and shows who is signed in; nil disables them (they
	// answer 404). cmd/csphub passes its *service.Service.
	Service Identity

	// Clock dates the API tokens created on the settings pages (their
	// expiry is chosen in days); nil means the system clock. Tests pass the
	// service's own clock so that both agree on "now".
	Clock csphub.Clock

	// SettingsPageSize is the number of users or API tokens per page of
	// the settings lists; 0 means 50.
	SettingsPageSize int

	// SecureCookies says the site is served over HTTPS: the session cookie
	// then gets Secure and the __Host- prefix, as the API's does.
	SecureCookies bool

	// Dev makes mistakes loud: a missing catalog key or a bad template
	// argument fails the page (logged, 500) instead of showing the key.
	Dev bool
}

// Handler serves the pages. Build it with New and mount it with Register.
type Handler struct {
	log       *slog.Logger
	i18n      *i18n.Bundle
	pages     pageSet
	assets    *assetSet
	mailbox   Mailbox
	mailAllow func(*http.Request) bool
	pageSize  int
	userLang  func(*http.Request) string
	csrf      *http.CrossOriginProtection
	svc       Identity
	secure    bool
	clock     csphub.Clock
	// settingsPageSize is the length of a settings list's page.
	settingsPageSize int
	countries        map[string][]countryOption // by language, sorted by name
}

const (
	defaultMailboxPageSize = 50
	maxMailboxPageSize     = 500
)

// New parses the embedded templates and hashes the static assets, so that
// a broken template stops the server at start rather than on a request.
func New(opts Options) (*Handler, error) {
	h := &Handler{
		log:       opts.Logger,
		i18n:      opts.I18n,
		mailbox:   opts.Mailbox,
		mailAllow: opts.MailboxAllowed,
		pageSize:  opts.MailboxPageSize,
		userLang:  opts.UserLanguage,
		svc:       opts.Service,
		secure:    opts.SecureCookies,
		clock:     opts.Clock,

		settingsPageSize: opts.SettingsPageSize,
	}
	if h.settingsPageSize <= 0 || h.settingsPageSize > maxMailboxPageSize {
		h.settingsPageSize = defaultSettingsPageSize
	}
	if h.clock == nil {
		h.clock = csphub.SystemClock{}
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.i18n == nil {
		b, err := i18n.New(i18n.Options{Logger: h.log, Strict: opts.Dev})
		if err != nil {
			return nil, err
		}
		h.i18n = b
	}
	switch {
	case h.pageSize == 0:
		h.pageSize = defaultMailboxPageSize
	case h.pageSize < 0 || h.pageSize > maxMailboxPageSize:
		return nil, fmt.Errorf("web: MailboxPageSize %d is outside 1..%d", h.pageSize, maxMailboxPageSize)
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	h.assets = assets
	pages, err := h.parsePages()
	if err != nil {
		return nil, err
	}
	h.pages = pages
	h.countries = h.countryOptions()
	h.csrf = http.NewCrossOriginProtection()
	h.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderErrorKind(w, r, http.StatusForbidden, "cross_site")
	}))
	return h, nil
}

// localizer picks the language of r.
func (h *Handler) localizer(r *http.Request) *i18n.Localizer {
	setting := ""
	if h.userLang != nil {
		setting = h.userLang(r)
	}
	return h.i18n.ForRequest(r, setting)
}
