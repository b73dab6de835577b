package totp

import (
	"regexp"
	"strings"
	"testing"
)

var recoveryFormat = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)

func TestNewRecoveryCodes(t *testing.T) {
	if RecoveryCodeBits < 50 {
		t.Fatalf("recovery codes carry %d bits, want at least 50", RecoveryCodeBits)
	}
	plain, hashes, err := NewRecoveryCodes(RecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != RecoveryCodes || len(hashes) != RecoveryCodes {
		t.Fatalf("got %d codes and %d hashes", len(plain), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range plain {
		if !recoveryFormat.MatchString(c) {
			t.Errorf("code %q is not xxxxx-xxxxx in the unambiguous alphabet", c)
		}
		if seen[c] || seen[hashes[i]] {
			t.Errorf("duplicate code or hash %q", c)
		}
		seen[c], seen[hashes[i]] = true, true
		if hashes[i] != HashRecoveryCode(c) {
			t.Errorf("hash %d does not match its code", i)
		}
		if strings.Contains(hashes[i], c) || len(hashes[i]) != 64 {
			t.Errorf("hash %q is not a hex SHA-256", hashes[i])
		}
	}
	for _, n := range []int{0, -1, 101} {
		if _, _, err := NewRecoveryCodes(n); err == nil {
			t.Errorf("NewRecoveryCodes(%d) succeeded", n)
		}
	}
}

// The alphabet must be used evenly, or the codes carry fewer bits than
// promised. 10,000 characters over 32 symbols: about 312 each; a symbol
// outside [200, 430] would be a bias, not chance.
func TestRecoveryCodesAreUniform(t *testing.T) {
	counts := map[rune]int{}
	for range 100 {
		plain, _, err := NewRecoveryCodes(RecoveryCodes)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range plain {
			for _, r := range strings.ReplaceAll(c, "-", "") {
				counts[r]++
			}
		}
	}
	if len(counts) != 32 {
		t.Fatalf("%d distinct symbols used, want 32", len(counts))
	}
	for r, n := range counts {
		if n < 200 || n > 430 {
			t.Errorf("symbol %q used %d times of 10000", r, n)
		}
	}
}

func TestHashRecoveryCodeNormalizes(t *testing.T) {
	want := HashRecoveryCode("7k2mq-x9d41")
	for _, typed := range []string{"7k2mq-x9d41", "7K2MQ-X9D41", "7k2mqx9d41", " 7k2mq x9d41 ", "7k2-mqx-9d4-1", "7k2mq-x9d4l", "7K2MQ-X9D4I"} {
		if got := HashRecoveryCode(typed); got != want {
			t.Errorf("HashRecoveryCode(%q) differs", typed)
		}
	}
	if HashRecoveryCode("7k2mq-x9d42") == want {
		t.Error("different codes hash alike")
	}
	if HashRecoveryCode("0o0o0-00000") != HashRecoveryCode("00000-00000") {
		t.Error("o is not read as 0")
	}
}
