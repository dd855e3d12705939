/**
 * What the background work leaves behind, value by value: when a failed submission is tried
 * again (tripling delays up to a cap), what doubt and error it records, what the operator is told
 * (onBackgroundError), when a status is read next, and what a pass does when the store fails
 * under it or another process gets there first. Real SQLite store, scripted processor, fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/domain/errors.js';
import type { SubmitOutcome } from '../../src/domain/ports.js';
import { RefundService, type Caller, type SubmissionPolicy } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, insertRefund, rawEvents } from '../support/fixtures.js';
import { deferred, ObservedStore, ScriptedProcessor } from '../support/scripted.js';

const input: CreateRefundInput = {
  transactionId: 'ch_3PqBackground',
  amount: 2500,
  currency: 'usd',
  reason: 'product_defective',
};

const UNAVAILABLE = "Processor 'stripe' could not be reached; the refund was not changed. Retry later.";

interface Reported {
  message: string;
  detail: Record<string, unknown>;
}

function setup(policy: Partial<SubmissionPolicy> = {}, options: { configured?: boolean } = {}) {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const processor = new ScriptedProcessor();
  const observed = new ObservedStore(app.refunds);
  const reported: Reported[] = [];
  const service = new RefundService({
    store: observed.store,
    processors:
      options.configured === false
        ? new StaticProcessorRegistry([new ScriptedProcessor('sandbox')], { stripe: 'set STRIPE_SECRET_KEY' }, 'stripe')
        : new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    policy: { retryBaseMs: 1_000, maxRetryMs: 5_000, inDoubtMs: 30_000, syncIntervalMs: 10_000, completedRecheckMs: 60_000, ...policy },
    onBackgroundError: (message, detail) => reported.push({ message, detail }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'api' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  const at = (ms: number): string => new Date(clock.ms + ms).toISOString();
  return { app, org, clock, processor, observed, reported, service, caller, column, at };
}

afterEach(() => cleanupAll());

describe('a submission that fails', () => {
  it('is tried again after retryBaseMs, tripling with each attempt up to maxRetryMs, each attempt leaving its doubt and error', async () => {
    const { service, caller, processor, clock, column, reported, at } = setup();
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    const schedule: Array<[unknown, unknown, unknown]> = [[column(refund.id, 'next_attempt_at'), column(refund.id, 'in_doubt_until'), at(0)]];
    for (const wait of [1_000, 3_000, 5_000]) {
      clock.advance(wait);
      // An attempt made counts, whatever its outcome.
      expect(await service.submitDue()).toBe(1);
      schedule.push([column(refund.id, 'next_attempt_at'), column(refund.id, 'in_doubt_until'), at(0)]);
    }
    // [retry at, in doubt until, attempted at]: 1 s, 3 s, then 9 s capped to 5 s, and 5 s again.
    expect(schedule.map(([next, doubt, attempted]) => [Date.parse(String(next)) - Date.parse(String(attempted)), Date.parse(String(doubt)) - Date.parse(String(attempted))])).toEqual([
      [1_000, 30_000],
      [3_000, 30_000],
      [5_000, 30_000],
      [5_000, 30_000],
    ]);
    expect(processor.submits.map((s) => s.attempt)).toEqual([1, 2, 3, 4]);
    expect(column(refund.id, 'last_error')).toBe(UNAVAILABLE);
    expect(service.get(caller, refund.id).status).toBe('pending');
    expect(reported).toEqual(
      [1, 2, 3, 4].map((attempt, i) => ({
        message: 'submission failed; will retry',
        detail: { refundId: refund.id, attempt, error: UNAVAILABLE, retryInMs: [1_000, 3_000, 5_000, 5_000][i] },
      })),
    );
  });

  it('to a processor not configured here is postponed by maxRetryMs, with the hint as its error, and reported', async () => {
    const { service, caller, column, reported, at } = setup({}, { configured: false });
    const refund = await service.create(caller, input);
    const why = "processor 'stripe' is not configured: set STRIPE_SECRET_KEY";
    expect(refund.status).toBe('pending');
    expect(column(refund.id, 'next_attempt_at')).toBe(at(5_000));
    expect(column(refund.id, 'last_error')).toBe(why);
    expect(column(refund.id, 'claim_token')).toBeNull();
    expect(reported).toEqual([{ message: 'submission postponed', detail: { refundId: refund.id, reason: why } }]);
  });

  it('whose claim ran out while the processor answered records nothing, and is reported', async () => {
    const { app, service, caller, processor, clock, reported, at } = setup({ leaseMs: 10_000 });
    const reached = deferred<string>();
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = (refund) => {
      reached.resolve(refund.id);
      return answer.promise;
    };
    const creating = service.create(caller, input);
    const id = await reached.promise;
    // The lease runs out and another process takes the refund over.
    clock.advance(10_001);
    expect(app.refunds.claimForSubmission(id, 'other-process', at(0), at(10_000))).toMatchObject({ token: 'other-process', attempt: 2 });
    answer.resolve({ kind: 'submitted', externalRefundId: 're_tooLate', status: 'processing' });
    expect(await creating).toMatchObject({ id, status: 'pending', externalRefundId: null });
    expect(rawEvents(app, id)).toHaveLength(1);
    expect(reported).toEqual([{ message: 'submission outcome not recorded: claim lost', detail: { refundId: id, attempt: 1 } }]);
  });
});

describe('a submission the processor accepts', () => {
  it("as its own 'pending' is recorded processing, with its first status read scheduled", async () => {
    const { app, service, caller, processor, column, at } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'submitted', externalRefundId: 're_heldAtProcessor', status: 'pending', detail: 'stripe status pending' });
    const refund = await service.create(caller, input);
    expect(refund).toMatchObject({ status: 'processing', externalRefundId: 're_heldAtProcessor' });
    expect(column(refund.id, 'next_sync_at')).toBe(at(10_000));
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({
      from_status: 'pending',
      to_status: 'processing',
      initiated_by: 'system',
      detail: 'submitted to stripe as re_heldAtProcessor: stripe status pending',
    });
  });

  it('as completed is watched for a late failure from then on, and as failed never read again', async () => {
    const { service, caller, processor, column, at } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'submitted', externalRefundId: 're_doneAtOnce', status: 'completed' });
    const completed = await service.create(caller, input);
    expect(completed.status).toBe('completed');
    expect(column(completed.id, 'next_sync_at')).toBe(at(60_000));
    processor.onSubmit = () => Promise.resolve({ kind: 'submitted', externalRefundId: 're_failedAtOnce', status: 'failed' });
    const failed = await service.create(caller, { ...input, amount: 2600 });
    expect(failed.status).toBe('failed');
    expect(column(failed.id, 'next_sync_at')).toBeNull();
  });

  it('when another process claimed the new refund first, the create answers it pending and submits nothing', async () => {
    const { service, caller, processor, observed } = setup();
    observed.stub('claimForSubmission', () => null);
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('pending');
    expect(processor.submits).toEqual([]);
  });
});

describe('a pass over many refunds', () => {
  it('gives every refund its turn when the store fails on one, then fails with that error', async () => {
    const { service, caller, processor, clock, observed } = setup({ holdMs: 1_000, concurrency: 1 });
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await service.create(caller, { ...input, amount: 100 + i })).id);
    clock.advance(1_000);
    const broken = ids[1];
    const diskFull = new Error('SQLITE_FULL: database or disk is full');
    observed.stub('claimForSubmission', (original, ...args) => {
      if (args[0] === broken) throw diskFull;
      return original(...args);
    });
    await expect(service.submitDue()).rejects.toBe(diskFull);
    expect(processor.submits.map((s) => s.id).sort()).toEqual([ids[0], ids[2]].sort());
    expect(service.get(caller, broken ?? '').status).toBe('pending');
  });

  it('runPass submits what is due, then reads what is due, and counts both', async () => {
    const { app, service, caller, processor, clock } = setup({ holdMs: 1_000 });
    await service.create(caller, input);
    await service.create(caller, { ...input, amount: 2600 });
    const reading = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe', externalRefundId: 're_readMe' });
    app.refunds.scheduleSync(reading.id, clock.now().toISOString());
    processor.onRetrieve = (refund) => Promise.resolve({ status: refund.id === reading.id ? 'completed' : refund.status });
    clock.advance(1_000);
    expect(await service.runPass()).toEqual({ submitted: 2, synced: 1, changed: 1 });
    expect(service.get(caller, reading.id).status).toBe('completed');
    // The two just submitted are read at their own time, a sync interval on.
    expect(await service.runPass()).toEqual({ submitted: 0, synced: 0, changed: 0 });
  });

  it('takes at most `limit` refunds per pass, oldest due first', async () => {
    const { service, caller, processor, clock } = setup({ holdMs: 1_000 });
    const ids = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await service.create(caller, { ...input, amount: 100 + i })).id);
      clock.advance(10);
    }
    clock.advance(1_000);
    expect(await service.submitDue(2)).toBe(2);
    expect(processor.submits.map((s) => s.id)).toEqual(ids.slice(0, 2));
    expect(await service.submitDue(2)).toBe(1);
  });
});

describe('status sync', () => {
  function processingDue(ctx: ReturnType<typeof setup>, processor = 'stripe', externalRefundId = 're_syncMe') {
    const refund = insertRefund(ctx.app, ctx.caller.organizationId, { status: 'processing', processor, externalRefundId });
    ctx.app.refunds.scheduleSync(refund.id, ctx.clock.now().toISOString());
    return refund;
  }

  it('records what was read, with the processor’s detail in the event when it gives one', async () => {
    const ctx = setup();
    const withDetail = processingDue(ctx, 'stripe', 're_syncA');
    const without = processingDue(ctx, 'stripe', 're_syncB');
    ctx.processor.onRetrieve = (refund) =>
      Promise.resolve(refund.id === withDetail.id ? { status: 'completed', detail: 'stripe status succeeded' } : { status: 'failed' });
    expect(await ctx.service.syncDue()).toEqual({ synced: 2, changed: 2 });
    expect(rawEvents(ctx.app, withDetail.id).at(-1)).toMatchObject({ to_status: 'completed', initiated_by: 'system', detail: 'status read from stripe: stripe status succeeded' });
    expect(rawEvents(ctx.app, without.id).at(-1)).toMatchObject({ to_status: 'failed', initiated_by: 'system', detail: 'status read from stripe' });
    expect(ctx.column(withDetail.id, 'next_sync_at')).toBe(ctx.at(60_000));
    expect(ctx.column(without.id, 'next_sync_at')).toBeNull();
  });

  it('an unchanged status is read again a sync interval later, and nothing is written', async () => {
    const ctx = setup();
    const refund = processingDue(ctx);
    expect(await ctx.service.syncDue()).toEqual({ synced: 1, changed: 0 });
    expect(ctx.column(refund.id, 'next_sync_at')).toBe(ctx.at(10_000));
    expect(rawEvents(ctx.app, refund.id)).toHaveLength(1);
  });

  it('a refund whose processor is not configured here is not read, and is looked at again after completedRecheckMs', async () => {
    const ctx = setup();
    const refund = processingDue(ctx, 'adyen', 're_elsewhere');
    expect(await ctx.service.syncDue()).toEqual({ synced: 0, changed: 0 });
    expect(ctx.processor.retrieves).toEqual([]);
    expect(ctx.column(refund.id, 'next_sync_at')).toBe(ctx.at(60_000));
  });

  it('a failed read is reported and tried again a sync interval later', async () => {
    const ctx = setup();
    const refund = processingDue(ctx);
    ctx.processor.onRetrieve = () => Promise.reject(errors.processorUnavailable('stripe'));
    expect(await ctx.service.syncDue()).toEqual({ synced: 0, changed: 0 });
    expect(ctx.column(refund.id, 'next_sync_at')).toBe(ctx.at(10_000));
    expect(ctx.reported).toEqual([{ message: 'status sync failed', detail: { refundId: refund.id, error: UNAVAILABLE } }]);
  });

  it('a status the machine does not allow is ignored, reported, and read again a sync interval later', async () => {
    const ctx = setup();
    const refund = processingDue(ctx);
    ctx.processor.onRetrieve = () => Promise.resolve({ status: 'pending', detail: 'stripe status pending' });
    expect(await ctx.service.syncDue()).toEqual({ synced: 1, changed: 0 });
    expect(ctx.service.get(ctx.caller, refund.id).status).toBe('processing');
    expect(ctx.column(refund.id, 'next_sync_at')).toBe(ctx.at(10_000));
    expect(ctx.reported).toEqual([
      {
        message: 'processor status ignored: not a legal move',
        detail: { refundId: refund.id, from: 'processing', to: 'pending', detail: 'status read from stripe: stripe status pending' },
      },
    ]);
  });

  it('takes at most `limit` refunds per pass, the longest due first', async () => {
    const ctx = setup();
    const first = processingDue(ctx, 'stripe', 're_first');
    ctx.clock.advance(10);
    const second = processingDue(ctx, 'stripe', 're_second');
    ctx.clock.advance(10);
    processingDue(ctx, 'stripe', 're_third');
    expect(await ctx.service.syncDue(2)).toEqual({ synced: 2, changed: 0 });
    expect(ctx.processor.retrieves.map((r) => r.id)).toEqual([first.id, second.id]);
  });
});

describe('getFresh', () => {
  it('remembers its reads of several refunds side by side', async () => {
    const ctx = setup();
    const a = insertRefund(ctx.app, ctx.caller.organizationId, { status: 'processing', processor: 'stripe', externalRefundId: 're_freshA' });
    const b = insertRefund(ctx.app, ctx.caller.organizationId, { status: 'processing', processor: 'stripe', externalRefundId: 're_freshB' });
    await ctx.service.getFresh(ctx.caller, a.id);
    await ctx.service.getFresh(ctx.caller, b.id);
    await ctx.service.getFresh(ctx.caller, a.id);
    expect(ctx.processor.retrieves.map((r) => r.id)).toEqual([a.id, b.id]);
  });

  it('answers a processing refund that has no processor id as stored, without asking', async () => {
    const ctx = setup();
    const refund = insertRefund(ctx.app, ctx.caller.organizationId, { status: 'processing', processor: 'stripe', externalRefundId: null });
    expect(await ctx.service.getFresh(ctx.caller, refund.id)).toEqual(refund);
    expect(ctx.processor.retrieves).toEqual([]);
  });
});
