/**
 * The shared store contract's factory for the PostgreSQL adapter: a fresh migrated schema per test
 * (test/support/postgres.ts), and another pool on it for `another()` (a second process's view).
 */
import { postgresStoresOn } from '../../../src/store/postgres/stores.js';
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
