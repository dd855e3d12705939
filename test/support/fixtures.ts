/**
 * Shared test fixtures: a temporary database built the way the product builds it (createApp on a
 * loadConfig'd environment), organizations, and refunds in chosen statuses. Every temp folder is
 * tracked and removed by cleanupTempDirs() (call it in afterEach/afterAll).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteApp, type AppOptions, type SqliteApp } from '../../src/app.js';
import { loadConfig, type Env } from '../../src/config.js';
import { newApiKeyId, newApiKeySecret, newOrganizationId, newRefundId } from '../../src/domain/ids.js';
import type { ApiKeyMode, Clock, Organization } from '../../src/domain/ports.js';
import type { Actor, Initiator, Refund, RefundMetadata, RefundStatus } from '../../src/domain/refund.js';
import { refundSettings, type RefundSettings } from '../../src/domain/settings.js';
import { STRIPE_LATE_EXECUTION_FLOOR_MS } from '../../src/processors/stripe.js';
import { DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { hashApiKey } from '../../src/store/sqlite/api-key-store.js';

/** What the composition root tells refundSettings about the processor (src/app.ts). */
export const STRIPE_TIMING = { lateExecutionFloorMs: STRIPE_LATE_EXECUTION_FLOOR_MS };

const tempDirs: string[] = [];

/** A fresh folder under the OS temp dir, removed by cleanupTempDirs(). */
export function makeTempDir(prefix = 'refundkit-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A path for a database file that does not exist yet, inside a tracked temp folder. */
export function tempDbPath(): string {
  return join(makeTempDir(), 'refundkit.db');
}

const openApps: SqliteApp[] = [];

/**
 * An SqliteApp on a new temporary SQLite file. `env` is merged over a minimal environment (no Stripe key,
 * so the `stripe` processor is not configured unless a test sets it).
 */
export function createTestApp(env: Env = {}, options: AppOptions = {}): SqliteApp {
  const config = loadConfig({ HOME: makeTempDir('refundkit-home-'), REFUNDKIT_DB_PATH: tempDbPath(), ...env });
  const app = createSqliteApp(config, options);
  openApps.push(app);
  return app;
}

/** Closes every app made by createTestApp and removes every temp folder. */
export function cleanupAll(): void {
  for (const app of openApps.splice(0)) app.close();
  cleanupTempDirs();
}

/**
 * The settings the product derives from a default configuration, with `overrides` on top: what a
 * test that builds its own RefundService starts from.
 */
export function settingsWith(overrides: Partial<RefundSettings> = {}): RefundSettings {
  return { ...refundSettings(loadConfig({ HOME: '/nonexistent-refundkit-home' }), STRIPE_TIMING), ...overrides };
}

/*
 * Seeding is written in SQL, at once: tests set up their data synchronously, and do not depend on
 * the (asynchronous) store under test to do it.
 */

export function createOrg(app: SqliteApp, name = 'Test Org'): Organization {
  const organization: Organization = { id: newOrganizationId(), name, createdAt: new Date().toISOString() };
  app.db.prepare('INSERT INTO organizations (id, name, created_at) VALUES (@id, @name, @createdAt)').run(organization);
  return organization;
}

/** A live API key of the organization, returned in clear with its id. */
export function createKey(app: SqliteApp, organizationId: string, mode: ApiKeyMode = 'test'): { key: string; keyId: string } {
  const key = newApiKeySecret(mode);
  const keyId = newApiKeyId();
  app.db
    .prepare('INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(keyId, organizationId, hashApiKey(key), key.slice(0, 12), mode, new Date().toISOString());
  return { key, keyId };
}

export interface RefundSeed {
  status?: RefundStatus;
  processor?: string;
  amount?: number;
  currency?: string;
  reason?: string;
  metadata?: RefundMetadata | null;
  initiatedBy?: Initiator;
  createdAt?: string;
  id?: string;
  transactionId?: string;
  externalRefundId?: string | null;
}

/** A clock a test moves by hand: `clock.ms += …` or `clock.advance(…)`. */
export class FakeClock implements Clock {
  constructor(public ms = Date.parse('2026-03-01T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

let clockTick = 0;

/** Distinct, increasing timestamps so that "newest first" is well defined across inserts. */
export function nextTimestamp(): string {
  clockTick += 1;
  return new Date(Date.parse('2026-01-01T00:00:00.000Z') + clockTick * 1000).toISOString();
}

/** Inserts a refund written directly in the requested status (one creation event). */
export function insertRefund(app: SqliteApp, organizationId: string, seed: RefundSeed = {}): Refund {
  const createdAt = seed.createdAt ?? nextTimestamp();
  const status = seed.status ?? 'pending';
  const refund: Refund = {
    id: seed.id ?? newRefundId(),
    organizationId,
    externalRefundId:
      seed.externalRefundId !== undefined ? seed.externalRefundId : status === 'pending' ? null : `re_test${clockTick}`,
    transactionId: seed.transactionId ?? `ch_test${clockTick}`,
    amount: seed.amount ?? 2500,
    currency: seed.currency ?? 'usd',
    reason: seed.reason ?? 'requested_by_customer',
    status,
    processor: seed.processor ?? 'sandbox',
    metadata: seed.metadata === undefined ? null : seed.metadata,
    initiatedBy: seed.initiatedBy ?? 'api',
    createdAt,
    updatedAt: createdAt,
  };
  app.db.transaction(() => {
    app.db
      .prepare(
        `INSERT INTO refunds (id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
           processor, metadata, initiated_by, created_at, updated_at)
         VALUES (@id, @organizationId, @externalRefundId, @transactionId, @amount, @currency, @reason, @status,
           @processor, @metadata, @initiatedBy, @createdAt, @updatedAt)`,
      )
      .run({ ...refund, metadata: refund.metadata === null ? null : JSON.stringify(refund.metadata) });
    app.db
      .prepare(
        `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail)
         VALUES (?, ?, NULL, ?, ?, ?, NULL)`,
      )
      .run(refund.id, organizationId, status, refund.initiatedBy, createdAt);
  })();
  return refund;
}

/** Raw audit rows for a refund, straight from SQL (independent of the store's mapping). */
export interface RawEvent {
  id: number;
  refund_id: string;
  organization_id: string;
  from_status: string | null;
  to_status: string;
  initiated_by: Actor;
  created_at: string;
  detail: string | null;
}

export function rawEvents(app: SqliteApp, refundId: string): RawEvent[] {
  return app.db.prepare<[string], RawEvent>('SELECT * FROM refund_events WHERE refund_id = ? ORDER BY id').all(refundId);
}

export function countRows(app: SqliteApp, table: string): number {
  const row = app.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get();
  return row?.n ?? 0;
}

/** The stored status, read with SQL so that a test does not depend on the store under test. */
export function storedStatus(app: SqliteApp, refundId: string): string | undefined {
  return app.db.prepare<[string], { status: string }>('SELECT status FROM refunds WHERE id = ?').get(refundId)?.status;
}

/** ref_demo00000006 as the demo seeds it: the reference's example refund. */
export const DEMO_COMPLETED_REFUND = {
  id: 'ref_demo00000006',
  organizationId: DEMO_ORGANIZATION_ID,
  externalRefundId: 're_demo000006',
  transactionId: 'ch_demo000006',
  amount: 2500,
  currency: 'usd',
  reason: 'product_defective',
  status: 'completed',
  processor: 'stripe',
  metadata: { orderId: 'order_12345' },
  initiatedBy: 'api',
  createdAt: '2026-02-22T06:00:00.000Z',
  updatedAt: '2026-02-22T06:02:00.000Z',
};
