/**
 * Reading refunds (queries.ts): get and list, against the real SQLite store on a temporary file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { RefundKitError } from '../../src/domain/errors.js';
import type { Clock } from '../../src/domain/ports.js';
import type { RefundStatus } from '../../src/domain/refund.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createOrg, createTestApp, insertRefund, settingsWith } from '../support/fixtures.js';

const clock: Clock = { now: () => new Date('2026-03-01T12:00:00.000Z') };

let app: SqliteApp;
let orgA: string;
let orgB: string;
let callerA: Caller;

function serviceWith(processors: StaticProcessorRegistry): RefundService {
  return new RefundService({ store: app.refunds, processors, clock, settings: settingsWith() });
}

function registry(): StaticProcessorRegistry {
  return new StaticProcessorRegistry([new SandboxProcessor()]);
}

async function getError(service: RefundService, caller: Caller, refundId: string): Promise<RefundKitError> {
  try {
    await service.get(caller, refundId);
  } catch (error) {
    expect(error).toBeInstanceOf(RefundKitError);
    return error as RefundKitError;
  }
  throw new Error('expected get to fail');
}

beforeEach(() => {
  app = createTestApp();
  orgA = createOrg(app, 'Org A').id;
  orgB = createOrg(app, 'Org B').id;
  callerA = { organizationId: orgA, actor: 'mcp' };
});

afterEach(() => {
  cleanupAll();
});

describe('get', () => {
  it('returns the refund of the caller organization', async () => {
    const refund = insertRefund(app, orgA, { metadata: { orderId: 'o_1' } });
    expect(await serviceWith(registry()).get(callerA, refund.id)).toEqual(refund);
  });

  it('an unknown id is not_found', async () => {
    const error = await getError(serviceWith(registry()), callerA, 'ref_000000000000');
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('Refund not found');
  });

  it("another organization's refund is not_found", async () => {
    const theirs = insertRefund(app, orgB);
    const error = await getError(serviceWith(registry()), callerA, theirs.id);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('Refund not found');
  });
});

describe('list', () => {
  const query = (extra: Partial<{ status: RefundStatus; processor: string; limit: number; offset: number }> = {}) => ({
    limit: 25,
    offset: 0,
    ...extra,
  });

  it('returns newest first, only the caller organization', async () => {
    const older = insertRefund(app, orgA, { createdAt: '2026-01-01T00:00:00.000Z' });
    insertRefund(app, orgB, { createdAt: '2026-01-01T12:00:00.000Z' });
    const newer = insertRefund(app, orgA, { createdAt: '2026-01-02T00:00:00.000Z' });
    const page = await serviceWith(registry()).list(callerA, query());
    expect(page.refunds.map((r) => r.id)).toEqual([newer.id, older.id]);
    expect(page).toMatchObject({ limit: 25, offset: 0, nextOffset: null });
  });

  it('filters by status, by processor, and by both', async () => {
    const a = insertRefund(app, orgA, { status: 'pending', processor: 'stripe' });
    const b = insertRefund(app, orgA, { status: 'completed', processor: 'stripe' });
    const c = insertRefund(app, orgA, { status: 'completed', processor: 'sandbox' });
    const d = insertRefund(app, orgA, { status: 'pending', processor: 'sandbox' });
    insertRefund(app, orgB, { status: 'completed', processor: 'stripe' });
    const service = serviceWith(registry());
    const ids = async (extra: Parameters<typeof query>[0]) => (await service.list(callerA, query(extra))).refunds.map((r) => r.id);
    expect(await ids({ status: 'completed' })).toEqual([c.id, b.id]);
    expect(await ids({ processor: 'stripe' })).toEqual([b.id, a.id]);
    expect(await ids({ status: 'pending', processor: 'sandbox' })).toEqual([d.id]);
    expect(await ids({ status: 'failed' })).toEqual([]);
    expect(await ids({ processor: 'adyen' })).toEqual([]);
  });

  it('pages with limit, offset and nextOffset', async () => {
    const created = Array.from({ length: 7 }, () => insertRefund(app, orgA));
    const newestFirst = created.map((r) => r.id).reverse();
    const service = serviceWith(registry());
    const first = await service.list(callerA, query({ limit: 3 }));
    expect(first.refunds.map((r) => r.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.nextOffset).toBe(3);
    const second = await service.list(callerA, query({ limit: 3, offset: 3 }));
    expect(second.refunds.map((r) => r.id)).toEqual(newestFirst.slice(3, 6));
    expect(second.nextOffset).toBe(6);
    const last = await service.list(callerA, query({ limit: 3, offset: 6 }));
    expect(last.refunds.map((r) => r.id)).toEqual(newestFirst.slice(6));
    expect(last).toMatchObject({ limit: 3, offset: 6, nextOffset: null });
  });

  it('nextOffset is null on the last page when the count is an exact multiple of limit', async () => {
    Array.from({ length: 6 }, () => insertRefund(app, orgA));
    const service = serviceWith(registry());
    expect((await service.list(callerA, query({ limit: 3 }))).nextOffset).toBe(3);
    const last = await service.list(callerA, query({ limit: 3, offset: 3 }));
    expect(last.refunds).toHaveLength(3);
    expect(last.nextOffset).toBeNull();
    expect((await service.list(callerA, query({ limit: 6 }))).nextOffset).toBeNull();
  });

  it('an offset past the end is an empty last page', async () => {
    insertRefund(app, orgA);
    const page = await serviceWith(registry()).list(callerA, query({ limit: 10, offset: 5 }));
    expect(page).toEqual({ refunds: [], limit: 10, offset: 5, nextOffset: null });
  });

  it('an offset at the largest safe integer is still an empty last page, not a fault', async () => {
    insertRefund(app, orgA);
    const page = await serviceWith(registry()).list(callerA, query({ limit: 100, offset: Number.MAX_SAFE_INTEGER }));
    expect(page.refunds).toEqual([]);
    expect(page.nextOffset).toBeNull();
  });

  it('an organization without refunds gets an empty page', async () => {
    insertRefund(app, orgB);
    expect((await serviceWith(registry()).list(callerA, query())).refunds).toEqual([]);
  });
});
