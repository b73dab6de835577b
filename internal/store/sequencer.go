package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"csphub"
)

// The sequencer gives committed events and audit records their positions
// after commit. Writers never contend on a counter: they insert rows with no
// position, and one sequencer transaction at a time (serialized by the lock
// on the sequences row, or by SQLite's single writer) numbers the committed
// rows it finds. A reader that resumes "after position N" therefore never
// misses a row that committed late, and the audit hash chain is extended in
// one order that verification can replay.

const sequenceBatch = 1000

// notifySequencer wakes the sequencer worker, without blocking.
func (db *DB) notifySequencer() {
	select {
	case db.sequencerWake <- struct{}{}:
	default:
	}
}

// SequencerWake is signalled after every commit that wrote events or audit
// records.
func (db *DB) SequencerWake() <-chan struct{} { return db.sequencerWake }

// Sequence numbers one batch of committed, unsequenced events and audit
// records. It returns how many rows it numbered; call it again while that is
// non-zero.
func (db *DB) Sequence(ctx context.Context) (int, error) {
	var n int
	err := db.Write(ctx, func(tx *Tx) error {
		n = 0
		e, err := tx.sequenceEvents()
		if err != nil {
			return err
		}
		a, err := tx.chainAudit()
		if err != nil {
			return err
		}
		n = e + a
		return nil
	})
	return n, err
}

