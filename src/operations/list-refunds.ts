import { z } from 'zod';
import { LIST_LIMIT, listRefundsInputSchema, refundSchema, toListQuery } from '../domain/schemas.js';
import { defineOperation } from './operation.js';

/**
 * A query-string integer: digits only (an optional minus, so that -1 gets the range message).
 * Anything else (10abc, 1e2, 1.5, '') goes to the schema as the text it is, and fails there with
 * the same message the MCP tool gives.
 */
export function integerParam(raw: string | undefined): number | string | undefined {
  if (raw === undefined) return undefined;
  return /^-?\d{1,16}$/.test(raw) ? Number(raw) : raw;
}

export const listRefunds = defineOperation({
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
  input: listRefundsInputSchema,
  output: z.object({
    refunds: z.array(refundSchema),
    limit: z.number().int(),
    offset: z.number().int(),
    nextOffset: z.number().int().nullable().describe('Offset of the next page, or null on the last page'),
  }),
  scope: 'read',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  rest: {
    method: 'GET',
    summary: 'Refunds, newest first: `{"data": [refund, …]}`. Query: `status`, `processor`, `limit` (1–100, default 25), `offset` (≥ 0, default 0)',
    path: '/v1/refunds',
    query: ['status', 'processor', 'limit', 'offset'],
    input: ({ query }) => ({
      status: query.status,
      processor: query.processor,
      limit: integerParam(query.limit),
      offset: integerParam(query.offset),
    }),
    // The reference's list answer is the array itself.
    data: (output) => output.refunds,
  },
  run: (input, { service, caller }) => service.list(caller, toListQuery(input)),
});
