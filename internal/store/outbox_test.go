package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

var outboxT0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

const outboxLease = time.Minute

// openOutboxDB opens a fresh migrated database whose Message-IDs end in
// @mail.example.test.
func openOutboxDB(t *testing.T, engine string, clock csphub.Clock) *store.DB {
	t.Helper()
	opts := testdb.OptionsFor(t, engine)
	opts.Clock, opts.MessageIDHost = clock, "mail.example.test"
	ctx := context.Background()
	db, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func outboxEmail(to string) store.Email {
	return store.Email{To: to, ToName: "Jane", Lang: "en", Template: "smtp_test",
		Subject: "Hello " + to, Text: "text body", HTML: "<p>html body</p>"}
}

func enqueueOutbox(t *testing.T, db *store.DB, e store.Email) store.OutboxRef {
	t.Helper()
	var ref store.OutboxRef
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		var err error
		ref, err = tx.EnqueueEmail("", e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func claimOutbox(t *testing.T, db *store.DB, owner string, limit, maxAttempts int) []store.OutboxMessage {
	t.Helper()
	msgs, err := db.ClaimOutbox(context.Background(), store.OutboxClaim{
		Kind: store.OutboxEmail, Owner: owner, Lease: outboxLease, Limit: limit, MaxAttempts: maxAttempts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func outboxEntry(t *testing.T, db *store.DB, id string) store.OutboxEntry {
	t.Helper()
	var e store.OutboxEntry
	err := db.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		e, err = tx.OutboxEntry(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func outboxDepth(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.OutboxDepth(context.Background(), store.OutboxEmail)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func woken(db *store.DB) bool {
	select {
	case <-db.OutboxWake(store.OutboxEmail):
		return true
	default:
		return false
	}
}

// F1 at the store: the outbox row exists if and only if the transaction
// that wrote it committed, and only a commit wakes the worker.
func TestOutboxEnqueueIsPartOfTheTransaction(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)

		boom := errors.New("the use case failed after enqueueing")
		err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.EnqueueEmail("", outboxEmail("rolled-back@example.com")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("write: %v", err)
		}
		if woken(db) {
			t.Fatal("a rolled-back transaction woke the worker")
		}
		if n := outboxDepth(t, db); n != 0 {
			t.Fatalf("depth after rollback = %d, want 0", n)
		}
		if got := claimOutbox(t, db, "w1", 10, 5); len(got) != 0 {
			t.Fatalf("claimed %d messages of a rolled-back transaction", len(got))
		}

		want := outboxEmail("committed@example.com")
		ref := enqueueOutbox(t, db, want)
		if !woken(db) {
			t.Fatal("a commit did not wake the worker")
		}
		if ref.MessageID != "<"+ref.ID+"@mail.example.test>" {
			t.Fatalf("message id %q, want <%s@mail.example.test>", ref.MessageID, ref.ID)
		}
		if n := outboxDepth(t, db); n != 1 {
			t.Fatalf("depth = %d, want 1", n)
		}
		next, ok, err := db.NextOutboxDue(ctx, store.OutboxEmail)
		if err != nil || !ok || !next.Equal(outboxT0) {
			t.Fatalf("next due = %v %v %v, want %v", next, ok, err, outboxT0)
		}
		msgs := claimOutbox(t, db, "w1", 10, 5)
		if len(msgs) != 1 || msgs[0].ID != ref.ID || msgs[0].MessageID != ref.MessageID || msgs[0].Attempt != 1 {
			t.Fatalf("claimed %+v, want the committed message at attempt 1", msgs)
		}
		got, err := msgs[0].Email()
		if err != nil || got != want {
			t.Fatalf("payload = %+v (%v), want %+v", got, err, want)
		}
	})
}

func TestOutboxMessageIDHostMustBeAHostName(t *testing.T) {
	for _, host := range []string{"bad host", "x\r\nBcc: a@b", "a>b", ".lead", "a..b"} {
		opts := testdb.OptionsFor(t, "sqlite")
		opts.MessageIDHost = host
		if db, err := store.Open(context.Background(), opts); err == nil {
			db.Close()
			t.Errorf("host %q accepted", host)
		}
	}
}

// F2 at the store: a claimed row is nobody else's until its lease ends;
// then another worker takes it over with the same Message-ID, and the
// first holder can no longer record an outcome.
func TestOutboxLeaseExpiresAndFencesTheOldHolder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		ref := enqueueOutbox(t, db, outboxEmail("jane@example.com"))

		first := claimOutbox(t, db, "worker-a", 10, 5)
		if len(first) != 1 || !first[0].Until.Equal(outboxT0.Add(outboxLease)) {
			t.Fatalf("first claim = %+v", first)
		}
		if got := claimOutbox(t, db, "worker-b", 10, 5); len(got) != 0 {
			t.Fatal("a leased message was claimed again")
		}
		clock.Advance(outboxLease - time.Second)
		if got := claimOutbox(t, db, "worker-b", 10, 5); len(got) != 0 {
			t.Fatal("a message was claimed again before its lease ended")
		}
		if n := outboxDepth(t, db); n != 1 {
			t.Fatalf("a leased message must still count in the depth: %d", n)
		}

		clock.Advance(2 * time.Second)
		second := claimOutbox(t, db, "worker-b", 10, 5)
		if len(second) != 1 || second[0].MessageID != ref.MessageID || second[0].Attempt != 2 {
			t.Fatalf("takeover claim = %+v, want the same message at attempt 2", second)
		}
		if held, err := db.MarkOutboxSent(ctx, first[0].OutboxLease); err != nil || held {
			t.Fatalf("the first holder marked a message it lost: %v %v", held, err)
		}
		if held, err := db.FailOutbox(ctx, first[0].OutboxLease, store.OutboxFailure{Error: "x", DeadLetter: true}); err != nil || held {
			t.Fatalf("the first holder failed a message it lost: %v %v", held, err)
		}
		if e := outboxEntry(t, db, ref.ID); e.State != "pending" || e.LeaseOwner != "worker-b" {
			t.Fatalf("entry after stale marks = %+v", e)
		}
		if held, err := db.MarkOutboxSent(ctx, second[0].OutboxLease); err != nil || !held {
			t.Fatalf("the holder could not mark its message: %v %v", held, err)
		}
		e := outboxEntry(t, db, ref.ID)
		if e.State != "sent" || e.SentAt == nil || !e.SentAt.Equal(clock.Now()) || e.Attempts != 2 || e.LeaseOwner != "" {
			t.Fatalf("entry after sent = %+v", e)
		}
		if p, err := db.OutboxPayloadForTest(ctx, ref.ID); err != nil || p != "" {
			t.Fatalf("a sent message keeps its body (tokens) in the database: %q %v", p, err)
		}
		clock.Advance(10 * outboxLease)
		if got := claimOutbox(t, db, "worker-c", 10, 5); len(got) != 0 || outboxDepth(t, db) != 0 {
			t.Fatal("a sent message is claimable again")
		}
	})
}

// F3 at the store: a failure delays the next attempt; a dead letter is
// listed, never claimed, and an operator can put it back.
func TestOutboxFailureBacksOffDeadLettersAndRetries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		ref := enqueueOutbox(t, db, outboxEmail("poison@example.com"))

		m := claimOutbox(t, db, "w", 10, 5)[0]
		if held, err := db.FailOutbox(ctx, m.OutboxLease, store.OutboxFailure{Error: "451 try later", RetryIn: 30 * time.Second}); err != nil || !held {
			t.Fatalf("fail: %v %v", held, err)
		}
		e := outboxEntry(t, db, ref.ID)
		if e.State != "pending" || e.Attempts != 1 || !e.NextAttemptAt.Equal(outboxT0.Add(30*time.Second)) ||
			e.LastError != "451 try later" || e.LeaseOwner != "" {
			t.Fatalf("entry after failure = %+v", e)
		}
		clock.Advance(29 * time.Second)
		if got := claimOutbox(t, db, "w", 10, 5); len(got) != 0 {
			t.Fatal("claimed before the back-off ended")
		}
		clock.Advance(time.Second)
		m = claimOutbox(t, db, "w", 10, 5)[0]
		if m.Attempt != 2 {
			t.Fatalf("attempt = %d, want 2", m.Attempt)
		}
		if held, err := db.FailOutbox(ctx, m.OutboxLease, store.OutboxFailure{Error: "550 no such user", DeadLetter: true}); err != nil || !held {
			t.Fatalf("dead-letter: %v %v", held, err)
		}
		if n := outboxDepth(t, db); n != 0 {
			t.Fatalf("a dead letter counts in the depth: %d", n)
		}
		clock.Advance(48 * time.Hour)
		if got := claimOutbox(t, db, "w", 10, 5); len(got) != 0 {
			t.Fatal("a dead letter was claimed")
		}

		var page store.DeadLetterPage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.DeadLetters("", 10); return }); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Next != "" {
			t.Fatalf("dead letters = %+v", page)
		}
		d := page.Items[0]
		if d.ID != ref.ID || d.MessageID != ref.MessageID || d.Attempts != 2 || d.LastError != "550 no such user" ||
			d.To != "poison@example.com" || d.Subject != "Hello poison@example.com" || !d.CreatedAt.Equal(outboxT0) {
			t.Fatalf("dead letter = %+v", d)
		}

		if err := db.Write(ctx, func(tx *store.Tx) error { return tx.RetryDeadLetter(ref.ID) }); err != nil {
			t.Fatal(err)
		}
		if !woken(db) {
			t.Fatal("retrying a dead letter did not wake the worker")
		}
		if e := outboxEntry(t, db, ref.ID); e.State != "pending" || e.Attempts != 0 || !e.NextAttemptAt.Equal(clock.Now()) || e.DeadAt != nil {
			t.Fatalf("entry after retry = %+v", e)
		}
		if got := claimOutbox(t, db, "w", 10, 5); len(got) != 1 || got[0].Attempt != 1 || got[0].MessageID != ref.MessageID {
			t.Fatalf("claim after retry = %+v", got)
		}
		for _, id := range []string{ref.ID, csphub.NewID(), "not-an-id"} {
			err := db.Write(ctx, func(tx *store.Tx) error { return tx.RetryDeadLetter(id) })
			if csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("retry of %q (not a dead letter) = %v, want not found", id, err)
			}
		}
	})
}

