package outbox

import (
	"context"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"csphub"
	"csphub/internal/mail"
	"csphub/internal/mail/smtptest"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

const waitLimit = 20 * time.Second

// openDBs opens n store handles (n nodes) on one fresh, migrated database
// of the engine, sharing one manual clock.
func openDBs(t *testing.T, engine string, clock csphub.Clock, n int) []*store.DB {
	t.Helper()
	ctx := context.Background()
	opts := testdb.OptionsFor(t, engine)
	opts.Clock, opts.MessageIDHost = clock, "mail.example.test"
	var dbs []*store.DB
	for range n {
		db, err := store.Open(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	if _, err := dbs[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return dbs
}

func smtpSender(t *testing.T, srv *smtptest.Server) *mail.SMTPSender {
	t.Helper()
	s, err := mail.NewSMTPSender(mail.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone,
		From: "noreply@example.com", FromName: "csphub", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newWorker(t *testing.T, db *store.DB, owner string, sender mail.Sender, change func(*Config)) *Worker {
	t.Helper()
	c := Config{DB: db, Sender: sender, Owner: owner, Lease: time.Minute, BatchSize: 10, MaxAttempts: 5,
		BackoffBase: 10 * time.Second, BackoffMax: time.Minute, PollInterval: time.Hour}
	if change != nil {
		change(&c)
	}
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// start runs the worker until the returned stop is called; stop fails the
// test if the worker does not return promptly.
func start(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("worker %s: %v", w.Owner(), err)
				}
			case <-time.After(waitLimit):
				t.Errorf("worker %s did not stop", w.Owner())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// enqueue commits (or, with rollback, rolls back) a use case that sends an
// SMTPTest message to addr.
func enqueue(t *testing.T, db *store.DB, addr string, rollback bool) store.OutboxRef {
	t.Helper()
	var ref store.OutboxRef
	failed := errors.New("the use case failed")
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		var err error
		ref, err = mail.Enqueue(tx, "", mail.SMTPTest{
			To:     mail.Recipient{Address: addr, Lang: mail.English},
			Server: "smtp.example.test:25", RequestedBy: "ops@example.com", RequestedAt: tx.Now(),
		})
		if err != nil {
			return err
		}
		if rollback {
			return failed
		}
		return nil
	})
	if rollback && !errors.Is(err, failed) || !rollback && err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return ref
}

func entry(t *testing.T, db *store.DB, id string) store.OutboxEntry {
	t.Helper()
	var e store.OutboxEntry
	if err := db.Read(context.Background(), func(tx *store.Tx) (err error) { e, err = tx.OutboxEntry(id); return }); err != nil {
		t.Fatal(err)
	}
	return e
}

func runOnce(t *testing.T, w *Worker) Result {
	t.Helper()
	res, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func recipients(msgs []smtptest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, strings.Join(m.To, ","))
	}
	return out
}

// F1: a rolled-back use case sends nothing; a committed one sends exactly
// one message, and its commit wakes the worker (the poll interval is an
// hour, so nothing else would).
func TestWorkerDeliversOnlyCommittedMessages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := openDBs(t, engine, csphub.NewManualClock(t0), 1)[0]
		srv := smtptest.Start(t, smtptest.Options{})
		stop := start(t, newWorker(t, db, "w1", smtpSender(t, srv), nil))

		enqueue(t, db, "rolled-back@example.com", true)
		first := enqueue(t, db, "first@example.com", false)
		srv.WaitFor(1, waitLimit)
		// The worker is now past its claim of the first message: only the
		// wake-up of the next commit can make it look again within the hour.
		second := enqueue(t, db, "second@example.com", false)
		srv.WaitFor(2, waitLimit)
		stop()

		got := srv.Messages()
		if len(got) != 2 || got[0].MessageID != first.MessageID || got[1].MessageID != second.MessageID {
			t.Fatalf("received %v, want exactly the two committed messages", recipients(got))
		}
		for _, ref := range []store.OutboxRef{first, second} {
			if e := entry(t, db, ref.ID); e.State != "sent" || e.Attempts != 1 {
				t.Errorf("entry %+v, want sent at the first attempt", e)
			}
		}
		if n, _ := db.OutboxDepth(context.Background(), store.OutboxEmail); n != 0 {
			t.Fatalf("depth %d", n)
		}
	})
}

// dieAfterDelivery delivers through the real sender and then hangs, as a
// worker process killed after the SMTP server's 250 and before recording
// it would: the outcome is never recorded until resume is closed.
type dieAfterDelivery struct {
	inner     mail.Sender
	delivered chan struct{}
	resume    chan struct{}
}

func (d *dieAfterDelivery) Send(ctx context.Context, m mail.Outgoing) error {
	err := d.inner.Send(ctx, m)
	close(d.delivered)
	<-d.resume
	return err
}

// F2: a worker that dies between the SMTP 250 and marking the message sent
// does not lose it: once its lease ends another worker sends it again, with
// the same Message-ID. The dead worker, should it come back, cannot
// overwrite the outcome.
func TestWorkerKilledAfterDeliveryIsFollowedByARedeliveryWithTheSameMessageID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		dbs := openDBs(t, engine, clock, 2)
		srv := smtptest.Start(t, smtptest.Options{})
		dying := &dieAfterDelivery{inner: smtpSender(t, srv), delivered: make(chan struct{}), resume: make(chan struct{})}
		a := newWorker(t, dbs[0], "node-a", dying, nil)
		b := newWorker(t, dbs[1], "node-b", smtpSender(t, srv), nil)
		ref := enqueue(t, dbs[0], "jane@example.com", false)

		aDone := make(chan Result, 1)
		go func() { res, _ := a.RunOnce(context.Background()); aDone <- res }()
		t.Cleanup(func() {
			select {
			case <-dying.resume:
			default:
				close(dying.resume)
			}
		})
		select {
		case <-dying.delivered:
		case <-time.After(waitLimit):
			t.Fatal("worker a did not deliver")
		}
		if got := srv.Messages(); len(got) != 1 || got[0].MessageID != ref.MessageID {
			t.Fatalf("after the first delivery the server has %v", recipients(got))
		}

		if res := runOnce(t, b); res.Claimed != 0 {
			t.Fatalf("worker b took a message still under lease: %+v", res)
		}
		clock.Advance(time.Minute + time.Second) // a's lease ends
		if res := runOnce(t, b); res.Sent != 1 {
			t.Fatalf("worker b after the lease: %+v, want one message sent", res)
		}
		got := srv.Messages()
		if len(got) != 2 || got[0].MessageID != ref.MessageID || got[1].MessageID != ref.MessageID {
			t.Fatalf("received %d messages with ids %q, %q; want two copies of %s", len(got), got[0].MessageID, got[len(got)-1].MessageID, ref.MessageID)
		}
		if e := entry(t, dbs[1], ref.ID); e.State != "sent" || e.Attempts != 2 {
			t.Fatalf("entry %+v, want sent at attempt 2", e)
		}

		close(dying.resume) // the dead worker comes back
		if res := <-aDone; res.Sent != 0 || res.Lost != 1 {
			t.Fatalf("worker a recorded %+v, want its lease lost", res)
		}
		if e := entry(t, dbs[0], ref.ID); e.State != "sent" || e.Attempts != 2 || len(srv.Messages()) != 2 {
			t.Fatalf("after a came back: %+v, %d messages", e, len(srv.Messages()))
		}
	})
}

