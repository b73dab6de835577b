-- +goose Up
-- An organization's OpenID Connect provider for single sign-on. The client
-- secret is kept because csphub must present it to redeem authorization
-- codes; no read path of the service returns it. disabled_at set: sign-in
-- through the provider is off, the settings are kept for re-enabling.
CREATE TABLE sso_configs (
    org_id        UUID PRIMARY KEY REFERENCES organizations (id),
    issuer        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    disabled_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Email domains whose users may sign in through the organization's
-- provider; looked up by domain to start a sign-in from an email address.
CREATE TABLE sso_domains (
    org_id UUID NOT NULL REFERENCES sso_configs (org_id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (org_id, domain)
);
CREATE INDEX sso_domains_domain ON sso_domains (domain);

-- Sign-ins in flight: created when the browser is sent to the provider,
-- consumed once by the callback, void after expires_at. Only the SHA-256 of
-- the state and of the nonce are stored; the PKCE verifier must be sent to
-- the provider, so it is kept as is, for minutes.
CREATE TABLE sso_attempts (
    state_hash     TEXT PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organizations (id),
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    nonce_hash     TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    redirect_after TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ
);
CREATE INDEX sso_attempts_org ON sso_attempts (org_id);
CREATE INDEX sso_attempts_expiry ON sso_attempts (expires_at);

-- +goose Down
DROP TABLE sso_attempts;
DROP TABLE sso_domains;
DROP TABLE sso_configs;
