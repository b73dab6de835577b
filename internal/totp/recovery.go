package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Recovery codes replace the authenticator when the phone is lost. Each is
// 10 characters of Crockford's base32 (5 bits each, 50 bits in all), shown
// as two groups of five, lower case: "7k2mq-x9d4t". The alphabet has no i,
// l, o or u, so nothing reads as 1 or 0, and input is forgiving: case,
// spaces and dashes are ignored and i, l, o are read as 1, 1, 0.
//
// The codes are random, not chosen by people, so a fast SHA-256 is the
// right hash: a slow one would only slow sign-in. Each code is stored as
// its hash and used once.
const (
	// RecoveryCodes is how many codes a user gets at a time.
	RecoveryCodes = 10
	// RecoveryCodeBits is the entropy of one code.
	RecoveryCodeBits = recoveryChars * 5

	recoveryChars = 10
	recoveryGroup = 5
	crockford     = "0123456789abcdefghjkmnpqrstvwxyz"
)

// NewRecoveryCodes returns n distinct codes to show the user once, and
// their hashes (HashRecoveryCode) to store, in the same order.
func NewRecoveryCodes(n int) (plain []string, hashes []string, err error) {
	if n <= 0 || n > 100 {
		return nil, nil, fmt.Errorf("totp: %d recovery codes requested", n)
	}
	seen := make(map[string]bool, n)
	buf := make([]byte, recoveryChars)
	for len(plain) < n {
		if _, err := rand.Read(buf); err != nil {
			return nil, nil, fmt.Errorf("totp: reading random bytes: %w", err)
		}
		var b strings.Builder
		for i, c := range buf {
			if i == recoveryGroup {
				b.WriteByte('-')
			}
			// 256 is a multiple of 32, so the low 5 bits are uniform.
			b.WriteByte(crockford[c&31])
		}
		code := b.String()
		if seen[code] {
			continue // astronomically unlikely, but a set must be a set
		}
		seen[code] = true
		plain = append(plain, code)
		hashes = append(hashes, HashRecoveryCode(code))
	}
	return plain, hashes, nil
}

// HashRecoveryCode returns the hex SHA-256 of the normalized code, for
// storage and for lookup when a user types one in.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte("csphub recovery code\x00" + NormalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}

// NormalizeRecoveryCode lower-cases code, drops spaces and dashes, and maps
// the look-alikes i, l and o to 1, 1 and 0.
func NormalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		switch r {
		case 'i', 'l':
			return '1'
		case 'o':
			return '0'
		}
		return r
	}, code)
}
