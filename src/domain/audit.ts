/**
 * A refund's audit trail, as an agent or an operator reads it: its append-only events (every
 * status change, policy decision and approval step, with who acted) and its approval request.
 */
import type { Caller, RefundContext } from './context.js';
import type { ApprovalRequest } from './guardrails/approval.js';
import type { RefundEvent } from './ports.js';
import { getRefund } from './queries.js';

export interface RefundAudit {
  refundId: string;
  events: RefundEvent[];
  approval: ApprovalRequest | null;
}

/** Another organization's refund is not_found, as everywhere. */
export async function refundAudit(ctx: RefundContext, caller: Caller, refundId: string): Promise<RefundAudit> {
  const refund = await getRefund(ctx, caller, refundId);
  const [events, approval] = await Promise.all([
    ctx.store.events(caller.organizationId, refund.id),
    ctx.guardrails === undefined ? null : ctx.guardrails.approvalForRefund(caller.organizationId, refund.id),
  ]);
  return { refundId: refund.id, events, approval };
}
