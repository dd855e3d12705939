/**
 * The SQLite webhook event store: the shared contract, then the table's own refusals; and the
 * index that finds a refund by its processor id.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../../src/app.js';
import { SqliteWebhookEventStore, type WebhookEventRecord } from '../../../src/store/sqlite/webhook-event-store.js';
import { cleanupAll, createTestApp } from '../../support/fixtures.js';
import { webhookEventStoreContract } from '../contract/webhook-events.js';
import { sqliteStores } from './harness.js';

webhookEventStoreContract(sqliteStores);

let app: SqliteApp;
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

describe('webhook events (SQLite)', () => {
  it('the table refuses what the contract does not allow', async () => {
    await expect(store.record(event({ outcome: 'maybe' as WebhookEventRecord['outcome'] }))).rejects.toThrow(/CHECK/);
    await expect(store.record(event({ eventId: '' }))).rejects.toThrow(/CHECK/);
    await expect(store.record(event({ eventId: 'evt_2', refundId: 'ref_doesnotexist' }))).rejects.toThrow(/FOREIGN KEY/);
  });
});

describe('refunds by processor id (SqliteRefundStore.findByExternalId)', () => {
  it('is served by the external id index', () => {
    const plan = app.db
      .prepare("EXPLAIN QUERY PLAN SELECT id FROM refunds WHERE processor = 'stripe' AND external_refund_id = 're_A' ORDER BY created_at, id LIMIT 1")
      .all() as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/refunds_by_external_id/);
  });
});
