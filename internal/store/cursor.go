package store

import (
	"encoding/base64"
	"strings"
	"time"

	"csphub"
)

// Keyset pagination: a page ends with a cursor naming its last row by
// (timestamp, id), and the next page starts strictly after it, so a page
// costs the same however deep it is and rows inserted meanwhile neither
// repeat nor shift the pages.

type cursor struct {
	at time.Time
	id string
	ok bool
}

// formatCursor encodes the position of a row as an opaque string.
func formatCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// parseCursor decodes a cursor; "" is the start.
func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	bad := csphub.Invalid(csphub.FieldError{Field: "cursor", Code: "invalid", Message: "the cursor is not one this service returned"})
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	at, id, found := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !found || err != nil || !csphub.ValidID(id) {
		return cursor{}, bad
	}
	return cursor{at: csphub.Normalize(t), id: id, ok: true}, nil
}

// pageLimit bounds the size of a page.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}
