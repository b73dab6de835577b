package password

import (
	"strings"
	"testing"

	"csphub"
)

func TestCheck(t *testing.T) {
	const email = "Alice.Smith@contoso.com"
	const org = "Fabrikam Partners"
	tests := []struct {
		name     string
		password string
		want     string // code, "" when accepted
	}{
		{"empty", "", CodeTooShort},
		{"7 characters", "tq7#vbx", CodeTooShort},
		{"8 characters", "tq7#vbxm", ""},
		{"no composition rules: lower-case words", "purple tractor mosaic", ""},
		{"64 characters", strings.Repeat("kq7v", 16), ""},
		{"256 characters", strings.Repeat("zr4w", 64), ""},
		{"257 characters", strings.Repeat("zr4w", 64) + "x", CodeTooLong},
		// 8 characters but 16 bytes: counted in characters, accepted.
		{"multi-byte 8 characters", "žluťoučk", ""},
		// 7 characters in 21 bytes: still too short.
		{"multi-byte 7 characters", "日本語パスワー", CodeTooShort},
		// "e" + combining acute is one character after NFC: 7 in all.
		{"combining marks counted after NFC", "cafe\u0301xyz", CodeTooShort},
		{"common", "password", CodeCommon},
		{"common upper case", "PASSWORD", CodeCommon},
		{"common mixed case", "QwErTy123", CodeCommon},
		{"common digits", "12345678", CodeCommon},
		{"common with symbol suffix", "123456789!", CodeCommon},
		{"common word decorated", "Monkey2024!", CodeCommon},
		{"common with surrounding spaces", "  iloveyou  ", CodeCommon},
		{"short word with long random tail", "me-2847561903", ""},
		{"email", "alice.smith@contoso.com", CodeCommon},
		{"email upper case", "ALICE.SMITH@CONTOSO.COM", CodeCommon},
		{"email local part", "Alice.Smith", CodeCommon},
		{"email local part compacted", "alicesmith", CodeCommon},
		{"email domain", "contoso.com", CodeCommon},
		{"email domain decorated", "Contoso2024!", CodeCommon},
		{"organization name", "fabrikam partners", CodeCommon},
		{"organization name compacted", "FabrikamPartners1", CodeCommon},
		{"unrelated to context", "alice walks to contoso every morning", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.password, email, org)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			e := csphub.AsError(err)
			if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) != 1 {
				t.Fatalf("Check(%q) = %v, want one invalid field", tt.password, err)
			}
			f := e.Fields[0]
			if f.Field != "password" || f.Code != tt.want || f.Message == "" {
				t.Fatalf("Check(%q) field = %+v, want password/%s", tt.password, f, tt.want)
			}
		})
	}
}

func TestCommonListSize(t *testing.T) {
	if n := len(commonPasswords()); n < 1000 {
		t.Fatalf("common list has %d entries, want at least 1000", n)
	}
	for w := range commonPasswords() {
		if w != strings.ToLower(strings.TrimSpace(w)) {
			t.Fatalf("entry %q not normalized", w)
		}
	}
}

func TestCheckEveryCommonLongEntryRefused(t *testing.T) {
	for w := range commonPasswords() {
		if len([]rune(w)) < MinLength {
			continue
		}
		if err := Check(strings.ToUpper(w)); err == nil {
			t.Errorf("common password %q accepted", w)
		}
	}
}
