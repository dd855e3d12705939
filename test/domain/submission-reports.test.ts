/**
 * What a submission tells the operator and the audit trail: the fault reports (the log lines an
 * operator reads when money does not move), the backoff between attempts, and the detail of each
 * recorded move. Each of these was a surviving mutant: the behaviour was right, but no test read
 * what it said.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/domain/errors.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { ScriptedProcessor } from '../support/scripted.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, rawEvents, settingsWith } from '../support/fixtures.js';

const input: CreateRefundInput = { transactionId: 'ch_3PqReports', amount: 2500, currency: 'usd', reason: 'product_defective' };

function setup(options: { settings?: Partial<RefundSettings>; processorHere?: boolean } = {}) {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const processor = new ScriptedProcessor('stripe');
  const reports: Array<{ message: string; detail: Record<string, unknown> }> = [];
  const service = new RefundService({
    store: app.refunds,
    processors:
      options.processorHere === false
        ? new StaticProcessorRegistry([new ScriptedProcessor('sandbox')], { stripe: 'set STRIPE_SECRET_KEY' }, 'stripe')
        : new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    settings: settingsWith({ retryBaseMs: 1_000, maxRetryMs: 5_000, ...options.settings }),
    onBackgroundError: (message, detail) => reports.push({ message, detail }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'api' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  return { app, clock, processor, service, caller, reports, column };
}

afterEach(() => cleanupAll());

describe('a failed submission', () => {
  it('is reported with its attempt, error and wait, and waits three times longer each time, up to maxRetryMs', async () => {
    const { clock, processor, service, caller, reports, column } = setup();
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      if (attempt > 1) expect(await service.submitDue()).toBe(1);
      const report = reports.at(-1);
      expect(report?.message).toBe('submission failed; will retry');
      expect(report?.detail).toMatchObject({ refundId: refund.id, attempt, error: expect.stringContaining('could not be reached') as unknown });
      const wait = Date.parse(String(column(refund.id, 'next_attempt_at'))) - clock.ms;
      expect(report?.detail.retryInMs).toBe(wait);
      waits.push(wait);
      clock.advance(wait);
    }
    expect(waits).toEqual([1_000, 3_000, 5_000, 5_000]);
    expect(reports).toHaveLength(4);
  });
});

describe('a submission this process cannot make', () => {
  it('is left, due and untouched, to a process with the processor, and reported with the reason', async () => {
    const { service, caller, reports, column } = setup({ processorHere: false });
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('pending');
    expect(column(refund.id, 'attempts')).toBe(0);
    expect(column(refund.id, 'last_error')).toBeNull();
    expect(reports).toEqual([
      {
        message: 'submission left to a process with the processor',
        detail: { refundId: refund.id, reason: "processor 'stripe' is not configured here: set STRIPE_SECRET_KEY" },
      },
    ]);
  });
});

describe('the audit trail of a submission', () => {
  it('says where the refund went and under which id, with the processor\'s own detail', async () => {
    const { app, processor, service, caller } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'submitted', externalRefundId: 're_reports1', status: 'processing', detail: 'pending at the bank' });
    const refund = await service.create(caller, input);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ to_status: 'processing', detail: 'submitted to stripe as re_reports1: pending at the bank' });
  });

  it('says who rejected it and why', async () => {
    const { app, processor, service, caller } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'rejected', reason: 'charge already refunded' });
    const refund = await service.create(caller, input);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ to_status: 'failed', detail: 'rejected by stripe: charge already refunded' });
  });
});

describe('a submission whose claim ran out while the processor answered', () => {
  it('is reported as not recorded; the process that took the claim over records its own outcome, once', async () => {
    const { app, clock, processor, service, caller, reports } = setup({ settings: { leaseMs: 60_000 } });
    // Another process on the same store, with its own processor client.
    const theirs = new ScriptedProcessor('stripe');
    theirs.onSubmit = () => Promise.resolve({ kind: 'submitted', externalRefundId: 're_takenOver', status: 'processing' });
    const other = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([theirs], {}, 'stripe'),
      clock,
      settings: settingsWith({ retryBaseMs: 1_000, maxRetryMs: 5_000, leaseMs: 60_000 }),
    });
    processor.onSubmit = async () => {
      // Our call hangs past the lease; the other process takes the claim and submits.
      clock.advance(60_001);
      expect(await other.submitDue()).toBe(1);
      return { kind: 'submitted', externalRefundId: 're_ours', status: 'processing' };
    };
    const refund = await service.create(caller, input);
    expect(reports).toEqual([{ message: 'submission outcome not recorded: claim lost', detail: { refundId: refund.id, attempt: 1 } }]);
    expect((await service.get(caller, refund.id))).toMatchObject({ status: 'processing', externalRefundId: 're_takenOver' });
    expect(rawEvents(app, refund.id).map((e) => e.to_status)).toEqual(['pending', 'processing']);
  });
});
