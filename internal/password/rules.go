package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"csphub"

	"golang.org/x/text/unicode/norm"
)

// Length limits, in Unicode code points after NFC normalization, following
// NIST SP 800-63B and OWASP ASVS 5.0: at least 8, and long passphrases
// welcome. The upper bound only keeps a request from feeding megabytes to
// the hash; 256 is far above any password manager's default.
const (
	MinLength = 8
	MaxLength = 256
)

// Stable codes of the "password" field error; user interfaces translate
// these, not the English messages.
const (
	CodeTooShort = "too_short"
	CodeTooLong  = "too_long"
	CodeCommon   = "common"
)

// Field is the input field the errors of Check name.
const Field = "password"

// Check applies the password rules: length, and not a common password or
// an obvious variant of one or of the context strings (the user's email,
// organization name, domain). There are deliberately no composition rules
// (digits, symbols, mixed case): they push people to predictable patterns
// without adding strength. The result is a csphub.Invalid error, or nil.
func Check(plain string, context ...string) error {
	p := norm.NFC.String(plain)
	n := utf8.RuneCountInString(p)
	switch {
	case n < MinLength:
		return invalid(CodeTooShort, fmt.Sprintf("The password must have at least %d characters.", MinLength))
	case n > MaxLength:
		return invalid(CodeTooLong, fmt.Sprintf("The password must have at most %d characters.", MaxLength))
	case guessable(p, context):
		return invalid(CodeCommon, "This password is too common or too easy to guess. Choose another one; a few unrelated words make a strong password.")
	}
	return nil
}

func invalid(code, message string) error {
	return csphub.Invalid(csphub.FieldError{Field: Field, Code: code, Message: message})
}

// guessable reports whether p, or p with simple decorations stripped, is a
// common password or equals one of the context strings.
func guessable(p string, context []string) bool {
	variants := passwordVariants(p)
	list := commonPasswords()
	for _, v := range variants {
		if _, ok := list[v]; ok {
			return true
		}
	}
	for _, c := range context {
		for _, cv := range contextVariants(c) {
			for _, v := range variants {
				if v == cv {
					return true
				}
			}
		}
	}
	return false
}

// passwordVariants lists the forms of p to compare: lower-cased, without
// surrounding symbols ("123456789!"), without the compact separators
// ("john.smith" as "johnsmith"), and, when the letters are most of it,
// without leading and trailing digits and symbols ("Dragon2024!"). The last
// rule needs the letters to be at least half, so a long random number with
// a short word in front is not refused for the word.
func passwordVariants(p string) []string {
	lower := strings.ToLower(strings.TrimSpace(p))
	out := []string{lower}
	add := func(v string) {
		if v == "" {
			return
		}
		for _, have := range out {
			if have == v {
				return
			}
		}
		out = append(out, v)
	}
	add(strings.TrimFunc(lower, isDecoration))
	add(compact(lower))
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if 2*utf8.RuneCountInString(core) >= utf8.RuneCountInString(lower) {
		add(core)
	}
	return out
}

// contextVariants lists the forms of one context string a password must
// not equal: the whole string, its compact form, and for an email its local
// part and domain, for a domain its first label ("contoso" of
// "contoso.com"). Forms shorter than 3 characters are dropped: they would
// refuse good passwords for a coincidence.
func contextVariants(c string) []string {
	c = strings.ToLower(strings.TrimSpace(norm.NFC.String(c)))
	var out []string
	add := func(v string) {
		if utf8.RuneCountInString(v) >= 3 {
			out = append(out, v, compact(v))
		}
	}
	add(c)
	domain := c
	if local, d, ok := strings.Cut(c, "@"); ok {
		add(local)
		add(d)
		domain = d
	}
	if label, _, ok := strings.Cut(domain, "."); ok {
		add(label)
	}
	return out
}

// compact drops spaces and the separators people put in names.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '.' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, s)
}

func isDecoration(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}
