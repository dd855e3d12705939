import { z } from 'zod';
import { errors } from '../domain/errors.js';
import { POLICY_RULES } from '../domain/guardrails/decide.js';
import { createRefundInputSchema } from '../domain/schemas.js';
import { defineOperation } from './operation.js';

const previewSchema = z.object({
  policyApplies: z.boolean().describe("Whether the agent policy governs this caller's refunds (it governs agents: MCP calls with an API key)"),
  outcome: z.enum(['allow', 'approval', 'deny']).describe('allow: created as usual; approval: created pending, waits for a person; deny: refused, nothing created'),
  rule: z.enum(POLICY_RULES).nullable().describe('The policy rule that holds or refuses the refund; null when allowed'),
  message: z.string().describe('What would happen and why, with the limit that applies'),
  transaction: z
    .object({
      transactionId: z.string(),
      charged: z.number().int().nullable().describe('What the processor says the transaction charged; null when it cannot tell'),
      refunded: z.number().int().describe('What our refunds on it already took (not cancelled or failed)'),
      remaining: z.number().int().nullable().describe('What remains refundable: charged minus refunded; null when the charge is unknown'),
    })
    .describe('What remains refundable on the transaction'),
  budgetLeft: z
    .object({ currency: z.string(), count: z.number().int(), amount: z.number().int() })
    .nullable()
    .describe("What is left of the rolling 24-hour agent budget in the refund's currency; null where the policy sets no limits for it"),
});

export const previewRefund = defineOperation({
  name: 'preview_refund',
  title: 'Preview refund',
  description: [
    "Check what would happen to a refund before creating it, without changing anything: this organization's agent policy answers",
    'allow (created and submitted as usual), approval (created pending, waits for a person to approve it) or deny (refused, nothing created), with the rule and its limit.',
    'Returns { policyApplies, outcome, rule, message, transaction, budgetLeft }: transaction tells what remains refundable (charged, already refunded, remaining; charged and remaining are null when the processor cannot tell);',
    "budgetLeft what is left of today's agent budget in the currency (refund count and amount; null when the policy sets no limit for that currency).",
    'Takes the same arguments as create_refund, without idempotencyKey. Amounts are integers in the smallest currency unit (2500 = $25.00 for usd).',
    'The answer is a forecast: other refunds made meanwhile can change it. Then call create_refund with the same arguments.',
  ].join(' '),
  input: createRefundInputSchema.omit({ idempotencyKey: true }),
  output: previewSchema,
  scope: 'read',
  // Read-only; open world: what the transaction charged is read from the processor.
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  rest: {
    method: 'POST',
    summary:
      'What the agent policy would say about a refund, creating nothing: `{"data": preview}`. Body: the fields of `POST /v1/refunds` (a JSON body, as there)',
    path: '/v1/refunds/preview',
    input: ({ body }) => {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw errors.validation('Request body must be a JSON object with transactionId, amount, reason and optionally currency and metadata');
      }
      return body;
    },
    data: (output) => output,
  },
  run: ({ transactionId, amount, currency, reason }, { service, caller }) => service.preview(caller, { transactionId, amount, currency, reason }),
});
