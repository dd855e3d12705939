import { z } from 'zod';
import { refundIdSchema, refundSchema } from '../domain/schemas.js';
import { approvalSchema, approvalView } from './approval-schema.js';
import { defineOperation } from './operation.js';
import { pathRefundId } from './rest-input.js';

export const getRefund = defineOperation({
  name: 'get_refund',
  title: 'Get refund',
  description: [
    'Look up one refund by its RefundKit id (ref_ followed by 12 lowercase letters or digits) and return it with its current status.',
    'Use it when a user quotes a refund id, or to check where a refund stands after creating or cancelling it.',
    'Amounts are integers in the smallest currency unit (2500 = $25.00 for usd).',
    'Status is pending (accepted, not yet sent to the processor), processing (sent, not settled), completed, failed or cancelled.',
    'For a processing refund, the status is read from the processor (Stripe) first, unless this server read it in the last few seconds; if the processor cannot be reached quickly, the stored status is returned.',
    'Returns { refund }, and { approval } beside it when the refund was held for a person\'s approval: its status (requested while it waits, approved, rejected or expired), who decided, when, and their note.',
    'An unknown id, or a refund of another organization, is not_found.',
    'To find refunds without an id use list_refunds; to stop a pending or processing refund use cancel_refund.',
  ].join(' '),
  input: z.strictObject({ refundId: refundIdSchema('refundId') }),
  output: z.object({
    refund: refundSchema,
    approval: approvalSchema.optional().describe("The approval request that held the refund for a person; absent when it never needed one"),
  }),
  // Open world: a processing refund's status is read from the payment processor.
  scope: 'read',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  rest: {
    method: 'GET',
    summary: 'One refund: `{"data": refund}`. Answers from the database (`get_refund` first reads a processing refund from its processor)',
    path: '/v1/refunds/:refundId',
    input: (request) => ({ refundId: pathRefundId(request) }),
    data: (output) => output.refund,
    // The REST API answers from the database (README: REFUNDKIT_REFRESH_AFTER_SECONDS is get_refund's).
    run: async ({ refundId }, { service, caller }) => ({ refund: await Promise.resolve(service.get(caller, refundId)) }),
  },
  run: async ({ refundId }, { service, caller }) => {
    const refund = await service.getFresh(caller, refundId);
    const approval = await service.approvalForRefund(caller, refund.id);
    return approval === null ? { refund } : { refund, approval: approvalView(approval) };
  },
});
