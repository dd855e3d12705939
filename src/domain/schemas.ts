/**
 * Input and output shapes shared by every adapter, with messages that name the field and the
 * rule, so that an agent (or a person) can fix its call from the error alone.
 */
import { z } from 'zod';
import { errors, type RefundKitError } from './errors.js';
import { INITIATORS, REFUND_REASONS, REFUND_STATUSES } from './refund.js';

export const REFUND_ID_PATTERN = /^ref_[a-z0-9]{12}$/;
export const PROCESSOR_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
/** An idempotency key, as create_refund's argument and as the REST Idempotency-Key header. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,255}$/;
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

/** list_refunds' arguments, and GET /v1/refunds' query: both refuse the same input with the same message. */
export const listRefundsInputSchema = z.strictObject({
  status: statusSchema.optional().describe('Only refunds in this status'),
  processor: processorSchema.optional().describe('Only refunds moved by this processor, e.g. stripe or sandbox'),
  limit: limitSchema
    .optional()
    .describe(`How many refunds to return, ${LIST_LIMIT.min} to ${LIST_LIMIT.max} (default ${LIST_LIMIT.default})`),
  offset: offsetSchema.optional().describe('How many refunds to skip, 0 or more (default 0)'),
});

/** The defaults applied to parsed list arguments. */
export function toListQuery(input: z.output<typeof listRefundsInputSchema>): ListQuery {
  const query: ListQuery = { limit: input.limit ?? LIST_LIMIT.default, offset: input.offset ?? 0 };
  if (input.status !== undefined) query.status = input.status;
  if (input.processor !== undefined) query.processor = input.processor;
  return query;
}

export const metadataSchema = z.record(z.string(), z.string());

/**
 * Stripe's limits for metadata, applied to every refund so that any processor can carry it.
 * Stripe allows 50 keys; two are ours (refundkit_refund_id, refundkit_reason).
 */
export const METADATA_LIMITS = { keys: 48, keyLength: 40, valueLength: 500 } as const;
export const AMOUNT_LIMITS = { min: 1, max: 99_999_999 } as const;

const transactionRule =
  "transactionId must be a Stripe charge id (ch_…) or payment intent id (pi_…): the prefix, then letters, digits or '_'";
const amountRule = `Amount must be an integer number of minor units between ${AMOUNT_LIMITS.min} and ${AMOUNT_LIMITS.max} (2500 = $25.00)`;
const currencyRule = 'Currency must be a three-letter ISO 4217 code, e.g. usd';
const reasonRule = `Reason must be one of: ${REFUND_REASONS.join(', ')}`;
const idempotencyRule = "idempotencyKey must be 1 to 255 characters of letters, digits, '-', '_', ':' or '.'";
const metadataRule = `Metadata must be an object of at most ${METADATA_LIMITS.keys} string values, keys of 1 to ${METADATA_LIMITS.keyLength} characters without '[' or ']' and not starting with 'refundkit_', values of at most ${METADATA_LIMITS.valueLength} characters`;

export const createRefundInputSchema = z.strictObject({
  transactionId: z
    .string({ error: (issue) => (issue.input === undefined ? 'transactionId is required' : transactionRule) })
    .regex(/^(ch|pi)_[A-Za-z0-9_]{1,250}$/, { error: transactionRule })
    .describe('The Stripe charge (ch_…) or payment intent (pi_…) to refund'),
  amount: z
    .number({ error: (issue) => (issue.input === undefined ? 'Amount is required' : amountRule) })
    .int({ error: amountRule })
    .min(AMOUNT_LIMITS.min, { error: amountRule })
    .max(AMOUNT_LIMITS.max, { error: amountRule })
    .describe('Amount to refund in the smallest currency unit: 2500 = $25.00 for usd'),
  currency: z
    .string({ error: currencyRule })
    .regex(/^[A-Za-z]{3}$/, { error: currencyRule })
    .transform((value) => value.toLowerCase())
    .optional()
    .describe('Three-letter ISO currency code of the original charge (default usd)'),
  reason: z
    .enum(REFUND_REASONS, {
      error: (issue) => (issue.input === undefined ? `Reason is required: one of ${REFUND_REASONS.join(', ')}` : reasonRule),
    })
    .describe('Why the refund is made'),
  metadata: z
    .record(
      z
        .string({ error: metadataRule })
        .min(1, { error: metadataRule })
        .max(METADATA_LIMITS.keyLength, { error: metadataRule })
        .regex(/^[^[\]]+$/, { error: metadataRule })
        .refine((key) => !key.startsWith('refundkit_'), { error: metadataRule }),
      z.string({ error: metadataRule }).max(METADATA_LIMITS.valueLength, { error: metadataRule }),
      { error: metadataRule },
    )
    .refine((value) => Object.keys(value).length <= METADATA_LIMITS.keys, { error: metadataRule })
    .optional()
    .describe('Your own string key-value pairs, e.g. { "orderId": "order_123" } (Stripe limits apply)'),
  idempotencyKey: z
    .string({ error: idempotencyRule })
    .regex(IDEMPOTENCY_KEY_PATTERN, { error: idempotencyRule })
    .optional()
    .describe('Any unique string for this refund; repeating the call with the same key and arguments returns the first refund instead of creating another'),
});

export type CreateRefundInput = z.output<typeof createRefundInputSchema>;

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
  reason: z.string().describe(`Why the refund was made: ${REFUND_REASONS.join(', ')}`),
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
    const where = issue.path.length > 0 ? ` in ${clip(issue.path.join('.'))}` : '';
    return errors.validation(`Unknown field '${clip(issue.keys[0] ?? '')}'${where}`);
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

/** A caller's own text, echoed in a message, is cut short: a 1 MB field name is not repeated. */
export function clip(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** Parses `input` with `schema`, throwing a validation_error that names the field on failure. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw toValidationError(result.error);
  const protoAt = nestedProtoKey(input);
  if (protoAt !== null) throw errors.validation(`${protoAt}: the key '__proto__' is not allowed`);
  return result.data;
}

/**
 * zod drops a `__proto__` key inside a record (metadata) without a word, to keep prototypes safe,
 * so input it accepted may have lost a key: the refund would be stored without it. Such a key is
 * refused instead, naming where it was (a top-level one is already an unknown field). Returns the
 * dotted path, or null.
 */
function nestedProtoKey(value: unknown, path: readonly string[] = [], depth = 0): string | null {
  if (typeof value !== 'object' || value === null || depth > 16) return null;
  if (path.length > 0 && Object.prototype.hasOwnProperty.call(value, '__proto__')) return path.join('.');
  for (const [key, child] of Object.entries(value)) {
    const found = nestedProtoKey(child, [...path, key], depth + 1);
    if (found !== null) return found;
  }
  return null;
}
