/**
 * The SQLite file behind every store port: opened, migrated (even for a read-only server: bringing
 * the schema up to this build is set-up, not data), then reopened read-only when asked.
 */
import type { StoreBundle } from '../../domain/ports.js';
import { SqliteApiKeyStore } from './api-key-store.js';
import { migrate, openDatabase, schemaVersion, type SqliteDatabase } from './database.js';
import { SqliteGuardrailStore } from './guardrail-store.js';
import { SqliteOperatorStore } from './operator-store.js';
import { SqliteOrganizationStore } from './organization-store.js';
import { SqliteRefundStore } from './refund-store.js';
import { SqliteWebhookEventStore } from './webhook-event-store.js';

export interface SqliteStores extends StoreBundle {
  readonly kind: 'sqlite';
  /** The connection itself, for what only SQLite has (tests seed through it). */
  readonly db: SqliteDatabase;
}

export function openSqliteStores(path: string, options: { readonly?: boolean } = {}): { stores: SqliteStores; applied: number[] } {
  let db = openDatabase(path);
  let applied: number[];
  try {
    applied = migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  if (options.readonly === true) {
    db.close();
    db = openDatabase(path, { readonly: true });
  }
  const health = db.prepare('SELECT 1');
  const open = db;
  const stores: SqliteStores = {
    kind: 'sqlite',
    db: open,
    refunds: new SqliteRefundStore(open),
    organizations: new SqliteOrganizationStore(open),
    apiKeys: new SqliteApiKeyStore(open),
    guardrails: new SqliteGuardrailStore(open),
    webhookEvents: new SqliteWebhookEventStore(open),
    operators: new SqliteOperatorStore(open),
    health: () =>
      new Promise((resolve) => {
        health.get();
        resolve();
      }),
    schemaVersion: () => new Promise((resolve) => resolve(schemaVersion(open))),
    close: () => {
      if (open.open) open.close();
      return Promise.resolve();
    },
  };
  return { stores, applied };
}
