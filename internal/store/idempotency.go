package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// IdempotencyVerdict says what to do with a request that carries an
// Idempotency-Key.
type IdempotencyVerdict int

const (
	// IdempotencyProceed: the key is new (or its earlier run died before
	// committing); run the use case, which completes the key in its own
	// transaction.
	IdempotencyProceed IdempotencyVerdict = iota
	// IdempotencyReplay: the key has a stored response; send it again.
	IdempotencyReplay
	// IdempotencyMismatch: the key was used with another request.
	IdempotencyMismatch
	// IdempotencyInProgress: a request with this key is running now.
	IdempotencyInProgress
)

// IdempotencyRequest identifies a keyed request.
type IdempotencyRequest struct {
	OrgID       string
	Key         string
	Operation   string // method and route pattern
	RequestHash string // hash of the canonical request body
	// Lock is how long a running request holds the key before a retry may
	// take it over (the request's process died).
	Lock time.Duration
	// TTL is how long a completed key replays its response.
	TTL time.Duration
}

// IdempotencyResult is the verdict and, for a replay, the stored response.
type IdempotencyResult struct {
	Verdict IdempotencyVerdict
	Status  int
	Body    []byte
}

// BeginIdempotent claims a key, or tells why it cannot be run.
func (db *DB) BeginIdempotent(ctx context.Context, r IdempotencyRequest) (IdempotencyResult, error) {
	var res IdempotencyResult
	err := db.Write(ctx, func(tx *Tx) error {
		res = IdempotencyResult{}
		var operation, hash, state string
		var status sql.NullInt64
		var response sql.NullString
		var lockedUntil sql.NullTime
		var expiresAt time.Time
		err := tx.queryRow(`SELECT operation, request_hash, state, status, response, locked_until, expires_at
			FROM idempotency_keys WHERE org_id = ? AND key = ?`+tx.db.dialect.lockClause(), r.OrgID, r.Key).
			Scan(&operation, &hash, &state, &status, &response, &lockedUntil, &expiresAt)
		now := tx.Now()
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return tx.insertIdempotencyKey(r, &res)
		case err != nil:
			return fmt.Errorf("read idempotency key: %w", err)
		case !expiresAt.After(now):
			if _, err := tx.exec(`DELETE FROM idempotency_keys WHERE org_id = ? AND key = ?`, r.OrgID, r.Key); err != nil {
				return err
			}
			return tx.insertIdempotencyKey(r, &res)
		case operation != r.Operation || hash != r.RequestHash:
			res.Verdict = IdempotencyMismatch
		case state == "done":
			res.Verdict, res.Status, res.Body = IdempotencyReplay, int(status.Int64), []byte(response.String)
		case lockedUntil.Valid && lockedUntil.Time.After(now):
			res.Verdict = IdempotencyInProgress
		default:
			// The earlier run died before committing: nothing of it exists,
			// so this request may run it again.
			_, err := tx.exec(`UPDATE idempotency_keys SET locked_until = ? WHERE org_id = ? AND key = ?`,
				now.Add(r.Lock), r.OrgID, r.Key)
			return err
		}
		return nil
	})
	if err != nil && db.dialect.uniqueViolation(err) {
		// Another request inserted the same key between our read and write.
		return IdempotencyResult{Verdict: IdempotencyInProgress}, nil
	}
	return res, err
}

func (tx *Tx) insertIdempotencyKey(r IdempotencyRequest, res *IdempotencyResult) error {
	now := tx.Now()
	_, err := tx.exec(`INSERT INTO idempotency_keys
		(org_id, key, operation, request_hash, state, locked_until, created_at, expires_at)
		VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
		r.OrgID, r.Key, r.Operation, r.RequestHash, now.Add(r.Lock), now, now.Add(r.TTL))
	res.Verdict = IdempotencyProceed
	return err
}

// CompleteIdempotent stores the response of a keyed request. Called inside
// the use case's transaction, the response exists if and only if the change
// committed: a crash in between leaves a running key that a retry re-runs.
func (tx *Tx) CompleteIdempotent(orgID, key string, status int, body []byte) error {
	res, err := tx.exec(`UPDATE idempotency_keys SET state = 'done', status = ?, response = ?, locked_until = NULL
		WHERE org_id = ? AND key = ? AND state = 'running'`, status, string(body), orgID, key)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("idempotency key %q is not running", key)
	}
	return nil
}

// CompleteIdempotentOutside stores the response of a keyed request whose use
// case refused it (a client error): the same request will be refused the
// same way.
func (db *DB) CompleteIdempotentOutside(ctx context.Context, orgID, key string, status int, body []byte) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.CompleteIdempotent(orgID, key, status, body) })
}

// ReleaseIdempotent forgets a running key whose request failed for a reason
// that may not recur (a server error), so that a retry runs it again.
func (db *DB) ReleaseIdempotent(ctx context.Context, orgID, key string) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(`DELETE FROM idempotency_keys WHERE org_id = ? AND key = ? AND state = 'running'`, orgID, key)
		return err
	})
}

// PurgeIdempotency deletes keys that expired, at most limit at a time, and
// returns how many it deleted.
func (db *DB) PurgeIdempotency(ctx context.Context, limit int) (int64, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(`DELETE FROM idempotency_keys WHERE (org_id, key) IN
			(SELECT org_id, key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)`, tx.Now(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
