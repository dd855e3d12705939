/**
 * The composition root for a read-only server (REFUNDKIT_READ_ONLY=1, `readOnlyDatabase`): the
 * schema is brought up to this build first (set-up, not data), then everything is served from a
 * connection SQLite itself keeps from writing, whatever path a write might take.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteApp, type SqliteApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { migrate, openDatabase, schemaVersion } from '../src/store/sqlite/database.js';
import { migrations } from '../src/store/sqlite/migrations/index.js';
import { cleanupTempDirs, makeTempDir, tempDbPath } from './support/fixtures.js';

const LATEST = migrations.at(-1)?.version;
const opened: SqliteApp[] = [];

function readOnlyApp(dbPath: string): SqliteApp {
  const config = loadConfig({ HOME: makeTempDir('refundkit-home-'), REFUNDKIT_DB_PATH: dbPath, REFUNDKIT_READ_ONLY: '1' });
  const app = createSqliteApp(config, { readOnlyDatabase: true });
  opened.push(app);
  return app;
}

afterEach(() => {
  for (const app of opened.splice(0)) app.close();
  cleanupTempDirs();
});

describe('createApp with readOnlyDatabase', () => {
  it('sets up a new database, then refuses every write on its connection', async () => {
    const app = readOnlyApp(tempDbPath());
    expect(schemaVersion(app.db)).toBe(LATEST);
    expect(app.db.readonly).toBe(true);
    await expect(app.organizations.create('Nope')).rejects.toThrow(/readonly/);
    expect(await app.organizations.list()).toEqual([]);
  });

  it('migrates a database left at an older schema before serving it, and reads its rows', async () => {
    const path = tempDbPath();
    const old = openDatabase(path);
    migrate(old, migrations.slice(0, 2));
    old.prepare("INSERT INTO organizations (id, name, created_at) VALUES ('org_aaaaaaaaaaaa', 'Kept', '2026-01-01T00:00:00.000Z')").run();
    old.close();
    const app = readOnlyApp(path);
    expect(schemaVersion(app.db)).toBe(LATEST);
    expect((await app.organizations.list()).map((o) => o.name)).toEqual(['Kept']);
    const check = new Database(path, { readonly: true });
    try {
      expect(check.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: migrations.length });
    } finally {
      check.close();
    }
  });
});
