/**
 * Cancelling a refund: locally while it is pending and no processor can have it, at the
 * processor once it is there. When two callers race, exactly one wins and the other is told the
 * status the winner left; while an attempt to submit it may still land, nobody is told "cancelled".
 */
import { checkAgentCancel } from './agent-policy.js';
import { asRefundKitError, errors, type RefundKitError } from './errors.js';
import { after, leaseUntil, newClaimToken, nowIso, type Caller, type RefundContext } from './context.js';
import { processorShare, within } from './deadline.js';
import type { RefundProcessor, SubmissionState } from './ports.js';
import { applyProcessorStatus, recordAtProcessor } from './processor-status.js';
import { getRefund } from './queries.js';
import type { Refund } from './refund.js';

/**
 * The audit event's detail, naming the person when one acted (the dashboard's operator): the
 * event's actor says only through which channel.
 */
function byWhom(caller: Caller, detail: string): string {
  return caller.operator === undefined ? detail : `${detail}; by ${caller.operator}`;
}

/** How often a cancel looks again at a submission in flight. */
const POLL_MS = 100;
/** How long it lets a dispatcher's retry (or another cancel) go first after losing a race. */
const YIELD_MS = 50;

/**
 * Cancels a pending refund locally, or asks the processor to cancel a processing one.
 *
 * Every path is bounded: waits (for a submission in flight, for a doubt to end, after a lost
 * race) end at a deadline read from the context's clock, and their real pauses add up to at most
 * settings.cancelWaitMs whatever that clock does (refund_busy after that); processor calls end at
 * the call deadline (processor_unavailable).
 */
export async function cancelRefund(ctx: RefundContext, caller: Caller, refundId: string): Promise<Refund> {
  const { store, settings } = ctx;
  // First, as it may wait on the person at the client: the call's deadlines start after it.
  await checkAgentCancel(ctx, caller, refundId);
  const started = ctx.clock.now().getTime();
  const callEnds = started + settings.callDeadlineMs;
  // Waiting leaves at least half the call's time to the processor call that may follow it.
  const waitEnds = started + Math.min(settings.cancelWaitMs, settings.callDeadlineMs / 2);
  let paused = 0;
  for (;;) {
    const refund = await getRefund(ctx, caller, refundId);
    if (refund.status === 'processing') return cancelAtProcessor(ctx, caller, refund, callEnds);
    if (refund.status !== 'pending') throw errors.notCancellable(refund.status);
    const state = await store.submissionState(refundId, nowIso(ctx));
    let pauseMs: number;
    let busy: () => RefundKitError = errors.refundBusy;
    if (state?.claimed === true) {
      // A submission is in flight; its outcome decides how to cancel. It is usually quick.
      pauseMs = POLL_MS;
    } else if (state !== null && state.attempts > 0) {
      // An unanswered attempt may still land at the processor: a lookup now could miss a refund
      // that exists a moment later, and we would record a cancel the customer's bank never sees.
      const doubtMs = doubtRemainingMs(ctx, state);
      if (doubtMs > 0) {
        busy = () => errors.refundInDoubt(Math.ceil(doubtMs / 1000));
        if (ctx.clock.now().getTime() + doubtMs > waitEnds) throw busy();
        pauseMs = Math.max(10, Math.min(doubtMs, POLL_MS));
      } else {
        const result = await cancelAfterAttempt(ctx, caller, refund, callEnds);
        if (result !== null) return result;
        // Taken meanwhile (a dispatcher's retry, another cancel): look again.
        pauseMs = YIELD_MS;
      }
    } else {
      const cancelled = await store.transition({
        organizationId: caller.organizationId,
        refundId,
        from: 'pending',
        to: 'cancelled',
        actor: caller.actor,
        at: nowIso(ctx),
        detail: byWhom(caller, 'cancelled before submission; the processor never saw it'),
        neverSubmitted: true,
      });
      if (cancelled !== null) return cancelled;
      // Lost a race (cancelled, or claimed for submission meanwhile): look again after a pause.
      pauseMs = YIELD_MS;
    }
    if (ctx.clock.now().getTime() >= waitEnds || paused + pauseMs > settings.cancelWaitMs) throw busy();
    paused += pauseMs;
    await ctx.sleep(pauseMs);
  }
}

