package mail

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

func TestMailboxSenderKeepsMessagesAndLogsNoBody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := testdb.Open(t, engine, csphub.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)))
		var logs bytes.Buffer
		s, err := NewMailboxSender(db, "noreply@example.com", "csphub", slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		m := smtpTest(English)
		m.RequestedBy = "token-Zm9vYmFyYmF6" // stands for a secret link in a real message
		out := outgoing(t, m)
		if err := s.Send(ctx, out); err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, out); err != nil { // delivered again after a crash
			t.Fatal(err)
		}
		var page store.MailboxPage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { page, err = tx.Mailbox(store.MailboxFilter{}); return }); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Fatalf("mailbox holds %d copies, want 1", len(page.Items))
		}
		var got store.MailboxMessage
		if err := db.Read(ctx, func(tx *store.Tx) (err error) { got, err = tx.MailboxMessage(page.Items[0].ID); return }); err != nil {
			t.Fatal(err)
		}
		if got.OutboxID != out.OutboxID || got.MessageID != out.MessageID || got.From != `"csphub" <noreply@example.com>` ||
			got.To != "ops@example.com" || got.Subject != out.Email.Subject || got.Text != out.Email.Text || got.HTML != out.Email.HTML {
			t.Fatalf("stored %+v", got)
		}
		log := logs.String()
		if !strings.Contains(log, out.Email.Subject) || !strings.Contains(log, "ops@example.com") {
			t.Fatalf("log lacks subject or recipient: %s", log)
		}
		if strings.Contains(log, "token-Zm9vYmFyYmF6") {
			t.Fatalf("log carries the body: %s", log)
		}
	})
}
