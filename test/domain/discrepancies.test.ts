/**
 * Discrepancies (discrepancies.ts): the late-landing watch after a cancel that followed an
 * unanswered attempt; against the real SQLite store and a scripted processor double.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/domain/errors.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { ScriptedProcessor } from '../support/scripted.js';
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

describe('late landings after a cancel (issue 15)', () => {
  it('a refund cancelled after an unanswered attempt is looked for during the watch; a landing is recorded and alarmed once, never hidden', async () => {
    const alarms: Array<Record<string, unknown>> = [];
    const { app, caller, processor, clock } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ inDoubtMs: 30_000, lateLandingRecheckMs: 60_000, lateLandingWatchMs: 200_000 }),
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
    expect(await service.get(caller, refund.id)).toMatchObject({ status: 'cancelled', externalRefundId: 're_landed' });
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

  it('the watch looks a last time when a look falls exactly at its end, then stops', async () => {
    const { app, caller, processor, clock } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ inDoubtMs: 30_000, lateLandingRecheckMs: 60_000, lateLandingWatchMs: 180_000 }),
    });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
    let looks = 0;
    processor.onFind = () => {
      looks += 1;
      return Promise.resolve(null);
    };
    // Looks at +60 s, +120 s and +180 s: the last one is the watch's end, not past it.
    for (let i = 0; i < 5; i += 1) {
      clock.advance(60_000);
      await service.watchLateLandings();
    }
    expect(looks).toBe(3);
  });

  it('nothing there, or a refund there that moves no money, is nothing to note; a failed look is reported and made again', async () => {
    const alarms: Array<Record<string, unknown>> = [];
    const reports: Array<{ message: string; detail: Record<string, unknown> }> = [];
    const { app, org, caller, processor, clock } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith({ inDoubtMs: 30_000, lateLandingRecheckMs: 60_000, lateLandingWatchMs: 600_000 }),
      onDiscrepancy: (_message, detail) => alarms.push(detail),
      onBackgroundError: (message, detail) => reports.push({ message, detail }),
    });
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    clock.advance(30_000);
    expect((await service.cancel(caller, refund.id)).status).toBe('cancelled');
    reports.splice(0);
    const answers: Array<() => Promise<{ externalRefundId: string; status: 'failed' } | null>> = [
      () => Promise.resolve(null),
      () => Promise.resolve({ externalRefundId: 're_failed_there', status: 'failed' }),
      () => Promise.reject(errors.processorUnavailable('stripe')),
      () => Promise.resolve(null),
    ];
    let looks = 0;
    processor.onFind = () => {
      const answer = answers[looks] ?? (() => Promise.resolve(null));
      looks += 1;
      return answer();
    };
    for (let i = 0; i < 2; i += 1) {
      clock.advance(60_000);
      expect(await service.watchLateLandings()).toBe(0);
    }
    expect(reports).toEqual([]);
    clock.advance(60_000);
    expect(await service.watchLateLandings()).toBe(0);
    expect(reports).toEqual([
      { message: 'late-landing lookup failed; will look again', detail: { refundId: refund.id, error: errors.processorUnavailable('stripe').message } },
    ]);
    clock.advance(60_000);
    expect(await service.watchLateLandings()).toBe(0);
    expect(looks).toBe(4);
    expect(alarms).toEqual([]);
    expect(await app.refunds.listDiscrepancies(org.id)).toEqual([]);
    expect(await service.get(caller, refund.id)).toMatchObject({ status: 'cancelled', externalRefundId: null });
  });
});
