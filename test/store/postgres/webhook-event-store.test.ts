/** The PostgreSQL webhook event store: the shared contract. */
import { webhookEventStoreContract } from '../contract/webhook-events.js';
import { describePostgres } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL webhook event store', () => {
  webhookEventStoreContract(postgresStores);
});
