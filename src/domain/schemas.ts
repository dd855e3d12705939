/**
 * Input and output shapes shared by every adapter, with messages that name the field and the
 * rule, so that an agent (or a person) can fix its call from the error alone.
 */
import { z } from 'zod';
import { errors, type RefundKitError } from './errors.js';
import { INITIATORS, REFUND_STATUSES } from './refund.js';

export const REFUND_ID_PATTERN = /^ref_[a-z0-9]{12}$/;
export const PROCESSOR_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const LIST_LIMIT = { min: 1, max: 100, default: 25 } as const;

export function refundIdSchema(field: string) {
  const rule = `${field} must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456`;
  return z
    .string({ error: (issue) => (issue.input === undefined ? `${field} is required` : rule) })
    .regex(REFUND_ID_PATTERN, { error: rule })
    .describe('RefundKit refund id, e.g. ref_abc123def456');
}

const statusRule = `Status must be one of: ${REFUND_STATUSES.join(', ')}`;
export const statusSchema = z.enum(REFUND_STATUSES, { error: statusRule });

const processorRule = "Processor must be a processor name of lowercase letters, digits or '_' (at most 32), e.g. stripe";
export const processorSchema = z
  .string({ error: processorRule })
  .regex(PROCESSOR_NAME_PATTERN, { error: processorRule });

const limitRange = `Limit must be between ${LIST_LIMIT.min} and ${LIST_LIMIT.max}`;
export const limitSchema = z
  .number({ error: `Limit must be an integer between ${LIST_LIMIT.min} and ${LIST_LIMIT.max}` })
  .int({ error: `Limit must be an integer between ${LIST_LIMIT.min} and ${LIST_LIMIT.max}` })
  .min(LIST_LIMIT.min, { error: limitRange })
  .max(LIST_LIMIT.max, { error: limitRange });

const offsetRule = 'Offset must be an integer of 0 or more';
export const offsetSchema = z.number({ error: offsetRule }).int({ error: offsetRule }).min(0, { error: offsetRule });

/** The list query after defaults are applied. */
export interface ListQuery {
  status?: (typeof REFUND_STATUSES)[number];
  processor?: string;
  limit: number;
  offset: number;
}

export const metadataSchema = z.record(z.string(), z.string());

export const refundSchema = z.object({
  id: z.string().describe('RefundKit refund id (ref_…)'),
  organizationId: z.string().describe('The organization that owns this refund'),
  externalRefundId: z
    .string()
    .nullable()
    .describe("The processor's refund id (for Stripe, re_…); null until the refund is submitted"),
  transactionId: z.string().describe('The original charge or payment the refund returns money from'),
  amount: z.number().int().describe('Amount in the smallest currency unit (cents for usd)'),
  currency: z.string().describe('Three-letter ISO currency code, lowercase'),
  reason: z.string().describe('Why the refund was made'),
  status: statusSchema.describe('pending, processing, completed, failed or cancelled'),
  processor: z.string().describe('Payment processor that moves the money, e.g. stripe or sandbox'),
  metadata: metadataSchema.nullable().describe('Custom key-value data, or null'),
  initiatedBy: z.enum(INITIATORS).describe('How the refund was initiated: api, dashboard or mcp'),
  createdAt: z.string().describe('ISO 8601 creation time'),
  updatedAt: z.string().describe('ISO 8601 time of the last change'),
});

/**
 * Turns a zod failure into one validation_error naming the first offending field. Our schemas
 * carry their own messages; the fallbacks cover the shapes zod reports itself (unknown fields,
 * a non-object where an object belongs).
 */
export function toValidationError(error: z.ZodError): RefundKitError {
  const issue = error.issues[0];
  if (issue === undefined) return errors.validation('Invalid input');
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? ` in ${issue.path.join('.')}` : '';
    return errors.validation(`Unknown field '${issue.keys[0] ?? ''}'${where}`);
  }
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && field === '') {
    return errors.validation('Arguments must be a JSON object');
  }
  const message = issue.message;
  // Our own messages already start with the field's name; zod's generic ones get it prefixed.
  if (field === '' || message.toLowerCase().startsWith(field.toLowerCase().split('.')[0] ?? '')) {
    return errors.validation(message);
  }
  return errors.validation(`${field}: ${message}`);
}

/** Parses `input` with `schema`, throwing a validation_error that names the field on failure. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw toValidationError(result.error);
  return result.data;
}
