package i18n

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNegotiateOrder(t *testing.T) {
	b, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, setting, cookie, accept, want string
	}{
		{"nothing", "", "", "", "en"},
		{"accept french", "", "", "fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"accept regional french", "", "", "fr-CA", "fr"},
		{"accept english over french", "", "", "en-GB,fr;q=0.5", "en"},
		{"accept first supported", "", "", "de-DE,de;q=0.9,fr;q=0.8", "fr"},
		{"accept unsupported only", "", "", "de, ja", "en"},
		{"accept garbage", "", "", ";;;===,,", "en"},
		{"accept wildcard", "", "", "*", "en"},
		{"cookie beats accept", "", "en", "fr", "en"},
		{"cookie french", "", "fr", "en", "fr"},
		{"unknown cookie ignored", "", "xx-invalid", "fr", "fr"},
		{"unsupported cookie ignored", "", "de", "fr", "fr"},
		{"setting beats cookie and accept", "fr", "en", "en", "fr"},
		{"setting regional", "fr-BE", "", "", "fr"},
		{"unsupported setting ignored", "es", "fr", "en", "fr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tc.cookie})
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			if got := b.Negotiate(tc.setting, r).String(); got != tc.want {
				t.Errorf("Negotiate = %s, want %s", got, tc.want)
			}
			if got := b.ForRequest(r, tc.setting).Lang(); got != tc.want {
				t.Errorf("ForRequest language = %s, want %s", got, tc.want)
			}
		})
	}
	if got := b.Negotiate("", nil).String(); got != "en" {
		t.Errorf("no request: %s, want en", got)
	}
	if got := b.For("fr").Lang(); got != "fr" {
		t.Errorf(`For("fr") = %s`, got)
	}
	if got := b.For("zz").Lang(); got != "en" {
		t.Errorf(`For("zz") = %s, want the default`, got)
	}
}

func TestContextCarriesLocalizer(t *testing.T) {
	b, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("empty context has a localizer")
	}
	l, ok := FromContext(NewContext(context.Background(), b.For("fr")))
	if !ok || l.Lang() != "fr" {
		t.Fatalf("FromContext = %v, %v", l, ok)
	}
}
