/** The PostgreSQL organization and API key stores: the shared contract. */
import { apiKeyStoreContract, organizationStoreContract } from '../contract/accounts.js';
import { describePostgres } from '../../support/postgres.js';
import { postgresStores } from './harness.js';

describePostgres('PostgreSQL accounts', () => {
  organizationStoreContract(postgresStores);
  apiKeyStoreContract(postgresStores);
});
