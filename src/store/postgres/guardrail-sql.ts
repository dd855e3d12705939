/**
 * The SQL of the PostgreSQL guardrail store (the same statements as SQLite's guardrail-sql.ts, in
 * PostgreSQL's parameters). Approval rows read back through SQLite's toApproval: one mapping.
 */
export { toApproval, type ApprovalRow } from '../sqlite/guardrail-sql.js';

export const POLICY = 'SELECT policy, updated_at, updated_by FROM agent_policies WHERE organization_id = $1';

export const SET_POLICY = `INSERT INTO agent_policies (organization_id, policy, updated_at, updated_by) VALUES ($1, $2, $3, $4)
  ON CONFLICT (organization_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at, updated_by = excluded.updated_by`;

/** Agent refunds that hold budget (see SQLite's BUDGET_USAGE for which). $1 org, $2 currency, $3 since. */
export const BUDGET_USAGE = `SELECT count(*) AS count, coalesce(sum(r.amount), 0)::bigint AS amount FROM refunds r
  WHERE r.organization_id = $1 AND r.currency = $2 AND r.created_at > $3
    AND r.initiated_by = 'mcp' AND r.created_by_key_id IS NOT NULL
    AND NOT (r.status = 'failed' AND r.external_refund_id IS NULL)
    AND NOT (r.status = 'cancelled' AND EXISTS (
      SELECT 1 FROM approval_requests a WHERE a.refund_id = r.id AND a.status IN ('rejected', 'expired')))`;

export const REFUNDED_ON_TRANSACTION = `SELECT coalesce(sum(amount), 0)::bigint AS refunded FROM refunds
  WHERE organization_id = $1 AND transaction_id = $2 AND status NOT IN ('cancelled', 'failed')`;

const APPROVAL_COLUMNS = `id, organization_id, refund_id, amount, currency, reason, transaction_id, requested_by_key_id, rule,
  rule_message, status, decided_by, decided_at, note, expires_at, created_at`;

export const INSERT_APPROVAL = `INSERT INTO approval_requests (${APPROVAL_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', NULL, NULL, NULL, $11, $12)`;

export const FIND_APPROVAL = `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE id = $1 AND organization_id = $2`;
/** The same, locked until the deciding transaction ends: a second decision waits, then finds it decided. */
export const FIND_APPROVAL_FOR_DECISION = `${FIND_APPROVAL} FOR UPDATE`;
export const APPROVAL_FOR_REFUND = `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE refund_id = $1 AND organization_id = $2`;

export function listApprovalsSql(byStatus: boolean, oldestFirst: boolean): string {
  const order = oldestFirst ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
  return `SELECT ${APPROVAL_COLUMNS} FROM approval_requests
    WHERE organization_id = $1 ${byStatus ? 'AND status = $3' : ''}
    ORDER BY ${order} LIMIT $2`;
}

export const DECIDE_APPROVAL = `UPDATE approval_requests SET status = $3, decided_by = $4, decided_at = $5, note = $6
  WHERE id = $1 AND organization_id = $2 AND status = 'requested'`;

/** $1 refund, $2 org, $3 at. */
export const RELEASE_HELD = `UPDATE refunds SET next_attempt_at = $3, updated_at = $3
  WHERE id = $1 AND organization_id = $2 AND status = 'pending' AND next_attempt_at IS NULL AND attempts = 0`;

export const CANCEL_HELD = `UPDATE refunds SET status = 'cancelled', updated_at = $3, next_attempt_at = NULL,
    claim_token = NULL, claim_expires_at = NULL
  WHERE id = $1 AND organization_id = $2 AND status = 'pending' AND next_attempt_at IS NULL AND attempts = 0
    AND claim_token IS NULL`;

export const DUE_EXPIRIES = `SELECT organization_id, id FROM approval_requests
  WHERE status = 'requested' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`;

export const REFUND_CREATOR = 'SELECT created_by_key_id FROM refunds WHERE id = $1 AND organization_id = $2';

/** The refund's status as it stands, locked against a concurrent change until the event is written. */
export const REFUND_STATUS_FOR_EVENT = 'SELECT status FROM refunds WHERE id = $1 AND organization_id = $2 FOR SHARE';

export const INSERT_REFUSAL = `INSERT INTO policy_refusals (organization_id, key_id, at, outcome, rule, message, transaction_id, amount, currency, reason)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

export const LIST_REFUSALS = `SELECT organization_id AS "organizationId", key_id AS "keyId", at, outcome, rule, message,
    transaction_id AS "transactionId", amount, currency, reason
  FROM policy_refusals WHERE organization_id = $1 ORDER BY seq DESC LIMIT $2`;
