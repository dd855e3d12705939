import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { SqliteWebhookEventStore, type WebhookEventRecord } from '../../../src/store/sqlite/webhook-event-store.js';
import { cleanupAll, createOrg, createTestApp, insertRefund } from '../../support/fixtures.js';

let app: App;
let store: SqliteWebhookEventStore;

const event = (over: Partial<WebhookEventRecord> = {}): WebhookEventRecord => ({
  source: 'stripe',
  eventId: 'evt_1',
  type: 'refund.updated',
  refundId: null,
  outcome: 'ignored',
  receivedAt: '2026-03-01T12:00:00.000Z',
  ...over,
});

beforeEach(() => {
  app = createTestApp();
  store = new SqliteWebhookEventStore(app.db);
});
afterEach(() => cleanupAll());

describe('webhook events', () => {
  it('records an event once: a second record of the same id is refused and the first stands', () => {
    const refund = insertRefund(app, createOrg(app).id, { status: 'processing', processor: 'stripe' });
    expect(store.find('stripe', 'evt_1')).toBeNull();
    expect(store.record(event({ refundId: refund.id, outcome: 'applied' }))).toBe(true);
    expect(store.record(event({ outcome: 'unchanged' }))).toBe(false);
    expect(store.find('stripe', 'evt_1')).toEqual(event({ refundId: refund.id, outcome: 'applied' }));
  });

  it('a claim (recorded first as ignored) is settled with what handling it came to, or released for a retry', () => {
    const refund = insertRefund(app, createOrg(app).id, { status: 'processing', processor: 'stripe' });
    expect(store.record(event())).toBe(true);
    store.settle('stripe', 'evt_1', 'applied', refund.id);
    expect(store.find('stripe', 'evt_1')).toEqual(event({ refundId: refund.id, outcome: 'applied' }));
    expect(store.record(event({ eventId: 'evt_2' }))).toBe(true);
    store.release('stripe', 'evt_2');
    expect(store.find('stripe', 'evt_2')).toBeNull();
    expect(store.record(event({ eventId: 'evt_2' }))).toBe(true);
    // Another source's event of the same id is left alone.
    expect(store.record(event({ source: 'other', eventId: 'evt_1' }))).toBe(true);
    store.release('other', 'evt_1');
    expect(store.find('stripe', 'evt_1')?.outcome).toBe('applied');
  });

  it('an id is unique per source', () => {
    expect(store.record(event())).toBe(true);
    expect(store.record(event({ source: 'other' }))).toBe(true);
    expect(store.find('other', 'evt_1')?.source).toBe('other');
  });

  it('prune forgets the events received before the cutoff, in batches, and keeps the rest', () => {
    const day = (d: number): string => new Date(Date.UTC(2026, 2, d)).toISOString();
    for (let i = 0; i < 25; i += 1) store.record(event({ eventId: `evt_old_${i}`, receivedAt: day(1 + (i % 5)) }));
    for (let i = 0; i < 3; i += 1) store.record(event({ eventId: `evt_new_${i}`, receivedAt: day(20) }));
    store.record(event({ eventId: 'evt_at_cutoff', receivedAt: day(10) }));
    expect(store.prune(day(10), 7)).toBe(25);
    expect(store.find('stripe', 'evt_old_0')).toBeNull();
    expect(store.find('stripe', 'evt_at_cutoff')).not.toBeNull();
    expect(store.find('stripe', 'evt_new_2')).not.toBeNull();
    expect(store.prune(day(10))).toBe(0);
    // A pruned id is new again: a delivery that old could not carry a valid signature anyway.
    expect(store.record(event({ eventId: 'evt_old_0', receivedAt: day(21) }))).toBe(true);
  });

  it('the table refuses what the contract does not allow', () => {
    expect(() => store.record(event({ outcome: 'maybe' as WebhookEventRecord['outcome'] }))).toThrow(/CHECK/);
    expect(() => store.record(event({ eventId: '' }))).toThrow(/CHECK/);
    expect(() => store.record(event({ eventId: 'evt_2', refundId: 'ref_doesnotexist' }))).toThrow(/FOREIGN KEY/);
  });
});

describe('refunds by processor id (SqliteRefundStore.findByExternalId)', () => {
  it('finds a refund of any organization by processor and processor id, and only that', () => {
    const orgA = createOrg(app, 'A').id;
    const orgB = createOrg(app, 'B').id;
    const a = insertRefund(app, orgA, { status: 'processing', processor: 'stripe', externalRefundId: 're_A' });
    const b = insertRefund(app, orgB, { status: 'completed', processor: 'stripe', externalRefundId: 're_B' });
    insertRefund(app, orgB, { status: 'processing', processor: 'sandbox', externalRefundId: 're_C' });
    expect(app.refunds.findByExternalId('stripe', 're_A')).toEqual(a);
    expect(app.refunds.findByExternalId('stripe', 're_B')).toEqual(b);
    expect(app.refunds.findByExternalId('stripe', 're_C')).toBeNull();
    expect(app.refunds.findByExternalId('sandbox', 're_A')).toBeNull();
    expect(app.refunds.findByExternalId('stripe', 're_missing')).toBeNull();
  });

  it('is served by the external id index', () => {
    const plan = app.db
      .prepare("EXPLAIN QUERY PLAN SELECT id FROM refunds WHERE processor = 'stripe' AND external_refund_id = 're_A' ORDER BY created_at, id LIMIT 1")
      .all() as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/refunds_by_external_id/);
  });
});
