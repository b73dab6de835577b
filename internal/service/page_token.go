package service

import (
	"encoding/base64"
	"strings"
	"time"

	"csphub"
	"csphub/internal/store"
)

// Page tokens are opaque to clients: the keyset position of the last row of
// the previous page, encoded.
func encodeKeyset(k store.Keyset) string {
	return base64.RawURLEncoding.EncodeToString([]byte(k.At.UTC().Format(time.RFC3339Nano) + "|" + k.ID))
}

func decodeKeyset(token string) (*store.Keyset, error) {
	if token == "" {
		return nil, nil
	}
	bad := csphub.Invalid(csphub.FieldError{Field: "page_token", Code: "invalid_page_token", Message: "is not a page token from this list"})
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !csphub.ValidID(id) {
		return nil, bad
	}
	return &store.Keyset{At: t.UTC(), ID: id}, nil
}
