package countries

import (
	"fmt"
	"regexp"
	"strings"
)

// rules is the table: every country of the default markets (see the
// markets table of migration 00005), and a test keeps it so. Postal code
// formats follow the national posts (and Google's address metadata);
// a postal code is required where every address has one, optional where
// codes exist but are not in common use, and not used where the country
// has none. A state is required, from the ISO 3166-2 list, where an
// address is not complete without it.
var rules = []*entry{
	// Europe
	{code: "AT", name: "Austria", postal: digits(4, "1010")},
	{code: "BE", name: "Belgium", postal: digits(4, "1000")},
	{code: "BG", name: "Bulgaria", postal: digits(4, "1000")},
	{code: "HR", name: "Croatia", postal: digits(5, "10000")},
	{code: "CY", name: "Cyprus", postal: digits(4, "1010")},
	{code: "CZ", name: "Czechia", postal: split(3, " ", 2, "110 00")},
	{code: "DK", name: "Denmark", postal: digits(4, "1050")},
	{code: "EE", name: "Estonia", postal: digits(5, "10111")},
	{code: "FI", name: "Finland", postal: digits(5, "00100")},
	{code: "FR", name: "France", postal: digits(5, "75001")},
	{code: "DE", name: "Germany", postal: digits(5, "10115")},
	{code: "GR", name: "Greece", postal: split(3, " ", 2, "105 57")},
	{code: "HU", name: "Hungary", postal: digits(4, "1051")},
	{code: "IE", name: "Ireland", postal: custom("Eircode", "an Eircode of 7 letters and digits (A65 F4E2)", "D02 X285",
		`^(?:[AC-FHKNPRTV-Y]\d{2}|D6W) [0-9AC-FHKNPRTV-Y]{4}$`, `^([AC-FHKNPRTV-Y]\d{2}|D6W)([0-9AC-FHKNPRTV-Y]{4})$`, "$1 $2").optional()},
	{code: "IS", name: "Iceland", postal: digits(3, "101")},
	{code: "IT", name: "Italy", postal: digits(5, "00144").named("CAP")},
	{code: "LV", name: "Latvia", postal: custom("", "a postal code of 4 digits written LV-NNNN", "LV-1050",
		`^LV-\d{4}$`, `^(?:LV)?(\d{4})$`, "LV-$1")},
	{code: "LI", name: "Liechtenstein", postal: custom("", "a 4-digit postal code from 9485 to 9498", "9490",
		`^94(?:8[5-9]|9[0-8])$`, `^94(?:8[5-9]|9[0-8])$`, "")},
	{code: "LT", name: "Lithuania", postal: custom("", "a postal code of 5 digits written LT-NNNNN", "LT-01100",
		`^LT-\d{5}$`, `^(?:LT)?(\d{5})$`, "LT-$1")},
	{code: "LU", name: "Luxembourg", postal: custom("", "a 4-digit postal code", "1855",
		`^\d{4}$`, `^L?(\d{4})$`, "$1")},
	{code: "MT", name: "Malta", postal: custom("postcode", "a postcode of 3 letters and 4 digits (VLT 1117)", "VLT 1117",
		`^[A-Z]{3} \d{4}$`, `^([A-Z]{3})(\d{4})$`, "$1 $2")},
	{code: "NL", name: "Netherlands", the: true, postal: custom("postcode", "a postcode of 4 digits and 2 letters (1011 AB)", "1011 AB",
		`^[1-9]\d{3} (?:[A-RT-Z][A-Z]|S[BCE-RT-Z])$`, `^([1-9]\d{3})([A-RT-Z][A-Z]|S[BCE-RT-Z])$`, "$1 $2")},
	{code: "NO", name: "Norway", postal: digits(4, "0150")},
	{code: "PL", name: "Poland", postal: split(2, "-", 3, "00-950")},
	{code: "PT", name: "Portugal", postal: split(4, "-", 3, "1000-001")},
	{code: "RO", name: "Romania", postal: digits(6, "010011")},
	{code: "SK", name: "Slovakia", postal: split(3, " ", 2, "811 01")},
	{code: "SI", name: "Slovenia", postal: digits(4, "1000")},
	{code: "ES", name: "Spain", postal: custom("", "a 5-digit postal code starting 01 to 52", "28013",
		`^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$`, `^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$`, "")},
	{code: "SE", name: "Sweden", postal: split(3, " ", 2, "114 55")},
	{code: "CH", name: "Switzerland", postal: digits(4, "8001")},
	{code: "GB", name: "United Kingdom", the: true, postal: custom("postcode", "a UK postcode (SW1A 1AA)", "SW1A 1AA",
		`^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$`, `^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$`, "$1 $2")},

	// North America
	{code: "US", name: "United States", the: true, postal: zip(), state: required("state", "states, districts and territories", usStates, nil)},
	{code: "CA", name: "Canada", postal: custom("", "a postal code in the form A1A 1A1", "K1A 0B1",
		`^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d$`,
		`^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])(\d[ABCEGHJ-NPRSTV-Z]\d)$`, "$1 $2"),
		state: required("province or territory", "provinces and territories", caProvinces, nil)},

	// Latin America
	{code: "AR", name: "Argentina", postal: custom("", "a postal code (CPA) of a letter, 4 digits and 3 letters (C1070AAM), or of 4 digits", "C1070AAM",
		`^(?:[A-HJ-NP-Z]\d{4}[A-Z]{3}|\d{4})$`, `^(?:[A-HJ-NP-Z]\d{4}[A-Z]{3}|\d{4})$`, ""),
		state: required("province", "provinces", arProvinces, nil)},
	{code: "BR", name: "Brazil", postal: split(5, "-", 3, "01310-100").named("CEP"), state: required("state", "states", brStates, nil)},
	{code: "CL", name: "Chile", postal: digits(7, "8320000").optional()},
	{code: "CO", name: "Colombia", postal: digits(6, "110111").optional()},
	{code: "CR", name: "Costa Rica", postal: digits(5, "10101").optional()},
	{code: "MX", name: "Mexico", postal: digits(5, "06700"), state: required("state", "states", mxStates, map[string]string{"DIF": "CMX", "DF": "CMX"})},
	{code: "PA", name: "Panama", postal: digits(4, "0801").optional()},
	{code: "PE", name: "Peru", postal: digits(5, "15001").optional()},
	{code: "UY", name: "Uruguay", postal: digits(5, "11000").optional()},

	// Asia Pacific
	{code: "AU", name: "Australia", postal: digits(4, "2000").named("postcode"), state: required("state or territory", "states and territories", auStates, nil)},
	{code: "NZ", name: "New Zealand", postal: digits(4, "6011").named("postcode")},
	{code: "JP", name: "Japan", postal: split(3, "-", 4, "100-0001"), state: required("prefecture", "prefectures", jpPrefectures, jpAliases())},
	{code: "KR", name: "South Korea", postal: digits(5, "03154")},
	{code: "IN", name: "India", postal: custom("PIN code", "a 6-digit PIN code", "110001", `^[1-9]\d{5}$`, `^[1-9]\d{5}$`, ""),
		state: required("state or union territory", "states and union territories", inStates,
			// Codes ISO 3166-2 replaced, still in use.
			map[string]string{"CT": "CG", "OR": "OD", "TG": "TS", "UT": "UK", "DN": "DH", "DD": "DH", "Orissa": "OD", "Pondicherry": "PY"})},
	{code: "TW", name: "Taiwan", postal: custom("", "a postal code of 3, 5 or 6 digits", "106",
		`^\d{3}(?:\d{2,3})?$`, `^\d{3}(?:\d{2,3})?$`, "")},
	{code: "SG", name: "Singapore", postal: digits(6, "018956")},
	{code: "HK", name: "Hong Kong", postal: postal{none: true}},
	{code: "MY", name: "Malaysia", postal: digits(5, "50088")},
	{code: "PH", name: "Philippines", the: true, postal: digits(4, "1000").named("ZIP code")},
	{code: "TH", name: "Thailand", postal: digits(5, "10200")},
	{code: "ID", name: "Indonesia", postal: digits(5, "10110")},
	{code: "VN", name: "Vietnam", postal: custom("", "a postal code of 5 or 6 digits", "100000", `^\d{5,6}$`, `^\d{5,6}$`, "").optional()},

	// Middle East and Africa
	{code: "AE", name: "United Arab Emirates", the: true, postal: postal{none: true}},
	{code: "SA", name: "Saudi Arabia", postal: custom("", "a 5-digit postal code, optionally with a 4-digit extension (12345-6789)", "11564",
		`^\d{5}(?:-\d{4})?$`, `^(\d{5})(\d{4})?$`, "").withCanon(plusFour).optional()},
	{code: "IL", name: "Israel", postal: custom("", "a 7-digit postal code", "9614303", `^\d{7}$`, `^\d{7}$`, "")},
	{code: "QA", name: "Qatar", postal: postal{none: true}},
	{code: "KW", name: "Kuwait", postal: digits(5, "13001").optional()},
	{code: "BH", name: "Bahrain", postal: custom("", "a postal code of 3 or 4 digits", "317", `^\d{3,4}$`, `^\d{3,4}$`, "").optional()},
	{code: "OM", name: "Oman", postal: digits(3, "112").optional()},
	{code: "EG", name: "Egypt", postal: digits(5, "11511").optional()},
	{code: "ZA", name: "South Africa", postal: digits(4, "2196")},
	{code: "NG", name: "Nigeria", postal: digits(6, "100001").optional()},
	{code: "KE", name: "Kenya", postal: digits(5, "00100").optional()},
	{code: "MA", name: "Morocco", postal: digits(5, "20250")},
	{code: "TN", name: "Tunisia", postal: digits(4, "1002")},
	{code: "TR", name: "Türkiye", postal: custom("", "a 5-digit postal code starting 01 to 81", "34394",
		`^(?:0[1-9]|[1-7]\d|8[01])\d{3}$`, `^(?:0[1-9]|[1-7]\d|8[01])\d{3}$`, "")},
}

