import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  migrate,
  openDatabase,
  schemaVersion,
  type SqliteDatabase,
} from '../../../src/store/sqlite/database.js';
import { SqliteApiKeyStore } from '../../../src/store/sqlite/api-key-store.js';
import { migrations } from '../../../src/store/sqlite/migrations/index.js';
import { cleanupTempDirs, makeTempDir, tempDbPath } from '../../support/fixtures.js';

const opened: SqliteDatabase[] = [];
function open(path: string, options?: Parameters<typeof openDatabase>[1]): SqliteDatabase {
  const db = openDatabase(path, options);
  opened.push(db);
  return db;
}

afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
  cleanupTempDirs();
});

/**
 * Another process that opens `path` (a new file, so still in rollback mode) and holds its write
 * lock for `holdMs`: what a second `refundkit-mcp` command does while it creates the schema.
 * `work` is what it writes in that transaction before it commits.
 */
async function holdWriteLock(path: string, holdMs: number, work = 'CREATE TABLE held (a)'): Promise<{ released: Promise<void>; kill: () => void }> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `const Database = require(${JSON.stringify(driver)});
const db = new Database(${JSON.stringify(path)});
db.exec(${JSON.stringify(`BEGIN IMMEDIATE; ${work}`)});
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${holdMs});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before locking`)));
  });
  return { released, kill: () => child.kill() };
}

function tables(db: SqliteDatabase): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((r) => r.name);
}

describe('migrations list', () => {
  it('is numbered 1..n without gaps, each with a name and SQL', () => {
    expect(migrations.length).toBeGreaterThan(0);
    migrations.forEach((m, index) => {
      expect(m.version).toBe(index + 1);
      expect(m.name.length).toBeGreaterThan(0);
      expect(m.sql.trim().length).toBeGreaterThan(0);
    });
  });
});

describe('openDatabase + migrate', () => {
  it('creates missing parent folders', () => {
    const path = join(makeTempDir(), 'a', 'b', 'refundkit.db');
    open(path);
    expect(existsSync(path)).toBe(true);
  });

  it('applies every migration once and records it in schema_migrations', () => {
    const db = open(tempDbPath());
    const applied = migrate(db);
    expect(applied).toEqual(migrations.map((m) => m.version));
    const rows = db
      .prepare<[], { version: number; name: string; applied_at: string }>('SELECT * FROM schema_migrations ORDER BY version')
      .all();
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
    for (const row of rows) expect(Number.isNaN(Date.parse(row.applied_at))).toBe(false);
    expect(schemaVersion(db)).toBe(migrations.at(-1)!.version);
    expect(tables(db)).toEqual(
      expect.arrayContaining(['api_keys', 'organizations', 'refund_events', 'refunds', 'schema_migrations']),
    );
  });

  it('migrating again (same handle or a re-open) is a no-op', () => {
    const path = tempDbPath();
    const db = open(path);
    migrate(db);
    expect(migrate(db)).toEqual([]);
    db.close();
    const again = open(path);
    const before = again.prepare('SELECT * FROM schema_migrations ORDER BY version').all();
    expect(migrate(again)).toEqual([]);
    expect(again.prepare('SELECT * FROM schema_migrations ORDER BY version').all()).toEqual(before);
  });

  it('applies only the migrations a file does not have yet', () => {
    const db = open(tempDbPath());
    const first = { version: 1, name: 'one', sql: 'CREATE TABLE t1 (x INTEGER)' };
    const second = { version: 2, name: 'two', sql: 'CREATE TABLE t2 (x INTEGER)' };
    expect(migrate(db, [first])).toEqual([1]);
    expect(migrate(db, [first, second])).toEqual([2]);
    expect(tables(db)).toEqual(expect.arrayContaining(['t1', 't2']));
    expect(schemaVersion(db)).toBe(2);
  });

  it('migration 009: a key made before names keeps NULL, read back as an unnamed key', async () => {
    const db = open(tempDbPath());
    migrate(db, migrations.slice(0, 8));
    db.prepare("INSERT INTO organizations (id, name, created_at) VALUES ('org_oldorg000001', 'Old', 'x')").run();
    db.prepare(
      "INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES ('key_oldkey000001', 'org_oldorg000001', ?, 'rk_test_old1', 'test', 'x')",
    ).run('c'.repeat(64));
    expect(migrate(db)).toEqual([9]);
    expect(await new SqliteApiKeyStore(db).findById('key_oldkey000001')).toMatchObject({ name: null, displayPrefix: 'rk_test_old1' });
  });

  it('a failing migration leaves nothing half-applied', () => {
    const db = open(tempDbPath());
    const good = { version: 1, name: 'good', sql: 'CREATE TABLE t1 (x INTEGER)' };
    const bad = { version: 2, name: 'bad', sql: 'CREATE TABLE t2 (x INTEGER); THIS IS NOT SQL' };
    expect(() => migrate(db, [good, bad])).toThrow();
    expect(tables(db)).not.toContain('t1');
    expect(tables(db)).not.toContain('t2');
    expect(schemaVersion(db)).toBe(0);
  });

  it('schemaVersion is 0 on an empty file once the table exists', () => {
    const db = open(tempDbPath());
    migrate(db, []);
    expect(schemaVersion(db)).toBe(0);
  });
});

