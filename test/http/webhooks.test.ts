/**
 * POST /webhooks/stripe against a live server whose Stripe processor is the real `stripe`
 * package pointed at the Stripe imitation (test/support/stripe-imitation.ts). Every delivery is
 * signed in the test, as Stripe signs it: valid, tampered, stale, replayed, out of order.
 */
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Refund } from '../../src/domain/refund.js';
import { SIGNATURE_TOLERANCE_SECONDS } from '../../src/processors/stripe-webhook.js';
import { countRows, insertRefund, rawEvents, storedStatus } from '../support/fixtures.js';
import { startStripeImitation, type SignedEvent, type StripeImitation } from '../support/stripe-imitation.js';
import { bearer, cleanupHttp, JSON_HEADERS, orgWithKey, raw, startTestServer, type RawResponse, type TestServer } from '../support/http-server.js';

const SECRET = 'whsec_testOnlyNotARealSigningSecret0001';

let stripe: StripeImitation;
let s: TestServer;
let key: string;

beforeAll(async () => {
  stripe = await startStripeImitation();
  s = await startTestServer({
    STRIPE_SECRET_KEY: 'sk_test_webhookTests000000',
    STRIPE_API_BASE: stripe.url,
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_MAX_NETWORK_RETRIES: '0',
    STRIPE_TIMEOUT_MS: '3000',
  });
  key = orgWithKey(s.app).key;
});
afterAll(async () => {
  await cleanupHttp();
  await stripe.close();
});
afterEach(() => {
  expect(stripe.pendingFaults()).toBe(0);
});

/** A refund created through the API and submitted to Stripe, which holds it as pending: processing here. */
async function processingRefund(): Promise<{ refund: Refund; stripeId: string }> {
  const { chargeId } = stripe.addCharge({ amount: 10_000, currency: 'usd', refundBehavior: 'pending' });
  const res = await raw(`${s.url}/v1/refunds`, {
    method: 'POST',
    headers: bearer(key, JSON_HEADERS),
    body: JSON.stringify({ transactionId: chargeId, amount: 2500, reason: 'product_defective' }),
  });
  expect(res.status, res.text).toBe(200);
  const refund = (res.json() as { data: Refund }).data;
  expect(refund.status).toBe('processing');
  expect(refund.externalRefundId).toMatch(/^re_/);
  return { refund, stripeId: refund.externalRefundId! };
}

