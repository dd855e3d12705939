import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RefundKitError } from '../../src/domain/errors.js';
import { agentPolicySchema } from '../../src/domain/guardrails/policy.js';
import {
  createRefundInputSchema,
  LIST_LIMIT,
  listRefundsInputSchema,
  limitSchema,
  metadataSchema,
  offsetSchema,
  parseInput,
  processorSchema,
  refundIdSchema,
  refundSchema,
  statusSchema,
  toValidationError,
} from '../../src/domain/schemas.js';

/** The shapes the adapters build from the shared schemas (strict: unknown fields are errors). */
const byId = z.strictObject({ refundId: refundIdSchema('refundId') });
const listQuery = z.strictObject({
  status: statusSchema.optional(),
  processor: processorSchema.optional(),
  limit: limitSchema.optional(),
  offset: offsetSchema.optional(),
});

function failure(schema: z.ZodType, input: unknown): RefundKitError {
  try {
    parseInput(schema, input);
  } catch (error) {
    expect(error).toBeInstanceOf(RefundKitError);
    return error as RefundKitError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

const ID_RULE =
  "refundId must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456";

describe('limit', () => {
  it.each([
    [0, 'Limit must be between 1 and 100'],
    [101, 'Limit must be between 1 and 100'],
    [-5, 'Limit must be between 1 and 100'],
    [1.5, 'Limit must be an integer between 1 and 100'],
    ['10', 'Limit must be an integer between 1 and 100'],
    [null, 'Limit must be an integer between 1 and 100'],
    [true, 'Limit must be an integer between 1 and 100'],
  ])('limit %j -> %s', (limit, message) => {
    const error = failure(listQuery, { limit });
    expect(error.code).toBe('validation_error');
    expect(error.message).toBe(message);
  });

  it.each([1, 25, 100])('accepts %i', (limit) => {
    expect(parseInput(listQuery, { limit })).toEqual({ limit });
  });

  it('has the reference bounds and default', () => {
    expect(LIST_LIMIT).toEqual({ min: 1, max: 100, default: 25 });
  });
});

describe('offset', () => {
  it.each([-1, 1.5, '3', null])('offset %j is rejected naming the field and rule', (offset) => {
    expect(failure(listQuery, { offset }).message).toBe('Offset must be an integer of 0 or more');
  });

  it.each([0, 1, 10_000])('accepts %i', (offset) => {
    expect(parseInput(listQuery, { offset })).toEqual({ offset });
  });
});

describe('status and processor filters', () => {
  it.each(['bogus', 'canceled', 'PENDING', 5])('status %j lists the allowed values', (status) => {
    expect(failure(listQuery, { status }).message).toBe(
      'Status must be one of: pending, processing, completed, failed, cancelled',
    );
  });

  it.each(['Stripe', '', '1abc', 'a'.repeat(33), 'str-ipe', 7])('processor %j is rejected', (processor) => {
    const message = failure(listQuery, { processor }).message;
    expect(message).toMatch(/^Processor must be a processor name/);
  });

  it.each(['stripe', 'sandbox', 'a', 'my_psp_2'])('processor %j is accepted', (processor) => {
    expect(parseInput(listQuery, { processor })).toEqual({ processor });
  });

  it('leaves absent optional fields absent (the adapter applies defaults)', () => {
    expect(parseInput(listQuery, {})).toEqual({});
  });
});

describe('refund id', () => {
  it('accepts a well-formed id', () => {
    expect(parseInput(byId, { refundId: 'ref_abc123def456' })).toEqual({ refundId: 'ref_abc123def456' });
  });

  it('a missing id says it is required', () => {
    expect(failure(byId, {}).message).toBe('refundId is required');
  });

  it.each([
    'x',
    'ref_ABC123DEF456',
    'ref_abc123def45',
    'ref_abc123def4567',
    're_abc123def456',
    ' ref_abc123def456',
    'ref_abc123def45!',
    5,
    null,
  ])('bad id %j names the field and the format', (refundId) => {
    const error = failure(byId, { refundId });
    expect(error.code).toBe('validation_error');
    expect(error.message).toBe(ID_RULE);
  });

  it('uses the field name it is given', () => {
    const schema = z.strictObject({ id: refundIdSchema('id') });
    expect(failure(schema, { id: 'nope' }).message).toMatch(/^id must be a RefundKit refund id/);
    expect(failure(schema, {}).message).toBe('id is required');
  });
});

describe('object shape', () => {
  it('an unknown field is named', () => {
    expect(failure(byId, { refundId: 'ref_abc123def456', amount: 5 }).message).toBe("Unknown field 'amount'");
  });

  it('an unknown nested field says where it is', () => {
    const schema = z.strictObject({ outer: z.strictObject({ a: z.string() }) });
    expect(failure(schema, { outer: { a: 'x', b: 1 } }).message).toBe("Unknown field 'b' in outer");
  });

  it.each([null, 'ref_abc123def456', 42, [], true])('non-object arguments %j', (args) => {
    expect(failure(byId, args).message).toBe('Arguments must be a JSON object');
  });
});

describe('toValidationError', () => {
  it('prefixes zod generic messages with the field path', () => {
    const schema = z.object({ nested: z.object({ amount: z.number() }) });
    const result = schema.safeParse({ nested: { amount: 'x' } });
    expect(result.success).toBe(false);
    const error = toValidationError(result.error!);
    expect(error.code).toBe('validation_error');
    expect(error.message.startsWith('nested.amount: ')).toBe(true);
  });

  it('keeps our own messages, which already start with the field name', () => {
    const result = listQuery.safeParse({ limit: 0 });
    expect(toValidationError(result.error!).message).toBe('Limit must be between 1 and 100');
  });

  it('reports only the first issue', () => {
    const result = listQuery.safeParse({ limit: 0, offset: -1 });
    expect(result.error!.issues.length).toBe(2);
    expect(toValidationError(result.error!).message).toBe('Limit must be between 1 and 100');
  });

  it('handles an error with no issues', () => {
    const error = toValidationError(new z.ZodError([]));
    expect(error.code).toBe('validation_error');
    expect(error.message).toBe('Invalid input');
  });
});

describe('refundSchema and metadataSchema', () => {
  const refund = {
    id: 'ref_abc123def456',
    organizationId: 'org_xyz789xyz789',
    externalRefundId: null,
    transactionId: 'ch_1',
    amount: 2500,
    currency: 'usd',
    reason: 'product_defective',
    status: 'pending',
    processor: 'stripe',
    metadata: { orderId: 'order_1' },
    initiatedBy: 'mcp',
    createdAt: '2026-02-22T10:30:00.000Z',
    updatedAt: '2026-02-22T10:30:00.000Z',
  };

  it('accepts a refund as the reference shows it', () => {
    expect(refundSchema.parse(refund)).toEqual(refund);
    expect(refundSchema.parse({ ...refund, metadata: null, externalRefundId: 're_1' })).toMatchObject({ metadata: null });
  });

  it.each([
    { status: 'canceled' },
    { initiatedBy: 'system' },
    { amount: 1.5 },
    { metadata: { n: 1 } },
    { externalRefundId: undefined },
  ])('rejects %j', (patch) => {
    expect(refundSchema.safeParse({ ...refund, ...patch }).success).toBe(false);
  });

  it('metadata is a string-to-string map', () => {
    expect(metadataSchema.safeParse({ a: 'b' }).success).toBe(true);
    expect(metadataSchema.safeParse({ a: 1 }).success).toBe(false);
    expect(metadataSchema.safeParse(['a']).success).toBe(false);
  });
});

describe('parseInput and toValidationError, the cases left', () => {
  function messageOf(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      if (error instanceof RefundKitError) return `${error.code}: ${error.message}`;
      throw error;
    }
    throw new Error('expected a validation_error');
  }

  it('an unknown field deep inside is named with its whole dotted path', () => {
    const limits = { maxPerRefund: 100, approvalAbove: 50, dailyCount: 1, dailyAmount: 100 };
    const policy = { currencies: { usd: { ...limits, perWeek: 5 } }, reasons: [], cancelOthers: false, confirmWrites: false, approvalHours: 1 };
    expect(messageOf(() => parseInput(agentPolicySchema, policy))).toBe("validation_error: Unknown field 'perWeek' in currencies.usd");
  });

  it("zod's own message is prefixed with the field even when the field's first letter happens to start it", () => {
    const result = z.strictObject({ items: z.number() }).safeParse({ items: 'x' });
    if (result.success) throw new Error('expected a failure');
    expect(toValidationError(result.error).message).toBe('items: Invalid input: expected number, received string');
  });

  it('takes the fields a REST query leaves out, passed as undefined', () => {
    const input = { status: undefined, processor: undefined, limit: 10, offset: undefined };
    expect(parseInput(listRefundsInputSchema, input)).toEqual({ limit: 10 });
    const metadata: unknown = JSON.parse('{"orderId": "o_1", "__proto__": "x"}');
    expect(messageOf(() => parseInput(createRefundInputSchema, { transactionId: 'ch_1', amount: 100, reason: 'other', currency: undefined, metadata }))).toBe(
      "validation_error: metadata: the key '__proto__' is not allowed",
    );
  });

  it('an agent reads what a refund id is from the tool schema', () => {
    const schema = z.toJSONSchema(z.strictObject({ refundId: refundIdSchema('refundId') }));
    expect(schema.properties?.refundId).toMatchObject({ type: 'string', description: 'RefundKit refund id, e.g. ref_abc123def456' });
  });
});
