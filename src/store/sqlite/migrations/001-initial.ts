/**
 * Organizations, API keys, refunds and their append-only audit trail. The CHECK constraints and
 * triggers repeat the domain's rules at the storage level, so that no writer (a bug, a script,
 * a second process) can store a refund the contract does not allow.
 */
export const name = 'initial schema';

export const sql = `
CREATE TABLE organizations (
  id          TEXT PRIMARY KEY CHECK (id GLOB 'org_[a-z0-9]*' AND length(id) = 16),
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
  id               TEXT PRIMARY KEY CHECK (id GLOB 'key_[a-z0-9]*' AND length(id) = 16),
  organization_id  TEXT NOT NULL REFERENCES organizations(id),
  -- Only a SHA-256 of the key is kept; the key itself is shown once, when it is created.
  key_hash         TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  -- Enough of the key to recognise it in a list (rk_live_AbCd), never enough to use it.
  display_prefix   TEXT NOT NULL,
  mode             TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  created_at       TEXT NOT NULL,
  revoked_at       TEXT
);
CREATE INDEX api_keys_by_org ON api_keys (organization_id);

CREATE TABLE refunds (
  id                  TEXT PRIMARY KEY CHECK (id GLOB 'ref_[a-z0-9]*' AND length(id) = 16),
  organization_id     TEXT NOT NULL REFERENCES organizations(id),
  external_refund_id  TEXT,
  transaction_id      TEXT NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 255),
  amount              INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
  currency            TEXT NOT NULL CHECK (length(currency) = 3 AND currency GLOB '[a-z][a-z][a-z]'),
  reason              TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  status              TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  processor           TEXT NOT NULL CHECK (length(processor) BETWEEN 1 AND 32),
  metadata            TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object')),
  initiated_by        TEXT NOT NULL CHECK (initiated_by IN ('api', 'dashboard', 'mcp')),
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);

-- One index per list filter combination, each in the list's order (newest first), so that any
-- page is a walk along one index whatever the size of the table.
CREATE INDEX refunds_by_org ON refunds (organization_id, created_at DESC, id DESC);
CREATE INDEX refunds_by_org_status ON refunds (organization_id, status, created_at DESC, id DESC);
CREATE INDEX refunds_by_org_processor ON refunds (organization_id, processor, created_at DESC, id DESC);
CREATE INDEX refunds_by_org_status_processor ON refunds (organization_id, status, processor, created_at DESC, id DESC);
CREATE INDEX refunds_by_external_id ON refunds (processor, external_refund_id) WHERE external_refund_id IS NOT NULL;

-- The status machine, enforced by the database itself (mirrors src/domain/refund.ts).
CREATE TRIGGER refunds_legal_transition
BEFORE UPDATE OF status ON refunds
WHEN OLD.status <> NEW.status AND NOT (
     (OLD.status = 'pending'    AND NEW.status IN ('processing', 'completed', 'failed', 'cancelled'))
  OR (OLD.status = 'processing' AND NEW.status IN ('completed', 'failed', 'cancelled'))
  OR (OLD.status = 'completed'  AND NEW.status = 'failed')
)
BEGIN
  SELECT RAISE(ABORT, 'illegal refund status transition');
END;

CREATE TABLE refund_events (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  refund_id        TEXT NOT NULL REFERENCES refunds(id),
  organization_id  TEXT NOT NULL REFERENCES organizations(id),
  -- NULL for the event that records the refund's creation.
  from_status      TEXT CHECK (from_status IS NULL OR from_status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  to_status        TEXT NOT NULL CHECK (to_status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  initiated_by     TEXT NOT NULL CHECK (initiated_by IN ('api', 'dashboard', 'mcp', 'system')),
  created_at       TEXT NOT NULL,
  detail           TEXT
);
CREATE INDEX refund_events_by_refund ON refund_events (refund_id, id);

-- The audit trail is append-only.
CREATE TRIGGER refund_events_no_update BEFORE UPDATE ON refund_events
BEGIN
  SELECT RAISE(ABORT, 'refund_events is append-only');
END;
CREATE TRIGGER refund_events_no_delete BEFORE DELETE ON refund_events
BEGIN
  SELECT RAISE(ABORT, 'refund_events is append-only');
END;
`;
