/**
 * Opens the PostgreSQL pool the way every RefundKit process must, and brings the schema up to
 * date. Several processes (on several hosts) share one database: every store method is one
 * transaction of its own, on a connection taken from the pool for that transaction only.
 */
import pg from 'pg';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/**
 * Connections per process. Each store method holds one for a single short transaction; ten keep a
 * dispatcher pass (4 in flight by default) and a burst of requests from queueing, and three
 * processes stay far below PostgreSQL's default max_connections (100).
 */
export const POOL_SIZE = 10;

/** How long a caller waits for a free connection, or for the server to answer a connect. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long a statement waits for a row lock another transaction holds before it fails, as SQLite's
 * busy timeout (DEFAULT_BUSY_TIMEOUT_MS): our transactions are short, so a longer wait means
 * something is stuck, and the caller gets an error instead of hanging.
 */
const LOCK_TIMEOUT_MS = 10_000;

/**
 * A connection left idle inside a transaction this long (a process frozen mid-transaction, a
 * network partition) is ended by the server, and its locks with it. (A killed process's
 * connection closes at once, and its transaction is rolled back.)
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/**
 * bigint (counts, sums, amounts, event ids) as JavaScript numbers: every value we store is far
 * below 2^53 (amounts stop at 99,999,999; ids count events). Set on our pool only, never globally.
 */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export interface PoolOptions {
  /** Every transaction read-only (default_transaction_read_only): a REFUNDKIT_READ_ONLY server. */
  readonly?: boolean;
  max?: number;
}

export function openPool(url: string, options: PoolOptions = {}): PgPool {
  const pool = new pg.Pool({
    ...connection(url, options.readonly === true),
    max: options.max ?? POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    lock_timeout: LOCK_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    types,
    application_name: 'refundkit-mcp',
  });
  // An idle connection the server dropped (a restart, a failover) is an 'error' on the pool; it is
  // discarded and the next query opens another. Without a listener, it would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The URL, and for a read-only pool the server options with read-only transactions added to the
 * URL's own (`?options=-c search_path=…`): the driver lets the URL's options win over ours, so
 * they are moved out of it and joined.
 */
function connection(url: string, readonly: boolean): { connectionString: string; options?: string } {
  if (!readonly) return { connectionString: url };
  const parsed = new URL(url);
  const own = parsed.searchParams.get('options');
  parsed.searchParams.delete('options');
  const options = [own, '-c default_transaction_read_only=on'].filter((part) => part !== null && part !== '').join(' ');
  return { connectionString: parsed.toString(), options };
}

/** serialization_failure and deadlock_detected: the transaction did nothing and may run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/**
 * Runs `work` in one transaction on one pooled connection, at READ COMMITTED unless `isolation`
 * says otherwise, and commits; any throw rolls back. A serialization failure or a deadlock runs
 * it again from the start, up to five times.
 */
export async function inTransaction<T>(
  pool: PgPool,
  work: (client: PgClient) => Promise<T>,
  isolation: 'READ COMMITTED' | 'SERIALIZABLE' = 'READ COMMITTED',
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = error instanceof Error && 'code' in error ? String(error.code) : '';
      if (!RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
    } finally {
      client.release();
    }
  }
}

/**
 * Any number to keep the migrations of every process of one database in a queue: the first takes
 * it and migrates, the others wait, then find nothing left to do.
 */
const MIGRATION_LOCK = 0x52_4b_6d_69; // "RKmi"

/** Applies the migrations this database does not have yet. Safe when several processes start at once. */
export async function migrate(pool: PgPool, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        applied_at  text NOT NULL
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((row) => row.version));
      const pending = migrations.filter((migration) => !applied.has(migration.version));
      if (pending.length === 0) return [];
      // All pending steps in one transaction, as SQLite applies them: PostgreSQL's DDL is
      // transactional, so a failed step leaves the schema as it was before this start.
      await client.query('BEGIN');
      try {
        for (const migration of pending) {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            new Date().toISOString(),
          ]);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      const done = pending.map((migration) => migration.version);
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

export async function schemaVersion(pool: PgPool): Promise<number> {
  const { rows } = await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  return rows[0]?.version ?? 0;
}
