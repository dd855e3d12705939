import { describe, expect, it } from 'vitest';
import type { RefundProcessor } from '../../src/domain/ports.js';
import type { Refund } from '../../src/domain/refund.js';
import { canTransition } from '../../src/domain/refund.js';
import {
  SANDBOX_PROCESSOR,
  SandboxProcessor,
  sandboxRefundId,
  sandboxRefusesCancel,
} from '../../src/processors/sandbox.js';

function refund(amount: number, status: Refund['status'] = 'processing'): Refund {
  return {
    id: 'ref_abc123def456',
    organizationId: 'org_abc123def456',
    externalRefundId: 'sbx_re_1',
    transactionId: 'sbx_ch_1',
    amount,
    currency: 'usd',
    reason: 'other',
    status,
    processor: 'sandbox',
    metadata: null,
    initiatedBy: 'api',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('SandboxProcessor', () => {
  it('is named sandbox', () => {
    expect(new SandboxProcessor().name).toBe('sandbox');
    expect(SANDBOX_PROCESSOR).toBe('sandbox');
  });

  it.each([99, 199, 4999, 7999, 100099])('refuses to cancel %i (ends in 99) and reports it completed', async (amount) => {
    const outcome = await new SandboxProcessor().cancel(refund(amount));
    expect(outcome.accepted).toBe(false);
    if (outcome.accepted) return;
    expect(outcome.status).toBe('completed');
    expect(canTransition('processing', outcome.status)).toBe(true);
    expect(outcome.reason).toMatch(/99/);
  });

  it.each([1, 98, 100, 990, 2000, 9900, 1999 + 1, 5098])('accepts cancelling %i', async (amount) => {
    expect(await new SandboxProcessor().cancel(refund(amount))).toEqual({ accepted: true });
  });

  it('is deterministic: the same refund always gets the same answer', async () => {
    const sandbox = new SandboxProcessor();
    const answers = await Promise.all([1, 2, 3].map(() => sandbox.cancel(refund(4999))));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  it('sandboxRefusesCancel is the documented rule', () => {
    expect(sandboxRefusesCancel(4999)).toBe(true);
    expect(sandboxRefusesCancel(5000)).toBe(false);
    expect(sandboxRefusesCancel(9)).toBe(false);
  });
});

describe('SandboxProcessor submission and status reads (the documented table)', () => {
  // Used through the port, the way the service sees it.
  const port = (): RefundProcessor => new SandboxProcessor();

  it('submits with an id derived from ours, so every retry agrees', async () => {
    const sandbox = port();
    const outcome = await sandbox.submit(refund(2500, 'pending'), 1);
    expect(outcome).toEqual({ kind: 'submitted', externalRefundId: 'sbx_re_abc123def456', status: 'processing' });
    expect(await sandbox.submit(refund(2500, 'pending'), 2)).toEqual(outcome);
    expect(sandboxRefundId(refund(1))).toBe('sbx_re_abc123def456');
  });

  it.each([13, 1313, 5013])('rejects submitting %i (ends in 13)', async (amount) => {
    const outcome = await port().submit(refund(amount, 'pending'), 1);
    expect(outcome.kind).toBe('rejected');
  });

  it('reads back completed for amounts ending in 99, the current status otherwise', async () => {
    const sandbox = port();
    expect((await sandbox.retrieve(refund(4999))).status).toBe('completed');
    expect((await sandbox.retrieve(refund(2500))).status).toBe('processing');
  });

  it('never finds an interrupted submission (it keeps no state)', async () => {
    expect(await port().findSubmitted(refund(2500, 'pending'))).toBeNull();
  });
});
