/**
 * The SQLite organization store: the shared contract, then the schema's own refusals.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../../src/app.js';
import { cleanupAll, createTestApp } from '../../support/fixtures.js';
import { organizationStoreContract } from '../contract/accounts.js';
import { sqliteStores } from './harness.js';

organizationStoreContract(sqliteStores);

let app: SqliteApp;

beforeEach(() => {
  app = createTestApp();
});

afterEach(() => {
  cleanupAll();
});

describe('SqliteOrganizationStore', () => {
  it('refuses a duplicate id, a malformed id and an empty or overlong name', async () => {
    await app.organizations.create('One', { id: 'org_aaaaaaaaaaaa' });
    await expect(app.organizations.create('Two', { id: 'org_aaaaaaaaaaaa' })).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
    await expect(app.organizations.create('Bad', { id: 'org_SHOUTING0000' })).rejects.toThrow(/CHECK constraint failed/);
    await expect(app.organizations.create('Bad', { id: 'acme' })).rejects.toThrow(/CHECK constraint failed/);
    await expect(app.organizations.create('')).rejects.toThrow(/CHECK constraint failed/);
    await expect(app.organizations.create('x'.repeat(201))).rejects.toThrow(/CHECK constraint failed/);
    expect(await app.organizations.list()).toHaveLength(1);
  });
});
