/**
 * The SQLite refund store: the shared RefundStore contract (test/store/contract/), then what only
 * SQLite has: the schema's constraints and triggers (which must hold even for raw SQL), and index
 * use by the store's own queries.
 */
import type { Statement } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SqliteApp } from '../../../src/app.js';
import { REFUND_STATUSES, canTransition } from '../../../src/domain/refund.js';
import { DEFERRED_JOIN_FROM_OFFSET } from '../../../src/store/paging.js';
import { SqliteRefundStore } from '../../../src/store/sqlite/refund-store.js';
import { cleanupAll, createOrg, createTestApp, insertRefund, rawEvents, storedStatus } from '../../support/fixtures.js';
import { lateLandingContract } from '../contract/late-landings.js';
import { refundStoreContract } from '../contract/refund-store.js';
import { sqliteStores } from './harness.js';

refundStoreContract(sqliteStores);
lateLandingContract(sqliteStores);

let app: SqliteApp;
let org: string;
let other: string;

beforeEach(() => {
  app = createTestApp();
  org = createOrg(app, 'Org').id;
  other = createOrg(app, 'Other').id;
});

afterEach(() => {
  cleanupAll();
});

let rawCounter = 0;
function rawRefundRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  rawCounter += 1;
  return {
    id: `ref_raw${String(rawCounter).padStart(9, '0')}`,
    organization_id: org,
    external_refund_id: null,
    transaction_id: 'ch_raw',
    amount: 1000,
    currency: 'usd',
    reason: 'other',
    status: 'pending',
    processor: 'sandbox',
    metadata: null,
    initiated_by: 'api',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function rawInsert(overrides: Record<string, unknown> = {}): string {
  const row = rawRefundRow(overrides);
  app.db
    .prepare(
      `INSERT INTO refunds (id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
        processor, metadata, initiated_by, created_at, updated_at)
       VALUES (@id, @organization_id, @external_refund_id, @transaction_id, @amount, @currency, @reason, @status,
        @processor, @metadata, @initiated_by, @created_at, @updated_at)`,
    )
    .run(row);
  return row.id as string;
}

describe('CHECK constraints (raw SQL)', () => {
  it('a valid raw row is accepted (so the rejections below are about the one bad column)', () => {
    const id = rawInsert();
    expect(storedStatus(app, id)).toBe('pending');
    expect(rawInsert({ metadata: '{"a":"b"}' })).toMatch(/^ref_/);
  });

  it.each([
    ['status', 'canceled'],
    ['status', 'PENDING'],
    ['status', ''],
    ['initiated_by', 'system'],
    ['initiated_by', 'cli'],
    ['amount', 0],
    ['amount', -100],
    ['amount', 10.5],
    ['amount', 'abc'],
    ['amount', '10.5'],
    ['currency', 'USD'],
    ['currency', 'us'],
    ['currency', 'usdd'],
    ['currency', 'u1d'],
    ['metadata', '[1,2]'],
    ['metadata', '"text"'],
    ['metadata', '42'],
    ['metadata', 'not json'],
    ['id', 'ref_ABCDEFGHIJKL'],
    ['id', 'abc'],
    ['transaction_id', ''],
    ['reason', ''],
    ['processor', ''],
  ])('rejects %s = %j', (column, value) => {
    expect(() => rawInsert({ [column]: value })).toThrow(/CHECK constraint failed/);
  });

  it('rejects a refund of an organization that does not exist', () => {
    expect(() => rawInsert({ organization_id: 'org_nosuchorgxxx' })).toThrow(/FOREIGN KEY/);
  });

  it('rejects a duplicate id', () => {
    const id = rawInsert();
    expect(() => rawInsert({ id })).toThrow(/UNIQUE|PRIMARY KEY/);
  });

  it('the store refuses what the schema refuses', () => {
    expect(() => insertRefund(app, org, { amount: 0 })).toThrow(/CHECK constraint failed/);
    expect(() => insertRefund(app, org, { currency: 'USD' })).toThrow(/CHECK constraint failed/);
  });
});

describe('status transition trigger (raw SQL)', () => {
  const pairs = REFUND_STATUSES.flatMap((from) =>
    REFUND_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const),
  );

  it.each(pairs)('%s -> %s is accepted only when the status machine allows it', (from, to) => {
    const id = rawInsert({ status: from });
    const update = () => app.db.prepare('UPDATE refunds SET status = ? WHERE id = ?').run(to, id);
    if (canTransition(from, to)) {
      expect(update().changes).toBe(1);
      expect(storedStatus(app, id)).toBe(to);
    } else {
      expect(update).toThrow(/illegal refund status transition/);
      expect(storedStatus(app, id)).toBe(from);
    }
  });

  it('an UPDATE that leaves the status alone is allowed (other columns may change)', () => {
    const id = rawInsert({ status: 'cancelled' });
    app.db.prepare("UPDATE refunds SET updated_at = '2027-01-01T00:00:00.000Z' WHERE id = ?").run(id);
    expect(storedStatus(app, id)).toBe('cancelled');
  });
});

