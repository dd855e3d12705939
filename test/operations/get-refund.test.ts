import { describe, expect, it } from 'vitest';
import { getRefund } from '../../src/operations/get-refund.js';
import { caller, contextOf, refund, restData, restOf, restRefusal, stubService } from '../support/operations.js';

describe('get_refund', () => {
  it('is GET /v1/refunds/:refundId, and answers the refund itself as data', async () => {
    expect(restOf(getRefund)).toMatchObject({ method: 'GET', path: '/v1/refunds/:refundId' });
    expect(restOf(getRefund).query).toBeUndefined();
    const service = stubService();
    expect(await restData(getRefund, service, { params: { refundId: refund.id } })).toEqual(refund);
  });

  it('answers REST from the database, and reads a processing refund from its processor for MCP', async () => {
    const service = stubService();
    await restData(getRefund, service, { params: { refundId: refund.id } });
    expect(service.get).toHaveBeenCalledWith(caller, refund.id);
    expect(service.getFresh).not.toHaveBeenCalled();

    const mcp = stubService();
    expect(await getRefund.run({ refundId: refund.id }, contextOf(mcp))).toEqual({ refund });
    expect(mcp.getFresh).toHaveBeenCalledWith(caller, refund.id);
    expect(mcp.get).not.toHaveBeenCalled();
  });

  it("refuses a malformed path id naming REST's 'id', where the tool names refundId", () => {
    expect(restRefusal(getRefund, { params: { refundId: 'ref_SHOUTING1234' } })).toBe(
      "id must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456",
    );
    expect(() => getRefund.input.parse({ refundId: 'nope' })).toThrow(/refundId must be a RefundKit refund id/);
  });

  it('ignores a body, as the route always has', async () => {
    const service = stubService();
    expect(await restData(getRefund, service, { params: { refundId: refund.id }, body: { any: 1 } })).toEqual(refund);
  });
});

describe('get_refund and approvals', () => {
  it('puts the approval beside the refund for MCP, without its organization; REST answers the refund alone', async () => {
    const approval = {
      id: 'apr_abc123def456',
      organizationId: 'org_test',
      refundId: refund.id,
      amount: 5000,
      currency: 'usd',
      reason: 'other',
      transactionId: 'ch_123',
      requestedByKeyId: 'key_1',
      rule: 'approval_threshold' as const,
      ruleMessage: 'above the threshold',
      status: 'requested' as const,
      decidedBy: null,
      decidedAt: null,
      note: null,
      expiresAt: '2026-01-02T00:00:00.000Z',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const service = stubService();
    service.approvalForRefund.mockImplementation(() => Promise.resolve(approval as never));
    const answer = await getRefund.run({ refundId: refund.id }, contextOf(service));
    expect(answer).toEqual({ refund, approval: expect.objectContaining({ id: approval.id, status: 'requested', requestedByKeyId: 'key_1' }) });
    expect(answer.approval).not.toHaveProperty('organizationId');
    expect(await restData(getRefund, service, { params: { refundId: refund.id } })).toEqual(refund);
  });
});
