package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/api"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

const mailTests = "/api/v1/operator/mail-tests"

// operator returns a token of an operator admin of a fresh deployment.
func (e *env) operator() string { return e.operatorFor(e.t) }

func (e *env) operatorFor(t testing.TB) string {
	t.Helper()
	op, _, err := e.svc.EnsureOperator(context.Background(), service.OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	return e.actor(op.ID, service.RoleOperatorAdmin)
}

func (e *env) queued() int64 {
	e.t.Helper()
	n, err := e.db.OutboxDepth(context.Background(), store.OutboxEmail)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestIdempotencyKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		e := newEnvAt(t, engine, clock)
		op := e.operator()
		body := `{"to": "ops@example.com", "lang": "fr"}`

		// E1: the same key and body replay the stored response; one effect.
		first := e.do("POST", mailTests, op, body, "Idempotency-Key", "key-1")
		if first.status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.status, first.body)
		}
		var sent service.TestEmail
		first.json(t, &sent)
		if sent.MessageID == "" || sent.To != "ops@example.com" {
			t.Fatalf("response %+v", sent)
		}
		reordered := `{"lang":"fr","to":"ops@example.com"}`
		again := e.do("POST", mailTests, op, reordered, "Idempotency-Key", "key-1")
		if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %v %s", again.status, again.header, again.body)
		}
		var replayed service.TestEmail
		again.json(t, &replayed)
		if replayed != sent {
			t.Fatalf("replayed %+v, want %+v", replayed, sent)
		}
		if n := e.queued(); n != 1 {
			t.Fatalf("%d messages queued after a replay, want 1", n)
		}

		// E2: the same key with another body is refused.
		wantProblem(t, e.do("POST", mailTests, op, `{"to": "other@example.com"}`, "Idempotency-Key", "key-1"), 422, "idempotency_key_reused")

		// A refusal is stored too: the same bad request gets the same answer,
		// and a corrected request needs a new key.
		bad := `{"to": "not an address"}`
		wantProblem(t, e.do("POST", mailTests, op, bad, "Idempotency-Key", "key-bad"), 422, "invalid_input")
		r := e.do("POST", mailTests, op, bad, "Idempotency-Key", "key-bad")
		if r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("a refused request is not replayed")
		}
		wantProblem(t, r, 422, "invalid_input")

		// E5: kept at least 24 hours; after its time-to-live the key is new.
		clock.Advance(23*time.Hour + 59*time.Minute)
		if r := e.do("POST", mailTests, op, body, "Idempotency-Key", "key-1"); r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay after 23h59: %d %s", r.status, r.body)
		}
		clock.Advance(2 * time.Minute)
		if r := e.do("POST", mailTests, op, body, "Idempotency-Key", "key-1"); r.status != 201 || r.header.Get("Idempotent-Replayed") == "true" {
			t.Fatalf("after 24h the key should run again: %d %v", r.status, r.header)
		}
		if n := e.queued(); n != 2 {
			t.Fatalf("%d messages queued, want 2", n)
		}
		// Purging deletes expired keys only: key-bad (24h01 old), not the
		// fresh key-1.
		if n, err := e.svc.PurgeIdempotency(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge deleted %d (%v), want 1", n, err)
		}
		if r := e.do("POST", mailTests, op, body, "Idempotency-Key", "key-1"); r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("purging removed a live key")
		}
		clock.Advance(25 * time.Hour)
		if n, err := e.svc.PurgeIdempotency(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge of expired keys deleted %d (%v), want 1", n, err)
		}
	})
}

// E3: concurrent requests with one key execute once; the others are told
// the request is in progress, or get the stored response.
func TestIdempotencyConcurrentDuplicates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		op := e.operator()
		const n = 50
		var wg sync.WaitGroup
		statuses := make(chan int, n)
		for range n {
			wg.Go(func() {
				r := e.do("POST", mailTests, op, `{"to": "ops@example.com"}`, "Idempotency-Key", "same-key")
				if r.status == http.StatusConflict {
					var p problem
					r.json(t, &p)
					if p.Code != "idempotency_key_in_use" {
						t.Errorf("409 with code %q", p.Code)
					}
				}
				statuses <- r.status
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[201] < 1 || count[201]+count[409] != n {
			t.Fatalf("statuses %v: want only 201 and 409, at least one 201", count)
		}
		if q := e.queued(); q != 1 {
			t.Fatalf("%d messages queued by %d concurrent duplicates, want 1", q, n)
		}
	})
}

// E4: keys are namespaced by organization.
func TestIdempotencyKeysAreNamespacedByOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		db := testdb.Open(t, engine, nil)
		svc := service.New(db, nil, service.Options{})
		ctx := context.Background()
		for _, org := range []string{csphub.NewID(), csphub.NewID()} {
			res, err := svc.BeginIdempotent(ctx, service.IdempotencyRequest{OrgID: org, Key: "shared", Operation: "POST /x", RequestHash: "h", Lock: time.Minute, TTL: 24 * time.Hour})
			if err != nil || res.Verdict != service.IdempotencyProceed {
				t.Fatalf("org %s: %+v %v", org, res, err)
			}
		}
	})
}

// A request whose process died after claiming the key (and so committed
// nothing) may be retried once the key's lock expires.
func TestIdempotencyRecoversFromADeadRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		clock := csphub.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		e := newEnvAt(t, engine, clock)
		op := e.operator()
		opActor := e.actors[op]
		body := `{"to": "ops@example.com"}`
		res, err := e.svc.BeginIdempotent(context.Background(), service.IdempotencyRequest{
			OrgID: opActor.OrgID, Key: string(opActor.Kind) + ":" + opActor.ID + ":dead", Operation: "POST " + mailTests, RequestHash: hashOf(body), Lock: time.Minute, TTL: 24 * time.Hour})
		if err != nil || res.Verdict != service.IdempotencyProceed {
			t.Fatal(res, err)
		}
		wantProblem(t, e.do("POST", mailTests, op, body, "Idempotency-Key", "dead"), 409, "idempotency_key_in_use")
		clock.Advance(2 * time.Minute)
		if r := e.do("POST", mailTests, op, body, "Idempotency-Key", "dead"); r.status != 201 {
			t.Fatalf("retry after the lock expired: %d %s", r.status, r.body)
		}
		if q := e.queued(); q != 1 {
			t.Fatalf("%d queued", q)
		}
	})
}

func hashOf(body string) string { return api.RequestHash("POST "+mailTests, []byte(body)) }

// Within an organization, keys are the caller's own: another user sending
// the same key and body runs the request, and never gets the first user's
// stored response.
func TestIdempotencyKeysAreTheCallers(t *testing.T) {
	e := newEnv(t, "sqlite")
	first := e.operator()
	second := e.actor(e.actors[first].OrgID, csphub.RoleOperatorAdmin)
	body := `{"to": "ops@example.com"}`
	a := e.do("POST", mailTests, first, body, "Idempotency-Key", "shared")
	b := e.do("POST", mailTests, second, body, "Idempotency-Key", "shared")
	if a.status != 201 || b.status != 201 || b.header.Get("Idempotent-Replayed") == "true" || string(a.body) == string(b.body) {
		t.Fatalf("first %d %s, second %d %v %s", a.status, a.body, b.status, b.header, b.body)
	}
	if n := e.queued(); n != 2 {
		t.Fatalf("%d messages queued, want 2", n)
	}
}