// A message whose worker dies during each attempt (it crashes the worker,
// say) is given up once its attempts run out, instead of being claimed
// forever.
func TestOutboxGivesUpOnAMessageWhoseWorkerKeepsDying(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		ref := enqueueOutbox(t, db, outboxEmail("crash@example.com"))
		for attempt := 1; attempt <= 2; attempt++ {
			if got := claimOutbox(t, db, "w", 10, 2); len(got) != 1 || got[0].Attempt != attempt {
				t.Fatalf("attempt %d: claimed %+v", attempt, got)
			}
			clock.Advance(outboxLease + time.Second) // the worker died
		}
		if got := claimOutbox(t, db, "w", 10, 2); len(got) != 0 {
			t.Fatalf("claimed a message past its attempts: %+v", got)
		}
		if e := outboxEntry(t, db, ref.ID); e.State != "dead" || !strings.Contains(e.LastError, "gave up") ||
			e.DeadAt == nil || !e.DeadAt.Equal(clock.Now()) {
			t.Fatalf("entry = %+v, want dead since %v", e, clock.Now())
		}
	})
}

func TestOutboxReleaseHandsAMessageBackAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		enqueueOutbox(t, db, outboxEmail("jane@example.com"))
		m := claimOutbox(t, db, "stopping", 10, 5)[0]
		if err := db.ReleaseOutbox(ctx, m.OutboxLease); err != nil {
			t.Fatal(err)
		}
		got := claimOutbox(t, db, "other", 10, 5)
		if len(got) != 1 || got[0].Attempt != 1 {
			t.Fatalf("after release claimed %+v, want the message at attempt 1 (release is not an attempt)", got)
		}
	})
}

