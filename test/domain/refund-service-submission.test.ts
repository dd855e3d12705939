/**
 * Creation, submission under claims, cancellation around submissions, and status sync, against
 * the real SQLite store and a scripted processor double.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errors, RefundKitError } from '../../src/domain/errors.js';
import type { ProcessorStatus, SubmitOutcome } from '../../src/domain/ports.js';
import { RefundService, type Caller, type SubmissionPolicy } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { cleanupAll, countRows, FakeClock, createOrg, createTestApp, insertRefund, rawEvents } from '../support/fixtures.js';
import { deferred, HeldCalls, ObservedStore, ScriptedProcessor } from '../support/scripted.js';

const input: CreateRefundInput = {
  transactionId: 'ch_3PqTestCharge',
  amount: 2500,
  currency: 'usd',
  reason: 'product_defective',
  metadata: { orderId: 'order_1', ticketId: 'SUP-1' },
};

function setup(policy: Partial<SubmissionPolicy> = {}) {
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
    policy: { retryBaseMs: 1_000, cancelWaitMs: 300, ...policy },
  });
  const caller: Caller = { organizationId: org.id, actor: 'mcp' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  return { app, org, clock, processor, service, caller, column, observed };
}

afterEach(() => cleanupAll());

describe('create', () => {
  it('without a hold window submits inside the call and records both steps', async () => {
    const { app, service, caller, processor } = setup();
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('processing');
    expect(refund.externalRefundId).toBe(`re_${refund.id.slice(4)}`);
    expect(refund.initiatedBy).toBe('mcp');
    expect(refund.processor).toBe('stripe');
    expect(refund.metadata).toEqual(input.metadata);
    expect(processor.submits).toEqual([{ id: refund.id, attempt: 1 }]);
    const events = rawEvents(app, refund.id);
    expect(events.map((e) => [e.from_status, e.to_status, e.initiated_by])).toEqual([
      [null, 'pending', 'mcp'],
      ['pending', 'processing', 'system'],
    ]);
  });

  it('replays the first refund for the same idempotency key and arguments, creating nothing', async () => {
    const { service, caller, processor, app } = setup();
    const first = await service.create(caller, { ...input, idempotencyKey: 'ticket-42' });
    // Same arguments, metadata keys in another order.
    const again = await service.create(caller, {
      ...input,
      metadata: { ticketId: 'SUP-1', orderId: 'order_1' },
      idempotencyKey: 'ticket-42',
    });
    expect(again.id).toBe(first.id);
    expect(processor.submits).toHaveLength(1);
    expect((app.db.prepare('SELECT count(*) AS n FROM refunds').get() as { n: number }).n).toBe(1);
  });

  it('refuses the same key with different arguments with idempotency_conflict', async () => {
    const { service, caller, processor } = setup();
    await service.create(caller, { ...input, idempotencyKey: 'ticket-43' });
    await expect(service.create(caller, { ...input, amount: 2600, idempotencyKey: 'ticket-43' })).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    expect(processor.submits).toHaveLength(1);
  });

  // The key stands for one set of arguments: any one of them different is a different refund,
  // never the first one replayed (the same key for another charge would refund the wrong one).
  it.each<[string, Partial<CreateRefundInput>]>([
    ['another charge', { transactionId: 'ch_3PqOtherCharge' }],
    ['another amount', { amount: 2501 }],
    ['another currency', { currency: 'eur' }],
    ['another reason', { reason: 'duplicate_charge' }],
    ['a metadata value changed', { metadata: { orderId: 'order_2', ticketId: 'SUP-1' } }],
    ['a metadata key added', { metadata: { orderId: 'order_1', ticketId: 'SUP-1', note: 'x' } }],
    ['metadata left out', { metadata: undefined }],
  ])('refuses the same key with %s: idempotency_conflict, nothing created or sent', async (_label, change) => {
    const { app, service, caller, processor } = setup();
    const first = await service.create(caller, { ...input, idempotencyKey: 'ticket-44' });
    const again: CreateRefundInput = { ...input, ...change, idempotencyKey: 'ticket-44' };
    if (again.metadata === undefined) delete again.metadata;
    await expect(service.create(caller, again)).rejects.toMatchObject({
      code: 'idempotency_conflict',
      message: 'idempotencyKey was already used for a refund with different arguments; use a new key for a new refund',
    });
    expect(processor.submits).toEqual([{ id: first.id, attempt: 1 }]);
    expect(countRows(app, 'refunds')).toBe(1);
    expect(rawEvents(app, first.id)).toHaveLength(2);
  });

  it('replays for the same key when only the default currency was spelt out', async () => {
    const { service, caller, processor } = setup();
    const withoutCurrency: CreateRefundInput = { ...input };
    delete withoutCurrency.currency;
    const first = await service.create(caller, { ...withoutCurrency, idempotencyKey: 'ticket-45' });
    const again = await service.create(caller, { ...input, currency: 'usd', idempotencyKey: 'ticket-45' });
    expect(again).toEqual(first);
    expect(processor.submits).toHaveLength(1);
  });

  it('scopes idempotency keys to the organization', async () => {
    const { app, service, caller } = setup();
    const other = createOrg(app, 'Other');
    const mine = await service.create(caller, { ...input, idempotencyKey: 'shared-key' });
    const theirs = await service.create({ organizationId: other.id, actor: 'api' }, { ...input, idempotencyKey: 'shared-key' });
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.organizationId).toBe(other.id);
  });

  it('creates a new refund for each call without a key', async () => {
    const { service, caller } = setup();
    const a = await service.create(caller, input);
    const b = await service.create(caller, input);
    expect(a.id).not.toBe(b.id);
  });

  it('records a rejected refund as failed with the reason in its event', async () => {
    const { app, service, caller, processor } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'rejected', reason: 'charge_already_refunded: Charge has already been refunded.' });
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('failed');
    expect(refund.externalRefundId).toBeNull();
    expect(rawEvents(app, refund.id).at(-1)?.detail).toContain('charge_already_refunded');
  });

  it('leaves a refund pending through an outage and retries it later with backoff', async () => {
    const { service, caller, processor, clock, column } = setup();
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('pending');
    expect(column(refund.id, 'attempts')).toBe(1);
    expect(String(column(refund.id, 'last_error'))).toContain('could not be reached');
    // Not due yet: the first retry waits retryBaseMs.
    expect(await service.submitDue()).toBe(0);
    clock.advance(1_000);
    processor.onSubmit = (r) => Promise.resolve({ kind: 'submitted', externalRefundId: `re_${r.id.slice(4)}`, status: 'completed' });
    expect(await service.submitDue()).toBe(1);
    expect(service.get(caller, refund.id).status).toBe('completed');
    expect(processor.submits.map((s) => s.attempt)).toEqual([1, 2]);
  });
});

describe('hold window', () => {
  it('keeps the refund pending until the hold passes, and a cancel before then never reaches the processor', async () => {
    const { service, caller, processor, clock } = setup({ holdMs: 60_000 });
    const held = await service.create(caller, input);
    expect(held.status).toBe('pending');
    expect(await service.submitDue()).toBe(0);
    const cancelled = await service.cancel(caller, held.id);
    expect(cancelled.status).toBe('cancelled');
    clock.advance(120_000);
    expect(await service.submitDue()).toBe(0);
    expect(processor.submits).toHaveLength(0);
    expect(processor.cancels).toHaveLength(0);
  });

  it('submits the refund once the hold has passed', async () => {
    const { service, caller, processor, clock } = setup({ holdMs: 60_000 });
    const held = await service.create(caller, input);
    clock.advance(60_000);
    expect(await service.submitDue()).toBe(1);
    expect(service.get(caller, held.id).status).toBe('processing');
    expect(processor.submits).toHaveLength(1);
  });
});

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
    expect(app.refunds.claimForSubmission(refund.id, 'dead-process', clock.now().toISOString(), new Date(clock.now().getTime() + 30_000).toISOString())).not.toBeNull();
    expect(await service.submitDue()).toBe(0);
    clock.advance(30_001);
    expect(await service.submitDue()).toBe(1);
    expect(processor.submits).toEqual([{ id: refund.id, attempt: 2 }]);
  });
});

describe('cancel around submissions', () => {
  it('waits for a submission in flight and then cancels at the processor', async () => {
    const { app, service, caller, processor, observed } = setup({ cancelWaitMs: 60_000 });
    const reached = deferred<string>();
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = (refund) => {
      reached.resolve(refund.id);
      return answer.promise;
    };
    const creating = service.create(caller, input);
    const id = await reached.promise;
    const cancelling = service.cancel(caller, id);
    // The cancel has looked twice and found the submission still holding the refund: it waits.
    await observed.whenCalled('submissionState', 2);
    expect(observed.of('submissionState').map((call) => (call.result as { claimed: boolean }).claimed)).toEqual([true, true]);
    expect(processor.cancels).toHaveLength(0);
    answer.resolve({ kind: 'submitted', externalRefundId: 're_inflight', status: 'processing' });
    await creating;
    const cancelled = await cancelling;
    expect(cancelled.status).toBe('cancelled');
    expect(processor.cancels).toEqual([id]);
    expect(rawEvents(app, id).map((e) => e.to_status)).toEqual(['pending', 'processing', 'cancelled']);
  });

  it('answers refund_busy when the submission outlasts the wait, and changes nothing', async () => {
    const { service, caller, processor } = setup({ cancelWaitMs: 200 });
    const reached = deferred<string>();
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = (refund) => {
      reached.resolve(refund.id);
      return answer.promise;
    };
    const creating = service.create(caller, input);
    const id = await reached.promise;
    const error = await service.cancel(caller, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefundKitError);
    expect((error as RefundKitError).code).toBe('refund_busy');
    expect(service.get(caller, id).status).toBe('pending');
    expect(processor.cancels).toHaveLength(0);
    answer.resolve({ kind: 'submitted', externalRefundId: 're_late', status: 'processing' });
    expect((await creating).status).toBe('processing');
  });

  it('cancels locally a refund whose interrupted attempt never reached the processor, once it cannot land any more', async () => {
    const { service, caller, processor, column, clock } = setup({ inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    expect(column(refund.id, 'attempts')).toBe(1);
    clock.advance(30_000);
    processor.onFind = () => Promise.resolve(null);
    const cancelled = await service.cancel(caller, refund.id);
    expect(cancelled.status).toBe('cancelled');
    expect(processor.cancels).toHaveLength(0);
  });

  it('refuses to conclude "never received" while an unanswered attempt may still land: refund_busy with the time left, no lookup, nothing changes', async () => {
    const { app, service, caller, processor, clock } = setup({ inDoubtMs: 30_000, cancelWaitMs: 200 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    let lookups = 0;
    processor.onFind = () => {
      lookups += 1;
      return Promise.resolve(null);
    };
    clock.advance(10_000);
    const error = await service.cancel(caller, refund.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefundKitError);
    expect(error).toMatchObject({
      code: 'refund_busy',
      retryAfterSeconds: 20,
      message: "Refund's last submission to its processor went unanswered and may still take effect; retry in 20 seconds",
    });
    expect(lookups).toBe(0);
    expect(service.get(caller, refund.id).status).toBe('pending');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('an attempt that lands after we gave up on it is found, not cancelled over (the double-refund race)', async () => {
    const { app, service, caller, processor, clock } = setup({ inDoubtMs: 30_000, cancelWaitMs: 200 });
    // The processor times out on us, but executes the request a moment later.
    let landed = false;
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    processor.onFind = () => Promise.resolve(landed ? { externalRefundId: 're_landed', status: 'completed' } : null);
    const refund = await service.create(caller, input);
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    landed = true;
    clock.advance(30_000);
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — status is 'completed'",
    });
    expect(service.get(caller, refund.id)).toMatchObject({ status: 'completed', externalRefundId: 're_landed' });
    expect(rawEvents(app, refund.id).map((e) => e.to_status)).toEqual(['pending', 'completed']);
  });

  it('waits out a doubt that ends within the cancel wait, then looks the refund up', async () => {
    const { service, caller, processor, clock, observed } = setup({ inDoubtMs: 30_000, cancelWaitMs: 60_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    const doubtEnds = clock.ms + 30_000;
    clock.advance(29_000);
    // The fake clock moves on while the cancel waits: a quarter second each time it looks again.
    observed.after((call) => {
      if (call.method === 'submissionState') clock.advance(250);
    });
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
    // It looked the refund up once, and not before the doubt had ended.
    expect(processor.finds).toEqual([refund.id]);
    expect(observed.of('submissionState').length).toBeGreaterThan(1);
    expect(clock.ms).toBeGreaterThanOrEqual(doubtEnds);
  });

  it('a claim whose process died stays in doubt for the window after its lease ran out', async () => {
    const { app, service, caller, processor, clock } = setup({ holdMs: 1_000, leaseMs: 60_000, inDoubtMs: 30_000, cancelWaitMs: 100 });
    const refund = await service.create(caller, input);
    clock.advance(1_000);
    const at = (ms: number): string => new Date(clock.now().getTime() + ms).toISOString();
    expect(app.refunds.claimForSubmission(refund.id, 'dead-process', at(0), at(60_000))).not.toBeNull();
    let lookups = 0;
    processor.onFind = () => {
      lookups += 1;
      return Promise.resolve(null);
    };
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' }); // claimed
    clock.advance(60_001);
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy', retryAfterSeconds: 30 });
    expect(lookups).toBe(0);
    clock.advance(30_000);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
    expect(lookups).toBe(1);
  });

  it('a failed lookup leaves no doubt behind: the next cancel asks again at once', async () => {
    const { service, caller, processor, clock } = setup({ inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = () => Promise.reject(errors.processorUnavailable('stripe'));
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    processor.onFind = () => Promise.resolve(null);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
  });

  it('a submission left because the processor is not configured here sent nothing: no attempt, no doubt', async () => {
    const { app, caller, clock, column } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([], { stripe: 'set STRIPE_SECRET_KEY' }, 'stripe'),
      clock,
      policy: { inDoubtMs: 30_000 },
    });
    const refund = await service.create(caller, input);
    expect(column(refund.id, 'attempts')).toBe(0);
    expect(column(refund.id, 'in_doubt_until')).toBeNull();
  });

  it('adopts and cancels at the processor a refund an interrupted attempt did create', async () => {
    const { app, service, caller, processor, clock } = setup({ inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = () => Promise.resolve({ externalRefundId: 're_found', status: 'processing' });
    const cancelled = await service.cancel(caller, refund.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.externalRefundId).toBe('re_found');
    expect(processor.cancels).toEqual([refund.id]);
    expect(rawEvents(app, refund.id).map((e) => e.to_status)).toEqual(['pending', 'processing', 'cancelled']);
  });

  it('reports the truth when the processor has already completed an interrupted refund', async () => {
    const { service, caller, processor, clock } = setup({ inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = () => Promise.resolve({ externalRefundId: 're_done', status: 'completed' });
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — status is 'completed'",
    });
    expect(service.get(caller, refund.id).status).toBe('completed');
    expect(processor.cancels).toHaveLength(0);
  });

  it('keeps the refund unchanged when the processor cannot be asked', async () => {
    const { service, caller, processor, column, clock } = setup({ inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = () => Promise.reject(errors.processorUnavailable('stripe'));
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(service.get(caller, refund.id).status).toBe('pending');
    expect(column(refund.id, 'claim_token')).toBeNull();
  });

  it('treats a refusal that finds the refund already cancelled as success', async () => {
    const { service, caller, processor } = setup();
    const refund = await service.create(caller, input);
    processor.onCancel = () => Promise.resolve({ accepted: false, status: 'cancelled', reason: 'already canceled' });
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
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
    expect(refunds.map((r) => service.get(caller, r.id).status).filter((s) => s === 'completed')).toHaveLength(8);
  });
});

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
    });
    const refund = await service.create(caller, input);
    processor.onRetrieve = () => Promise.reject(errors.processorUnavailable('stripe'));
    expect(await service.getFresh(caller, refund.id)).toEqual(service.get(caller, refund.id));
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
      policy: { refreshAfterMs: 0 },
    });
    const processing = insertRefund(app, caller.organizationId, { status: 'processing', processor: 'stripe' });
    await off.getFresh(caller, processing.id);
    expect(processor.retrieves).toEqual([]);
    await expect(service.getFresh(caller, 'ref_zzzzzzzzzzzz')).rejects.toMatchObject({ code: 'not_found' });
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
    expect(service.get(caller, refund.id).status).toBe('completed');
    processor.onRetrieve = () => Promise.resolve({ status: 'failed', detail: 'failure_reason lost_or_stolen_card' });
    clock.advance(60_000);
    expect(await service.syncDue()).toEqual({ synced: 1, changed: 1 });
    expect(service.get(caller, refund.id).status).toBe('failed');
    const events = rawEvents(app, refund.id);
    expect(events.slice(-2).map((e) => [e.from_status, e.to_status, e.initiated_by])).toEqual([
      ['processing', 'completed', 'system'],
      ['completed', 'failed', 'system'],
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
    expect(service.get(caller, refund.id).status).toBe('processing');
    processor.onRetrieve = () => Promise.resolve({ status: 'completed' });
    clock.advance(10_000);
    expect((await service.syncDue()).changed).toBe(1);
  });

  it('ignores a status the machine does not allow (stale or out of order)', async () => {
    const { service, caller } = setup();
    const refund = await service.create(caller, input);
    const cancelled = await service.cancel(caller, refund.id);
    expect(cancelled.status).toBe('cancelled');
    expect(service.applyProcessorStatus(cancelled, 'completed', 'late read')).toBe(false);
    expect(service.get(caller, refund.id).status).toBe('cancelled');
  });
});

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
    expect(app.refunds.submissionState(created.id, clock.now().toISOString())?.claimed).toBe(true);
    expect(await service.submitDue()).toBe(0);
    // A retry of the call with the same key is the same refund, not a second one.
    expect((await service.create(caller, { ...input, idempotencyKey: 'deadline-1' })).id).toBe(created.id);
    // The processor comes back: the outcome is recorded under the claim.
    answer.resolve({ kind: 'submitted', externalRefundId: 're_cameBack', status: 'processing' });
    await service.settleDetached();
    expect(service.get(caller, created.id)).toMatchObject({ status: 'processing', externalRefundId: 're_cameBack' });
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
      policy: { callDeadlineMs: 100, retryBaseMs: 1_000 },
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
    expect(service.get(caller, created.id).status).toBe('processing');
    expect(processor.submits.map((s) => s.attempt)).toEqual([1, 2]);
  });

  it('cancel of a processing refund whose processor never answers is processor_unavailable, nothing changed', async () => {
    const { service, caller, processor } = setup({ callDeadlineMs: 100 });
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('processing');
    processor.onCancel = never;
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(service.get(caller, refund.id).status).toBe('processing');
  });

  it("cancel's lookup after an interrupted attempt that never answers is processor_unavailable, and gives the refund back", async () => {
    const { service, caller, processor, clock, column } = setup({ callDeadlineMs: 100, inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = never;
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(service.get(caller, refund.id).status).toBe('pending');
    expect(column(refund.id, 'claim_token')).toBeNull();
    processor.onFind = () => Promise.resolve(null);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
  });

  it("get's status read that never answers returns the stored refund", async () => {
    const { service, caller, processor } = setup({ refreshTimeoutMs: 100 });
    const refund = await service.create(caller, input);
    processor.onRetrieve = never;
    expect(await service.getFresh(caller, refund.id)).toEqual(service.get(caller, refund.id));
  });
});

describe('cancel is bounded on every path (issue 15)', () => {
  it('a store that never lets the cancel through ends in refund_busy instead of spinning', { timeout: 10_000 }, async () => {
    const { app, service, caller, clock, processor } = setup({ holdMs: 60_000, cancelWaitMs: 300 });
    const refund = await service.create(caller, input);
    let transitions = 0;
    class NeverMoves extends SqliteRefundStore {
      override transition(): null {
        transitions += 1;
        // The loop this guards against never yields, so no test timeout could stop it: fail it here.
        if (transitions > 10_000) throw new Error('cancel spun: 10,000 transitions without a pause');
        return null;
      }
    }
    const stuck = new RefundService({
      store: new NeverMoves(app.db),
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      policy: { holdMs: 60_000, cancelWaitMs: 300 },
    });
    await expect(stuck.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    expect(transitions).toBeGreaterThan(0);
    expect(transitions).toBeLessThanOrEqual(10);
    expect(service.get(caller, refund.id).status).toBe('pending');
  });

  it("the wait for a submission in flight ends at a deadline read from the injected clock", { timeout: 10_000 }, async () => {
    const { app, caller, clock, processor } = setup({ holdMs: 1_000 });
    // Waits are long in real time: only the fake clock can end this one in time.
    const policy = { holdMs: 1_000, cancelWaitMs: 10 * 60_000, callDeadlineMs: 50_000 };
    const creator = new RefundService({ store: app.refunds, processors: new StaticProcessorRegistry([processor], {}, 'stripe'), clock, policy });
    const refund = await creator.create(caller, input);
    clock.advance(1_000);
    // Another process holds it for submission and never answers.
    const at = (ms: number): string => new Date(clock.now().getTime() + ms).toISOString();
    expect(app.refunds.claimForSubmission(refund.id, 'elsewhere', at(0), at(3_600_000))).not.toBeNull();
    let looks = 0;
    class ClockMovesOnEachLook extends SqliteRefundStore {
      override submissionState(refundId: string, now: string) {
        looks += 1;
        clock.advance(5_000);
        return super.submissionState(refundId, now);
      }
    }
    const service = new RefundService({
      store: new ClockMovesOnEachLook(app.db),
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      policy,
    });
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    // The wait is half the call deadline (25 s): five looks at 5 s of fake time each.
    expect(looks).toBe(5);
  });
});

describe('late landings after a cancel (issue 15)', () => {
  it('a refund cancelled after an unanswered attempt is looked for during the watch; a landing is recorded and alarmed once, never hidden', async () => {
    const alarms: Array<Record<string, unknown>> = [];
    const { app, caller, processor, clock } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      policy: { inDoubtMs: 30_000, lateLandingRecheckMs: 60_000, lateLandingWatchMs: 200_000 },
      onDiscrepancy: (_message, detail) => alarms.push(detail),
    });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
    let looks = 0;
    let landed = false;
    processor.onFind = () => {
      looks += 1;
      return Promise.resolve(landed ? { externalRefundId: 're_landed', status: 'completed' } : null);
    };
    clock.advance(59_999);
    await service.runPass();
    expect(looks).toBe(0);
    clock.advance(1);
    await service.runPass();
    expect(looks).toBe(1);
    expect(alarms).toEqual([]);
    // The attempt lands at the processor after all.
    landed = true;
    clock.advance(60_000);
    expect(await service.watchLateLandings()).toBe(1);
    expect(service.get(caller, refund.id)).toMatchObject({ status: 'cancelled', externalRefundId: 're_landed' });
    expect(alarms).toEqual([expect.objectContaining({ refundId: refund.id, externalRefundId: 're_landed', processorStatus: 'completed' })]);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ from_status: 'cancelled', to_status: 'cancelled', initiated_by: 'system' });
    clock.advance(60_000);
    expect(await service.watchLateLandings()).toBe(0);
    expect(looks).toBe(3);
    expect(alarms).toHaveLength(1);
    // The watch ends: no more looks.
    for (let i = 0; i < 5; i += 1) {
      clock.advance(60_000);
      await service.runPass();
    }
    expect(looks).toBe(3);
  });

  it('a refund cancelled before any submission is not watched', async () => {
    const { service, caller, processor, clock } = setup({ holdMs: 60_000 });
    const held = await service.create(caller, input);
    await service.cancel(caller, held.id);
    let looks = 0;
    processor.onFind = () => {
      looks += 1;
      return Promise.resolve(null);
    };
    clock.advance(24 * 3_600_000);
    await service.runPass();
    expect(looks).toBe(0);
  });
});
