-- +goose Up
-- Reference data: the program's regions and, per country, its market
-- currency. A partner's region follows from its legal country. The
-- operator may edit these rows; the defaults follow the regional markets
-- of the largest cloud partner programs.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
INSERT INTO regions (code, name) VALUES
    ('europe', 'Europe'),
    ('north_america', 'North America'),
    ('latin_america', 'Latin America'),
    ('asia_pacific', 'Asia Pacific'),
    ('middle_east_africa', 'Middle East and Africa');

CREATE TABLE markets (
    country     TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions (code),
    currency    TEXT NOT NULL
);
CREATE INDEX markets_region ON markets (region_code, country);
INSERT INTO markets (country, region_code, currency) VALUES
    ('AT', 'europe', 'EUR'),
    ('BE', 'europe', 'EUR'),
    ('BG', 'europe', 'EUR'),
    ('HR', 'europe', 'EUR'),
    ('CY', 'europe', 'EUR'),
    ('CZ', 'europe', 'EUR'),
    ('DK', 'europe', 'DKK'),
    ('EE', 'europe', 'EUR'),
    ('FI', 'europe', 'EUR'),
    ('FR', 'europe', 'EUR'),
    ('DE', 'europe', 'EUR'),
    ('GR', 'europe', 'EUR'),
    ('HU', 'europe', 'EUR'),
    ('IE', 'europe', 'EUR'),
    ('IS', 'europe', 'EUR'),
    ('IT', 'europe', 'EUR'),
    ('LV', 'europe', 'EUR'),
    ('LI', 'europe', 'CHF'),
    ('LT', 'europe', 'EUR'),
    ('LU', 'europe', 'EUR'),
    ('MT', 'europe', 'EUR'),
    ('NL', 'europe', 'EUR'),
    ('NO', 'europe', 'NOK'),
    ('PL', 'europe', 'EUR'),
    ('PT', 'europe', 'EUR'),
    ('RO', 'europe', 'EUR'),
    ('SK', 'europe', 'EUR'),
    ('SI', 'europe', 'EUR'),
    ('ES', 'europe', 'EUR'),
    ('SE', 'europe', 'SEK'),
    ('CH', 'europe', 'CHF'),
    ('GB', 'europe', 'GBP'),
    ('US', 'north_america', 'USD'),
    ('CA', 'north_america', 'CAD'),
    ('AR', 'latin_america', 'USD'),
    ('BR', 'latin_america', 'BRL'),
    ('CL', 'latin_america', 'USD'),
    ('CO', 'latin_america', 'USD'),
    ('CR', 'latin_america', 'USD'),
    ('MX', 'latin_america', 'USD'),
    ('PA', 'latin_america', 'USD'),
    ('PE', 'latin_america', 'USD'),
    ('UY', 'latin_america', 'USD'),
    ('AU', 'asia_pacific', 'AUD'),
    ('NZ', 'asia_pacific', 'NZD'),
    ('JP', 'asia_pacific', 'JPY'),
    ('KR', 'asia_pacific', 'KRW'),
    ('IN', 'asia_pacific', 'INR'),
    ('TW', 'asia_pacific', 'TWD'),
    ('SG', 'asia_pacific', 'USD'),
    ('HK', 'asia_pacific', 'USD'),
    ('MY', 'asia_pacific', 'USD'),
    ('PH', 'asia_pacific', 'USD'),
    ('TH', 'asia_pacific', 'USD'),
    ('ID', 'asia_pacific', 'USD'),
    ('VN', 'asia_pacific', 'USD'),
    ('AE', 'middle_east_africa', 'USD'),
    ('SA', 'middle_east_africa', 'USD'),
    ('IL', 'middle_east_africa', 'USD'),
    ('QA', 'middle_east_africa', 'USD'),
    ('KW', 'middle_east_africa', 'USD'),
    ('BH', 'middle_east_africa', 'USD'),
    ('OM', 'middle_east_africa', 'USD'),
    ('EG', 'middle_east_africa', 'USD'),
    ('ZA', 'middle_east_africa', 'USD'),
    ('NG', 'middle_east_africa', 'USD'),
    ('KE', 'middle_east_africa', 'USD'),
    ('MA', 'middle_east_africa', 'USD'),
    ('TN', 'middle_east_africa', 'USD'),
    ('TR', 'middle_east_africa', 'USD');

-- Web-mail domains the operator refuses for a primary contact, on top of
-- the built-in list.
CREATE TABLE webmail_domains (
    domain     TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);

-- Partner IDs: the program's numeric identifiers, imported by the operator
-- (with a claim code whose SHA-256 alone is kept) or issued at enrollment.
-- org_id is set when an organization links the ID.
CREATE TABLE partner_ids (
    partner_id      TEXT PRIMARY KEY,
    legal_name      TEXT NOT NULL,
    country         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    source          TEXT NOT NULL CHECK (source IN ('imported', 'issued')),
    claim_code_hash TEXT,
    org_id          UUID REFERENCES organizations (id),
    created_at      TIMESTAMPTZ NOT NULL,
    linked_at       TIMESTAMPTZ
);
CREATE UNIQUE INDEX partner_ids_org ON partner_ids (org_id) WHERE org_id IS NOT NULL;
CREATE INDEX partner_ids_created ON partner_ids (created_at, partner_id);

