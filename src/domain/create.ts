/**
 * Creating a refund: record it pending (under the caller's idempotency key, if any) and, without
 * a hold window, submit it inside the call. An agent's refund goes through the agent policy
 * (agent-policy.ts): refused, held for a person's approval, or created as usual.
 */
import { createHash } from 'node:crypto';
import { agentKeyOf, createUnderPolicy } from './agent-policy.js';
import { errors } from './errors.js';
import { leaseUntil, newClaimToken, nowIso, type Caller, type RefundContext } from './context.js';
import { newRefundId } from './ids.js';
import { getRefund } from './queries.js';
import type { CreateResult, RefundDraft } from './ports.js';
import type { Refund } from './refund.js';
import type { CreateRefundInput } from './schemas.js';
import { submitWhileCallerWaits } from './submission.js';

/**
 * Records a new pending refund and, without a hold window, submits it at once (for at most the
 * call deadline: past it the refund is answered pending and the submission goes on). With an
 * idempotency key, a repeat with the same arguments returns the first refund (as it is now)
 * and creates nothing; the same key with other arguments is idempotency_conflict.
 */
export async function createRefund(ctx: RefundContext, caller: Caller, input: CreateRefundInput): Promise<Refund> {
  const { store, settings } = ctx;
  const now = ctx.clock.now();
  // Only a keyed create can be a replay, so only then do the arguments need a digest.
  const fingerprint = input.idempotencyKey === undefined ? null : fingerprintOf(input);
  const draft: RefundDraft = {
    id: newRefundId(),
    organizationId: caller.organizationId,
    transactionId: input.transactionId,
    amount: input.amount,
    currency: input.currency ?? 'usd',
    reason: input.reason,
    processor: ctx.processors.defaultProcessor,
    metadata: input.metadata ?? null,
    initiatedBy: caller.actor,
    createdAt: now.toISOString(),
    submitAt: new Date(now.getTime() + settings.holdMs).toISOString(),
    idempotencyKey: input.idempotencyKey ?? null,
    requestFingerprint: fingerprint,
    createdByKeyId: caller.keyId ?? null,
  };
  const agent = agentKeyOf(ctx, caller);
  let result: CreateResult;
  if (agent === undefined) {
    result = await store.create(draft);
  } else {
    const guarded = await createUnderPolicy(ctx, { ...agent, confirmation: caller.confirmation }, draft);
    // Held for approval: nothing reaches the processor until a person approves it.
    if (guarded.outcome === 'created' && guarded.approval !== null) return guarded.refund;
    result = guarded.outcome === 'created' ? { created: true, refund: guarded.refund } : { created: false, refund: guarded.refund, fingerprint: guarded.fingerprint };
  }
  if (!result.created) {
    if (result.fingerprint !== fingerprint) throw errors.idempotencyConflict();
    return result.refund;
  }
  if (settings.holdMs > 0) return result.refund;
  const claim = await store.claimForSubmission(result.refund.id, newClaimToken(), nowIso(ctx), leaseUntil(ctx));
  if (claim !== null) await submitWhileCallerWaits(ctx, claim);
  return getRefund(ctx, caller, result.refund.id);
}

/** The same arguments give the same digest, whatever order metadata keys came in. */
export function fingerprintOf(input: CreateRefundInput): string {
  const metadata = input.metadata === undefined ? null : Object.fromEntries(Object.entries(input.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const canonical = JSON.stringify([input.transactionId, input.amount, input.currency ?? 'usd', input.reason, metadata]);
  return createHash('sha256').update(canonical).digest('hex');
}
