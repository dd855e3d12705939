/** The PostgreSQL organization and API key stores: the shared contract, then what only rows can show. */
import { expect, it } from 'vitest';
import { PostgresApiKeyStore } from '../../../src/store/postgres/api-key-store.js';
import { hashApiKey } from '../../../src/store/sqlite/api-key-store.js';
import { apiKeyStoreContract, organizationStoreContract } from '../contract/accounts.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL accounts', () => {
  organizationStoreContract(postgresStores);
  apiKeyStoreContract(postgresStores);

  it('a stored scope this build does not know (a newer build wrote it) is refused, not read as fewer scopes', async () => {
    const database = await createTestDatabase();
    try {
      const pool = database.pool();
      const key = `rk_live_${'n'.repeat(32)}`;
      await pool.query("INSERT INTO organizations (id, name, created_at) VALUES ('org_newerscope01', 'A', '2026-01-01')");
      await pool.query(
        "INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, scopes, created_at) VALUES ('key_newerscope01', 'org_newerscope01', $1, $2, 'live', 'read,superuser', '2026-01-01T00:00:00.000Z')",
        [hashApiKey(key), key.slice(0, 12)],
      );
      const apiKeys = new PostgresApiKeyStore(pool);
      const refusal = 'API key key_newerscope01 has unknown scopes read,superuser';
      await expect(apiKeys.findById('key_newerscope01')).rejects.toThrow(refusal);
      await expect(apiKeys.authenticate(key)).rejects.toThrow(refusal);
    } finally {
      await database.drop();
    }
  });
});
