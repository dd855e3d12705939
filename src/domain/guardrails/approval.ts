/**
 * An approval request: an agent's refund that waits for a person. Nothing reaches the processor
 * while it is `requested`; `approved` lets the submission go ahead; `rejected` and `expired` cancel
 * the refund. The rules of who may decide live here, so every adapter (CLI, REST, dashboard)
 * applies the same ones.
 */
import type { PolicyRule } from './decide.js';

export const APPROVAL_STATUSES = ['requested', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** Who decides: a named operator (CLI, dashboard) or an API key with the approver scope (REST). */
export type Decider = { kind: 'operator'; name: string } | { kind: 'key'; keyId: string; name: string };

export interface ApprovalRequest {
  id: string;
  organizationId: string;
  refundId: string;
  amount: number;
  currency: string;
  reason: string;
  transactionId: string;
  /** The API key whose agent asked for the refund. */
  requestedByKeyId: string;
  /** The policy rule that sent the refund here, and its message. */
  rule: PolicyRule;
  ruleMessage: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
  expiresAt: string;
  createdAt: string;
}

export type ApprovalVerdict = 'approve' | 'reject';

export const NOTE_MAX_LENGTH = 500;

export type DecisionCheck =
  | { ok: true; status: Exclude<ApprovalStatus, 'requested'> }
  | { ok: false; code: 'approval_not_open' | 'forbidden' | 'validation_error'; message: string };

/**
 * Whether `decider` may give `verdict` on `approval` at `now`. An open request past its expiry is
 * reported as expired: the caller records the expiry instead of the verdict.
 */
export function checkDecision(
  approval: ApprovalRequest,
  verdict: ApprovalVerdict,
  decider: Decider,
  now: Date,
  note: string | undefined,
): DecisionCheck {
  if (note !== undefined && note.length > NOTE_MAX_LENGTH) {
    return { ok: false, code: 'validation_error', message: `Note must be at most ${NOTE_MAX_LENGTH} characters` };
  }
  if (decider.kind === 'key' && decider.keyId === approval.requestedByKeyId) {
    return { ok: false, code: 'forbidden', message: `A key cannot decide an approval its own agent requested (${approval.id})` };
  }
  if (approval.status !== 'requested') {
    return { ok: false, code: 'approval_not_open', message: `Approval ${approval.id} is already ${approval.status}` };
  }
  if (isExpired(approval, now)) return { ok: true, status: 'expired' };
  return { ok: true, status: verdict === 'approve' ? 'approved' : 'rejected' };
}

export function isExpired(approval: Pick<ApprovalRequest, 'status' | 'expiresAt'>, now: Date): boolean {
  return approval.status === 'requested' && now.getTime() >= Date.parse(approval.expiresAt);
}

export function expiryFor(createdAt: Date, approvalHours: number): string {
  return new Date(createdAt.getTime() + approvalHours * 3_600_000).toISOString();
}

export function deciderLabel(decider: Decider): string {
  return decider.kind === 'operator' ? `operator:${decider.name}` : `key:${decider.keyId}`;
}
