package i18n

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func newStrict(t *testing.T) *Bundle {
	t.Helper()
	b, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTranslate(t *testing.T) {
	b := newStrict(t)
	en, fr := b.For("en"), b.For("fr")
	if got := en.T("layout.nav.home"); got != "Home" {
		t.Errorf("en home = %q", got)
	}
	if got := fr.T("layout.nav.home"); got != "Accueil" {
		t.Errorf("fr home = %q", got)
	}
	if got := fr.T("error.code", "code", "404"); got != "Erreur 404" {
		t.Errorf("interpolation = %q", got)
	}
}

// French counts 0 and 1 as singular, English only 1: the plural rules come
// from CLDR, not from the catalog.
func TestPlural(t *testing.T) {
	b := newStrict(t)
	en, fr := b.For("en"), b.For("fr")
	tests := []struct {
		l    *Localizer
		n    int
		want string
	}{
		{en, 0, "0 emails on this page"},
		{en, 1, "1 email on this page"},
		{en, 2, "2 emails on this page"},
		{en, 1500, "1,500 emails on this page"},
		{fr, 0, "0 e-mail sur cette page"},
		{fr, 1, "1 e-mail sur cette page"},
		{fr, 2, "2 e-mails sur cette page"},
	}
	for _, tc := range tests {
		if got := tc.l.T("mailbox.count", "count", tc.n); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.l.Lang(), tc.n, got, tc.want)
		}
	}
}

func TestStrictModePanicsOnMistakes(t *testing.T) {
	l := newStrict(t).For("en")
	for name, call := range map[string]func(){
		"missing key":          func() { l.T("no.such.key") },
		"missing argument":     func() { l.T("error.code") },
		"odd arguments":        func() { l.T("error.code", "code") },
		"unused argument":      func() { l.T("layout.nav.home", "name", "x") },
		"plural without count": func() { l.T("mailbox.count") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
}

// In production a missing key must show itself and leave a log line, never
// an empty string.
func TestLenientModeShowsKeyAndLogs(t *testing.T) {
	var logs bytes.Buffer
	b, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	l := b.For("fr")
	if got := l.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key rendered %q", got)
	}
	if !strings.Contains(logs.String(), "no.such.key") || !strings.Contains(logs.String(), "lang=fr") {
		t.Errorf("missing key not logged: %q", logs.String())
	}
	logs.Reset()
	if got := l.T("error.code"); got != "Erreur {code}" {
		t.Errorf("missing argument rendered %q", got)
	}
	if !strings.Contains(logs.String(), "{code}") {
		t.Errorf("missing argument not logged: %q", logs.String())
	}
}

func TestFormatNumber(t *testing.T) {
	b := newStrict(t)
	if got := b.For("en").FormatNumber(1234567.5); got != "1,234,567.5" {
		t.Errorf("en = %q", got)
	}
	// French groups with a (narrow) no-break space and uses a decimal comma.
	got := b.For("fr").FormatNumber(1234567.5)
	if norm := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(got); norm != "1 234 567,5" {
		t.Errorf("fr = %q", got)
	}
}

func TestFormatMoney(t *testing.T) {
	b := newStrict(t)
	en, fr := b.For("en"), b.For("fr")
	norm := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace
	tests := []struct {
		got, want string
	}{
		{en.FormatMoney(123450, "EUR"), "1,234.50 EUR"},
		{fr.FormatMoney(123450, "EUR"), "1 234,50 EUR"},
		{en.FormatMoney(5, "USD"), "0.05 USD"},
		{en.FormatMoney(1870, "JPY"), "1,870 JPY"}, // the yen has no minor unit
		{fr.FormatMoney(1870, "JPY"), "1 870 JPY"},
		{en.FormatMoney(1234, "KWD"), "1.234 KWD"}, // three decimals
		{en.FormatMoney(100, "XYZ"), "1.00 XYZ"},   // unknown: two
		{en.FormatMoney(-250, "GBP"), "-2.50 GBP"},
	}
	for _, tt := range tests {
		if norm(tt.got) != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestFormatDate(t *testing.T) {
	b := newStrict(t)
	en, fr := b.For("en"), b.For("fr")
	march := time.Date(2026, time.March, 4, 15, 7, 0, 0, time.UTC)
	first := time.Date(2026, time.January, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		got, want string
	}{
		{en.FormatDate(march), "March 4, 2026"},
		{fr.FormatDate(march), "4 mars 2026"},
		{fr.FormatDate(first), "1er janvier 2026"},
		{en.FormatDateTime(march), "March 4, 2026, 3:07 PM UTC"},
		{fr.FormatDateTime(march), "4 mars 2026 à 15:07 UTC"},
		// Shown in UTC whatever the zone it was given in.
		{en.FormatDateTime(first), "January 1, 2026, 8:30 AM UTC"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	// Every month name exists in every language (strict mode panics if not).
	for _, tag := range b.Languages() {
		for m := time.January; m <= time.December; m++ {
			b.For(tag.String()).FormatDateTime(time.Date(2026, m, 15, 0, 0, 0, 0, time.UTC))
		}
	}
}
