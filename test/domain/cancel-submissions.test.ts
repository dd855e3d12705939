/**
 * Cancelling around submissions (cancel.ts): a submission in flight, an attempt that went
 * unanswered and may still land, a claim whose process died; against the real SQLite store and a
 * scripted processor double.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { errors, RefundKitError } from '../../src/domain/errors.js';
import type { CallOptions, CancelOutcome, RefundStore, StatusChange, SubmitOutcome } from '../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { deferred, ObservedStore, ScriptedProcessor } from '../support/scripted.js';
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

  it('measures its wait on the service clock: once that clock passes cancelWaitMs, refund_busy, however little real time went by', async () => {
    // The submission's claim outlasts anything this test's clock does.
    const { app, service, caller, processor, clock } = setup({ cancelWaitMs: 60_000, leaseMs: 24 * 3_600_000 });
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = () => answer.promise;
    const creating = service.create(caller, input);
    await vi.waitFor(() => expect(processor.submits).toHaveLength(1));
    const id = (app.db.prepare('SELECT id FROM refunds').get() as { id: string }).id;
    // The clock the service was given runs a minute ahead every few milliseconds.
    const tick = setInterval(() => clock.advance(30_000), 5);
    try {
      await expect(service.cancel(caller, id)).rejects.toMatchObject({ code: 'refund_busy' });
    } finally {
      clearInterval(tick);
    }
    expect((await service.get(caller, id)).status).toBe('pending');
    answer.resolve({ kind: 'submitted', externalRefundId: 're_clock', status: 'processing' });
    expect((await creating).status).toBe('processing');
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
    expect((await service.get(caller, id)).status).toBe('pending');
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
    expect((await service.get(caller, refund.id)).status).toBe('pending');
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
    expect(await service.get(caller, refund.id)).toMatchObject({ status: 'completed', externalRefundId: 're_landed' });
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
    expect(await app.refunds.claimForSubmission(refund.id, 'dead-process', at(0), at(60_000))).not.toBeNull();
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
      settings: settingsWith({ inDoubtMs: 30_000 }),
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
    expect((await service.get(caller, refund.id)).status).toBe('completed');
    expect(processor.cancels).toHaveLength(0);
  });

  it('keeps the refund unchanged when the processor cannot be asked', async () => {
    const { service, caller, processor, column, clock } = setup({ inDoubtMs: 30_000 });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    processor.onFind = () => Promise.reject(errors.processorUnavailable('stripe'));
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect((await service.get(caller, refund.id)).status).toBe('pending');
    expect(column(refund.id, 'claim_token')).toBeNull();
  });

  it('treats a refusal that finds the refund already cancelled as success', async () => {
    const { service, caller, processor } = setup();
    const refund = await service.create(caller, input);
    processor.onCancel = () => Promise.resolve({ accepted: false, status: 'cancelled', reason: 'already canceled' });
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
  });
});

describe('cancel is bounded on every path (issue 15)', () => {
  it('a store that never lets the cancel through ends in refund_busy instead of spinning', { timeout: 10_000 }, async () => {
    const { app, service, caller, clock, processor } = setup({ holdMs: 60_000, cancelWaitMs: 300 });
    const refund = await service.create(caller, input);
    let transitions = 0;
    class NeverMoves extends SqliteRefundStore {
      override transition(): Promise<null> {
        transitions += 1;
        // The loop this guards against never yields, so no test timeout could stop it: fail it here.
        if (transitions > 10_000) throw new Error('cancel spun: 10,000 transitions without a pause');
        return Promise.resolve(null);
      }
    }
    const stuck = new RefundService({
      store: new NeverMoves(app.db),
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ holdMs: 60_000, cancelWaitMs: 300 }),
    });
    await expect(stuck.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    expect(transitions).toBeGreaterThan(0);
    expect(transitions).toBeLessThanOrEqual(10);
    expect((await service.get(caller, refund.id)).status).toBe('pending');
  });

  it('the wait for a submission in flight ends at a deadline read from the injected clock', { timeout: 10_000 }, async () => {
    const { app, caller, clock, processor } = setup({ holdMs: 1_000 });
    // Waits are long in real time: only the fake clock can end this one in time.
    const settings = settingsWith({ holdMs: 1_000, cancelWaitMs: 10 * 60_000, callDeadlineMs: 50_000 });
    const creator = new RefundService({ store: app.refunds, processors: new StaticProcessorRegistry([processor], {}, 'stripe'), clock, settings });
    const refund = await creator.create(caller, input);
    clock.advance(1_000);
    // Another process holds it for submission and never answers.
    const at = (ms: number): string => new Date(clock.now().getTime() + ms).toISOString();
    expect(await app.refunds.claimForSubmission(refund.id, 'elsewhere', at(0), at(3_600_000))).not.toBeNull();
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
      settings,
    });
    await expect(service.cancel(caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    // The wait is half the call deadline (25 s): five looks at 5 s of fake time each.
    expect(looks).toBe(5);
  });
});

describe('cancel at its boundaries: its pauses, its deadlines and the races around its writes', () => {
  /** A processor double that also remembers what time each lookup and cancel was given. */
  class TimedProcessor extends ScriptedProcessor {
    readonly cancelOptions: Array<CallOptions | undefined> = [];
    readonly findOptions: Array<CallOptions | undefined> = [];
    override cancel(refund: Refund, options?: CallOptions): Promise<CancelOutcome> {
      this.cancelOptions.push(options);
      return super.cancel(refund);
    }
    override findSubmitted(refund: Refund, options?: CallOptions): Promise<{ externalRefundId: string; status: RefundStatus } | null> {
      this.findOptions.push(options);
      return super.findSubmitted(refund);
    }
  }

  /**
   * A service over the same database whose pauses are recorded instead of taken in real time;
   * `onPause` runs in each (to move the clock, or to let another process act meanwhile).
   */
  function paced(
    s: { app: SqliteApp; clock: FakeClock },
    processor: ScriptedProcessor,
    policy: Partial<RefundSettings>,
    options: { store?: RefundStore; onPause?: (ms: number) => Promise<void> | void; onBackgroundError?: (message: string, detail: Record<string, unknown>) => void } = {},
  ) {
    const pauses: number[] = [];
    const service = new RefundService({
      store: options.store ?? s.app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock: s.clock,
      settings: settingsWith({ retryBaseMs: 1_000, ...policy }),
      sleep: async (ms) => {
        pauses.push(ms);
        await options.onPause?.(ms);
      },
      ...(options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError }),
    });
    return { service, pauses };
  }

  /** A refund whose one attempt went unanswered `inDoubtMs` ago at most (see setup's processor). */
  async function interrupted(policy: Partial<RefundSettings>) {
    const s = setup(policy);
    s.processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await s.service.create(s.caller, input);
    expect(s.column(refund.id, 'attempts')).toBe(1);
    return { ...s, refund };
  }

  it('a doubt that ends exactly when the wait does is waited out, looking again every 100 ms, then the refund is looked up and cancelled', async () => {
    const s = await interrupted({ inDoubtMs: 1_000 });
    const { service, pauses } = paced(s, s.processor, { inDoubtMs: 1_000, cancelWaitMs: 1_000 }, { onPause: (ms) => s.clock.advance(ms) });
    const cancelled = await service.cancel(s.caller, s.refund.id);
    expect(cancelled.status).toBe('cancelled');
    // Ten pauses of 100 ms fill the wait exactly: the tenth still fits, and then the doubt is over.
    expect(pauses).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
    expect(s.processor.finds).toEqual([s.refund.id]);
  });

  it('a doubt that outlasts the wait is refused at once: refund_busy with the time left, without pausing or looking it up', async () => {
    const s = await interrupted({ inDoubtMs: 30_000 });
    const { service, pauses } = paced(s, s.processor, { inDoubtMs: 30_000, cancelWaitMs: 1_000 }, { onPause: (ms) => s.clock.advance(ms) });
    await expect(service.cancel(s.caller, s.refund.id)).rejects.toMatchObject({ code: 'refund_busy', retryAfterSeconds: 30 });
    expect(pauses).toEqual([]);
    expect(s.processor.finds).toEqual([]);
  });

  it('the pauses of a wait for a submission in flight add up to cancelWaitMs and no more, however still the clock stands', async () => {
    const s = setup({ holdMs: 1_000 });
    const refund = await s.service.create(s.caller, input);
    s.clock.advance(1_000);
    const at = (ms: number): string => new Date(s.clock.now().getTime() + ms).toISOString();
    expect(await s.app.refunds.claimForSubmission(refund.id, 'elsewhere', at(0), at(3_600_000))).not.toBeNull();
    const { service, pauses } = paced(s, s.processor, { holdMs: 1_000, cancelWaitMs: 300 });
    await expect(service.cancel(s.caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    expect(pauses).toEqual([100, 100, 100]);
    expect((await service.get(s.caller, refund.id)).status).toBe('pending');
  });

  it("a dispatcher's retry that claims the refund just before the cancel holds it keeps it: the cancel waits, then refund_busy, nothing looked up", async () => {
    const policy = { inDoubtMs: 30_000, leaseMs: 10_000 };
    const s = await interrupted(policy);
    s.clock.advance(30_000);
    class DispatcherFirst extends SqliteRefundStore {
      private raced = false;
      override async claimForCancel(refundId: string, token: string, now: string, leaseUntil: string, lapsedBefore: string): Promise<Refund | null> {
        if (!this.raced) {
          this.raced = true;
          expect(await super.claimForSubmission(refundId, 'dispatcher', now, leaseUntil)).not.toBeNull();
        }
        return super.claimForCancel(refundId, token, now, leaseUntil, lapsedBefore);
      }
    }
    const { service, pauses } = paced(s, s.processor, { ...policy, cancelWaitMs: 300 }, { store: new DispatcherFirst(s.app.db) });
    await expect(service.cancel(s.caller, s.refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    // It gave way (50 ms), then found the retry's submission in flight and waited for it.
    expect(pauses).toEqual([50, 100, 100]);
    expect(s.processor.finds).toEqual([]);
    expect((await service.get(s.caller, s.refund.id)).status).toBe('pending');
    expect(s.column(s.refund.id, 'claim_token')).toBe('dispatcher');
  });

  it('an attempt that starts (and goes unanswered) between the look and the local cancel stops the cancel: refund_busy while it may land', async () => {
    const s = setup({ holdMs: 1_000 });
    const refund = await s.service.create(s.caller, input);
    s.clock.advance(1_000);
    const at = (ms: number): string => new Date(s.clock.now().getTime() + ms).toISOString();
    class AttemptFirst extends SqliteRefundStore {
      private raced = false;
      override async transition(change: StatusChange): Promise<Refund | null> {
        if (!this.raced && change.neverSubmitted === true) {
          this.raced = true;
          // A dispatcher submits it meanwhile, and its request goes unanswered.
          expect(await super.claimForSubmission(change.refundId, 'dispatcher', at(0), at(60_000))).not.toBeNull();
          await super.releaseClaim(change.refundId, 'dispatcher', { retryAt: at(1_000), error: 'timed out', inDoubtUntil: at(30_000) });
        }
        return super.transition(change);
      }
    }
    const { service } = paced(s, s.processor, { holdMs: 1_000, inDoubtMs: 30_000, cancelWaitMs: 300 }, { store: new AttemptFirst(s.app.db) });
    await expect(service.cancel(s.caller, refund.id)).rejects.toMatchObject({ code: 'refund_busy', retryAfterSeconds: 30 });
    expect((await service.get(s.caller, refund.id)).status).toBe('pending');
    expect(rawEvents(s.app, refund.id).map((e) => e.to_status)).toEqual(['pending']);
  });

  it('the lookup and the cancel at the processor are each told the time left of the call deadline, less the grace', async () => {
    const policy = { inDoubtMs: 30_000, callDeadlineMs: 15_000 };
    const s = await interrupted(policy);
    s.clock.advance(30_000);
    const processor = new TimedProcessor();
    processor.onFind = () => Promise.resolve({ externalRefundId: 're_found', status: 'processing' });
    const { service } = paced(s, processor, policy);
    expect((await service.cancel(s.caller, s.refund.id)).status).toBe('cancelled');
    // 15 s left on the (still) clock, less 500 ms of grace: the processor ends before our timer.
    expect(processor.findOptions).toEqual([{ timeoutMs: 14_500 }]);
    expect(processor.cancelOptions).toEqual([{ timeoutMs: 14_500 }]);
  });

  it('a submission that lands once the call deadline is reached is not cancelled at the processor: processor_unavailable, nothing asked', async () => {
    const s = setup({ holdMs: 1_000 });
    const refund = await s.service.create(s.caller, input);
    s.clock.advance(1_000);
    const at = (ms: number): string => new Date(s.clock.now().getTime() + ms).toISOString();
    expect(await s.app.refunds.claimForSubmission(refund.id, 'elsewhere', at(0), at(3_600_000))).not.toBeNull();
    const { service } = paced(s, s.processor, { holdMs: 1_000, callDeadlineMs: 15_000, cancelWaitMs: 5_000 }, {
      // While the cancel waits, the clock reaches the call deadline and the submission lands.
      onPause: async () => {
        s.clock.advance(15_000);
        const landed = await s.app.refunds.transition({
          organizationId: s.caller.organizationId,
          refundId: refund.id,
          from: 'pending',
          to: 'processing',
          actor: 'system',
          at: s.clock.now().toISOString(),
          externalRefundId: 're_landed',
          claimToken: 'elsewhere',
        });
        expect(landed?.status).toBe('processing');
      },
    });
    await expect(service.cancel(s.caller, refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(s.processor.cancels).toEqual([]);
    expect((await service.get(s.caller, refund.id)).status).toBe('processing');
  });

  it('a doubt that ends once the call deadline is reached leaves no time to look the refund up: processor_unavailable, nothing asked or held', async () => {
    const s = await interrupted({ inDoubtMs: 1_000 });
    const { service } = paced(s, s.processor, { inDoubtMs: 1_000, callDeadlineMs: 15_000, cancelWaitMs: 5_000 }, { onPause: () => s.clock.advance(15_000) });
    await expect(service.cancel(s.caller, s.refund.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(s.processor.finds).toEqual([]);
    expect((await service.get(s.caller, s.refund.id)).status).toBe('pending');
    expect(s.column(s.refund.id, 'claim_token')).toBeNull();
  });

  it('a refund completed by another writer while its processor accepted the cancel is refund_not_cancellable with the status it has', async () => {
    const s = setup();
    const refund = await s.service.create(s.caller, input);
    expect(refund.status).toBe('processing');
    class CompletedMeanwhile extends SqliteRefundStore {
      override async transition(change: StatusChange): Promise<Refund | null> {
        if (change.to === 'cancelled') {
          await super.transition({ ...change, to: 'completed', actor: 'system', detail: 'webhook: succeeded' });
        }
        return super.transition(change);
      }
    }
    const { service } = paced(s, s.processor, {}, { store: new CompletedMeanwhile(s.app.db) });
    await expect(service.cancel(s.caller, refund.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — status is 'completed'",
    });
    expect(s.processor.cancels).toEqual([refund.id]);
  });

  it('a cancel whose claim ran out during the lookup, the refund submitted meanwhile by another, is refund_not_cancellable with its status', async () => {
    const policy = { inDoubtMs: 30_000, leaseMs: 10_000 };
    const s = await interrupted(policy);
    s.clock.advance(30_000);
    s.processor.onFind = async (found) => {
      // The lookup outlasts our claim; a dispatcher takes the refund over and submits it.
      s.clock.advance(10_001);
      const at = (ms: number): string => new Date(s.clock.now().getTime() + ms).toISOString();
      expect(await s.app.refunds.claimForSubmission(found.id, 'dispatcher', at(0), at(10_000))).not.toBeNull();
      await s.app.refunds.transition({
        organizationId: found.organizationId,
        refundId: found.id,
        from: 'pending',
        to: 'processing',
        actor: 'system',
        at: at(0),
        externalRefundId: 're_dispatched',
        claimToken: 'dispatcher',
      });
      return null;
    };
    const { service } = paced(s, s.processor, policy);
    await expect(service.cancel(s.caller, s.refund.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — status is 'processing'",
    });
    expect(rawEvents(s.app, s.refund.id).map((e) => e.to_status)).toEqual(['pending', 'processing']);
  });

  it('a cancel whose claim ran out during a lookup that found the refund, another holding it now, is refund_busy and records nothing', async () => {
    const policy = { inDoubtMs: 30_000, leaseMs: 10_000 };
    const s = await interrupted(policy);
    s.clock.advance(30_000);
    s.processor.onFind = async (found) => {
      s.clock.advance(10_001);
      const at = (ms: number): string => new Date(s.clock.now().getTime() + ms).toISOString();
      expect(await s.app.refunds.claimForSubmission(found.id, 'dispatcher', at(0), at(10_000))).not.toBeNull();
      return { externalRefundId: 're_found', status: 'processing' };
    };
    const { service } = paced(s, s.processor, policy);
    await expect(service.cancel(s.caller, s.refund.id)).rejects.toMatchObject({ code: 'refund_busy' });
    expect(s.processor.cancels).toEqual([]);
    expect((await service.get(s.caller, s.refund.id)).status).toBe('pending');
    expect(rawEvents(s.app, s.refund.id)).toHaveLength(1);
  });

  it('a refund with an interrupted attempt whose processor is not configured here is processor_not_configured, and stays pending and unheld', async () => {
    const s = await interrupted({ inDoubtMs: 30_000 });
    s.clock.advance(30_000);
    const elsewhere = new RefundService({
      store: s.app.refunds,
      processors: new StaticProcessorRegistry([], { stripe: 'set STRIPE_SECRET_KEY' }, 'stripe'),
      clock: s.clock,
      settings: settingsWith({ inDoubtMs: 30_000 }),
    });
    await expect(elsewhere.cancel(s.caller, s.refund.id)).rejects.toMatchObject({ code: 'processor_not_configured' });
    await expect(elsewhere.cancel(s.caller, s.refund.id)).rejects.toThrow('STRIPE_SECRET_KEY');
    expect((await elsewhere.get(s.caller, s.refund.id)).status).toBe('pending');
    expect(s.column(s.refund.id, 'claim_token')).toBeNull();
  });

  it("a failed lookup is recorded as the refund's last error", async () => {
    const s = await interrupted({ inDoubtMs: 30_000 });
    s.clock.advance(30_000);
    const submitError = s.column(s.refund.id, 'last_error');
    const reset = new Error('socket hang up');
    s.processor.onFind = () => Promise.reject(reset);
    const { service } = paced(s, s.processor, { inDoubtMs: 30_000 });
    await expect(service.cancel(s.caller, s.refund.id)).rejects.toBe(reset);
    // The submission's error gives way to the lookup's, as callers are shown it (no internals).
    expect(submitError).toBe(errors.processorUnavailable('stripe').message);
    expect(s.column(s.refund.id, 'last_error')).toBe('Internal error');
  });

  it("the audit trail says why: 'never received' after a lookup found nothing, 'found at' when it found the refund", async () => {
    const s = await interrupted({ inDoubtMs: 30_000 });
    const other = await s.service.create(s.caller, { ...input, transactionId: 'ch_3PqOtherCharge' });
    s.clock.advance(30_000);
    const { service } = paced(s, s.processor, { inDoubtMs: 30_000 });
    s.processor.onFind = () => Promise.resolve(null);
    await service.cancel(s.caller, s.refund.id);
    expect(rawEvents(s.app, s.refund.id).at(-1)).toMatchObject({
      to_status: 'cancelled',
      detail: 'cancelled; stripe confirmed it never received the refund',
    });
    s.processor.onFind = () => Promise.resolve({ externalRefundId: 're_found', status: 'processing' });
    await service.cancel(s.caller, other.id);
    expect(rawEvents(s.app, other.id).map((e) => [e.to_status, e.detail])).toEqual([
      ['pending', expect.any(String)],
      ['processing', 'found at stripe as re_found after an interrupted submission'],
      ['cancelled', 'cancellation accepted by stripe'],
    ]);
  });
});

describe('the default pause of a waiting cancel', () => {
  it('is real time: a submission that answers a moment after the cancel first looks is waited for, and the refund cancelled at the processor', async () => {
    const { service, caller, processor } = setup({ cancelWaitMs: 300 });
    const reached = deferred<string>();
    const answer = deferred<SubmitOutcome>();
    processor.onSubmit = (refund) => {
      reached.resolve(refund.id);
      return answer.promise;
    };
    const creating = service.create(caller, input);
    const id = await reached.promise;
    // The processor answers on the next turn of the event loop: only a cancel that really pauses
    // (100 ms at a time, within cancelWaitMs) sees the refund land.
    setTimeout(() => answer.resolve({ kind: 'submitted', externalRefundId: 're_moment', status: 'processing' }), 0);
    const cancelled = await service.cancel(caller, id);
    expect(cancelled.status).toBe('cancelled');
    expect(processor.cancels).toEqual([id]);
    expect((await creating).status).toBe('processing');
  });
});