// F3: while the SMTP server is down the message is retried with growing,
// jittered delays and nothing is claimed before it is due; once the server
// is back the message is delivered, once, with its Message-ID.
func TestWorkerRetriesWithBackoffWhileTheServerIsDown(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		db := openDBs(t, engine, clock, 1)[0]
		srv := smtptest.Start(t, smtptest.Options{})
		w := newWorker(t, db, "w", smtpSender(t, srv), func(c *Config) { c.MaxAttempts = 10 })
		srv.Stop()
		ref := enqueue(t, db, "jane@example.com", false)

		base := 10 * time.Second
		for attempt := 1; attempt <= 4; attempt++ {
			if res := runOnce(t, w); res.Retrying != 1 {
				t.Fatalf("attempt %d with the server down: %+v", attempt, res)
			}
			e := entry(t, db, ref.ID)
			full := min(base<<(attempt-1), time.Minute)
			wait := e.NextAttemptAt.Sub(clock.Now())
			if e.State != "pending" || e.Attempts != attempt || wait < full/2 || wait > full || e.LastError == "" {
				t.Fatalf("attempt %d: %+v, waits %v, want between %v and %v", attempt, e, wait, full/2, full)
			}
			clock.Advance(wait - time.Millisecond)
			if res := runOnce(t, w); res.Claimed != 0 {
				t.Fatalf("attempt %d: claimed %v before the back-off ended", attempt, time.Millisecond)
			}
			clock.Advance(time.Millisecond)
		}
		srv.Restart()
		if res := runOnce(t, w); res.Sent != 1 {
			t.Fatalf("after the server came back: %+v", res)
		}
		got := srv.Messages()
		if len(got) != 1 || got[0].MessageID != ref.MessageID {
			t.Fatalf("received %v, want the one message", recipients(got))
		}
		if e := entry(t, db, ref.ID); e.State != "sent" || e.Attempts != 5 {
			t.Fatalf("entry %+v", e)
		}
	})
}

