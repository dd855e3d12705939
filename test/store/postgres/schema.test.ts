/**
 * What only the PostgreSQL schema has to prove: migrations (recorded, once however many processes
 * start together), the CHECKs on every contract field, the status machine trigger and the
 * append-only tables, each against raw SQL, which no store method guards.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { canTransition, REFUND_STATUSES } from '../../../src/domain/refund.js';
import { migrate, schemaVersion, type PgPool } from '../../../src/store/postgres/database.js';
import { migrations } from '../../../src/store/postgres/migrations/index.js';
import { migrations as sqliteMigrations } from '../../../src/store/sqlite/migrations/index.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres.js';

describePostgres('PostgreSQL migrations', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase({ migrated: false });
  });
  afterEach(() => database.drop());

  it('mirror SQLite step for step: same versions, same names', () => {
    expect(migrations.map((m) => [m.version, m.name])).toEqual(sqliteMigrations.map((m) => [m.version, m.name]));
  });

  it('three processes migrating at once apply each step exactly once; a fourth finds nothing to do', async () => {
    const pools = [database.pool(), database.pool(), database.pool()];
    const applied = await Promise.all(pools.map((pool) => migrate(pool)));
    expect(applied.flat().sort((a, b) => a - b)).toEqual(migrations.map((m) => m.version));
    expect(applied.filter((steps) => steps.length > 0)).toHaveLength(1);
    expect(await migrate(database.pool())).toEqual([]);
    expect(await schemaVersion(pools[0]!)).toBe(migrations.length);
    const { rows } = await pools[0]!.query<{ count: number }>('SELECT count(*) AS count FROM schema_migrations');
    expect(rows[0]?.count).toBe(migrations.length);
  });

  it('a step that fails leaves the schema as it was before that start; the steps of earlier starts stay', async () => {
    const pool = database.pool();
    await migrate(pool, migrations.slice(0, 1));
    const broken = [...migrations.slice(0, 3), { version: 4, name: 'broken', sql: 'CREATE TABLE half_done (a int); SELECT no_such_function();' }];
    await expect(migrate(pool, broken)).rejects.toThrow(/no_such_function/);
    expect(await schemaVersion(pool)).toBe(1);
    const tables = await pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('half_done', 'webhook_events', 'refunds')",
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(['refunds']);
    expect(await migrate(pool)).toEqual(migrations.slice(1).map((m) => m.version));
  });
});

describePostgres('PostgreSQL schema (raw SQL)', () => {
  // One migrated schema for these tests: each writes rows of its own (fresh ids), and what each
  // checks is a refusal that leaves the tables as they were.
  let database: TestDatabase;
  let pool: PgPool;
  let n = 0;
  const org = 'org_schemaorg001';

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = database.pool();
    await pool.query("INSERT INTO organizations (id, name, created_at) VALUES ($1, 'Org', '2026-01-01T00:00:00.000Z')", [org]);
  });
  afterAll(() => database.drop());

  function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    n += 1;
    return {
      id: `ref_raw${String(n).padStart(9, '0')}`,
      organization_id: org,
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

  async function rawInsert(overrides: Record<string, unknown> = {}): Promise<string> {
    const values = row(overrides);
    const columns = Object.keys(values);
    await pool.query(
      `INSERT INTO refunds (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(values),
    );
    return values.id as string;
  }

  const status = async (id: string): Promise<string | undefined> =>
    (await pool.query<{ status: string }>('SELECT status FROM refunds WHERE id = $1', [id])).rows[0]?.status;

  it('a valid raw row is accepted (so each refusal below is about its one bad column)', async () => {
    expect(await status(await rawInsert())).toBe('pending');
    expect(await rawInsert({ metadata: '{"b":"2","a":"1"}' })).toMatch(/^ref_/);
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
  ])('rejects %s = %j', async (column, value) => {
    await expect(rawInsert({ [column]: value })).rejects.toThrow(/check constraint|invalid input syntax/);
  });

  it('rejects a refund of an organization that does not exist, and a duplicate id', async () => {
    await expect(rawInsert({ organization_id: 'org_nosuchorgxxx' })).rejects.toThrow(/foreign key/);
    const id = await rawInsert();
    await expect(rawInsert({ id })).rejects.toThrow(/duplicate key/);
  });

  it('metadata comes back as it was written, keys in their order (json, not jsonb)', async () => {
    const id = await rawInsert({ metadata: '{"zeta":"1","alpha":"2"}' });
    const { rows } = await pool.query<{ m: string }>('SELECT metadata::text AS m FROM refunds WHERE id = $1', [id]);
    expect(rows[0]?.m).toBe('{"zeta":"1","alpha":"2"}');
  });

  const pairs = REFUND_STATUSES.flatMap((from) => REFUND_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));

  it.each(pairs)('%s -> %s is accepted only when the status machine allows it', async (from, to) => {
    const id = await rawInsert({ status: from });
    const update = pool.query('UPDATE refunds SET status = $1 WHERE id = $2', [to, id]);
    if (canTransition(from, to)) {
      expect((await update).rowCount).toBe(1);
      expect(await status(id)).toBe(to);
    } else {
      await expect(update).rejects.toThrow(/illegal refund status transition/);
      expect(await status(id)).toBe(from);
    }
  });

  it('an UPDATE that leaves the status alone is allowed', async () => {
    const id = await rawInsert({ status: 'cancelled' });
    await pool.query("UPDATE refunds SET updated_at = '2027-01-01T00:00:00.000Z' WHERE id = $1", [id]);
    expect(await status(id)).toBe('cancelled');
  });

  it.each(['refund_events', 'refund_discrepancies', 'policy_refusals'])('%s refuses UPDATE, DELETE and TRUNCATE', async (table) => {
    const id = await rawInsert({ status: 'cancelled' });
    const keyId = `key_${id.slice(-12)}`;
    await pool.query(
      `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at) VALUES ($1, $2, NULL, 'cancelled', 'api', 'x')`,
      [id, org],
    );
    await pool.query(
      `INSERT INTO refund_discrepancies (refund_id, organization_id, processor, external_refund_id, our_status, processor_status, source, detected_at)
       VALUES ($1, $2, 'stripe', 're_1', 'cancelled', 'completed', 'test', 'x')`,
      [id, org],
    );
    await pool.query("INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES ($1, $2, $3, 'rk_test_x', 'test', 'x')", [
      keyId,
      org,
      id.slice(-12).padEnd(64, 'a'),
    ]);
    await pool.query(
      `INSERT INTO policy_refusals (organization_id, key_id, at, outcome, rule, message, transaction_id, amount, currency, reason)
       VALUES ($1, $2, 'x', 'denied', 'max_per_refund', 'too much', 'ch_1', 5, 'usd', 'other')`,
      [org, keyId],
    );
    const count = async (): Promise<number> => (await pool.query<{ c: number }>(`SELECT count(*) AS c FROM ${table}`)).rows[0]?.c ?? -1;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    const column = table === 'policy_refusals' ? 'message' : 'source';
    const set = table === 'refund_events' ? "detail = 'x'" : `${column} = 'changed'`;
    await expect(pool.query(`UPDATE ${table} SET ${set}`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
  });

  it('an approval request is decided once, and kept', async () => {
    const refundId = await rawInsert();
    await pool.query("INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES ('key_schemakey002', $1, $2, 'rk_test_x', 'test', 'x')", [
      org,
      'b'.repeat(64),
    ]);
    expect(await status(refundId)).toBe('pending');
    await pool.query(
      `INSERT INTO approval_requests (id, organization_id, refund_id, amount, currency, reason, transaction_id, requested_by_key_id,
         rule, rule_message, status, expires_at, created_at)
       VALUES ('apr_schemaapr001', $1, $2, 1000, 'usd', 'other', 'ch_raw', 'key_schemakey002', 'approval_threshold', 'm', 'requested', 'x', 'x')`,
      [org, refundId],
    );
    await expect(pool.query("UPDATE approval_requests SET status = 'approved' WHERE id = 'apr_schemaapr001'")).rejects.toThrow(/check constraint/);
    await pool.query("UPDATE approval_requests SET status = 'approved', decided_by = 'operator:ana', decided_at = 'y' WHERE id = 'apr_schemaapr001'");
    await expect(pool.query("UPDATE approval_requests SET status = 'rejected' WHERE id = 'apr_schemaapr001'")).rejects.toThrow(/decided once/);
    await expect(pool.query("DELETE FROM approval_requests")).rejects.toThrow(/are kept/);
    await expect(pool.query("INSERT INTO agent_policies VALUES ($1, '[1]', 'x', 'system')", [org])).rejects.toThrow(/check constraint/);
    await expect(pool.query("UPDATE api_keys SET scopes = 'read; DROP' WHERE id = 'key_schemakey002'")).rejects.toThrow(/check constraint/);
  });

  it('ids and times sort byte by byte whatever the database locale (COLLATE "C")', async () => {
    const { rows } = await pool.query<{ collation: string | null }>(
      `SELECT DISTINCT collation_name AS collation FROM information_schema.columns
       WHERE table_schema = current_schema() AND data_type = 'text' AND table_name <> 'schema_migrations'`,
    );
    expect(rows.map((r) => r.collation)).toEqual(['C']);
  });
});
