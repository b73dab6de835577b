package password

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// One real hash shared by the tests: argon2id is deliberately slow.
var sample = sync.OnceValues(func() (string, error) { return Hash("correct horse battery staple") })

func sampleHash(t *testing.T) string {
	t.Helper()
	h, err := sample()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashFormat(t *testing.T) {
	h := sampleHash(t)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected encoding %q", h)
	}
	d, err := decode(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.salt) != SaltLen || len(d.key) != int(KeyLen) {
		t.Fatalf("salt %d bytes, key %d bytes", len(d.salt), len(d.key))
	}
	if strings.Contains(h, "=$") || strings.HasSuffix(h, "=") {
		t.Fatalf("base64 must be unpadded: %q", h)
	}
}

func TestVerifyRoundTrip(t *testing.T) {
	ok, rehash, err := Verify(sampleHash(t), "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	ok, rehash, err := Verify(sampleHash(t), "correct horse battery stapler")
	if err != nil || ok || rehash {
		t.Fatalf("Verify = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestVerifyNormalizesUnicode(t *testing.T) {
	// "é" precomposed when hashed, decomposed (as macOS may send it) when verified.
	h, err := hashWith("caf\u00e9 au lait", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := Verify(h, "cafe\u0301 au lait"); err != nil || !ok {
		t.Fatalf("decomposed form refused: %v, %v", ok, err)
	}
}

func TestVerifyTamperedHash(t *testing.T) {
	h := sampleHash(t)
	// Flip one character of the key and one of the salt; both must fail
	// cleanly (the last key character is avoided: its low bits are padding).
	for _, field := range []int{4, 5} {
		parts := strings.Split(h, "$")
		b := []byte(parts[field])
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		parts[field] = string(b)
		ok, _, err := Verify(strings.Join(parts, "$"), "correct horse battery staple")
		if err != nil || ok {
			t.Fatalf("field %d tampered: ok=%v err=%v", field, ok, err)
		}
	}
}

func TestHashIsSalted(t *testing.T) {
	a := sampleHash(t)
	b, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

// cheap parameters keep tests that are not about cost fast.
var cheap = params{memory: 64, time: 1, threads: 1}

func TestNeedsRehash(t *testing.T) {
	for _, p := range []params{
		{memory: 8 * 1024, time: Time, threads: Threads},
		{memory: Memory, time: 1, threads: Threads},
	} {
		h, err := hashWith("a good passphrase", p)
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := Verify(h, "a good passphrase")
		if err != nil || !ok || !rehash {
			t.Fatalf("params %+v: Verify = %v, %v, %v; want true, true, nil", p, ok, rehash, err)
		}
		// A wrong password never asks for a rehash: there is nothing to rehash with.
		if _, rehash, _ := Verify(h, "another passphrase"); rehash {
			t.Fatalf("params %+v: rehash requested on a failed verification", p)
		}
	}
}

func TestVerifyDummy(t *testing.T) {
	// It must run with the current parameters and simply return.
	VerifyDummy("anything at all")
}

var malformed = []string{
	"",
	"$",
	"$$$$$",
	"plaintext",
	"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2,p=0$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=0,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=99999999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2,p=256$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=-1,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=+19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$t=2,m=19456,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2,p=1$not base64!$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$",
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U$extra",
	"x$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
}

func TestVerifyMalformed(t *testing.T) {
	for _, s := range malformed {
		ok, rehash, err := Verify(s, "password")
		if !errors.Is(err, ErrMalformed) || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want ErrMalformed", s, ok, rehash, err)
		}
	}
}

// FuzzVerify: no stored string, however broken, may panic Verify. Strings
// that parse are only verified when cheap, so the fuzzer spends its time on
// the parser rather than on argon2 with the largest parameters it can find.
func FuzzVerify(f *testing.F) {
	good, err := hashWith("fuzz", cheap)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "fuzz")
	f.Add(good, "")
	for _, s := range malformed {
		f.Add(s, "password")
	}
	f.Fuzz(func(t *testing.T, encoded, plain string) {
		h, err := decode(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error %v is not ErrMalformed", err)
			}
			return
		}
		if encode(h.params, h.salt, h.key) != encoded {
			t.Fatalf("decode accepted a non-canonical string %q", encoded)
		}
		if h.params.memory*h.params.time > 4096 {
			return
		}
		ok, rehash, err := Verify(encoded, plain)
		if err != nil || (rehash && !ok) {
			t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
		}
	})
}