// F3: a message the server refuses for good ends in the dead-letter list
// after the allowed attempts, without holding up the others; an operator
// can retry it once the cause is fixed.
func TestWorkerDeadLettersAPoisonMessageThatAnOperatorCanRetry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(t0)
		db := openDBs(t, engine, clock, 1)[0]
		srv := smtptest.Start(t, smtptest.Options{})
		srv.RejectRecipient("poison@example.com", 550)
		w := newWorker(t, db, "w", smtpSender(t, srv), func(c *Config) { c.MaxAttempts = 3 })
		poison := enqueue(t, db, "poison@example.com", false)
		good := enqueue(t, db, "good@example.com", false)

		if res := runOnce(t, w); res.Sent != 1 || res.Retrying != 1 {
			t.Fatalf("first batch: %+v", res)
		}
		for attempt := 2; attempt <= 3; attempt++ {
			clock.Set(entry(t, db, poison.ID).NextAttemptAt)
			res := runOnce(t, w)
			if attempt < 3 && res.Retrying != 1 || attempt == 3 && res.Dead != 1 {
				t.Fatalf("attempt %d: %+v", attempt, res)
			}
		}
		e := entry(t, db, poison.ID)
		if e.State != "dead" || e.Attempts != 3 || !strings.Contains(e.LastError, "550") {
			t.Fatalf("poison entry %+v", e)
		}
		var page store.DeadLetterPage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.DeadLetters("", 10); return }); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].ID != poison.ID || page.Items[0].To != "poison@example.com" {
			t.Fatalf("dead letters %+v", page.Items)
		}
		clock.Advance(24 * time.Hour)
		if res := runOnce(t, w); res.Claimed != 0 {
			t.Fatalf("a dead letter was attempted again: %+v", res)
		}
		if got := srv.Messages(); len(got) != 1 || got[0].MessageID != good.MessageID {
			t.Fatalf("received %v, want only the good message", recipients(got))
		}

		srv.RejectRecipient("poison@example.com", 0) // the operator fixed the mailbox
		if err := db.Write(ctx, func(tx *store.Tx) error { return tx.RetryDeadLetter(poison.ID) }); err != nil {
			t.Fatal(err)
		}
		if res := runOnce(t, w); res.Sent != 1 {
			t.Fatalf("after the retry: %+v", res)
		}
		if got := srv.Messages(); len(got) != 2 || got[1].MessageID != poison.MessageID {
			t.Fatalf("received %v", recipients(got))
		}
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.DeadLetters("", 10); return }); err != nil || len(page.Items) != 0 {
			t.Fatalf("dead letters after the retry: %+v %v", page.Items, err)
		}
	})
}

type countingSender struct {
	inner mail.Sender
	n     atomic.Int64
}

func (c *countingSender) Send(ctx context.Context, m mail.Outgoing) error {
	err := c.inner.Send(ctx, m)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

// Two workers, each on its own store handle (two nodes) on one database,
// deliver every message exactly once.
func TestTwoWorkersOnOneDatabaseDeliverEachMessageOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		dbs := openDBs(t, engine, clock, 2)
		srv := smtptest.Start(t, smtptest.Options{})
		var senders []*countingSender
		var stops []func()
		for i, db := range dbs {
			s := &countingSender{inner: smtpSender(t, srv)}
			senders = append(senders, s)
			stops = append(stops, start(t, newWorker(t, db, fmt.Sprintf("node-%d", i), s, func(c *Config) {
				c.BatchSize, c.PollInterval = 3, 20*time.Millisecond
			})))
		}
		const n = 40
		want := map[string]bool{}
		for i := range n {
			want[enqueue(t, dbs[i%2], fmt.Sprintf("user%d@example.com", i), false).MessageID] = true
		}
		srv.WaitFor(n, waitLimit)
		deadline := time.Now().Add(waitLimit)
		for {
			d, err := dbs[0].OutboxDepth(context.Background(), store.OutboxEmail)
			if err != nil {
				t.Fatal(err)
			}
			if d == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d messages still pending", d)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, stop := range stops {
			stop()
		}
		seen := map[string]int{}
		for _, m := range srv.Messages() {
			seen[m.MessageID]++
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("message %s received %d times", id, seen[id])
			}
		}
		if len(srv.Messages()) != n {
			t.Fatalf("received %d messages, want %d", len(srv.Messages()), n)
		}
		t.Logf("node-0 sent %d, node-1 sent %d", senders[0].n.Load(), senders[1].n.Load())
	})
}

