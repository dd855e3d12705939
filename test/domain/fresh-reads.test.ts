/**
 * getFresh (queries.ts, FreshReads): get_refund reads a processing refund from its processor
 * first; against the real SQLite store and a scripted processor double.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errors } from '../../src/domain/errors.js';
import type { ProcessorStatus } from '../../src/domain/ports.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { deferred, ObservedStore, ScriptedProcessor } from '../support/scripted.js';
import { cleanupAll, FakeClock, createOrg, createTestApp, insertRefund, rawEvents, settingsWith } from '../support/fixtures.js';

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

describe('getFresh (get_refund): a processing refund is read from its processor first', () => {
  it('records what the processor says now, with a short one-try read, and answers with it', async () => {
    const { app, service, caller, processor } = setup({ refreshAfterMs: 10_000, refreshTimeoutMs: 1_500 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.resolve({ status: 'completed', detail: 'stripe status succeeded' });
    const fresh = await service.getFresh(caller, refund.id);
    expect(fresh.status).toBe('completed');
    expect(processor.retrieves).toEqual([{ id: refund.id, options: { timeoutMs: 1_500 } }]);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({
      from_status: 'processing',
      to_status: 'completed',
      initiated_by: 'system',
      detail: 'status read from stripe on request: stripe status succeeded',
    });
  });

  it('reads at most once per refreshAfterMs in this process, and an unchanged status writes nothing', async () => {
    const { app, service, caller, processor, clock, column } = setup({ refreshAfterMs: 10_000 });
    const refund = await service.create(caller, input);
    const nextSync = column(refund.id, 'next_sync_at');
    const events = rawEvents(app, refund.id).length;
    expect((await service.getFresh(caller, refund.id)).status).toBe('processing');
    clock.advance(9_999);
    await service.getFresh(caller, refund.id);
    expect(processor.retrieves).toHaveLength(1);
    clock.advance(1);
    await service.getFresh(caller, refund.id);
    expect(processor.retrieves).toHaveLength(2);
    expect(column(refund.id, 'next_sync_at')).toBe(nextSync);
    expect(rawEvents(app, refund.id)).toHaveLength(events);
  });

  it('callers asking about one refund at once share one read', async () => {
    const { service, caller, processor } = setup();
    const refund = await service.create(caller, input);
    const answer = deferred<ProcessorStatus>();
    processor.onRetrieve = () => answer.promise;
    const asking = Array.from({ length: 5 }, () => service.getFresh(caller, refund.id));
    answer.resolve({ status: 'completed' });
    expect((await Promise.all(asking)).map((r) => r.status)).toEqual(Array(5).fill('completed'));
    expect(processor.retrieves).toHaveLength(1);
  });

  it('a failed read answers with the stored refund, never an error, and is reported', async () => {
    const reported: string[] = [];
    const { app, caller, processor, clock } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      onBackgroundError: (message) => reported.push(message),
      settings: settingsWith(),
    });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.reject(errors.processorUnavailable('stripe'));
    expect(await service.getFresh(caller, refund.id)).toEqual(await service.get(caller, refund.id));
    expect(reported).toEqual(['status read on request failed; answering with the stored status']);
  });

  it('reads nothing for a refund that is not processing, an unconfigured processor, or with refreshAfterMs 0', async () => {
    const { app, service, caller, processor } = setup({ holdMs: 1_000 });
    const pending = await service.create(caller, input);
    expect((await service.getFresh(caller, pending.id)).status).toBe('pending');
    const completed = insertRefund(app, caller.organizationId, { status: 'completed', processor: 'stripe' });
    await service.getFresh(caller, completed.id);
    const elsewhere = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'adyen' });
    await service.getFresh(caller, elsewhere.id);
    const off = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock: new FakeClock(),
      settings: settingsWith({ refreshAfterMs: 0 }),
    });
    const processing = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe' });
    await off.getFresh(caller, processing.id);
    expect(processor.retrieves).toEqual([]);
    await expect(service.getFresh(caller, 'ref_zzzzzzzzzzzz')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('getFresh: what it remembers, when it gives up, and what it reports', () => {
  /** Lets every promise continuation run (setImmediate is not faked below). */
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  function reporting(policy: Partial<RefundSettings>) {
    const s = setup(policy);
    const reported: Array<[string, Record<string, unknown>]> = [];
    const service = new RefundService({
      store: s.app.refunds,
      processors: new StaticProcessorRegistry([s.processor], {}, 'stripe'),
      clock: s.clock,
      settings: settingsWith(policy),
      onBackgroundError: (message, detail) => reported.push([message, detail]),
    });
    return { ...s, service, reported };
  }

  it('a refund at a processor not configured here is answered as stored, with no fault reported', async () => {
    const { app, service, caller, reported } = reporting({ refreshAfterMs: 10_000 });
    const elsewhere = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'adyen' });
    expect(await service.getFresh(caller, elsewhere.id)).toEqual(await service.get(caller, elsewhere.id));
    expect(reported).toEqual([]);
  });

  it('remembers each refund it read: reading another in between does not make it read the first again', async () => {
    const { app, service, caller, processor, clock } = reporting({ refreshAfterMs: 10_000 });
    const first = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe' });
    const second = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe' });
    await service.getFresh(caller, first.id);
    await service.getFresh(caller, second.id);
    clock.advance(5_000);
    await service.getFresh(caller, first.id);
    expect(processor.retrieves.map((r) => r.id)).toEqual([first.id, second.id]);
  });

  it('a read that never answers is given up at its timeout plus the grace, not sooner or later, and reported as processor_unavailable', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { app, service, caller, processor, reported } = reporting({ refreshAfterMs: 10_000, refreshTimeoutMs: 1_000, callDeadlineMs: 15_000 });
      const refund = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe' });
      const reached = deferred();
      processor.onRetrieve = () => {
        reached.resolve();
        return new Promise<ProcessorStatus>(() => undefined);
      };
      let answered: unknown;
      void service.getFresh(caller, refund.id).then((fresh) => {
        answered = fresh;
      });
      await reached.promise;
      // The read is told 1 s; our own timer allows a tenth more (100 ms) before answering without it.
      await vi.advanceTimersByTimeAsync(1_099);
      await settle();
      expect(answered).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(answered).toEqual(await service.get(caller, refund.id));
      expect(reported).toEqual([
        ['status read on request failed; answering with the stored status', { refundId: refund.id, error: errors.processorUnavailable('stripe').message }],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an answer that comes at the end of the time the processor was told is still used', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { app, service, caller, processor } = reporting({ refreshAfterMs: 10_000, refreshTimeoutMs: 1_000, callDeadlineMs: 15_000 });
      const refund = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe' });
      const reached = deferred();
      processor.onRetrieve = () => {
        reached.resolve();
        return new Promise<ProcessorStatus>((resolve) => setTimeout(() => resolve({ status: 'completed' }), 1_000));
      };
      const reading = service.getFresh(caller, refund.id);
      await reached.promise;
      await vi.advanceTimersByTimeAsync(1_000);
      expect((await reading).status).toBe('completed');
    } finally {
      vi.useRealTimers();
    }
  });
});