async function cancelAtProcessor(
  ctx: RefundContext,
  caller: Caller,
  refund: Refund,
  callEnds: number,
  processor?: RefundProcessor,
): Promise<Refund> {
  let target = processor;
  if (target === undefined) {
    const found = ctx.processors.lookup(refund.processor);
    if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
    target = found.processor;
  }
  const timeoutMs = callEnds - ctx.clock.now().getTime();
  if (timeoutMs <= 0) throw errors.processorUnavailable(refund.processor);
  const answer = await within(target.cancel(refund, { timeoutMs: processorShare(timeoutMs) }), timeoutMs);
  if (!answer.done) {
    // Unanswered in time: nothing is recorded here, and whatever the processor makes of the
    // request, the status read (or a webhook) brings it; a retry of the cancel finds it.
    ctx.report('cancel at the processor outlived the call deadline', { refundId: refund.id, deadlineMs: ctx.settings.callDeadlineMs });
    throw errors.processorUnavailable(refund.processor);
  }
  const outcome = answer.value;
  if (outcome.accepted || outcome.status === 'cancelled') {
    const cancelled = await ctx.store.transition({
      organizationId: caller.organizationId,
      refundId: refund.id,
      from: refund.status,
      to: 'cancelled',
      actor: caller.actor,
      at: nowIso(ctx),
      detail: byWhom(caller, `cancellation accepted by ${refund.processor}`),
      nextSyncAt: null,
    });
    if (cancelled !== null) return cancelled;
    throw errors.notCancellable((await getRefund(ctx, caller, refund.id)).status);
  }
  // Refused: record where the refund really stands, then tell the caller the truth.
  await applyProcessorStatus(ctx, refund, outcome.status, byWhom(caller, `${refund.processor} refused the cancellation: ${outcome.reason}`));
  throw errors.processorRefusedCancel((await getRefund(ctx, caller, refund.id)).status);
}

/**
 * A pending refund whose earlier submission was interrupted (an outage, a crash) may already
 * exist at the processor. Once no attempt can still land there, hold it against the dispatcher,
 * ask the processor, and cancel whatever is really there. Null when it could not be held.
 */
async function cancelAfterAttempt(ctx: RefundContext, caller: Caller, refund: Refund, callEnds: number): Promise<Refund | null> {
  const { store, settings } = ctx;
  const found = ctx.processors.lookup(refund.processor);
  if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
  const timeoutMs = callEnds - ctx.clock.now().getTime();
  if (timeoutMs <= 0) throw errors.processorUnavailable(refund.processor);
  const token = newClaimToken();
  const held = await store.claimForCancel(refund.id, token, nowIso(ctx), leaseUntil(ctx), after(ctx, -ctx.settings.inDoubtMs));
  if (held === null) return null;
  let remote;
  try {
    const lookup = await within(found.processor.findSubmitted(held, { timeoutMs: processorShare(timeoutMs) }), timeoutMs);
    // A lookup that does not answer in time proves nothing; its late answer is not used.
    if (!lookup.done) throw errors.processorUnavailable(refund.processor);
    remote = lookup.value;
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
      detail: byWhom(caller, `cancelled; ${refund.processor} confirmed it never received the refund`),
      claimToken: token,
      // Confirmed as far as anyone can tell; should the attempt land after all, the watch sees it.
      lateLandingWatch: { nextAt: after(ctx, settings.lateLandingRecheckMs), until: after(ctx, settings.lateLandingWatchMs) },
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
  if (adopted.status === 'processing') return cancelAtProcessor(ctx, caller, adopted, callEnds, found.processor);
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
