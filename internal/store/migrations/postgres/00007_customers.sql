-- +goose Up
-- name_key is an organization's name folded for sorting and prefix search
-- (set by csphub on every write: Unicode case folding, the same on both
-- engines; byte order, COLLATE "C", as SQLite sorts).
ALTER TABLE organizations ADD COLUMN name_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE organizations SET name_key = lower(name);
CREATE INDEX organizations_kind_name_key ON organizations (kind, name_key, id);
CREATE INDEX organizations_kind_created ON organizations (kind, created_at, id);

-- A customer's relationship with a partner (provider or reseller): at most
-- one live one per pair. It is what the partner's customer list reads and
-- what the customer removes. kind says what the partner is to the customer.
-- name_key copies the customer's, so that a partner's list is one index
-- range in either order.
CREATE TABLE customer_relationships (
    id          UUID PRIMARY KEY,
    customer_id UUID NOT NULL REFERENCES organizations (id),
    partner_id  UUID NOT NULL REFERENCES organizations (id),
    kind        TEXT NOT NULL CHECK (kind IN ('indirect_provider', 'indirect_reseller')),
    state       TEXT NOT NULL CHECK (state IN ('active', 'removed')),
    name_key    TEXT COLLATE "C" NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    removed_at  TIMESTAMPTZ,
    removed_by  TEXT,
    version     INTEGER NOT NULL
);
CREATE UNIQUE INDEX customer_relationships_one_live ON customer_relationships (customer_id, partner_id) WHERE state = 'active';
CREATE INDEX customer_relationships_by_name ON customer_relationships (partner_id, name_key, customer_id) WHERE state = 'active';
CREATE INDEX customer_relationships_by_date ON customer_relationships (partner_id, created_at, customer_id) WHERE state = 'active';
CREATE INDEX customer_relationships_customer ON customer_relationships (customer_id, created_at, id);

-- The three-party link: the customer's reseller relationship with an
-- indirect provider, naming the indirect reseller. A provider orders for
-- the customer only through a live link naming the reseller of record.
CREATE TABLE customer_links (
    id            UUID PRIMARY KEY,
    customer_id   UUID NOT NULL REFERENCES organizations (id),
    provider_id   UUID NOT NULL REFERENCES organizations (id),
    reseller_id   UUID NOT NULL REFERENCES organizations (id),
    state         TEXT NOT NULL CHECK (state IN ('active', 'removed')),
    name_key      TEXT COLLATE "C" NOT NULL,
    invitation_id UUID,
    created_at    TIMESTAMPTZ NOT NULL,
    removed_at    TIMESTAMPTZ,
    removed_by    TEXT,
    version       INTEGER NOT NULL
);
CREATE UNIQUE INDEX customer_links_one_live ON customer_links (customer_id, provider_id, reseller_id) WHERE state = 'active';
-- A provider's customers through one reseller; a reseller's customers
-- shared with one provider (View customers); by name and by date.
CREATE INDEX customer_links_provider_name ON customer_links (provider_id, reseller_id, name_key, customer_id) WHERE state = 'active';
CREATE INDEX customer_links_provider_date ON customer_links (provider_id, reseller_id, created_at, customer_id) WHERE state = 'active';
CREATE INDEX customer_links_reseller_name ON customer_links (reseller_id, provider_id, name_key, customer_id) WHERE state = 'active';
CREATE INDEX customer_links_reseller_date ON customer_links (reseller_id, provider_id, created_at, customer_id) WHERE state = 'active';
CREATE INDEX customer_links_customer ON customer_links (customer_id, created_at, id);

-- A reseller's emailed invitations of customers for one of its providers.
CREATE TABLE customer_invitations (
    id             UUID PRIMARY KEY,
    reseller_id    UUID NOT NULL REFERENCES organizations (id),
    provider_id    UUID NOT NULL REFERENCES organizations (id),
    email          TEXT NOT NULL,
    company_name   TEXT NOT NULL,
    lang           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
    reseller_roles TEXT NOT NULL,
    provider_roles TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    invited_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    last_sent_at   TIMESTAMPTZ NOT NULL,
    send_count     INTEGER NOT NULL,
    customer_id    UUID REFERENCES organizations (id),
    answered_at    TIMESTAMPTZ,
    version        INTEGER NOT NULL
);
CREATE INDEX customer_invitations_reseller ON customer_invitations (reseller_id, created_at, id);
CREATE INDEX customer_invitations_pending ON customer_invitations (expires_at, id) WHERE state = 'pending';

-- +goose Down
DROP TABLE customer_invitations;
DROP TABLE customer_links;
DROP TABLE customer_relationships;
DROP INDEX organizations_kind_created;
DROP INDEX organizations_kind_name_key;
ALTER TABLE organizations DROP COLUMN name_key;
