// Package i18n holds csphub's message catalogs (one embedded JSON file per
// language, flat keys such as "home.title") and the Localizer that renders
// them for one request: named interpolation, plural forms, dates and
// numbers in the reader's language.
//
// A request's language is, in order: the user's own setting, the "lang"
// cookie set by the language switcher, the best match of Accept-Language
// among the supported languages, and English.
//
// A missing key is a bug, never a silent blank: in strict mode (tests,
// development) it panics, otherwise it is logged and the key itself is shown.
package i18n
