/**
 * The shared store contract (test/store/contract/), every port of it, against PostgreSQL: the
 * same suite test/store/sqlite/ runs against SQLite.
 */
import { apiKeyStoreContract, organizationStoreContract } from '../contract/accounts.js';
import { guardrailStoreContract } from '../contract/guardrails.js';
import { lateLandingContract } from '../contract/late-landings.js';
import { refundStoreContract } from '../contract/refund-store.js';
import { webhookEventStoreContract } from '../contract/webhook-events.js';
import { describePostgres } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL store contract', () => {
  refundStoreContract(postgresStores);
  lateLandingContract(postgresStores);
  organizationStoreContract(postgresStores);
  apiKeyStoreContract(postgresStores);
  webhookEventStoreContract(postgresStores);
  guardrailStoreContract(postgresStores);
});
