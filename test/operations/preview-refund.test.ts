import { describe, expect, it } from 'vitest';
import { previewRefund } from '../../src/operations/preview-refund.js';
import { caller, preview, restData, restOf, restRefusal, stubService } from '../support/operations.js';

const body = { transactionId: 'ch_123', amount: 2500, reason: 'other' };

describe('preview_refund', () => {
  it('is POST /v1/refunds/preview, a read (scope read, readOnlyHint), answering the preview as data', async () => {
    expect(restOf(previewRefund)).toMatchObject({ method: 'POST', path: '/v1/refunds/preview' });
    expect(previewRefund.scope).toBe('read');
    expect(previewRefund.annotations.readOnlyHint).toBe(true);
    const service = stubService();
    expect(await restData(previewRefund, service, { body: { ...body, currency: 'EUR', metadata: { a: 'b' } } })).toEqual(preview);
    expect(service.preview).toHaveBeenCalledWith(caller, { ...body, currency: 'eur' });
    expect(service.create).not.toHaveBeenCalled();
  });

  it("takes create_refund's fields and checks them the same way, without idempotencyKey", () => {
    expect(restRefusal(previewRefund, { body: { ...body, amount: 0 } })).toMatch(/^Amount must be an integer/);
    expect(restRefusal(previewRefund, { body: { ...body, idempotencyKey: 'k1' } })).toMatch(/idempotencyKey/);
    for (const value of [undefined, null, [], 'text']) {
      expect(restRefusal(previewRefund, { body: value })).toBe(
        'Request body must be a JSON object with transactionId, amount, reason and optionally currency and metadata',
      );
    }
  });
});