// Several nodes claiming at the same time, each with its own connections to
// one database, never get the same message.
func TestOutboxClaimIsExclusiveAcrossNodes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0) // leases never end here
		opts := testdb.OptionsFor(t, engine)
		opts.Clock = clock
		var nodes []*store.DB
		for range 2 {
			db, err := store.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			nodes = append(nodes, db)
		}
		if _, err := nodes[0].Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 150
		for i := range n {
			enqueueOutbox(t, nodes[i%2], outboxEmail(fmt.Sprintf("user%d@example.com", i)))
		}

		var mu sync.Mutex
		claimedBy := map[string][]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, owner := nodes[w%2], fmt.Sprintf("node%d-worker%d", w%2, w)
				for {
					msgs, err := db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: owner, Lease: outboxLease, Limit: 7, MaxAttempts: 5})
					if err != nil {
						errs <- err
						return
					}
					if len(msgs) == 0 {
						return
					}
					for _, m := range msgs {
						mu.Lock()
						claimedBy[m.ID] = append(claimedBy[m.ID], owner)
						mu.Unlock()
						if held, err := db.MarkOutboxSent(ctx, m.OutboxLease); err != nil || !held {
							errs <- fmt.Errorf("mark %s: held %v, %v", m.ID, held, err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(claimedBy) != n {
			t.Fatalf("%d distinct messages claimed, want %d", len(claimedBy), n)
		}
		for id, owners := range claimedBy {
			if len(owners) != 1 {
				t.Errorf("message %s claimed by %v", id, owners)
			}
		}
		if d := outboxDepth(t, nodes[1]); d != 0 {
			t.Fatalf("depth = %d after all were sent", d)
		}
	})
}

