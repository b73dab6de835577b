package countries_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"csphub"
	"csphub/internal/countries"
)

// marketCountries reads the countries of the default markets from the
// migration that creates them.
func marketCountries(t *testing.T, dialect string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "store", "migrations", dialect, "00005_partner_program.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sql := string(b)
	start := strings.Index(sql, "INSERT INTO markets")
	if start < 0 {
		t.Fatalf("%s: no INSERT INTO markets", dialect)
	}
	end := strings.Index(sql[start:], ";")
	rows := regexp.MustCompile(`\('([A-Z]{2})',\s*'[a-z_]+',\s*'[A-Z]{3}'\)`).FindAllStringSubmatch(sql[start:start+end], -1)
	var out []string
	for _, r := range rows {
		out = append(out, r[1])
	}
	if len(out) < 50 {
		t.Fatalf("%s: only %d markets parsed", dialect, len(out))
	}
	return out
}

func TestEveryMarketHasARule(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, c := range marketCountries(t, dialect) {
			if _, ok := countries.Lookup(c); !ok {
				t.Errorf("%s market %s has no country rule", dialect, c)
			}
		}
	}
}

func TestTableIsConsistent(t *testing.T) {
	all := countries.All()
	if !slices.IsSortedFunc(all, func(a, b countries.Rule) int { return strings.Compare(a.Code, b.Code) }) {
		t.Fatal("All is not sorted by code")
	}
	for _, r := range all {
		if r.Name == "" || r.Phone.CallingCode == "" || r.Phone.Example == "" || r.State.Label == "" || r.PostalCode.Label == "" {
			t.Errorf("%s: incomplete rule %+v", r.Code, r)
		}
		if got, ok := countries.Lookup(strings.ToLower(r.Code)); !ok || got.Code != r.Code {
			t.Errorf("Lookup(%q) = %v, %v", strings.ToLower(r.Code), got.Code, ok)
		}
		// The example phone number is valid, and normalizes to E.164.
		e164, fe := countries.NormalizePhone("phone", r.Code, r.Phone.Example)
		if fe != nil || !regexp.MustCompile(`^\+[1-9]\d{6,14}$`).MatchString(e164) || !strings.HasPrefix(e164, r.Phone.CallingCode) {
			t.Errorf("%s: example phone %q gives %q, %+v", r.Code, r.Phone.Example, e164, fe)
		}
		if r.PostalCode.Used {
			if r.PostalCode.Format == "" || r.PostalCode.Example == "" {
				t.Errorf("%s: postal code without format or example", r.Code)
			}
			re, err := regexp.Compile(r.PostalCode.Pattern)
			if err != nil {
				t.Errorf("%s: pattern: %v", r.Code, err)
				continue
			}
			// The example is canonical: it matches the pattern and
			// normalizes to itself.
			if !re.MatchString(r.PostalCode.Example) {
				t.Errorf("%s: example %q does not match %s", r.Code, r.PostalCode.Example, r.PostalCode.Pattern)
			}
			a, errs := countries.NormalizeAddress("", address(r.Code, r.PostalCode.Example, exampleState(r)))
			if len(errs) > 0 || a.PostalCode != r.PostalCode.Example {
				t.Errorf("%s: example address gives %q, %+v", r.Code, a.PostalCode, errs)
			}
		} else if r.PostalCode.Required || r.PostalCode.Pattern != "" {
			t.Errorf("%s: unused postal code with a rule", r.Code)
		}
		if r.State.Required != (len(r.State.Subdivisions) > 0) {
			t.Errorf("%s: state required %v with %d subdivisions", r.Code, r.State.Required, len(r.State.Subdivisions))
		}
		codes, names := map[string]bool{}, map[string]bool{}
		for _, s := range r.State.Subdivisions {
			if codes[s.Code] || names[s.Name] || s.Code == "" || s.Name == "" {
				t.Errorf("%s: duplicate or empty subdivision %+v", r.Code, s)
			}
			codes[s.Code], names[s.Name] = true, true
			// Every subdivision is accepted by its code, its ISO code and
			// its name, and stored as its code.
			for _, in := range []string{s.Code, r.Code + "-" + s.Code, strings.ToLower(s.Name), s.Name} {
				a, errs := countries.NormalizeAddress("", address(r.Code, r.PostalCode.Example, in))
				if len(errs) > 0 || a.State != s.Code {
					t.Errorf("%s: state %q gives %q, %+v", r.Code, in, a.State, errs)
				}
			}
		}
	}
	// Subdivision counts of ISO 3166-2 (US: states, DC and five
	// inhabited territories).
	for code, n := range map[string]int{"US": 56, "CA": 13, "AU": 8, "IN": 36, "BR": 27, "MX": 32, "AR": 24, "JP": 47} {
		if r, _ := countries.Lookup(code); len(r.State.Subdivisions) != n {
			t.Errorf("%s: %d subdivisions, want %d", code, len(r.State.Subdivisions), n)
		}
	}
}

