package service_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/mail"
	"csphub/internal/outbox"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// deadLetterWorld is a deployment with its operator organization and one
// message that delivery gave up on.
type deadLetterWorld struct {
	db    *store.DB
	raw   *sql.DB // the same database, for reading the audit records
	svc   *service.Service
	op    csphub.Organization
	admin csphub.Actor
	dead  store.OutboxRef
}

func newDeadLetterWorld(t *testing.T, engine string) deadLetterWorld {
	t.Helper()
	ctx := context.Background()
	opts := testdb.OptionsFor(t, engine)
	opts.Clock = csphub.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	db, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	driver, dsn := "pgx", opts.URL
	if engine == "sqlite" {
		driver, dsn = "sqlite", "file:"+filepath.Join(opts.DataDir, "csphub.db")+"?mode=ro"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })

	svc := service.New(db, nil, service.Options{})
	op, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "FR", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	w := deadLetterWorld{db: db, raw: raw, svc: svc, op: op,
		admin: csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: op.ID, OrgKind: csphub.OrgOperator,
			Roles: []string{csphub.RoleOperatorAdmin}, MFAPassed: true}}
	if err := db.Write(ctx, func(tx *store.Tx) (err error) {
		w.dead, err = mail.Enqueue(tx, op.ID, mail.SMTPTest{
			To:     mail.Recipient{Address: "poison@example.com", Lang: mail.English},
			Server: "smtp.example.test:25", RequestedBy: w.admin.ID, RequestedAt: tx.Now(),
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	msgs, err := db.ClaimOutbox(ctx, store.OutboxClaim{Kind: store.OutboxEmail, Owner: "w", Lease: time.Minute, Limit: 1, MaxAttempts: 3})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim: %v %v", msgs, err)
	}
	if held, err := db.FailOutbox(ctx, msgs[0].OutboxLease, store.OutboxFailure{Error: "550 no such user", DeadLetter: true}); err != nil || !held {
		t.Fatalf("dead-letter: %v %v", held, err)
	}
	return w
}

type auditRow struct{ action, actorID, resourceID, before, after string }

func (w deadLetterWorld) audit(t *testing.T) []auditRow {
	t.Helper()
	rows, err := w.raw.Query(`SELECT action, actor_id, resource_id, COALESCE(before_json, ''), COALESCE(after_json, '') FROM audit_records ORDER BY at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.action, &r.actorID, &r.resourceID, &r.before, &r.after); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Dead letters belong to the whole deployment: only an operator admin,
// acting in the operator organization, may list or retry them. Anyone else
// is refused, and a refused retry changes nothing and records nothing.
func TestDeadLettersAreForOperatorAdminsOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		w := newDeadLetterWorld(t, engine)
		partner := csphub.NewID()
		for name, actor := range map[string]csphub.Actor{
			"operator user without the role": {Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: w.op.ID, OrgKind: csphub.OrgOperator,
				Roles: []string{csphub.RoleVerificationReviewer, csphub.RoleCatalogManager}, MFAPassed: true},
			"role name held in a partner organization": {Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: partner, OrgKind: csphub.OrgPartner,
				Roles: []string{csphub.RoleOperatorAdmin, csphub.RoleGlobalAdmin}, MFAPassed: true},
			"operator admin acting in another organization": {Kind: csphub.ActorUser, ID: w.admin.ID, OrgID: w.op.ID, OnBehalfOf: partner,
				OrgKind: csphub.OrgOperator, Roles: []string{csphub.RoleOperatorAdmin}, MFAPassed: true},
			"operator api token without the role": {Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: w.op.ID, OrgKind: csphub.OrgOperator, MFAPassed: true},
			"system without an organization":      csphub.System("test"),
		} {
			if _, err := w.svc.ListDeadLetters(ctx, actor, "", 10); csphub.AsError(err) == nil || csphub.AsError(err).Code != "operator_admin_required" {
				t.Errorf("%s: list = %v, want operator_admin_required", name, err)
			}
			_, err := w.svc.RetryDeadLetter(ctx, actor, w.dead.ID)
			if e := csphub.AsError(err); e == nil || e.Kind != csphub.KindForbidden || e.Code != "operator_admin_required" {
				t.Errorf("%s: retry = %v, want operator_admin_required", name, err)
			}
		}
		var e store.OutboxEntry
		if err := w.db.Read(ctx, func(tx *store.Tx) (err error) { e, err = tx.OutboxEntry(w.dead.ID); return }); err != nil {
			t.Fatal(err)
		}
		if e.State != "dead" {
			t.Fatalf("a refused retry changed the message: %+v", e)
		}
		for _, r := range w.audit(t) {
			if r.action == "outbox.retry" {
				t.Fatalf("a refused retry was audited: %+v", r)
			}
		}
	})
}

// An operator admin finds the dead letter, retries it in one audited
// transaction, and a worker then delivers it.
func TestOperatorAdminRetriesADeadLetterWhichIsThenDelivered(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		w := newDeadLetterWorld(t, engine)

		page, err := w.svc.ListDeadLetters(ctx, w.admin, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].ID != w.dead.ID || page.Items[0].To != "poison@example.com" ||
			page.Items[0].Template == "" || page.Items[0].LastError != "550 no such user" || page.Items[0].DeadAt.IsZero() {
			t.Fatalf("dead letters %+v", page.Items)
		}
		if _, err := w.svc.ListDeadLetters(ctx, w.admin, "not a token", 10); csphub.ErrorKind(err) != csphub.KindInvalid {
			t.Fatalf("bad page token: %v, want invalid", err)
		}

		before := len(w.audit(t))
		got, err := w.svc.RetryDeadLetter(ctx, w.admin, w.dead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != w.dead.ID || got.State != "pending" || got.Attempts != 0 || got.DeadAt != nil {
			t.Fatalf("retried %+v", got)
		}
		records := w.audit(t)
		if len(records) != before+1 {
			t.Fatalf("%d audit records written by the retry, want 1", len(records)-before)
		}
		if r := records[len(records)-1]; r.action != "outbox.retry" || r.actorID != w.admin.ID || r.resourceID != w.dead.ID ||
			!strings.Contains(r.before, `"state":"dead"`) || !strings.Contains(r.after, `"state":"pending"`) {
			t.Fatalf("audit record %+v", r)
		}
		if err := w.svc.SequenceJournal(ctx); err != nil {
			t.Fatal(err)
		}
		if v, err := w.svc.VerifyAudit(ctx); err != nil || !v.OK {
			t.Fatalf("audit chain: %+v %v", v, err)
		}

		if _, err := w.svc.RetryDeadLetter(ctx, w.admin, w.dead.ID); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("retrying a message that is no longer dead: %v, want not found", err)
		}
		if _, err := w.svc.RetryDeadLetter(ctx, w.admin, csphub.NewID()); csphub.ErrorKind(err) != csphub.KindNotFound {
			t.Fatalf("retrying an unknown message: %v, want not found", err)
		}
		if page, err := w.svc.ListDeadLetters(ctx, w.admin, "", 10); err != nil || len(page.Items) != 0 {
			t.Fatalf("dead letters after the retry: %+v %v", page.Items, err)
		}

		box, err := mail.NewMailboxSender(w.db, "noreply@example.com", "csphub", nil)
		if err != nil {
			t.Fatal(err)
		}
		worker, err := outbox.New(outbox.Config{DB: w.db, Sender: box, Owner: "w2"})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := worker.RunOnce(ctx); err != nil || res.Sent != 1 {
			t.Fatalf("delivery after the retry: %+v %v", res, err)
		}
		mails, err := w.svc.ListMailbox(ctx, "", 10)
		if err != nil || len(mails.Items) != 1 || mails.Items[0].MessageID != w.dead.MessageID {
			t.Fatalf("mailbox %+v %v, want the retried message with its Message-ID", mails.Items, err)
		}
	})
}
