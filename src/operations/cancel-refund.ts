import { z } from 'zod';
import { errors } from '../domain/errors.js';
import { clip, refundIdSchema, refundSchema } from '../domain/schemas.js';
import { defineOperation } from './operation.js';
import { pathRefundId } from './rest-input.js';

export const cancelRefund = defineOperation({
  name: 'cancel_refund',
  title: 'Cancel refund',
  description: [
    'Cancel a refund that has not gone through yet, so that no money (or no more money) moves.',
    'A pending refund (not yet sent to the processor) is cancelled at once and never reaches the processor.',
    'A processing refund is cancelled only if its processor agrees (Stripe cancels only refunds still awaiting customer action);',
    'if the processor refuses, the error refund_not_cancellable says the status the refund really has now.',
    'Completed, failed and cancelled refunds cannot be cancelled (refund_not_cancellable).',
    'processor_unavailable means nothing changed: try again later. processor_not_configured means the server lacks that processor.',
    'refund_busy means a submission to the processor is in flight, or its answer never came and it may still take effect: nothing changed; retry after the seconds the message gives.',
    'Returns { refund } with status cancelled. Cancelling cannot be undone; confirm the refund id with get_refund first if unsure.',
  ].join(' '),
  input: z.strictObject({ refundId: refundIdSchema('refundId') }),
  output: z.object({ refund: refundSchema }),
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  rest: {
    method: 'POST',
    summary: 'Cancel a pending or processing refund. Body: none, or `{}`',
    path: '/v1/refunds/:refundId/cancel',
    input: (request) => {
      const refundId = pathRefundId(request);
      const { body } = request;
      // The reference: "Send an empty JSON object or no body at all."
      if (body !== undefined) {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw errors.validation('Request body must be a JSON object ({}) or empty');
        }
        const [field] = Object.keys(body);
        if (field !== undefined) throw errors.validation(`Unknown field '${clip(field)}': cancel takes no parameters`);
      }
      return { refundId };
    },
    data: (output) => output.refund,
  },
  run: async ({ refundId }, { service, caller }) => ({ refund: await service.cancel(caller, refundId) }),
});
