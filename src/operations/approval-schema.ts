/**
 * An approval request as the operations answer it (get_refund, list_refund_events, and the
 * operator routes of the REST API): what an agent and an operator both need to follow one.
 */
import { z } from 'zod';
import { APPROVAL_STATUSES, type ApprovalRequest } from '../domain/guardrails/approval.js';
import { POLICY_RULES } from '../domain/guardrails/decide.js';

export const approvalSchema = z.object({
  id: z.string().describe('Approval request id (apr_…)'),
  refundId: z.string().describe('The refund it holds'),
  amount: z.number().int().describe('Amount in the smallest currency unit'),
  currency: z.string(),
  reason: z.string(),
  transactionId: z.string(),
  requestedByKeyId: z.string().describe('The API key whose agent asked for the refund'),
  rule: z.enum(POLICY_RULES).describe('The policy rule that sent the refund for approval'),
  ruleMessage: z.string().describe('Why it waits, with the limit'),
  status: z.enum(APPROVAL_STATUSES).describe('requested (open), approved, rejected or expired'),
  decidedBy: z.string().nullable().describe('operator:NAME, key:KEY_ID or system (an expiry); null while open'),
  decidedAt: z.string().nullable().describe('ISO 8601 time of the decision; null while open'),
  note: z.string().nullable().describe("The decider's note, if any"),
  expiresAt: z.string().describe('ISO 8601 time after which an open request expires and its refund is cancelled'),
  createdAt: z.string().describe('ISO 8601 time of the request'),
});

export type ApprovalView = z.input<typeof approvalSchema>;

/** The approval without its organization (the caller's own, always). */
export function approvalView(approval: ApprovalRequest): ApprovalView {
  const { id, refundId, amount, currency, reason, transactionId, requestedByKeyId, rule, ruleMessage, status } = approval;
  const { decidedBy, decidedAt, note, expiresAt, createdAt } = approval;
  return { id, refundId, amount, currency, reason, transactionId, requestedByKeyId, rule, ruleMessage, status, decidedBy, decidedAt, note, expiresAt, createdAt };
}
