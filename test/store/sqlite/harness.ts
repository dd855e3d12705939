/**
 * The shared store contract's factory for the SQLite adapter: a new file per test, in a temporary
 * folder that the test file's cleanupAll() removes.
 */
import { migrate, openDatabase, type SqliteDatabase } from '../../../src/store/sqlite/database.js';
import { SqliteApiKeyStore } from '../../../src/store/sqlite/api-key-store.js';
import { SqliteGuardrailStore } from '../../../src/store/sqlite/guardrail-store.js';
import { SqliteOperatorStore } from '../../../src/store/sqlite/operator-store.js';
import { SqliteOrganizationStore } from '../../../src/store/sqlite/organization-store.js';
import { SqliteRefundStore } from '../../../src/store/sqlite/refund-store.js';
import { SqliteWebhookEventStore } from '../../../src/store/sqlite/webhook-event-store.js';
import type { StoreHarness, Stores } from '../contract/harness.js';
import { tempDbPath } from '../../support/fixtures.js';

function storesOn(db: SqliteDatabase): Stores {
  return {
    refunds: new SqliteRefundStore(db),
    organizations: new SqliteOrganizationStore(db),
    apiKeys: new SqliteApiKeyStore(db),
    webhookEvents: new SqliteWebhookEventStore(db),
    guardrails: new SqliteGuardrailStore(db),
  };
}

export function sqliteStores(): Promise<StoreHarness> {
  const path = tempDbPath();
  const db = openDatabase(path);
  migrate(db);
  const connections = [db];
  return Promise.resolve({
    ...storesOn(db),
    another: () => {
      const other = openDatabase(path);
      connections.push(other);
      return Promise.resolve(storesOn(other));
    },
    close: () => {
      for (const connection of connections) if (connection.open) connection.close();
      return Promise.resolve();
    },
  });
}

/** The same, with the operator store (its own port, kept apart so another adapter can add it later). */
export function sqliteOperatorStores(): Promise<StoreHarness & { operators: SqliteOperatorStore; anotherOperators(): Promise<SqliteOperatorStore> }> {
  const path = tempDbPath();
  const db = openDatabase(path);
  migrate(db);
  const connections = [db];
  const open = (): SqliteDatabase => {
    const other = openDatabase(path);
    connections.push(other);
    return other;
  };
  return Promise.resolve({
    ...storesOn(db),
    operators: new SqliteOperatorStore(db),
    another: () => Promise.resolve(storesOn(open())),
    anotherOperators: () => Promise.resolve(new SqliteOperatorStore(open())),
    close: () => {
      for (const connection of connections) if (connection.open) connection.close();
      return Promise.resolve();
    },
  });
}
