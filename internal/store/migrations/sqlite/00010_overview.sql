-- +goose Up
-- The overview pages count and list what the other pages page through.
-- Each count is one range of an index (the operator's whole-program counts
-- read an index, not the table).

-- The newest audit records of an organization, its own and those made in
-- it on its behalf: ids are UUIDv7, so id order is creation order, and a
-- record shows as soon as it commits, before the sequencer chains it.
CREATE INDEX audit_records_org_recent ON audit_records (actor_org_id, id);
CREATE INDEX audit_records_on_behalf_recent ON audit_records (on_behalf_of, id) WHERE on_behalf_of IS NOT NULL;

-- A provider's relationships by state, and its invitations still open;
-- a reseller's relationships by state.
CREATE INDEX partnerships_provider_state ON partnerships (provider_id, state, expires_at);
CREATE INDEX partnerships_reseller_state ON partnerships (reseller_id, state) WHERE reseller_id IS NOT NULL;

-- A reseller's customer invitations waiting for an answer.
CREATE INDEX customer_invitations_reseller_pending ON customer_invitations (reseller_id, expires_at) WHERE state = 'pending';

-- Active subscriptions, of a provider and of a reseller of record.
CREATE INDEX subscriptions_provider_active ON subscriptions (provider_id) WHERE status = 'active';
CREATE INDEX subscriptions_reseller_active ON subscriptions (reseller_id) WHERE status = 'active';

-- The program's orders of the last days.
CREATE INDEX orders_created ON orders (created_at);

-- Memberships and applications by program and state.
CREATE INDEX enrollments_program_state ON enrollments (program, state);

-- +goose Down
DROP INDEX enrollments_program_state;
DROP INDEX orders_created;
DROP INDEX subscriptions_reseller_active;
DROP INDEX subscriptions_provider_active;
DROP INDEX customer_invitations_reseller_pending;
DROP INDEX partnerships_reseller_state;
DROP INDEX partnerships_provider_state;
DROP INDEX audit_records_on_behalf_recent;
DROP INDEX audit_records_org_recent;
