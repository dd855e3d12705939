/**
 * The background work (dispatcher.ts): submission under claims across connections, a backlog
 * drained several at a time, status sync; against the real SQLite store and a scripted processor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/domain/errors.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { HeldCalls, ObservedStore, ScriptedProcessor } from '../support/scripted.js';
import { cleanupAll, FakeClock, createOrg, createTestApp, rawEvents, settingsWith } from '../support/fixtures.js';

const input: CreateRefundInput = {
  transactionId: 'ch_3PqTestCharge',
  amount: 2500,
  currency: 'usd',
  reason: 'product_defective',
  metadata: { orderId: 'order_1', ticketId: 'SUP-1' },
};

function setup(policy: Partial<RefundSettings> = {}) {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const processor = new ScriptedProcessor();
  // What the service asks of the store, so that a test can wait for a step instead of sleeping.
  const observed = new ObservedStore(app.refunds);
  const service = new RefundService({
    store: observed.store,
    processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    settings: settingsWith({ retryBaseMs: 1_000, cancelWaitMs: 300, ...policy }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'mcp' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  return { app, org, clock, processor, service, caller, column, observed };
}

afterEach(() => cleanupAll());

describe('claims across connections', () => {
  it('never lets two dispatchers submit the same refund', async () => {
    const { app, service, caller, processor, clock } = setup({ holdMs: 1_000 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) ids.push((await service.create(caller, { ...input, amount: 100 + i })).id);
    clock.advance(1_000);
    // A second connection to the same file stands in for a second process.
    const secondDb = openDatabase(app.config.dbPath);
    try {
      const second = new RefundService({
        store: new SqliteRefundStore(secondDb),
        processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
        clock,
        settings: settingsWith(),
      });
      const [a, b] = await Promise.all([service.submitDue(), second.submitDue()]);
      expect(a + b).toBe(10);
      expect(new Set(processor.submits.map((s) => s.id)).size).toBe(10);
      expect(processor.submits).toHaveLength(10);
    } finally {
      secondDb.close();
    }
  });

  it('retakes a refund whose submitter died after its lease ran out, telling the processor it is a retry', async () => {
    const { app, service, caller, processor, clock } = setup({ holdMs: 1_000, leaseMs: 30_000 });
    const refund = await service.create(caller, input);
    clock.advance(1_000);
    // A process claims the refund and dies before recording anything.
    expect(await app.refunds.claimForSubmission(refund.id, 'dead-process', clock.now().toISOString(), new Date(clock.now().getTime() + 30_000).toISOString())).not.toBeNull();
    expect(await service.submitDue()).toBe(0);
    clock.advance(30_001);
    expect(await service.submitDue()).toBe(1);
    expect(processor.submits).toEqual([{ id: refund.id, attempt: 2 }]);
  });
});

describe('a background pass drains a backlog several at a time', () => {
  /** Releases the held calls round by round until `total` have answered. */
  async function drain(calls: HeldCalls<unknown>, total: number, concurrency: number): Promise<void> {
    for (let left = total; left > 0; ) {
      await calls.held(Math.min(concurrency, left));
      left -= calls.releaseAll();
    }
  }

  it.each([1, 3])('with concurrency %i submits that many refunds at once, each exactly once', async (concurrency) => {
    const { service, caller, processor, clock } = setup({ holdMs: 1_000, concurrency });
    for (let i = 0; i < 10; i += 1) await service.create(caller, { ...input, amount: 100 + i });
    clock.advance(1_000);
    const submit = new HeldCalls(() => ({ kind: 'submitted' as const, externalRefundId: `re_${processor.submits.length}`, status: 'processing' as const }));
    processor.onSubmit = submit.run;
    const pass = service.submitDue();
    await drain(submit, 10, concurrency);
    expect(await pass).toBe(10);
    expect(submit.peak).toBe(concurrency);
    expect(new Set(processor.submits.map((s) => s.id)).size).toBe(10);
    expect(processor.submits).toHaveLength(10);
  });

  it('reads statuses up to `concurrency` at once; one failed read does not stop the others', async () => {
    const { service, caller, processor, clock } = setup({ syncIntervalMs: 10_000, concurrency: 4 });
    const refunds = [];
    for (let i = 0; i < 9; i += 1) refunds.push(await service.create(caller, { ...input, amount: 100 + i }));
    const failing = refunds[4]?.id;
    const read = new HeldCalls(() => ({ status: 'completed' as const }));
    processor.onRetrieve = async (refund) => {
      const answer = await read.run();
      if (refund.id === failing) throw errors.processorUnavailable('stripe');
      return answer;
    };
    clock.advance(10_000);
    const pass = service.syncDue();
    await drain(read, 9, 4);
    expect(await pass).toEqual({ synced: 8, changed: 8 });
    expect(read.peak).toBe(4);
    expect((await Promise.all(refunds.map(async (r) => (await service.get(caller, r.id)).status))).filter((s) => s === 'completed')).toHaveLength(8);
  });
});

