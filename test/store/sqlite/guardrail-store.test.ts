/**
 * The SQLite guardrail store: the shared contract, then the schema's own refusals.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../../src/app.js';
import { cleanupAll, createOrg, createTestApp } from '../../support/fixtures.js';
import { guardrailStoreContract } from '../contract/guardrails.js';
import { sqliteStores } from './harness.js';

guardrailStoreContract(sqliteStores);

describe('SQLite guardrail schema', () => {
  let app: SqliteApp;
  let org: string;
  beforeEach(() => {
    app = createTestApp();
    org = createOrg(app).id;
  });
  afterEach(() => cleanupAll());

  it('keys made before scopes read and write; a stored scope list takes letters and commas only', () => {
    app.db.prepare("INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, mode, created_at) VALUES ('key_old000000000', ?, ?, 'rk_test_old', 'test', 'x')").run(org, 'a'.repeat(64));
    expect(app.db.prepare("SELECT scopes FROM api_keys WHERE id = 'key_old000000000'").pluck().get()).toBe('read,write');
    expect(() => app.db.prepare("UPDATE api_keys SET scopes = 'read; DROP' WHERE id = 'key_old000000000'").run()).toThrow();
  });

  it('a policy must be a JSON object, and an approval request a known status and rule', () => {
    expect(() => app.db.prepare("INSERT INTO agent_policies VALUES (?, '[1]', 'x', 'system')").run(org)).toThrow();
    expect(() =>
      app.db
        .prepare(
          `INSERT INTO approval_requests (id, organization_id, refund_id, amount, currency, reason, transaction_id, requested_by_key_id,
             rule, rule_message, status, expires_at, created_at)
           VALUES ('apr_aaaaaaaaaaaa', ?, 'ref_nosuchrefund', 1, 'usd', 'other', 'ch_1', 'key_nosuchkey000', 'made_up', 'm', 'maybe', 'x', 'x')`,
        )
        .run(org),
    ).toThrow(/CHECK/);
  });
});
