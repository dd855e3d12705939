/**
 * PostgreSQL for tests: one fresh database per test file (CREATE DATABASE with a random name,
 * dropped after the file), so that files run in parallel against one server; in it, a fresh
 * migrated schema per test (the pool's search_path, given in the URL's `options` as any libpq URL
 * may), which costs a third of a database per test. Suites that need PostgreSQL are declared with
 * describePostgres: without a server they skip with the reason, unless CI is set: then they fail.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, inject, it } from 'vitest';
import { migrate, openPool, type PgPool } from '../../src/store/postgres/database.js';

// Undefined in a vitest project without the globalSetup (vitest.config.ts): no server there.
const adminUrl = (inject('postgresUrl') as string | null | undefined) ?? null;
const missing = (inject('postgresMissing') as string | undefined) ?? 'this vitest project starts no PostgreSQL server (globalSetup in vitest.config.ts)';

/** What a PostgreSQL suite does: run on the server, fail without one under CI, or skip locally. */
export function postgresSuiteMode(url: string | null, ci: string | undefined): 'run' | 'fail' | 'skip' {
  if (url !== null) return 'run';
  return ci !== undefined && ci !== '' ? 'fail' : 'skip';
}

/** Declares a suite that runs only where there is a test PostgreSQL server (and must, under CI). */
export function describePostgres(name: string, suite: () => void): void {
  const mode = postgresSuiteMode(adminUrl, process.env.CI);
  if (mode === 'run') {
    describe(name, suite);
  } else if (mode === 'fail') {
    describe(name, () => {
      it('needs a PostgreSQL server (CI runs every PostgreSQL suite)', () => {
        throw new Error(`${missing}; .ci/run starts one with scripts/test-postgres.sh`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: no PostgreSQL: ${missing}; install it (apt-get install -y postgresql) or set REFUNDKIT_TEST_DATABASE_URL)`, suite);
  }
}

function admin(): string {
  if (adminUrl === null) throw new Error(`no PostgreSQL for tests: ${missing}`);
  return adminUrl;
}

/** The admin URL pointed at another database, and optionally a schema (search_path). */
function urlOf(database: string, schema?: string): string {
  const url = new URL(admin());
  url.pathname = `/${database}`;
  if (schema !== undefined) url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const randomName = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

let fileDatabase: Promise<string> | undefined;

/** This test file's database, created on first use. */
function database(): Promise<string> {
  fileDatabase ??= (async () => {
    const name = randomName('refundkit_t');
    await run(admin(), `CREATE DATABASE ${name}`);
    return name;
  })();
  return fileDatabase;
}

afterAll(async () => {
  if (fileDatabase === undefined) return;
  const name = await fileDatabase;
  fileDatabase = undefined;
  await run(admin(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

export interface TestDatabase {
  /** A URL whose connections see only this test's schema. */
  url: string;
  /** A pool on it (closed by drop). */
  pool(options?: { max?: number; readonly?: boolean }): PgPool;
  /** Closes every pool made here; the schema goes with the file's database (dropping it costs more). */
  drop(): Promise<void>;
}

/** A fresh schema of its own for one test: migrated, unless `migrated` is false (empty). */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = await database();
  const schema = randomName('refundkit_s');
  await run(urlOf(name), `CREATE SCHEMA ${schema}`);
  const url = urlOf(name, schema);
  const pools: PgPool[] = [];
  const pool = (poolOptions: { max?: number; readonly?: boolean } = {}): PgPool => {
    const made = openPool(url, poolOptions);
    pools.push(made);
    return made;
  };
  if (options.migrated !== false) await migrate(pool({ max: 1 }));
  return {
    url,
    pool,
    drop: async () => {
      await Promise.all(pools.splice(0).map((made) => made.end()));
    },
  };
}