func (tx *Tx) sequenceEvents() (int, error) {
	var pos int64
	if err := tx.queryRow(`SELECT value FROM sequences WHERE name = 'events'` + tx.db.dialect.lockClause()).Scan(&pos); err != nil {
		return 0, fmt.Errorf("lock event sequence: %w", err)
	}
	ids, err := tx.ids(`SELECT id FROM events WHERE position IS NULL ORDER BY id LIMIT ?`, sequenceBatch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	for _, id := range ids {
		pos++
		if _, err := tx.exec(`UPDATE events SET position = ? WHERE id = ?`, pos, id); err != nil {
			return 0, err
		}
		if _, err := tx.exec(`UPDATE event_audience SET position = ? WHERE event_id = ?`, pos, id); err != nil {
			return 0, err
		}
	}
	_, err = tx.exec(`UPDATE sequences SET value = ? WHERE name = 'events'`, pos)
	return len(ids), err
}

func (tx *Tx) ids(query string, args ...any) ([]string, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

const auditColumns = `id, position, actor_kind, actor_id, actor_org_id, on_behalf_of, action,
	resource_type, resource_id, before_json, after_json, request_id, at, prev_hash, hash`

// scanAudits reads every audit record of rows, in their order, and closes
// them.
func scanAudits(rows *sql.Rows) ([]csphub.AuditRecord, error) {
	defer rows.Close()
	out := []csphub.AuditRecord{}
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanAudit(rows *sql.Rows) (csphub.AuditRecord, error) {
	var r csphub.AuditRecord
	var pos sql.NullInt64
	var orgID, onBehalf, before, after, reqID, prev, hash sql.NullString
	var kind string
	err := rows.Scan(&r.ID, &pos, &kind, &r.ActorID, &orgID, &onBehalf, &r.Action,
		&r.ResourceType, &r.ResourceID, &before, &after, &reqID, &r.At, &prev, &hash)
	r.Position = pos.Int64
	r.ActorKind = csphub.ActorKind(kind)
	r.ActorOrgID, r.OnBehalfOf, r.RequestID = orgID.String, onBehalf.String, reqID.String
	r.PrevHash, r.Hash = prev.String, hash.String
	if before.Valid {
		r.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		r.After = json.RawMessage(after.String)
	}
	r.At = r.At.UTC()
	return r, err
}

func (tx *Tx) chainAudit() (int, error) {
	var pos int64
	var last string
	if err := tx.queryRow(`SELECT value, last_hash FROM sequences WHERE name = 'audit'`+tx.db.dialect.lockClause()).Scan(&pos, &last); err != nil {
		return 0, fmt.Errorf("lock audit chain: %w", err)
	}
	rows, err := tx.query(`SELECT `+auditColumns+` FROM audit_records WHERE position IS NULL ORDER BY id LIMIT ?`, sequenceBatch)
	if err != nil {
		return 0, err
	}
	recs, err := scanAudits(rows)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	for _, r := range recs {
		pos++
		r.Position, r.PrevHash = pos, last
		r.Hash = AuditHash(r)
		if _, err := tx.exec(`UPDATE audit_records SET position = ?, prev_hash = ?, hash = ? WHERE id = ?`,
			r.Position, r.PrevHash, r.Hash, r.ID); err != nil {
			return 0, err
		}
		last = r.Hash
	}
	_, err = tx.exec(`UPDATE sequences SET value = ?, last_hash = ? WHERE name = 'audit'`, pos, last)
	return len(recs), err
}

// AuditHash is the chain hash of a record: SHA-256 over the previous hash
// and every field of the record, its position included, so that an edit, a
// deletion or a reordering changes some record's expected hash.
func AuditHash(r csphub.AuditRecord) string {
	canonical, _ := json.Marshal(struct {
		Prev, ID                            string
		Position                            int64
		ActorKind, ActorID, ActorOrgID      string
		OnBehalfOf, Action                  string
		ResourceType, ResourceID, RequestID string
		Before, After                       string
		At                                  string
	}{r.PrevHash, r.ID, r.Position, string(r.ActorKind), r.ActorID, r.ActorOrgID,
		r.OnBehalfOf, r.Action, r.ResourceType, r.ResourceID, r.RequestID,
		string(r.Before), string(r.After), r.At.UTC().Format(time.RFC3339Nano)})
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// AuditVerification is the result of walking the audit chain.
type AuditVerification struct {
	Checked   int64  `json:"checked"`   // chained records verified
	Unchained int64  `json:"unchained"` // committed records not chained yet
	OK        bool   `json:"ok"`
	Position  int64  `json:"broken_at_position,omitempty"`
	RecordID  string `json:"broken_record_id,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// VerifyAudit walks the chain in position order and reports the first broken
// link: a gap in positions (a deleted record), a record whose prev_hash is
// not its predecessor's hash (reordered or deleted), a record whose content
// no longer matches its hash (edited), or a chain head that does not match
// the last record (records removed from the end).
func (db *DB) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	err := db.Read(ctx, func(tx *Tx) error {
		v = AuditVerification{}
		var headPos int64
		var headHash string
		if err := tx.queryRow(`SELECT value, last_hash FROM sequences WHERE name = 'audit'`).Scan(&headPos, &headHash); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT COUNT(*) FROM audit_records WHERE position IS NULL`).Scan(&v.Unchained); err != nil {
			return err
		}
		var prevPos int64
		prevHash := ""
		broken := func(r csphub.AuditRecord, pos int64, problem string) {
			v.OK, v.Position, v.RecordID, v.Problem = false, pos, r.ID, problem
		}
		for {
			rows, err := tx.query(`SELECT `+auditColumns+` FROM audit_records
				WHERE position > ? ORDER BY position LIMIT 5000`, prevPos)
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() {
				r, err := scanAudit(rows)
				if err != nil {
					rows.Close()
					return err
				}
				n++
				switch {
				case r.Position != prevPos+1:
					broken(r, prevPos+1, fmt.Sprintf("record at position %d is missing", prevPos+1))
				case r.PrevHash != prevHash:
					broken(r, r.Position, "its link to the previous record is broken (deleted or reordered record)")
				case AuditHash(r) != r.Hash:
					broken(r, r.Position, "its content does not match its hash (edited record)")
				}
				if v.Problem != "" {
					rows.Close()
					return nil
				}
				v.Checked++
				prevPos, prevHash = r.Position, r.Hash
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		if prevPos != headPos || prevHash != headHash {
			v.Position, v.Problem = prevPos+1, fmt.Sprintf("the chain ends at position %d but its head says %d (records removed from the end)", prevPos, headPos)
			return nil
		}
		v.OK = true
		return nil
	})
	return v, err
}
