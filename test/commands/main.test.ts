/**
 * The operator CLI, driven as a user runs it: `node dist/cli.js ...` with its own temp database
 * and an environment that carries nothing of RefundKit's or Stripe's from the parent.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { insertRefund } from '../support/fixtures.js';
import {
  assertBuilt,
  cleanupCli,
  count,
  createTestHome,
  lastLine,
  lines,
  queryAll,
  ROOT,
  runCli,
  type RunResult,
} from '../support/cli.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupCli());

/** The bytes of the database and of any WAL beside it, as latin1 text, for a plain `grep`. */
function databaseBytes(dbPath: string): string {
  return [dbPath, `${dbPath}-wal`]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path).toString('latin1'))
    .join('\n');
}

/** Exactly one line on stderr, nothing on stdout. */
function expectOneErrorLine(result: RunResult, code: number, mentions: RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const errorLines = lines(result.stderr).filter((line) => line.startsWith('refundkit-mcp: '));
  expect(errorLines, result.stderr).toHaveLength(1);
  expect(lines(result.stderr)[0]).toBe(errorLines[0]);
  expect(errorLines[0]).toMatch(mentions);
}

describe('--help', () => {
  const cases: [args: string[], mentions: string][] = [
    [['--help'], 'Usage: refundkit-mcp [command]'],
    [['stdio', '--help'], 'Usage: refundkit-mcp [stdio]'],
    [['init', '--help'], 'Usage: refundkit-mcp init [--demo]'],
    [['orgs', '--help'], 'refundkit-mcp orgs create --name NAME'],
    [['orgs', 'create', '--help'], 'refundkit-mcp orgs create --name NAME'],
    [['orgs', 'list', '--help'], 'refundkit-mcp orgs list'],
    [['keys', '--help'], 'refundkit-mcp keys create --org ORG_ID'],
    [['keys', 'create', '--help'], 'refundkit-mcp keys create --org ORG_ID --name NAME [--mode live|test]'],
    [['keys', 'revoke', '--help'], 'refundkit-mcp keys revoke --id KEY_ID | --key API_KEY'],
    [['keys', 'list', '--help'], 'refundkit-mcp keys list --org ORG_ID'],
    [['discrepancies', '--help'], 'Usage: refundkit-mcp discrepancies [--org ORG_ID]'],
  ];

  it.concurrent.each(cases)('%j prints usage and exits 0 without touching a database', async (args, mentions) => {
    const home = createTestHome();
    const result = await runCli(args, home.env());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Usage');
    expect(result.stdout).toContain(mentions);
    expect(existsSync(home.dbPath)).toBe(false);
  });

  it.concurrent('--version prints the version alone', async () => {
    const home = createTestHome();
    const result = await runCli(['--version'], home.env());
    expect(result.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(result.stdout).toBe(`${pkg.version}\n`);
  });
});

describe('usage errors exit 2 with one clear line on stderr', () => {
  const cases: [args: string[], mentions: RegExp][] = [
    [['bogus'], /unknown command 'bogus'/],
    [['--bogus'], /'--bogus'/],
    [['init', '--bogus'], /Unknown option '--bogus'/],
    [['init', 'extra'], /'extra'/],
    [['stdio', '--port', '3000'], /Unknown option '--port'/],
    [['orgs', 'frobnicate'], /unknown orgs command 'frobnicate'/],
    [['orgs', 'create'], /--name is required/],
    [['keys', 'create'], /--org is required/],
    [['keys', 'create', '--org', 'org_abc123def456'], /--name is required/],
    [['keys', 'create', '--org', 'org_abc123def456', '--name', '   '], /--name: The key name must not be empty/],
    [['keys', 'create', '--org', 'org_abc123def456', '--name', 'x'.repeat(101)], /--name: The key name must be at most 100 characters/],
    [['keys', 'create', '--org', 'org_abc123def456', '--name', 'tab\there'], /--name: The key name must not contain control characters/],
    [['keys', 'create', '--name', 'Test agent', '--org', 'org_abc123def456', '--mode', 'prod'], /--mode must be live or test/],
    [['keys', 'create', '--name', 'Test agent', '--org', 'org_abc123def456', '--verbose'], /Unknown option '--verbose'/],
    [['keys', 'revoke'], /exactly one of --id KEY_ID or --key API_KEY/],
    [['keys', 'revoke', '--id', 'key_abc123def456', '--key', 'rk_test_x'], /exactly one of --id/],
    [['discrepancies', '--all'], /Unknown option '--all'/],
    [['discrepancies', '--org'], /--org/],
  ];

  it.concurrent.each(cases)('%j', async (args, mentions) => {
    const home = createTestHome();
    const result = await runCli(args, home.env());
    expectOneErrorLine(result, 2, mentions);
    // A misused command does nothing: not even create the database.
    expect(existsSync(home.dbPath)).toBe(false);
  });
});

describe('init', () => {
  it('creates the database and its parent folders, migrated, with no organization', async () => {
    const home = createTestHome();
    const dbPath = join(home.dir, 'nested', 'deeper', 'refundkit.db');
    const result = await runCli(['init'], home.env({ REFUNDKIT_DB_PATH: dbPath }));
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(dbPath)).toBe(true);
    expect(result.stdout).toContain(dbPath);
    const tables = queryAll<{ name: string }>(dbPath, "SELECT name FROM sqlite_master WHERE type = 'table'").map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['schema_migrations', 'organizations', 'api_keys', 'refunds', 'refund_events']));
    expect(count(dbPath, 'SELECT count(*) AS n FROM schema_migrations')).toBeGreaterThan(0);
    expect(count(dbPath, 'SELECT count(*) AS n FROM organizations')).toBe(0);
    expect(queryAll<{ journal_mode: string }>(dbPath, 'PRAGMA journal_mode')[0]?.journal_mode).toBe('wal');
  });

  it('six processes opening a database that does not exist yet, at once: each succeeds, each migration runs once', async () => {
    const home = createTestHome();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => runCli(['orgs', 'create', '--name', `Shop ${i}`], home.env())));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM organizations')).toBe(6);
    const versions = queryAll<{ version: number }>(home.dbPath, 'SELECT version FROM schema_migrations ORDER BY version').map((r) => r.version);
    expect(versions).toEqual([...new Set(versions)]);
    expect(versions.length).toBeGreaterThanOrEqual(4);
    expect(queryAll<{ journal_mode: string }>(home.dbPath, 'PRAGMA journal_mode')[0]?.journal_mode).toBe('wal');
  });

  it('--demo prints the demo key alone on the last line; a second run creates nothing twice', async () => {
    const home = createTestHome();
    const first = await runCli(['init', '--demo'], home.env());
    expect(first.code, first.stderr).toBe(0);
    expect(lastLine(first.stdout)).toBe(DEMO_API_KEY);
    expect(DEMO_API_KEY).toMatch(/^rk_test_[A-Za-z0-9]{24,64}$/);

    const tables = ['organizations', 'api_keys', 'refunds', 'refund_events', 'schema_migrations'];
    const counts = (): Record<string, number> =>
      Object.fromEntries(tables.map((table) => [table, count(home.dbPath, `SELECT count(*) AS n FROM ${table}`)]));
    const before = counts();
    expect(before.organizations).toBe(1);
    expect(before.api_keys).toBe(1);
    expect(before.refunds).toBeGreaterThanOrEqual(15);
    expect(before.refunds).toBeLessThanOrEqual(25);

    // The demo covers every status, both processors, all initiators, metadata set and null.
    const distinct = (column: string): string[] =>
      queryAll<{ v: string }>(home.dbPath, `SELECT DISTINCT ${column} AS v FROM refunds ORDER BY v`).map((r) => r.v);
    expect(distinct('status')).toEqual(['cancelled', 'completed', 'failed', 'pending', 'processing']);
    expect(distinct('processor')).toEqual(['sandbox', 'stripe']);
    expect(distinct('initiated_by')).toEqual(['api', 'dashboard', 'mcp']);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM refunds WHERE metadata IS NULL')).toBeGreaterThan(0);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM refunds WHERE metadata IS NOT NULL')).toBeGreaterThan(0);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM refunds WHERE organization_id = ?', DEMO_ORGANIZATION_ID)).toBe(
      before.refunds,
    );

    const second = await runCli(['init', '--demo'], home.env());
    expect(second.code, second.stderr).toBe(0);
    expect(lastLine(second.stdout)).toBe(DEMO_API_KEY);
    expect(counts()).toEqual(before);

    // Even the well-known demo key is stored only as its hash.
    expect(databaseBytes(home.dbPath)).not.toContain(DEMO_API_KEY);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM api_keys WHERE key_hash = ?', sha256(DEMO_API_KEY))).toBe(1);
    // …and named, so the dashboard shows who asked.
    expect(lines((await runCli(['keys', 'list', '--org', DEMO_ORGANIZATION_ID], home.env())).stdout)[0]?.split('\t')[6]).toBe('Demo agent');
  });

  it('--demo on a database made by a plain init adds the demo', async () => {
    const home = createTestHome();
    expect((await runCli(['init'], home.env())).code).toBe(0);
    const result = await runCli(['init', '--demo'], home.env());
    expect(result.code, result.stderr).toBe(0);
    expect(lastLine(result.stdout)).toBe(DEMO_API_KEY);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM organizations WHERE id = ?', DEMO_ORGANIZATION_ID)).toBe(1);
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

interface KeyRow {
  id: string;
  organization_id: string;
  key_hash: string;
  display_prefix: string;
  mode: string;
  revoked_at: string | null;
}

describe('orgs and keys', () => {
  async function createOrg(home: ReturnType<typeof createTestHome>, name: string): Promise<string> {
    const result = await runCli(['orgs', 'create', '--name', name], home.env());
    expect(result.code, result.stderr).toBe(0);
    return lastLine(result.stdout);
  }

  it('orgs create prints the new id alone on the last line; orgs list shows it', async () => {
    const home = createTestHome();
    const id = await createOrg(home, 'Acme Outdoor');
    expect(id).toMatch(/^org_[a-z0-9]{12}$/);
    expect(queryAll<{ name: string }>(home.dbPath, 'SELECT name FROM organizations WHERE id = ?', id)).toEqual([
      { name: 'Acme Outdoor' },
    ]);
    const other = await createOrg(home, 'Globex');
    expect(other).not.toBe(id);

    const list = await runCli(['orgs', 'list'], home.env());
    expect(list.code).toBe(0);
    const rows = lines(list.stdout).map((line) => line.split('\t'));
    expect(rows.map((row) => [row[0], row[2]])).toEqual(
      expect.arrayContaining([
        [id, 'Acme Outdoor'],
        [other, 'Globex'],
      ]),
    );
    expect(rows).toHaveLength(2);
  });

  it('orgs create refuses a blank name with exit 1 and creates nothing', async () => {
    const home = createTestHome();
    expectOneErrorLine(await runCli(['orgs', 'create', '--name', '   '], home.env()), 1, /--name must be 1 to 200 characters/);
    if (existsSync(home.dbPath)) expect(count(home.dbPath, 'SELECT count(*) AS n FROM organizations')).toBe(0);
  });

  it('keys create prints rk_live_/rk_test_ keys alone on the last line, stores only their hash', async () => {
    const home = createTestHome();
    const org = await createOrg(home, 'Acme');

    const live = await runCli(['keys', 'create', '--name', 'Test agent', '--org', org], home.env());
    expect(live.code, live.stderr).toBe(0);
    const liveKey = lastLine(live.stdout);
    expect(liveKey).toMatch(/^rk_live_[A-Za-z0-9]{24,64}$/);
    // Shown once, on stdout only; stderr names the key by its prefix.
    expect(live.stderr).not.toContain(liveKey);

    const test = await runCli(['keys', 'create', '--name', 'Test agent', '--org', org, '--mode', 'test'], home.env());
    expect(test.code, test.stderr).toBe(0);
    const testKey = lastLine(test.stdout);
    expect(testKey).toMatch(/^rk_test_[A-Za-z0-9]{24,64}$/);
    expect(testKey).not.toBe(liveKey);

    const rows = queryAll<KeyRow>(home.dbPath, 'SELECT * FROM api_keys ORDER BY mode');
    expect(rows.map((r) => [r.organization_id, r.mode, r.key_hash, r.revoked_at])).toEqual([
      [org, 'live', sha256(liveKey), null],
      [org, 'test', sha256(testKey), null],
    ]);
    for (const row of rows) expect(row.display_prefix.length).toBeLessThan(16);

    const bytes = databaseBytes(home.dbPath);
    for (const key of [liveKey, testKey]) {
      expect(bytes).not.toContain(key);
      // Not even the secret part after the prefix.
      expect(bytes).not.toContain(key.slice(12));
    }
  });

  it('keys create for an unknown organization exits 1 with one line and creates no key', async () => {
    const home = createTestHome();
    expect((await runCli(['init'], home.env())).code).toBe(0);
    expectOneErrorLine(
      await runCli(['keys', 'create', '--name', 'Test agent', '--org', 'org_nosuchorg000'], home.env()),
      1,
      /no organization org_nosuchorg000/,
    );
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM api_keys')).toBe(0);
  });

  it('keys revoke by --id and by --key; revoking twice fails; keys list shows the state', async () => {
    const home = createTestHome();
    const org = await createOrg(home, 'Acme');
    const createdA = await runCli(['keys', 'create', '--name', '  Support bot ', '--org', org], home.env());
    const keyA = lastLine(createdA.stdout);
    const keyB = lastLine((await runCli(['keys', 'create', '--name', 'Nightly reconciler', '--org', org, '--mode', 'test'], home.env())).stdout);
    const idOf = (key: string): string => {
      const [row] = queryAll<KeyRow>(home.dbPath, 'SELECT * FROM api_keys WHERE key_hash = ?', sha256(key));
      return row!.id;
    };
    const idA = idOf(keyA);
    const idB = idOf(keyB);
    const revokedAt = (id: string): string | null =>
      queryAll<KeyRow>(home.dbPath, 'SELECT * FROM api_keys WHERE id = ?', id)[0]!.revoked_at;

    const listBefore = await runCli(['keys', 'list', '--org', org], home.env());
    expect(listBefore.code).toBe(0);
    const before = lines(listBefore.stdout).map((line) => line.split('\t'));
    // The name is trimmed once, at the edge, and comes last: scripts that cut the first six columns keep working.
    expect(createdA.stderr).toContain(`created key Support bot (${idA} / ${keyA.slice(0, 12)}…)`);
    expect(before.map((row) => [row[0], row[2], row[4], row[6]]).sort()).toEqual(
      [
        [idA, 'live', 'active', 'Support bot'],
        [idB, 'test', 'active', 'Nightly reconciler'],
      ].sort(),
    );
    // The list never shows a key, only its prefix.
    expect(listBefore.stdout).not.toContain(keyA);
    expect(listBefore.stdout).not.toContain(keyB);

    const byId = await runCli(['keys', 'revoke', '--id', idA], home.env());
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toContain(idA);
    expect(revokedAt(idA)).not.toBeNull();
    expect(revokedAt(idB)).toBeNull();
    expectOneErrorLine(await runCli(['keys', 'revoke', '--id', idA], home.env()), 1, /already revoked/);

    const byKey = await runCli(['keys', 'revoke', '--key', keyB], home.env());
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(revokedAt(idB)).not.toBeNull();
    expectOneErrorLine(await runCli(['keys', 'revoke', '--key', keyB], home.env()), 1, /already revoked/);

    expectOneErrorLine(await runCli(['keys', 'revoke', '--id', 'key_nosuchkey000'], home.env()), 1, /no such API key/);

    const listAfter = await runCli(['keys', 'list', '--org', org], home.env());
    const after = lines(listAfter.stdout).map((line) => line.split('\t'));
    expect(after).toHaveLength(2);
    for (const row of after) expect(row[4]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});

describe('discrepancies', () => {
  it('lists what processors hold as paid for refunds we hold as cancelled or failed, per organization or all', async () => {
    const home = createTestHome();
    expect((await runCli(['init'], home.env())).code).toBe(0);
    const empty = await runCli(['discrepancies'], home.env());
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toBe('no discrepancies\n');
    // A discrepancy as the server records it (a webhook or the late-landing watch found it).
    const app = createSqliteApp(loadConfig({ HOME: home.dir, REFUNDKIT_DB_PATH: home.dbPath }));
    let org: string;
    let other: string;
    let refundId: string;
    try {
      org = (await app.organizations.create('Acme')).id;
      other = (await app.organizations.create('Other')).id;
      refundId = insertRefund(app, org, { status: 'cancelled', processor: 'stripe', externalRefundId: null }).id;
      const recorded = await app.refunds.recordDiscrepancy(
        {
          organizationId: org,
          refundId,
          processor: 'stripe',
          externalRefundId: 're_landedLate',
          ourStatus: 'cancelled',
          processorStatus: 'completed',
          source: 'late-landing watch',
          detectedAt: '2026-03-01T12:00:00.000Z',
        },
        'discrepancy: test',
      );
      expect(recorded).toBe(true);
    } finally {
      app.close();
    }
    const all = await runCli(['discrepancies'], home.env());
    expect(all.code, all.stderr).toBe(0);
    expect(lines(all.stdout).map((line) => line.split('\t'))).toEqual([
      ['2026-03-01T12:00:00.000Z', org, refundId, 'cancelled', 'stripe', 're_landedLate', 'completed', 'late-landing watch'],
    ]);
    expect(lines((await runCli(['discrepancies', '--org', org], home.env())).stdout)).toHaveLength(1);
    const none = await runCli(['discrepancies', '--org', other], home.env());
    expect(none.stdout).toBe('');
    expectOneErrorLine(await runCli(['discrepancies', '--org', 'org_nosuchorg000'], home.env()), 1, /no organization org_nosuchorg000/);
  });
});


describe('operators', () => {
  it('create generates a password printed once, stores only its scrypt hash; list and disable', async () => {
    const home = createTestHome();
    const org = lastLine((await runCli(['orgs', 'create', '--name', 'Acme'], home.env())).stdout);
    const made = await runCli(['operators', 'create', '--org', org, '--email', 'Ana@Example.com', '--name', 'Ana'], home.env());
    expect(made.code, made.stderr).toBe(0);
    const password = lastLine(made.stdout);
    expect(password).toMatch(/^[A-Za-z2-9]{20}$/);
    expect(made.stderr).toContain('its password is shown only once');
    expect(databaseBytes(home.dbPath)).not.toContain(password);
    expect(queryAll<{ h: string }>(home.dbPath, 'SELECT password_hash AS h FROM operators')[0]?.h).toMatch(/^scrypt\$32768\$8\$1\$/);

    const chosen = await runCli(['operators', 'create', '--org', org, '--email', 'bo@example.com', '--name', 'Bo', '--password-stdin'], home.env(), {
      input: 'chosen password here\n',
    });
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(chosen.stdout).toBe('');

    const list = await runCli(['operators', 'list', '--org', org], home.env());
    const rows = lines(list.stdout).map((line) => line.split('\t'));
    expect(rows.map((row) => [row[1], row[2], row[3], row[5]])).toEqual([
      [org, 'ana@example.com', 'Ana', 'active'],
      [org, 'bo@example.com', 'Bo', 'active'],
    ]);
    const disabled = await runCli(['operators', 'disable', '--id', rows[0]?.[0] ?? ''], home.env());
    expect(disabled.code).toBe(0);
    expect(lines((await runCli(['operators', 'list'], home.env())).stdout)[0]).not.toMatch(/\tactive$/);
    expectOneErrorLine(await runCli(['operators', 'disable', '--id', rows[0]?.[0] ?? ''], home.env()), 1, /no active operator/);
  });

  it('a duplicate email, a short password or an unknown organization is exit 1 and creates nothing', async () => {
    const home = createTestHome();
    const org = lastLine((await runCli(['orgs', 'create', '--name', 'Acme'], home.env())).stdout);
    expect((await runCli(['operators', 'create', '--org', org, '--email', 'ana@example.com', '--name', 'Ana'], home.env())).code).toBe(0);
    expectOneErrorLine(await runCli(['operators', 'create', '--org', org, '--email', 'ANA@example.com', '--name', 'A2'], home.env()), 1, /already exists/);
    expectOneErrorLine(
      await runCli(['operators', 'create', '--org', org, '--email', 'bo@example.com', '--name', 'Bo', '--password-stdin'], home.env(), { input: 'short' }),
      1,
      /at least 12 characters/,
    );
    expectOneErrorLine(await runCli(['operators', 'create', '--org', 'org_nosuchorgxxx', '--email', 'c@example.com', '--name', 'C'], home.env()), 1, /no organization/);
    expect(count(home.dbPath, 'SELECT count(*) AS n FROM operators')).toBe(1);
    expect((await runCli(['operators', 'create', '--org', org], home.env())).code).toBe(2);
  });

  it('init --demo prints the demo operator before the key, and that operator signs in', async () => {
    const home = createTestHome();
    const result = await runCli(['init', '--demo'], home.env());
    expect(lines(result.stdout).at(-2)).toBe(
      'demo operator for the dashboard (refundkit-mcp http, then /dashboard): demo@refundkit.invalid with password demo-operator-local-only',
    );
    const app = createSqliteApp(loadConfig({ REFUNDKIT_DB_PATH: home.dbPath }));
    try {
      expect((await app.operatorAuth.signIn('demo@refundkit.invalid', 'demo-operator-local-only', '127.0.0.1')).ok).toBe(true);
    } finally {
      await app.close();
    }
  });
});
