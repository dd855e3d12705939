/**
 * PostgreSQL behind every store port: a pool, the schema migrated (under an advisory lock, so that
 * processes starting together migrate once), and, for a read-only server, a second pool whose
 * every transaction is read-only. A new port is one more store file here and one migration.
 */
import type { StoreBundle } from '../../domain/ports.js';
import { PostgresApiKeyStore } from './api-key-store.js';
import { migrate, openPool, schemaVersion, type PgPool } from './database.js';
import { PostgresGuardrailStore } from './guardrail-store.js';
import { PostgresOperatorStore } from './operator-store.js';
import { PostgresOrganizationStore } from './organization-store.js';
import { PostgresRefundStore } from './refund-store.js';
import { PostgresWebhookEventStore } from './webhook-event-store.js';

export interface PostgresStores extends StoreBundle {
  readonly kind: 'postgres';
  readonly pool: PgPool;
}

export function postgresStoresOn(pool: PgPool): PostgresStores {
  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    pool,
    refunds: new PostgresRefundStore(pool),
    organizations: new PostgresOrganizationStore(pool),
    apiKeys: new PostgresApiKeyStore(pool),
    guardrails: new PostgresGuardrailStore(pool),
    webhookEvents: new PostgresWebhookEventStore(pool),
    operators: new PostgresOperatorStore(pool),
    health: async () => {
      await pool.query('SELECT 1');
    },
    schemaVersion: () => schemaVersion(pool),
    close: () => (closed ??= pool.end()),
  };
}

export async function openPostgresStores(url: string, options: { readonly?: boolean } = {}): Promise<{ stores: PostgresStores; applied: number[] }> {
  let pool = openPool(url);
  let applied: number[];
  try {
    applied = await migrate(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  if (options.readonly === true) {
    await pool.end();
    pool = openPool(url, { readonly: true });
  }
  return { stores: postgresStoresOn(pool), applied };
}
