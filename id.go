package csphub

import "github.com/google/uuid"

// NewID returns a new opaque, time-sortable identifier (UUIDv7).
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ValidID reports whether s has the shape of an identifier, so that garbage
// in a path is answered "not found" without reaching the database.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