func TestOutboxDeadLettersPageOldestFirst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		var want []string
		for i := range 5 {
			ref := enqueueOutbox(t, db, outboxEmail(fmt.Sprintf("dead%d@example.com", i)))
			want = append(want, ref.ID)
			m := claimOutbox(t, db, "w", 1, 5)[0]
			if _, err := db.FailOutbox(ctx, m.OutboxLease, store.OutboxFailure{Error: "no", DeadLetter: true}); err != nil {
				t.Fatal(err)
			}
			if i != 2 { // two rows share an instant: the id breaks the tie
				clock.Advance(time.Second)
			}
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			var page store.DeadLetterPage
			if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.DeadLetters(cursor, 2); return }); err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Items {
				got = append(got, d.ID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("dead letters %v, want %v", got, want)
		}
		err := db.Read(ctx, func(tx *store.Tx) error { _, err := tx.DeadLetters("garbage!", 2); return err })
		if csphub.ErrorKind(err) != csphub.KindInvalid {
			t.Fatalf("bad cursor: %v, want invalid", err)
		}
	})
}

func TestOutboxPurgesOnlyOldSentRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		sent := enqueueOutbox(t, db, outboxEmail("sent@example.com"))
		m := claimOutbox(t, db, "w", 1, 5)[0]
		if _, err := db.MarkOutboxSent(ctx, m.OutboxLease); err != nil {
			t.Fatal(err)
		}
		dead := enqueueOutbox(t, db, outboxEmail("dead@example.com"))
		m = claimOutbox(t, db, "w", 1, 5)[0]
		if _, err := db.FailOutbox(ctx, m.OutboxLease, store.OutboxFailure{Error: "no", DeadLetter: true}); err != nil {
			t.Fatal(err)
		}
		pending := enqueueOutbox(t, db, outboxEmail("pending@example.com"))

		if n, err := db.PurgeSentOutbox(ctx, time.Hour, 100); err != nil || n != 0 {
			t.Fatalf("purged %d (%v) before the retention ended", n, err)
		}
		clock.Advance(time.Hour)
		if n, err := db.PurgeSentOutbox(ctx, time.Hour, 100); err != nil || n != 1 {
			t.Fatalf("purged %d (%v), want 1", n, err)
		}
		err := db.Read(ctx, func(tx *store.Tx) error { _, err := tx.OutboxEntry(sent.ID); return err })
		if csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("purged row still readable: %v", err)
		}
		outboxEntry(t, db, dead.ID)
		outboxEntry(t, db, pending.ID)
	})
}

