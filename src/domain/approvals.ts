/**
 * Deciding approval requests: a person approves (the held refund becomes due and the dispatcher
 * submits it as usual) or rejects (the refund is cancelled); the background pass expires those
 * nobody decided in time (cancelled too). Who may decide is checkDecision's rule, the same for
 * every adapter; no MCP tool reaches this module.
 */
import type { Caller, RefundContext } from './context.js';
import { errors } from './errors.js';
import {
  checkDecision,
  deciderLabel,
  type ApprovalRequest,
  type ApprovalStatus,
  type ApprovalVerdict,
  type Decider,
} from './guardrails/approval.js';
import type { GuardrailStore } from './ports.js';
import type { Refund } from './refund.js';

export interface DecidedApproval {
  approval: ApprovalRequest;
  refund: Refund;
}

function guardrailsOf(ctx: RefundContext): GuardrailStore {
  if (ctx.guardrails === undefined) throw errors.internal({ cause: new Error('no guardrail store configured') });
  return ctx.guardrails;
}

// async: without a guardrail store the error is a rejection, as from every other call here, not a throw.
export async function listApprovals(ctx: RefundContext, organizationId: string, status: ApprovalStatus | undefined, limit: number): Promise<ApprovalRequest[]> {
  return guardrailsOf(ctx).listApprovals(organizationId, status === undefined ? {} : { status }, limit);
}

/** The approval request that holds (or held) one of the caller's refunds, if any. */
export async function approvalForRefund(ctx: RefundContext, caller: Caller, refundId: string): Promise<ApprovalRequest | null> {
  return ctx.guardrails === undefined ? null : ctx.guardrails.approvalForRefund(caller.organizationId, refundId);
}

export async function getApproval(ctx: RefundContext, organizationId: string, approvalId: string): Promise<ApprovalRequest> {
  const approval = await guardrailsOf(ctx).findApproval(organizationId, approvalId);
  if (approval === null) throw errors.approvalNotFound();
  return approval;
}

/**
 * Approves or rejects an open request. One past its expiry is recorded as expired (its refund
 * cancelled) and reported as approval_not_open.
 */
export async function decideApproval(
  ctx: RefundContext,
  organizationId: string,
  approvalId: string,
  verdict: ApprovalVerdict,
  decider: Decider,
  note: string | undefined,
): Promise<DecidedApproval> {
  const guardrails = guardrailsOf(ctx);
  const approval = await getApproval(ctx, organizationId, approvalId);
  const now = ctx.clock.now();
  const check = checkDecision(approval, verdict, decider, now, note);
  if (!check.ok) {
    if (check.code === 'forbidden') throw errors.forbidden(check.message);
    if (check.code === 'approval_not_open') throw errors.approvalNotOpen(check.message);
    throw errors.validation(check.message);
  }
  const result = await guardrails.decideApproval({
    organizationId,
    approvalId,
    status: check.status,
    decidedBy: check.status === 'expired' ? 'system' : deciderLabel(decider),
    at: now.toISOString(),
    note: check.status === 'expired' ? null : (note ?? null),
    actor: check.status === 'expired' ? 'system' : decider.kind === 'operator' ? 'dashboard' : 'api',
  });
  if (!result.ok) {
    const status = result.approval?.status ?? 'gone';
    throw errors.approvalNotOpen(
      status === 'requested'
        ? `Approval ${approvalId} cannot be decided: its refund is already ${result.refund?.status ?? 'gone'}`
        : `Approval ${approvalId} is already ${status}`,
    );
  }
  if (check.status === 'expired') {
    throw errors.approvalNotOpen(`Approval ${approvalId} expired at ${approval.expiresAt}; its refund was cancelled`);
  }
  return { approval: result.approval, refund: result.refund };
}

/** Expires the open requests past their expiry, cancelling their refunds. Safe in many processes. */
export async function expireDueApprovals(ctx: RefundContext, limit = 50): Promise<number> {
  if (ctx.guardrails === undefined) return 0;
  const at = ctx.clock.now().toISOString();
  let expired = 0;
  for (const due of await ctx.guardrails.dueApprovalExpiries(at, limit)) {
    const result = await ctx.guardrails.decideApproval({
      organizationId: due.organizationId,
      approvalId: due.id,
      status: 'expired',
      decidedBy: 'system',
      at,
      note: null,
      actor: 'system',
    });
    if (result.ok) expired += 1;
  }
  return expired;
}
