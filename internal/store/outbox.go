package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"csphub"
)

// The transactional outbox. A use case writes its outgoing messages as rows
// in its own transaction, so a message exists if and only if the change
// committed. Workers on any number of nodes claim due rows with a lease:
// claiming moves next_attempt_at to the end of the lease, so a row whose
// worker died becomes due again by itself. Every claim also writes a fresh
// random lease id, the fencing token: a worker whose lease was taken over
// can no longer mark the row. (The attempt count cannot serve: an
// operator's retry and a worker's release take it back to values it had
// before, so an old holder's (owner, attempt) could match again.) Delivery
// is therefore at least once: a worker that dies after the SMTP server
// accepted a message but before marking it makes another worker send it
// again, with the same Message-ID, so that receiving systems can drop the
// copy.

// OutboxEmail is the outbox kind of rendered emails.
const OutboxEmail = "email"

// Email is a rendered message as the outbox keeps it until delivery. It is
// the JSON payload of an "email" outbox row.
type Email struct {
	To       string `json:"to"`
	ToName   string `json:"to_name,omitempty"`
	Lang     string `json:"lang"`
	Template string `json:"template"` // the message type, for logs and the mailbox
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	HTML     string `json:"html"`
}

// OutboxRef identifies an enqueued message.
type OutboxRef struct {
	ID        string // the outbox row
	MessageID string // the RFC 5322 Message-ID, angle brackets included
}

