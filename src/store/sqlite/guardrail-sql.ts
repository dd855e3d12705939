/**
 * The SQL of the guardrail store, and how an approval request row reads back into the domain type.
 */
import { APPROVAL_STATUSES, type ApprovalRequest, type ApprovalStatus } from '../../domain/guardrails/approval.js';
import { POLICY_RULES, type PolicyRule } from '../../domain/guardrails/decide.js';

export const POLICY = 'SELECT policy, updated_at, updated_by FROM agent_policies WHERE organization_id = ?';

export const SET_POLICY = `INSERT INTO agent_policies (organization_id, policy, updated_at, updated_by)
  VALUES (@organizationId, @policy, @updatedAt, @updatedBy)
  ON CONFLICT (organization_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at, updated_by = excluded.updated_by`;

/**
 * Agent refunds that hold budget: by an API key over MCP, in the currency, since the window
 * opened; not cancelled by a rejected or expired approval, not failed before the processor took
 * them (a failure with no processor id: it refused the refund at submission, nothing moved).
 */
export const BUDGET_USAGE = `SELECT count(*) AS count, coalesce(sum(r.amount), 0) AS amount FROM refunds r
  WHERE r.organization_id = @organizationId AND r.currency = @currency AND r.created_at > @since
    AND r.initiated_by = 'mcp' AND r.created_by_key_id IS NOT NULL
    AND NOT (r.status = 'failed' AND r.external_refund_id IS NULL)
    AND NOT (r.status = 'cancelled' AND EXISTS (
      SELECT 1 FROM approval_requests a WHERE a.refund_id = r.id AND a.status IN ('rejected', 'expired')))`;

/** What our refunds already took on a transaction: all but cancelled and failed ones. */
export const REFUNDED_ON_TRANSACTION = `SELECT coalesce(sum(amount), 0) AS refunded FROM refunds
  WHERE organization_id = @organizationId AND transaction_id = @transactionId AND status NOT IN ('cancelled', 'failed')`;

const APPROVAL_COLUMNS = `id, organization_id, refund_id, amount, currency, reason, transaction_id, requested_by_key_id, rule,
  rule_message, status, decided_by, decided_at, note, expires_at, created_at`;

export const INSERT_APPROVAL = `INSERT INTO approval_requests (${APPROVAL_COLUMNS})
  VALUES (@id, @organizationId, @refundId, @amount, @currency, @reason, @transactionId, @requestedByKeyId, @rule,
    @ruleMessage, 'requested', NULL, NULL, NULL, @expiresAt, @createdAt)`;

export const FIND_APPROVAL = `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE id = ? AND organization_id = ?`;
export const APPROVAL_FOR_REFUND = `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE refund_id = ? AND organization_id = ?`;

export function listApprovalsSql(byStatus: boolean, oldestFirst: boolean): string {
  const order = oldestFirst ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
  return `SELECT ${APPROVAL_COLUMNS} FROM approval_requests
    WHERE organization_id = @organizationId ${byStatus ? 'AND status = @status' : ''}
    ORDER BY ${order} LIMIT @limit`;
}

export const DECIDE_APPROVAL = `UPDATE approval_requests SET status = @status, decided_by = @decidedBy, decided_at = @at, note = @note
  WHERE id = @id AND organization_id = @organizationId AND status = 'requested'`;

/** An approved refund becomes due for submission now; it was held (no schedule) until then. */
export const RELEASE_HELD = `UPDATE refunds SET next_attempt_at = @at, updated_at = @at
  WHERE id = @refundId AND organization_id = @organizationId AND status = 'pending' AND next_attempt_at IS NULL AND attempts = 0`;

/** A rejected or expired request cancels its held refund, which the processor never saw. */
export const CANCEL_HELD = `UPDATE refunds SET status = 'cancelled', updated_at = @at, next_attempt_at = NULL,
    claim_token = NULL, claim_expires_at = NULL
  WHERE id = @refundId AND organization_id = @organizationId AND status = 'pending' AND next_attempt_at IS NULL AND attempts = 0
    AND claim_token IS NULL`;

export const DUE_EXPIRIES = `SELECT organization_id, id FROM approval_requests
  WHERE status = 'requested' AND expires_at <= @now ORDER BY expires_at LIMIT @limit`;

export const REFUND_CREATOR = 'SELECT created_by_key_id FROM refunds WHERE id = ? AND organization_id = ?';

export interface ApprovalRow {
  id: string;
  organization_id: string;
  refund_id: string;
  amount: number;
  currency: string;
  reason: string;
  transaction_id: string;
  requested_by_key_id: string;
  rule: string;
  rule_message: string;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
  expires_at: string;
  created_at: string;
}

const isStatus = (value: string): value is ApprovalStatus => (APPROVAL_STATUSES as readonly string[]).includes(value);
const isRule = (value: string): value is PolicyRule => (POLICY_RULES as readonly string[]).includes(value);

export function toApproval(row: ApprovalRow): ApprovalRequest {
  if (!isStatus(row.status)) throw new Error(`approval ${row.id} has unknown status ${row.status}`);
  if (!isRule(row.rule)) throw new Error(`approval ${row.id} has unknown rule ${row.rule}`);
  return {
    id: row.id,
    organizationId: row.organization_id,
    refundId: row.refund_id,
    amount: row.amount,
    currency: row.currency,
    reason: row.reason,
    transactionId: row.transaction_id,
    requestedByKeyId: row.requested_by_key_id,
    rule: row.rule,
    ruleMessage: row.rule_message,
    status: row.status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    note: row.note,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

export const INSERT_REFUSAL = `INSERT INTO policy_refusals (organization_id, key_id, at, outcome, rule, message, transaction_id, amount, currency, reason)
  VALUES (@organizationId, @keyId, @at, @outcome, @rule, @message, @transactionId, @amount, @currency, @reason)`;

/** Served by policy_refusals_by_org. */
export const LIST_REFUSALS = `SELECT organization_id AS organizationId, key_id AS keyId, at, outcome, rule, message,
    transaction_id AS transactionId, amount, currency, reason
  FROM policy_refusals WHERE organization_id = @organizationId ORDER BY seq DESC LIMIT @limit`;
