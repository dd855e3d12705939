/**
 * RefundService.applyProcessorReport: what a processor reports unasked (a webhook) about one of
 * its refunds, found by the processor's own id. The processor is asked again first; the report's
 * own status is only a fallback, and the status machine has the last word either way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { errors } from '../../src/domain/errors.js';
import type { Clock, ProcessorStatus, RefundProcessor } from '../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';
import { RefundService } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createOrg, createTestApp, insertRefund, rawEvents, storedStatus, settingsWith } from '../support/fixtures.js';

const clock: Clock = { now: () => new Date('2026-03-01T12:00:00.000Z') };

/** A "stripe" processor whose status read answers what the test chose. */
class ReadableProcessor implements RefundProcessor {
  readonly name = 'stripe';
  reads = 0;
  /** The processor ids it was asked to read. */
  readonly asked: Array<string | null> = [];
  constructor(private readonly read: () => Promise<ProcessorStatus>) {}
  retrieve(refund: Refund): Promise<ProcessorStatus> {
    this.reads += 1;
    this.asked.push(refund.externalRefundId);
    return this.read();
  }
  submit(): never {
    throw new Error('not expected');
  }
  cancel(): never {
    throw new Error('not expected');
  }
  findSubmitted(): never {
    throw new Error('not expected');
  }
}

let app: SqliteApp;
let org: string;
let reported: string[];
let alarms: Array<Record<string, unknown>>;

function serviceWith(...processors: RefundProcessor[]): RefundService {
  return new RefundService({
    store: app.refunds,
    processors: new StaticProcessorRegistry([new SandboxProcessor(), ...processors], { stripe: 'set STRIPE_SECRET_KEY' }),
    clock,
    onBackgroundError: (message) => reported.push(message),
    settings: settingsWith(),
    onDiscrepancy: (_message, detail) => alarms.push(detail),
  });
}

function stripeRefund(status: RefundStatus, externalRefundId = 're_report001'): Refund {
  return insertRefund(app, org, { status, processor: 'stripe', externalRefundId });
}

const report = (status: RefundStatus, externalRefundId = 're_report001') => ({
  processor: 'stripe',
  externalRefundId,
  status,
  source: 'stripe webhook refund.updated evt_1',
});

beforeEach(() => {
  app = createTestApp();
  org = createOrg(app).id;
  reported = [];
  alarms = [];
});
afterEach(() => cleanupAll());

