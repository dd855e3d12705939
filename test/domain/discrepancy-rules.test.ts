/**
 * What counts as a discrepancy (money moving at the processor for a refund we hold otherwise, or a
 * second refund there for one of ours), and what noting one records and alarms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createContext } from '../../src/domain/context.js';
import { isDiscrepancy, noteDiscrepancy } from '../../src/domain/discrepancies.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, insertRefund, rawEvents, settingsWith } from '../support/fixtures.js';

const ours = (status: RefundStatus, externalRefundId: string | null): Refund => ({
  id: 'ref_rules0000001',
  organizationId: 'org_rules0000001',
  externalRefundId,
  transactionId: 'ch_rules',
  amount: 100,
  currency: 'usd',
  reason: 'other',
  status,
  processor: 'stripe',
  metadata: null,
  initiatedBy: 'api',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

afterEach(() => cleanupAll());

describe('isDiscrepancy', () => {
  it('money moving there for a refund we hold as cancelled or failed', () => {
    for (const our of ['cancelled', 'failed'] as const) {
      for (const there of ['processing', 'completed'] as const) expect(isDiscrepancy(ours(our, null), { externalRefundId: 're_1', status: there }), `${our}/${there}`).toBe(true);
      for (const there of ['pending', 'failed', 'cancelled'] as const) expect(isDiscrepancy(ours(our, null), { externalRefundId: 're_1', status: there }), `${our}/${there}`).toBe(false);
    }
  });

  it('money moving there for a refund we hold as moving too: only when it is a second refund', () => {
    for (const our of ['pending', 'processing', 'completed'] as const) {
      expect(isDiscrepancy(ours(our, 're_1'), { externalRefundId: 're_1', status: 'completed' }), our).toBe(false);
      expect(isDiscrepancy(ours(our, null), { externalRefundId: 're_1', status: 'completed' }), our).toBe(false);
      expect(isDiscrepancy(ours(our, 're_1'), { externalRefundId: 're_2', status: 'processing' }), our).toBe(true);
    }
    // A second refund that moves no money is nothing to reconcile.
    expect(isDiscrepancy(ours('completed', 're_1'), { externalRefundId: 're_2', status: 'failed' })).toBe(false);
  });
});

describe('noteDiscrepancy', () => {
  function setup() {
    const app = createTestApp();
    const org = createOrg(app);
    const alarms: Array<{ message: string; detail: Record<string, unknown> }> = [];
    const ctx = createContext({
      store: app.refunds,
      processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
      clock: new FakeClock(),
      settings: settingsWith(),
      onDiscrepancy: (message, detail) => alarms.push({ message, detail }),
    });
    return { app, org, ctx, alarms };
  }

  it('a second refund there: recorded once in the trail and the list, alarmed once, the status left alone', async () => {
    const { app, org, ctx, alarms } = setup();
    const refund = insertRefund(app, org.id, { status: 'completed', processor: 'sandbox', externalRefundId: 're_first' });
    const remote = { externalRefundId: 're_second', status: 'completed' as const };
    expect(await noteDiscrepancy(ctx, refund, remote, 'webhook')).toBe(true);
    expect(await noteDiscrepancy(ctx, refund, remote, 'webhook')).toBe(false);
    expect(rawEvents(app, refund.id).at(-1)?.detail).toBe(
      'discrepancy: sandbox holds a second refund re_second (completed) for this refund, recorded as re_first; found by webhook. The status is left as recorded: money may have moved, an operator must reconcile it',
    );
    expect(alarms).toEqual([
      {
        message: 'discrepancy: the processor holds money moving for a refund we hold otherwise',
        detail: { refundId: refund.id, organizationId: org.id, status: 'completed', processor: 'sandbox', externalRefundId: 're_second', processorStatus: 'completed', source: 'webhook' },
      },
    ]);
    expect((await app.refunds.listDiscrepancies(org.id)).map((d) => d.externalRefundId)).toEqual(['re_second']);
    expect((await app.refunds.findById(org.id, refund.id))?.status).toBe('completed');
  });

  it('money moving for a refund we cancelled: the trail says what each side holds', async () => {
    const { app, org, ctx } = setup();
    const refund = insertRefund(app, org.id, { status: 'cancelled', processor: 'sandbox', externalRefundId: null });
    await noteDiscrepancy(ctx, refund, { externalRefundId: 're_late', status: 'processing' }, 'late-landing watch');
    expect(rawEvents(app, refund.id).at(-1)?.detail).toMatch(/^discrepancy: sandbox holds re_late as processing while this refund is cancelled; found by late-landing watch\./);
  });

  it('money moving for a refund we cancelled, under the id we hold: not called a second refund', async () => {
    const { app, org, ctx } = setup();
    const refund = insertRefund(app, org.id, { status: 'cancelled', processor: 'sandbox', externalRefundId: 're_same' });
    expect(await noteDiscrepancy(ctx, refund, { externalRefundId: 're_same', status: 'completed' }, 'webhook')).toBe(true);
    expect(rawEvents(app, refund.id).at(-1)?.detail).toBe(
      'discrepancy: sandbox holds re_same as completed while this refund is cancelled; found by webhook. The status is left as recorded: money may have moved, an operator must reconcile it',
    );
  });
});
