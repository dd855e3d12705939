import { describe, expect, it } from 'vitest';
import { RefundKitError } from '../../src/domain/errors.js';
import { pathRefundId } from '../../src/operations/rest-input.js';
import { request } from '../support/operations.js';

describe('pathRefundId', () => {
  it('returns a well-formed id from the :refundId path parameter', () => {
    expect(pathRefundId(request({ params: { refundId: 'ref_abc123def456' } }))).toBe('ref_abc123def456');
  });

  it("refuses a malformed or missing one naming REST's 'id'", () => {
    for (const refundId of ['ref_ABC123DEF456', 'ref_abc', '', 'ref_abc123def456/', '../etc']) {
      expect(() => pathRefundId(request({ params: { refundId } }))).toThrow(
        new RefundKitError('validation_error', "id must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456"),
      );
    }
    expect(() => pathRefundId(request())).toThrow('id is required');
  });
});
