/**
 * The RefundStore contract, continued: the late-landing watch a cancel can start with its status
 * change, and the discrepancy list (a processor holding money moving for a refund we hold
 * otherwise). Told through the port alone; run by each adapter's test file with its own factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RefundStore } from '../../../src/domain/ports.js';
import type { RefundStatus } from '../../../src/domain/refund.js';
import { refundFixture, type StoreFactory, type StoreHarness } from './harness.js';

export function lateLandingContract(factory: StoreFactory): void {
  describe('RefundStore contract: late-landing watch and discrepancies', () => {
    let stores: StoreHarness;
    let refunds: RefundStore;
    let org: string;
    let other: string;

    beforeEach(async () => {
      stores = await factory();
      refunds = stores.refunds;
      org = (await stores.organizations.create('Org')).id;
      other = (await stores.organizations.create('Other')).id;
    });
    afterEach(() => stores.close());

    const at = '2026-03-01T12:00:00.000Z';
    const discrepancy = (refundId: string, processorStatus: RefundStatus = 'completed') => ({
      organizationId: org,
      refundId,
      processor: 'stripe',
      externalRefundId: 're_late',
      ourStatus: 'cancelled' as const,
      processorStatus,
      source: 'late-landing watch',
      detectedAt: at,
    });

    it('a cancel can start a watch with the status change; it comes due, is moved on, and ends', async () => {
      const refund = await refunds.insert(refundFixture(org, { status: 'pending', processor: 'stripe' }));
      const moved = await refunds.transition({
        organizationId: org,
        refundId: refund.id,
        from: 'pending',
        to: 'cancelled',
        actor: 'mcp',
        at,
        lateLandingWatch: { nextAt: '2026-03-01T12:10:00.000Z', until: '2026-03-02T12:00:00.000Z' },
      });
      expect(moved?.status).toBe('cancelled');
      // A process without this refund's processor never sees it due, so never reschedules it.
      expect(await refunds.dueForLateLandingWatch('2026-03-01T12:10:00.000Z', 10, ['sandbox'])).toEqual([]);
      expect(await refunds.dueForLateLandingWatch('2026-03-01T12:10:00.000Z', 10, [])).toEqual([]);
      expect(await refunds.dueForLateLandingWatch('2026-03-01T12:09:59.999Z', 10, ['stripe'])).toEqual([]);
      expect(await refunds.dueForLateLandingWatch('2026-03-01T12:10:00.000Z', 10, ['stripe'])).toEqual([
        { organizationId: org, id: refund.id, watchUntil: '2026-03-02T12:00:00.000Z' },
      ]);
      await refunds.scheduleLateLandingWatch(refund.id, '2026-03-01T12:20:00.000Z');
      expect(await refunds.dueForLateLandingWatch('2026-03-01T12:10:00.000Z', 10, ['stripe'])).toEqual([]);
      await refunds.scheduleLateLandingWatch(refund.id, null);
      expect(await refunds.dueForLateLandingWatch('2026-03-09T00:00:00.000Z', 10, ['stripe'])).toEqual([]);
    });

    it('records a discrepancy once per processor refund and status, with an event that leaves the status, and links the processor id', async () => {
      const refund = await refunds.insert(refundFixture(org, { status: 'cancelled', processor: 'stripe', externalRefundId: null }));
      expect(await refunds.recordDiscrepancy(discrepancy(refund.id, 'processing'), 'discrepancy: one')).toBe(true);
      expect(await refunds.recordDiscrepancy(discrepancy(refund.id, 'processing'), 'discrepancy: again')).toBe(false);
      expect(await refunds.recordDiscrepancy(discrepancy(refund.id, 'completed'), 'discrepancy: settled there')).toBe(true);
      const stored = await refunds.findById(org, refund.id);
      expect(stored?.status).toBe('cancelled');
      expect(stored?.externalRefundId).toBe('re_late');
      expect((await refunds.events(org, refund.id)).slice(1).map((e) => [e.from, e.to, e.initiatedBy, e.detail])).toEqual([
        ['cancelled', 'cancelled', 'system', 'discrepancy: one'],
        ['cancelled', 'cancelled', 'system', 'discrepancy: settled there'],
      ]);
      expect((await refunds.listDiscrepancies(org)).map((d) => d.processorStatus)).toEqual(['processing', 'completed']);
      expect(await refunds.listDiscrepancies(other)).toEqual([]);
      expect(await refunds.listDiscrepancies()).toHaveLength(2);
      expect((await refunds.listDiscrepancies(org))[0]).toEqual(discrepancy(refund.id, 'processing'));
    });

    it("keeps the refund's own processor id when the discrepancy is a second processor refund", async () => {
      const refund = await refunds.insert(refundFixture(org, { status: 'completed', processor: 'stripe', externalRefundId: 're_first' }));
      expect(await refunds.recordDiscrepancy({ ...discrepancy(refund.id), ourStatus: 'completed' }, 'discrepancy: second')).toBe(true);
      expect((await refunds.findById(org, refund.id))?.externalRefundId).toBe('re_first');
    });

    it('findForProcessor finds a refund by our id across organizations, only at its processor', async () => {
      const refund = await refunds.insert(refundFixture(other, { status: 'cancelled', processor: 'stripe' }));
      expect((await refunds.findForProcessor('stripe', refund.id))?.organizationId).toBe(other);
      expect(await refunds.findForProcessor('sandbox', refund.id)).toBeNull();
      expect(await refunds.findForProcessor('stripe', 'ref_nosuchrefund')).toBeNull();
    });

    it('a status change that names no watch keeps the one scheduled', async () => {
      const refund = await refunds.insert(refundFixture(org, { status: 'pending', processor: 'stripe' }));
      await refunds.scheduleLateLandingWatch(refund.id, '2026-03-01T12:10:00.000Z');
      await refunds.transition({ organizationId: org, refundId: refund.id, from: 'pending', to: 'processing', actor: 'system', at, externalRefundId: 're_w' });
      expect(await refunds.dueForLateLandingWatch('2026-03-01T12:10:00.000Z', 10, ['stripe'])).toEqual([
        { organizationId: org, id: refund.id, watchUntil: '2026-03-01T12:10:00.000Z' },
      ]);
    });

    it('a source longer than 500 characters is recorded as its first 500', async () => {
      const refund = await refunds.insert(refundFixture(org, { status: 'cancelled', processor: 'stripe', externalRefundId: null }));
      const source = `late-landing watch: ${'x'.repeat(600)}`;
      expect(await refunds.recordDiscrepancy({ ...discrepancy(refund.id), source }, 'discrepancy: long source')).toBe(true);
      expect((await refunds.listDiscrepancies(org)).map((d) => d.source)).toEqual([source.slice(0, 500)]);
    });
  });
}
