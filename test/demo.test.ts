import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../src/app.js';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID, demoRefundId, seedDemo } from '../src/demo.js';
import { canTransition, INITIATORS, REFUND_STATUSES, type Refund, type RefundStatus } from '../src/domain/refund.js';
import { createMcpServer } from '../src/mcp/server.js';
import { cleanupAll, countRows, createTestApp, rawEvents } from './support/fixtures.js';

let app: SqliteApp;

beforeEach(() => {
  app = createTestApp();
});

afterEach(() => {
  cleanupAll();
});

function demoRefunds(): Promise<Refund[]> {
  return app.refunds.list(DEMO_ORGANIZATION_ID, {}, { limit: 100, offset: 0 });
}

describe('seedDemo', () => {
  it('creates the demo organization with about twenty refunds', async () => {
    expect(await seedDemo(app)).toEqual({ created: true });
    expect(await app.organizations.findById(DEMO_ORGANIZATION_ID)).not.toBeNull();
    const refunds = await demoRefunds();
    expect(refunds.length).toBeGreaterThanOrEqual(18);
    expect(refunds.length).toBeLessThanOrEqual(25);
    expect(refunds.map((r) => r.id)).toEqual(refunds.map((_, index) => demoRefundId(index)));
    expect(demoRefundId(0)).toBe('ref_demo00000001');
    for (const refund of refunds) expect(refund.id).toMatch(/^ref_[a-z0-9]{12}$/);
  });

  it('covers every status, both processors, metadata set and null, and all three initiators', async () => {
    await seedDemo(app);
    const refunds = await demoRefunds();
    expect(new Set(refunds.map((r) => r.status))).toEqual(new Set(REFUND_STATUSES));
    expect(new Set(refunds.map((r) => r.processor))).toEqual(new Set(['stripe', 'sandbox']));
    expect(new Set(refunds.map((r) => r.initiatedBy))).toEqual(new Set(INITIATORS));
    expect(refunds.some((r) => r.metadata === null)).toBe(true);
    expect(refunds.some((r) => r.metadata !== null && Object.keys(r.metadata).length > 0)).toBe(true);
    // Both outcomes of cancelling a processing sandbox refund are there to try.
    const processingSandbox = refunds.filter((r) => r.status === 'processing' && r.processor === 'sandbox');
    expect(processingSandbox.some((r) => r.amount % 100 === 99)).toBe(true);
    expect(processingSandbox.some((r) => r.amount % 100 !== 99)).toBe(true);
    // A processing Stripe refund shows processor_not_configured on a server without Stripe.
    expect(refunds.some((r) => r.status === 'processing' && r.processor === 'stripe')).toBe(true);
  });

  it('every refund is a valid refund of the contract', async () => {
    await seedDemo(app);
    for (const refund of await demoRefunds()) {
      expect(refund.organizationId).toBe(DEMO_ORGANIZATION_ID);
      expect(Number.isInteger(refund.amount) && refund.amount > 0).toBe(true);
      expect(refund.currency).toMatch(/^[a-z]{3}$/);
      expect(refund.createdAt <= refund.updatedAt).toBe(true);
      expect(new Date(refund.createdAt).toISOString()).toBe(refund.createdAt);
      // Refunds that reached the processor carry its id; pending ones have none yet.
      if (['processing', 'completed', 'failed'].includes(refund.status)) expect(refund.externalRefundId).not.toBeNull();
      if (refund.status === 'pending') expect(refund.externalRefundId).toBeNull();
    }
  });

  it("each refund's events replay from nothing, through legal moves, to its stored status", async () => {
    await seedDemo(app);
    for (const refund of await demoRefunds()) {
      const events = rawEvents(app, refund.id);
      expect(events.length, refund.id).toBeGreaterThanOrEqual(1);
      let status: RefundStatus | null = null;
      let lastAt = '';
      for (const event of events) {
        expect(event.from_status, `${refund.id} event ${event.id}`).toBe(status);
        const to = event.to_status as RefundStatus;
        if (status !== null) expect(canTransition(status, to), `${status} -> ${to}`).toBe(true);
        expect(event.organization_id).toBe(DEMO_ORGANIZATION_ID);
        expect(event.created_at >= lastAt).toBe(true);
        lastAt = event.created_at;
        status = to;
      }
      expect(status, refund.id).toBe(refund.status);
      expect(events[0]!.initiated_by).toBe(refund.initiatedBy);
      expect(events.at(-1)!.created_at).toBe(refund.updatedAt);
    }
  });

  it('the demo key opens the demo organization and is stored only as a hash', async () => {
    await seedDemo(app);
    expect((await app.apiKeys.authenticate(DEMO_API_KEY))?.organizationId).toBe(DEMO_ORGANIZATION_ID);
    const stored = JSON.stringify(app.db.prepare('SELECT * FROM api_keys').all());
    expect(stored).not.toContain(DEMO_API_KEY);
  });

  it('running it twice creates nothing twice', async () => {
    await seedDemo(app);
    const counts = () =>
      Object.fromEntries(['organizations', 'api_keys', 'refunds', 'refund_events'].map((t) => [t, countRows(app, t)]));
    const before = counts();
    const refundsBefore = await demoRefunds();
    expect(await seedDemo(app)).toEqual({ created: false });
    expect(counts()).toEqual(before);
    expect(await demoRefunds()).toEqual(refundsBefore);
  });

  it('is the same on every database (fixed ids, dates and amounts)', async () => {
    await seedDemo(app);
    const other = createTestApp();
    await seedDemo(other);
    expect(await other.refunds.list(DEMO_ORGANIZATION_ID, {}, { limit: 100, offset: 0 })).toEqual(await demoRefunds());
  });
});

describe('the demo through the tools', () => {
  it("every transaction listed can be refunded again through create_refund, whatever the refund's processor", async () => {
    await seedDemo(app);
    const server = createMcpServer({ service: app.service, caller: { organizationId: DEMO_ORGANIZATION_ID, actor: 'mcp' }, readOnly: false });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'refundkit-demo-test', version: '0.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const listed = (await client.callTool({ name: 'list_refunds', arguments: { limit: 100 } })) as CallToolResult;
      const transactionIds = new Set((listed.structuredContent as { refunds: Refund[] }).refunds.map((r) => r.transactionId));
      expect(transactionIds.size).toBeGreaterThanOrEqual(18);
      for (const transactionId of transactionIds) {
        const created = (await client.callTool({
          name: 'create_refund',
          arguments: { transactionId, amount: 100, reason: 'requested_by_customer' },
        })) as CallToolResult;
        expect(created.isError ?? false, `${transactionId}: ${JSON.stringify(created.content)}`).toBe(false);
        expect((created.structuredContent as { refund: Refund }).refund.transactionId).toBe(transactionId);
      }
    } finally {
      await client.close();
    }
  });
});
