/**
 * The composition root on PostgreSQL (REFUNDKIT_DATABASE_URL): the schema migrated at start, the
 * store-neutral bundle (health, schema version, close), the read-only server's read-only
 * transactions, and a key revoked by one process refused by another at its very next call.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { CommandError } from '../src/commands/common.js';
import { loadConfig } from '../src/config.js';
import { migrations } from '../src/store/postgres/migrations/index.js';
import { makeTempDir, cleanupTempDirs } from './support/fixtures.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './support/postgres.js';
import { RecordingLogger } from './support/recording-logger.js';

describePostgres('createApp on PostgreSQL', () => {
  let database: TestDatabase;
  const apps: App[] = [];

  beforeEach(async () => {
    database = await createTestDatabase({ migrated: false });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await database.drop();
    cleanupTempDirs();
  });

  async function app(env: Record<string, string> = {}, readOnly = false, logger?: RecordingLogger): Promise<App> {
    const home = makeTempDir('refundkit-home-');
    const config = loadConfig({ HOME: home, REFUNDKIT_DATABASE_URL: database.url, ...env });
    const made = await createApp(config, { readOnlyDatabase: readOnly, ...(logger === undefined ? {} : { logger }) });
    apps.push(made);
    return made;
  }

  it('migrates an empty database at start, logging where without the password, and serves it', async () => {
    const logger = new RecordingLogger();
    const first = await app({}, false, logger);
    expect(first.stores.kind).toBe('postgres');
    expect(await first.stores.schemaVersion()).toBe(migrations.length);
    await expect(first.stores.health()).resolves.toBeUndefined();
    const migrated = logger.entries.find((entry) => entry.message === 'database migrated');
    expect(migrated?.fields).toMatchObject({ applied: migrations.map((m) => m.version) });
    expect(JSON.stringify(migrated)).not.toContain('refundkit_test_only');
    const org = await first.organizations.create('Acme');
    expect((await first.organizations.list()).map((o) => o.id)).toEqual([org.id]);
  });

  it('a read-only server cannot write, whatever path a write takes', async () => {
    await app();
    const readOnly = await app({ REFUNDKIT_READ_ONLY: '1' }, true);
    await expect(readOnly.organizations.create('Nope')).rejects.toThrow(/read-only transaction/);
    expect(await readOnly.organizations.list()).toEqual([]);
  });

  it('closed, the health check fails; closing twice is harmless', async () => {
    const made = await app();
    await made.close();
    await made.close();
    await expect(made.stores.health()).rejects.toThrow();
  });

  it('a database it cannot reach is one clear error naming it, its password masked', async () => {
    const url = new URL(database.url);
    url.port = '1';
    const config = loadConfig({ HOME: makeTempDir('refundkit-home-'), REFUNDKIT_DATABASE_URL: url.toString() });
    const failure = await createApp(config).then(
      () => new Error('opened'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CommandError);
    expect((failure as Error).message).toMatch(/^cannot open the PostgreSQL database postgres:\/\/refundkit_test:…\[redacted\]@127\.0\.0\.1:1\/.* \(REFUNDKIT_DATABASE_URL\): .*ECONNREFUSED/);
    expect((failure as Error).message).not.toContain('refundkit_test_only');
  });

  it('a key revoked through one process is refused by another at its next call', async () => {
    const serving = await app();
    const operator = await app();
    const org = await operator.organizations.create('Acme');
    const { key, record } = await operator.apiKeys.create(org.id, 'live');
    expect(await serving.apiKeys.authenticate(key)).toMatchObject({ organizationId: org.id, keyId: record.id });
    expect(await serving.apiKeys.isLive(record.id)).toBe(true);
    expect(await operator.apiKeys.revoke(record.id)).toBe(true);
    expect(await serving.apiKeys.authenticate(key)).toBeNull();
    expect(await serving.apiKeys.isLive(record.id)).toBe(false);
  });
});
