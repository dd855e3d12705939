/**
 * What a Stripe error message carries ends up in the audit trail (`rejected by stripe: …`) and in
 * a refund's last error. Stripe (or a proxy in front of it) quoting our secret key there must not
 * put the key in the database file: the file, its WAL and their copies and backups are read by
 * more people and tools than the logs are. Checked on the bytes of the files themselves.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, createOrg, createTestApp, rawEvents } from '../support/fixtures.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';

// Generated for this run: a leak cannot match by luck, and nothing real is ever written.
const STRIPE_KEY = `sk_test_${randomBytes(24).toString('hex')}`;

let imitation: StripeImitation;

beforeAll(async () => {
  imitation = await startStripeImitation({ apiKey: STRIPE_KEY, apiKeys: [STRIPE_KEY] });
});
afterAll(async () => {
  await imitation.close();
});
afterEach(() => cleanupAll());

function databaseBytes(dbPath: string): string {
  return [dbPath, `${dbPath}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1')).join('\n');
}

describe('a Stripe error that quotes the Stripe key', () => {
  it('a 400 whose message carries the key: the refund fails, and the key is in neither the database file nor its WAL', async () => {
    const app = createTestApp({ STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: imitation.url, STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '3000' });
    const org = createOrg(app);
    const { chargeId } = imitation.addCharge({ amount: 5_000 });
    // Glued to other text, as a message may quote it: "key:sk_…" or "(sk_…)" or "keysk_…".
    imitation.failNext(
      1,
      { kind: 'status', status: 400, code: 'resource_missing', message: `Invalid request made with key${STRIPE_KEY}; see https://stripe.example/${STRIPE_KEY}` },
      { method: 'POST', path: '/v1/refunds' },
    );
    const refund = await app.service.create({ organizationId: org.id, actor: 'mcp' }, { transactionId: chargeId, amount: 1_000, currency: 'usd', reason: 'other' });
    expect(refund.status).toBe('failed');
    const detail = rawEvents(app, refund.id).at(-1)?.detail ?? '';
    // The event still says what Stripe said, with the key masked.
    expect(detail).toContain('rejected by stripe: resource_missing: Invalid request made with key');
    expect(detail).toContain('sk_test_…[redacted]');

    for (const bytes of [databaseBytes(app.config.dbPath), (app.db.pragma('wal_checkpoint(TRUNCATE)'), databaseBytes(app.config.dbPath))]) {
      expect(bytes.includes(STRIPE_KEY)).toBe(false);
      expect(bytes.includes(STRIPE_KEY.slice(-16))).toBe(false);
    }
  });
});
