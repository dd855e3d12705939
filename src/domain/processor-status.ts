/**
 * Recording what a processor says about a refund: a status read, a webhook, a refused cancel, the
 * answer to a submission. Shared by every use case that talks to a processor.
 */
import { nextSyncFor, nowIso, type RefundContext } from './context.js';
import { canTransition, type Refund, type RefundStatus } from './refund.js';

/**
 * Records a status the processor reports (a status read, a webhook). Illegal or stale moves
 * are ignored; resolves to whether the refund changed.
 */
export async function applyProcessorStatus(ctx: RefundContext, refund: Refund, status: RefundStatus, detail: string): Promise<boolean> {
  const { store } = ctx;
  const current = (await store.findById(refund.organizationId, refund.id)) ?? refund;
  if (current.status === status) {
    await store.scheduleSync(current.id, nextSyncFor(ctx, current));
    return false;
  }
  if (!canTransition(current.status, status)) {
    // Stale or out-of-order news never moves a refund backwards; a real disagreement is logged.
    ctx.report('processor status ignored: not a legal move', { refundId: current.id, from: current.status, to: status, detail });
    await store.scheduleSync(current.id, nextSyncFor(ctx, current));
    return false;
  }
  const at = nowIso(ctx);
  const moved = await store.transition({
    organizationId: current.organizationId,
    refundId: current.id,
    from: current.status,
    to: status,
    actor: 'system',
    at,
    detail,
    nextSyncAt: nextSyncFor(ctx, { status, updatedAt: at }),
  });
  if (moved === null) await store.scheduleSync(current.id, nextSyncFor(ctx, current));
  return moved !== null;
}

/**
 * Records, under our claim, that the processor holds a pending refund: its id there and its
 * status (a processor's own "pending" is our processing), with the status read scheduled.
 */
export function recordAtProcessor(
  ctx: RefundContext,
  refund: Refund,
  claimToken: string,
  remote: { externalRefundId: string; status: RefundStatus },
  detail: string,
): Promise<Refund | null> {
  const at = nowIso(ctx);
  const to = remote.status === 'pending' ? 'processing' : remote.status;
  return ctx.store.transition({
    organizationId: refund.organizationId,
    refundId: refund.id,
    from: 'pending',
    to,
    actor: 'system',
    at,
    detail,
    externalRefundId: remote.externalRefundId,
    claimToken,
    nextSyncAt: nextSyncFor(ctx, { status: to, updatedAt: at }),
  });
}

/** `prefix`, then the processor's own words when it gave some. */
export function withDetail(prefix: string, detail: string | undefined): string {
  return detail === undefined ? prefix : `${prefix}: ${detail}`;
}
