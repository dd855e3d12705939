/**
 * Sending one claimed pending refund to its processor and recording the answer. Only the holder
 * of a claim submits (so two processes never submit one refund together), and the processor is
 * given an idempotency key derived from our refund id (so a retry cannot refund twice).
 */
import { asRefundKitError } from './errors.js';
import { after, nowIso, type RefundContext } from './context.js';
import { processorShare, within } from './deadline.js';
import type { CallOptions, Claim, SubmitOutcome } from './ports.js';
import { recordAtProcessor, withDetail } from './processor-status.js';

/**
 * Submits inside the caller's call, for at most callDeadlineMs: past it the caller is answered
 * with the refund still pending while the submission goes on under its claim and records its
 * outcome. Should this process die first, its claim lapses into doubt and another retries it.
 */
export async function submitWhileCallerWaits(ctx: RefundContext, claim: Claim): Promise<void> {
  const { callDeadlineMs } = ctx.settings;
  const submission = submitClaimed(ctx, claim, { timeoutMs: processorShare(callDeadlineMs) });
  if ((await within(submission, callDeadlineMs)).done) return;
  ctx.report('submission outlived the call deadline; it goes on under its claim', {
    refundId: claim.refund.id,
    attempt: claim.attempt,
    deadlineMs: callDeadlineMs,
  });
  const tracked: Promise<void> = submission
    .catch((error: unknown) => {
      ctx.report('submission after the call deadline failed', { refundId: claim.refund.id, error: asRefundKitError(error).message });
    })
    .finally(() => ctx.detached.delete(tracked));
  ctx.detached.add(tracked);
}

/**
 * Waits (up to `timeoutMs`, by default the claim lease that bounds them anyway) for submissions
 * that outlived their caller's deadline to record their outcome: a shutdown calls it before
 * closing the store.
 */
export async function settleDetached(ctx: RefundContext, timeoutMs = ctx.settings.leaseMs): Promise<void> {
  if (ctx.detached.size === 0) return;
  await within(Promise.allSettled([...ctx.detached]), timeoutMs);
}

export async function submitClaimed(ctx: RefundContext, claim: Claim, options: CallOptions = {}): Promise<void> {
  const { refund, token, attempt } = claim;
  const { store, settings } = ctx;
  const found = ctx.processors.lookup(refund.processor);
  if (!found.ok) {
    // Only create() can get here (submitDue selects nothing it cannot submit). Nothing was
    // sent, so the refund goes back exactly as it was: due now, with no attempt, no error and
    // no later retry, for a process that has the processor to submit; and a cancel stays local.
    await store.releaseClaim(refund.id, token, { sentNothing: true });
    ctx.report('submission left to a process with the processor', {
      refundId: refund.id,
      reason: `processor '${refund.processor}' is not configured here: ${found.hint}`,
    });
    return;
  }
  let outcome: SubmitOutcome;
  try {
    outcome = await found.processor.submit(refund, attempt, options);
  } catch (error) {
    const failure = asRefundKitError(error);
    const delay = Math.min(settings.maxRetryMs, settings.retryBaseMs * 3 ** (attempt - 1));
    // Whatever failed, the processor may have received the refund and act on it after we gave
    // up; until inDoubtMs has passed, a cancel cannot trust a lookup that finds nothing.
    await store.releaseClaim(refund.id, token, {
      retryAt: after(ctx, delay),
      error: failure.message,
      inDoubtUntil: after(ctx, settings.inDoubtMs),
    });
    ctx.report('submission failed; will retry', { refundId: refund.id, attempt, error: failure.message, retryInMs: delay });
    return;
  }
  const moved =
    outcome.kind === 'rejected'
      ? await store.transition({
          organizationId: refund.organizationId,
          refundId: refund.id,
          from: 'pending',
          to: 'failed',
          actor: 'system',
          at: nowIso(ctx),
          detail: `rejected by ${refund.processor}: ${outcome.reason}`,
          claimToken: token,
          nextSyncAt: null,
        })
      : await recordAtProcessor(
          ctx,
          refund,
          token,
          outcome,
          withDetail(`submitted to ${refund.processor} as ${outcome.externalRefundId}`, outcome.detail),
        );
  if (moved === null) {
    // Our claim ran out while the processor answered and someone else took over; the next
    // holder finds the processor's refund through findSubmitted, so nothing is lost.
    ctx.report('submission outcome not recorded: claim lost', { refundId: refund.id, attempt });
  }
}
