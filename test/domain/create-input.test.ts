/**
 * The create input every adapter parses (createRefundInputSchema, through parseInput): the exact
 * message for each missing or wrong field, the metadata limits at their edges, nested
 * `__proto__` keys, and the list defaults (toListQuery).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RefundKitError } from '../../src/domain/errors.js';
import { REFUND_REASONS } from '../../src/domain/refund.js';
import {
  clip,
  createRefundInputSchema,
  LIST_LIMIT,
  listRefundsInputSchema,
  METADATA_LIMITS,
  parseInput,
  toListQuery,
} from '../../src/domain/schemas.js';

const valid = { transactionId: 'ch_abc123', amount: 2500, reason: 'requested_by_customer' };

function messageOf(input: unknown): string {
  try {
    parseInput(createRefundInputSchema, input);
  } catch (error) {
    expect(error).toBeInstanceOf(RefundKitError);
    expect((error as RefundKitError).code).toBe('validation_error');
    return (error as RefundKitError).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

const without = (field: keyof typeof valid): Record<string, unknown> => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== field));

describe('createRefundInputSchema', () => {
  it('says which required field is missing, and what a wrong one must be', () => {
    expect(messageOf(without('transactionId'))).toBe('transactionId is required');
    expect(messageOf({ ...valid, transactionId: 42 })).toMatch(/^transactionId must be a Stripe charge id/);
    expect(messageOf(without('amount'))).toBe('Amount is required');
    expect(messageOf({ ...valid, amount: '2500' })).toMatch(/^Amount must be an integer number of minor units between 1 and 99999999/);
    expect(messageOf(without('reason'))).toBe(`Reason is required: one of ${REFUND_REASONS.join(', ')}`);
    expect(messageOf({ ...valid, reason: 'because' })).toBe(`Reason must be one of: ${REFUND_REASONS.join(', ')}`);
  });

  it('takes the currency in any case and keeps it in lowercase', () => {
    expect(parseInput(createRefundInputSchema, { ...valid, currency: 'EUR' }).currency).toBe('eur');
    expect(parseInput(createRefundInputSchema, { ...valid, currency: 'gbp' }).currency).toBe('gbp');
  });

  it("refuses a metadata key of ours (refundkit_…), anywhere else in the key is fine", () => {
    expect(messageOf({ ...valid, metadata: { refundkit_refund_id: 'x' } })).toMatch(/^Metadata must be an object of at most 48 string values/);
    expect(parseInput(createRefundInputSchema, { ...valid, metadata: { my_refundkit_: 'x' } }).metadata).toEqual({ my_refundkit_: 'x' });
  });

  it('takes exactly as many metadata keys as the limit, and refuses one more', () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(parseInput(createRefundInputSchema, { ...valid, metadata: keys(METADATA_LIMITS.keys) }).metadata ?? {})).toHaveLength(48);
    expect(messageOf({ ...valid, metadata: keys(METADATA_LIMITS.keys + 1) })).toMatch(/^Metadata must be/);
  });

  it("refuses a '__proto__' key inside metadata (zod would drop it silently), naming where it is", () => {
    expect(messageOf({ ...valid, metadata: JSON.parse('{"__proto__": "x", "a": "b"}') as unknown })).toBe("metadata: the key '__proto__' is not allowed");
    // Found however deep, and reported at the first one.
    const loose = z.looseObject({});
    const nested = JSON.parse('{"outer": {"inner": {"__proto__": {"a": 1}}}}') as unknown;
    expect(() => parseInput(loose, nested)).toThrow("outer.inner: the key '__proto__' is not allowed");
    // A top-level one is an unknown field of a strict object, not a nested key.
    expect(messageOf(JSON.parse('{"transactionId": "ch_abc123", "amount": 2500, "reason": "requested_by_customer", "__proto__": {}}') as unknown)).toBe(
      "Unknown field '__proto__'",
    );
  });
});

describe('toListQuery', () => {
  it('applies the defaults and keeps the filters given, only those', () => {
    expect(toListQuery(parseInput(listRefundsInputSchema, {}))).toEqual({ limit: LIST_LIMIT.default, offset: 0 });
    expect(toListQuery(parseInput(listRefundsInputSchema, { status: 'failed', processor: 'stripe', limit: 5, offset: 10 }))).toEqual({
      status: 'failed',
      processor: 'stripe',
      limit: 5,
      offset: 10,
    });
    expect(toListQuery(parseInput(listRefundsInputSchema, { processor: 'sandbox' }))).toEqual({ processor: 'sandbox', limit: LIST_LIMIT.default, offset: 0 });
  });
});

describe('clip', () => {
  it('keeps text up to the limit, and cuts longer text with an ellipsis', () => {
    expect(clip('x'.repeat(40))).toBe('x'.repeat(40));
    expect(clip('x'.repeat(41))).toBe(`${'x'.repeat(40)}…`);
    expect(clip('abcdef', 3)).toBe('abc…');
  });
});
