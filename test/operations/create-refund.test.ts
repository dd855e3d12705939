import { describe, expect, it } from 'vitest';
import { createRefund } from '../../src/operations/create-refund.js';
import { caller, refund, restData, restInput, restOf, restRefusal, stubService } from '../support/operations.js';

const body = { transactionId: 'ch_123', amount: 2500, reason: 'other' };

describe('create_refund', () => {
  it('is POST /v1/refunds, and answers the refund itself as data', async () => {
    expect(restOf(createRefund)).toMatchObject({ method: 'POST', path: '/v1/refunds' });
    expect(restOf(createRefund).query).toBeUndefined();
    const service = stubService();
    expect(await restData(createRefund, service, { body })).toEqual(refund);
    expect(service.create).toHaveBeenCalledWith(caller, body);
  });

  it('takes the idempotency key from the Idempotency-Key header', async () => {
    const service = stubService();
    await restData(createRefund, service, { body: { ...body, currency: 'EUR', metadata: { a: 'b' } }, headers: { 'idempotency-key': 'ticket-42' } });
    expect(service.create).toHaveBeenCalledWith(caller, { ...body, currency: 'eur', metadata: { a: 'b' }, idempotencyKey: 'ticket-42' });
  });

  it('refuses a header key outside the pattern, naming the header', () => {
    for (const key of ['', 'has space', 'a,b', 'x'.repeat(256), 'ünï']) {
      expect(restRefusal(createRefund, { body, headers: { 'idempotency-key': key } })).toBe(
        "Idempotency-Key header must be 1 to 255 characters of letters, digits, '-', '_', ':' or '.'",
      );
    }
  });

  it('refuses the key as a body field, pointing at the header', () => {
    expect(restRefusal(createRefund, { body: { ...body, idempotencyKey: 'k1' } })).toBe(
      "Send the idempotency key in the Idempotency-Key header, not as the body field 'idempotencyKey'",
    );
    expect(restRefusal(createRefund, { body: { ...body, idempotencyKey: 'k1' }, headers: { 'idempotency-key': 'k1' } })).toMatch(/^Send the idempotency key/);
  });

  it('refuses a missing or non-object body, listing the fields', () => {
    for (const value of [undefined, null, [], 'text', 42, true]) {
      expect(restRefusal(createRefund, { body: value })).toBe(
        'Request body must be a JSON object with transactionId, amount, reason and optionally currency and metadata',
      );
    }
  });

  it("refuses a bad field with the tool's own message", () => {
    expect(restRefusal(createRefund, { body: { amount: 100, reason: 'other' } })).toBe('transactionId is required');
    expect(restRefusal(createRefund, { body: { ...body, amount: 0 } })).toMatch(/^Amount must be an integer number of minor units/);
    expect(restRefusal(createRefund, { body: { ...body, extra: 1 } })).toBe("Unknown field 'extra'");
  });

  it('keeps an own __proto__ key in the body, so that the schema refuses it', () => {
    const withProto = JSON.parse('{"transactionId":"ch_1","amount":1,"reason":"other","metadata":{"__proto__":"x"}}') as unknown;
    expect(restRefusal(createRefund, { body: withProto, headers: { 'idempotency-key': 'k' } })).toBe("metadata: the key '__proto__' is not allowed");
    expect(restInput(createRefund, { body, headers: { 'idempotency-key': 'k' } })).toEqual({ ...body, idempotencyKey: 'k' });
  });

  it('notes a pending refund as queued, for the MCP tool result; a refund past pending gets no note', () => {
    expect(createRefund.note?.({ refund })).toBe(
      `Refund ${refund.id} is pending: it is recorded and queued, and the server submits it to the processor by itself (nothing more to do). Check its status with get_refund. Do not create it again: a repeat with the same idempotencyKey returns this refund, without it a second refund would be made.`,
    );
    for (const status of ['processing', 'completed', 'failed', 'cancelled'] as const) {
      expect(createRefund.note?.({ refund: { ...refund, status } })).toBeUndefined();
    }
  });
});
