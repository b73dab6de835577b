-- +goose Up
-- The catalogue: one row per offer (a SKU sold in one market), keyed by
-- the operator's stable code so that imports update in place.
CREATE TABLE offers (
    id             UUID PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    product_code   TEXT NOT NULL,
    product_name   TEXT NOT NULL,
    sku_code       TEXT NOT NULL,
    sku_name       TEXT NOT NULL,
    market         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    price_minor    BIGINT NOT NULL CHECK (price_minor >= 0),
    billing_cycle  TEXT NOT NULL CHECK (billing_cycle IN ('monthly', 'annual')),
    term           TEXT NOT NULL CHECK (term IN ('P1M', 'P1Y', 'P3Y')),
    min_quantity   INTEGER NOT NULL,
    max_quantity   INTEGER NOT NULL,
    available_from TIMESTAMPTZ NOT NULL,
    available_to   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX offers_market ON offers (market, product_code, code);

-- Orders of a provider for a customer, and their lines.
CREATE TABLE orders (
    id          UUID PRIMARY KEY,
    customer_id UUID NOT NULL REFERENCES organizations (id),
    provider_id UUID NOT NULL REFERENCES organizations (id),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'completed', 'failed', 'cancelled')),
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_provider ON orders (provider_id, created_at, id);
CREATE INDEX orders_customer ON orders (customer_id, created_at, id);

CREATE TABLE order_lines (
    id               UUID PRIMARY KEY,
    order_id         UUID NOT NULL REFERENCES orders (id),
    position         INTEGER NOT NULL,
    offer_id         UUID NOT NULL REFERENCES offers (id),
    quantity         INTEGER NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    reseller_id      UUID NOT NULL REFERENCES organizations (id),
    subscription_id  UUID,
    UNIQUE (order_id, position)
);
CREATE INDEX order_lines_reseller ON order_lines (reseller_id, order_id);

-- Subscriptions, one per completed order line.
CREATE TABLE subscriptions (
    id          UUID PRIMARY KEY,
    customer_id UUID NOT NULL REFERENCES organizations (id),
    provider_id UUID NOT NULL REFERENCES organizations (id),
    reseller_id UUID NOT NULL REFERENCES organizations (id),
    offer_id    UUID NOT NULL REFERENCES offers (id),
    order_id    UUID NOT NULL REFERENCES orders (id),
    quantity    INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'cancelled', 'expired')),
    auto_renew  BOOLEAN NOT NULL,
    term_start  TIMESTAMPTZ NOT NULL,
    term_end    TIMESTAMPTZ NOT NULL,
    renewed_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     INTEGER NOT NULL
);
CREATE INDEX subscriptions_provider ON subscriptions (provider_id, created_at, id);
CREATE INDEX subscriptions_reseller ON subscriptions (reseller_id, created_at, id);
CREATE INDEX subscriptions_customer ON subscriptions (customer_id, created_at, id);
CREATE INDEX subscriptions_due ON subscriptions (term_end, id) WHERE status IN ('active', 'suspended');

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE offers;
