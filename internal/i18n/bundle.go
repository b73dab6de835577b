package i18n

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"golang.org/x/text/language"
)

// supported lists the languages csphub speaks; the first is the default.
// Adding one means adding locales/<tag>.json with the same keys.
var supported = []language.Tag{language.English, language.French}

// Options configure a Bundle.
type Options struct {
	// Logger receives missing-key reports in non-strict mode; nil means
	// slog.Default().
	Logger *slog.Logger
	// Strict makes a missing key or a bad interpolation argument panic, so
	// that tests and development builds fail loudly instead of rendering
	// the key. Production leaves it off: log and show the key.
	Strict bool
}

// Bundle holds every loaded catalog and one ready Localizer per language.
// It is immutable after New and safe for concurrent use.
type Bundle struct {
	logger     *slog.Logger
	strict     bool
	tags       []language.Tag
	matcher    language.Matcher
	localizers map[string]*Localizer // by base tag string, e.g. "fr"
	entries    map[string]map[string]Entry
}

// New loads the embedded catalogs.
func New(opts Options) (*Bundle, error) {
	b := &Bundle{
		logger:     opts.Logger,
		strict:     opts.Strict,
		tags:       slices.Clone(supported),
		matcher:    language.NewMatcher(supported),
		localizers: make(map[string]*Localizer, len(supported)),
	}
	if b.logger == nil {
		b.logger = slog.Default()
	}
	langs := make([]string, len(b.tags))
	for i, t := range b.tags {
		langs[i] = t.String()
	}
	entries, err := readCatalogs(langs)
	if err != nil {
		return nil, err
	}
	b.entries = entries
	for i, lang := range langs {
		msgs := make(map[string]compiledMessage, len(entries[lang]))
		for key, e := range entries[lang] {
			msgs[key] = compile(e)
		}
		b.localizers[lang] = &Localizer{bundle: b, tag: b.tags[i], lang: lang, msgs: msgs}
	}
	return b, nil
}

// Languages returns the supported languages, default first.
func (b *Bundle) Languages() []language.Tag { return slices.Clone(b.tags) }

// Default returns the Localizer of the default language (English).
func (b *Bundle) Default() *Localizer { return b.localizers[b.tags[0].String()] }

// For returns the Localizer for a language given as a BCP 47 string (a
// user's stored preference, a mail recipient's language). Anything not
// supported, or empty, gives the default language.
func (b *Bundle) For(lang string) *Localizer {
	if tag, ok := b.supportedTag(lang); ok {
		return b.localizers[tag.String()]
	}
	return b.Default()
}

// Entries returns a copy of the catalog of lang as written in its file, for
// tests and tools.
func (b *Bundle) Entries(lang string) (map[string]Entry, error) {
	e, ok := b.entries[lang]
	if !ok {
		return nil, fmt.Errorf("i18n: no catalog for %q", lang)
	}
	return maps.Clone(e), nil
}

// supportedTag accepts a language that is one of ours or a close variant
// ("fr-CA" is French), and refuses the rest, so that a cookie or setting
// with an unknown value falls through to the next source.
func (b *Bundle) supportedTag(s string) (language.Tag, bool) {
	if s == "" || len(s) > 35 {
		return language.Und, false
	}
	tag, err := language.Parse(s)
	if err != nil {
		return language.Und, false
	}
	_, idx, conf := b.matcher.Match(tag)
	if conf < language.High {
		return language.Und, false
	}
	return b.tags[idx], true
}
