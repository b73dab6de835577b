// Package countries holds the program's per-country rules for addresses and
// phone numbers, the way Partner Center validates a partner's legal
// address: whether a postal code is used and required and what it looks
// like, whether a state or region is required and which ones exist, and
// the country's calling code. Every country where the program sells (the
// markets table) has a rule; a country without one is not supported.
//
// Phone numbers are parsed and checked with github.com/nyaruka/phonenumbers
// (Google's libphonenumber metadata) and stored in E.164 form.
package countries

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"

	"csphub"
)

// Rule is how addresses and phone numbers of one country are checked.
type Rule struct {
	Code       string         `json:"code" doc:"ISO 3166-1 alpha-2 country code"`
	Name       string         `json:"name" doc:"English name of the country"`
	PostalCode PostalCodeRule `json:"postal_code"`
	State      StateRule      `json:"state"`
	Phone      PhoneRule      `json:"phone"`
}

// PostalCodeRule says whether and how a postal code is given.
type PostalCodeRule struct {
	Used     bool   `json:"used" doc:"false: the country has no postal codes and the field stays empty"`
	Required bool   `json:"required" doc:"A postal code must be given"`
	Label    string `json:"label" doc:"What the country calls it, e.g. ZIP code, postcode, PIN code"`
	Pattern  string `json:"pattern,omitempty" doc:"Regular expression the stored, normalized code matches"`
	Format   string `json:"format,omitempty" doc:"What a valid code looks like, in words"`
	Example  string `json:"example,omitempty" doc:"A valid code in its normalized form"`
}

// StateRule says whether a state, province or region is given and, where
// the country has a closed list, which ones are valid.
type StateRule struct {
	Required     bool          `json:"required" doc:"A state or region must be given"`
	Label        string        `json:"label" doc:"What the country calls it, e.g. state, province, prefecture"`
	Subdivisions []Subdivision `json:"subdivisions,omitempty" doc:"When present, the state must be one of these; its code is stored"`
}

// Subdivision is a state, province or region of a country (ISO 3166-2).
type Subdivision struct {
	Code string `json:"code" doc:"ISO 3166-2 code without the country prefix, e.g. CA for US-CA"`
	Name string `json:"name" doc:"English name"`
}

// PhoneRule describes the country's phone numbers.
type PhoneRule struct {
	CallingCode string `json:"calling_code" doc:"International calling code, e.g. +33"`
	Example     string `json:"example" doc:"A valid number in international format"`
}

// maxLineRunes is the longest an address line, city or free-text state may be.
const maxLineRunes = 200

// Lookup returns the rule of a country (ISO 3166-1 alpha-2, either case).
func Lookup(iso2 string) (Rule, bool) {
	e, ok := table()[strings.ToUpper(strings.TrimSpace(iso2))]
	if !ok {
		return Rule{}, false
	}
	return e.public(), true
}

// All returns every country's rule, sorted by code.
func All() []Rule {
	t := table()
	codes := make([]string, 0, len(t))
	for c := range t {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]Rule, len(codes))
	for i, c := range codes {
		out[i] = t[c].public()
	}
	return out
}

// ValidateAddress checks an address against its country's rule; see
// NormalizeAddress.
func ValidateAddress(prefix string, a csphub.Address) []csphub.FieldError {
	_, errs := NormalizeAddress(prefix, a)
	return errs
}

// NormalizeAddress checks an address against its country's rule and
// returns it normalized: every field trimmed, the country code upper-case,
// the state as its subdivision code where the country has a list (a code
// like "CA", "US-CA" or a name like "California" are all accepted), the
// postal code upper-case in the country's canonical layout ("sw1a1aa"
// becomes "SW1A 1AA", "01310100" becomes "01310-100"). Field errors name
// prefix+"line1", "line2", "city", "state", "postal_code" and "country".
// The address is returned normalized as far as it could be even when there
// are errors, so that a form shows back what was typed.
func NormalizeAddress(prefix string, a csphub.Address) (csphub.Address, []csphub.FieldError) {
	var errs []csphub.FieldError
	fail := func(field, code, msg string) {
		errs = append(errs, csphub.FieldError{Field: prefix + field, Code: code, Message: msg})
	}
	a.Line1 = strings.TrimSpace(a.Line1)
	a.Line2 = strings.TrimSpace(a.Line2)
	a.City = strings.TrimSpace(a.City)
	a.State = strings.TrimSpace(a.State)
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))

	line := func(field, v string, required bool) {
		switch {
		case v == "" && required:
			fail(field, "required", "is required")
		case utf8.RuneCountInString(v) > maxLineRunes || !oneLine(v):
			fail(field, "invalid_text", "must be at most 200 characters on one line")
		}
	}
	line("line1", a.Line1, true)
	line("line2", a.Line2, false)
	line("city", a.City, true)

	var e *entry
	switch {
	case a.Country == "":
		fail("country", "required", "is required: an ISO 3166-1 alpha-2 country code like FR or US")
	case !isoShape.MatchString(a.Country):
		fail("country", "invalid_country", "must be an ISO 3166-1 alpha-2 country code like FR or US")
	default:
		if found, ok := table()[a.Country]; ok {
			e = found
		} else {
			fail("country", "country_not_supported", "the program does not operate in this country")
		}
	}
	if e == nil {
		// Without a rule the state and postal code cannot be checked
		// beyond their shape.
		line("state", a.State, false)
		if utf8.RuneCountInString(a.PostalCode) > 20 || !oneLine(a.PostalCode) {
			fail("postal_code", "invalid_postal_code", "must be at most 20 characters on one line")
		}
		return a, errs
	}

	state, fe := e.normalizeState(a.State)
	a.State = state
	if fe != nil {
		fe.Field = prefix + fe.Field
		errs = append(errs, *fe)
	}
	postal, fe := e.normalizePostal(a.PostalCode)
	a.PostalCode = postal
	if fe != nil {
		fe.Field = prefix + fe.Field
		errs = append(errs, *fe)
	}
	return a, errs
}