describe('applyProcessorReport', () => {
  it('applies the status read from the processor, not the one in the report', async () => {
    const refund = stripeRefund('processing');
    const processor = new ReadableProcessor(() => Promise.resolve({ status: 'completed', detail: 'stripe status succeeded' }));
    const outcome = await serviceWith(processor).applyProcessorReport(report('processing'));
    expect(processor.reads).toBe(1);
    expect(outcome).toMatchObject({ changed: true, statusFrom: 'processor', refund: { id: refund.id, status: 'completed' } });
    const last = rawEvents(app, refund.id).at(-1)!;
    expect(last).toMatchObject({ from_status: 'processing', to_status: 'completed', initiated_by: 'system' });
    expect(last.detail).toBe('stripe webhook refund.updated evt_1: status read from stripe: stripe status succeeded');
  });

  it("uses the report's status when the processor cannot be read, and says so", async () => {
    const refund = stripeRefund('processing');
    const processor = new ReadableProcessor(() => Promise.reject(errors.processorUnavailable('stripe')));
    const outcome = await serviceWith(processor).applyProcessorReport(report('completed'));
    expect(outcome).toMatchObject({ changed: true, statusFrom: 'report' });
    expect(storedStatus(app, refund.id)).toBe('completed');
    expect(rawEvents(app, refund.id).at(-1)!.detail).toBe('stripe webhook refund.updated evt_1: status completed from the event (reading it from stripe failed)');
    expect(reported).toEqual(['status read after a processor report failed; using the report']);
  });

  it("uses the report's status when the processor is not configured here", async () => {
    const refund = stripeRefund('processing');
    const outcome = await serviceWith().applyProcessorReport(report('failed'));
    expect(outcome).toMatchObject({ changed: true, statusFrom: 'report' });
    expect(storedStatus(app, refund.id)).toBe('failed');
    expect(rawEvents(app, refund.id).at(-1)!.detail).toBe('stripe webhook refund.updated evt_1: status failed from the event');
  });

  it('never moves a refund backwards, whatever the source says', async () => {
    const refund = stripeRefund('failed');
    const before = rawEvents(app, refund.id).length;
    // An event's own status may be stale news: refused, and nothing written.
    const fromReport = await serviceWith().applyProcessorReport(report('processing'));
    expect(fromReport).toMatchObject({ changed: false, discrepancy: false, refund: { status: 'failed' } });
    expect(rawEvents(app, refund.id)).toHaveLength(before);
    // A fresh read saying money moved is not stale: still no move, but never hidden (a
    // discrepancy: an audit event that leaves the status as it is).
    const fromProcessor = await serviceWith(new ReadableProcessor(() => Promise.resolve({ status: 'completed' }))).applyProcessorReport(
      report('completed'),
    );
    expect(fromProcessor).toMatchObject({ changed: false, discrepancy: true, refund: { status: 'failed' } });
    expect(rawEvents(app, refund.id).slice(before).map((e) => [e.from_status, e.to_status])).toEqual([['failed', 'failed']]);
    expect(storedStatus(app, refund.id)).toBe('failed');
  });

  it('the same status again changes nothing and writes no event', async () => {
    const refund = stripeRefund('completed');
    const before = rawEvents(app, refund.id).length;
    const outcome = await serviceWith(new ReadableProcessor(() => Promise.resolve({ status: 'completed' }))).applyProcessorReport(
      report('completed'),
    );
    expect(outcome?.changed).toBe(false);
    expect(rawEvents(app, refund.id)).toHaveLength(before);
  });

  it('a processor id we do not hold is null, and the processor is not asked', async () => {
    stripeRefund('processing');
    const processor = new ReadableProcessor(() => Promise.resolve({ status: 'completed' }));
    expect(await serviceWith(processor).applyProcessorReport(report('completed', 're_someoneElse'))).toBeNull();
    // The same id at another processor is another refund.
    expect(await serviceWith(processor).applyProcessorReport({ ...report('completed'), processor: 'sandbox' })).toBeNull();
    expect(processor.reads).toBe(0);
  });

  it('a processor id we have not linked yet, on a refund that names one of ours, is refund_busy (report it again), and changes nothing', async () => {
    // Ours and still pending: the answer to its submission is being recorded (the report raced it).
    const pending = insertRefund(app, org, { status: 'pending', processor: 'stripe', externalRefundId: null });
    const processor = new ReadableProcessor(() => Promise.resolve({ status: 'failed' }));
    const before = rawEvents(app, pending.id).length;
    await expect(serviceWith(processor).applyProcessorReport({ ...report('failed', 're_notLinkedYet'), refundId: pending.id })).rejects.toMatchObject({
      code: 'refund_busy',
    });
    expect(rawEvents(app, pending.id)).toHaveLength(before);
    // A refund id we do not hold at all (another installation's refund): nothing to wait for.
    expect(await serviceWith(processor).applyProcessorReport({ ...report('failed', 're_notLinkedYet'), refundId: 'ref_notours00000' })).toBeNull();
    expect(processor.reads).toBe(0);
  });
});

describe('applyProcessorReport: the processor made a refund we hold as cancelled or failed (issue 15)', () => {
  /** Cancelled here ("never received"), with no processor id: then the processor made it after all. */
  function cancelledHere(status: 'cancelled' | 'failed' = 'cancelled'): Refund {
    return insertRefund(app, org, { status, processor: 'stripe', externalRefundId: null });
  }

  it('is acknowledged, not refund_busy for ever: recorded as a discrepancy, with an audit event, an alarm and the processor id', async () => {
    const refund = cancelledHere();
    const before = rawEvents(app, refund.id).length;
    const processor = new ReadableProcessor(() => Promise.resolve({ status: 'completed', detail: 'stripe status succeeded' }));
    const outcome = await serviceWith(processor).applyProcessorReport({ ...report('processing', 're_landedLate'), refundId: refund.id });
    expect(outcome).toMatchObject({ changed: false, discrepancy: true, statusFrom: 'processor', refund: { id: refund.id, status: 'cancelled' } });
    expect(outcome?.refund.externalRefundId).toBe('re_landedLate');
    // The processor's copy is read by the id in the report: ours holds none.
    expect(processor.asked).toEqual(['re_landedLate']);
    expect(storedStatus(app, refund.id)).toBe('cancelled');
    const added = rawEvents(app, refund.id).slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ from_status: 'cancelled', to_status: 'cancelled', initiated_by: 'system' });
    expect(added[0]?.detail).toContain('discrepancy: stripe holds re_landedLate as completed while this refund is cancelled');
    expect(added[0]?.detail).toContain('stripe webhook refund.updated evt_1');
    expect(alarms).toEqual([expect.objectContaining({ refundId: refund.id, externalRefundId: 're_landedLate', processorStatus: 'completed', status: 'cancelled' })]);
    expect(await app.refunds.listDiscrepancies(org)).toEqual([
      expect.objectContaining({ refundId: refund.id, externalRefundId: 're_landedLate', ourStatus: 'cancelled', processorStatus: 'completed' }),
    ]);
    // The same news again (another event, now found by the processor id) is recorded once.
    const again = await serviceWith(processor).applyProcessorReport(report('completed', 're_landedLate'));
    expect(again).toMatchObject({ changed: false, discrepancy: true, refund: { status: 'cancelled' } });
    expect(rawEvents(app, refund.id).slice(before)).toHaveLength(1);
    expect(alarms).toHaveLength(1);
    expect(await app.refunds.listDiscrepancies(org)).toHaveLength(1);
  });

  it('a failed refund the processor holds as paid is a discrepancy too; without a read, the signed report itself is the proof', async () => {
    const refund = cancelledHere('failed');
    const outcome = await serviceWith().applyProcessorReport({ ...report('processing', 're_failedHere'), refundId: refund.id });
    expect(outcome).toMatchObject({ changed: false, discrepancy: true, statusFrom: 'report', refund: { status: 'failed' } });
    expect(await app.refunds.listDiscrepancies()).toEqual([expect.objectContaining({ refundId: refund.id, ourStatus: 'failed', processorStatus: 'processing' })]);
  });

  it('no money moving there (cancelled or failed at the processor too) is acknowledged and writes nothing', async () => {
    const refund = cancelledHere();
    const before = rawEvents(app, refund.id).length;
    const processor = new ReadableProcessor(() => Promise.resolve({ status: 'cancelled' }));
    const outcome = await serviceWith(processor).applyProcessorReport({ ...report('cancelled', 're_cancelledThere'), refundId: refund.id });
    expect(outcome).toMatchObject({ changed: false, discrepancy: false, refund: { status: 'cancelled', externalRefundId: null } });
    expect(rawEvents(app, refund.id)).toHaveLength(before);
    expect(alarms).toEqual([]);
  });

  it('a second processor refund for a refund of ours is a discrepancy (money moved twice)', async () => {
    const refund = stripeRefund('completed', 're_first');
    const processor = new ReadableProcessor(() => Promise.resolve({ status: 'completed' }));
    const outcome = await serviceWith(processor).applyProcessorReport({ ...report('completed', 're_second'), refundId: refund.id });
    expect(outcome).toMatchObject({ discrepancy: true, refund: { status: 'completed', externalRefundId: 're_first' } });
    expect(rawEvents(app, refund.id).at(-1)?.detail).toContain('holds a second refund re_second (completed) for this refund, recorded as re_first');
  });
});

