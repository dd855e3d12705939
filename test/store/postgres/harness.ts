/**
 * The shared store contract's factory for the PostgreSQL adapter: a fresh migrated schema per test
 * (test/support/postgres.ts), and another pool on it for `another()` (a second process's view).
 */
import type { OperatorStore } from '../../../src/domain/ports.js';
import { postgresStoresOn, type PostgresStores } from '../../../src/store/postgres/stores.js';
import type { StoreHarness, Stores } from '../contract/harness.js';
import { createTestDatabase } from '../../support/postgres.js';

export async function postgresStores(): Promise<StoreHarness> {
  const database = await createTestDatabase();
  const stores = (): Stores => postgresStoresOn(database.pool());
  return {
    ...stores(),
    another: () => Promise.resolve(stores()),
    close: () => database.drop(),
  };
}

/** The same, with the operator store and another pool's view of it. */
export async function postgresOperatorStores(): Promise<StoreHarness & { operators: OperatorStore; anotherOperators(): Promise<OperatorStore> }> {
  const database = await createTestDatabase();
  const stores = (): PostgresStores => postgresStoresOn(database.pool());
  const first = stores();
  return {
    ...first,
    operators: first.operators,
    another: () => Promise.resolve(stores()),
    anotherOperators: () => Promise.resolve(stores().operators),
    close: () => database.drop(),
  };
}
