package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func deliverToMailbox(t *testing.T, db *store.DB, to, subject string) store.MailboxMessage {
	t.Helper()
	m := store.MailboxMessage{OutboxID: csphub.NewID(), From: "csphub <noreply@example.com>", To: to,
		Subject: subject, Text: "text of " + subject, HTML: "<p>html of " + subject + "</p>"}
	m.MessageID = "<" + m.OutboxID + "@mail.example.test>"
	if err := db.DeliverToMailbox(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mailboxPages(t *testing.T, db *store.DB, f store.MailboxFilter) (subjects []string, pages int) {
	t.Helper()
	for {
		pages++
		if pages > 20 {
			t.Fatal("mailbox pagination does not end")
		}
		var page store.MailboxPage
		if err := db.Read(context.Background(), func(tx *store.Tx) (err error) { page, err = tx.Mailbox(f); return }); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			if m.Text != "" || m.HTML != "" {
				t.Fatal("a mailbox list carries bodies")
			}
			subjects = append(subjects, m.Subject)
		}
		if page.Next == "" {
			return subjects, pages
		}
		f.Cursor = page.Next
	}
}

func TestMailboxListsNewestFirstInKeysetPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		var all, jane []string
		for i := range 7 {
			to := "bob@example.com"
			if i%2 == 0 {
				to = "jane@example.com"
			}
			subject := fmt.Sprintf("message %d", i)
			deliverToMailbox(t, db, to, subject)
			all = append([]string{subject}, all...)
			if to == "jane@example.com" {
				jane = append([]string{subject}, jane...)
			}
			if i != 3 { // two share an instant: the id orders them
				clock.Advance(time.Second)
			}
		}

		got, pages := mailboxPages(t, db, store.MailboxFilter{Limit: 3})
		if !slices.Equal(got, all) || pages != 3 {
			t.Fatalf("all: %v in %d pages, want %v in 3", got, pages, all)
		}
		got, _ = mailboxPages(t, db, store.MailboxFilter{To: "jane@example.com", Limit: 3})
		if !slices.Equal(got, jane) {
			t.Fatalf("to jane: %v, want %v", got, jane)
		}

		// A message arriving between two pages neither repeats nor shifts
		// the pages already being read.
		var first store.MailboxPage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { first, err = tx.Mailbox(store.MailboxFilter{Limit: 3}); return }); err != nil {
			t.Fatal(err)
		}
		deliverToMailbox(t, db, "bob@example.com", "late arrival")
		rest, _ := mailboxPages(t, db, store.MailboxFilter{Limit: 3, Cursor: first.Next})
		if !slices.Equal(rest, all[3:]) {
			t.Fatalf("after a new arrival the next pages are %v, want %v", rest, all[3:])
		}

		err := db.Read(ctx, func(tx *store.Tx) error { _, err := tx.Mailbox(store.MailboxFilter{Cursor: "%%%"}); return err })
		if csphub.ErrorKind(err) != csphub.KindInvalid {
			t.Fatalf("bad cursor: %v, want invalid", err)
		}
	})
}

func TestMailboxReadsOneMessageWithItsBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clock := csphub.NewManualClock(outboxT0)
		db := openOutboxDB(t, engine, clock)
		want := deliverToMailbox(t, db, "jane@example.com", "welcome")
		var page store.MailboxPage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.Mailbox(store.MailboxFilter{}); return }); err != nil {
			t.Fatal(err)
		}
		var got store.MailboxMessage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { got, err = tx.MailboxMessage(page.Items[0].ID); return }); err != nil {
			t.Fatal(err)
		}
		want.ID, want.CreatedAt = got.ID, outboxT0
		if got != want {
			t.Fatalf("read %+v, want %+v", got, want)
		}
		for _, id := range []string{csphub.NewID(), "../etc/passwd"} {
			err := db.Read(ctx, func(tx *store.Tx) error { _, err := tx.MailboxMessage(id); return err })
			if csphub.ErrorKind(err) != csphub.KindNotFound {
				t.Errorf("read %q: %v, want not found", id, err)
			}
		}
	})
}

// A message delivered again (its worker died before marking it sent) is
// kept once.
func TestMailboxKeepsOneCopyPerOutboxMessage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := openOutboxDB(t, engine, csphub.NewManualClock(outboxT0))
		m := deliverToMailbox(t, db, "jane@example.com", "once")
		if err := db.DeliverToMailbox(context.Background(), m); err != nil {
			t.Fatalf("second delivery: %v", err)
		}
		got, _ := mailboxPages(t, db, store.MailboxFilter{})
		if len(got) != 1 {
			t.Fatalf("mailbox holds %v, want one copy", got)
		}
	})
}