// blockUntilStopped accepts the first message only when the worker is being
// stopped, as a slow server would.
type blockUntilStopped struct {
	inner   mail.Sender
	sending chan struct{}
	once    sync.Once
}

func (b *blockUntilStopped) Send(ctx context.Context, m mail.Outgoing) error {
	b.once.Do(func() {
		close(b.sending)
		<-ctx.Done()
	})
	return b.inner.Send(context.WithoutCancel(ctx), m)
}

// Stopping a worker finishes and records the message being sent and hands
// the rest of its batch back at once, unattempted, to other workers.
func TestWorkerStopsCleanlyAndHandsBackItsBatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		db := openDBs(t, engine, clock, 1)[0]
		srv := smtptest.Start(t, smtptest.Options{})
		var refs []store.OutboxRef
		for i := range 4 {
			refs = append(refs, enqueue(t, db, fmt.Sprintf("user%d@example.com", i), false))
		}
		slow := &blockUntilStopped{inner: smtpSender(t, srv), sending: make(chan struct{})}
		stop := start(t, newWorker(t, db, "stopping", slow, nil))
		select {
		case <-slow.sending:
		case <-time.After(waitLimit):
			t.Fatal("the worker did not start sending")
		}
		stop()

		if e := entry(t, db, refs[0].ID); e.State != "sent" {
			t.Fatalf("the message in flight at stop: %+v, want sent and recorded", e)
		}
		for _, ref := range refs[1:] {
			if e := entry(t, db, ref.ID); e.State != "pending" || e.Attempts != 0 || e.LeaseOwner != "" || !e.NextAttemptAt.Equal(t0) {
				t.Fatalf("a message not yet sent at stop: %+v, want handed back", e)
			}
		}
		other := newWorker(t, db, "other", smtpSender(t, srv), nil)
		if res := runOnce(t, other); res.Sent != 3 {
			t.Fatalf("another worker took %+v, want the 3 handed back at once", res)
		}
		if got := srv.Messages(); len(got) != 4 {
			t.Fatalf("received %d messages, want 4", len(got))
		}
	})
}

// The mailbox sender stands in for SMTP end to end.
func TestWorkerDeliversIntoTheLocalMailbox(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := openDBs(t, engine, csphub.NewManualClock(t0), 1)[0]
		box, err := mail.NewMailboxSender(db, "noreply@example.com", "csphub", nil)
		if err != nil {
			t.Fatal(err)
		}
		ref := enqueue(t, db, "jane@example.com", false)
		if res := runOnce(t, newWorker(t, db, "w", box, nil)); res.Sent != 1 {
			t.Fatalf("%+v", res)
		}
		var page store.MailboxPage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) {
			page, err = tx.Mailbox(store.MailboxFilter{To: "jane@example.com"})
			return
		}); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].MessageID != ref.MessageID || page.Items[0].Subject != "csphub mail settings test" {
			t.Fatalf("mailbox %+v", page.Items)
		}
	})
}

func TestBackoffGrowsIsCappedAndJittered(t *testing.T) {
	base, capped := 10*time.Second, time.Minute
	lowest := func(int64) int64 { return 0 }
	highest := func(n int64) int64 { return n - 1 }
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 30: time.Minute} {
		lo, hi := backoff(attempt, base, capped, lowest), backoff(attempt, base, capped, highest)
		if lo != want-want/2 || hi != want {
			t.Errorf("attempt %d: between %v and %v, want between %v and %v", attempt, lo, hi, want/2, want)
		}
	}
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[backoff(3, base, capped, mathrand.Int64N)] = true
	}
	if len(seen) < 2 {
		t.Fatal("no jitter")
	}
}

