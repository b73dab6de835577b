// Package password hashes, verifies and vets user passwords.
//
// Hashes are argon2id in the PHC string format, so the parameters travel
// with each hash and can be raised later without breaking old ones: Verify
// reports when a stored hash is weaker than today's parameters, and the
// caller re-hashes the password it has just proven correct.
//
// Passwords are NFC-normalized before hashing, so the same password typed on
// systems that compose accents differently (macOS produces decomposed forms)
// still verifies.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Current argon2id parameters: OWASP Password Storage Cheat Sheet's first
// recommended configuration (m=19 MiB, t=2, p=1). It costs roughly 30–60 ms
// and 19 MiB per sign-in on one core, which keeps sign-in responsive on a
// 2-core server while making offline guessing of a leaked hash expensive.
// One lane (p=1) because a web server already runs many sign-ins in
// parallel; more lanes would only compete for the same cores.
const (
	Memory  uint32 = 19 * 1024 // KiB
	Time    uint32 = 2         // passes over memory
	Threads uint8  = 1         // lanes
	KeyLen  uint32 = 32        // bytes of derived key
	SaltLen        = 16        // bytes of random salt
)

// params are the argon2id settings of one hash.
type params struct {
	memory  uint32
	time    uint32
	threads uint8
}

var current = params{memory: Memory, time: Time, threads: Threads}

// weakerThan reports whether p costs less than c in memory or passes.
func (p params) weakerThan(c params) bool {
	return p.memory < c.memory || p.time < c.time
}

// ErrMalformed is returned by Verify for a stored hash it cannot parse or
// that uses an algorithm or version it does not support.
var ErrMalformed = errors.New("password: malformed hash")

// Hash derives an argon2id hash of plain with the current parameters and a
// fresh random salt, encoded as
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func Hash(plain string) (string, error) {
	return hashWith(plain, current)
}

func hashWith(plain string, p params) (string, error) {
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	key := argon2.IDKey(normalize(plain), salt, p.time, p.memory, p.threads, KeyLen)
	return encode(p, salt, key), nil
}

// Verify reports whether plain matches the encoded hash. needsRehash is true
// only when the password matched and the hash's parameters, salt or key are
// weaker than the current ones, so the caller should store Hash(plain). A
// hash that cannot be parsed is an error, never a panic: a corrupt row must
// not take the server down.
func Verify(encoded, plain string) (ok bool, needsRehash bool, err error) {
	h, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey(normalize(plain), h.salt, h.params.time, h.params.memory, h.params.threads, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	weak := h.params.weakerThan(current) || len(h.salt) < SaltLen || len(h.key) < int(KeyLen)
	return true, weak, nil
}

// dummySalt and dummyKey stand in for an account that does not exist. The
// key matches no password, as nothing is derived to it: VerifyDummy only has
// to spend the time.
var (
	dummySalt = make([]byte, SaltLen)
	dummyKey  = make([]byte, KeyLen)
)

// VerifyDummy costs what Verify costs for a hash made with the current
// parameters, and always fails. Sign-in calls it when the email is unknown
// so that the response time does not reveal whether an account exists.
func VerifyDummy(plain string) {
	key := argon2.IDKey(normalize(plain), dummySalt, current.time, current.memory, current.threads, KeyLen)
	subtle.ConstantTimeCompare(key, dummyKey)
}

func normalize(plain string) []byte {
	return norm.NFC.Bytes([]byte(plain))
}
