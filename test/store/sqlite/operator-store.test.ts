/**
 * The SQLite operator store: the shared contract, then the schema's own guarantees.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../../src/store/sqlite/database.js';
import { SqliteOperatorStore } from '../../../src/store/sqlite/operator-store.js';
import { cleanupAll, tempDbPath } from '../../support/fixtures.js';
import { operatorStoreContract } from '../contract/operators.js';
import { sqliteOperatorStores } from './harness.js';

operatorStoreContract(sqliteOperatorStores);

afterEach(() => cleanupAll());

describe('SqliteOperatorStore', () => {
  it('keeps no password and no session id in clear, and operator actions cannot be altered', async () => {
    const db = openDatabase(tempDbPath());
    migrate(db);
    db.prepare("INSERT INTO organizations (id, name, created_at) VALUES ('org_aaaaaaaaaaaa', 'A', '2026-01-01')").run();
    expect(() =>
      db.prepare("INSERT INTO operators (id, organization_id, email, name, password_hash, created_at) VALUES ('op_aaaaaaaaaaaa', 'org_aaaaaaaaaaaa', 'a@x.io', 'A', 'hunter2', '2026-01-01')").run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      db.prepare("INSERT INTO operators (id, organization_id, email, name, password_hash, created_at) VALUES ('op_aaaaaaaaaaaa', 'org_aaaaaaaaaaaa', 'A@X.io', 'A', 'scrypt$1', '2026-01-01')").run(),
    ).toThrow(/CHECK constraint failed/);
    const store = new SqliteOperatorStore(db);
    await store.recordAction({ organizationId: 'org_aaaaaaaaaaaa', actor: 'operator:a@x.io', action: 'key_created', subject: 'key_aaaaaaaaaaaa', at: '2026-01-01' });
    expect(() => db.prepare('DELETE FROM operator_actions').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE operator_actions SET actor = 'x'").run()).toThrow(/append-only/);
    db.close();
  });
});