describe('refund_events is append-only', () => {
  it('UPDATE and DELETE throw and change nothing', () => {
    const refund = insertRefund(app, org);
    const before = rawEvents(app, refund.id);
    expect(before).toHaveLength(1);
    expect(() => app.db.prepare("UPDATE refund_events SET detail = 'x' WHERE refund_id = ?").run(refund.id)).toThrow(
      /append-only/,
    );
    expect(() => app.db.prepare('DELETE FROM refund_events WHERE refund_id = ?').run(refund.id)).toThrow(/append-only/);
    expect(() => app.db.prepare('DELETE FROM refund_events').run()).toThrow(/append-only/);
    expect(rawEvents(app, refund.id)).toEqual(before);
  });

  it('rejects a bad actor or status in an event row', () => {
    const refund = insertRefund(app, org);
    const insert = (to: string, by: string) =>
      app.db
        .prepare(
          `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at)
           VALUES (?, ?, 'pending', ?, ?, '2026-01-01T00:00:00.000Z')`,
        )
        .run(refund.id, org, to, by);
    expect(insert('cancelled', 'system').changes).toBe(1);
    expect(() => insert('canceled', 'system')).toThrow(/CHECK constraint failed/);
    expect(() => insert('cancelled', 'robot')).toThrow(/CHECK constraint failed/);
  });
});

describe('insert (SQLite)', () => {
  it('null metadata stays null (not the string "null")', () => {
    const refund = insertRefund(app, org, { metadata: null });
    expect(refund.metadata).toBeNull();
    const raw = app.db.prepare<[string], { m: string | null }>('SELECT metadata AS m FROM refunds WHERE id = ?').get(refund.id);
    expect(raw?.m).toBeNull();
  });
});

// Deep pages (offset 5,000 and on take the deferred join) are in the store contract suite.

