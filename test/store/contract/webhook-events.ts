/**
 * The WebhookEventStore contract: what any adapter must do, told through the port alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookEventRecord, WebhookEventStore } from '../../../src/domain/ports.js';
import { refundFixture, type StoreFactory, type StoreHarness } from './harness.js';

const event = (over: Partial<WebhookEventRecord> = {}): WebhookEventRecord => ({
  source: 'stripe',
  eventId: 'evt_1',
  type: 'refund.updated',
  refundId: null,
  outcome: 'ignored',
  receivedAt: '2026-03-01T12:00:00.000Z',
  ...over,
});

export function webhookEventStoreContract(factory: StoreFactory): void {
  describe('WebhookEventStore contract', () => {
    let stores: StoreHarness;
    let store: WebhookEventStore;
    let refundId: string;
    beforeEach(async () => {
      stores = await factory();
      store = stores.webhookEvents;
      const org = (await stores.organizations.create('Org')).id;
      refundId = (await stores.refunds.insert(refundFixture(org, { status: 'processing', processor: 'stripe' }))).id;
    });
    afterEach(() => stores.close());

    it('records an event once: a second record of the same id is refused and the first stands', async () => {
      expect(await store.find('stripe', 'evt_1')).toBeNull();
      expect(await store.record(event({ refundId, outcome: 'applied' }))).toBe(true);
      expect(await store.record(event({ outcome: 'unchanged' }))).toBe(false);
      expect(await store.find('stripe', 'evt_1')).toEqual(event({ refundId, outcome: 'applied' }));
    });

    it('a claim (recorded first as ignored) is settled with what handling it came to, or released for a retry', async () => {
      expect(await store.record(event())).toBe(true);
      await store.settle('stripe', 'evt_1', 'applied', refundId);
      expect(await store.find('stripe', 'evt_1')).toEqual(event({ refundId, outcome: 'applied' }));
      expect(await store.record(event({ eventId: 'evt_2' }))).toBe(true);
      await store.release('stripe', 'evt_2');
      expect(await store.find('stripe', 'evt_2')).toBeNull();
      expect(await store.record(event({ eventId: 'evt_2' }))).toBe(true);
      // Another source's event of the same id is left alone.
      expect(await store.record(event({ source: 'other', eventId: 'evt_1' }))).toBe(true);
      await store.release('other', 'evt_1');
      expect((await store.find('stripe', 'evt_1'))?.outcome).toBe('applied');
    });

    it('an id is unique per source', async () => {
      expect(await store.record(event())).toBe(true);
      expect(await store.record(event({ source: 'other' }))).toBe(true);
      expect((await store.find('other', 'evt_1'))?.source).toBe('other');
    });

    it('prune forgets the events received before the cutoff, in batches, and keeps the rest', async () => {
      const day = (d: number): string => new Date(Date.UTC(2026, 2, d)).toISOString();
      for (let i = 0; i < 25; i += 1) await store.record(event({ eventId: `evt_old_${i}`, receivedAt: day(1 + (i % 5)) }));
      for (let i = 0; i < 3; i += 1) await store.record(event({ eventId: `evt_new_${i}`, receivedAt: day(20) }));
      await store.record(event({ eventId: 'evt_at_cutoff', receivedAt: day(10) }));
      expect(await store.prune(day(10), 7)).toBe(25);
      expect(await store.find('stripe', 'evt_old_0')).toBeNull();
      expect(await store.find('stripe', 'evt_at_cutoff')).not.toBeNull();
      expect(await store.find('stripe', 'evt_new_2')).not.toBeNull();
      expect(await store.prune(day(10))).toBe(0);
      // A pruned id is new again: a delivery that old could not carry a valid signature anyway.
      expect(await store.record(event({ eventId: 'evt_old_0', receivedAt: day(21) }))).toBe(true);
    });

    it('refuses what the contract does not allow', async () => {
      await expect(store.record(event({ outcome: 'maybe' as WebhookEventRecord['outcome'] }))).rejects.toThrow();
      await expect(store.record(event({ eventId: '' }))).rejects.toThrow();
      await expect(store.record(event({ eventId: 'evt_2', refundId: 'ref_doesnotexist' }))).rejects.toThrow();
    });
  });
}
