/** The PostgreSQL guardrail store: the shared contract. */
import { guardrailStoreContract } from '../contract/guardrails.js';
import { describePostgres } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL guardrail store', () => {
  guardrailStoreContract(postgresStores);
});
