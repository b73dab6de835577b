-- +goose Up
-- A user belongs to exactly one organization. Emails are stored lowercased
-- and are unique across the deployment, so that signing in needs no tenant.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    lang            TEXT NOT NULL DEFAULT 'en',
    password_hash   TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    totp_secret     TEXT,
    totp_enabled_at TIMESTAMP,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_org ON users (org_id, email);

CREATE TABLE user_roles (
    org_id  TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, role)
);
CREATE INDEX user_roles_user ON user_roles (user_id);

-- Server-side sessions; only the SHA-256 of the session id is stored.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL,
    mfa_passed_at TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- API tokens of an organization; only the SHA-256 of the secret is stored.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    roles        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP
);
CREATE INDEX api_tokens_org ON api_tokens (org_id, created_at, id);

-- Single-use MFA recovery codes; only their SHA-256 is stored.
CREATE TABLE mfa_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);

-- Emailed single-use links to set a password (reset, first operator
-- admin); only the SHA-256 of the token is stored.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- Failed sign-in counters per account and per client address.
CREATE TABLE sign_in_throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP
);

-- +goose Down
DROP TABLE sign_in_throttle;
DROP TABLE password_resets;
DROP TABLE mfa_recovery_codes;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
