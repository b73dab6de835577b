package totp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B: the SHA-1 test key and two of its vectors, cut to
// the 6 digits we use.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"

func TestCodeMatchesRFC6238(t *testing.T) {
	for _, v := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	} {
		got, err := Code(rfcSecret, time.Unix(v.unix, 0))
		if err != nil || got != v.want {
			t.Errorf("Code at %d = %q, %v; want %q", v.unix, got, err, v.want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	e, err := NewSecret("csphub", "alice@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	key, err := b32.DecodeString(e.Secret)
	if err != nil || len(key) != SecretSize {
		t.Fatalf("secret %q: %d bytes, %v", e.Secret, len(key), err)
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || q.Get("secret") != e.Secret ||
		q.Get("issuer") != "csphub" || q.Get("digits") != "6" || q.Get("period") != "30" ||
		q.Get("algorithm") != "SHA1" || !strings.Contains(u.Path, "alice@contoso.com") {
		t.Fatalf("unexpected key URI %q", e.URL)
	}
	img, err := png.Decode(bytes.NewReader(e.QRCode))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Fatalf("QR code is %v", b)
	}
	data, ok := strings.CutPrefix(e.QRDataURL(), "data:image/png;base64,")
	if raw, err := base64.StdEncoding.DecodeString(data); !ok || err != nil || !bytes.Equal(raw, e.QRCode) {
		t.Fatal("QRDataURL does not carry the PNG")
	}
	for _, s := range []string{fmt.Sprint(e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
		if strings.Contains(s, e.Secret) {
			t.Fatalf("formatting an Enrollment shows the secret: %s", s)
		}
	}
	other, err := NewSecret("csphub", "alice@contoso.com")
	if err != nil || other.Secret == e.Secret {
		t.Fatal("two enrollments share a secret")
	}
	if _, err := NewSecret("", "alice@contoso.com"); err == nil {
		t.Fatal("empty issuer accepted")
	}
}

func TestValidateWindow(t *testing.T) {
	// A fixed secret and time keep this deterministic: with a random
	// secret, a code two steps away could match by chance (one in 10^6).
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	cur := Step(now)
	for _, tt := range []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		code, err := Code(rfcSecret, now.Add(time.Duration(tt.offset)*Period))
		if err != nil {
			t.Fatal(err)
		}
		step, ok := Validate(rfcSecret, code, now, 0)
		if ok != tt.ok {
			t.Fatalf("offset %d steps: ok = %v, want %v", tt.offset, ok, tt.ok)
		}
		if ok && step != cur+tt.offset {
			t.Fatalf("offset %d steps: step = %d, want %d", tt.offset, step, cur+tt.offset)
		}
	}
}

func TestValidateSingleUse(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	code, _ := Code(rfcSecret, now)
	step, ok := Validate(rfcSecret, code, now, 0)
	if !ok || step != Step(now) {
		t.Fatalf("first use refused: %d, %v", step, ok)
	}
	if _, ok := Validate(rfcSecret, code, now, step); ok {
		t.Fatal("the same code was accepted twice")
	}
	// Still refused a step later, while it is inside the skew window.
	if _, ok := Validate(rfcSecret, code, now.Add(Period), step); ok {
		t.Fatal("a used code was accepted in the next step")
	}
	// An older code is refused once a newer step has been used.
	prev, _ := Code(rfcSecret, now.Add(-Period))
	if _, ok := Validate(rfcSecret, prev, now, step); ok {
		t.Fatal("a code older than the last used step was accepted")
	}
	// The next step's code is still good.
	next, _ := Code(rfcSecret, now.Add(Period))
	if s, ok := Validate(rfcSecret, next, now.Add(Period), step); !ok || s != step+1 {
		t.Fatalf("next code refused: %d, %v", s, ok)
	}
}

func TestValidateInput(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	code, _ := Code(rfcSecret, now)
	spaced := code[:3] + " " + code[3:]
	for _, c := range []string{" " + code + " ", spaced, "\t" + spaced + "\n"} {
		if _, ok := Validate(rfcSecret, c, now, 0); !ok {
			t.Errorf("Validate(%q) refused", c)
		}
	}
	if _, ok := Validate(strings.ToLower(rfcSecret), code, now, 0); !ok {
		t.Error("lower-case secret refused")
	}
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	for _, c := range []string{
		wrong, "", "12345", "1234567", "12345a", "abcdef", "-12345", "+12345",
		"１２３４５６", code + "0", "0" + code, code[:5] + "\x00", "12 34 5",
	} {
		if _, ok := Validate(rfcSecret, c, now, 0); ok {
			t.Errorf("Validate(%q) accepted", c)
		}
	}
	for _, s := range []string{"", "not base32!", "GEZDGNBV", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ=1"} {
		if _, ok := Validate(s, code, now, 0); ok {
			t.Errorf("secret %q accepted", s)
		}
		if _, err := Code(s, now); err == nil {
			t.Errorf("Code with secret %q succeeded", s)
		}
	}
	if _, ok := Validate(rfcSecret, code, time.Unix(-1e9, 0), 0); ok {
		t.Error("code accepted at a time before 1970")
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestStep(t *testing.T) {
	for _, v := range []struct{ unix, step int64 }{{0, 0}, {29, 0}, {30, 1}, {59, 1}, {-1, -1}, {-30, -1}, {-31, -2}, {math.MinInt64, math.MinInt64/30 - 1}} {
		if got := Step(time.Unix(v.unix, 0)); got != v.step {
			t.Errorf("Step(%d) = %d, want %d", v.unix, got, v.step)
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(rfcSecret, "287082", int64(59), int64(0))
	f.Add(rfcSecret, " 287 082 ", int64(59), int64(0))
	f.Add(rfcSecret, "287082", int64(59), int64(1))
	f.Add(rfcSecret, "", int64(0), int64(-1))
	f.Add(rfcSecret, "１２３４５６", int64(1e9), int64(0))
	f.Add("", "000000", int64(-1), int64(0))
	f.Add("====", "999999", int64(1<<62), int64(1<<62))
	f.Add("gezdgnbvgy3tqojq", "123456", int64(-1<<62), int64(-1<<62))
	f.Fuzz(func(t *testing.T, secret, code string, unix, last int64) {
		now := time.Unix(unix, 0)
		step, ok := Validate(secret, code, now, last)
		if !ok {
			return
		}
		if step <= last || step < Step(now)-Skew || step > Step(now)+Skew {
			t.Fatalf("accepted step %d outside the window (now %d, last %d)", step, Step(now), last)
		}
		want, err := codeAt(secret, step)
		if err != nil || want != strings.Join(strings.Fields(code), "") {
			t.Fatalf("accepted %q, but step %d's code is %q (%v)", code, step, want, err)
		}
	})
}
