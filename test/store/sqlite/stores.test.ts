/** The SQLite store bundle (src/store/sqlite/stores.ts): the shared bundle contract. */
import { openSqliteStores } from '../../../src/store/sqlite/stores.js';
import { migrations } from '../../../src/store/sqlite/migrations/index.js';
import { cleanupTempDirs, tempDbPath } from '../../support/fixtures.js';
import { storeBundleContract } from '../contract/bundle.js';

storeBundleContract(
  () => {
    const path = tempDbPath();
    return Promise.resolve({
      open: (options) => Promise.resolve(openSqliteStores(path, options)),
      dispose: () => Promise.resolve(cleanupTempDirs()),
    });
  },
  migrations.map((m) => m.version),
);
