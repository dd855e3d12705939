import { z } from 'zod';
import { REFUND_REASONS } from '../../domain/refund.js';
import { AMOUNT_LIMITS, createRefundInputSchema, refundSchema } from '../../domain/schemas.js';
import { defineTool } from '../tool.js';

export const createRefundTool = defineTool({
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
  inputSchema: createRefundInputSchema,
  outputSchema: z.object({ refund: refundSchema }),
  // Not idempotent by itself (without a key each call is a new refund); it reaches the processor.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  writes: true,
  handler: async (input, { service, caller }) => ({ refund: await service.create(caller, input) }),
  // A refund still pending is queued, not lost: the processor may not have answered within the
  // call's deadline (or a review window holds it). Said outright, so that an agent does not take
  // it for a failure and create the refund again.
  note: ({ refund }) =>
    refund.status === 'pending'
      ? `Refund ${refund.id} is pending: it is recorded and queued, and the server submits it to the processor by itself (nothing more to do). Check its status with get_refund. Do not create it again: a repeat with the same idempotencyKey returns this refund, without it a second refund would be made.`
      : undefined,
});