describe('query plans', () => {
  /** The SQL the store really runs for each filter combination, captured as it is prepared. */
  function capturedListSql(): Map<string, string> {
    const prepare = vi.spyOn(app.db, 'prepare');
    const store = new SqliteRefundStore(app.db);
    const byFilter = new Map<string, string>();
    const filters = {
      none: {},
      status: { status: 'pending' as const },
      processor: { processor: 'stripe' },
      both: { status: 'pending' as const, processor: 'stripe' },
    };
    for (const [name, filter] of Object.entries(filters)) {
      prepare.mockClear();
      void store.list(org, filter, { limit: 5, offset: 0 });
      const sql = prepare.mock.calls.map((call) => call[0]).find((s) => /FROM refunds/i.test(s));
      expect(sql, `list SQL for ${name}`).toBeDefined();
      byFilter.set(name, sql!);
    }
    prepare.mockRestore();
    return byFilter;
  }

  interface PlanRow {
    id: number;
    parent: number;
    detail: string;
  }

  const EXPECTED_INDEX: Record<string, string> = {
    none: 'refunds_by_org',
    status: 'refunds_by_org_status',
    processor: 'refunds_by_org_processor',
    both: 'refunds_by_org_status_processor',
  };

  function assertIndexedPlans(): void {
    for (const [name, sql] of capturedListSql()) {
      const plan = app.db
        .prepare<Record<string, unknown>, PlanRow>(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ organizationId: org, status: 'pending', processor: 'stripe', limit: 26, offset: 0 });
      const text = plan.map((row) => row.detail).join('\n');
      // No full scan of the table anywhere (a SCAN of an index or of the page itself is fine).
      expect(text, name).not.toMatch(/\bSCAN refunds\b(?! USING (COVERING )?INDEX)/);
      expect(text, name).toMatch(new RegExp(`USING (COVERING )?INDEX ${EXPECTED_INDEX[name]!} \\(`));
      // Any sort must be over the page only (the outer query, at most `limit` rows), never inside
      // the step that walks the organization's rows.
      const inner = new Set<number>();
      for (const row of plan) {
        if (/SUBQUERY|CO-ROUTINE|MATERIALIZE/.test(row.detail) || inner.has(row.parent)) inner.add(row.id);
      }
      const innerSorts = plan.filter((row) => inner.has(row.id) && /TEMP B-TREE/.test(row.detail));
      expect(innerSorts, `${name}:\n${text}`).toEqual([]);
    }
  }

  it('every filter combination walks its index: no table scan, no sort over the matching rows', () => {
    for (let i = 0; i < 30; i += 1) {
      insertRefund(app, i % 2 === 0 ? org : other, {
        status: REFUND_STATUSES[i % 5]!,
        processor: i % 3 === 0 ? 'stripe' : 'sandbox',
      });
    }
    assertIndexedPlans();
  });

  it('still does with table statistics (ANALYZE) on a realistically sized table', () => {
    const insert = app.db.prepare(
      `INSERT INTO refunds (id, organization_id, transaction_id, amount, currency, reason, status, processor,
         initiated_by, created_at, updated_at)
       VALUES (?, ?, 'ch_x', 100, 'usd', 'other', ?, ?, 'api', ?, ?)`,
    );
    app.db.transaction(() => {
      for (let i = 0; i < 3000; i += 1) {
        const at = new Date(Date.parse('2025-01-01T00:00:00.000Z') + i * 1000).toISOString();
        insert.run(`ref_s${String(i).padStart(11, '0')}`, i % 2 === 0 ? org : other, REFUND_STATUSES[i % 5], i % 3 === 0 ? 'stripe' : 'sandbox', at, at);
      }
    })();
    app.db.exec('ANALYZE');
    assertIndexedPlans();
  });

  it(`from offset ${DEFERRED_JOIN_FROM_OFFSET} on, a page's rows are chosen inside the index (covering, no row read); before it, read straight along it`, async () => {
    for (let i = 0; i < 30; i += 1) {
      insertRefund(app, i % 2 === 0 ? org : other, { status: REFUND_STATUSES[i % 5]!, processor: i % 3 === 0 ? 'stripe' : 'sandbox' });
    }
    // The statement the store really runs for a page: one store, so its statement cache is in play.
    const all = vi.spyOn(Object.getPrototypeOf(app.db.prepare('SELECT 1')) as Statement, 'all');
    const store = new SqliteRefundStore(app.db);
    const filters = { none: {}, status: { status: 'pending' as const }, processor: { processor: 'stripe' }, both: { status: 'pending' as const, processor: 'stripe' } };
    try {
      for (const [name, filter] of Object.entries(filters)) {
        for (const offset of [0, DEFERRED_JOIN_FROM_OFFSET - 1, DEFERRED_JOIN_FROM_OFFSET, DEFERRED_JOIN_FROM_OFFSET * 20]) {
          all.mockClear();
          await store.list(org, filter, { limit: 26, offset });
          const statement = all.mock.contexts.at(-1) as Statement | undefined;
          expect(statement, `${name} at ${offset}`).toBeDefined();
          const plan = app.db
            .prepare<Record<string, unknown>, PlanRow>(`EXPLAIN QUERY PLAN ${statement!.source}`)
            .all({ organizationId: org, status: 'pending', processor: 'stripe', limit: 26, offset });
          const text = plan.map((row) => row.detail).join('\n');
          if (offset >= DEFERRED_JOIN_FROM_OFFSET) {
            expect(text, `${name} at ${offset}`).toMatch(new RegExp(`SUBQUERY[^]*USING COVERING INDEX ${EXPECTED_INDEX[name]!} \\(`));
          } else {
            expect(text, `${name} at ${offset}`).not.toMatch(/SUBQUERY|COVERING/);
            expect(text, `${name} at ${offset}`).toMatch(new RegExp(`^SEARCH refunds USING INDEX ${EXPECTED_INDEX[name]!} \\(`));
          }
        }
      }
    } finally {
      all.mockRestore();
    }
  });
});

