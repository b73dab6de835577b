package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"csphub"
	"csphub/internal/config"
	"csphub/internal/mail"
	"csphub/internal/service"
	"csphub/internal/store"
)

// The operator lists dead letters as a table whose cells cannot break the
// terminal, retries one, and finds the list empty afterwards.
func TestOutboxCommandsListAndRetryDeadLetters(t *testing.T) {
	ctx := context.Background()
	cfg := &config.Config{DataDir: t.TempDir(), SQLiteSync: "FULL", MaxDBConns: 4, LogLevel: "error", LogFormat: "text", Listen: "127.0.0.1:8080"}
	db, err := openDB(ctx, cfg, newLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	op, _, err := service.New(db, nil, service.Options{}).EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "FR", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	var ref store.OutboxRef
	if err := db.Write(ctx, func(tx *store.Tx) (err error) {
		ref, err = mail.Enqueue(tx, op.ID, mail.SMTPTest{To: mail.Recipient{Address: "poison@example.com", Lang: mail.English},
			Server: "smtp.example.test:25", RequestedBy: "ops", RequestedAt: tx.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	msgs, err := db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "w", Lease: time.Minute, Limit: 1, MaxAttempts: 3})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim %v %v", msgs, err)
	}
	hostile := "550 no such user\r\n\x1b[2J\u202eforged line"
	if held, err := db.FailOutbox(ctx, msgs[0].OutboxLease, store.OutboxFailure{Error: hostile, DeadLetter: true}); err != nil || !held {
		t.Fatalf("dead-letter %v %v", held, err)
	}
	db.Close()

	run := func(cmd interface {
		Run(context.Context, *Env) error
	}) (string, error) {
		var out bytes.Buffer
		err := cmd.Run(ctx, &Env{Cfg: cfg, Stdout: &out, Stderr: &out})
		return out.String(), err
	}
	out, err := run(OutboxDeadLettersCmd{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "DIED AT") {
		t.Fatalf("table:\n%s", out)
	}
	for _, want := range []string{ref.ID, "poison@example.com", "smtp_test", "550 no such user", "forged line", time.Now().UTC().Format("2006-")} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\r\x1b\u202e") {
		t.Errorf("control characters reached the terminal: %q", out)
	}

	out, err = run(OutboxRetryCmd{ID: ref.ID})
	if err != nil || !strings.Contains(out, ref.MessageID) {
		t.Fatalf("retry: %q %v", out, err)
	}
	if _, err := run(OutboxRetryCmd{ID: ref.ID}); csphub.ErrorKind(err) != csphub.KindNotFound {
		t.Fatalf("second retry: %v, want not found", err)
	}
	if out, err := run(OutboxDeadLettersCmd{Limit: 50}); err != nil || !strings.HasPrefix(out, "no dead letters") {
		t.Fatalf("after the retry: %q %v", out, err)
	}
}

// The command tree parses as the CLI will mount it.
func TestOutboxCommandLine(t *testing.T) {
	var cli struct {
		Outbox OutboxCmd `cmd:""`
	}
	parser, err := kong.New(&cli, kong.Exit(func(int) { t.Fatal("exit") }))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse([]string{"outbox", "dead-letters", "--limit", "5", "--page-token", "abc", "--json"})
	if err != nil || kctx.Command() != "outbox dead-letters" || cli.Outbox.DeadLetters != (OutboxDeadLettersCmd{Limit: 5, PageToken: "abc", JSON: true}) {
		t.Fatalf("dead-letters: %v %q %+v", err, kctx.Command(), cli.Outbox.DeadLetters)
	}
	id := csphub.NewID()
	kctx, err = parser.Parse([]string{"outbox", "retry", id})
	if err != nil || kctx.Command() != "outbox retry <id>" || cli.Outbox.Retry.ID != id {
		t.Fatalf("retry: %v %q %+v", err, kctx.Command(), cli.Outbox.Retry)
	}
	if _, err := parser.Parse([]string{"outbox", "retry"}); err == nil {
		t.Fatal("retry without an id parsed")
	}
}
