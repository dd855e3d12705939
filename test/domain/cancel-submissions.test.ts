/**
 * Cancelling around submissions (cancel.ts): a submission in flight, an attempt that went
 * unanswered and may still land, a claim whose process died; against the real SQLite store and a
 * scripted processor double.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errors, RefundKitError } from '../../src/domain/errors.js';
import type { SubmitOutcome } from '../../src/domain/ports.js';
import { RefundService } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { deferred } from '../support/scripted.js';
import { cleanupAll, rawEvents, settingsWith } from '../support/fixtures.js';
import { input, setup, submissionInFlight } from './cancel-harness.js';

afterEach(() => cleanupAll());

describe('cancel around submissions', () => {
  it('waits for a submission in flight and then cancels at the processor', async () => {
    const { app, service, caller, processor, observed } = setup({ cancelWaitMs: 60_000 });
    const { id, creating, answer } = await submissionInFlight({ service, caller, processor });
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
    const { id, creating, answer } = await submissionInFlight({ service, caller, processor });
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
