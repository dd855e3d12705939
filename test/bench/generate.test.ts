/**
 * The benchmark's data generator writes straight to SQLite, bypassing the store: these checks
 * make sure what it leaves behind is what the product itself would hold (the migrated schema with
 * every index, keys that authenticate through the real store, the contract's values, a
 * consistent audit trail).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDatabase, ORGANIZATIONS, type GeneratedDatabase } from '../../bench/generate.js';
import { REFUND_REASONS, REFUND_STATUSES } from '../../src/domain/refund.js';
import { REFUND_ID_PATTERN } from '../../src/domain/schemas.js';
import { SqliteApiKeyStore } from '../../src/store/sqlite/api-key-store.js';
import { migrate, openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { assertBuilt } from '../support/cli.js';

const ROWS = 4_000;
let dir: string;
let generated: GeneratedDatabase;
let db: Database.Database;

beforeAll(async () => {
  assertBuilt(); // the generator opens the database with the built program's modules
  dir = mkdtempSync(join(tmpdir(), 'refundkit-bench-test-'));
  generated = await generateDatabase(join(dir, 'bench.db'), ROWS);
  db = openDatabase(generated.path);
});

afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function names(database: Database.Database, type: 'index' | 'table' | 'trigger'): string[] {
  return database
    .prepare<[string], { name: string }>("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all(type)
    .map((row) => row.name);
}

describe('generateDatabase', () => {
  it('leaves the schema the migrations make: same tables, indexes and triggers, nothing left to migrate, WAL', () => {
    const fresh = openDatabase(':memory:');
    migrate(fresh);
    for (const type of ['table', 'index', 'trigger'] as const) expect(names(db, type)).toEqual(names(fresh, type));
    fresh.close();
    expect(migrate(db)).toEqual([]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('writes the asked number of refunds over the organizations, the largest first', () => {
    expect(generated.rows).toBe(ROWS);
    expect(db.prepare('SELECT count(*) AS n FROM refunds').get()).toEqual({ n: ROWS });
    expect(generated.organizations).toHaveLength(ORGANIZATIONS);
    expect(generated.organizations.reduce((sum, o) => sum + o.refunds, 0)).toBe(ROWS);
    const sizes = generated.organizations.map((o) => o.refunds);
    expect(generated.largest.refunds).toBe(Math.max(...sizes));
    expect(Math.min(...sizes)).toBeGreaterThan(0);
    expect(generated.counts.total).toBe(generated.largest.refunds);
  });

  it("gives every organization a key that the product's own store authenticates", async () => {
    const keys = new SqliteApiKeyStore(db);
    for (const organization of generated.organizations) {
      expect((await keys.authenticate(organization.apiKey))?.organizationId).toBe(organization.id);
    }
  });

  it('holds every status, several processors and currencies, metadata set and null, only contract values', () => {
    const distinct = (column: string): string[] =>
      db
        .prepare<[], { v: string }>(`SELECT DISTINCT ${column} AS v FROM refunds ORDER BY v`)
        .all()
        .map((row) => row.v);
    expect(distinct('status')).toEqual([...REFUND_STATUSES].sort());
    expect(distinct('processor').length).toBeGreaterThanOrEqual(3);
    expect(distinct('currency').length).toBeGreaterThanOrEqual(3);
    expect(REFUND_REASONS).toEqual(expect.arrayContaining(distinct('reason')));
    const metadata = db.prepare<[], { set: number; none: number }>(
      'SELECT sum(metadata IS NOT NULL) AS "set", sum(metadata IS NULL) AS none FROM refunds',
    ).get();
    expect(metadata?.set).toBeGreaterThan(0);
    expect(metadata?.none).toBeGreaterThan(0);
    const ids = db.prepare<[], { id: string }>('SELECT id FROM refunds LIMIT 200').all();
    for (const { id } of ids) expect(id).toMatch(REFUND_ID_PATTERN);
  });

  it('reads back through the real store, newest first', async () => {
    const store = new SqliteRefundStore(db);
    const page = await store.list(generated.largest.id, {}, { limit: 25, offset: 0 });
    expect(page).toHaveLength(25);
    const created = page.map((r) => r.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const first = page[0];
    expect(first === undefined ? null : await store.findById(generated.largest.id, first.id)).toEqual(first);
  });

  it('writes the audit trail each status implies, in order, ending at the refund status', () => {
    const mismatched = db
      .prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM refunds r
         WHERE (SELECT to_status FROM refund_events e WHERE e.refund_id = r.id ORDER BY e.id DESC LIMIT 1) <> r.status
            OR (SELECT from_status FROM refund_events e WHERE e.refund_id = r.id ORDER BY e.id LIMIT 1) IS NOT NULL`,
      )
      .get();
    expect(mismatched).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM refund_events').get()).toEqual({ n: generated.events });
    const outOfOrder = db
      .prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM refund_events a JOIN refund_events b ON a.refund_id = b.refund_id AND a.id < b.id
         WHERE a.created_at > b.created_at`,
      )
      .get();
    expect(outOfOrder).toEqual({ n: 0 });
  });

  it('is reproducible: the same seed gives the same refunds', async () => {
    const again = await generateDatabase(join(dir, 'again.db'), 500);
    const other = new Database(again.path, { readonly: true });
    const first = (database: Database.Database) =>
      database.prepare('SELECT id, organization_id, amount, status, processor, created_at FROM refunds ORDER BY rowid LIMIT 50').all();
    const small = await generateDatabase(join(dir, 'small.db'), 500);
    const third = new Database(small.path, { readonly: true });
    expect(first(other)).toEqual(first(third));
    other.close();
    third.close();
  });
});
