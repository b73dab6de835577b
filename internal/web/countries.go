package web

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// signupCountries are the countries offered at sign-up (ISO 3166-1
// alpha-2): Europe, North America and a few markets partners there often
// serve. Each has a name in every catalog under "country.<code in lower
// case>"; a test checks both.
var signupCountries = []string{
	"AD", "AE", "AL", "AT", "AU", "BA", "BE", "BG", "BR", "CA", "CH", "CI", "CY", "CZ",
	"DE", "DK", "DZ", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IL", "IN",
	"IS", "IT", "JP", "LI", "LT", "LU", "LV", "MA", "MC", "MD", "ME", "MK", "MT", "MX",
	"NL", "NO", "NZ", "PL", "PT", "RO", "RS", "SE", "SG", "SI", "SK", "SM", "SN", "TN",
	"TR", "UA", "US", "ZA",
}

type countryOption struct {
	Code string
	Name string
}

func countryKey(code string) string { return "country." + strings.ToLower(code) }

// countryOptions names the countries in every language and sorts them the
// way a reader of that language looks for them ("États-Unis" among the E).
func (h *Handler) countryOptions() map[string][]countryOption {
	out := make(map[string][]countryOption)
	for _, tag := range h.i18n.Languages() {
		l := h.i18n.For(tag.String())
		opts := make([]countryOption, len(signupCountries))
		for i, code := range signupCountries {
			opts[i] = countryOption{Code: code, Name: l.T(countryKey(code))}
		}
		slices.SortFunc(opts, func(a, b countryOption) int {
			return strings.Compare(sortKey(a.Name), sortKey(b.Name))
		})
		out[l.Lang()] = opts
	}
	return out
}

// sortKey folds case and drops accents, which is all the collation a list
// of country names in English or French needs.
func sortKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
