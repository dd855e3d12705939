/**
 * The bench compares PostgreSQL with SQLite over "the same refunds": bench/postgres.ts copies the
 * generated SQLite database into PostgreSQL with SQL of its own, bypassing the stores. These
 * checks make sure the copy is what the product itself would hold: the PostgreSQL store reads
 * every refund exactly as the SQLite store does, the keys authenticate, and the table has the
 * indexes the migrations make (the bench drops and rebuilds them around the load).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { generateDatabase, type GeneratedDatabase } from '../../bench/generate.js';
import { copyToPostgres, type CopiedDatabase } from '../../bench/postgres.js';
import type { ListFilter } from '../../src/domain/ports.js';
import { openPool, type PgPool } from '../../src/store/postgres/database.js';
import { postgresStoresOn, type PostgresStores } from '../../src/store/postgres/stores.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite/database.js';
import { SqliteApiKeyStore } from '../../src/store/sqlite/api-key-store.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { assertBuilt } from '../support/cli.js';
import { createTestDatabase, describePostgres } from '../support/postgres.js';

describePostgres('bench: the copy into PostgreSQL', () => {
  let dir: string;
  let generated: GeneratedDatabase;
  let copy: CopiedDatabase;
  let sqlite: SqliteDatabase;
  let pool: PgPool;
  let stores: PostgresStores;

  beforeAll(async () => {
    assertBuilt(); // the generator and the copy use the built program's modules
    dir = mkdtempSync(join(tmpdir(), 'refundkit-bench-pg-test-'));
    generated = await generateDatabase(join(dir, 'bench.db'), 3_000);
    const adminUrl = inject('postgresUrl');
    if (adminUrl === null) throw new Error('no PostgreSQL');
    copy = await copyToPostgres(generated.path, adminUrl, () => undefined);
    sqlite = openDatabase(generated.path);
    pool = openPool(copy.url, { max: 2 });
    stores = postgresStoresOn(pool);
  }, 120_000);

  afterAll(async () => {
    await pool.end();
    sqlite.close();
    await copy.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every refund, organization, key and policy', () => {
    expect(copy.rows).toEqual({
      organizations: generated.organizations.length,
      api_keys: generated.organizations.length,
      agent_policies: generated.organizations.length,
      refunds: 3_000,
    });
  });

  it('the PostgreSQL store reads every page and every refund as the SQLite store does', async () => {
    const fromSqlite = new SqliteRefundStore(sqlite);
    const filters: ListFilter[] = [{}, { status: 'completed' }, { processor: 'stripe' }, { status: 'pending', processor: 'adyen' }];
    for (const organization of [generated.largest, generated.organizations[generated.organizations.length - 1] ?? generated.largest]) {
      for (const filter of filters) {
        for (const offset of [0, 100]) {
          const page = { limit: 50, offset };
          expect(await stores.refunds.list(organization.id, filter, page), JSON.stringify({ filter, offset })).toEqual(
            await fromSqlite.list(organization.id, filter, page),
          );
        }
      }
    }
    const all = await fromSqlite.list(generated.largest.id, {}, { limit: 5_000, offset: 0 });
    expect(all.length).toBe(generated.largest.refunds);
    for (const refund of all.slice(0, 200)) expect(await stores.refunds.findById(generated.largest.id, refund.id)).toEqual(refund);
  });

  it("each organization's key authenticates through the PostgreSQL store, as itself", async () => {
    const fromSqlite = new SqliteApiKeyStore(sqlite);
    for (const organization of generated.organizations) {
      const identity = await stores.apiKeys.authenticate(organization.apiKey);
      expect(identity?.organizationId).toBe(organization.id);
      expect(identity).toEqual(await fromSqlite.authenticate(organization.apiKey));
    }
    expect((await stores.guardrails.policy(generated.largest.id))?.policy.cancelOthers).toBe(true);
  });

  it('leaves the indexes the migrations make on refunds (dropped for the load, then rebuilt)', async () => {
    const fresh = await createTestDatabase();
    try {
      const indexes = async (on: PgPool, schema: string): Promise<string[]> =>
        (
          await on.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'refunds' AND schemaname = $1 ORDER BY indexname", [schema])
        ).rows.map((row) => row.indexdef.replaceAll(`${schema}.`, ''));
      const freshPool = fresh.pool();
      const { rows } = await freshPool.query<{ schema: string }>('SELECT current_schema() AS schema');
      const expected = await indexes(freshPool, rows[0]?.schema ?? '');
      expect(expected.length).toBeGreaterThan(5);
      expect(await indexes(pool, 'public')).toEqual(expected);
    } finally {
      await fresh.drop();
    }
  });
});
