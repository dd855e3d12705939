/**
 * The PostgreSQL refund store: the shared RefundStore and late-landing contracts
 * (test/store/contract/), the suites test/store/sqlite/ runs against SQLite. What only PostgreSQL
 * has is in schema.test.ts, plans.test.ts and races.test.ts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { PgPool } from '../../../src/store/postgres/database.js';
import { postgresStoresOn, type PostgresStores } from '../../../src/store/postgres/stores.js';
import { lateLandingContract } from '../contract/late-landings.js';
import { refundStoreContract } from '../contract/refund-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL refund store', () => {
  refundStoreContract(postgresStores);
  lateLandingContract(postgresStores);
});

describePostgres('PostgreSQL refund store: the last error, which only operators read', () => {
  let database: TestDatabase;
  let pool: PgPool;
  let stores: PostgresStores;
  let org: string;

  beforeEach(async () => {
    database = await createTestDatabase();
    pool = database.pool();
    stores = postgresStoresOn(pool);
    org = (await stores.organizations.create('Org')).id;
  });
  afterEach(() => database.drop());

  const lastError = async (id: string): Promise<string | null> =>
    (await pool.query<{ last_error: string | null }>('SELECT last_error FROM refunds WHERE id = $1', [id])).rows[0]?.last_error ?? null;

  it("a release records the attempt's error, masked, and a release without one keeps it", async () => {
    // Made up here: what a processor error may quote.
    const key = `sk_test_${'Q'.repeat(12)}storeMaskingOnly0000`;
    const T0 = '2026-05-05T05:00:00.000Z';
    const id = 'ref_pglasterr001';
    await stores.refunds.create({
      id, organizationId: org, transactionId: 'ch_lasterr', amount: 1000, currency: 'usd', reason: 'other', processor: 'stripe',
      metadata: null, initiatedBy: 'api', createdAt: T0, submitAt: T0, idempotencyKey: null, requestFingerprint: null,
    });
    expect(await stores.refunds.claimForSubmission(id, 'a', T0, '2026-05-05T05:01:00.000Z')).not.toBeNull();
    await stores.refunds.releaseClaim(id, 'a', { retryAt: T0, error: `upstream said: invalid key x${key}` });
    expect(await lastError(id)).toBe('upstream said: invalid key xsk_test_…[redacted]');
    expect(await stores.refunds.claimForSubmission(id, 'b', T0, '2026-05-05T05:01:00.000Z')).not.toBeNull();
    await stores.refunds.releaseClaim(id, 'b', { retryAt: T0 });
    expect(await lastError(id)).toBe('upstream said: invalid key xsk_test_…[redacted]');
  });
});
