import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { API_KEY_PATTERN } from '../../../src/domain/ids.js';
import { hashApiKey, SqliteApiKeyStore } from '../../../src/store/sqlite/api-key-store.js';
import { openDatabase } from '../../../src/store/sqlite/database.js';
import { cleanupAll, createOrg, createTestApp } from '../../support/fixtures.js';

let app: App;
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

describe('create', () => {
  it.each(['live', 'test'] as const)('makes a %s key in the documented format, shown once', (mode) => {
    const { key, record } = app.apiKeys.create(org, mode);
    expect(key).toMatch(new RegExp(`^rk_${mode}_[A-Za-z0-9]{32}$`));
    expect(API_KEY_PATTERN.test(key)).toBe(true);
    expect(record).toMatchObject({ organizationId: org, mode, revokedAt: null });
    expect(record.id).toMatch(/^key_[a-z0-9]{12}$/);
    expect(record.displayPrefix).toBe(key.slice(0, record.displayPrefix.length));
    expect(record.displayPrefix.length).toBeLessThanOrEqual(12);
  });

  it('stores only the SHA-256 hash and a short prefix: the key appears nowhere in the table', () => {
    const { key } = app.apiKeys.create(org, 'live');
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

  it('two keys are different', () => {
    const a = app.apiKeys.create(org, 'test').key;
    const b = app.apiKeys.create(org, 'test').key;
    expect(a).not.toBe(b);
  });

  it('refuses a key for an organization that does not exist', () => {
    expect(() => app.apiKeys.create('org_nosuchorgxxx', 'live')).toThrow(/FOREIGN KEY/);
  });
});

describe('authenticate', () => {
  it('returns the organization of a live key', () => {
    const { key, record } = app.apiKeys.create(org, 'live');
    expect(app.apiKeys.authenticate(key)).toEqual({ organizationId: org, keyId: record.id });
  });

  it('keys of two organizations authenticate to their own organization', () => {
    const other = createOrg(app, 'Other').id;
    const mine = app.apiKeys.create(org, 'test').key;
    const theirs = app.apiKeys.create(other, 'test').key;
    expect(app.apiKeys.authenticate(mine)?.organizationId).toBe(org);
    expect(app.apiKeys.authenticate(theirs)?.organizationId).toBe(other);
  });

  it('an unknown well-formed key is null', () => {
    app.apiKeys.create(org, 'live');
    expect(app.apiKeys.authenticate(`rk_live_${'A'.repeat(32)}`)).toBeNull();
  });

  it('a key that differs by one character is null', () => {
    const { key } = app.apiKeys.create(org, 'live');
    const last = key.at(-1) === 'a' ? 'b' : 'a';
    expect(app.apiKeys.authenticate(key.slice(0, -1) + last)).toBeNull();
  });

  it.each(['', 'rk_live_', 'rk_live_short', 'sk_live_' + 'a'.repeat(32), 'rk_prod_' + 'a'.repeat(32), 'rk_live_' + 'a'.repeat(31) + '!'])(
    'a malformed key %j is null',
    (key) => {
      expect(app.apiKeys.authenticate(key)).toBeNull();
    },
  );

  it('a malformed key is refused even when its hash is stored (e.g. via the secret option)', () => {
    app.apiKeys.create(org, 'test', { secret: 'not-a-key' });
    expect(app.apiKeys.authenticate('not-a-key')).toBeNull();
  });

  it('the key with surrounding whitespace is refused', () => {
    const { key } = app.apiKeys.create(org, 'live');
    expect(app.apiKeys.authenticate(` ${key}`)).toBeNull();
    expect(app.apiKeys.authenticate(`${key}\n`)).toBeNull();
  });
});

describe('revoke', () => {
  it('a revoked key no longer authenticates; others still do', () => {
    const a = app.apiKeys.create(org, 'live');
    const b = app.apiKeys.create(org, 'live');
    expect(app.apiKeys.revoke(a.record.id, '2026-04-04T00:00:00.000Z')).toBe(true);
    expect(app.apiKeys.authenticate(a.key)).toBeNull();
    expect(app.apiKeys.authenticate(b.key)).not.toBeNull();
    expect(app.apiKeys.findById(a.record.id)?.revokedAt).toBe('2026-04-04T00:00:00.000Z');
  });

  it('a key verified before it was revoked here stops at the next call', () => {
    const { key, record } = app.apiKeys.create(org, 'live');
    expect(app.apiKeys.authenticate(key)).not.toBeNull();
    expect(app.apiKeys.authenticate(key)).not.toBeNull();
    app.apiKeys.revoke(record.id);
    expect(app.apiKeys.authenticate(key)).toBeNull();
  });

  it('a revocation another connection commits (the CLI, another server) is seen at the next call', () => {
    const { key, record } = app.apiKeys.create(org, 'live');
    const other = openDatabase(app.config.dbPath);
    try {
      expect(app.apiKeys.authenticate(key)).toMatchObject({ organizationId: org });
      expect(new SqliteApiKeyStore(other).revoke(record.id)).toBe(true);
      expect(app.apiKeys.authenticate(key)).toBeNull();
      // And a key another connection creates works at once: only live keys are remembered.
      const fresh = new SqliteApiKeyStore(other).create(org, 'test');
      expect(app.apiKeys.authenticate(fresh.key)).toMatchObject({ organizationId: org, keyId: fresh.record.id });
    } finally {
      other.close();
    }
  });

  it('isLive: true for a live key, false once revoked here or by another connection, false for an unknown id', () => {
    const a = app.apiKeys.create(org, 'live');
    const b = app.apiKeys.create(org, 'live');
    const other = openDatabase(app.config.dbPath);
    try {
      // Asked before and after the key was seen by authenticate.
      expect(app.apiKeys.isLive(a.record.id)).toBe(true);
      expect(app.apiKeys.authenticate(a.key)).not.toBeNull();
      expect(app.apiKeys.isLive(a.record.id)).toBe(true);
      app.apiKeys.revoke(a.record.id);
      expect(app.apiKeys.isLive(a.record.id)).toBe(false);
      expect(app.apiKeys.authenticate(b.key)).not.toBeNull();
      expect(new SqliteApiKeyStore(other).revoke(b.record.id)).toBe(true);
      expect(app.apiKeys.isLive(b.record.id)).toBe(false);
      expect(app.apiKeys.isLive('key_nosuchkeyxxx')).toBe(false);
    } finally {
      other.close();
    }
  });

  it('revoking twice or an unknown id returns false and keeps the first revocation time', () => {
    const { record } = app.apiKeys.create(org, 'live');
    expect(app.apiKeys.revoke(record.id, '2026-04-04T00:00:00.000Z')).toBe(true);
    expect(app.apiKeys.revoke(record.id, '2026-05-05T00:00:00.000Z')).toBe(false);
    expect(app.apiKeys.findById(record.id)?.revokedAt).toBe('2026-04-04T00:00:00.000Z');
    expect(app.apiKeys.revoke('key_nosuchkeyxxx')).toBe(false);
  });
});

describe('lookups', () => {
  it('findByKey and findById return the record without the key', () => {
    const { key, record } = app.apiKeys.create(org, 'test', { at: '2026-01-01T00:00:00.000Z' });
    expect(app.apiKeys.findByKey(key)).toEqual(record);
    expect(app.apiKeys.findById(record.id)).toEqual(record);
    expect(JSON.stringify(record)).not.toContain(key.slice(12));
    expect(app.apiKeys.findByKey(`rk_test_${'Z'.repeat(32)}`)).toBeNull();
    expect(app.apiKeys.findById('key_nosuchkeyxxx')).toBeNull();
  });

  it('listForOrganization lists only that organization, oldest first', () => {
    const other = createOrg(app, 'Other').id;
    const first = app.apiKeys.create(org, 'live', { at: '2026-01-01T00:00:00.000Z' }).record;
    const second = app.apiKeys.create(org, 'test', { at: '2026-01-02T00:00:00.000Z' }).record;
    app.apiKeys.create(other, 'live');
    expect(app.apiKeys.listForOrganization(org)).toEqual([first, second]);
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

  it('the same key cannot be stored twice', () => {
    const secret = `rk_test_${'q'.repeat(32)}`;
    app.apiKeys.create(org, 'test', { secret });
    expect(() => app.apiKeys.create(org, 'test', { secret })).toThrow(/UNIQUE/);
  });
});
