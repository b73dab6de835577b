package i18n

import (
	"context"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// CookieName is the cookie the language switcher sets.
const CookieName = "lang"

// maxAcceptLanguage bounds the header we parse; real browsers send a few
// dozen bytes.
const maxAcceptLanguage = 1024

// Negotiate picks the language of a request: the user's own setting if it
// names a supported language, else the lang cookie, else the best match of
// Accept-Language, else the default. userSetting is "" for anonymous
// requests; r may be nil when there is no request (mail, CLI).
func (b *Bundle) Negotiate(userSetting string, r *http.Request) language.Tag {
	if tag, ok := b.supportedTag(userSetting); ok {
		return tag
	}
	if r == nil {
		return b.tags[0]
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if tag, ok := b.supportedTag(c.Value); ok {
			return tag
		}
	}
	header := strings.Join(r.Header.Values("Accept-Language"), ",")
	if header == "" || len(header) > maxAcceptLanguage {
		return b.tags[0]
	}
	prefs, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(prefs) == 0 {
		return b.tags[0]
	}
	// The matcher returns the user's tag decorated with extensions; the index
	// gives back our own plain tag.
	_, idx, conf := b.matcher.Match(prefs...)
	if conf == language.No {
		return b.tags[0]
	}
	return b.tags[idx]
}

// ForRequest returns the Localizer for r; see Negotiate for the order of
// sources.
func (b *Bundle) ForRequest(r *http.Request, userSetting string) *Localizer {
	return b.localizers[b.Negotiate(userSetting, r).String()]
}

type localizerKey struct{}

// NewContext returns ctx carrying l, for code below a handler that has no
// access to the request.
func NewContext(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, localizerKey{}, l)
}

// FromContext returns the Localizer stored by NewContext, if any.
func FromContext(ctx context.Context) (*Localizer, bool) {
	l, ok := ctx.Value(localizerKey{}).(*Localizer)
	return l, ok && l != nil
}
