// Package outbox delivers what use cases wrote to the transactional outbox.
// Its Worker claims due emails with a lease, hands them to a mail.Sender and
// records the outcome; any number of workers, in any number of processes,
// may run against one database.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"time"

	"csphub"
	"csphub/internal/mail"
	"csphub/internal/store"
)

// Config tunes a worker. Zero values take the defaults shown.
type Config struct {
	DB     *store.DB
	Sender mail.Sender
	// Owner names this worker in leases; default host-pid-random. Two live
	// workers must never share one.
	Owner string
	// Lease is how long a claimed message is this worker's (default 1m).
	Lease time.Duration
	// SendTimeout bounds one delivery (default Lease/2, at most Lease/2).
	SendTimeout time.Duration
	// RecordMargin is the time kept, after the longest send, to record its
	// outcome before the lease ends, and to absorb clock differences
	// between nodes (default Lease/6, at most Lease/4). A message is only
	// sent while now + SendTimeout + RecordMargin is within its lease, so
	// no other worker can take it over while it is being sent or recorded.
	RecordMargin time.Duration
	BatchSize    int // messages claimed at once (default 10)
	// MaxAttempts before a message goes to the dead-letter list (default 12).
	MaxAttempts int
	// BackoffBase is the delay after the first failure (default 10s); it
	// doubles at each attempt up to BackoffMax (default 1h), with jitter.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// PollInterval: how often to look for due messages when not woken by a
	// commit in this process (default 2s).
	PollInterval time.Duration
	// Retention: how long delivered rows are kept before being purged
	// (default 7 days); checked every hour of the clock.
	Retention time.Duration
	Clock     csphub.Clock // default: the database's
	Logger    *slog.Logger
}

// Worker delivers emails from the outbox.
type Worker struct {
	c         Config
	log       *slog.Logger
	lastPurge time.Time
}