// The outbox and mailbox queries are served by their indexes: a claim, the
// depth gauge or a page never scans the whole table.
func TestOutboxAndMailboxQueriesUseTheirIndexes(t *testing.T) {
	want := map[string]string{
		"claim":              "outbox_due",
		"give up":            "outbox_due",
		"depth":              "outbox_due",
		"next due":           "outbox_due",
		"purge":              "outbox_sent",
		"dead letters":       "outbox_dead",
		"dead letters after": "outbox_dead",
		"mailbox":            "mailbox_recent",
		"mailbox before":     "mailbox_recent",
		"mailbox to":         "mailbox_to",
		"mailbox to before":  "mailbox_to",
	}
	testdb.Each(t, func(t *testing.T, engine string) {
		db := openOutboxDB(t, engine, csphub.NewManualClock(outboxT0))
		plans, err := db.OutboxQueryPlansForTest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for name, index := range want {
			plan, ok := plans[name]
			if !ok {
				t.Errorf("no plan for %q", name)
				continue
			}
			t.Logf("%s:\n%s", name, plan)
			if !strings.Contains(plan, index) {
				t.Errorf("%s: plan does not use %s:\n%s", name, index, plan)
			}
			if engine == "sqlite" && strings.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") {
				t.Errorf("%s: sorts instead of reading the index in order:\n%s", name, plan)
			}
			if engine == "postgres" && strings.Contains(plan, "Sort") && name != "purge" {
				t.Errorf("%s: sorts instead of reading the index in order:\n%s", name, plan)
			}
		}
	})
}

// The fencing token is the lease id, new at every claim. A release or an
// operator's retry takes the attempt count back to a value it had before, so
// the same worker can claim the row again with the very (owner, attempt) of
// an earlier lease; that earlier lease must still be unable to mark the row.
func TestOutboxEveryClaimIsFencedByItsOwnLeaseID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)

		// Released, then claimed again by the same worker.
		released := enqueueOutbox(t, db, outboxEmail("released@example.com"))
		old := claimOutbox(t, db, "w", 1, 5)[0]
		if err := db.ReleaseOutbox(ctx, old.OutboxLease); err != nil {
			t.Fatal(err)
		}
		cur := claimOutbox(t, db, "w", 1, 5)[0]
		if cur.ID != released.ID || cur.Owner != old.Owner || cur.Attempt != old.Attempt || cur.LeaseID == old.LeaseID || cur.LeaseID == "" {
			t.Fatalf("claims %+v then %+v: want the same owner and attempt under a new lease id", old.OutboxLease, cur.OutboxLease)
		}
		if held, err := db.MarkOutboxSent(ctx, old.OutboxLease); err != nil || held {
			t.Fatalf("a released lease marked the row sent: %v %v", held, err)
		}
		if held, err := db.FailOutbox(ctx, old.OutboxLease, store.OutboxFailure{Error: "stale", DeadLetter: true}); err != nil || held {
			t.Fatalf("a released lease failed the row: %v %v", held, err)
		}
		if err := db.ReleaseOutbox(ctx, old.OutboxLease); err != nil {
			t.Fatal(err)
		}
		if e := outboxEntry(t, db, released.ID); e.State != "pending" || e.LeaseOwner != "w" || e.Attempts != 1 || e.LastError != "" {
			t.Fatalf("a released lease changed the row: %+v", e)
		}
		if got := claimOutbox(t, db, "other", 1, 5); len(got) != 0 {
			t.Fatalf("a released lease handed back a row held by another claim: %+v", got)
		}
		if held, err := db.MarkOutboxSent(ctx, cur.OutboxLease); err != nil || !held {
			t.Fatalf("the current lease could not mark the row: %v %v", held, err)
		}

		// Dead, retried by an operator, then claimed again by the same worker.
		retried := enqueueOutbox(t, db, outboxEmail("retried@example.com"))
		old = claimOutbox(t, db, "w", 1, 5)[0]
		if held, err := db.FailOutbox(ctx, old.OutboxLease, store.OutboxFailure{Error: "550", DeadLetter: true}); err != nil || !held {
			t.Fatalf("dead-letter: %v %v", held, err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return tx.RetryDeadLetter(retried.ID) }); err != nil {
			t.Fatal(err)
		}
		cur = claimOutbox(t, db, "w", 1, 5)[0]
		if cur.ID != retried.ID || cur.Owner != old.Owner || cur.Attempt != old.Attempt || cur.LeaseID == old.LeaseID {
			t.Fatalf("claims %+v then %+v: want the same owner and attempt under a new lease id", old.OutboxLease, cur.OutboxLease)
		}
		if held, err := db.MarkOutboxSent(ctx, old.OutboxLease); err != nil || held {
			t.Fatalf("a lease from before the retry marked the row sent: %v %v", held, err)
		}
		if held, err := db.FailOutbox(ctx, old.OutboxLease, store.OutboxFailure{Error: "stale", DeadLetter: true}); err != nil || held {
			t.Fatalf("a lease from before the retry failed the row: %v %v", held, err)
		}
		if held, err := db.FailOutbox(ctx, cur.OutboxLease, store.OutboxFailure{Error: "451", RetryIn: time.Minute}); err != nil || !held {
			t.Fatalf("the current lease could not record its failure: %v %v", held, err)
		}
		if e := outboxEntry(t, db, retried.ID); e.State != "pending" || e.LastError != "451" || e.DeadAt != nil {
			t.Fatalf("entry %+v", e)
		}
	})
}