describe('applyProcessorReport: what is reported as a fault, and with what', () => {
  function serviceReporting(faults: Array<{ message: string; detail: Record<string, unknown> }>, ...processors: RefundProcessor[]): RefundService {
    return new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([new SandboxProcessor(), ...processors], { stripe: 'set STRIPE_SECRET_KEY' }),
      clock,
      onBackgroundError: (message, detail) => faults.push({ message, detail }),
      settings: settingsWith(),
      onDiscrepancy: (_message, detail) => alarms.push(detail),
    });
  }
  const unreadable = () => new ReadableProcessor(() => Promise.reject(errors.processorUnavailable('stripe')));

  it('a failed read of a linked refund: the fault names the refund and the error', async () => {
    const refund = stripeRefund('processing');
    const faults: Array<{ message: string; detail: Record<string, unknown> }> = [];
    await serviceReporting(faults, unreadable()).applyProcessorReport(report('completed'));
    expect(faults).toEqual([
      { message: 'status read after a processor report failed; using the report', detail: { refundId: refund.id, error: errors.processorUnavailable('stripe').message } },
    ]);
  });

  it('a failed read of a refund named by our id: the report is used, the discrepancy recorded, and the fault reported', async () => {
    const refund = insertRefund(app, org, { status: 'cancelled', processor: 'stripe', externalRefundId: null });
    const faults: Array<{ message: string; detail: Record<string, unknown> }> = [];
    const outcome = await serviceReporting(faults, unreadable()).applyProcessorReport({ ...report('processing', 're_unreadable'), refundId: refund.id });
    expect(outcome).toMatchObject({ changed: false, discrepancy: true, statusFrom: 'report', refund: { status: 'cancelled' } });
    expect(faults).toEqual([
      { message: 'status read after a processor report failed; using the report', detail: { refundId: refund.id, error: errors.processorUnavailable('stripe').message } },
    ]);
    expect(await app.refunds.listDiscrepancies(org)).toEqual([expect.objectContaining({ refundId: refund.id, externalRefundId: 're_unreadable', processorStatus: 'processing' })]);
  });

  it('a refund named by our id at a processor not configured here: nothing is read, and nothing is a fault', async () => {
    const refund = insertRefund(app, org, { status: 'failed', processor: 'stripe', externalRefundId: null });
    const faults: Array<{ message: string; detail: Record<string, unknown> }> = [];
    const outcome = await serviceReporting(faults).applyProcessorReport({ ...report('completed', 're_notConfigured'), refundId: refund.id });
    expect(outcome).toMatchObject({ changed: false, discrepancy: true, statusFrom: 'report' });
    expect(faults).toEqual([]);
  });
});