// EnqueueEmail writes a rendered email to the outbox in this transaction,
// with its Message-ID fixed now so that every delivery attempt carries the
// same one. The worker is woken once the transaction commits. orgID is the
// organization the message is about, or "" for the deployment itself.
func (tx *Tx) EnqueueEmail(orgID string, e Email) (OutboxRef, error) {
	if e.To == "" || e.Subject == "" {
		return OutboxRef{}, errors.New("enqueue email: recipient and subject are required")
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return OutboxRef{}, fmt.Errorf("enqueue email: %w", err)
	}
	id := csphub.NewID()
	ref := OutboxRef{ID: id, MessageID: "<" + id + "@" + tx.db.messageIDHost + ">"}
	now := tx.Now()
	if _, err := tx.exec(`INSERT INTO outbox (id, org_id, kind, payload, message_id, state, attempts, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
		id, nullString(orgID), OutboxEmail, string(payload), ref.MessageID, now, now); err != nil {
		return OutboxRef{}, fmt.Errorf("insert outbox row: %w", err)
	}
	tx.AfterCommit(func() { tx.db.outboxWake.notify(OutboxEmail) })
	return ref, nil
}

// messageIDHost checks the configured right-hand side of Message-IDs: a
// dot-atom of letters, digits and hyphens, so it can never break the header.
func messageIDHost(h string) (string, error) {
	if h == "" {
		return "csphub", nil
	}
	ok := len(h) <= 253 && !strings.HasPrefix(h, ".") && !strings.HasSuffix(h, ".") && !strings.Contains(h, "..")
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			ok = false
		}
	}
	if !ok {
		return "", fmt.Errorf("message id host %q must be a host name (letters, digits, hyphens and dots)", h)
	}
	return h, nil
}

// wakeups wakes the workers of each outbox kind after a commit. A pending
// wake-up is kept (channel of one) so a commit made while the worker is busy
// is not lost; several commits collapse into one wake-up.
type wakeups struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

func (w *wakeups) channel(kind string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = map[string]chan struct{}{}
	}
	c, ok := w.ch[kind]
	if !ok {
		c = make(chan struct{}, 1)
		w.ch[kind] = c
	}
	return c
}

func (w *wakeups) notify(kind string) {
	select {
	case w.channel(kind) <- struct{}{}:
	default:
	}
}

// OutboxWake is signalled after every commit that enqueued a message of the
// kind, or retried one. Only this process's commits signal it; workers also
// poll, for rows enqueued by other nodes and for retries that fall due.
func (db *DB) OutboxWake(kind string) <-chan struct{} { return db.outboxWake.channel(kind) }

// OutboxLease is a worker's hold on one claimed row. LeaseID fences the
// holder: it is random and new at every claim, so once the row is claimed
// again (its lease ended, or it was released or retried and claimed anew)
// the earlier holder can no longer mark it. Attempt is the row's attempt
// count after the claim, for back-off and logs.
type OutboxLease struct {
	ID      string
	Owner   string
	LeaseID string
	Attempt int
	Until   time.Time
}

// OutboxMessage is a claimed outbox row.
type OutboxMessage struct {
	OutboxLease
	OrgID     string
	Kind      string
	MessageID string
	Payload   []byte
}

// Email decodes the payload of an "email" row.
func (m OutboxMessage) Email() (Email, error) {
	var e Email
	if m.Kind != OutboxEmail {
		return e, fmt.Errorf("outbox row %s is a %q, not an email", m.ID, m.Kind)
	}
	if err := json.Unmarshal(m.Payload, &e); err != nil {
		return e, fmt.Errorf("outbox row %s: undecodable email payload: %w", m.ID, err)
	}
	return e, nil
}

// OutboxClaim says what a worker claims.
type OutboxClaim struct {
	Kind  string
	Owner string
	// Lease is how long the rows are the worker's; it must cover sending
	// them, or another worker may send them too.
	Lease time.Duration
	Limit int
	// MaxAttempts: a due row that already had this many attempts (its
	// worker died during the last one, every time) goes to the dead-letter
	// list instead of being claimed, so a message that crashes workers
	// cannot crash them forever.
	MaxAttempts int
}

// outboxClaimQuery leases due rows: (owner, lease id, until, until, now,
// kind, now, max attempts, limit). The outer conditions repeat the inner
// ones so that, should two claims ever reach the same row, the second
// re-checks it after the first committed and finds it no longer due.
func (db *DB) outboxClaimQuery() string {
	return `UPDATE outbox SET lease_owner = ?, lease_id = ?, lease_until = ?, next_attempt_at = ?, attempts = attempts + 1
		WHERE state = 'pending' AND next_attempt_at <= ? AND id IN (
			SELECT id FROM outbox
			WHERE kind = ? AND state = 'pending' AND next_attempt_at <= ? AND attempts < ?
			ORDER BY next_attempt_at, id LIMIT ?` + db.dialect.skipLockedClause() + `)
		RETURNING id, org_id, kind, payload, message_id, attempts`
}

// outboxGiveUpQuery moves due rows whose attempts ran out to the dead-letter
// list: (now, now, kind, now, max attempts, limit).
func (db *DB) outboxGiveUpQuery() string {
	return `UPDATE outbox SET state = 'dead', dead_at = ?, lease_owner = NULL, lease_id = NULL, lease_until = NULL,
		last_error = 'gave up: the worker stopped during the last allowed attempt'
		WHERE state = 'pending' AND next_attempt_at <= ? AND id IN (
			SELECT id FROM outbox
			WHERE kind = ? AND state = 'pending' AND next_attempt_at <= ? AND attempts >= ?
			ORDER BY next_attempt_at, id LIMIT ?` + db.dialect.skipLockedClause() + `)`
}

const (
	outboxDepthQuery   = `SELECT COUNT(*) FROM outbox WHERE kind = ? AND state = 'pending'`
	outboxNextDueQuery = `SELECT next_attempt_at FROM outbox WHERE kind = ? AND state = 'pending' ORDER BY next_attempt_at LIMIT 1`
	outboxPurgeQuery   = `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' AND sent_at <= ? LIMIT ?)`
)

// ClaimOutbox leases up to Limit due rows of the kind to the owner and
// returns them. Rows another transaction is claiming are skipped (FOR UPDATE
// SKIP LOCKED on PostgreSQL; SQLite has one writer at a time).
func (db *DB) ClaimOutbox(ctx context.Context, c OutboxClaim) ([]OutboxMessage, error) {
	if c.Kind == "" || c.Owner == "" || c.Lease <= 0 || c.Limit <= 0 || c.MaxAttempts <= 0 {
		return nil, fmt.Errorf("claim outbox: kind, owner, lease, limit and max attempts are required: %+v", c)
	}
	var out []OutboxMessage
	err := db.Write(ctx, func(tx *Tx) error {
		out = nil
		now := tx.Now()
		if _, err := tx.exec(tx.db.outboxGiveUpQuery(), now, now, c.Kind, now, c.MaxAttempts, c.Limit); err != nil {
			return fmt.Errorf("dead-letter exhausted outbox rows: %w", err)
		}
		until := csphub.Normalize(now.Add(c.Lease)) // both engines keep microseconds
		// One lease id per claim, new at every try of the transaction: with
		// the row id it names one lease of one row, never seen before.
		leaseID := rand.Text()
		rows, err := tx.query(tx.db.outboxClaimQuery(), c.Owner, leaseID, until, until, now, c.Kind, now, c.MaxAttempts, c.Limit)
		if err != nil {
			return fmt.Errorf("claim outbox rows: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m OutboxMessage
			var org sql.NullString
			var payload string
			if err := rows.Scan(&m.ID, &org, &m.Kind, &payload, &m.MessageID, &m.Attempt); err != nil {
				return err
			}
			m.Owner, m.LeaseID, m.Until, m.OrgID, m.Payload = c.Owner, leaseID, until, org.String, []byte(payload)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	// RETURNING has no order; ids are time-ordered, so this is enqueue order.
	slices.SortFunc(out, func(a, b OutboxMessage) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// MarkOutboxSent records a delivery. It reports false, changing nothing, if
// the lease was taken over: the row is then someone else's to mark. The
// payload is cleared, since email bodies carry tokens that must not outlive
// their delivery in the database.
func (db *DB) MarkOutboxSent(ctx context.Context, l OutboxLease) (bool, error) {
	var held bool
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE outbox SET state = 'sent', sent_at = ?, payload = '', last_error = NULL,
			lease_owner = NULL, lease_id = NULL, lease_until = NULL
			WHERE id = ? AND state = 'pending' AND lease_id = ?`,
			tx.Now(), l.ID, l.LeaseID)
		if err != nil {
			return fmt.Errorf("mark outbox row sent: %w", err)
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}

// OutboxFailure is the outcome of a failed attempt.
type OutboxFailure struct {
	Error      string        // what went wrong, for the operator
	RetryIn    time.Duration // wait before the next attempt
	DeadLetter bool          // give up: move the row to the dead-letter list
}

// maxErrorLength bounds the stored error text.
const maxErrorLength = 2000

// FailOutbox records a failed attempt: the row is due again after RetryIn,
// or dead. Like MarkOutboxSent it reports false if the lease was lost.
func (db *DB) FailOutbox(ctx context.Context, l OutboxLease, f OutboxFailure) (bool, error) {
	msg := f.Error
	if len(msg) > maxErrorLength {
		msg = msg[:maxErrorLength]
	}
	msg = strings.ToValidUTF8(msg, "?")
	var held bool
	err := db.Write(ctx, func(tx *Tx) error {
		state, deadAt := "pending", sql.NullTime{}
		if f.DeadLetter {
			state, deadAt = "dead", sql.NullTime{Time: tx.Now(), Valid: true}
		}
		res, err := tx.exec(`UPDATE outbox SET state = ?, dead_at = ?, next_attempt_at = ?, last_error = ?,
			lease_owner = NULL, lease_id = NULL, lease_until = NULL
			WHERE id = ? AND state = 'pending' AND lease_id = ?`,
			state, deadAt, csphub.Normalize(tx.Now().Add(max(f.RetryIn, 0))), msg, l.ID, l.LeaseID)
		if err != nil {
			return fmt.Errorf("record outbox failure: %w", err)
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}

// ReleaseOutbox gives back a claimed row that was not attempted (the worker
// is stopping), so that another worker may take it at once instead of
// waiting for the lease to end. A lease already taken over is left alone.
func (db *DB) ReleaseOutbox(ctx context.Context, l OutboxLease) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(`UPDATE outbox SET next_attempt_at = ?, attempts = attempts - 1,
			lease_owner = NULL, lease_id = NULL, lease_until = NULL
			WHERE id = ? AND state = 'pending' AND lease_id = ?`,
			tx.Now(), l.ID, l.LeaseID)
		if err != nil {
			return fmt.Errorf("release outbox row: %w", err)
		}
		return nil
	})
}

// OutboxDepth counts the rows of the kind waiting for delivery (due,
// backing off or being sent): the value of the outbox depth gauge.
func (db *DB) OutboxDepth(ctx context.Context, kind string) (int64, error) {
	var n int64
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(outboxDepthQuery, kind).Scan(&n)
	})
	return n, err
}

// NextOutboxDue returns when the earliest pending row of the kind falls due
// (or its lease ends), and false when there is none.
func (db *DB) NextOutboxDue(ctx context.Context, kind string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := db.Read(ctx, func(tx *Tx) error {
		err := tx.queryRow(outboxNextDueQuery, kind).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	return t.UTC(), ok, err
}

// PurgeSentOutbox deletes rows delivered before olderThan ago, at most limit
// of them, and returns how many it deleted.
func (db *DB) PurgeSentOutbox(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(outboxPurgeQuery, csphub.Normalize(tx.Now().Add(-olderThan)), limit)
		if err != nil {
			return fmt.Errorf("purge sent outbox rows: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// OutboxEntry is one outbox row as an operator inspects it; the payload is
// left out, since it carries the message body.
type OutboxEntry struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"org_id,omitempty"`
	Kind          string     `json:"kind"`
	MessageID     string     `json:"message_id"`
	State         string     `json:"state"` // pending, sent or dead
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LeaseOwner    string     `json:"lease_owner,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	DeadAt        *time.Time `json:"dead_at,omitempty"`
}

// OutboxEntry returns one outbox row.
func (tx *Tx) OutboxEntry(id string) (OutboxEntry, error) {
	var e OutboxEntry
	if !csphub.ValidID(id) {
		return e, csphub.NotFound("outbox_message")
	}
	var org, owner, lastErr sql.NullString
	var sent, dead sql.NullTime
	err := tx.queryRow(`SELECT id, org_id, kind, message_id, state, attempts, next_attempt_at, lease_owner,
		last_error, created_at, sent_at, dead_at FROM outbox WHERE id = ?`, id).
		Scan(&e.ID, &org, &e.Kind, &e.MessageID, &e.State, &e.Attempts, &e.NextAttemptAt, &owner,
			&lastErr, &e.CreatedAt, &sent, &dead)
	if errors.Is(err, sql.ErrNoRows) {
		return e, csphub.NotFound("outbox_message")
	}
	if err != nil {
		return e, fmt.Errorf("read outbox row: %w", err)
	}
	e.OrgID, e.LeaseOwner, e.LastError = org.String, owner.String, lastErr.String
	e.NextAttemptAt, e.CreatedAt = e.NextAttemptAt.UTC(), e.CreatedAt.UTC()
	if sent.Valid {
		t := sent.Time.UTC()
		e.SentAt = &t
	}
	if dead.Valid {
		t := dead.Time.UTC()
		e.DeadAt = &t
	}
	return e, nil
}

// DeadLetter is an outbox row delivery gave up on. For emails, To,
// Template and Subject say which message it is; the body is never listed.
type DeadLetter struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id,omitempty"`
	Kind      string    `json:"kind"`
	MessageID string    `json:"message_id"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	DeadAt    time.Time `json:"dead_at"`
	To        string    `json:"to,omitempty"`
	Template  string    `json:"template,omitempty"`
	Subject   string    `json:"subject,omitempty"`
}

// DeadLetterPage is one page of dead letters, in the order they died. Next
// is the cursor of the following page, "" after the last.
type DeadLetterPage struct {
	Items []DeadLetter `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// DeadLetters lists dead letters in the order they died, limit per page,
// after the cursor of the previous page ("" for the first). Paging by the
// time of death rather than of creation means a row that dies after an
// operator read a page lands after their cursor, on a page still to come.
func (tx *Tx) DeadLetters(after string, limit int) (DeadLetterPage, error) {
	limit = pageLimit(limit)
	pos, err := parseCursor(after)
	if err != nil {
		return DeadLetterPage{}, err
	}
	q, args := deadLettersQuery(pos, limit+1)
	rows, err := tx.query(q, args...)
	if err != nil {
		return DeadLetterPage{}, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	var page DeadLetterPage
	for rows.Next() {
		var d DeadLetter
		var org, lastErr sql.NullString
		var payload string
		if err := rows.Scan(&d.ID, &org, &d.Kind, &d.MessageID, &d.Attempts, &lastErr, &d.CreatedAt, &d.DeadAt, &payload); err != nil {
			return DeadLetterPage{}, err
		}
		d.OrgID, d.LastError, d.CreatedAt, d.DeadAt = org.String, lastErr.String, d.CreatedAt.UTC(), d.DeadAt.UTC()
		if d.Kind == OutboxEmail {
			var e Email
			if json.Unmarshal([]byte(payload), &e) == nil {
				d.To, d.Template, d.Subject = e.To, e.Template, e.Subject
			}
		}
		page.Items = append(page.Items, d)
	}
	if err := rows.Err(); err != nil {
		return DeadLetterPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = formatCursor(last.DeadAt, last.ID)
	}
	return page, nil
}

func deadLettersQuery(after cursor, limit int) (string, []any) {
	q := `SELECT id, org_id, kind, message_id, attempts, last_error, created_at, dead_at, payload FROM outbox WHERE state = 'dead'`
	var args []any
	if after.ok {
		q += ` AND (dead_at, id) > (?, ?)`
		args = append(args, after.at, after.id)
	}
	return q + ` ORDER BY dead_at, id LIMIT ?`, append(args, limit)
}

// RetryDeadLetter puts a dead letter back in the queue with a fresh count of
// attempts, due now (an operator fixed the cause). A row that is not dead is
// not found. Resetting attempts is safe because leases are fenced by their
// lease id, never by the attempt count.
func (tx *Tx) RetryDeadLetter(id string) error {
	if !csphub.ValidID(id) {
		return csphub.NotFound("dead_letter")
	}
	var kind string
	err := tx.queryRow(`SELECT kind FROM outbox WHERE id = ? AND state = 'dead'`+tx.db.dialect.lockClause(), id).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return csphub.NotFound("dead_letter")
	}
	if err != nil {
		return fmt.Errorf("read dead letter: %w", err)
	}
	if _, err := tx.exec(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, dead_at = NULL,
		lease_owner = NULL, lease_id = NULL, lease_until = NULL WHERE id = ? AND state = 'dead'`, tx.Now(), id); err != nil {
		return fmt.Errorf("retry dead letter: %w", err)
	}
	tx.AfterCommit(func() { tx.db.outboxWake.notify(kind) })
	return nil
}