// Dead letters are paged by when they died: a message that dies while an
// operator pages through the list shows up on a later page, even though it
// was created before the messages already listed.
func TestOutboxDeadLettersArePagedByTimeOfDeath(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		var refs []store.OutboxRef
		for _, to := range []string{"first@example.com", "second@example.com", "third@example.com"} {
			refs = append(refs, enqueueOutbox(t, db, outboxEmail(to)))
			clock.Advance(time.Second)
		}
		leases := map[string]store.OutboxLease{}
		for _, m := range claimOutbox(t, db, "w", 10, 5) {
			leases[m.ID] = m.OutboxLease
		}
		diedAt := map[string]time.Time{}
		die := func(ref store.OutboxRef) {
			t.Helper()
			clock.Advance(time.Second)
			if held, err := db.FailOutbox(ctx, leases[ref.ID], store.OutboxFailure{Error: "550", DeadLetter: true}); err != nil || !held {
				t.Fatalf("dead-letter %s: %v %v", ref.ID, held, err)
			}
			diedAt[ref.ID] = clock.Now()
		}
		var listed []string
		list := func(cursor string) string {
			t.Helper()
			var page store.DeadLetterPage
			if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.DeadLetters(cursor, 1); return }); err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Items {
				if !d.DeadAt.Equal(diedAt[d.ID]) || d.Template != "smtp_test" || d.CreatedAt.IsZero() {
					t.Errorf("dead letter %+v, want dead at %v", d, diedAt[d.ID])
				}
				listed = append(listed, d.ID)
			}
			return page.Next
		}

		die(refs[1])
		die(refs[2])
		cursor := list("") // the operator reads the first page
		die(refs[0])       // the oldest message dies meanwhile
		for pages := 0; cursor != ""; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			cursor = list(cursor)
		}
		if want := []string{refs[1].ID, refs[2].ID, refs[0].ID}; !slices.Equal(listed, want) {
			t.Fatalf("pages listed %v, want %v (in the order they died, none left behind the cursor)", listed, want)
		}
		if e := outboxEntry(t, db, refs[0].ID); e.DeadAt == nil || !e.DeadAt.Equal(diedAt[refs[0].ID]) {
			t.Fatalf("entry %+v, want dead at %v", e, diedAt[refs[0].ID])
		}
	})
}