-- A partner organization's legal business profile and contacts, one row
-- per organization, written by its first enrollment.
CREATE TABLE partner_profiles (
    org_id             UUID PRIMARY KEY REFERENCES organizations (id),
    partner_id         TEXT NOT NULL UNIQUE REFERENCES partner_ids (partner_id),
    legal_name         TEXT NOT NULL,
    address_line1      TEXT NOT NULL,
    address_line2      TEXT NOT NULL,
    city               TEXT NOT NULL,
    state              TEXT NOT NULL,
    postal_code        TEXT NOT NULL,
    country            TEXT NOT NULL,
    primary_first_name TEXT NOT NULL,
    primary_last_name  TEXT NOT NULL,
    primary_email      TEXT NOT NULL,
    primary_phone      TEXT NOT NULL,
    primary_lang       TEXT NOT NULL,
    support_email      TEXT NOT NULL,
    support_phone      TEXT NOT NULL,
    support_website    TEXT NOT NULL,
    version            INTEGER NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- Applications to a program and their review. One open (not rejected)
-- enrollment per organization and program: an approved one is the
-- membership. country is the applicant's, copied for the review queue.
CREATE TABLE enrollments (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organizations (id),
    program      TEXT NOT NULL CHECK (program IN ('indirect_reseller', 'indirect_provider')),
    state        TEXT NOT NULL CHECK (state IN ('submitted', 'email_verification_pending', 'in_review', 'info_requested', 'approved', 'rejected')),
    country      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    decided_at   TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      INTEGER NOT NULL
);
CREATE UNIQUE INDEX enrollments_one_open ON enrollments (org_id, program) WHERE state <> 'rejected';
CREATE INDEX enrollments_org ON enrollments (org_id, submitted_at);
CREATE INDEX enrollments_queue ON enrollments (due_at, id);
CREATE INDEX enrollments_queue_state ON enrollments (state, due_at, id);
CREATE INDEX enrollments_queue_country ON enrollments (country, due_at, id);

-- The status of each verification check of an enrollment.
CREATE TABLE enrollment_checks (
    enrollment_id UUID NOT NULL REFERENCES enrollments (id),
    name          TEXT NOT NULL CHECK (name IN ('email_ownership', 'email_domain', 'partner_id_location', 'business')),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'passed', 'failed', 'attention')),
    reason        TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (enrollment_id, name)
);

-- Every transition of an enrollment: who, when, from which state to which,
-- and the reason the applicant sees.
CREATE TABLE enrollment_transitions (
    id            UUID PRIMARY KEY,
    enrollment_id UUID NOT NULL REFERENCES enrollments (id),
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_org_id  TEXT,
    actor_name    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX enrollment_transitions_enrollment ON enrollment_transitions (enrollment_id, at, id);

-- Emailed single-use links with which the primary contact proves they own
-- their address. Only the SHA-256 of the token is stored; the row binds it
-- to its enrollment, organization and email.
CREATE TABLE enrollment_email_tokens (
    token_hash    TEXT PRIMARY KEY,
    enrollment_id UUID NOT NULL REFERENCES enrollments (id),
    org_id        UUID NOT NULL REFERENCES organizations (id),
    email         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ
);
CREATE INDEX enrollment_email_tokens_enrollment ON enrollment_email_tokens (enrollment_id);

-- Partner agreements: versions published by the operator, each for a set
-- of regions, and the acceptances of partners' global admins.
CREATE TABLE agreements (
    id           UUID PRIMARY KEY,
    version      TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    url          TEXT NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    published_by TEXT NOT NULL
);
CREATE TABLE agreement_regions (
    agreement_id UUID NOT NULL REFERENCES agreements (id),
    region_code  TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (region_code, agreement_id)
);
CREATE INDEX agreement_regions_agreement ON agreement_regions (agreement_id);
CREATE TABLE agreement_acceptances (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organizations (id),
    agreement_id UUID NOT NULL REFERENCES agreements (id),
    region_code  TEXT NOT NULL,
    user_id      UUID NOT NULL,
    signer_name  TEXT NOT NULL,
    signer_email TEXT NOT NULL,
    signer_phone TEXT NOT NULL,
    accepted_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, agreement_id)
);
CREATE INDEX agreement_acceptances_org ON agreement_acceptances (org_id, accepted_at);

-- +goose Down
DROP TABLE agreement_acceptances;
DROP TABLE agreement_regions;
DROP TABLE agreements;
DROP TABLE enrollment_email_tokens;
DROP TABLE enrollment_transitions;
DROP TABLE enrollment_checks;
DROP TABLE enrollments;
DROP TABLE partner_profiles;
DROP TABLE partner_ids;
DROP TABLE webmail_domains;
DROP TABLE markets;
DROP TABLE regions;
