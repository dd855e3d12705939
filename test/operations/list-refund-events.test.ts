import { describe, expect, it } from 'vitest';
import { listRefundEvents } from '../../src/operations/list-refund-events.js';
import { caller, restData, restOf, restRefusal, stubService } from '../support/operations.js';

describe('list_refund_events', () => {
  it('is GET /v1/refunds/:refundId/events, a read, answering the events (actor, at) and approval as data', async () => {
    expect(restOf(listRefundEvents)).toMatchObject({ method: 'GET', path: '/v1/refunds/:refundId/events' });
    expect(listRefundEvents.scope).toBe('read');
    const service = stubService();
    const data = await restData(listRefundEvents, service, { params: { refundId: 'ref_abc123def456' } });
    expect(service.events).toHaveBeenCalledWith(caller, 'ref_abc123def456');
    expect(data).toEqual({
      refundId: 'ref_abc123def456',
      events: [{ from: null, to: 'pending', actor: 'api', detail: 'created', at: '2026-01-01T00:00:00.000Z' }],
      approval: null,
    });
  });

  it('refuses a malformed id with the REST message naming id', () => {
    expect(restRefusal(listRefundEvents, { params: { refundId: 'nope' } })).toMatch(/^id must be a RefundKit refund id/);
  });
});
