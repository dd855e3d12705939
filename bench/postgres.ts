/**
 * The bench's PostgreSQL: a server to measure on, the generated SQLite database copied into it
 * row for row (so that both stores answer over the same refunds), and the plans of the store's own
 * list SQL on it.
 *
 * The server is the one --postgres-url names (a role that may create databases), else a
 * throwaway one started by scripts/test-postgres.sh (fsync off: the bench measures reads) and
 * stopped at the end. Either way the bench works in a database of its own and drops it.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { distModule, ROOT } from './common.js';

type PostgresDatabaseModule = typeof import('../src/store/postgres/database.js');
type PostgresRefundStoreModule = typeof import('../src/store/postgres/refund-store.js');
type PgPool = import('../src/store/postgres/database.js').PgPool;

export interface BenchPostgres {
  /** A role that may create databases. */
  adminUrl: string;
  /** Stops the server if the bench started it. */
  stop: () => void;
}

/** The server to measure on, or why there is none. */
export function startPostgres(givenUrl: string | undefined): BenchPostgres | { missing: string } {
  if (givenUrl !== undefined && givenUrl !== '') return { adminUrl: givenUrl, stop: () => undefined };
  const script = join(ROOT, 'scripts', 'test-postgres.sh');
  const started = spawnSync(script, ['start'], { encoding: 'utf8', timeout: 60_000 });
  if (started.status !== 0) return { missing: (started.stderr || started.error?.message || `exit ${String(started.status)}`).trim() };
  const [folder = '', url = ''] = started.stdout.trim().split('\n');
  return { adminUrl: url, stop: () => void spawnSync(script, ['stop', folder], { timeout: 60_000 }) };
}

export interface CopiedDatabase {
  url: string;
  rows: Record<string, number>;
  seconds: number;
  /** Drops the database (its connections must be closed first). */
  drop: () => Promise<void>;
}

/** The tables the measured calls read; the audit trail is not copied (no measured call reads it). */
const TABLES = ['organizations', 'api_keys', 'agent_policies', 'refunds'] as const;
const ROWS_PER_INSERT = 10_000;

/**
 * A fresh database with the real schema (the built program's migrate), the generated rows of
 * TABLES copied in, the refunds' secondary indexes built after the load (as the SQLite generator
 * does) and the table vacuumed and analysed, as autovacuum leaves a table that has settled.
 */
