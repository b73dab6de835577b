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

// encodeNameKeyset encodes the position of a row in a list ordered by a
// name key and an id.
func encodeNameKeyset(name, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n|" + id + "|" + name))
}

func decodeNameKeyset(token string) (name, id string, err error) {
	bad := csphub.Invalid(csphub.FieldError{Field: "page_token", Code: "invalid_page_token", Message: "is not a page token from this list"})
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", "", bad
	}
	parts := strings.SplitN(string(raw), "|", 3)
	if len(parts) != 3 || parts[0] != "n" || !csphub.ValidID(parts[1]) {
		return "", "", bad
	}
	return parts[2], parts[1], nil
}
