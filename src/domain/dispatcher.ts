/**
 * The background work every serving process runs: submit the pending refunds that are due, read
 * back the statuses that are due, and look for late landings (discrepancies.ts). Claims in the
 * store keep two processes from submitting one refund, so it is safe to run in many processes at
 * once.
 */
import { expireDueApprovals } from './approvals.js';
import { asRefundKitError } from './errors.js';
import { after, leaseUntil, newClaimToken, nowIso, type RefundContext } from './context.js';
import { applyProcessorStatus, withDetail } from './processor-status.js';
import { eachConcurrently } from './concurrency.js';
import { watchLateLandings } from './discrepancies.js';
import { submitClaimed } from './submission.js';

export interface PassResult {
  submitted: number;
  synced: number;
  changed: number;
}

/**
 * Submits every pending refund that is due, in this process. Safe to run in many processes.
 * Only refunds of the processors configured here are taken: another process (one with that
 * processor's credentials) submits the others, and this one leaves them exactly as they are.
 */
export async function submitDue(ctx: RefundContext, limit = 50): Promise<number> {
  const { store } = ctx;
  let submitted = 0;
  const batch = await store.dueForSubmission(nowIso(ctx), limit, ctx.processors.names());
  await eachConcurrently(batch, ctx.settings.concurrency, async (due) => {
    const claim = await store.claimForSubmission(due.id, newClaimToken(), nowIso(ctx), leaseUntil(ctx));
    if (claim === null) return; // another process took it
    await submitClaimed(ctx, claim);
    submitted += 1;
  });
  return submitted;
}

/**
 * Reads back the status of refunds whose sync is due and records any change; like submitDue,
 * only for the processors configured here, leaving the others' schedule to their processes.
 */
export async function syncDue(ctx: RefundContext, limit = 50): Promise<{ synced: number; changed: number }> {
  const { store, settings } = ctx;
  let synced = 0;
  let changed = 0;
  const batch = await store.dueForSync(nowIso(ctx), limit, ctx.processors.names());
  await eachConcurrently(batch, settings.concurrency, async (due) => {
    const refund = await store.findById(due.organizationId, due.id);
    if (refund === null) return;
    const found = ctx.processors.lookup(refund.processor);
    // Not selected unless its processor is here; were one to slip through, it is left untouched.
    if (!found.ok) return;
    try {
      const remote = await found.processor.retrieve(refund);
      synced += 1;
      if (await applyProcessorStatus(ctx, refund, remote.status, withDetail(`status read from ${refund.processor}`, remote.detail))) {
        changed += 1;
      }
    } catch (error) {
      ctx.report('status sync failed', { refundId: refund.id, error: asRefundKitError(error).message });
      await store.scheduleSync(refund.id, after(ctx, settings.syncIntervalMs));
    }
  });
  return { synced, changed };
}

/**
 * One pass of background work: approval requests past their expiry (their refunds cancelled),
 * then submissions, status reads and the late-landing watch.
 */
export async function runPass(ctx: RefundContext, limit = 50): Promise<PassResult> {
  await expireDueApprovals(ctx, limit);
  const submitted = await submitDue(ctx, limit);
  const { synced, changed } = await syncDue(ctx, limit);
  await watchLateLandings(ctx, limit);
  return { submitted, synced, changed };
}