export async function copyToPostgres(sqlitePath: string, adminUrl: string, log: (line: string) => void): Promise<CopiedDatabase> {
  const started = performance.now();
  const name = `refundkit_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async (): Promise<void> => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
  const { openPool, migrate } = await distModule<PostgresDatabaseModule>('store/postgres/database.js');
  const pool = openPool(url.toString(), { max: 2 });
  const sqlite = new Database(sqlitePath, { readonly: true });
  const rows: Record<string, number> = {};
  try {
    await migrate(pool);
    const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'refunds'
         AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
    );
    for (const index of indexes) await pool.query(`DROP INDEX ${index.indexname}`);
    for (const table of TABLES) {
      rows[table] = await copyTable(sqlite, pool, table);
      log(`  ${table}: ${rows[table].toLocaleString('en-US')} rows (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    for (const index of indexes) await pool.query(index.indexdef);
    await pool.query('VACUUM ANALYZE refunds');
    log(`  ${indexes.length} indexes built, vacuumed and analysed (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    await pool.end();
    sqlite.close();
    await drop();
    throw error;
  }
  await pool.end();
  sqlite.close();
  return { url: url.toString(), rows, seconds: (performance.now() - started) / 1000, drop };
}

/**
 * Copies the columns both schemas have, in multi-row INSERTs of one array per column (unnest). A
 * column only PostgreSQL has takes its default (the insert fails if it has none).
 */
async function copyTable(sqlite: Database.Database, pool: PgPool, table: string): Promise<number> {
  const { rows: pgColumns } = await pool.query<{ column_name: string; udt_name: string }>(
    `SELECT column_name, udt_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  const sqliteColumns = new Set(sqlite.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name));
  const columns = pgColumns.filter((c) => sqliteColumns.has(c.column_name));
  if (columns.length === 0) throw new Error(`${table}: no column in common`);
  const insert = `INSERT INTO ${table} (${columns.map((c) => c.column_name).join(', ')})
    SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.udt_name}[]`).join(', ')})`;
  const select = sqlite.prepare(`SELECT ${columns.map((c) => `"${c.column_name}"`).join(', ')} FROM ${table}`).raw();
  let arrays: unknown[][] = columns.map(() => []);
  let pending = 0;
  let copied = 0;
  const flush = async (): Promise<void> => {
    if (pending === 0) return;
    await pool.query(insert, arrays);
    copied += pending;
    arrays = columns.map(() => []);
    pending = 0;
  };
  for (const row of select.iterate() as IterableIterator<unknown[]>) {
    for (let i = 0; i < columns.length; i += 1) arrays[i]?.push(row[i]);
    pending += 1;
    if (pending === ROWS_PER_INSERT) await flush();
  }
  await flush();
  return copied;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

export interface PostgresPlan {
  combo: string;
  offset: number;
  sql: string;
  nodes: string[];
  indexWalk: boolean;
  expectedIndex: string;
}

/**
 * EXPLAIN of the store's own list SQL (caught as the store sends it) for each filter combination
 * at offsets 0 and 100,000: each must walk its own index in list order, with no sequential scan
 * and no sort but of the page, as the PostgreSQL plan tests check on a small table.
 */
export async function checkPostgresPlans(
  url: string,
  organizationId: string,
  combos: ReadonlyArray<{ combo: string; index: string; filter: { status?: 'completed'; processor?: string } }>,
): Promise<PostgresPlan[]> {
  const { openPool } = await distModule<PostgresDatabaseModule>('store/postgres/database.js');
  const { PostgresRefundStore } = await distModule<PostgresRefundStoreModule>('store/postgres/refund-store.js');
  const pool = openPool(url, { max: 1 });
  const sent: Array<{ text: string; values: unknown[] }> = [];
  const spy = new Proxy(pool, {
    get(target, property, receiver) {
      if (property === 'query') {
        return (text: string, values: unknown[]) => {
          sent.push({ text, values });
          return target.query(text, values);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const store = new PostgresRefundStore(spy);
  const plans: PostgresPlan[] = [];
  try {
    for (const { combo, index, filter } of combos) {
      for (const offset of [0, 100_000]) {
        await store.list(organizationId, filter, { limit: 26, offset });
        const query = sent[sent.length - 1];
        if (query === undefined) throw new Error('the store sent no query');
        const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${query.text}`, query.values);
        const top = rows[0]?.['QUERY PLAN'][0]?.Plan;
        const nodes = top === undefined ? [] : flatten(top);
        const types = nodes.map((node) => node['Node Type']);
        // A deep page (the deferred join) picks its ids in an index-only scan and sorts its own
        // rows once, at the top; nothing may sort or scan the organization's rows.
        const deep = query.text.includes('WHERE id IN (');
        const sorts = types.filter((type) => type === 'Sort').length;
        const indexWalk =
          nodes.some((node) => (deep ? node['Node Type'] === 'Index Only Scan' : node['Node Type'].startsWith('Index')) && node['Index Name'] === index) &&
          !types.includes('Seq Scan') && !types.includes('Incremental Sort') &&
          sorts <= (deep ? 1 : 0) && (sorts === 0 || types[0] === 'Sort');
        plans.push({
          combo,
          offset,
          sql: query.text.replace(/\s+/g, ' ').trim(),
          nodes: nodes.map((node) => `${node['Node Type']}${node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`}`),
          indexWalk,
          expectedIndex: index,
        });
      }
    }
  } finally {
    await pool.end();
  }
  return plans;
}

function flatten(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(flatten)];
}
