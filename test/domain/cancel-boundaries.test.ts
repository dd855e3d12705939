/**
 * Cancel at its boundaries (cancel.ts): the pauses of its waits, its deadlines, and the races
 * around each of its writes, with the pauses recorded instead of taken in real time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { errors } from '../../src/domain/errors.js';
import type { CallOptions, CancelOutcome, RefundStore, StatusChange } from '../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';
import { RefundService, type RefundSettings } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { ScriptedProcessor } from '../support/scripted.js';
import { cleanupAll, FakeClock, rawEvents, settingsWith } from '../support/fixtures.js';
import { input, setup, submissionInFlight } from './cancel-harness.js';

afterEach(() => cleanupAll());

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
    const { id, creating, answer } = await submissionInFlight({ service, caller, processor });
    // The processor answers on the next turn of the event loop: only a cancel that really pauses
    // (100 ms at a time, within cancelWaitMs) sees the refund land.
    setTimeout(() => answer.resolve({ kind: 'submitted', externalRefundId: 're_moment', status: 'processing' }), 0);
    const cancelled = await service.cancel(caller, id);
    expect(cancelled.status).toBe('cancelled');
    expect(processor.cancels).toEqual([id]);
    expect((await creating).status).toBe('processing');
  });
});
