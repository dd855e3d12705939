/**
 * The SQLite refund store: the shared RefundStore contract (test/store/contract/), then what only
 * SQLite has: the schema's constraints and triggers (which must hold even for raw SQL), and index
 * use by the store's own queries.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../../src/app.js';
import { REFUND_STATUSES, canTransition } from '../../../src/domain/refund.js';
import { SqliteRefundStore } from '../../../src/store/sqlite/refund-store.js';
import { cleanupAll, createOrg, createTestApp, insertRefund, rawEvents, storedStatus } from '../../support/fixtures.js';
import { refundStoreContract } from '../contract/refund-store.js';
import { sqliteStores } from './harness.js';

refundStoreContract(sqliteStores);

let app: App;
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
});
