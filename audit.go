package csphub

import (
	"encoding/json"
	"time"
)

// AuditEntry is what a use case records about one change, in the same
// transaction as the change. Before and After are JSON snapshots of the
// resource; either may be nil (creation, deletion).
type AuditEntry struct {
	Action       string // e.g. "organization.create"
	ResourceType string
	ResourceID   string
	Before       any
	After        any
}

// AuditRecord is a stored audit entry. Position and Hash are assigned by the
// chainer after commit, in commit order; PrevHash links each record to the
// one before it, so that an edited, deleted or reordered record breaks the
// chain.
type AuditRecord struct {
	ID           string          `json:"id"`
	Position     int64           `json:"position"`
	ActorKind    ActorKind       `json:"actor_kind"`
	ActorID      string          `json:"actor_id"`
	ActorOrgID   string          `json:"actor_org_id,omitempty"`
	OnBehalfOf   string          `json:"on_behalf_of,omitempty"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	RequestID    string          `json:"request_id,omitempty"`
	At           time.Time       `json:"at"`
	PrevHash     string          `json:"prev_hash,omitempty"`
	Hash         string          `json:"hash,omitempty"`
}
