/**
 * The SQLite API key store: the shared contract, then what is kept on disk and the schema's own
 * refusals.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../../src/app.js';
import { hashApiKey } from '../../../src/store/sqlite/api-key-store.js';
import { cleanupAll, createOrg, createTestApp } from '../../support/fixtures.js';
import { apiKeyStoreContract } from '../contract/accounts.js';
import { sqliteStores } from './harness.js';

apiKeyStoreContract(sqliteStores);

let app: SqliteApp;
let org: string;

beforeEach(() => {
  app = createTestApp();
  org = createOrg(app).id;
});

afterEach(() => {
  cleanupAll();
});

/** Every value of every column of api_keys, as text. */
function everyStoredValue(): string[] {
  const rows = app.db.prepare<[], Record<string, unknown>>('SELECT * FROM api_keys').all();
  return rows.flatMap((row) => Object.values(row).map(String));
}

describe('create (SQLite)', () => {
  it('stores only the SHA-256 hash and a short prefix: the key appears nowhere in the table', async () => {
    const { key } = await app.apiKeys.create(org, 'live');
    const secretPart = key.slice('rk_live_'.length);
    const stored = everyStoredValue();
    for (const value of stored) {
      expect(value).not.toContain(key);
      expect(value).not.toContain(secretPart);
      expect(value).not.toContain(secretPart.slice(4));
    }
    const row = app.db.prepare<[], { key_hash: string; display_prefix: string }>('SELECT * FROM api_keys').get()!;
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(row.key_hash).toBe(hashApiKey(key));
    expect(row.display_prefix).toBe(key.slice(0, 12));
  });

  it('refuses a key for an organization that does not exist', async () => {
    await expect(app.apiKeys.create('org_nosuchorgxxx', 'live')).rejects.toThrow(/FOREIGN KEY/);
  });
});

describe('schema', () => {
  it('rejects a hash that is not 64 hex characters and a bad mode', () => {
    const insert = (hash: string, mode: string) =>
      app.db
        .prepare(
          'INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run('key_abcdefghijkl', org, hash, 'rk_live_abcd', mode, '2026-01-01T00:00:00.000Z');
    expect(() => insert('abc', 'live')).toThrow(/CHECK constraint failed/);
    expect(() => insert('a'.repeat(64), 'prod')).toThrow(/CHECK constraint failed/);
  });

  it('the same key cannot be stored twice', async () => {
    const secret = `rk_test_${'q'.repeat(32)}`;
    await app.apiKeys.create(org, 'test', { secret });
    await expect(app.apiKeys.create(org, 'test', { secret })).rejects.toThrow(/UNIQUE/);
  });

  it('a stored scope this build does not know (a newer build wrote it) is refused, not read as fewer scopes', async () => {
    const key = `rk_live_${'n'.repeat(32)}`;
    app.db
      .prepare('INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('key_newerscope01', org, hashApiKey(key), key.slice(0, 12), 'live', 'read,superuser', '2026-01-01T00:00:00.000Z');
    const refusal = 'API key key_newerscope01 has unknown scopes read,superuser';
    await expect(app.apiKeys.findById('key_newerscope01')).rejects.toThrow(refusal);
    await expect(app.apiKeys.authenticate(key)).rejects.toThrow(refusal);
  });
});
