/** The PostgreSQL store bundle (src/store/postgres/stores.ts): the shared bundle contract. */
import { openPostgresStores } from '../../../src/store/postgres/stores.js';
import { migrations } from '../../../src/store/postgres/migrations/index.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { storeBundleContract } from '../contract/bundle.js';

describePostgres('PostgreSQL store bundle', () => {
  storeBundleContract(
    async () => {
      const database = await createTestDatabase({ migrated: false });
      return {
        open: (options) => openPostgresStores(database.url, options),
        dispose: () => database.drop(),
        exec: async (sql) => {
          await database.pool({ max: 1 }).query(sql);
        },
      };
    },
    migrations.map((m) => m.version),
  );
});
