/**
 * The pool every process opens (src/store/postgres/database.ts): the session settings that keep a
 * stuck lock or a frozen process from hanging others, read-only pools, bigint as numbers, and the
 * transaction helper's retry of a serialization failure (and nothing else).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { inTransaction } from '../../../src/store/postgres/database.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres.js';

describePostgres('the PostgreSQL pool', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(() => database.drop());

  it('waits at most 10 s for a lock, ends a transaction left idle for a minute, and reads bigint as a number', async () => {
    const pool = database.pool();
    const { rows } = await pool.query<{ lock: string; idle: string; big: unknown }>(
      "SELECT current_setting('lock_timeout') AS lock, current_setting('idle_in_transaction_session_timeout') AS idle, 9007199254740991::bigint AS big",
    );
    expect(rows[0]).toEqual({ lock: '10s', idle: '1min', big: Number.MAX_SAFE_INTEGER });
  });

  it('a read-only pool keeps the URL\'s own options (the schema) and refuses writes', async () => {
    const pool = database.pool({ readonly: true });
    const { rows } = await pool.query<{ tables: number }>("SELECT count(*) AS tables FROM information_schema.tables WHERE table_name = 'refunds' AND table_schema = current_schema()");
    expect(rows[0]?.tables).toBe(1);
    await expect(pool.query("INSERT INTO organizations (id, name, created_at) VALUES ('org_readonly0001', 'x', 'x')")).rejects.toThrow(/read-only transaction/);
  });

  it('runs a transaction again after a serialization failure, and rolls back what the failed run wrote', async () => {
    const pool = database.pool();
    let runs = 0;
    const result = await inTransaction(pool, async (client) => {
      runs += 1;
      await client.query("INSERT INTO organizations (id, name, created_at) VALUES ($1, 'x', 'x')", [`org_retry0000${runs}00`]);
      if (runs === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      return 'done';
    });
    expect(result).toBe('done');
    expect(runs).toBe(2);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM organizations');
    expect(rows.map((row) => row.id)).toEqual(['org_retry0000200']);
  });

  it('any other failure rolls back at once, without a second run', async () => {
    const pool = database.pool();
    let runs = 0;
    await expect(
      inTransaction(pool, async (client) => {
        runs += 1;
        await client.query("INSERT INTO organizations (id, name, created_at) VALUES ('org_norerun00001', 'x', 'x')");
        throw Object.assign(new Error('broken'), { code: '23514' });
      }),
    ).rejects.toThrow('broken');
    expect(runs).toBe(1);
    expect((await pool.query('SELECT id FROM organizations')).rows).toEqual([]);
  });

  it('runs a transaction that keeps failing to serialize or deadlocking five times, then gives up with the last failure', async () => {
    const pool = database.pool();
    let runs = 0;
    // It would succeed on the seventh run: a retry without its bound would return 'done'.
    const outcome = inTransaction(pool, () => {
      runs += 1;
      if (runs >= 7) return Promise.resolve('done');
      return Promise.reject(Object.assign(new Error(`run ${runs} failed`), { code: runs % 2 === 1 ? '40001' : '40P01' }));
    });
    await expect(outcome).rejects.toThrow('run 5 failed');
    expect(runs).toBe(5);
  });

  it('names its connections refundkit-mcp, so that pg_stat_activity tells them apart', async () => {
    const { rows } = await database.pool().query<{ name: string }>('SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()');
    expect(rows).toEqual([{ name: 'refundkit-mcp' }]);
  });

  it('opens at most the connections it is given: one more caller waits for a release', async () => {
    const pool = database.pool({ max: 1 });
    const first = await pool.connect();
    const second = pool.connect();
    const waiting = pool.waitingCount;
    first.release();
    (await second).release();
    expect(waiting).toBe(1);
    expect(pool.totalCount).toBe(1);
  });

  it('outlives an idle connection the server ends (a restart, a failover): no crash, and the next query opens another', async () => {
    const pool = database.pool();
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid;
    // What would end a server: the pool's 'error' for the dropped connection, were nothing listening.
    const crashes: unknown[] = [];
    const onCrash = (error: unknown): void => void crashes.push(error);
    process.on('uncaughtException', onCrash);
    try {
      // Not events.once: it listens for 'error' too, which the pool must survive on its own.
      const removed = new Promise<void>((resolve) => pool.once('remove', () => resolve()));
      const { rows: ended } = await database.pool().query<{ ended: boolean }>('SELECT pg_terminate_backend($1) AS ended', [pid]);
      expect(ended).toEqual([{ ended: true }]);
      await removed;
    } finally {
      process.off('uncaughtException', onCrash);
    }
    expect(crashes).toEqual([]);
    const { rows: after } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(after[0]?.pid).not.toBe(pid);
  });
});
