/**
 * Discrepancies: a processor holds money moving for a refund we hold as cancelled or failed, or
 * holds a second refund for one of ours. The status machine does not let such a refund move (and
 * a silent flip would hide the mismatch), so each one is recorded for an operator and alarmed.
 * They are found by processor reports (processor-reports.ts) and by the late-landing watch here.
 */
import { asRefundKitError } from './errors.js';
import { after, nowIso, type RefundContext } from './context.js';
import { eachConcurrently } from './concurrency.js';
import type { Refund, RefundStatus } from './refund.js';

/** What the processor holds: its id of the refund and its status there, mapped to ours. */
export interface RemoteRefund {
  externalRefundId: string;
  status: RefundStatus;
}

/** The processor statuses in which money moves, or is about to. */
function movesMoney(status: RefundStatus): boolean {
  return status === 'processing' || status === 'completed';
}

/**
 * The processor holds money moving for a refund we hold as cancelled or failed, or holds a
 * second refund for one of ours.
 */
export function isDiscrepancy(refund: Refund, remote: RemoteRefund): boolean {
  if (!movesMoney(remote.status)) return false;
  if (refund.externalRefundId !== null && refund.externalRefundId !== remote.externalRefundId) return true;
  return refund.status === 'cancelled' || refund.status === 'failed';
}

/**
 * Records that the processor holds money moving for a refund we hold otherwise, without moving
 * the refund: an audit event, a row in the discrepancy list, an error-level alarm. Resolves to
 * whether it was news (the same processor refund in the same status is recorded once).
 */
export async function noteDiscrepancy(ctx: RefundContext, refund: Refund, remote: RemoteRefund, source: string): Promise<boolean> {
  const second = refund.externalRefundId !== null && refund.externalRefundId !== remote.externalRefundId;
  const what = second
    ? `${refund.processor} holds a second refund ${remote.externalRefundId} (${remote.status}) for this refund, recorded as ${refund.externalRefundId ?? ''}`
    : `${refund.processor} holds ${remote.externalRefundId} as ${remote.status} while this refund is ${refund.status}`;
  const news = await ctx.store.recordDiscrepancy(
    {
      organizationId: refund.organizationId,
      refundId: refund.id,
      processor: refund.processor,
      externalRefundId: remote.externalRefundId,
      ourStatus: refund.status,
      processorStatus: remote.status,
      source,
      detectedAt: nowIso(ctx),
    },
    `discrepancy: ${what}; found by ${source}. The status is left as recorded: money may have moved, an operator must reconcile it`,
  );
  if (news) {
    ctx.alarm('discrepancy: the processor holds money moving for a refund we hold otherwise', {
      refundId: refund.id,
      organizationId: refund.organizationId,
      status: refund.status,
      processor: refund.processor,
      externalRefundId: remote.externalRefundId,
      processorStatus: remote.status,
      source,
    });
  }
  return news;
}

/**
 * Looks again, at their processor, for refunds cancelled after an unanswered attempt: such an
 * attempt can still land after the in-doubt window (nothing documents how late a processor may
 * execute a request it received). A refund found there is recorded as a discrepancy. Like the
 * rest of the background work, only for the processors configured here. Resolves to how many
 * were found this pass.
 */
export async function watchLateLandings(ctx: RefundContext, limit = 50): Promise<number> {
  const { store, settings } = ctx;
  let found = 0;
  const batch = await store.dueForLateLandingWatch(nowIso(ctx), limit, ctx.processors.names());
  await eachConcurrently(batch, settings.concurrency, async (due) => {
    const next = after(ctx, settings.lateLandingRecheckMs);
    const nextAt = next <= due.watchUntil ? next : null;
    const refund = await store.findById(due.organizationId, due.id);
    const lookup = refund === null ? null : ctx.processors.lookup(refund.processor);
    if (refund === null || lookup === null || !lookup.ok) {
      await store.scheduleLateLandingWatch(due.id, refund === null ? null : nextAt);
      return;
    }
    try {
      const remote = await lookup.processor.findSubmitted(refund);
      if (remote !== null && isDiscrepancy(refund, remote) && (await noteDiscrepancy(ctx, refund, remote, 'late-landing watch'))) found += 1;
    } catch (error) {
      ctx.report('late-landing lookup failed; will look again', { refundId: refund.id, error: asRefundKitError(error).message });
    }
    await store.scheduleLateLandingWatch(refund.id, nextAt);
  });
  return found;
}
