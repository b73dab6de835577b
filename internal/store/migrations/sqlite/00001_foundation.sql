-- +goose Up
CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('operator', 'partner', 'customer')),
    name       TEXT NOT NULL,
    country    TEXT NOT NULL,
    domain     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- One operator organization per deployment.
CREATE UNIQUE INDEX organizations_one_operator ON organizations (kind) WHERE kind = 'operator';
CREATE INDEX organizations_name ON organizations (kind, name, id);

-- Counters and chain heads advanced by the sequencer, one row each.
CREATE TABLE sequences (
    name      TEXT PRIMARY KEY,
    value     INTEGER NOT NULL,
    last_hash TEXT NOT NULL DEFAULT ''
);
INSERT INTO sequences (name, value) VALUES ('audit', 0), ('events', 0);

-- Append-only. position, prev_hash and hash are set once, by the chainer,
-- after commit and in commit order.
CREATE TABLE audit_records (
    id            TEXT PRIMARY KEY,
    position      INTEGER UNIQUE,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_org_id  TEXT,
    on_behalf_of  TEXT,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    before_json   TEXT,
    after_json    TEXT,
    request_id    TEXT,
    at            TIMESTAMP NOT NULL,
    prev_hash     TEXT,
    hash          TEXT
);
CREATE INDEX audit_records_unchained ON audit_records (id) WHERE position IS NULL;
CREATE INDEX audit_records_actor_org ON audit_records (actor_org_id, position);
CREATE INDEX audit_records_on_behalf ON audit_records (on_behalf_of, position) WHERE on_behalf_of IS NOT NULL;

CREATE TABLE events (
    id       TEXT PRIMARY KEY,
    position INTEGER UNIQUE,
    type     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    data     TEXT NOT NULL,
    at       TIMESTAMP NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE position IS NULL;

-- Who may see each event; position is copied from the event when it is
-- sequenced, so that one organization's feed is a range scan.
CREATE TABLE event_audience (
    org_id   TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    position INTEGER,
    PRIMARY KEY (org_id, event_id)
);
CREATE INDEX event_audience_feed ON event_audience (org_id, position) WHERE position IS NOT NULL;
CREATE INDEX event_audience_event ON event_audience (event_id);

-- Transactional outbox: written in the business transaction, delivered by
-- workers that claim rows with a lease.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    org_id          TEXT,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    -- A fresh random value at every claim: the fencing token that the
    -- holder's outcome must match. attempts cannot be one, since a retry
    -- or a release takes it back to an earlier value.
    lease_id        TEXT,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    -- When the row went to the dead-letter list: operators page by it, so
    -- that a row dying later never falls behind their cursor.
    dead_at         TIMESTAMP,
    CHECK (state <> 'dead' OR dead_at IS NOT NULL)
);
-- A claimed row's next_attempt_at is its lease end, so that one range scan
-- finds both due rows and rows whose worker died; the count of this index is
-- the outbox depth.
CREATE INDEX outbox_due ON outbox (kind, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (dead_at, id) WHERE state = 'dead';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';

-- Messages kept locally when no SMTP server is configured.
CREATE TABLE mailbox (
    id         TEXT PRIMARY KEY,
    outbox_id  TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL,
    from_addr  TEXT NOT NULL,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mailbox_recent ON mailbox (created_at DESC, id DESC);
CREATE INDEX mailbox_to ON mailbox (to_addr, created_at DESC, id DESC);

CREATE TABLE idempotency_keys (
    org_id       TEXT NOT NULL,
    key          TEXT NOT NULL,
    operation    TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status       INTEGER,
    response     TEXT,
    locked_until TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE mailbox;
DROP TABLE outbox;
DROP TABLE event_audience;
DROP TABLE events;
DROP TABLE audit_records;
DROP TABLE sequences;
DROP TABLE organizations;
