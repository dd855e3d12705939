/**
 * Agent policies, approval requests, key scopes and the key that created a refund (SQLite's 006).
 */
import { TEXT } from './text.js';

export const name = 'agent policies, approval requests, key scopes, refund creator key';

export const sql = `
CREATE TABLE agent_policies (
  organization_id  ${TEXT} PRIMARY KEY REFERENCES organizations(id),
  policy           json NOT NULL CHECK (json_typeof(policy) = 'object'),
  updated_at       ${TEXT} NOT NULL,
  updated_by       ${TEXT} NOT NULL CHECK (length(updated_by) BETWEEN 1 AND 200)
);

CREATE TABLE approval_requests (
  id                   ${TEXT} PRIMARY KEY CHECK (id ~ '^apr_[a-z0-9]{12}$'),
  organization_id      ${TEXT} NOT NULL REFERENCES organizations(id),
  refund_id            ${TEXT} NOT NULL UNIQUE REFERENCES refunds(id),
  amount               bigint NOT NULL CHECK (amount > 0),
  currency             ${TEXT} NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  reason               ${TEXT} NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  transaction_id       ${TEXT} NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 255),
  requested_by_key_id  ${TEXT} NOT NULL REFERENCES api_keys(id),
  rule                 ${TEXT} NOT NULL CHECK (rule IN ('reason', 'transaction_remaining', 'max_per_refund', 'daily_count',
                         'daily_amount', 'unlisted_currency', 'approval_threshold', 'confirmation', 'cancel_others')),
  rule_message         ${TEXT} NOT NULL CHECK (length(rule_message) BETWEEN 1 AND 1000),
  status               ${TEXT} NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'expired')),
  decided_by           ${TEXT} CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 200),
  decided_at           ${TEXT},
  note                 ${TEXT} CHECK (note IS NULL OR length(note) <= 500),
  expires_at           ${TEXT} NOT NULL,
  created_at           ${TEXT} NOT NULL,
  CHECK ((status = 'requested') = (decided_at IS NULL)),
  CHECK ((status = 'requested') = (decided_by IS NULL))
);
CREATE INDEX approval_requests_by_org ON approval_requests (organization_id, created_at DESC, id DESC);
CREATE INDEX approval_requests_due ON approval_requests (expires_at) WHERE status = 'requested';

-- A decision is final: an approval request leaves 'requested' once, and its facts never change.
CREATE FUNCTION approval_requests_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'approval_requests are kept' USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.status <> 'requested' OR NEW.id <> OLD.id OR NEW.refund_id <> OLD.refund_id OR NEW.amount <> OLD.amount
    OR NEW.requested_by_key_id <> OLD.requested_by_key_id OR NEW.expires_at <> OLD.expires_at THEN
    RAISE EXCEPTION 'an approval request is decided once' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER approval_requests_decided_once BEFORE UPDATE OR DELETE ON approval_requests
  FOR EACH ROW EXECUTE FUNCTION approval_requests_decided_once();
CREATE TRIGGER approval_requests_no_truncate BEFORE TRUNCATE ON approval_requests
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only();

ALTER TABLE api_keys ADD COLUMN scopes ${TEXT} NOT NULL DEFAULT 'read,write'
  CHECK (length(scopes) BETWEEN 1 AND 100 AND scopes ~ '^[a-z,]+$');

ALTER TABLE refunds ADD COLUMN created_by_key_id ${TEXT} REFERENCES api_keys(id);
CREATE INDEX refunds_agent_budget ON refunds (organization_id, currency, created_at)
  WHERE initiated_by = 'mcp' AND created_by_key_id IS NOT NULL;
CREATE INDEX refunds_by_transaction ON refunds (organization_id, transaction_id);
`;
