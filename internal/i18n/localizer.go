package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/currency"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Localizer renders messages, dates and numbers in one language. Bundles
// build one per language and share it between requests.
type Localizer struct {
	bundle *Bundle
	tag    language.Tag
	lang   string
	msgs   map[string]compiledMessage
}

// Tag returns the language.
func (l *Localizer) Tag() language.Tag { return l.tag }

// Lang returns the language as a BCP 47 string, for <html lang> and
// Content-Language.
func (l *Localizer) Lang() string { return l.lang }

// Has reports whether the catalog has key.
func (l *Localizer) Has(key string) bool {
	_, ok := l.msgs[key]
	return ok
}

// T renders the message key. Arguments come in name, value pairs and fill
// {name} placeholders:
//
//	l.T("mailbox.count", "count", 3)
//
// The argument named "count" picks the plural form of a plural message.
// Numbers are formatted for the language, times as dates.
func (l *Localizer) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return l.bundle.fault(l.lang, key, "missing key")
	}
	if len(args)%2 != 0 {
		l.bundle.fault(l.lang, key, "arguments must come in name, value pairs")
		args = args[:len(args)-1]
	}
	segs := m.text
	if m.plural != nil {
		segs = m.plural[plural.Other]
		if v, ok := lookupArg(args, PluralArg); ok {
			if f, ok := m.plural[l.pluralForm(v)]; ok {
				segs = f
			}
		} else {
			l.bundle.fault(l.lang, key, "plural message without a \"count\" argument")
		}
	}
	if len(segs) == 1 && segs[0].arg == "" && len(args) == 0 {
		return segs[0].text
	}
	var sb strings.Builder
	for _, s := range segs {
		if s.arg == "" {
			sb.WriteString(s.text)
			continue
		}
		v, ok := lookupArg(args, s.arg)
		if !ok {
			l.bundle.fault(l.lang, key, "no value for {"+s.arg+"}")
			sb.WriteString("{" + s.arg + "}")
			continue
		}
		sb.WriteString(l.formatArg(v))
	}
	if l.bundle.strict {
		l.checkUnused(key, segs, args)
	}
	return sb.String()
}

// checkUnused catches an argument name that matches no placeholder, which
// is nearly always a typo in the caller or the catalog.
func (l *Localizer) checkUnused(key string, segs []segment, args []any) {
	for i := 0; i < len(args); i += 2 {
		name, ok := args[i].(string)
		if !ok {
			l.bundle.fault(l.lang, key, fmt.Sprintf("argument name %v is not a string", args[i]))
			continue
		}
		if name == PluralArg && l.msgs[key].plural != nil {
			continue
		}
		found := false
		for _, s := range segs {
			if s.arg == name {
				found = true
				break
			}
		}
		if !found {
			l.bundle.fault(l.lang, key, "argument \""+name+"\" matches no placeholder")
		}
	}
}

func lookupArg(args []any, name string) (any, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if n, ok := args[i].(string); ok && n == name {
			return args[i+1], true
		}
	}
	return nil, false
}

// fault reports a catalog or call-site bug: a panic in strict mode, a log
// line otherwise. It returns the key, which is what a missing message shows.
func (b *Bundle) fault(lang, key, problem string) string {
	if b.strict {
		panic(fmt.Sprintf("i18n: %s: %q: %s", lang, key, problem))
	}
	b.logger.Error("i18n: "+problem, "lang", lang, "key", key)
	return key
}

func (l *Localizer) formatArg(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return l.FormatNumber(x)
	case time.Time:
		return l.FormatDate(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// pluralForm gives the CLDR cardinal form of an integer count; anything
// else is "other".
func (l *Localizer) pluralForm(v any) plural.Form {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case uint:
		n = int64(x)
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case uint64:
		n = int64(x)
	default:
		return plural.Other
	}
	if n < 0 {
		n = -n
	}
	return plural.Cardinal.MatchPlural(l.tag, int(n), 0, 0, 0, 0)
}

// FormatNumber writes a number with the language's separators
// ("1,234.5" in English, "1 234,5" in French).
func (l *Localizer) FormatNumber(v any) string {
	return message.NewPrinter(l.tag).Sprint(number.Decimal(v))
}

// FormatDate writes the calendar date of t in UTC, in words
// ("March 4, 2026", "4 mars 2026").
func (l *Localizer) FormatDate(t time.Time) string {
	t = t.UTC()
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = l.T("date.day_first")
	}
	return l.T("date.format.date",
		"day", day,
		"month", l.T("date.month."+strconv.Itoa(int(t.Month()))),
		"year", strconv.Itoa(t.Year()))
}

// FormatDateTime writes the date and time of t in UTC, with the zone named
// so that nobody mistakes it for local time.
func (l *Localizer) FormatDateTime(t time.Time) string {
	t = t.UTC()
	return l.T("date.format.datetime",
		"date", l.FormatDate(t),
		"time", t.Format(l.T("date.layout.time")))
}

// FormatMoney writes an amount given in minor units of an ISO 4217
// currency with the language's separators and the currency's number of
// decimals, followed by its code ("1,234.50 EUR", "1 234,50 EUR",
// "1,870 JPY"). An unknown code is shown with two decimals.
func (l *Localizer) FormatMoney(minor int64, code string) string {
	scale := 2
	if u, err := currency.ParseISO(code); err == nil {
		scale, _ = currency.Standard.Rounding(u)
	}
	div := 1.0
	for range scale {
		div *= 10
	}
	amount := message.NewPrinter(l.tag).Sprint(number.Decimal(float64(minor)/div, number.Scale(scale)))
	return l.T("money.format", "amount", amount, "currency", code)
}
