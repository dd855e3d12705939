/**
 * Sending one claimed pending refund to its processor and recording the answer. Only the holder
 * of a claim submits (so two processes never submit one refund together), and the processor is
 * given an idempotency key derived from our refund id (so a retry cannot refund twice).
 */
import { asRefundKitError } from './errors.js';
import { after, nowIso, type RefundContext } from './context.js';
import type { Claim, SubmitOutcome } from './ports.js';
import { recordAtProcessor, withDetail } from './processor-status.js';

export async function submitClaimed(ctx: RefundContext, claim: Claim): Promise<void> {
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
    outcome = await found.processor.submit(refund, attempt);
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