describe('texts we compose are masked on the way in', () => {
  // Made up here: what a processor error or a caller's text may quote.
  const KEY = `sk_test_${'Q'.repeat(12)}storeMaskingOnly0000`;
  const API_KEY = `rk_live_${'Z'.repeat(12)}storeMaskingOnly0000`;

  function rawLastError(id: string): string | null {
    return app.db.prepare<[string], { last_error: string | null }>('SELECT last_error FROM refunds WHERE id = ?').get(id)?.last_error ?? null;
  }

  it('an event detail and a last error that quote credentials (glued to other text, or percent-encoded) keep only the masked form', async () => {
    const T0 = '2026-05-05T05:00:00.000Z';
    await app.refunds.create({
      id: 'ref_masked000001',
      organizationId: org,
      transactionId: 'ch_masked',
      amount: 1000,
      currency: 'usd',
      reason: 'other',
      processor: 'stripe',
      metadata: { note: 'kept as the caller sent it' },
      initiatedBy: 'api',
      createdAt: T0,
      submitAt: T0,
      idempotencyKey: null,
      requestFingerprint: null,
    });
    expect(await app.refunds.claimForSubmission('ref_masked000001', 't', T0, '2026-05-05T05:01:00.000Z')).not.toBeNull();
    await app.refunds.releaseClaim('ref_masked000001', 't', { retryAt: T0, error: `upstream said: invalid key x${KEY} (key=${API_KEY.slice(0, 9)}%${API_KEY.charCodeAt(9).toString(16)}${API_KEY.slice(10)})` });
    await app.refunds.transition({
      organizationId: org,
      refundId: 'ref_masked000001',
      from: 'pending',
      to: 'failed',
      actor: 'system',
      at: '2026-05-05T05:00:01.000Z',
      detail: `rejected by stripe: No such charge; request made with key_${KEY}`,
    });
    const stored = [rawLastError('ref_masked000001') ?? '', ...rawEvents(app, 'ref_masked000001').map((e) => e.detail ?? '')].join('\n');
    for (const secret of [KEY, API_KEY]) expect(stored).not.toContain(secret.slice(-16));
    expect(rawLastError('ref_masked000001')).toBe('upstream said: invalid key xsk_test_…[redacted] (key=rk_live_…[redacted])');
    expect(rawEvents(app, 'ref_masked000001').at(-1)?.detail).toBe('rejected by stripe: No such charge; request made with key_sk_test_…[redacted]');
    // The caller's own data is theirs, returned to them as they sent it.
    expect((await app.refunds.findById(org, 'ref_masked000001'))?.metadata).toEqual({ note: 'kept as the caller sent it' });
  });
});