var (
	isoShape   = regexp.MustCompile(`^[A-Z]{2}$`)
	phoneChars = regexp.MustCompile(`^\+?[0-9 ()./-]+$`)
)

func oneLine(s string) bool { return !strings.ContainsAny(s, "\r\n\x00") }

// NormalizePhone checks a phone number of a country and returns it in
// E.164 form ("+33123456789"). It accepts the national form ("01 23 45 67
// 89") and the international one ("+33 1 23 45 67 89", "0033 1 23 45 67
// 89"), with spaces, dots, hyphens, slashes and parentheses. It refuses an
// empty number, a number that is not valid (wrong length, unassigned
// range), and a valid number of another country: the program wants a
// number of the partner's own country.
func NormalizePhone(field, country, raw string) (string, *csphub.FieldError) {
	raw = strings.TrimSpace(raw)
	typed := raw
	// Pasted numbers often carry non-breaking or thin spaces.
	raw = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, raw)
	e, ok := table()[strings.ToUpper(strings.TrimSpace(country))]
	if !ok {
		return typed, &csphub.FieldError{Field: field, Code: "country_not_supported",
			Message: "cannot be checked: the program does not operate in the address's country"}
	}
	like := ", like " + e.phone.Example
	if raw == "" {
		return typed, &csphub.FieldError{Field: field, Code: "required", Message: "is required: a phone number" + like}
	}
	if len(raw) > 40 || !phoneChars.MatchString(raw) {
		return typed, &csphub.FieldError{Field: field, Code: "invalid_phone",
			Message: "must be a phone number of " + e.nameIn() + like + " (digits, spaces, +, -, ., / and parentheses only)"}
	}
	num, err := phonenumbers.Parse(raw, e.code)
	if err != nil || num.GetExtension() != "" || !phonenumbers.IsValidNumber(num) {
		return typed, &csphub.FieldError{Field: field, Code: "invalid_phone",
			Message: "is not a valid phone number of " + e.nameIn() + ": enter it like " + e.phone.Example}
	}
	if !phonenumbers.IsValidNumberForRegion(num, e.code) {
		other := phonenumbers.GetRegionCodeForNumber(num)
		name := other
		if o, ok := table()[other]; ok {
			name = o.nameIn()
		}
		return typed, &csphub.FieldError{Field: field, Code: "phone_country_mismatch",
			Message: "is a phone number of " + name + "; it must be a number of " + e.nameIn() + " (" + e.phone.CallingCode + ")" + like}
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// entry is a country's rule with what checks it.
type entry struct {
	code, name string
	the        bool // the name takes "the" in a sentence ("the United States")
	postal     postal
	state      states
	phone      PhoneRule
}

func (e *entry) nameIn() string {
	if e.the {
		return "the " + e.name
	}
	return e.name
}

func (e *entry) public() Rule {
	r := Rule{Code: e.code, Name: e.name, Phone: e.phone,
		PostalCode: PostalCodeRule{Used: !e.postal.none, Required: e.postal.required, Label: e.postal.label},
		State:      StateRule{Required: e.state.required, Label: e.state.label, Subdivisions: slices.Clone(e.state.list)}}
	if !e.postal.none {
		r.PostalCode.Pattern = e.postal.pattern
		r.PostalCode.Format = e.postal.format
		r.PostalCode.Example = e.postal.example
	}
	return r
}

// postal is a country's postal code rule. Input is upper-cased and its
// spaces and hyphens removed (the compact form); accept must match the
// compact form, and layout (a regexp.Expand template over accept's
// groups, "$0" when empty) gives the canonical form, which pattern
// matches.
type postal struct {
	none     bool
	required bool
	label    string
	format   string // noun phrase: "a 5-digit postal code"
	example  string
	pattern  string
	accept   *regexp.Regexp
	layout   string
	canon    func(m []string) string // instead of layout, when set
}

func (p postal) canonical(v string) (string, bool) {
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, v)
	m := p.accept.FindStringSubmatchIndex(compact)
	if m == nil {
		return v, false
	}
	if p.canon != nil {
		return p.canon(p.accept.FindStringSubmatch(compact)), true
	}
	layout := p.layout
	if layout == "" {
		layout = "$0"
	}
	return string(p.accept.ExpandString(nil, layout, compact, m)), true
}