describe('status sync', () => {
  it('moves processing to completed, then a later failure to failed, with system events', async () => {
    const { app, service, caller, processor, clock } = setup({ syncIntervalMs: 10_000, completedRecheckMs: 60_000 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.resolve({ status: 'completed', detail: 'stripe status succeeded' });
    expect(await service.syncDue()).toEqual({ synced: 0, changed: 0 });
    clock.advance(10_000);
    expect(await service.syncDue()).toEqual({ synced: 1, changed: 1 });
    expect((await service.get(caller, refund.id)).status).toBe('completed');
    processor.onRetrieve = () => Promise.resolve({ status: 'failed', detail: 'failure_reason lost_or_stolen_card' });
    clock.advance(60_000);
    expect(await service.syncDue()).toEqual({ synced: 1, changed: 1 });
    expect((await service.get(caller, refund.id)).status).toBe('failed');
    const events = rawEvents(app, refund.id);
    expect(events.slice(-2).map((e) => [e.from_status, e.to_status, e.initiated_by, e.detail])).toEqual([
      ['processing', 'completed', 'system', 'status read from stripe: stripe status succeeded'],
      ['completed', 'failed', 'system', 'status read from stripe: failure_reason lost_or_stolen_card'],
    ]);
    // Failed is final: nothing more to read.
    clock.advance(10 * 60_000);
    expect(await service.syncDue()).toEqual({ synced: 0, changed: 0 });
  });

  it('re-reads a completed refund every completedRecheckMs until completedWatchMs after it completed, then never again', async () => {
    const { service, caller, processor, clock, column } = setup({ syncIntervalMs: 10_000, completedRecheckMs: 60_000, completedWatchMs: 150_000 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.resolve({ status: 'completed' });
    clock.advance(10_000);
    const completedAt = clock.ms;
    expect(await service.syncDue()).toEqual({ synced: 1, changed: 1 });
    expect(column(refund.id, 'next_sync_at')).toBe(new Date(completedAt + 60_000).toISOString());
    clock.advance(60_000);
    expect(await service.syncDue()).toEqual({ synced: 1, changed: 0 });
    expect(column(refund.id, 'next_sync_at')).toBe(new Date(completedAt + 120_000).toISOString());
    // The next read would fall at +180 s, past the watch (+150 s): this read is the last.
    clock.advance(60_000);
    expect(await service.syncDue()).toEqual({ synced: 1, changed: 0 });
    expect(column(refund.id, 'next_sync_at')).toBeNull();
    clock.advance(7 * 24 * 3_600_000);
    expect(await service.syncDue()).toEqual({ synced: 0, changed: 0 });
    expect(processor.retrieves).toHaveLength(3);
  });

  it('a read that falls exactly at the end of the watch is still made', async () => {
    const { service, caller, processor, clock, column } = setup({ syncIntervalMs: 10_000, completedRecheckMs: 60_000, completedWatchMs: 120_000 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.resolve({ status: 'completed' });
    clock.advance(10_000);
    const completedAt = clock.ms;
    await service.syncDue();
    clock.advance(60_000);
    await service.syncDue();
    expect(column(refund.id, 'next_sync_at')).toBe(new Date(completedAt + 120_000).toISOString());
  });

  it('keeps the status and tries again later when the read fails', async () => {
    const { service, caller, processor, clock } = setup({ syncIntervalMs: 10_000 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.reject(errors.processorUnavailable('stripe'));
    clock.advance(10_000);
    expect(await service.syncDue()).toEqual({ synced: 0, changed: 0 });
    expect((await service.get(caller, refund.id)).status).toBe('processing');
    processor.onRetrieve = () => Promise.resolve({ status: 'completed' });
    clock.advance(10_000);
    expect((await service.syncDue()).changed).toBe(1);
  });

  it('a failed read is reported to the operator with the refund and the error', async () => {
    const app = createTestApp();
    const org = createOrg(app);
    const clock = new FakeClock();
    const processor = new ScriptedProcessor();
    const reports: Array<[string, Record<string, unknown>]> = [];
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ syncIntervalMs: 10_000 }),
      onBackgroundError: (message, detail) => reports.push([message, detail]),
    });
    const refund = await service.create({ organizationId: org.id, actor: 'api' }, input);
    processor.onRetrieve = () => Promise.reject(errors.processorUnavailable('stripe'));
    clock.advance(10_000);
    await service.syncDue();
    expect(reports).toEqual([['status sync failed', { refundId: refund.id, error: errors.processorUnavailable('stripe').message }]]);
  });

  it('ignores a status the machine does not allow (stale or out of order)', async () => {
    const { service, caller } = setup();
    const refund = await service.create(caller, input);
    const cancelled = await service.cancel(caller, refund.id);
    expect(cancelled.status).toBe('cancelled');
    expect(await service.applyProcessorStatus(cancelled, 'completed', 'late read')).toBe(false);
    expect((await service.get(caller, refund.id)).status).toBe('cancelled');
  });
});
