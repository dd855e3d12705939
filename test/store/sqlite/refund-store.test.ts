/**
 * The refund store against a real SQLite file: the schema's constraints and triggers (which must
 * hold even for raw SQL), the guarded status change, the audit trail, ordering and index use.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../../src/app.js';
import { REFUND_STATUSES, canTransition, type RefundStatus } from '../../../src/domain/refund.js';
import { SqliteRefundStore } from '../../../src/store/sqlite/refund-store.js';
import { cleanupAll, createOrg, createTestApp, insertRefund, rawEvents, storedStatus } from '../../support/fixtures.js';

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

describe('insert', () => {
  it('stores the refund as given and writes a creation event', () => {
    const refund = insertRefund(app, org, {
      status: 'pending',
      metadata: { orderId: 'order_1', note: 'ünïcödé ✓' },
      initiatedBy: 'dashboard',
      createdAt: '2026-02-02T02:02:02.000Z',
    });
    expect(app.refunds.findById(org, refund.id)).toEqual(refund);
    expect(refund.metadata).toEqual({ orderId: 'order_1', note: 'ünïcödé ✓' });
    expect(refund.externalRefundId).toBeNull();
    const events = app.refunds.events(org, refund.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      refundId: refund.id,
      organizationId: org,
      from: null,
      to: 'pending',
      initiatedBy: 'dashboard',
      createdAt: '2026-02-02T02:02:02.000Z',
      detail: null,
    });
  });

  it('null metadata stays null (not the string "null")', () => {
    const refund = insertRefund(app, org, { metadata: null });
    expect(refund.metadata).toBeNull();
    const raw = app.db.prepare<[string], { m: string | null }>('SELECT metadata AS m FROM refunds WHERE id = ?').get(refund.id);
    expect(raw?.m).toBeNull();
  });

  it('takes an explicit actor and detail for the creation event', () => {
    const refund = app.refunds.insert(
      {
        id: 'ref_abcdefabcdef',
        organizationId: org,
        externalRefundId: null,
        transactionId: 'ch_1',
        amount: 100,
        currency: 'eur',
        reason: 'other',
        status: 'pending',
        processor: 'stripe',
        metadata: null,
        initiatedBy: 'api',
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      },
      'system',
      'imported',
    );
    expect(app.refunds.events(org, refund.id)[0]).toMatchObject({ initiatedBy: 'system', detail: 'imported' });
  });

  it('a rejected insert leaves no event behind', () => {
    expect(() => insertRefund(app, org, { id: 'ref_badbadbadbad', amount: -1 })).toThrow();
    expect(rawEvents(app, 'ref_badbadbadbad')).toEqual([]);
  });
});

describe('findById', () => {
  it('is scoped to the organization', () => {
    const refund = insertRefund(app, org);
    expect(app.refunds.findById(org, refund.id)).not.toBeNull();
    expect(app.refunds.findById(other, refund.id)).toBeNull();
    expect(app.refunds.findById(org, 'ref_nonexistent00')).toBeNull();
  });
});

describe('transition', () => {
  const change = (refundId: string, from: RefundStatus, to: RefundStatus, organizationId = org) => ({
    organizationId,
    refundId,
    from,
    to,
    actor: 'mcp' as const,
    at: '2026-05-05T05:05:05.000Z',
    detail: 'why',
  });

  it('moves the status, stamps updated_at and appends the event', () => {
    const refund = insertRefund(app, org, { status: 'pending' });
    const moved = app.refunds.transition(change(refund.id, 'pending', 'cancelled'));
    expect(moved).toMatchObject({ id: refund.id, status: 'cancelled', updatedAt: '2026-05-05T05:05:05.000Z' });
    expect(moved?.createdAt).toBe(refund.createdAt);
    const events = app.refunds.events(org, refund.id);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      from: 'pending',
      to: 'cancelled',
      initiatedBy: 'mcp',
      createdAt: '2026-05-05T05:05:05.000Z',
      detail: 'why',
    });
  });

  it('is conditional: a wrong `from` returns null, changes nothing and writes no event', () => {
    const refund = insertRefund(app, org, { status: 'processing' });
    expect(app.refunds.transition(change(refund.id, 'pending', 'cancelled'))).toBeNull();
    expect(app.refunds.findById(org, refund.id)).toEqual(refund);
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('the second of two identical transitions loses', () => {
    const refund = insertRefund(app, org, { status: 'pending' });
    expect(app.refunds.transition(change(refund.id, 'pending', 'cancelled'))).not.toBeNull();
    expect(app.refunds.transition(change(refund.id, 'pending', 'cancelled'))).toBeNull();
    expect(rawEvents(app, refund.id)).toHaveLength(2);
  });

  it("another organization's refund is not moved", () => {
    const refund = insertRefund(app, org, { status: 'pending' });
    expect(app.refunds.transition(change(refund.id, 'pending', 'cancelled', other))).toBeNull();
    expect(storedStatus(app, refund.id)).toBe('pending');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('an unknown refund returns null', () => {
    expect(app.refunds.transition(change('ref_nosuchrefund', 'pending', 'cancelled'))).toBeNull();
  });

  it.each([
    ['cancelled', 'pending'],
    ['failed', 'completed'],
    ['completed', 'processing'],
    ['processing', 'pending'],
  ] as const)('an illegal move %s -> %s throws before touching the row', (from, to) => {
    const refund = insertRefund(app, org, { status: from });
    expect(() => app.refunds.transition(change(refund.id, from, to))).toThrow(/illegal/);
    expect(storedStatus(app, refund.id)).toBe(from);
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('sets externalRefundId when given and keeps it otherwise', () => {
    const refund = insertRefund(app, org, { status: 'pending', externalRefundId: null });
    const submitted = app.refunds.transition({ ...change(refund.id, 'pending', 'processing'), externalRefundId: 're_abc' });
    expect(submitted?.externalRefundId).toBe('re_abc');
    const completed = app.refunds.transition(change(refund.id, 'processing', 'completed'));
    expect(completed?.externalRefundId).toBe('re_abc');
  });

  it('a null detail is stored as null', () => {
    const refund = insertRefund(app, org, { status: 'pending' });
    app.refunds.transition({ ...change(refund.id, 'pending', 'processing'), detail: null });
    expect(rawEvents(app, refund.id)[1]!.detail).toBeNull();
  });
});

describe('list', () => {
  it('is newest first with ties on created_at broken by id (descending)', () => {
    const at = '2026-03-03T03:03:03.000Z';
    const ids = ['ref_bbbbbbbbbbbb', 'ref_aaaaaaaaaaaa', 'ref_cccccccccccc'];
    for (const id of ids) insertRefund(app, org, { id, createdAt: at });
    const newer = insertRefund(app, org, { createdAt: '2026-03-04T00:00:00.000Z' });
    const older = insertRefund(app, org, { createdAt: '2026-03-02T00:00:00.000Z' });
    const listed = app.refunds.list(org, {}, { limit: 10, offset: 0 }).map((r) => r.id);
    expect(listed).toEqual([newer.id, 'ref_cccccccccccc', 'ref_bbbbbbbbbbbb', 'ref_aaaaaaaaaaaa', older.id]);
  });

  it('pages are disjoint and cover everything, even with equal timestamps', () => {
    const at = '2026-03-03T03:03:03.000Z';
    const all = Array.from({ length: 9 }, () => insertRefund(app, org, { createdAt: at }).id);
    const seen: string[] = [];
    for (let offset = 0; offset < 9; offset += 4) {
      seen.push(...app.refunds.list(org, {}, { limit: 4, offset }).map((r) => r.id));
    }
    expect(seen).toHaveLength(9);
    expect([...seen].sort()).toEqual([...all].sort());
  });

  it('returns full refunds, filtered and scoped', () => {
    const mine = insertRefund(app, org, { status: 'failed', processor: 'stripe', metadata: { k: 'v' } });
    insertRefund(app, org, { status: 'failed', processor: 'sandbox' });
    insertRefund(app, other, { status: 'failed', processor: 'stripe' });
    expect(app.refunds.list(org, { status: 'failed', processor: 'stripe' }, { limit: 10, offset: 0 })).toEqual([mine]);
    expect(app.refunds.list(other, {}, { limit: 10, offset: 0 })).toHaveLength(1);
  });
});

describe('list, deep pages (offset 5,000 and on take the deferred join)', () => {
  interface Row {
    id: string;
    organization_id: string;
    status: RefundStatus;
    processor: string;
    created_at: string;
  }

  /** 6,200 refunds of `org` (timestamps shared by threes, ids not in insertion order) and 300 of `other`. */
  function seed(): Row[] {
    const rows: Row[] = [];
    const n = 6_200;
    for (let i = 0; i < n; i += 1) {
      rows.push({
        id: `ref_d${String((i * 7_919) % n).padStart(11, '0')}`,
        organization_id: org,
        status: i % 10 === 0 ? 'completed' : 'pending',
        processor: i % 12 === 0 ? 'sandbox' : 'stripe',
        created_at: new Date(Date.parse('2025-01-01T00:00:00.000Z') + Math.floor(i / 3) * 1000).toISOString(),
      });
    }
    for (let i = 0; i < 300; i += 1) {
      rows.push({
        id: `ref_o${String(i).padStart(11, '0')}`,
        organization_id: other,
        status: 'pending',
        processor: 'stripe',
        created_at: new Date(Date.parse('2025-01-01T00:00:00.000Z') + i * 7_000).toISOString(),
      });
    }
    const insert = app.db.prepare(
      `INSERT INTO refunds (id, organization_id, transaction_id, amount, currency, reason, status, processor,
         initiated_by, created_at, updated_at)
       VALUES (@id, @organization_id, 'ch_x', 100, 'usd', 'other', @status, @processor, 'api', @created_at, @created_at)`,
    );
    app.db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
    return rows;
  }

  /** The organization's refunds matching `filter`, newest first, ties broken by id descending. */
  function expectedOrder(rows: Row[], filter: { status?: RefundStatus; processor?: string }): string[] {
    return rows
      .filter((r) => r.organization_id === org)
      .filter((r) => (filter.status === undefined || r.status === filter.status) && (filter.processor === undefined || r.processor === filter.processor))
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
      .map((r) => r.id);
  }

  it('returns exactly the rows at the offset asked, as full refunds, for every filter, on both sides of the switch', () => {
    const rows = seed();
    const filters = [{}, { status: 'pending' as const }, { processor: 'stripe' }, { status: 'pending' as const, processor: 'stripe' }];
    for (const filter of filters) {
      const expected = expectedOrder(rows, filter);
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(5_100);
      for (const offset of [4_990, 4_999, 5_000, 5_001, 5_074, expected.length - 10, expected.length]) {
        const page = app.refunds.list(org, filter, { limit: 26, offset }).map((r) => r.id);
        expect(page, `${JSON.stringify(filter)} at ${offset}`).toEqual(expected.slice(offset, offset + 26));
      }
    }
    // Full refunds, as findById reads them.
    const page = app.refunds.list(org, {}, { limit: 3, offset: 6_000 });
    expect(page).toHaveLength(3);
    for (const refund of page) expect(refund).toEqual(app.refunds.findById(org, refund.id));
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
      store.list(org, filter, { limit: 5, offset: 0 });
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

describe('claims, and the doubt an unanswered attempt leaves', () => {
  const T0 = '2026-05-05T05:00:00.000Z';
  const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
  let counter = 0;
  function duePending(): string {
    counter += 1;
    const id = `ref_claim${String(counter).padStart(7, '0')}`;
    app.refunds.create({
      id,
      organizationId: org,
      transactionId: 'ch_claims',
      amount: 1000,
      currency: 'usd',
      reason: 'other',
      processor: 'stripe',
      metadata: null,
      initiatedBy: 'mcp',
      createdAt: T0,
      submitAt: T0,
      idempotencyKey: null,
      requestFingerprint: null,
    });
    return id;
  }

  it('one claim at a time: a second claimant gets null until the lease runs out', () => {
    const id = duePending();
    expect(app.refunds.claimForSubmission(id, 'a', at(0), at(60))).toMatchObject({ token: 'a', attempt: 1 });
    expect(app.refunds.claimForSubmission(id, 'b', at(1), at(61))).toBeNull();
    expect(app.refunds.claimForCancel(id, 'c', at(1), at(61), at(1))).toBeNull();
    expect(app.refunds.submissionState(id, at(1))).toEqual({ attempts: 1, claimed: true, inDoubtUntil: null, lapsedClaimExpiredAt: null });
    expect(app.refunds.claimForSubmission(id, 'b', at(61), at(121))).toMatchObject({ token: 'b', attempt: 2 });
  });

  it('a release with inDoubtUntil records it; a cancel cannot claim until it has passed, a retry can', () => {
    const id = duePending();
    app.refunds.claimForSubmission(id, 'a', at(0), at(60));
    app.refunds.releaseClaim(id, 'a', { retryAt: at(5), error: 'timed out', inDoubtUntil: at(40) });
    expect(app.refunds.submissionState(id, at(10))).toEqual({ attempts: 1, claimed: false, inDoubtUntil: at(40), lapsedClaimExpiredAt: null });
    expect(app.refunds.claimForCancel(id, 'c', at(39), at(99), at(39))).toBeNull();
    // The dispatcher's retry carries the same idempotency key, so it may go ahead during the doubt.
    expect(app.refunds.claimForSubmission(id, 'r', at(10), at(70))).toMatchObject({ attempt: 2 });
    app.refunds.releaseClaim(id, 'r', { retryAt: at(25), error: 'timed out again', inDoubtUntil: at(50) });
    expect(app.refunds.claimForCancel(id, 'c', at(49), at(109), at(49))).toBeNull();
    expect(app.refunds.claimForCancel(id, 'c', at(50), at(110), at(50))).not.toBeNull();
  });

  it('a release without inDoubtUntil keeps the doubt an earlier attempt left', () => {
    const id = duePending();
    app.refunds.claimForSubmission(id, 'a', at(0), at(60));
    app.refunds.releaseClaim(id, 'a', { retryAt: at(1), inDoubtUntil: at(40) });
    app.refunds.claimForSubmission(id, 'b', at(1), at(61));
    app.refunds.releaseClaim(id, 'b', { retryAt: at(2), error: 'not configured' });
    expect(app.refunds.submissionState(id, at(2))?.inDoubtUntil).toBe(at(40));
  });

  it('a release by a token that no longer holds the claim changes nothing', () => {
    const id = duePending();
    app.refunds.claimForSubmission(id, 'a', at(0), at(60));
    app.refunds.releaseClaim(id, 'stale', { retryAt: at(1), inDoubtUntil: at(40) });
    expect(app.refunds.submissionState(id, at(1))).toEqual({ attempts: 1, claimed: true, inDoubtUntil: null, lapsedClaimExpiredAt: null });
  });

  it('a lapsed claim (its holder died) is reported, and a cancel may only take it once lapsedBefore is past its end', () => {
    const id = duePending();
    app.refunds.claimForSubmission(id, 'dead', at(0), at(60));
    expect(app.refunds.submissionState(id, at(61))).toEqual({ attempts: 1, claimed: false, inDoubtUntil: null, lapsedClaimExpiredAt: at(60) });
    expect(app.refunds.claimForCancel(id, 'c', at(61), at(121), at(21))).toBeNull();
    expect(app.refunds.claimForCancel(id, 'c', at(101), at(161), at(61))).not.toBeNull();
  });
});

describe('create, the guarded transition and the due lists, value by value', () => {
  const T0 = '2026-06-06T06:00:00.000Z';
  const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
  let counter = 0;
  function draft(overrides: Partial<Parameters<typeof app.refunds.create>[0]> = {}): Parameters<typeof app.refunds.create>[0] {
    counter += 1;
    return {
      id: `ref_value${String(counter).padStart(7, '0')}`,
      organizationId: org,
      transactionId: 'ch_values',
      amount: 1000,
      currency: 'usd',
      reason: 'other',
      processor: 'stripe',
      metadata: { orderId: 'o_1' },
      initiatedBy: 'api',
      createdAt: T0,
      submitAt: T0,
      idempotencyKey: null,
      requestFingerprint: null,
      ...overrides,
    };
  }
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;

  it('a draft with a submission time is due from then, and its creation event says when', () => {
    const d = draft({ submitAt: at(30) });
    const result = app.refunds.create(d);
    expect(result).toEqual({ created: true, refund: app.refunds.findById(org, d.id) });
    expect(result.refund).toMatchObject({ status: 'pending', externalRefundId: null, metadata: { orderId: 'o_1' }, createdAt: T0, updatedAt: T0 });
    expect(rawEvents(app, d.id).map((e) => [e.from_status, e.to_status, e.initiated_by, e.detail])).toEqual([
      [null, 'pending', 'api', `created; submission due at ${at(30)}`],
    ]);
    expect(app.refunds.dueForSubmission(at(29), 10)).toEqual([]);
    expect(app.refunds.dueForSubmission(at(30), 10)).toEqual([{ organizationId: org, id: d.id }]);
  });

  it('a draft without a submission time is held: never due, and its creation event says so', () => {
    const d = draft({ submitAt: null, metadata: null });
    expect(app.refunds.create(d).refund.metadata).toBeNull();
    expect(rawEvents(app, d.id)[0]?.detail).toBe('created; held until cancelled');
    expect(app.refunds.dueForSubmission(at(10 * 365 * 86_400), 10)).toEqual([]);
  });

  it('a second draft with the same idempotency key returns the first refund and its fingerprint, and writes nothing', () => {
    const first = draft({ idempotencyKey: 'key-1', requestFingerprint: 'fp-first' });
    app.refunds.create(first);
    const second = draft({ idempotencyKey: 'key-1', requestFingerprint: 'fp-second', amount: 5 });
    expect(app.refunds.create(second)).toEqual({ created: false, refund: app.refunds.findById(org, first.id), fingerprint: 'fp-first' });
    expect(app.refunds.findById(org, second.id)).toBeNull();
    expect(rawEvents(app, first.id)).toHaveLength(1);
    // Keys are per organization.
    const theirs = draft({ organizationId: other, idempotencyKey: 'key-1', requestFingerprint: 'fp-first' });
    expect(app.refunds.create(theirs).created).toBe(true);
  });

  it('neverSubmitted moves a pending refund only while no attempt was made', () => {
    const fresh = draft();
    const tried = draft();
    app.refunds.create(fresh);
    app.refunds.create(tried);
    app.refunds.claimForSubmission(tried.id, 'a', at(0), at(60));
    app.refunds.releaseClaim(tried.id, 'a', { retryAt: at(5), error: 'timed out' });
    const cancel = (refundId: string) =>
      app.refunds.transition({ organizationId: org, refundId, from: 'pending', to: 'cancelled', actor: 'api', at: at(1), neverSubmitted: true });
    expect(cancel(tried.id)).toBeNull();
    expect(storedStatus(app, tried.id)).toBe('pending');
    expect(cancel(fresh.id)).toMatchObject({ status: 'cancelled' });
    // Without the flag, the attempt does not stand in the way.
    expect(app.refunds.transition({ organizationId: org, refundId: tried.id, from: 'pending', to: 'cancelled', actor: 'api', at: at(1) })).toMatchObject({
      status: 'cancelled',
    });
  });

  it('a pending refund held by a live claim moves only for the claim holder; a lapsed claim holds nothing', () => {
    const d = draft();
    app.refunds.create(d);
    app.refunds.claimForSubmission(d.id, 'holder', at(0), at(60));
    const move = (claimToken: string | undefined, when: number) =>
      app.refunds.transition({ organizationId: org, refundId: d.id, from: 'pending', to: 'cancelled', actor: 'api', at: at(when), ...(claimToken === undefined ? {} : { claimToken }) });
    expect(move(undefined, 30)).toBeNull();
    expect(move('someone-else', 30)).toBeNull();
    expect(move(undefined, 61)).toMatchObject({ status: 'cancelled' });
    expect(column(d.id, 'claim_token')).toBeNull();
    expect(column(d.id, 'claim_expires_at')).toBeNull();
    expect(column(d.id, 'next_attempt_at')).toBeNull();

    const held = draft();
    app.refunds.create(held);
    app.refunds.claimForSubmission(held.id, 'holder', at(0), at(60));
    expect(
      app.refunds.transition({ organizationId: org, refundId: held.id, from: 'pending', to: 'processing', actor: 'system', at: at(1), claimToken: 'holder', externalRefundId: 're_held' }),
    ).toMatchObject({ status: 'processing', externalRefundId: 're_held' });
  });

  it('nextSyncAt: absent keeps the schedule, null clears it, a time sets it', () => {
    const refund = insertRefund(app, org, { status: 'processing', externalRefundId: 're_sched' });
    app.refunds.scheduleSync(refund.id, at(100));
    const base = { organizationId: org, refundId: refund.id, actor: 'system' as const, at: at(1) };
    app.refunds.transition({ ...base, from: 'processing', to: 'completed' });
    expect(column(refund.id, 'next_sync_at')).toBe(at(100));
    app.refunds.transition({ ...base, from: 'completed', to: 'failed', nextSyncAt: null });
    expect(column(refund.id, 'next_sync_at')).toBeNull();
    const another = insertRefund(app, org, { status: 'processing', externalRefundId: 're_sched2' });
    app.refunds.transition({ ...base, refundId: another.id, from: 'processing', to: 'completed', nextSyncAt: at(200) });
    expect(column(another.id, 'next_sync_at')).toBe(at(200));
  });

  it('dueForSync: refunds with a processor id whose time has come, of any organization, longest due first, up to the limit', () => {
    const late = insertRefund(app, org, { status: 'processing', externalRefundId: 're_late' });
    const early = insertRefund(app, other, { status: 'completed', externalRefundId: 're_early' });
    const notYet = insertRefund(app, org, { status: 'processing', externalRefundId: 're_notyet' });
    const unlinked = insertRefund(app, org, { status: 'processing', externalRefundId: null });
    insertRefund(app, org, { status: 'processing', externalRefundId: 're_never' });
    app.refunds.scheduleSync(late.id, at(20));
    app.refunds.scheduleSync(early.id, at(10));
    app.refunds.scheduleSync(notYet.id, at(31));
    app.refunds.scheduleSync(unlinked.id, at(0));
    expect(app.refunds.dueForSync(at(30), 10)).toEqual([
      { organizationId: other, id: early.id },
      { organizationId: org, id: late.id },
    ]);
    expect(app.refunds.dueForSync(at(30), 1)).toEqual([{ organizationId: other, id: early.id }]);
    app.refunds.scheduleSync(early.id, null);
    expect(app.refunds.dueForSync(at(30), 10)).toEqual([{ organizationId: org, id: late.id }]);
  });

  it('dueForSubmission: pending refunds whose time has come and that no live claim holds, oldest due first, up to the limit', () => {
    const second = draft({ submitAt: at(20) });
    const first = draft({ organizationId: other, submitAt: at(10) });
    const claimed = draft({ submitAt: at(5) });
    const cancelled = draft({ submitAt: at(1) });
    for (const d of [second, first, claimed, cancelled]) app.refunds.create(d);
    app.refunds.claimForSubmission(claimed.id, 'x', at(5), at(40));
    app.refunds.transition({ organizationId: org, refundId: cancelled.id, from: 'pending', to: 'cancelled', actor: 'api', at: at(2) });
    expect(app.refunds.dueForSubmission(at(30), 10)).toEqual([
      { organizationId: other, id: first.id },
      { organizationId: org, id: second.id },
    ]);
    expect(app.refunds.dueForSubmission(at(30), 1)).toEqual([{ organizationId: other, id: first.id }]);
    // Once the claim has lapsed, its refund is due again.
    expect(app.refunds.dueForSubmission(at(41), 10).map((r) => r.id)).toEqual([claimed.id, first.id, second.id]);
  });
});

describe('rows the schema refuses, written with its checks off, are refused when read', () => {
  it('an unknown refund status or initiator, an unknown event status or actor', () => {
    const refund = insertRefund(app, org, { status: 'pending' });
    app.db.pragma('ignore_check_constraints = ON');
    try {
      const broken = rawInsert({ status: 'refunded' });
      expect(() => app.refunds.findById(org, broken)).toThrow(`refund ${broken} has unknown status refunded`);
      const stranger = rawInsert({ initiated_by: 'robot' });
      expect(() => app.refunds.findById(org, stranger)).toThrow(`refund ${stranger} has unknown initiator robot`);
      const insertEvent = app.db.prepare(
        `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      );
      const eventId = (from: string | null, to: string, actor: string): number =>
        Number(insertEvent.run(refund.id, org, from, to, actor, '2026-01-01T00:00:01.000Z').lastInsertRowid);
      const badFrom = eventId('limbo', 'pending', 'api');
      expect(() => app.refunds.events(org, refund.id)).toThrow(`event ${badFrom} has unknown status limbo`);
    } finally {
      app.db.pragma('ignore_check_constraints = OFF');
    }
  });

  it.each([
    ['to status', null, 'limbo', 'api', 'unknown status limbo'],
    ['actor', 'pending', 'cancelled', 'robot', 'unknown actor robot'],
  ] as const)('an event with an unknown %s', (_label, from, to, actor, message) => {
    const refund = insertRefund(app, org, { status: 'pending' });
    app.db.pragma('ignore_check_constraints = ON');
    try {
      const id = Number(
        app.db
          .prepare(`INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(refund.id, org, from, to, actor, '2026-01-01T00:00:01.000Z').lastInsertRowid,
      );
      expect(() => app.refunds.events(org, refund.id)).toThrow(`event ${id} has ${message}`);
    } finally {
      app.db.pragma('ignore_check_constraints = OFF');
    }
  });
});