describe('pragmas', () => {
  it('WAL, foreign keys on, busy timeout, synchronous FULL', () => {
    const db = open(tempDbPath());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(DEFAULT_BUSY_TIMEOUT_MS);
    expect(DEFAULT_BUSY_TIMEOUT_MS).toBeGreaterThanOrEqual(1000);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('honours a chosen busy timeout', () => {
    const db = open(tempDbPath(), { busyTimeoutMs: 1234 });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
  });

  it('WAL persists: a second connection to the same file sees it', () => {
    const path = tempDbPath();
    open(path);
    const other = open(path);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('a new file another process is writing: waits for its lock instead of failing "database is locked"', async () => {
    // Without the wait, switching to WAL here fails at once: SQLite calls no busy handler for it.
    const path = tempDbPath();
    const holder = await holdWriteLock(path, 300);
    const started = Date.now();
    const db = open(path);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(tables(db)).toEqual(['held']);
    await holder.released;
  });

  it('a lock held past the busy timeout: gives up with SQLITE_BUSY once the timeout has passed', async () => {
    const path = tempDbPath();
    const holder = await holdWriteLock(path, 5_000);
    try {
      const started = Date.now();
      expect(() => open(path, { busyTimeoutMs: 200 })).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(200);
      expect(waited).toBeLessThan(5_000);
    } finally {
      holder.kill();
      await holder.released;
    }
  });

  it('foreign keys are enforced', () => {
    const db = open(tempDbPath());
    migrate(db);
    expect(() =>
      db
        .prepare("INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES (?, ?, ?, ?, 'test', ?)")
        .run('key_abcdefghijkl', 'org_doesnotexist', 'a'.repeat(64), 'rk_test_abcd', new Date().toISOString()),
    ).toThrow(/FOREIGN KEY/);
  });

  it('a read-only open can read a migrated file but not write', () => {
    const path = tempDbPath();
    const db = open(path);
    migrate(db);
    db.close();
    const ro = open(path, { readonly: true });
    expect(schemaVersion(ro)).toBe(migrations.at(-1)!.version);
    expect(() => ro.exec("INSERT INTO organizations VALUES ('org_abcdefghijkl', 'x', 'y')")).toThrow();
  });

  it('a read-only open of a file another program made (rollback journal) reads it and switches nothing', () => {
    const path = tempDbPath();
    const made = new Database(path);
    made.exec("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('kept')");
    made.close();
    const ro = open(path, { readonly: true });
    expect(ro.prepare('SELECT x FROM notes').all()).toEqual([{ x: 'kept' }]);
    expect(ro.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it('readonly: false is an ordinary open: WAL and synchronous FULL', () => {
    const db = open(tempDbPath(), { readonly: false });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });
});

describe('migrating beside another process', () => {
  const one = { version: 1, name: 'one', sql: 'CREATE TABLE t1 (x INTEGER)' };
  const two = { version: 2, name: 'two', sql: 'CREATE TABLE t2 (x INTEGER)' };

  it('an up-to-date file needs no write lock: starting while another process holds it migrates nothing, at once', async () => {
    const path = tempDbPath();
    migrate(open(path), [one, two]);
    const holder = await holdWriteLock(path, 5_000);
    try {
      const db = open(path, { busyTimeoutMs: 200 });
      expect(migrate(db, [one, two])).toEqual([]);
      expect(schemaVersion(db)).toBe(2);
    } finally {
      holder.kill();
      await holder.released;
    }
  });

  it('a step another process applies while this one waits for the lock is not applied twice', async () => {
    const path = tempDbPath();
    const db = open(path);
    migrate(db, [one]);
    // The other process takes the lock and applies step two; this one, which saw only step one,
    // waits for the lock (busy timeout) and must find step two done once it gets it.
    const holder = await holdWriteLock(path, 1_000, `${two.sql}; INSERT INTO schema_migrations (version, name, applied_at) VALUES (2, 'two', '2026-01-01T00:00:00.000Z')`);
    try {
      expect(migrate(db, [one, two])).toEqual([]);
      expect(schemaVersion(db)).toBe(2);
      expect(tables(db)).toEqual(expect.arrayContaining(['t1', 't2']));
    } finally {
      holder.kill();
      await holder.released;
    }
  });
});
