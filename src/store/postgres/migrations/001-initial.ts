/**
 * Organizations, API keys, refunds and their append-only audit trail, as SQLite's 001: the CHECKs
 * repeat the domain's rules, a trigger enforces the status machine, another keeps the events.
 */
import { STATUSES, TEXT } from './text.js';

export const name = 'initial schema';

export const sql = `
CREATE TABLE organizations (
  id          ${TEXT} PRIMARY KEY CHECK (id ~ '^org_[a-z0-9]{12}$'),
  name        ${TEXT} NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  ${TEXT} NOT NULL
);

CREATE TABLE api_keys (
  id               ${TEXT} PRIMARY KEY CHECK (id ~ '^key_[a-z0-9]{12}$'),
  organization_id  ${TEXT} NOT NULL REFERENCES organizations(id),
  -- Only a SHA-256 of the key is kept; the key itself is shown once, when it is created.
  key_hash         ${TEXT} NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  display_prefix   ${TEXT} NOT NULL,
  mode             ${TEXT} NOT NULL CHECK (mode IN ('live', 'test')),
  created_at       ${TEXT} NOT NULL,
  revoked_at       ${TEXT}
);
CREATE INDEX api_keys_by_org ON api_keys (organization_id);

CREATE TABLE refunds (
  id                  ${TEXT} PRIMARY KEY CHECK (id ~ '^ref_[a-z0-9]{12}$'),
  organization_id     ${TEXT} NOT NULL REFERENCES organizations(id),
  external_refund_id  ${TEXT},
  transaction_id      ${TEXT} NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 255),
  amount              bigint NOT NULL CHECK (amount > 0),
  currency            ${TEXT} NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  reason              ${TEXT} NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  status              ${TEXT} NOT NULL CHECK (status IN ${STATUSES}),
  processor           ${TEXT} NOT NULL CHECK (length(processor) BETWEEN 1 AND 32),
  -- json, not jsonb: the caller's metadata comes back as it was sent, keys in their order.
  metadata            json CHECK (metadata IS NULL OR json_typeof(metadata) = 'object'),
  initiated_by        ${TEXT} NOT NULL CHECK (initiated_by IN ('api', 'dashboard', 'mcp')),
  created_at          ${TEXT} NOT NULL,
  updated_at          ${TEXT} NOT NULL
);

-- One index per list filter combination, each in the list's order (newest first), so that any
-- page is a walk along one index whatever the size of the table.
CREATE INDEX refunds_by_org ON refunds (organization_id, created_at DESC, id DESC);
CREATE INDEX refunds_by_org_status ON refunds (organization_id, status, created_at DESC, id DESC);
CREATE INDEX refunds_by_org_processor ON refunds (organization_id, processor, created_at DESC, id DESC);
CREATE INDEX refunds_by_org_status_processor ON refunds (organization_id, status, processor, created_at DESC, id DESC);
CREATE INDEX refunds_by_external_id ON refunds (processor, external_refund_id) WHERE external_refund_id IS NOT NULL;

-- The status machine, enforced by the database itself (mirrors src/domain/refund.ts).
CREATE FUNCTION refunds_legal_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> NEW.status AND NOT (
       (OLD.status = 'pending'    AND NEW.status IN ('processing', 'completed', 'failed', 'cancelled'))
    OR (OLD.status = 'processing' AND NEW.status IN ('completed', 'failed', 'cancelled'))
    OR (OLD.status = 'completed'  AND NEW.status = 'failed')
  ) THEN
    RAISE EXCEPTION 'illegal refund status transition % -> %', OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refunds_legal_transition BEFORE UPDATE OF status ON refunds
  FOR EACH ROW EXECUTE FUNCTION refunds_legal_transition();

CREATE TABLE refund_events (
  id               bigserial PRIMARY KEY,
  refund_id        ${TEXT} NOT NULL REFERENCES refunds(id),
  organization_id  ${TEXT} NOT NULL REFERENCES organizations(id),
  -- NULL for the event that records the refund's creation.
  from_status      ${TEXT} CHECK (from_status IS NULL OR from_status IN ${STATUSES}),
  to_status        ${TEXT} NOT NULL CHECK (to_status IN ${STATUSES}),
  initiated_by     ${TEXT} NOT NULL CHECK (initiated_by IN ('api', 'dashboard', 'mcp', 'system')),
  created_at       ${TEXT} NOT NULL,
  detail           ${TEXT}
);
CREATE INDEX refund_events_by_refund ON refund_events (refund_id, id);

-- Append-only tables refuse UPDATE, DELETE and TRUNCATE (TRUNCATE fires no row trigger).
CREATE FUNCTION refuse_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER refund_events_append_only BEFORE UPDATE OR DELETE ON refund_events
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only();
CREATE TRIGGER refund_events_no_truncate BEFORE TRUNCATE ON refund_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only();
`;
