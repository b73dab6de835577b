package mail

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// Words that give a sentence away as English or as French; a message in
// one language with the other's words left in it has an untranslated
// phrase.
var (
	englishWords = regexp.MustCompile(`(?i)\b(the|your|you|and|with|has|have|please|this|that|from|will|here|was|were|been|for)\b`)
	frenchWords  = regexp.MustCompile(`(?i)(^|[^\p{L}])(le|la|les|vous|votre|vos|et|avec|pour|une|des|été|êtes|dans|sur|ce|cette)([^\p{L}]|$)`)
	htmlTag      = regexp.MustCompile(`<[^>]*>`)
)

// dataOf lists the text the message carries, which is the sender's words
// and stays in whatever language they were typed.
func dataOf(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 2 {
			*out = append(*out, v.String())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// A language code is no text of the message, and taking "fr"
			// out of the words would hide an untranslated "from".
			if f := v.Type().Field(i); f.IsExported() && f.Type != reflect.TypeFor[Lang]() {
				dataOf(v.Field(i), out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			dataOf(v.Index(i), out)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			dataOf(v.Elem(), out)
		}
	}
}

// TestEveryEmailIsInOneLanguage renders each message in each language
// and finds none of the other language's words in its subject, text or
// HTML once the message's own data is taken out: each email is written
// whole in the recipient's language.
func TestEveryEmailIsInOneLanguage(t *testing.T) {
	for name, sample := range samples {
		for _, lang := range Languages() {
			msg := sample(lang)
			e, err := Render(msg)
			if err != nil {
				t.Fatalf("%s in %s: %v", name, lang, err)
			}
			var data []string
			dataOf(reflect.ValueOf(msg), &data)
			other := englishWords
			if lang == English {
				other = frenchWords
			}
			for part, text := range map[string]string{"subject": e.Subject, "text": e.Text, "html": htmlTag.ReplaceAllString(e.HTML, " ")} {
				for _, d := range data {
					text = strings.ReplaceAll(text, d, " ")
				}
				text = strings.ReplaceAll(text, "csphub", " ")
				for _, line := range strings.Split(text, "\n") {
					if m := other.FindString(line); m != "" {
						t.Errorf("%s in %s (%s): %q looks like the other language: %q", name, lang, part, strings.TrimSpace(m), strings.TrimSpace(line))
					}
				}
			}
			en, _ := Render(sample(English))
			if lang != English && (e.Subject == en.Subject || e.Text == en.Text) {
				t.Errorf("%s: the %s subject or text is the English one", name, lang)
			}
		}
	}
}