function deliver(event: SignedEvent, header: string = event.header, payload: string = event.payload): Promise<RawResponse> {
  return raw(`${s.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header },
    body: payload,
  });
}

function answer(res: RawResponse): { eventId: string; type: string; outcome: string; refundId: string | null } {
  expect(res.status, res.text).toBe(200);
  return (res.json() as { data: { eventId: string; type: string; outcome: string; refundId: string | null } }).data;
}

describe('a signed delivery', () => {
  it('moves a processing refund to completed, with an event row saying where the status came from', async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'succeeded');
    const event = stripe.signedEvent(SECRET, 'refund.updated', stripeId, { previousAttributes: { status: 'pending' } });
    const data = answer(await deliver(event));
    expect(data).toEqual({ eventId: event.event.id, type: 'refund.updated', outcome: 'applied', refundId: refund.id });
    expect(storedStatus(s.app, refund.id)).toBe('completed');
    const last = rawEvents(s.app, refund.id).at(-1)!;
    expect(last).toMatchObject({ from_status: 'processing', to_status: 'completed', initiated_by: 'system' });
    expect(last.detail).toContain(`stripe webhook refund.updated ${event.event.id}`);
    expect(last.detail).toContain('status read from stripe');
    const got = await raw(`${s.url}/v1/refunds/${refund.id}`, { headers: bearer(key) });
    expect((got.json() as { data: Refund }).data.status).toBe('completed');
  });

  it('prefers a fresh read from Stripe over the copy in the event', async () => {
    const { refund, stripeId } = await processingRefund();
    // The event still says pending (it was sent before the refund settled); Stripe now says succeeded.
    const event = stripe.signedEvent(SECRET, 'refund.created', stripeId);
    stripe.setRefundStatus(stripeId, 'succeeded');
    expect(answer(await deliver(event)).outcome).toBe('applied');
    expect(storedStatus(s.app, refund.id)).toBe('completed');
  });

  it("falls back to the event's status when Stripe cannot be read, and says so in the event row", async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'succeeded');
    const event = stripe.signedEvent(SECRET, 'charge.refund.updated', stripeId);
    stripe.failNext(1, { kind: 'status', status: 503 }, { method: 'GET', path: '/v1/refunds/' });
    expect(answer(await deliver(event)).outcome).toBe('applied');
    expect(storedStatus(s.app, refund.id)).toBe('completed');
    expect(rawEvents(s.app, refund.id).at(-1)!.detail).toContain('from the event (reading it from stripe failed)');
  });

  it('refund.failed after completion moves completed to failed (a late card refund failure)', async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'succeeded');
    answer(await deliver(stripe.signedEvent(SECRET, 'refund.updated', stripeId)));
    stripe.setRefundStatus(stripeId, 'failed', 'lost_or_stolen_card');
    expect(answer(await deliver(stripe.signedEvent(SECRET, 'refund.failed', stripeId))).outcome).toBe('applied');
    expect(storedStatus(s.app, refund.id)).toBe('failed');
    expect(rawEvents(s.app, refund.id).at(-1)!.detail).toContain('lost_or_stolen_card');
  });

  it('a refund that is not ours, or an event type we do not handle, is acknowledged and changes nothing', async () => {
    const { chargeId } = stripe.addCharge({ amount: 500, currency: 'usd' });
    const foreign = await stripe.stripeClient().refunds.create({ charge: chargeId, amount: 100 });
    const before = countRows(s.app, 'refund_events');
    expect(answer(await deliver(stripe.signedEvent(SECRET, 'refund.updated', foreign.id)))).toMatchObject({ outcome: 'ignored', refundId: null });
    const { stripeId } = await processingRefund();
    const afterCreate = countRows(s.app, 'refund_events');
    stripe.setRefundStatus(stripeId, 'succeeded');
    expect(answer(await deliver(stripe.signedEvent(SECRET, 'payout.paid', stripeId))).outcome).toBe('ignored');
    expect(countRows(s.app, 'refund_events')).toBe(afterCreate);
    expect(afterCreate - before).toBe(2); // the create and its submission, nothing from the webhooks
  });
});

describe('signatures', () => {
  let refund: Refund;
  let event: SignedEvent;
  let eventsBefore: number;

  beforeEach(async () => {
    let stripeId: string;
    ({ refund, stripeId } = await processingRefund());
    stripe.setRefundStatus(stripeId, 'succeeded');
    event = stripe.signedEvent(SECRET, 'refund.updated', stripeId);
    eventsBefore = countRows(s.app, 'refund_events');
  });

  function expectRefused(res: RawResponse, message: RegExp): void {
    expect(res.status, res.text).toBe(400);
    const body = res.json() as { error: { message: string; code: string } };
    expect(body.error.code).toBe('validation_error');
    expect(body.error.message).toMatch(message);
    expect(res.text).not.toContain(SECRET);
    expect(storedStatus(s.app, refund.id)).toBe('processing');
    expect(countRows(s.app, 'refund_events')).toBe(eventsBefore);
    expect(s.app.db.prepare('SELECT count(*) AS n FROM webhook_events WHERE event_id = ?').get(event.event.id)).toEqual({ n: 0 });
  }

  it('a tampered body is refused (400) and changes nothing', async () => {
    expectRefused(await deliver(event, event.header, event.payload.replace('"succeeded"', '"failed"')), /does not match/);
    expectRefused(await deliver(event, event.header, `${event.payload} `), /does not match/);
  });

  it('a signature made with another secret is refused', async () => {
    const forged = stripe.signedEvent('whsec_someoneElsesSecret000000', 'refund.updated', refund.externalRefundId!, { id: event.event.id });
    expectRefused(await deliver(forged), /does not match/);
  });

  it(`a signature older than ${SIGNATURE_TOLERANCE_SECONDS} s is refused as stale`, async () => {
    const old = stripe.signedEvent(SECRET, 'refund.updated', refund.externalRefundId!, {
      timestamp: Math.floor(Date.now() / 1000) - SIGNATURE_TOLERANCE_SECONDS - 60,
    });
    expectRefused(await deliver(old), /older than 300 seconds/);
  });

  it('a correctly signed body that is not a JSON event, or an empty one, is refused', async () => {
    const payload = 'not json at all';
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    expectRefused(await deliver(event, header, payload), /^Webhook body is not a JSON event$/);
    const empty = await raw(`${s.url}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': event.header } });
    expectRefused(empty, /^Webhook body is empty$/);
  });

  it('a missing or malformed Stripe-Signature header is refused', async () => {
    const missing = await raw(`${s.url}/webhooks/stripe`, { method: 'POST', headers: JSON_HEADERS, body: event.payload });
    expectRefused(missing, /^Missing Stripe-Signature header/);
    expectRefused(await deliver(event, 'garbage'), /malformed/);
    expectRefused(await deliver(event, `t=${Math.floor(Date.now() / 1000)},v0=abc`), /malformed/);
  });
});

