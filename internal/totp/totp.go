// Package totp implements time-based one-time passwords (RFC 6238) for
// multi-factor sign-in, and the recovery codes that stand in for a lost
// authenticator.
//
// The parameters are the ones every authenticator app supports without
// question: HMAC-SHA1, 6 digits, 30-second steps, a 160-bit secret.
package totp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

const (
	// Period is the length of one time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before and after the current one are
	// accepted, for phones whose clock is a little off.
	Skew = 1
	// SecretSize is the secret length in bytes: 160 bits, as RFC 4226
	// recommends for HMAC-SHA1.
	SecretSize = 20
	// minSecretSize is RFC 4226's floor (128 bits); shorter secrets are
	// refused rather than trusted.
	minSecretSize = 16
	// qrSize is the side of the QR code image in pixels, large enough for
	// a phone camera across a desk.
	qrSize = 256
)

var (
	// ErrInvalidSecret is returned by Code for a secret that is not
	// base32 or is shorter than 128 bits.
	ErrInvalidSecret = errors.New("totp: invalid secret")

	b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

	hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
)

// Enrollment is what a user needs to add an account to an authenticator
// app. Secret must be stored (encrypted at rest where possible) only once
// the user has proven the enrollment with a first valid code.
type Enrollment struct {
	// Secret is the shared key in unpadded upper-case base32, for manual
	// entry and for storage.
	Secret string
	// URL is the otpauth:// key URI the QR code encodes.
	URL string
	// QRCode is a PNG image of URL.
	QRCode []byte
}

// QRDataURL returns the QR code as a data: URL for an <img src>, so the
// secret never needs its own HTTP resource.
func (e Enrollment) QRDataURL() string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCode)
}

// String keeps the secret out of logs and error messages that format an
// Enrollment by accident.
func (e Enrollment) String() string { return "totp.Enrollment{secret: redacted}" }

// GoString does the same for %#v.
func (e Enrollment) GoString() string { return e.String() }

// NewSecret creates a random secret for account (usually the email) at
// issuer (the product or organization name shown in the app).
func NewSecret(issuer, account string) (Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("totp: generating secret: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrollment{}, fmt.Errorf("totp: drawing QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, fmt.Errorf("totp: encoding QR code: %w", err)
	}
	return Enrollment{Secret: key.Secret(), URL: key.URL(), QRCode: buf.Bytes()}, nil
}

// Step returns the RFC 6238 time step that contains t.
func Step(t time.Time) int64 {
	s, p := t.Unix(), int64(Period/time.Second)
	// Floor, not truncation, so times before 1970 do not share step 0.
	q := s / p
	if s%p != 0 && s < 0 {
		q--
	}
	return q
}

// Code returns the code for secret at time t.
func Code(secret string, t time.Time) (string, error) {
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	step := Step(t)
	if step < 0 {
		return "", fmt.Errorf("totp: time %v is before 1970", t)
	}
	return codeAt(secret, step)
}

func codeAt(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotpOpts)
}

// Validate checks code against secret at time now, accepting the current
// step and Skew steps either side. A code is single-use: any step at or
// before lastUsedStep is refused, and on success the caller must store the
// returned step as the new lastUsedStep (0 when the user never signed in
// with a code). Spaces in the code are ignored, as apps show "123 456";
// anything that is not then exactly 6 ASCII digits is refused. Invalid
// input never panics, it fails.
func Validate(secret, code string, now time.Time, lastUsedStep int64) (step int64, ok bool) {
	code = strings.Join(strings.Fields(code), "")
	if !wellFormed(code) || checkSecret(secret) != nil {
		return 0, false
	}
	current := Step(now)
	// Every candidate is computed and compared, so timing does not tell
	// which step a guess hit. Should a code match two steps, the later one
	// wins: storing it blocks the code for the whole window.
	var matched int64 = -1
	for s := current - Skew; s <= current+Skew; s++ {
		if s < 0 || s <= lastUsedStep {
			continue
		}
		want, err := codeAt(secret, s)
		if err != nil {
			return 0, false
		}
		if equal(want, code) {
			matched = s
		}
	}
	if matched < 0 {
		return 0, false
	}
	return matched, true
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func wellFormed(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// checkSecret refuses what hotp would silently accept: an empty or short
// key, or one it can only decode after upper-casing and padding.
func checkSecret(secret string) error {
	key, err := b32.DecodeString(strings.ToUpper(strings.TrimSpace(secret)))
	if err != nil || len(key) < minSecretSize {
		return ErrInvalidSecret
	}
	return nil
}
