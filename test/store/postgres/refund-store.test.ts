/**
 * The PostgreSQL refund store: the shared RefundStore and late-landing contracts
 * (test/store/contract/), the suites test/store/sqlite/ runs against SQLite. What only PostgreSQL
 * has is in schema.test.ts, plans.test.ts and races.test.ts.
 */
import { lateLandingContract } from '../contract/late-landings.js';
import { refundStoreContract } from '../contract/refund-store.js';
import { describePostgres } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL refund store', () => {
  refundStoreContract(postgresStores);
  lateLandingContract(postgresStores);
});