describe('replays and order', () => {
  it('a replayed event changes nothing, even after the refund moved on', async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'succeeded');
    const event = stripe.signedEvent(SECRET, 'refund.updated', stripeId);
    expect(answer(await deliver(event)).outcome).toBe('applied');
    const rows = rawEvents(s.app, refund.id).length;
    // Stripe redelivers the same event (same id, re-signed now) after the refund has failed.
    stripe.setRefundStatus(stripeId, 'failed');
    const replay = stripe.signedEvent(SECRET, 'refund.updated', stripeId, { id: event.event.id });
    expect(answer(await deliver(replay))).toMatchObject({ outcome: 'duplicate', refundId: refund.id });
    expect(answer(await deliver(event)).outcome).toBe('duplicate');
    expect(storedStatus(s.app, refund.id)).toBe('completed');
    expect(rawEvents(s.app, refund.id)).toHaveLength(rows);
  });

  it('the same event delivered several times at once is applied once', async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'succeeded');
    const event = stripe.signedEvent(SECRET, 'refund.updated', stripeId);
    const rows = rawEvents(s.app, refund.id).length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(event)));
    const outcomes = answers.map((res) => answer(res).outcome);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(rawEvents(s.app, refund.id)).toHaveLength(rows + 1);
    expect(s.app.db.prepare('SELECT count(*) AS n FROM webhook_events WHERE event_id = ?').get(event.event.id)).toEqual({ n: 1 });
  });

  it('out of order: a late "succeeded" after "failed" does not move the refund back', async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'succeeded');
    const first = stripe.signedEvent(SECRET, 'refund.updated', stripeId);
    stripe.setRefundStatus(stripeId, 'failed', 'expired_or_canceled_card');
    const second = stripe.signedEvent(SECRET, 'refund.failed', stripeId);
    expect(answer(await deliver(second)).outcome).toBe('applied');
    expect(storedStatus(s.app, refund.id)).toBe('failed');
    expect(answer(await deliver(first)).outcome).toBe('unchanged');
    expect(storedStatus(s.app, refund.id)).toBe('failed');
  });

  it('out of order with Stripe unreachable: the status machine still refuses the move back', async () => {
    const { refund, stripeId } = await processingRefund();
    stripe.setRefundStatus(stripeId, 'failed');
    expect(answer(await deliver(stripe.signedEvent(SECRET, 'refund.failed', stripeId))).outcome).toBe('applied');
    const stale = stripe.signedEvent(SECRET, 'refund.updated', { ...stripe.refund(stripeId)!, status: 'succeeded' });
    stripe.failNext(1, { kind: 'status', status: 500 }, { method: 'GET', path: '/v1/refunds/' });
    const rows = rawEvents(s.app, refund.id).length;
    expect(answer(await deliver(stale)).outcome).toBe('unchanged');
    expect(storedStatus(s.app, refund.id)).toBe('failed');
    expect(rawEvents(s.app, refund.id)).toHaveLength(rows);
  });
});

describe('a refund of ours that we hold as cancelled or failed, made at Stripe after all (issue 15)', () => {
  /** Ours, settled here without a Stripe id; then Stripe executes the create it had received. */
  async function landedLate(status: 'cancelled' | 'failed'): Promise<{ refund: Refund; stripeId: string }> {
    const { organizationId } = orgWithKey(s.app, 'Late landings');
    const { chargeId } = stripe.addCharge({ amount: 10_000, currency: 'usd' });
    const refund = insertRefund(s.app, organizationId, { status, processor: 'stripe', externalRefundId: null, transactionId: chargeId });
    const made = await stripe.stripeClient().refunds.create({ charge: chargeId, amount: 2500, metadata: { refundkit_refund_id: refund.id } });
    return { refund, stripeId: made.id };
  }

  it.each(['cancelled', 'failed'] as const)(
    'held as %s: acknowledged 200 "discrepancy" (it was 409 refund_busy on every delivery), recorded and listed, the status left as it is',
    async (status) => {
      const { refund, stripeId } = await landedLate(status);
      const before = rawEvents(s.app, refund.id).length;
      const event = stripe.signedEvent(SECRET, 'refund.created', stripeId);
      expect(answer(await deliver(event))).toEqual({ eventId: event.event.id, type: 'refund.created', outcome: 'discrepancy', refundId: refund.id });
      expect(storedStatus(s.app, refund.id)).toBe(status);
      const added = rawEvents(s.app, refund.id).slice(before);
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ from_status: status, to_status: status, initiated_by: 'system' });
      expect(added[0]?.detail).toContain(`stripe holds ${stripeId} as completed while this refund is ${status}`);
      expect(added[0]?.detail).toContain(event.event.id);
      expect((await s.app.refunds.findById(refund.organizationId, refund.id))?.externalRefundId).toBe(stripeId);
      expect(await s.app.refunds.listDiscrepancies(refund.organizationId)).toEqual([
        expect.objectContaining({ refundId: refund.id, externalRefundId: stripeId, ourStatus: status, processorStatus: 'completed' }),
      ]);
      // Later events about it are acknowledged too, and record nothing new.
      expect(answer(await deliver(stripe.signedEvent(SECRET, 'refund.updated', stripeId))).outcome).toBe('discrepancy');
      expect(rawEvents(s.app, refund.id).slice(before)).toHaveLength(1);
      expect(await s.app.refunds.listDiscrepancies(refund.organizationId)).toHaveLength(1);
    },
  );
});

describe('configuration', () => {
  it('without STRIPE_WEBHOOK_SECRET the endpoint answers processor_not_configured (501), saying what to set', async () => {
    const bare = await startTestServer();
    const res = await raw(`${bare.url}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': 't=1,v1=x', ...JSON_HEADERS }, body: '{}' });
    expect(res.status).toBe(501);
    const body = res.json() as { error: { message: string; code: string } };
    expect(body.error.code).toBe('processor_not_configured');
    expect(body.error.message).toContain('STRIPE_WEBHOOK_SECRET');
  });
});
