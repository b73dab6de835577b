-- +goose Up
-- Emailed single-use links that let an invited user choose a password.
-- Only the SHA-256 of the token is stored, so a copy of the database yields
-- no usable link. The row binds the link to its organization, user and
-- email; accepting checks all three.
CREATE TABLE user_invitations (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX user_invitations_user ON user_invitations (user_id);

-- User management lists an organization's users in creation order.
CREATE INDEX users_org_created ON users (org_id, created_at, id);

-- +goose Down
DROP INDEX users_org_created;
DROP TABLE user_invitations;