func TestNewRefusesUnsafeSettings(t *testing.T) {
	db := testdb.Open(t, "sqlite", nil)
	sender := &countingSender{}
	for name, c := range map[string]Config{
		"no database":                 {Sender: sender},
		"no sender":                   {DB: db},
		"send longer than half lease": {DB: db, Sender: sender, Lease: time.Minute, SendTimeout: 40 * time.Second},
		"backoff base above max":      {DB: db, Sender: sender, BackoffBase: time.Hour, BackoffMax: time.Minute},
		"short lease":                 {DB: db, Sender: sender, Lease: time.Millisecond},
		"no time to record":           {DB: db, Sender: sender, Lease: time.Minute, RecordMargin: 20 * time.Second},
		"negative record margin":      {DB: db, Sender: sender, RecordMargin: -time.Second},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	w, err := New(Config{DB: db, Sender: sender})
	if err != nil || w.Owner() == "" || w.c.SendTimeout != 30*time.Second || w.c.RecordMargin != 10*time.Second {
		t.Fatalf("defaults: %+v %v", w, err)
	}
}

// slowSender delivers, and meanwhile the clock moves on by took.
type slowSender struct {
	inner mail.Sender
	clock *csphub.ManualClock
	took  time.Duration
}

func (s *slowSender) Send(ctx context.Context, m mail.Outgoing) error {
	s.clock.Advance(s.took)
	return s.inner.Send(ctx, m)
}

// A message is sent only if, once the longest send is over, time remains in
// its lease to record the outcome: otherwise another worker could take the
// message over while this one is still recording it, and send it again.
func TestWorkerKeepsTimeToRecordBeforeTheLeaseEnds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		db := openDBs(t, engine, clock, 1)[0]
		srv := smtptest.Start(t, smtptest.Options{})
		first := enqueue(t, db, "first@example.com", false)
		second := enqueue(t, db, "second@example.com", false)
		// Lease 1m, sends of up to 30s, 10s to record: after a first send of
		// 25s, a second one could end at 55s and be recorded after the lease.
		slow := &slowSender{inner: smtpSender(t, srv), clock: clock, took: 25 * time.Second}
		w := newWorker(t, db, "w", slow, func(c *Config) { c.SendTimeout, c.RecordMargin = 30*time.Second, 10*time.Second })
		if res := runOnce(t, w); res.Claimed != 2 || res.Sent != 1 || res.Released != 1 {
			t.Fatalf("batch %+v, want the first sent and the second handed back", res)
		}
		if e := entry(t, db, first.ID); e.State != "sent" {
			t.Fatalf("first %+v", e)
		}
		if e := entry(t, db, second.ID); e.State != "pending" || e.Attempts != 0 || e.LeaseOwner != "" || !e.NextAttemptAt.Equal(clock.Now()) {
			t.Fatalf("second %+v, want handed back unattempted", e)
		}
		if got := srv.Messages(); len(got) != 1 || got[0].MessageID != first.MessageID {
			t.Fatalf("received %v", recipients(got))
		}
	})
}

// A server that hangs after taking a message cannot hold the worker past
// the send timeout: the SMTP session is cut, the attempt recorded as a
// temporary failure well within the lease, and the message retried later.
func TestWorkerCutsASendThatWouldOutliveItsLease(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(t0)
		db := openDBs(t, engine, clock, 1)[0]
		srv := smtptest.Start(t, smtptest.Options{})
		release := srv.StallData()
		defer release()
		ref := enqueue(t, db, "jane@example.com", false)
		// The SMTP sender's own timeout is 5s; the lease is 2s.
		w := newWorker(t, db, "w", smtpSender(t, srv), func(c *Config) { c.Lease, c.SendTimeout = 2*time.Second, 300*time.Millisecond })
		began := time.Now()
		res := runOnce(t, w)
		if took := time.Since(began); took > 1500*time.Millisecond {
			t.Fatalf("the batch took %v, beyond the send timeout and towards the lease's end", took)
		}
		if res.Retrying != 1 {
			t.Fatalf("batch %+v, want one retry", res)
		}
		e := entry(t, db, ref.ID)
		if e.State != "pending" || e.Attempts != 1 || e.LeaseOwner != "" || !strings.Contains(e.LastError, "deadline") {
			t.Fatalf("entry %+v, want a recorded failure", e)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages accepted", n)
		}
	})
}
