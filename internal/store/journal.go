package store

import (
	"encoding/json"
	"fmt"

	"csphub"
)

// Audit writes an audit record for a change made in this transaction.
func (tx *Tx) Audit(actor csphub.Actor, e csphub.AuditEntry) error {
	before, err := jsonOrNull(e.Before)
	if err != nil {
		return fmt.Errorf("audit before: %w", err)
	}
	after, err := jsonOrNull(e.After)
	if err != nil {
		return fmt.Errorf("audit after: %w", err)
	}
	onBehalf := ""
	if actor.OnBehalfOf != actor.OrgID {
		onBehalf = actor.OnBehalfOf
	}
	requestID := actor.RequestID
	if requestID == "" {
		requestID = csphub.RequestID(tx.ctx)
	}
	_, err = tx.exec(`INSERT INTO audit_records
		(id, actor_kind, actor_id, actor_org_id, on_behalf_of, action, resource_type, resource_id,
		 before_json, after_json, request_id, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		csphub.NewID(), string(actor.Kind), actor.ID, nullString(actor.OrgID), nullString(onBehalf),
		e.Action, e.ResourceType, e.ResourceID, before, after, nullString(requestID), tx.now)
	if err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	tx.AfterCommit(tx.db.notifySequencer)
	return nil
}

// Emit writes an event for the organizations in its audience, and for the
// acting organization.
func (tx *Tx) Emit(actor csphub.Actor, e csphub.EventEntry) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("event data: %w", err)
	}
	id := csphub.NewID()
	if _, err := tx.exec(`INSERT INTO events (id, type, subject, data, at) VALUES (?, ?, ?, ?, ?)`,
		id, e.Type, e.Subject, string(data), tx.now); err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	seen := map[string]bool{}
	audience := append([]string{actor.TenantID(), actor.OrgID}, e.Audience...)
	for _, org := range audience {
		if org == "" || seen[org] {
			continue
		}
		seen[org] = true
		if _, err := tx.exec(`INSERT INTO event_audience (org_id, event_id) VALUES (?, ?)`, org, id); err != nil {
			return fmt.Errorf("insert event audience: %w", err)
		}
	}
	tx.AfterCommit(tx.db.notifySequencer)
	return nil
}

func jsonOrNull(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// EventsAfter returns, in order, the sequenced events that orgID may see
// with a position greater than after, at most limit of them.
func (tx *Tx) EventsAfter(orgID string, after int64, limit int) ([]csphub.Event, error) {
	rows, err := tx.query(`SELECT e.id, e.position, e.type, e.subject, e.data, e.at
		FROM event_audience a JOIN events e ON e.id = a.event_id
		WHERE a.org_id = ? AND a.position > ?
		ORDER BY a.position LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []csphub.Event
	for rows.Next() {
		var e csphub.Event
		var data string
		if err := rows.Scan(&e.ID, &e.Position, &e.Type, &e.Subject, &data, &e.At); err != nil {
			return nil, err
		}
		e.Data, e.At = json.RawMessage(data), e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditRecordsOf returns, in position order, the chained audit records of
// changes made by orgID or inside it on its behalf, after the given
// position; actionPrefix narrows them (for example "session." for the
// security log).
func (tx *Tx) AuditRecordsOf(orgID string, after int64, limit int, actionPrefix string) ([]csphub.AuditRecord, error) {
	// Two index range scans, merged: one OR over two columns would not use
	// either index in position order.
	filter := ""
	args := []any{orgID, after}
	if actionPrefix != "" {
		filter = ` AND action LIKE ? ESCAPE '\'`
		args = append(args, likePrefix(actionPrefix))
	}
	args = append(args, limit, orgID, orgID, after)
	if actionPrefix != "" {
		args = append(args, likePrefix(actionPrefix))
	}
	args = append(args, limit, limit)
	rows, err := tx.query(`SELECT `+auditColumns+` FROM (
			SELECT `+auditColumns+` FROM audit_records WHERE actor_org_id = ? AND position > ?`+filter+` ORDER BY position LIMIT ?) mine
		UNION ALL
		SELECT `+auditColumns+` FROM (
			SELECT `+auditColumns+` FROM audit_records WHERE on_behalf_of = ? AND actor_org_id <> ? AND position > ?`+filter+` ORDER BY position LIMIT ?) delegated
		ORDER BY position LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit records: %w", err)
	}
	return scanAudits(rows)
}
