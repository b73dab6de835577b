package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds on what a stored hash may ask for. A hash comes from our own
// database, but a corrupt or tampered row must neither panic argon2 (t=0,
// p=0) nor make one sign-in allocate gigabytes or run for minutes.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 16
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

var b64 = base64.RawStdEncoding

// phcHash is a parsed $argon2id$ string.
type phcHash struct {
	params params
	salt   []byte
	key    []byte
}

func encode(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses exactly the form encode writes. It is strict on purpose:
// there is one writer, so anything else is corruption, not a dialect.
func decode(s string) (phcHash, error) {
	var h phcHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, fmt.Errorf("%w: expected 5 fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformed)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("%w: unsupported version", ErrMalformed)
	}

	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return h, fmt.Errorf("%w: expected m, t and p", ErrMalformed)
	}
	m, err := number(kv[0], "m=", 1, maxMemory)
	if err != nil {
		return h, err
	}
	t, err := number(kv[1], "t=", 1, maxTime)
	if err != nil {
		return h, err
	}
	p, err := number(kv[2], "p=", 1, maxThreads)
	if err != nil {
		return h, err
	}
	// argon2 needs at least 8 KiB per lane; a smaller m is not what the
	// string claims to be.
	if m < 8*p {
		return h, fmt.Errorf("%w: memory below 8 KiB per lane", ErrMalformed)
	}
	h.params = params{memory: uint32(m), time: uint32(t), threads: uint8(p)}

	if h.salt, err = unbase64(parts[4]); err != nil {
		return h, fmt.Errorf("%w: salt is not base64", ErrMalformed)
	}
	if len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return h, fmt.Errorf("%w: salt length", ErrMalformed)
	}
	if h.key, err = unbase64(parts[5]); err != nil {
		return h, fmt.Errorf("%w: key is not base64", ErrMalformed)
	}
	if len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return h, fmt.Errorf("%w: key length", ErrMalformed)
	}
	return h, nil
}

// unbase64 decodes unpadded standard base64 and refuses any other spelling
// of the same bytes: the decoder alone skips CR and LF.
func unbase64(s string) ([]byte, error) {
	b, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != s {
		return nil, ErrMalformed
	}
	return b, nil
}

// number parses "name=digits" within [lo, hi]. Only plain decimal digits
// are accepted: no sign, no leading zeros, no spaces.
func number(s, prefix string, lo, hi uint64) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || len(digits) > 10 || (len(digits) > 1 && digits[0] == '0') {
		return 0, fmt.Errorf("%w: bad %s", ErrMalformed, prefix)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("%w: bad %s", ErrMalformed, prefix)
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %s out of range", ErrMalformed, prefix)
	}
	return n, nil
}