// digits is a required code of n digits.
func digits(n int, example string) postal {
	re := fmt.Sprintf(`^\d{%d}$`, n)
	return postal{required: true, format: fmt.Sprintf("%s %d-digit postal code", article(n), n), example: example,
		pattern: re, accept: regexp.MustCompile(re)}
}

// article is the English article before the number n spelled in digits.
func article(n int) string {
	if n == 8 || n == 11 || n == 18 {
		return "an"
	}
	return "a"
}

// split is a required code of n1+n2 digits written with sep between the
// two groups ("114 55", "00-950").
func split(n1 int, sep string, n2 int, example string) postal {
	shape := strings.Repeat("N", n1) + sep + strings.Repeat("N", n2)
	return postal{required: true, format: fmt.Sprintf("%s %d-digit postal code written %s", article(n1+n2), n1+n2, shape), example: example,
		pattern: fmt.Sprintf(`^\d{%d}%s\d{%d}$`, n1, regexp.QuoteMeta(sep), n2),
		accept:  regexp.MustCompile(fmt.Sprintf(`^(\d{%d})(\d{%d})$`, n1, n2)), layout: "$1" + sep + "$2"}
}

// custom is a required code of any shape: pattern matches the canonical
// form, accept the compact input, layout turns accept's match into the
// canonical form.
func custom(label, format, example, pattern, accept, layout string) postal {
	return postal{required: true, label: label, format: format, example: example, pattern: pattern,
		accept: regexp.MustCompile(accept), layout: layout}
}

// zip is the United States' ZIP code, with or without its +4 extension.
func zip() postal {
	return custom("ZIP code", "a 5-digit ZIP code or a ZIP+4 code (98052-6399)", "98052",
		`^\d{5}(?:-\d{4})?$`, `^(\d{5})(\d{4})?$`, "").withCanon(plusFour)
}

func plusFour(m []string) string {
	if m[2] == "" {
		return m[1]
	}
	return m[1] + "-" + m[2]
}

func (p postal) optional() postal { p.required = false; return p }

func (p postal) withCanon(f func([]string) string) postal { p.canon = f; return p }

// named renames the code ("postcode", "CEP") in its label and format.
func (p postal) named(label string) postal {
	p.format = strings.Replace(p.format, "postal code", label, 1)
	p.label = label
	return p
}

// required is a closed list of subdivisions every address names.
func required(label, plural string, list []Subdivision, aliases map[string]string) states {
	return states{required: true, label: label, plural: plural, list: list, aliases: aliases}
}

func jpAliases() map[string]string {
	// Prefectures are numbered 01 to 47: "1" is "01".
	out := map[string]string{}
	for _, p := range jpPrefectures {
		if p.Code[0] == '0' {
			out[p.Code[1:]] = p.Code
		}
	}
	return out
}
