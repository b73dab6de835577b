-- +goose Up
-- The delegated admin roles a provider's invitation asks for (comma
-- separated); accepting it gives the provider a grant of exactly these.
-- Invitations sent before asked for admin agent.
ALTER TABLE partnerships ADD COLUMN grant_roles TEXT NOT NULL DEFAULT 'admin_agent';

-- +goose Down
ALTER TABLE partnerships DROP COLUMN grant_roles;