// New checks the configuration and returns a worker.
func New(c Config) (*Worker, error) {
	if c.DB == nil || c.Sender == nil {
		return nil, errors.New("outbox worker: a database and a sender are required")
	}
	if c.Owner == "" {
		c.Owner = defaultOwner()
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = c.Lease / 2
	}
	if c.RecordMargin == 0 {
		c.RecordMargin = c.Lease / 6
	}
	if c.BatchSize == 0 {
		c.BatchSize = 10
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 12
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 10 * time.Second
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = time.Hour
	}
	if c.PollInterval == 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.Retention == 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.Clock == nil {
		c.Clock = c.DB.Clock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Lease < time.Second:
		return nil, errors.New("outbox worker: the lease must be at least 1s")
	case c.SendTimeout <= 0 || c.SendTimeout > c.Lease/2:
		return nil, errors.New("outbox worker: the send timeout must be positive and at most half the lease")
	case c.RecordMargin <= 0 || c.RecordMargin > c.Lease/4:
		return nil, errors.New("outbox worker: the record margin must be positive and at most a quarter of the lease")
	case c.BatchSize < 1 || c.MaxAttempts < 1:
		return nil, errors.New("outbox worker: batch size and max attempts must be at least 1")
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return nil, errors.New("outbox worker: the back-off base must be positive and no larger than its maximum")
	case c.PollInterval <= 0 || c.Retention < 0:
		return nil, errors.New("outbox worker: the poll interval must be positive and the retention not negative")
	}
	return &Worker{c: c, log: c.Logger.With("worker", c.Owner)}, nil
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner is the name this worker leases messages under.
func (w *Worker) Owner() string { return w.c.Owner }

// Run delivers messages until ctx is cancelled, then returns nil. It works
// through due messages batch after batch, then waits for a commit in this
// process, the next message falling due, or the poll interval. The message
// being sent when ctx is cancelled is finished and recorded (the SMTP
// sender gives up on cancellation only before the message goes out; a
// message it gave up on is due again at once); the rest of its batch is
// handed back at once.
func (w *Worker) Run(ctx context.Context) error {
	wake := w.c.DB.OutboxWake(store.OutboxEmail)
	w.log.Info("outbox worker started", "batch", w.c.BatchSize, "lease", w.c.Lease, "poll", w.c.PollInterval)
	defer w.log.Info("outbox worker stopped")
	for {
		res, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.log.Error("outbox worker: batch failed", "error", err)
		} else if res.Claimed == w.c.BatchSize {
			continue // more may be due
		}
		w.purge(ctx)
		t := time.NewTimer(w.idle(ctx, err != nil))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// idle is how long to wait for work: the poll interval, or less if a
// message falls due sooner.
func (w *Worker) idle(ctx context.Context, failed bool) time.Duration {
	wait := w.c.PollInterval
	if failed {
		return wait
	}
	next, ok, err := w.c.DB.NextOutboxDue(ctx, store.OutboxEmail)
	if err == nil && ok {
		// A floor, so that a row due "now" that some other worker holds
		// does not make this one spin.
		wait = min(wait, max(next.Sub(w.c.Clock.Now()), min(wait, 50*time.Millisecond)))
	}
	return wait
}

func (w *Worker) purge(ctx context.Context) {
	now := w.c.Clock.Now()
	if now.Sub(w.lastPurge) < time.Hour {
		return
	}
	w.lastPurge = now
	// In batches, so that no transaction holds the writer for long.
	const batch = 1000
	var total int64
	for range 100 {
		n, err := w.c.DB.PurgeSentOutbox(ctx, w.c.Retention, batch)
		if err != nil {
			w.log.Error("outbox worker: purge delivered messages", "error", err)
			break
		}
		total += n
		if n < batch {
			break
		}
	}
	if total > 0 {
		w.log.Info("outbox worker: purged delivered messages", "count", total)
	}
}

// Result counts what one batch did.
type Result struct {
	Claimed  int // messages leased to this worker
	Sent     int // accepted by the sender and recorded
	Retrying int // failed, due again after a back-off
	Dead     int // failed for the last time: now dead letters
	Lost     int // lease taken over before the outcome was recorded
	Released int // handed back unsent (shutdown, or a lease too short to send)
}

// RunOnce claims one batch of due messages and delivers it.
func (w *Worker) RunOnce(ctx context.Context) (Result, error) {
	var res Result
	msgs, err := w.c.DB.ClaimOutbox(ctx, store.OutboxClaim{
		Kind: store.OutboxEmail, Owner: w.c.Owner, Lease: w.c.Lease,
		Limit: w.c.BatchSize, MaxAttempts: w.c.MaxAttempts,
	})
	if err != nil {
		return res, err
	}
	res.Claimed = len(msgs)
	for _, m := range msgs {
		// A stopping worker, or one whose lease could end before the send
		// and its recording are over (another worker could then send too),
		// hands the message back unsent.
		if ctx.Err() != nil || w.c.Clock.Now().Add(w.c.SendTimeout+w.c.RecordMargin).After(m.Until) {
			w.release(m.OutboxLease)
			res.Released++
			continue
		}
		w.deliver(ctx, m, &res)
	}
	return res, nil
}

// deliver sends one message and records the outcome. The outcome is
// recorded even if ctx was cancelled meanwhile: the message may have been
// accepted, and forgetting that would send it again.
func (w *Worker) deliver(ctx context.Context, m store.OutboxMessage, res *Result) {
	log := w.log.With("outbox_id", m.ID, "message_id", m.MessageID, "attempt", m.Attempt)
	record, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	e, err := m.Email()
	undecodable := err != nil
	if err == nil {
		log = log.With("to", e.To, "template", e.Template)
		send, cancelSend := context.WithTimeout(ctx, w.c.SendTimeout)
		err = w.c.Sender.Send(send, mail.Outgoing{OutboxID: m.ID, MessageID: m.MessageID, Email: e})
		cancelSend()
	}
	var held bool
	var recErr error
	switch {
	case err == nil:
		held, recErr = w.c.DB.MarkOutboxSent(record, m.OutboxLease)
		if held {
			res.Sent++
			log.Info("email delivered")
		}
	default:
		// An undecodable payload never improves; anything else is retried
		// until the attempts run out.
		dead := m.Attempt >= w.c.MaxAttempts || undecodable
		f := store.OutboxFailure{Error: err.Error(), DeadLetter: dead, RetryIn: backoff(m.Attempt, w.c.BackoffBase, w.c.BackoffMax, mathrand.Int64N)}
		if ctx.Err() != nil && !dead {
			f.RetryIn = 0 // interrupted by shutdown: due again at once, for another worker
		}
		held, recErr = w.c.DB.FailOutbox(record, m.OutboxLease, f)
		switch {
		case held && dead:
			res.Dead++
			log.Error("email delivery failed for the last time; moved to the dead-letter list",
				"error", err, "permanent", mail.IsPermanent(err))
		case held:
			res.Retrying++
			log.Warn("email delivery failed; will retry", "error", err, "permanent", mail.IsPermanent(err), "retry_in", f.RetryIn)
		}
	}
	if recErr != nil {
		// The lease will end and the message be sent again: at least once.
		log.Error("outbox worker: could not record the delivery outcome", "error", recErr, "delivered", err == nil)
		return
	}
	if !held {
		res.Lost++
		log.Warn("outbox worker: the lease was taken over before the outcome was recorded; the message may be sent twice")
	}
}

func (w *Worker) release(l store.OutboxLease) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.c.DB.ReleaseOutbox(ctx, l); err != nil {
		w.log.Error("outbox worker: could not hand a message back; it will be retried after its lease", "outbox_id", l.ID, "error", err)
	}
}

// backoff is the wait after the attempt-th failure: base doubled at each
// attempt, capped at max, of which a random half is taken off ("equal
// jitter") so that messages failing together do not retry together, while
// the wait still grows.
func backoff(attempt int, base, maxDelay time.Duration, randN func(int64) int64) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	half := d / 2
	return d - half + time.Duration(randN(int64(half)+1))
}
