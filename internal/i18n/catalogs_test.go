package i18n

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestCatalogsMatch proves that every language has exactly the same keys,
// no blank text, and the same placeholders per key, so that a screen never
// falls back to a key or loses a value in one language only.
func TestCatalogsMatch(t *testing.T) {
	b, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	ref := b.Languages()[0].String()
	refEntries, err := b.Entries(ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(refEntries) == 0 {
		t.Fatalf("catalog %s is empty", ref)
	}
	for _, tag := range b.Languages() {
		lang := tag.String()
		entries, err := b.Entries(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range slices.Sorted(maps.Keys(refEntries)) {
			if _, ok := entries[key]; !ok {
				t.Errorf("%s: missing key %q (present in %s)", lang, key, ref)
			}
		}
		for _, key := range slices.Sorted(maps.Keys(entries)) {
			e := entries[key]
			if _, ok := refEntries[key]; !ok {
				t.Errorf("%s: extra key %q (absent from %s)", lang, key, ref)
				continue
			}
			for _, v := range e.Values() {
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s: key %q has an empty value", lang, key)
				}
			}
			if got, want := e.Placeholders(), refEntries[key].Placeholders(); !slices.Equal(got, want) {
				t.Errorf("%s: key %q uses placeholders %v, %s uses %v", lang, key, got, ref, want)
			}
			if (e.Forms == nil) != (refEntries[key].Forms == nil) {
				t.Errorf("%s: key %q is plural in one language and not in the other", lang, key)
			}
		}
	}
}

// TestLanguageNamesExist proves the switcher can name every supported
// language.
func TestLanguageNamesExist(t *testing.T) {
	b, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range b.Languages() {
		for _, other := range b.Languages() {
			if !b.For(tag.String()).Has("lang.name." + other.String()) {
				t.Errorf("%s: no name for language %s", tag, other)
			}
		}
	}
}

func TestParseCatalogRejectsMistakes(t *testing.T) {
	for name, src := range map[string]string{
		"duplicate key":        `{"a.b": "x", "a.b": "y"}`,
		"flat key":             `{"title": "x"}`,
		"upper-case key":       `{"Home.Title": "x"}`,
		"number value":         `{"a.b": 1}`,
		"unknown plural form":  `{"a.b": {"several": "x", "other": "y"}}`,
		"plural without other": `{"a.b": {"one": "x"}}`,
		"trailing data":        `{"a.b": "x"} {}`,
		"not an object":        `["a.b"]`,
	} {
		if _, err := parseCatalog([]byte(src)); err == nil {
			t.Errorf("%s: accepted %s", name, src)
		}
	}
	if _, err := parseCatalog([]byte(`{"a.b": "x", "a.c": {"one": "{count} y", "other": "{count} ys"}}`)); err != nil {
		t.Errorf("valid catalog refused: %v", err)
	}
}
