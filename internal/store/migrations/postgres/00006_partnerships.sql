-- +goose Up
-- The regions the operator authorized each indirect provider for.
CREATE TABLE provider_regions (
    org_id        UUID NOT NULL REFERENCES organizations (id),
    region_code   TEXT NOT NULL REFERENCES regions (code),
    authorized_at TIMESTAMPTZ NOT NULL,
    authorized_by TEXT NOT NULL,
    PRIMARY KEY (org_id, region_code)
);
CREATE INDEX provider_regions_region ON provider_regions (region_code, org_id);

-- Provider–reseller relationships, from the emailed invitation on:
-- invited → active → suspended | terminated, invited → declined | expired |
-- cancelled. reseller_id is set when a reseller accepts; the link's token
-- is kept as its SHA-256 only.
CREATE TABLE partnerships (
    id                 UUID PRIMARY KEY,
    provider_id        UUID NOT NULL REFERENCES organizations (id),
    reseller_id        UUID REFERENCES organizations (id),
    state              TEXT NOT NULL CHECK (state IN ('invited', 'active', 'suspended', 'terminated', 'declined', 'expired', 'cancelled')),
    invited_email      TEXT NOT NULL,
    invited_partner_id TEXT NOT NULL,
    token_hash         TEXT NOT NULL UNIQUE,
    invited_by         TEXT NOT NULL,
    invited_at         TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    region_code        TEXT,
    accepted_by        TEXT,
    accepted_at        TIMESTAMPTZ,
    ended_by_org       UUID,
    ended_reason       TEXT NOT NULL,
    ended_at           TIMESTAMPTZ,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            INTEGER NOT NULL
);
-- At most one live relationship between two partners.
CREATE UNIQUE INDEX partnerships_one_live ON partnerships (provider_id, reseller_id) WHERE state IN ('active', 'suspended');
CREATE INDEX partnerships_provider ON partnerships (provider_id, invited_at, id);
CREATE INDEX partnerships_reseller ON partnerships (reseller_id, accepted_at, id) WHERE reseller_id IS NOT NULL;
CREATE INDEX partnerships_open_invitations ON partnerships (expires_at, id) WHERE state = 'invited';

-- Delegated admin grants: users of the grantee act in the grantor's
-- organization with the listed roles only, until the grant ends.
CREATE TABLE delegated_admin_grants (
    id             UUID PRIMARY KEY,
    grantor_id     UUID NOT NULL REFERENCES organizations (id),
    grantee_id     UUID NOT NULL REFERENCES organizations (id),
    partnership_id UUID REFERENCES partnerships (id),
    roles          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'active', 'terminated', 'expired')),
    duration_days  INTEGER NOT NULL,
    auto_extend    BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    activated_at   TIMESTAMPTZ,
    expires_at     TIMESTAMPTZ NOT NULL,
    ended_at       TIMESTAMPTZ,
    ended_by       TEXT,
    updated_at     TIMESTAMPTZ NOT NULL,
    version        INTEGER NOT NULL
);
CREATE INDEX delegated_admin_grants_grantee ON delegated_admin_grants (grantee_id, grantor_id, state);
CREATE INDEX delegated_admin_grants_grantor ON delegated_admin_grants (grantor_id, created_at, id);
CREATE INDEX delegated_admin_grants_received ON delegated_admin_grants (grantee_id, created_at, id);
CREATE INDEX delegated_admin_grants_pending ON delegated_admin_grants (created_at, id) WHERE state = 'pending';
CREATE INDEX delegated_admin_grants_expiring ON delegated_admin_grants (expires_at, id) WHERE state IN ('pending', 'active');

-- The provider directory: an approved provider's listing; a partner's
-- business (marketing) profile; resellers' contact requests to providers.
CREATE TABLE provider_listings (
    org_id        UUID PRIMARY KEY REFERENCES organizations (id),
    published     BOOLEAN NOT NULL,
    description   TEXT NOT NULL,
    website       TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    languages     TEXT NOT NULL,
    services      TEXT NOT NULL,
    markets       TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       INTEGER NOT NULL
);
CREATE TABLE business_profiles (
    org_id      UUID PRIMARY KEY REFERENCES organizations (id),
    description TEXT NOT NULL,
    website     TEXT NOT NULL,
    industries  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     INTEGER NOT NULL
);
CREATE TABLE contact_requests (
    id          UUID PRIMARY KEY,
    provider_id UUID NOT NULL REFERENCES organizations (id),
    reseller_id UUID NOT NULL REFERENCES organizations (id),
    user_id     UUID NOT NULL,
    message     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ
);
CREATE INDEX contact_requests_provider ON contact_requests (provider_id, created_at, id);
CREATE INDEX contact_requests_reseller ON contact_requests (reseller_id, created_at);

-- +goose Down
DROP TABLE contact_requests;
DROP TABLE business_profiles;
DROP TABLE provider_listings;
DROP TABLE delegated_admin_grants;
DROP TABLE partnerships;
DROP TABLE provider_regions;