func exampleState(r countries.Rule) string {
	if len(r.State.Subdivisions) > 0 {
		return r.State.Subdivisions[0].Code
	}
	return ""
}

func address(country, postal, state string) csphub.Address {
	return csphub.Address{Line1: "1 Main Street", City: "Capital", State: state, PostalCode: postal, Country: country}
}

func TestLookupUnknown(t *testing.T) {
	for _, c := range []string{"", "XX", "CN", "FRA", "F"} {
		if _, ok := countries.Lookup(c); ok {
			t.Errorf("Lookup(%q) found a rule", c)
		}
	}
}

func TestPostalCodes(t *testing.T) {
	for _, c := range []struct {
		country, in, want, code string // want: normalized; code: the error
	}{
		{"US", "98052", "98052", ""},
		{"US", " 98052-6399 ", "98052-6399", ""},
		{"US", "980526399", "98052-6399", ""},
		{"US", "9805", "", "invalid_postal_code"},
		{"US", "ABCDE", "", "invalid_postal_code"},
		{"US", "", "", "required"},
		{"CA", "k1a0b1", "K1A 0B1", ""},
		{"CA", "K1A-0B1", "K1A 0B1", ""},
		{"CA", "D1A 0B1", "", "invalid_postal_code"},
		{"GB", "sw1a1aa", "SW1A 1AA", ""},
		{"GB", "M1 1AE", "M1 1AE", ""},
		{"GB", "ec1a  1bb", "EC1A 1BB", ""},
		{"GB", "SW1A", "", "invalid_postal_code"},
		{"NL", "1011ab", "1011 AB", ""},
		{"NL", "0123 AB", "", "invalid_postal_code"},
		{"NL", "1011 SA", "", "invalid_postal_code"},
		{"BR", "01310100", "01310-100", ""},
		{"BR", "01310-100", "01310-100", ""},
		{"BR", "1310-100", "", "invalid_postal_code"},
		{"JP", "1000001", "100-0001", ""},
		{"JP", "100-001", "", "invalid_postal_code"},
		{"PL", "00950", "00-950", ""},
		{"PT", "1000001", "1000-001", ""},
		{"SE", "11455", "114 55", ""},
		{"CZ", "11000", "110 00", ""},
		{"SK", "811 01", "811 01", ""},
		{"GR", "10557", "105 57", ""},
		{"LV", "1050", "LV-1050", ""},
		{"LV", "lv-1050", "LV-1050", ""},
		{"LT", "01100", "LT-01100", ""},
		{"LU", "L-1855", "1855", ""},
		{"MT", "vlt1117", "VLT 1117", ""},
		{"LI", "9490", "9490", ""},
		{"LI", "9500", "", "invalid_postal_code"},
		{"IE", "d02x285", "D02 X285", ""},
		{"IE", "", "", ""},
		{"IE", "D02 X28", "", "invalid_postal_code"},
		{"FR", "75001", "75001", ""},
		{"FR", "7500", "", "invalid_postal_code"},
		{"FR", "750011", "", "invalid_postal_code"},
		{"FR", "", "", "required"},
		{"DE", "10115", "10115", ""},
		{"DE", "1011", "", "invalid_postal_code"},
		{"ES", "28013", "28013", ""},
		{"ES", "53000", "", "invalid_postal_code"},
		{"IT", "00144", "00144", ""},
		{"CH", "8001", "8001", ""},
		{"AT", "10100", "", "invalid_postal_code"},
		{"IN", "110 001", "110001", ""},
		{"IN", "011001", "", "invalid_postal_code"},
		{"AR", "c1070aam", "C1070AAM", ""},
		{"AR", "1425", "1425", ""},
		{"AR", "I1070AAM", "", "invalid_postal_code"},
		{"TR", "34394", "34394", ""},
		{"TR", "99000", "", "invalid_postal_code"},
		{"AU", "2000", "2000", ""},
		{"AU", "200", "", "invalid_postal_code"},
		{"MX", "06700", "06700", ""},
		{"SG", "018956", "018956", ""},
		{"TW", "10603", "10603", ""},
		{"TW", "1060", "", "invalid_postal_code"},
		{"SA", "115643456", "11564-3456", ""},
		{"CL", "", "", ""},
		{"CL", "832", "", "invalid_postal_code"},
		{"HK", "", "", ""},
		{"HK", "999077", "", "postal_code_not_used"},
		{"AE", "00000", "", "postal_code_not_used"},
		{"ZA", "2196", "2196", ""},
		{"ZA", "21960", "", "invalid_postal_code"},
	} {
		r, _ := countries.Lookup(c.country)
		a, errs := countries.NormalizeAddress("address.", address(c.country, c.in, exampleState(r)))
		if c.code == "" {
			if len(errs) > 0 || a.PostalCode != c.want {
				t.Errorf("%s %q: got %q, %+v; want %q", c.country, c.in, a.PostalCode, errs, c.want)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != "address.postal_code" || errs[0].Code != c.code || errs[0].Message == "" {
			t.Errorf("%s %q: errors %+v, want one %s on address.postal_code", c.country, c.in, errs, c.code)
		}
		if c.code != "required" && a.PostalCode != strings.TrimSpace(c.in) {
			t.Errorf("%s %q: refused input came back as %q", c.country, c.in, a.PostalCode)
		}
	}
}

func TestPostalCodeMessages(t *testing.T) {
	for _, c := range []struct{ country, in, want string }{
		{"US", "1234", "must be a 5-digit ZIP code or a ZIP+4 code (98052-6399), like 98052"},
		{"FR", "", "is required: a 5-digit postal code, like 75001"},
		{"BR", "x", "must be an 8-digit CEP written NNNNN-NNN, like 01310-100"},
		{"HK", "1", "Hong Kong does not use postal codes; leave it empty"},
	} {
		r, _ := countries.Lookup(c.country)
		errs := countries.ValidateAddress("", address(c.country, c.in, exampleState(r)))
		if len(errs) != 1 || errs[0].Message != c.want {
			t.Errorf("%s %q: %+v, want %q", c.country, c.in, errs, c.want)
		}
	}
}

func TestStates(t *testing.T) {
	for _, c := range []struct {
		country, in, want, code string
	}{
		{"US", "WA", "WA", ""},
		{"US", "us-wa", "WA", ""},
		{"US", " washington ", "WA", ""},
		{"US", "district of columbia", "DC", ""},
		{"US", "Puerto Rico", "PR", ""},
		{"US", "", "", "required"},
		{"US", "XX", "", "invalid_state"},
		{"US", "Washington State", "", "invalid_state"},
		{"US", "ON", "", "invalid_state"},
		{"CA", "Québec", "QC", ""},
		{"CA", "quebec", "QC", ""},
		{"CA", "CA-ON", "ON", ""},
		{"CA", "Texas", "", "invalid_state"},
		{"AU", "nsw", "NSW", ""},
		{"AU", "Victoria", "VIC", ""},
		{"AU", "", "", "required"},
		{"IN", "KA", "KA", ""},
		{"IN", "OR", "OD", ""},
		{"IN", "Orissa", "OD", ""},
		{"IN", "IN-TG", "TS", ""},
		{"IN", "Telangana", "TS", ""},
		{"IN", "Kashmir", "", "invalid_state"},
		{"BR", "Sao Paulo", "SP", ""},
		{"BR", "sp", "SP", ""},
		{"MX", "DIF", "CMX", ""},
		{"MX", "Ciudad de Mexico", "CMX", ""},
		{"MX", "Nuevo Leon", "NLE", ""},
		{"MX", "NL", "", "invalid_state"},
		{"AR", "C", "C", ""},
		{"AR", "Cordoba", "X", ""},
		{"AR", "I", "", "invalid_state"},
		{"JP", "13", "13", ""},
		{"JP", "JP-13", "13", ""},
		{"JP", "Tokyo", "13", ""},
		{"JP", "Tōkyō", "13", ""},
		{"JP", "1", "01", ""},
		{"JP", "48", "", "invalid_state"},
		{"JP", "", "", "required"},
		// Countries without a list: free text, optional.
		{"FR", "Île-de-France", "Île-de-France", ""},
		{"FR", "", "", ""},
		{"DE", "Bayern", "Bayern", ""},
		{"FR", strings.Repeat("é", 201), "", "invalid_text"},
		{"FR", "Paris\nCedex", "", "invalid_text"},
	} {
		r, _ := countries.Lookup(c.country)
		a, errs := countries.NormalizeAddress("address.", address(c.country, r.PostalCode.Example, c.in))
		if c.code == "" {
			if len(errs) > 0 || a.State != c.want {
				t.Errorf("%s %q: got %q, %+v; want %q", c.country, c.in, a.State, errs, c.want)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != "address.state" || errs[0].Code != c.code {
			t.Errorf("%s %q: errors %+v, want one %s on address.state", c.country, c.in, errs, c.code)
		}
	}
	errs := countries.ValidateAddress("", address("CA", "K1A 0B1", "Texas"))
	if want := "must be one of the provinces and territories of Canada (a code like ON or a name like Ontario)"; len(errs) != 1 || errs[0].Message != want {
		t.Errorf("Canadian state message: %+v", errs)
	}
	errs = countries.ValidateAddress("", address("US", "98052", ""))
	if want := "is required: one of the states, districts and territories of the United States (a code like WA or a name like Washington)"; len(errs) != 1 || errs[0].Message != want {
		t.Errorf("US state message: %+v", errs)
	}
}

func TestAddressFields(t *testing.T) {
	long := strings.Repeat("a", 201)
	for _, c := range []struct {
		name string
		in   csphub.Address
		want []string // field:code
	}{
		{"valid", address("FR", "75001", ""), nil},
		{"everything missing", csphub.Address{}, []string{"a.line1:required", "a.city:required", "a.country:required"}},
		{"blank lines", csphub.Address{Line1: "  ", City: "\t", Country: "FR", PostalCode: "75001"}, []string{"a.line1:required", "a.city:required"}},
		{"long lines", csphub.Address{Line1: long, Line2: long, City: long, Country: "FR", PostalCode: "75001"},
			[]string{"a.line1:invalid_text", "a.line2:invalid_text", "a.city:invalid_text"}},
		{"two lines", csphub.Address{Line1: "1 rue\r\nde la Paix", City: "Paris", Country: "FR", PostalCode: "75001"}, []string{"a.line1:invalid_text"}},
		{"bad country", csphub.Address{Line1: "1", City: "Paris", Country: "FRA"}, []string{"a.country:invalid_country"}},
		{"country not served", csphub.Address{Line1: "1", City: "Beijing", Country: "CN", PostalCode: "100000"}, []string{"a.country:country_not_supported"}},
		{"several at once", csphub.Address{City: "Seattle", State: "XX", PostalCode: "1", Country: "us"},
			[]string{"a.line1:required", "a.state:invalid_state", "a.postal_code:invalid_postal_code"}},
	} {
		_, errs := countries.NormalizeAddress("a.", c.in)
		var got []string
		for _, e := range errs {
			got = append(got, e.Field+":"+e.Code)
			if e.Message == "" {
				t.Errorf("%s: %s has no message", c.name, e.Field)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	errs := countries.ValidateAddress("address.", csphub.Address{Line1: "1", City: "Beijing", Country: "CN"})
	if len(errs) != 1 || errs[0].Message != "the program does not operate in this country" {
		t.Errorf("unsupported country: %+v", errs)
	}
}

func TestNormalizeAddressTrims(t *testing.T) {
	a, errs := countries.NormalizeAddress("", csphub.Address{Line1: " 1 Microsoft Way ", Line2: " Building 92 ", City: " Redmond ",
		State: " wa ", PostalCode: " 98052-6399 ", Country: " us "})
	want := csphub.Address{Line1: "1 Microsoft Way", Line2: "Building 92", City: "Redmond", State: "WA", PostalCode: "98052-6399", Country: "US"}
	if len(errs) > 0 || a != want {
		t.Fatalf("got %+v, %+v; want %+v", a, errs, want)
	}
}

func TestPhones(t *testing.T) {
	for _, c := range []struct {
		country, in, want, code string
	}{
		{"FR", "01 23 45 67 89", "+33123456789", ""},
		{"FR", "+33 1 23 45 67 89", "+33123456789", ""},
		{"FR", "0033 1 23 45 67 89", "+33123456789", ""},
		{"FR", "06.12.34.56.78", "+33612345678", ""},
		{"FR", "01\u00a023\u00a045\u00a067\u00a089", "+33123456789", ""},
		{"FR", "01\u202f23 45 67 89", "+33123456789", ""},
		{"FR", "+33 (0)1 23 45 67 89", "+33123456789", ""},
		{"fr", "0123456789", "+33123456789", ""},
		{"FR", "01 23 45 67", "", "invalid_phone"},
		{"FR", "01 23 45 67 89 00", "", "invalid_phone"},
		{"FR", "12345", "", "invalid_phone"},
		{"FR", "01 23 45 67 8A", "", "invalid_phone"},
		{"FR", "01 23 45 67 89 ext. 12", "", "invalid_phone"},
		{"FR", "+32 12 34 56 78", "", "phone_country_mismatch"},
		{"FR", "", "", "required"},
		{"FR", "   ", "", "required"},
		{"US", "(201) 555-0123", "+12015550123", ""},
		{"US", "+1 201 555 0123", "+12015550123", ""},
		{"US", "201.555.0123", "+12015550123", ""},
		{"US", "555-0123", "", "invalid_phone"},
		{"US", "+1 506 234 5678", "", "phone_country_mismatch"}, // Canadian
		{"CA", "506-234-5678", "+15062345678", ""},
		{"GB", "020 7946 0958", "+442079460958", ""},
		{"GB", "+44 20 7946 0958", "+442079460958", ""},
		{"GB", "020 7946", "", "invalid_phone"},
		{"DE", "030 123456", "+4930123456", ""},
		{"DE", "+49 30 123456", "+4930123456", ""},
		{"JP", "03-1234-5678", "+81312345678", ""},
		{"IN", "074104 10123", "+917410410123", ""},
		{"BR", "(11) 2345-6789", "+551123456789", ""},
		{"AU", "02 1234 5678", "+61212345678", ""},
		{"AU", "+61 2 1234 5678", "+61212345678", ""},
		{"ES", "810 12 34 56", "+34810123456", ""},
		{"BE", "012 34 56 78", "+3212345678", ""},
		{"CH", "021 234 56 78", "+41212345678", ""},
		{"NL", "010 123 4567", "+31101234567", ""},
		{"MX", "200 123 4567", "+522001234567", ""},
		{"ZA", "010 123 4567", "+27101234567", ""},
		{"SG", "6123 4567", "+6561234567", ""},
		{"SG", "1234 5678", "", "invalid_phone"},
		{"CN", "010 1234 5678", "", "country_not_supported"},
	} {
		got, fe := countries.NormalizePhone("primary_contact.phone", c.country, c.in)
		if c.code == "" {
			if fe != nil || got != c.want {
				t.Errorf("%s %q: got %q, %+v; want %q", c.country, c.in, got, fe, c.want)
			}
			continue
		}
		if fe == nil || fe.Code != c.code || fe.Field != "primary_contact.phone" || fe.Message == "" {
			t.Errorf("%s %q: got %q, %+v; want %s", c.country, c.in, got, fe, c.code)
		}
	}
	_, fe := countries.NormalizePhone("phone", "US", "+1 506 234 5678")
	if want := "is a phone number of Canada; it must be a number of the United States (+1), like +1 201-555-0123"; fe == nil || fe.Message != want {
		t.Errorf("mismatch message: %+v", fe)
	}
	_, fe = countries.NormalizePhone("phone", "FR", "12")
	if want := "is not a valid phone number of France: enter it like +33 1 23 45 67 89"; fe == nil || fe.Message != want {
		t.Errorf("invalid message: %+v", fe)
	}
}

func TestRuleJSON(t *testing.T) {
	r, _ := countries.Lookup("CA")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	pc := m["postal_code"].(map[string]any)
	st := m["state"].(map[string]any)
	ph := m["phone"].(map[string]any)
	if m["code"] != "CA" || m["name"] != "Canada" || pc["required"] != true || pc["example"] != "K1A 0B1" ||
		st["required"] != true || len(st["subdivisions"].([]any)) != 13 || ph["calling_code"] != "+1" {
		t.Fatalf("JSON %s", b)
	}
	// Callers get copies: changing one does not change the table.
	r.State.Subdivisions[0].Name = "changed"
	if again, _ := countries.Lookup("CA"); again.State.Subdivisions[0].Name == "changed" {
		t.Fatal("Lookup shares the table's subdivisions")
	}
}
