/**
 * The call deadline (deadline.ts): every call answers within settings.callDeadlineMs, whatever the
 * processor does: create (submission.ts), cancel (cancel.ts) and get's status read (queries.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { graceFor, processorShare, within } from '../../src/domain/deadline.js';
import { errors } from '../../src/domain/errors.js';
import { createContext } from '../../src/domain/context.js';
import { createRefund } from '../../src/domain/create.js';
import type { CallOptions, RefundStore, SubmitOutcome } from '../../src/domain/ports.js';
import type { Refund } from '../../src/domain/refund.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { settleDetached } from '../../src/domain/submission.js';
import { deferred, ScriptedProcessor } from '../support/scripted.js';
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
  const service = new RefundService({
    store: app.refunds,
    processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    settings: settingsWith({ retryBaseMs: 1_000, cancelWaitMs: 300, ...policy }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'mcp' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  return { app, org, clock, processor, service, caller, column };
}

afterEach(() => cleanupAll());

describe('every call answers within the call deadline, whatever the processor does (issue 9)', () => {
  /** A processor call that never settles until the test says so. */
  const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

  it('create answers with the refund pending while the submission goes on under its claim, then records its outcome once', async () => {
    const { app, service, caller, processor, clock } = setup({ callDeadlineMs: 100 });
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = () => answer.promise;
    const created = await service.create(caller, { ...input, idempotencyKey: 'deadline-1' });
    expect(created.status).toBe('pending');
    // Still held by the submission in flight: nobody else submits it meanwhile.
    expect((await app.refunds.submissionState(created.id, clock.now().toISOString()))?.claimed).toBe(true);
    expect(await service.submitDue()).toBe(0);
    // A retry of the call with the same key is the same refund, not a second one.
    expect((await service.create(caller, { ...input, idempotencyKey: 'deadline-1' })).id).toBe(created.id);
    // The processor comes back: the outcome is recorded under the claim.
    answer.resolve({ kind: 'submitted', externalRefundId: 're_cameBack', status: 'processing' });
    await service.settleDetached();
    expect(await service.get(caller, created.id)).toMatchObject({ status: 'processing', externalRefundId: 're_cameBack' });
    clock.advance(60 * 60_000);
    expect(await service.submitDue()).toBe(0);
    expect(processor.submits).toEqual([{ id: created.id, attempt: 1 }]);
    expect(rawEvents(app, created.id).map((e) => e.to_status)).toEqual(['pending', 'processing']);
  });

  it('a submission that fails after the deadline is recorded as an unanswered attempt and retried once, nothing lost or doubled', async () => {
    const reported: string[] = [];
    const { app, caller, processor, clock, column } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ callDeadlineMs: 100, retryBaseMs: 1_000 }),
      onBackgroundError: (message) => reported.push(message),
    });
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = () => answer.promise.then(() => Promise.reject(errors.processorUnavailable('stripe')));
    const created = await service.create(caller, input);
    expect(created.status).toBe('pending');
    answer.resolve({ kind: 'rejected', reason: 'unused' });
    await service.settleDetached();
    expect(column(created.id, 'claim_token')).toBeNull();
    expect(column(created.id, 'in_doubt_until')).not.toBeNull();
    expect(reported).toEqual(['submission outlived the call deadline; it goes on under its claim', 'submission failed; will retry']);
    processor.onSubmit = (r) => Promise.resolve({ kind: 'submitted', externalRefundId: `re_${r.id.slice(4)}`, status: 'processing' });
    clock.advance(1_000);
    expect(await service.submitDue()).toBe(1);
    expect((await service.get(caller, created.id)).status).toBe('processing');
    expect(processor.submits.map((s) => s.attempt)).toEqual([1, 2]);
  });

  it('cancel of a processing refund whose processor never answers is processor_unavailable, nothing changed', async () => {
    const { service, caller, processor } = setup({ callDeadlineMs: 100 });
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('processing');
    processor.onCancel = never;
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect((await service.get(caller, refund.id)).status).toBe('processing');
  });

  it("cancel's lookup after an interrupted attempt that never answers is processor_unavailable, and gives the refund back", async () => {
    const { service, caller, processor, clock, column } = setup({ callDeadlineMs: 100, inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = never;
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect((await service.get(caller, refund.id)).status).toBe('pending');
    expect(column(refund.id, 'claim_token')).toBeNull();
    processor.onFind = () => Promise.resolve(null);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
  });

  it("get's status read that never answers returns the stored refund", async () => {
    const { service, caller, processor } = setup({ refreshTimeoutMs: 100 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = never;
    expect(await service.getFresh(caller, refund.id)).toEqual(await service.get(caller, refund.id));
  });
});

describe('the deadline arithmetic', () => {
  it('a processor call gets the wait less a tenth of it, at most 500 ms less, and never under 1 ms', () => {
    expect([graceFor(1_000), graceFor(5_000), graceFor(30_000)]).toEqual([100, 500, 500]);
    expect([processorShare(1_000), processorShare(5_000), processorShare(30_000)]).toEqual([900, 4_500, 29_500]);
    expect(processorShare(1)).toBe(1);
    expect(processorShare(0)).toBe(1);
  });

  it('within: the value when it comes first, done: false when the time runs out first, a rejection passed on', async () => {
    expect(await within(Promise.resolve(7), 1_000)).toEqual({ done: true, value: 7 });
    expect(await within(new Promise<never>(() => undefined), 5)).toEqual({ done: false });
    expect(await within(new Promise<never>(() => undefined), -10)).toEqual({ done: false });
    await expect(within(Promise.reject(new Error('boom')), 1_000)).rejects.toThrow('boom');
  });
});

describe('a submission that outlives the call deadline, as a shutdown sees it', () => {
  /** Records the options each submission is given, e.g. its timeout. */
  class TimedProcessor extends ScriptedProcessor {
    readonly options: unknown[] = [];
    override submit(refund: Refund, attempt: number, options?: CallOptions): Promise<SubmitOutcome> {
      this.options.push(options);
      return super.submit(refund, attempt);
    }
  }

  function detachedSetup(store?: (real: RefundStore) => RefundStore) {
    const app = createTestApp();
    const org = createOrg(app);
    const processor = new TimedProcessor();
    const reports: Array<{ message: string; detail: Record<string, unknown> }> = [];
    const ctx = createContext({
      store: store === undefined ? app.refunds : store(app.refunds),
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock: new FakeClock(),
      settings: settingsWith({ callDeadlineMs: 100 }),
      onBackgroundError: (message, detail) => reports.push({ message, detail }),
    });
    const caller: Caller = { organizationId: org.id, actor: 'api' };
    return { app, org, processor, reports, ctx, caller };
  }

  it('the processor is told its share of the deadline; the caller is answered and it is reported; a shutdown waits for its outcome, then has nothing left to wait for', async () => {
    const { app, org, processor, reports, ctx, caller } = detachedSetup();
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = () => answer.promise;
    const created = await createRefund(ctx, caller, input);
    expect(created.status).toBe('pending');
    expect(processor.options).toEqual([{ timeoutMs: processorShare(100) }]);
    expect(reports).toEqual([
      { message: 'submission outlived the call deadline; it goes on under its claim', detail: { refundId: created.id, attempt: 1, deadlineMs: 100 } },
    ]);
    expect(ctx.detached.size).toBe(1);
    const settling = settleDetached(ctx);
    // The processor answers only on the next turn of the event loop: a shutdown that did not wait
    // for the submission would already have gone on by then.
    setImmediate(() => answer.resolve({ kind: 'submitted', externalRefundId: 're_afterDeadline', status: 'processing' }));
    await settling;
    expect(await app.refunds.findById(org.id, created.id)).toMatchObject({ status: 'processing', externalRefundId: 're_afterDeadline' });
    expect(ctx.detached.size).toBe(0);
  });

  it('one whose outcome cannot be recorded (the store fails) is reported with the refund and the error, not lost', async () => {
    const { reports, processor, ctx, caller } = detachedSetup(
      (real) =>
        new Proxy(real, {
          get(target, property) {
            if (property === 'transition') return () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error'));
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    );
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = () => answer.promise;
    const created = await createRefund(ctx, caller, input);
    answer.resolve({ kind: 'submitted', externalRefundId: 're_unrecorded', status: 'processing' });
    await settleDetached(ctx);
    expect(reports).toEqual([
      { message: 'submission outlived the call deadline; it goes on under its claim', detail: { refundId: created.id, attempt: 1, deadlineMs: 100 } },
      { message: 'submission after the call deadline failed', detail: { refundId: created.id, error: 'Internal error' } },
    ]);
    expect(ctx.detached.size).toBe(0);
  });
});

describe('what a call that outlived its deadline leaves on record', () => {
  const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

  it('a cancel at a processor that never answers is reported with the refund and the deadline', async () => {
    const reported: Array<[string, Record<string, unknown>]> = [];
    const { app, caller, processor, clock } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ callDeadlineMs: 100 }),
      onBackgroundError: (message, detail) => reported.push([message, detail]),
    });
    const refund = await service.create(caller, input);
    processor.onCancel = never;
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(reported).toEqual([['cancel at the processor outlived the call deadline', { refundId: refund.id, deadlineMs: 100 }]]);
  });

  it('within leaves no timer behind once the promise answered (a pending one would keep a CLI process alive for the whole deadline)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      expect(await within(Promise.resolve(7), 60_000)).toEqual({ done: true, value: 7 });
      expect(vi.getTimerCount()).toBe(0);
      await expect(within(Promise.reject(new Error('boom')), 60_000)).rejects.toThrow('boom');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
