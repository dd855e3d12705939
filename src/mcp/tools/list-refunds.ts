import { z } from 'zod';
import { LIST_LIMIT, listRefundsInputSchema, refundSchema, toListQuery } from '../../domain/schemas.js';
import { defineTool } from '../tool.js';

export const listRefundsTool = defineTool({
  name: 'list_refunds',
  title: 'List refunds',
  description: [
    "List your organization's refunds, newest first, optionally filtered by status and/or processor.",
    'Use it to find a refund when you have no id, to review what is pending, processing or failed, or to page through history.',
    `limit is ${LIST_LIMIT.min}-${LIST_LIMIT.max} (default ${LIST_LIMIT.default}); offset skips that many results (default 0).`,
    'Amounts are integers in the smallest currency unit (2500 = $25.00 for usd).',
    'Returns { refunds, limit, offset, nextOffset }: pass nextOffset as offset for the next page; it is null on the last page.',
    'Call get_refund for one refund, or cancel_refund to stop a pending or processing one.',
  ].join(' '),
  inputSchema: listRefundsInputSchema,
  outputSchema: z.object({
    refunds: z.array(refundSchema),
    limit: z.number().int(),
    offset: z.number().int(),
    nextOffset: z.number().int().nullable().describe('Offset of the next page, or null on the last page'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  writes: false,
  handler: async (input, { service, caller }) => await service.list(caller, toListQuery(input)),
});
