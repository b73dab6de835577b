package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/feature/plural"
)

//go:embed locales/*.json
var localeFiles embed.FS

// keyPattern keeps keys flat, lower-case and dotted, so that they can be
// grepped for and never collide with a plural form object.
var keyPattern = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

// placeholderPattern is the only interpolation syntax: {name}.
var placeholderPattern = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// pluralForms names CLDR plural categories as they appear in catalogs.
var pluralForms = map[string]plural.Form{
	"zero":  plural.Zero,
	"one":   plural.One,
	"two":   plural.Two,
	"few":   plural.Few,
	"many":  plural.Many,
	"other": plural.Other,
}

// PluralArg is the argument whose value chooses a plural form.
const PluralArg = "count"

// segment is a piece of a compiled message: literal text, or the name of an
// argument to substitute.
type segment struct {
	text string
	arg  string
}

// compiledMessage is one compiled catalog entry: a single text, or one text per
// plural form ("other" is always present).
type compiledMessage struct {
	text   []segment
	plural map[plural.Form][]segment
}

// Entry is a catalog entry as written in the file, for tests and tools that
// compare catalogs: Text for a plain message, Forms for a plural one.
type Entry struct {
	Text  string
	Forms map[string]string
}

// Values returns every text of the entry (one, or one per plural form).
func (e Entry) Values() []string {
	if e.Forms == nil {
		return []string{e.Text}
	}
	out := make([]string, 0, len(e.Forms))
	for _, f := range slices.Sorted(maps.Keys(e.Forms)) {
		out = append(out, e.Forms[f])
	}
	return out
}

// Placeholders returns the sorted, distinct argument names the entry uses.
func (e Entry) Placeholders() []string {
	var names []string
	for _, v := range e.Values() {
		for _, m := range placeholderPattern.FindAllStringSubmatch(v, -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// parseCatalog reads one catalog file: a JSON object whose values are
// strings, or objects mapping plural forms to strings. Duplicate keys are an
// error because encoding/json would silently keep the last one.
func parseCatalog(data []byte) (map[string]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	entries := make(map[string]Entry)
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		if !keyPattern.MatchString(key) {
			return nil, fmt.Errorf("key %q: keys are lower-case dotted words", key)
		}
		if _, dup := entries[key]; dup {
			return nil, fmt.Errorf("key %q: duplicate", key)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		switch v := tok.(type) {
		case string:
			entries[key] = Entry{Text: v}
		case json.Delim:
			if v != '{' {
				return nil, fmt.Errorf("key %q: a value is a string or an object of plural forms", key)
			}
			forms := make(map[string]string)
			for dec.More() {
				form, err := stringToken(dec)
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", key, err)
				}
				if _, ok := pluralForms[form]; !ok {
					return nil, fmt.Errorf("key %q: unknown plural form %q", key, form)
				}
				if _, dup := forms[form]; dup {
					return nil, fmt.Errorf("key %q: duplicate plural form %q", key, form)
				}
				text, err := stringToken(dec)
				if err != nil {
					return nil, fmt.Errorf("key %q form %q: %w", key, form, err)
				}
				forms[form] = text
			}
			if err := expectDelim(dec, '}'); err != nil {
				return nil, fmt.Errorf("key %q: %w", key, err)
			}
			if _, ok := forms["other"]; !ok {
				return nil, fmt.Errorf("key %q: a plural message needs the form \"other\"", key)
			}
			entries[key] = Entry{Forms: forms}
		default:
			return nil, fmt.Errorf("key %q: a value is a string or an object of plural forms", key)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the catalog object")
	}
	return entries, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, found %v", tok)
	}
	return s, nil
}

// compile splits every text once at load, so that rendering is a walk over
// segments with no parsing per request.
func compile(e Entry) compiledMessage {
	if e.Forms == nil {
		return compiledMessage{text: compileText(e.Text)}
	}
	m := compiledMessage{plural: make(map[plural.Form][]segment, len(e.Forms))}
	for name, text := range e.Forms {
		m.plural[pluralForms[name]] = compileText(text)
	}
	return m
}

func compileText(s string) []segment {
	var segs []segment
	last := 0
	for _, loc := range placeholderPattern.FindAllStringSubmatchIndex(s, -1) {
		if loc[0] > last {
			segs = append(segs, segment{text: s[last:loc[0]]})
		}
		segs = append(segs, segment{arg: s[loc[2]:loc[3]]})
		last = loc[1]
	}
	if last < len(s) || len(segs) == 0 {
		segs = append(segs, segment{text: s[last:]})
	}
	return segs
}

// readCatalogs loads the embedded catalog of every language in langs. A
// language's catalog is locales/<lang>.json plus any locales/<part>.<lang>.json,
// one per feature; a key defined in two files is an error.
func readCatalogs(langs []string) (map[string]map[string]Entry, error) {
	out := make(map[string]map[string]Entry, len(langs))
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	for _, lang := range langs {
		merged := map[string]Entry{}
		found := false
		for _, name := range files {
			base := path.Base(name)
			if base != lang+".json" && !strings.HasSuffix(base, "."+lang+".json") {
				continue
			}
			found = true
			data, err := localeFiles.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			entries, err := parseCatalog(data)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			for k, e := range entries {
				if _, dup := merged[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q is defined in another %s file", name, k, lang)
				}
				merged[k] = e
			}
		}
		if !found {
			return nil, fmt.Errorf("i18n: no catalog for language %q", lang)
		}
		out[lang] = merged
	}
	return out, nil
}