describe('due work, by processor', () => {
  const T0 = '2026-06-01T00:00:00.000Z';
  const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
  let n = 0;
  function duePending(processor: string, dueAt: string): string {
    n += 1;
    const id = `ref_dueby${String(n).padStart(7, '0')}`;
    insertRefund(app, n % 2 === 0 ? org : other, { id, transactionId: 'ch_due', amount: 1000, reason: 'other', processor, createdAt: dueAt });
    app.db.prepare('UPDATE refunds SET next_attempt_at = ? WHERE id = ?').run(dueAt, id);
    return id;
  }
  function dueProcessing(processor: string, dueAt: string): string {
    const id = insertRefund(app, org, { status: 'processing', processor }).id;
    app.db.prepare('UPDATE refunds SET next_sync_at = ? WHERE id = ?').run(dueAt, id);
    return id;
  }
  const ids = (rows: Array<{ id: string }>): string[] => rows.map((row) => row.id);

  it('selects only refunds of the processors asked for, oldest first, the limit counting only those', async () => {
    const stripe = [duePending('stripe', at(0)), duePending('stripe', at(1)), duePending('stripe', at(2))];
    const sandbox = [duePending('sandbox', at(3)), duePending('sandbox', at(4))];
    const now = at(10);
    expect(ids(await app.refunds.dueForSubmission(now, 2, ['sandbox']))).toEqual(sandbox);
    expect(ids(await app.refunds.dueForSubmission(now, 2, ['stripe']))).toEqual(stripe.slice(0, 2));
    expect(ids(await app.refunds.dueForSubmission(now, 10, ['sandbox', 'stripe']))).toEqual([...stripe, ...sandbox]);
    expect(ids(await app.refunds.dueForSubmission(now, 10, ['other']))).toEqual([]);
    expect(await app.refunds.dueForSubmission(now, 10, [])).toEqual([]);

    const reads = [dueProcessing('stripe', at(0)), dueProcessing('sandbox', at(1)), dueProcessing('stripe', at(2))];
    expect(ids(await app.refunds.dueForSync(now, 1, ['sandbox']))).toEqual([reads[1]]);
    expect(ids(await app.refunds.dueForSync(now, 10, ['stripe']))).toEqual([reads[0], reads[2]]);
    expect(ids(await app.refunds.dueForSync(now, 10, ['stripe', 'sandbox']))).toEqual(reads);
    expect(await app.refunds.dueForSync(now, 10, [])).toEqual([]);
  });

  it('a release after an attempt that sent nothing takes the attempt back and keeps schedule and error', async () => {
    const id = duePending('stripe', at(0));
    await app.refunds.claimForSubmission(id, 'a', at(1), at(60));
    await app.refunds.releaseClaim(id, 'a', { retryAt: at(5), error: 'timed out', inDoubtUntil: at(40) });
    await app.refunds.claimForSubmission(id, 'b', at(6), at(66));
    await app.refunds.releaseClaim(id, 'b', { sentNothing: true });
    expect(app.db.prepare('SELECT attempts, last_error, next_attempt_at, in_doubt_until, claim_token FROM refunds WHERE id = ?').get(id)).toEqual({
      attempts: 1,
      last_error: 'timed out',
      next_attempt_at: at(5),
      in_doubt_until: at(40),
      claim_token: null,
    });
  });

  /** The SQL the store runs for each due query, captured as it is prepared. */
  function capturedDueSql(processors: string[]): Map<string, string> {
    const prepare = vi.spyOn(app.db, 'prepare');
    const store = new SqliteRefundStore(app.db);
    const byQuery = new Map<string, string>();
    const runs: Record<string, () => unknown> = {
      dueForSubmission: () => store.dueForSubmission(at(0), 50, processors),
      dueForSync: () => store.dueForSync(at(0), 50, processors),
    };
    for (const [name, run] of Object.entries(runs)) {
      prepare.mockClear();
      run();
      const sql = prepare.mock.calls.map((call) => call[0]).find((s) => /FROM refunds/i.test(s));
      expect(sql, name).toBeDefined();
      byQuery.set(name, sql!);
    }
    prepare.mockRestore();
    return byQuery;
  }

  const DUE_INDEX: Record<string, string> = { dueForSubmission: 'refunds_due_submission', dueForSync: 'refunds_due_sync' };

  function assertDuePlans(): void {
    for (const processors of [['stripe'], ['sandbox', 'stripe']]) {
      for (const [name, sql] of capturedDueSql(processors)) {
        const params: Record<string, unknown> = { now: at(0), limit: 50 };
        processors.forEach((p, i) => (params[`p${i}`] = p));
        const plan = app.db.prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(params);
        const text = plan.map((row) => row.detail).join('\n');
        // The due index, in due order: neither a walk over every refund a processor ever held
        // (refunds_by_external_id) nor a sort of them.
        expect(text, `${name} ${processors.join(',')}`).toMatch(new RegExp(`^SEARCH refunds USING INDEX ${DUE_INDEX[name]!} \\(`));
        expect(text, `${name} ${processors.join(',')}`).not.toMatch(/TEMP B-TREE|refunds_by_external_id/);
      }
    }
  }

  it('each due query walks its due index, whatever the processors, without table statistics', () => {
    for (let i = 0; i < 20; i += 1) insertRefund(app, org, { status: REFUND_STATUSES[i % 5]!, processor: i % 2 === 0 ? 'stripe' : 'sandbox' });
    assertDuePlans();
  });

  it('and with them (ANALYZE), on a table of mostly settled refunds', () => {
    const insert = app.db.prepare(
      `INSERT INTO refunds (id, organization_id, transaction_id, amount, currency, reason, status, processor, initiated_by,
         created_at, updated_at, external_refund_id, next_attempt_at, next_sync_at)
       VALUES (?, ?, 'ch_x', 100, 'usd', 'other', ?, ?, 'api', ?, ?, ?, ?, ?)`,
    );
    app.db.transaction(() => {
      for (let i = 0; i < 5000; i += 1) {
        const created = new Date(Date.parse('2025-01-01T00:00:00.000Z') + i * 1000).toISOString();
        const status = i % 50 === 0 ? 'pending' : i % 50 === 1 ? 'processing' : 'completed';
        insert.run(
          `ref_d${String(i).padStart(11, '0')}`,
          org,
          status,
          i % 3 === 0 ? 'sandbox' : 'stripe',
          created,
          created,
          status === 'pending' ? null : `re_d${i}`,
          status === 'pending' ? created : null,
          status === 'processing' || i % 50 === 2 ? created : null,
        );
      }
    })();
    app.db.exec('ANALYZE');
    assertDuePlans();
  });
});

describe('discrepancies in SQLite', () => {
  it('what was found stays found: the list is append-only, even for raw SQL', async () => {
    const refund = insertRefund(app, org, { status: 'cancelled', processor: 'stripe', externalRefundId: null });
    const recorded = await app.refunds.recordDiscrepancy(
      {
        organizationId: org,
        refundId: refund.id,
        processor: 'stripe',
        externalRefundId: 're_late',
        ourStatus: 'cancelled',
        processorStatus: 'completed',
        source: 'late-landing watch',
        detectedAt: '2026-03-01T12:00:00.000Z',
      },
      'discrepancy: one',
    );
    expect(recorded).toBe(true);
    expect(storedStatus(app, refund.id)).toBe('cancelled');
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ from_status: 'cancelled', to_status: 'cancelled', initiated_by: 'system' });
    expect(() => app.db.exec('DELETE FROM refund_discrepancies')).toThrow(/append-only/);
    expect(() => app.db.exec("UPDATE refund_discrepancies SET processor_status = 'failed'")).toThrow(/append-only/);
  });
});
