package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSSORedirectsStayOnSite(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "/orders?page=2": "/orders?page=2", "/customers/42#billing": "/customers/42#billing",
		"//evil.example/x": "/", "/\\evil.example": "/", "https://evil.example/": "/", "javascript:alert(1)": "/",
		"orders": "/", "/a\r\nSet-Cookie: x=1": "/", "/\x00": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSSOIssuerRules(t *testing.T) {
	strict, relaxed := &Service{}, &Service{opts: Options{SSOAllowPrivateIssuers: true}}
	for _, c := range []struct {
		issuer          string
		strict, relaxed bool
	}{
		{"https://login.contoso.example", true, true},
		{"https://login.contoso.example/tenant/v2.0", true, true},
		{"http://login.contoso.example", false, false},
		{"http://127.0.0.1:9998", false, true},
		{"http://[::1]:9998", false, true},
		{"http://10.0.0.5", false, false},
		{"https://user:pw@login.contoso.example", false, false},
		{"https://login.contoso.example?x=1", false, false},
		{"https://login.contoso.example#x", false, false},
		{"login.contoso.example", false, false},
		{"https://login.contoso.example/ x", false, false},
	} {
		if got := strict.checkIssuer(c.issuer) == nil; got != c.strict {
			t.Errorf("strict %q: accepted %v", c.issuer, got)
		}
		if got := relaxed.checkIssuer(c.issuer) == nil; got != c.relaxed {
			t.Errorf("relaxed %q: accepted %v", c.issuer, got)
		}
	}
}

// An organization's admin names the issuer, so by default csphub refuses
// to connect to this machine, private networks or cloud metadata, whatever
// a name resolves to.
func TestSSOProviderAddressesMustBePublic(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:443": false, "[::1]:443": false, "10.1.2.3:443": false, "172.16.0.1:443": false, "192.168.1.1:443": false,
		"169.254.169.254:80": false, "100.64.0.1:443": false, "0.0.0.0:443": false, "[fd00::1]:443": false, "[fe80::1]:443": false,
		"[::ffff:127.0.0.1]:443": false, "224.0.0.1:443": false,
		"8.8.8.8:443": true, "[2001:4860:4860::8888]:443": true,
	} {
		if err := refuseNonPublicAddress("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("csphub reached a provider on a loopback address")
	}))
	defer idp.Close()
	_, err := (&Service{}).discover(context.Background(), idp.URL)
	if err == nil || !strings.Contains(err.Error(), "not public") {
		t.Fatalf("discovery of a loopback provider: %v", err)
	}
}
