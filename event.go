package csphub

import (
	"encoding/json"
	"time"
)

// EventEntry is what a use case emits for other parties, in the same
// transaction as the change. Audience lists the organizations allowed to see
// it (the acting organization is always added).
type EventEntry struct {
	Type     string // e.g. "organization.created"
	Subject  string // id of the resource the event is about
	Data     any
	Audience []string
}

// Event is a stored event as readers see it. Position orders events in
// commit order; a reader resumes after the last position it saw.
type Event struct {
	ID       string          `json:"id"`
	Position int64           `json:"position"`
	Type     string          `json:"type"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data"`
	At       time.Time       `json:"at"`
}
