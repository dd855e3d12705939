import { describe, expect, it } from 'vitest';
import { cancelRefund } from '../../src/operations/cancel-refund.js';
import { caller, refund, restData, restOf, restRefusal, stubService } from '../support/operations.js';

const params = { refundId: refund.id };

describe('cancel_refund', () => {
  it('is POST /v1/refunds/:refundId/cancel, and answers the refund itself as data', async () => {
    expect(restOf(cancelRefund)).toMatchObject({ method: 'POST', path: '/v1/refunds/:refundId/cancel' });
    expect(restOf(cancelRefund).query).toBeUndefined();
    const service = stubService();
    expect(await restData(cancelRefund, service, { params })).toEqual({ ...refund, status: 'cancelled' });
    expect(service.cancel).toHaveBeenCalledWith(caller, refund.id);
  });

  it('takes no body or an empty object', async () => {
    const service = stubService();
    await restData(cancelRefund, service, { params, body: {} });
    expect(service.cancel).toHaveBeenCalledWith(caller, refund.id);
  });

  it("refuses any other body with today's messages", () => {
    for (const body of [null, [], 'x', 0, false]) {
      expect(restRefusal(cancelRefund, { params, body })).toBe('Request body must be a JSON object ({}) or empty');
    }
    expect(restRefusal(cancelRefund, { params, body: { reason: 'x' } })).toBe("Unknown field 'reason': cancel takes no parameters");
    expect(restRefusal(cancelRefund, { params, body: { ['k'.repeat(100)]: 1 } })).toBe(`Unknown field '${'k'.repeat(40)}…': cancel takes no parameters`);
  });

  it("refuses a malformed path id naming 'id', before looking at the body", () => {
    expect(restRefusal(cancelRefund, { params: { refundId: 'ref_1' }, body: { reason: 'x' } })).toMatch(/^id must be a RefundKit refund id/);
  });
});
