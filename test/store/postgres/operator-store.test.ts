/** The PostgreSQL operator store: the shared contract, then the schema's own guarantees. */
import { expect, it } from 'vitest';
import { PostgresOperatorStore } from '../../../src/store/postgres/operator-store.js';
import { operatorStoreContract } from '../contract/operators.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { postgresOperatorStores } from './harness.js';

describePostgres('PostgreSQL operators', () => {
  operatorStoreContract(postgresOperatorStores);

  it('keeps no password and no session id in clear, and operator actions cannot be altered', async () => {
    const database = await createTestDatabase();
    try {
      const pool = database.pool();
      await pool.query("INSERT INTO organizations (id, name, created_at) VALUES ('org_aaaaaaaaaaaa', 'A', '2026-01-01')");
      const insert = (email: string, hash: string) =>
        pool.query(
          `INSERT INTO operators (id, organization_id, email, name, password_hash, created_at) VALUES ('op_aaaaaaaaaaaa', 'org_aaaaaaaaaaaa', $1, 'A', $2, '2026-01-01')`,
          [email, hash],
        );
      await expect(insert('a@x.io', 'hunter2')).rejects.toThrow(/check constraint/);
      await expect(insert('A@X.io', 'scrypt$1')).rejects.toThrow(/check constraint/);
      await expect(
        pool.query("INSERT INTO operator_sessions VALUES ('short', 'op_aaaaaaaaaaaa', 'x', '2026', '2026', '2026')"),
      ).rejects.toThrow(/constraint/);
      const store = new PostgresOperatorStore(pool);
      await store.recordAction({ organizationId: 'org_aaaaaaaaaaaa', actor: 'operator:a@x.io', action: 'key_created', subject: 'key_aaaaaaaaaaaa', at: '2026-01-01' });
      await expect(pool.query('DELETE FROM operator_actions')).rejects.toThrow(/append-only/);
      await expect(pool.query("UPDATE operator_actions SET actor = 'x'")).rejects.toThrow(/append-only/);
      await expect(pool.query('TRUNCATE operator_actions')).rejects.toThrow(/append-only/);
    } finally {
      await database.drop();
    }
  });
});