func (e *entry) normalizePostal(v string) (string, *csphub.FieldError) {
	p := e.postal
	if p.none {
		if v != "" {
			return v, &csphub.FieldError{Field: "postal_code", Code: "postal_code_not_used",
				Message: e.name + " does not use postal codes; leave it empty"}
		}
		return "", nil
	}
	if v == "" {
		if p.required {
			return "", &csphub.FieldError{Field: "postal_code", Code: "required",
				Message: "is required: " + p.format + ", like " + p.example}
		}
		return "", nil
	}
	c, ok := p.canonical(v)
	if !ok || utf8.RuneCountInString(v) > 20 {
		return v, &csphub.FieldError{Field: "postal_code", Code: "invalid_postal_code",
			Message: "must be " + p.format + ", like " + p.example}
	}
	return c, nil
}

// states is a country's state rule.
type states struct {
	required bool
	label    string // singular: "state"
	plural   string // in "must be one of the ... of Canada"
	list     []Subdivision
	aliases  map[string]string // extra accepted spellings (folded) -> code
	index    map[string]string // folded code, "CC-code" or name -> code
}

func (e *entry) normalizeState(v string) (string, *csphub.FieldError) {
	s := e.state
	if len(s.list) == 0 {
		if v == "" && s.required {
			return v, &csphub.FieldError{Field: "state", Code: "required", Message: "is required"}
		}
		if utf8.RuneCountInString(v) > maxLineRunes || !oneLine(v) {
			return v, &csphub.FieldError{Field: "state", Code: "invalid_text", Message: "must be at most 200 characters on one line"}
		}
		return v, nil
	}
	example := s.list[0]
	for _, d := range s.list {
		if d.Code == e.exampleState() {
			example = d
		}
	}
	hint := " (a code like " + example.Code + " or a name like " + example.Name + ")"
	if v == "" {
		if s.required {
			return v, &csphub.FieldError{Field: "state", Code: "required",
				Message: "is required: one of the " + s.plural + " of " + e.nameIn() + hint}
		}
		return v, nil
	}
	if code, ok := s.index[fold(v)]; ok {
		return code, nil
	}
	return v, &csphub.FieldError{Field: "state", Code: "invalid_state",
		Message: "must be one of the " + s.plural + " of " + e.nameIn() + hint}
}

// exampleState is the subdivision messages show.
func (e *entry) exampleState() string {
	switch e.code {
	case "US":
		return "WA"
	case "CA":
		return "ON"
	case "AU":
		return "NSW"
	case "IN":
		return "KA"
	case "BR":
		return "SP"
	case "MX":
		return "JAL"
	case "AR":
		return "B"
	case "JP":
		return "13"
	}
	return ""
}

// fold makes a state as typed comparable: upper case, accents dropped,
// runs of spaces, dots and hyphens made one space.
func fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r) || r == '.' || r == '-' || r == '_':
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

func (e *entry) indexStates() {
	s := &e.state
	if len(s.list) == 0 {
		return
	}
	s.index = map[string]string{}
	add := func(key, code string) {
		if prev, dup := s.index[fold(key)]; dup && prev != code {
			panic("countries: " + e.code + " spelling " + key + " names both " + prev + " and " + code)
		}
		s.index[fold(key)] = code
	}
	for _, d := range s.list {
		add(d.Code, d.Code)
		add(e.code+"-"+d.Code, d.Code)
		add(d.Name, d.Code)
	}
	for alias, code := range s.aliases {
		add(alias, code)
		add(e.code+"-"+alias, code)
	}
}

var table = sync.OnceValue(func() map[string]*entry {
	out := make(map[string]*entry, len(rules))
	for _, e := range rules {
		e.indexStates()
		if e.postal.label == "" {
			e.postal.label = "postal code"
		}
		if e.state.label == "" {
			e.state.label = "region"
		}
		cc := phonenumbers.GetCountryCodeForRegion(e.code)
		e.phone.CallingCode = "+" + strconv.Itoa(cc)
		if ex := phonenumbers.GetExampleNumber(e.code); ex != nil {
			e.phone.Example = phonenumbers.Format(ex, phonenumbers.INTERNATIONAL)
		}
		out[e.code] = e
	}
	return out
})
