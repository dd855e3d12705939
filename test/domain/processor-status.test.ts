/**
 * Recording what a processor says (processor-status.ts): news of the status a refund already
 * has, stale or illegal news, a legal move, and a processor's own "pending".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import type { Refund } from '../../src/domain/refund.js';
import type { RefundStore, StatusChange } from '../../src/domain/ports.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { ScriptedProcessor } from '../support/scripted.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, insertRefund, rawEvents, settingsWith } from '../support/fixtures.js';

const SYNC_MS = 60_000;

function setup() {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const processor = new ScriptedProcessor('stripe');
  const reports: Array<{ message: string; detail: Record<string, unknown> }> = [];
  const service = new RefundService({
    store: app.refunds,
    processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    settings: settingsWith({ syncIntervalMs: SYNC_MS }),
    onBackgroundError: (message, detail) => reports.push({ message, detail }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'api' };
  const nextSync = (id: string): unknown => (app.db.prepare('SELECT next_sync_at AS v FROM refunds WHERE id = ?').get(id) as { v: unknown }).v;
  const processing = (): Refund => insertRefund(app, org.id, { status: 'processing', processor: 'stripe' });
  return { app, clock, processor, service, caller, reports, nextSync, processing };
}

afterEach(() => cleanupAll());

describe('applyProcessorStatus', () => {
  it('the status the refund already has: no change, no report, the next read scheduled', async () => {
    const { service, reports, nextSync, processing, clock } = setup();
    const refund = processing();
    expect(await service.applyProcessorStatus(refund, 'processing', 'status read from stripe')).toBe(false);
    expect(reports).toEqual([]);
    expect(nextSync(refund.id)).toBe(new Date(clock.ms + SYNC_MS).toISOString());
  });

  it('a move the status machine forbids: ignored, reported with both statuses, the next read scheduled', async () => {
    const { app, service, reports, nextSync, processing, clock } = setup();
    const refund = processing();
    expect(await service.applyProcessorStatus(refund, 'pending', 'webhook refund.updated')).toBe(false);
    expect(reports).toEqual([
      { message: 'processor status ignored: not a legal move', detail: { refundId: refund.id, from: 'processing', to: 'pending', detail: 'webhook refund.updated' } },
    ]);
    expect((await app.refunds.findById(refund.organizationId, refund.id))?.status).toBe('processing');
    expect(nextSync(refund.id)).toBe(new Date(clock.ms + SYNC_MS).toISOString());
  });

  it('a legal move is recorded by the system with the detail, from the status the store holds, not a stale copy', async () => {
    const { app, service, processing } = setup();
    const refund = processing();
    // A copy read before the refund was submitted: the store's status is what the move starts from.
    const stale: Refund = { ...refund, status: 'pending' };
    expect(await service.applyProcessorStatus(stale, 'completed', 'status read from stripe')).toBe(true);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ from_status: 'processing', to_status: 'completed', initiated_by: 'system', detail: 'status read from stripe' });
  });
});

describe('recording a submission the processor holds', () => {
  it("a processor's own pending is our processing, and no detail means the prefix alone", async () => {
    const { app, processor, service, caller } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'submitted', externalRefundId: 're_pending1', status: 'pending' });
    const refund = await service.create(caller, { transactionId: 'ch_3PqStatus', amount: 100, reason: 'other' });
    expect((await service.get(caller, refund.id)).status).toBe('processing');
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ to_status: 'processing', detail: 'submitted to stripe as re_pending1' });
  });
});

describe('applyProcessorStatus losing a race', () => {
  it('another writer moves the refund between our read and our write: nothing recorded, no change reported, the refund read again at the next sync', async () => {
    const { app, clock, processing, nextSync } = setup();
    const refund = processing();
    const store = app.refunds;
    // The other writer (a cancel's answer, another process's status read) lands first.
    const racing: RefundStore = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'transition') {
          return async (change: StatusChange) => {
            await target.transition({ organizationId: refund.organizationId, refundId: refund.id, from: 'processing', to: 'completed', actor: 'system', at: clock.now().toISOString(), detail: 'the other writer', nextSyncAt: null });
            return target.transition(change);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const service = new RefundService({
      store: racing,
      processors: new StaticProcessorRegistry([new ScriptedProcessor('stripe')], {}, 'stripe'),
      clock,
      settings: settingsWith({ syncIntervalMs: SYNC_MS }),
    });
    expect(await service.applyProcessorStatus(refund, 'failed', 'status read from stripe')).toBe(false);
    expect(rawEvents(app, refund.id).map((e) => e.to_status)).toEqual(['processing', 'completed']);
    expect(nextSync(refund.id)).toBe(new Date(clock.ms + SYNC_MS).toISOString());
  });
});
