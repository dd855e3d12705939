/**
 * Cancelling a refund: locally while it is pending and no processor can have it, at the
 * processor once it is there. When two callers race, exactly one wins and the other is told the
 * status the winner left; while an attempt to submit it may still land, nobody is told "cancelled".
 */
import { asRefundKitError, errors } from './errors.js';
import { after, leaseUntil, newClaimToken, nowIso, type Caller, type RefundContext } from './context.js';
import type { RefundProcessor, SubmissionState } from './ports.js';
import { applyProcessorStatus, recordAtProcessor } from './processor-status.js';
import { getRefund } from './queries.js';
import type { Refund } from './refund.js';

/** How often a cancel looks again at a submission in flight. */
const POLL_MS = 100;
/** How long it lets a dispatcher's retry (or another cancel) go first after losing a claim. */
const YIELD_MS = 50;

/**
 * Cancels a pending refund locally, or asks the processor to cancel a processing one. Waits at
 * most settings.cancelWaitMs for a submission in flight (refund_busy after that).
 */
export async function cancelRefund(ctx: RefundContext, caller: Caller, refundId: string): Promise<Refund> {
  const { store, settings } = ctx;
  const started = ctx.clock.now().getTime();
  let slept = 0;
  // Time spent waiting, on the context's clock; counting our own sleeps as well keeps the wait
  // bounded on a clock that stands still (a test's) or runs slow.
  const waited = (): number => Math.max(slept, ctx.clock.now().getTime() - started);
  const pause = async (ms: number): Promise<void> => {
    await ctx.sleep(ms);
    slept += ms;
  };
  for (;;) {
    const refund = await getRefund(ctx, caller, refundId);
    if (refund.status === 'processing') return cancelAtProcessor(ctx, caller, refund);
    if (refund.status !== 'pending') throw errors.notCancellable(refund.status);
    const state = await store.submissionState(refundId, nowIso(ctx));
    if (state?.claimed === true) {
      // A submission is in flight; its outcome decides how to cancel. It is usually quick.
      if (waited() >= settings.cancelWaitMs) throw errors.refundBusy();
      await pause(POLL_MS);
      continue;
    }
    if (state !== null && state.attempts > 0) {
      // An unanswered attempt may still land at the processor: a lookup now could miss a refund
      // that exists a moment later, and we would record a cancel the customer's bank never sees.
      const doubtMs = doubtRemainingMs(ctx, state);
      if (doubtMs > 0) {
        if (waited() + doubtMs > settings.cancelWaitMs) throw errors.refundInDoubt(Math.ceil(doubtMs / 1000));
        await pause(Math.min(doubtMs, POLL_MS));
        continue;
      }
      const result = await cancelAfterAttempt(ctx, caller, refund);
      if (result !== null) return result;
      // Taken meanwhile (a dispatcher's retry, another cancel): look again.
      if (waited() >= settings.cancelWaitMs) throw errors.refundBusy();
      await pause(YIELD_MS);
      continue;
    }
    const cancelled = await store.transition({
      organizationId: caller.organizationId,
      refundId,
      from: 'pending',
      to: 'cancelled',
      actor: caller.actor,
      at: nowIso(ctx),
      detail: 'cancelled before submission; the processor never saw it',
      neverSubmitted: true,
    });
    if (cancelled !== null) return cancelled;
    // Lost a race (cancelled, or claimed for submission meanwhile): look again.
  }
}

async function cancelAtProcessor(ctx: RefundContext, caller: Caller, refund: Refund, processor?: RefundProcessor): Promise<Refund> {
  let target = processor;
  if (target === undefined) {
    const found = ctx.processors.lookup(refund.processor);
    if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
    target = found.processor;
  }
  const outcome = await target.cancel(refund);
  if (outcome.accepted || outcome.status === 'cancelled') {
    const cancelled = await ctx.store.transition({
      organizationId: caller.organizationId,
      refundId: refund.id,
      from: refund.status,
      to: 'cancelled',
      actor: caller.actor,
      at: nowIso(ctx),
      detail: `cancellation accepted by ${refund.processor}`,
      nextSyncAt: null,
    });
    if (cancelled !== null) return cancelled;
    throw errors.notCancellable((await getRefund(ctx, caller, refund.id)).status);
  }
  // Refused: record where the refund really stands, then tell the caller the truth.
  await applyProcessorStatus(ctx, refund, outcome.status, `${refund.processor} refused the cancellation: ${outcome.reason}`);
  throw errors.processorRefusedCancel((await getRefund(ctx, caller, refund.id)).status);
}

/**
 * A pending refund whose earlier submission was interrupted (an outage, a crash) may already
 * exist at the processor. Once no attempt can still land there, hold it against the dispatcher,
 * ask the processor, and cancel whatever is really there. Null when it could not be held.
 */
async function cancelAfterAttempt(ctx: RefundContext, caller: Caller, refund: Refund): Promise<Refund | null> {
  const { store } = ctx;
  const found = ctx.processors.lookup(refund.processor);
  if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
  const token = newClaimToken();
  const held = await store.claimForCancel(refund.id, token, nowIso(ctx), leaseUntil(ctx), after(ctx, -ctx.settings.inDoubtMs));
  if (held === null) return null;
  let remote;
  try {
    remote = await found.processor.findSubmitted(held);
  } catch (error) {
    // A lookup creates nothing, so its failure leaves no doubt behind.
    await store.releaseClaim(refund.id, token, { error: asRefundKitError(error).message });
    throw error;
  }
  if (remote === null) {
    const cancelled = await store.transition({
      organizationId: caller.organizationId,
      refundId: refund.id,
      from: 'pending',
      to: 'cancelled',
      actor: caller.actor,
      at: nowIso(ctx),
      detail: `cancelled; ${refund.processor} confirmed it never received the refund`,
      claimToken: token,
    });
    if (cancelled !== null) return cancelled;
    throw errors.notCancellable((await getRefund(ctx, caller, refund.id)).status);
  }
  const adopted = await recordAtProcessor(
    ctx,
    held,
    token,
    remote,
    `found at ${refund.processor} as ${remote.externalRefundId} after an interrupted submission`,
  );
  if (adopted === null) throw errors.refundBusy();
  if (adopted.status === 'processing') return cancelAtProcessor(ctx, caller, adopted, found.processor);
  throw errors.notCancellable(adopted.status);
}

/**
 * How long, from now, an earlier attempt may still take effect at the processor: one that went
 * unanswered, or one whose process died holding the claim (it may have sent its request).
 */
function doubtRemainingMs(ctx: RefundContext, state: SubmissionState): number {
  const ends = Math.max(
    state.inDoubtUntil === null ? 0 : Date.parse(state.inDoubtUntil),
    state.lapsedClaimExpiredAt === null ? 0 : Date.parse(state.lapsedClaimExpiredAt) + ctx.settings.inDoubtMs,
  );
  return ends - ctx.clock.now().getTime();
}
