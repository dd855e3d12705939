/**
 * Index use of the PostgreSQL store's own queries, as the SQLite suite checks it: with table
 * statistics (ANALYZE) on a table big enough that a wrong plan would cost, the list's first page
 * and a deep offset walk the index of their filter in the list's order (no Sort, no scan of the
 * whole table), and the due queries walk their due index.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { ListFilter } from '../../../src/domain/ports.js';
import { DEFERRED_JOIN_FROM_OFFSET } from '../../../src/store/paging.js';
import { DUE_FOR_SUBMISSION, DUE_FOR_SYNC, listSql } from '../../../src/store/postgres/refund-sql.js';
import type { PgPool } from '../../../src/store/postgres/database.js';
import { postgresStoresOn } from '../../../src/store/postgres/stores.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres.js';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describePostgres('PostgreSQL query plans', () => {
  let database: TestDatabase;
  let pool: PgPool;
  const org = 'org_plansorg0001';
  const other = 'org_plansorg0002';

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = database.pool();
    await pool.query(`INSERT INTO organizations (id, name, created_at) VALUES ($1, 'Org', 'x'), ($2, 'Other', 'x')`, [org, other]);
    // 60,000 refunds: most of them org's and settled, a few due for submission or a status read.
    await pool.query(
      `INSERT INTO refunds (id, organization_id, transaction_id, amount, currency, reason, status, processor, initiated_by,
         created_at, updated_at, external_refund_id, next_attempt_at, next_sync_at)
       SELECT 'ref_p' || lpad(i::text, 11, '0'), CASE WHEN i % 5 = 0 THEN $2 ELSE $1 END, 'ch_' || i, 100, 'usd', 'other',
         s.status, CASE WHEN i % 3 = 0 THEN 'sandbox' ELSE 'stripe' END, 'api', t.at, t.at,
         CASE WHEN s.status = 'pending' THEN NULL ELSE 're_' || i END,
         CASE WHEN s.status = 'pending' THEN t.at END,
         CASE WHEN s.status = 'processing' THEN t.at END
       FROM generate_series(1, 60000) AS i,
         LATERAL (SELECT to_char(timestamp '2025-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at) t,
         LATERAL (SELECT CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 50 = 1 THEN 'processing'
                              WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END AS status) s`,
      [org, other],
    );
    // As autovacuum leaves a settled table: statistics, and the visibility map an index-only scan needs.
    await pool.query('VACUUM ANALYZE refunds');
  }, 120_000);
  afterAll(() => database.drop());

  async function plan(sql: string, params: unknown[]): Promise<PlanNode[]> {
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const top = rows[0]?.['QUERY PLAN'][0]?.Plan;
    if (top === undefined) throw new Error('no plan');
    return nodes(top);
  }

  const FILTERS = [
    { status: false, processor: false, index: 'refunds_by_org', params: [] },
    { status: true, processor: false, index: 'refunds_by_org_status', params: ['completed'] },
    { status: false, processor: true, index: 'refunds_by_org_processor', params: ['stripe'] },
    { status: true, processor: true, index: 'refunds_by_org_status_processor', params: ['completed', 'stripe'] },
  ];

  // Offsets from 5,000 on take the deferred join (refund-store.ts): the page's ids come from an
  // index-only scan, and only the page's rows are read and sorted. (Offset 100,000 of 1,000,000
  // refunds is checked by `npm run bench`; here the organization is most of a small table, where
  // reading nearly all of it and sorting is the planner's fair choice.)
  it.each(FILTERS.flatMap((f) => [0, 10_000].map((offset) => [f.index, offset, f] as const)))(
    'list page (%s) at offset %i walks its index in order: no sequential scan, no sort but of the page',
    async (index, offset, filter) => {
      const deep = offset >= 5_000;
      const found = await plan(listSql(filter.status, filter.processor, deep), [org, 25, offset, ...filter.params]);
      const types = found.map((node) => node['Node Type']);
      const walk = deep ? ['Index Only Scan'] : ['Index Scan', 'Index Only Scan'];
      expect(found.some((node) => walk.includes(node['Node Type']) && node['Index Name'] === index), JSON.stringify(found)).toBe(true);
      expect(types).not.toContain('Seq Scan');
      expect(types).not.toContain('Incremental Sort');
      // The deep page sorts its own 25 rows once, above the join; nothing sorts the organization's.
      const sorts = types.filter((type) => type === 'Sort').length;
      expect(sorts).toBeLessThanOrEqual(deep ? 1 : 0);
      if (sorts === 1) expect(types[0]).toBe('Sort');
    },
  );

  it.each([
    ['dueForSubmission', DUE_FOR_SUBMISSION, 'refunds_due_submission'],
    ['dueForSync', DUE_FOR_SYNC, 'refunds_due_sync'],
  ])('%s walks its due index, whatever the processors', async (_name, sql, index) => {
    for (const processors of [['stripe'], ['sandbox', 'stripe']]) {
      const found = await plan(sql, ['2030-01-01T00:00:00.000Z', 50, processors]);
      expect(found.some((node) => node['Index Name'] === index), JSON.stringify(found)).toBe(true);
      expect(found.map((node) => node['Node Type'])).not.toContain('Seq Scan');
    }
  });

  it(`the store's own list takes the deferred join from offset ${DEFERRED_JOIN_FROM_OFFSET} on (ids from an index-only scan), and reads straight before it`, async () => {
    // The SQL and parameters the store really sends for a page.
    const query = vi.spyOn(pool, 'query');
    const refunds = postgresStoresOn(pool).refunds;
    try {
      for (const filter of FILTERS) {
        const asked: ListFilter = { ...(filter.status ? { status: 'completed' as const } : {}), ...(filter.processor ? { processor: 'stripe' } : {}) };
        for (const offset of [0, DEFERRED_JOIN_FROM_OFFSET - 1, DEFERRED_JOIN_FROM_OFFSET, 10_000]) {
          query.mockClear();
          await refunds.list(org, asked, { limit: 25, offset });
          const [sql, params] = query.mock.calls.at(-1) as unknown as [string, unknown[]];
          const found = await plan(sql, params);
          const indexOnly = found.filter((node) => node['Node Type'] === 'Index Only Scan');
          if (offset >= DEFERRED_JOIN_FROM_OFFSET) {
            expect(indexOnly.map((node) => node['Index Name']), `${filter.index} at ${offset}: ${JSON.stringify(found)}`).toEqual([filter.index]);
          } else {
            expect(indexOnly, `${filter.index} at ${offset}: ${JSON.stringify(found)}`).toEqual([]);
          }
        }
      }
    } finally {
      query.mockRestore();
    }
  });
});
