import { z } from 'zod';
import { errors } from '../domain/errors.js';
import type { ApprovalRequest } from '../domain/guardrails/approval.js';
import { REFUND_REASONS } from '../domain/refund.js';
import { AMOUNT_LIMITS, createRefundInputSchema, IDEMPOTENCY_KEY_PATTERN, refundSchema } from '../domain/schemas.js';
import { defineOperation, type RestRequestParts } from './operation.js';

/** The Idempotency-Key header, checked here so that its message names the header, not the field. */
function idempotencyKeyHeader(headers: RestRequestParts['headers']): string | undefined {
  const value = headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw errors.validation("Idempotency-Key header must be 1 to 255 characters of letters, digits, '-', '_', ':' or '.'");
  }
  return value;
}

export const createRefund = defineOperation({
  name: 'create_refund',
  title: 'Create refund',
  description: [
    'Refund money on an original charge (ch_…) or payment intent (pi_…) to the customer.',
    `amount is an integer in the smallest currency unit (2500 = $25.00 for usd), ${AMOUNT_LIMITS.min} to ${AMOUNT_LIMITS.max}; currency defaults to usd and must match the charge.`,
    `reason is one of ${REFUND_REASONS.join(', ')}.`,
    'ALWAYS pass an idempotencyKey (any unique string for this refund, e.g. the ticket id): if the call times out or you are unsure it went through, call again with the same key and arguments and you get the same refund back instead of a second one.',
    'The refund starts pending; the server submits it to the processor at once or after its review window (while pending it can still be cancelled with cancel_refund and never reaches the processor).',
    'Returns { refund } with its current status: pending, processing (sent, not settled), completed, or failed (rejected by the processor, e.g. already refunded).',
    'Follow up with get_refund to see it settle. Refunds on the sandbox processor move no money.',
  ].join(' '),
  input: createRefundInputSchema,
  output: z.object({ refund: refundSchema }),
  // Not idempotent by itself (without a key each call is a new refund); it reaches the processor.
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  rest: {
    method: 'POST',
    summary: 'Create a refund. Body: `transactionId`, `amount`, `reason`, optional `currency`, `metadata` (the fields of `create_refund`). Header `Idempotency-Key` optional',
    path: '/v1/refunds',
    // The body carries the tool's fields; the idempotency key travels in a header, as at Stripe.
    input: ({ body, headers }) => {
      const idempotencyKey = idempotencyKeyHeader(headers);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw errors.validation('Request body must be a JSON object with transactionId, amount, reason and optionally currency and metadata');
      }
      if ('idempotencyKey' in body) {
        throw errors.validation("Send the idempotency key in the Idempotency-Key header, not as the body field 'idempotencyKey'");
      }
      return idempotencyKey === undefined ? body : { ...body, idempotencyKey };
    },
    data: (output) => output.refund,
  },
  run: async (input, { service, caller }) => ({ refund: await service.create(caller, input) }),
  // A refund still pending is queued, not lost: the processor may not have answered within the
  // call's deadline (or a review window holds it). Said outright, so that an agent does not take
  // it for a failure and create the refund again.
  // An agent's refund held for a person's approval is pending too, but not queued: that is said
  // plainly, with how the agent learns the outcome.
  note: ({ refund }, context) => {
    if (refund.status !== 'pending') return undefined;
    if (context === undefined || refund.initiatedBy !== 'mcp') return queuedNote(refund.id);
    return context.service.approvalForRefund(context.caller, refund.id).then((approval) =>
      approval?.status === 'requested' ? heldNote(refund.id, approval) : queuedNote(refund.id),
    );
  },
});

function queuedNote(refundId: string): string {
  return `Refund ${refundId} is pending: it is recorded and queued, and the server submits it to the processor by itself (nothing more to do). Check its status with get_refund. Do not create it again: a repeat with the same idempotencyKey returns this refund, without it a second refund would be made.`;
}

function heldNote(refundId: string, approval: ApprovalRequest): string {
  return (
    `Refund ${refundId} waits for a person's approval (${approval.id}): ${approval.ruleMessage}. ` +
    `Nothing is sent to the processor until a person approves it; if they reject it, or nobody decides by ${approval.expiresAt}, it is cancelled. ` +
    'You cannot approve it yourself. Tell the user it awaits approval. get_refund shows the outcome: pending while it waits, ' +
    'then processing or completed once approved and submitted, or cancelled if rejected or expired. Do not create it again.'
  );
}
