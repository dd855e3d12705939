/**
 * Guardrails for agents (issue 11): each organization's agent policy, the approval requests that
 * hold an agent's refund for a person, the scopes of each API key, and which key created a refund
 * (so that budgets count agent refunds and an agent may cancel only its own).
 */
export const name = 'agent policies, approval requests, key scopes, refund creator key';

export const sql = `
CREATE TABLE agent_policies (
  organization_id  TEXT PRIMARY KEY REFERENCES organizations(id),
  -- The policy as the domain's parseAgentPolicy accepts it; read back through the same parser.
  policy           TEXT NOT NULL CHECK (json_valid(policy) AND json_type(policy) = 'object'),
  updated_at       TEXT NOT NULL,
  -- Who set it: operator:NAME (CLI, dashboard), key:KEY_ID (REST with the admin scope), system.
  updated_by       TEXT NOT NULL CHECK (length(updated_by) BETWEEN 1 AND 200)
) WITHOUT ROWID;

CREATE TABLE approval_requests (
  id                   TEXT PRIMARY KEY CHECK (id GLOB 'apr_[a-z0-9]*' AND length(id) = 16),
  organization_id      TEXT NOT NULL REFERENCES organizations(id),
  refund_id            TEXT NOT NULL UNIQUE REFERENCES refunds(id),
  amount               INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
  currency             TEXT NOT NULL CHECK (length(currency) = 3 AND currency GLOB '[a-z][a-z][a-z]'),
  reason               TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  transaction_id       TEXT NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 255),
  requested_by_key_id  TEXT NOT NULL REFERENCES api_keys(id),
  rule                 TEXT NOT NULL CHECK (rule IN ('reason', 'transaction_remaining', 'max_per_refund', 'daily_count',
                         'daily_amount', 'unlisted_currency', 'approval_threshold', 'confirmation', 'cancel_others')),
  rule_message         TEXT NOT NULL CHECK (length(rule_message) BETWEEN 1 AND 1000),
  status               TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'expired')),
  decided_by           TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 200),
  decided_at           TEXT,
  note                 TEXT CHECK (note IS NULL OR length(note) <= 500),
  expires_at           TEXT NOT NULL,
  created_at           TEXT NOT NULL,
  -- Open exactly while undecided: a decision always says who and when.
  CHECK ((status = 'requested') = (decided_at IS NULL)),
  CHECK ((status = 'requested') = (decided_by IS NULL))
);
CREATE INDEX approval_requests_by_org ON approval_requests (organization_id, created_at DESC, id DESC);
CREATE INDEX approval_requests_due ON approval_requests (expires_at) WHERE status = 'requested';

-- A decision is final: an approval request leaves 'requested' once, and its facts never change.
CREATE TRIGGER approval_requests_decided_once
BEFORE UPDATE ON approval_requests
WHEN OLD.status <> 'requested' OR NEW.id <> OLD.id OR NEW.refund_id <> OLD.refund_id OR NEW.amount <> OLD.amount
  OR NEW.requested_by_key_id <> OLD.requested_by_key_id OR NEW.expires_at <> OLD.expires_at
BEGIN
  SELECT RAISE(ABORT, 'an approval request is decided once');
END;
CREATE TRIGGER approval_requests_no_delete BEFORE DELETE ON approval_requests
BEGIN
  SELECT RAISE(ABORT, 'approval_requests are kept');
END;

-- Keys made before scopes existed keep what they could do: read and write.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,write'
  CHECK (length(scopes) BETWEEN 1 AND 100 AND NOT scopes GLOB '*[^a-z,]*');

-- The API key whose caller created the refund (NULL: the CLI, the dashboard, a seed).
ALTER TABLE refunds ADD COLUMN created_by_key_id TEXT REFERENCES api_keys(id);
-- Agent budgets: an organization's agent refunds in a currency over the last 24 hours.
CREATE INDEX refunds_agent_budget ON refunds (organization_id, currency, created_at)
  WHERE initiated_by = 'mcp' AND created_by_key_id IS NOT NULL;
CREATE INDEX refunds_by_transaction ON refunds (organization_id, transaction_id);
`;
