/** The SQLite store bundle (src/store/sqlite/stores.ts): the shared bundle contract. */
import Database from 'better-sqlite3';
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
      exec: (sql) => {
        const db = new Database(path);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
        return Promise.resolve();
      },
    });
  },
  migrations.map((m) => m.version),
);
