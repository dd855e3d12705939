/**
 * The Stripe imitation, driven by the real `stripe` package: what the SDK sees of each endpoint,
 * error and fault is what production code will see, so these tests pin both the imitation's
 * fidelity and the SDK behaviour the processor relies on (retries, idempotency keys, timeouts).
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeImitation, type StripeImitation } from './stripe-imitation.js';
import { deferred } from './scripted.js';

let imitation: StripeImitation;

beforeAll(async () => {
  imitation = await startStripeImitation();
});

afterAll(async () => {
  await imitation.close();
});

beforeEach(() => {
  imitation.reset();
});

/** The rejection of a promise that must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function posts(): typeof imitation.requests {
  return imitation.requests.filter((r) => r.method === 'POST');
}

describe('refund endpoints', () => {
  it('creates a refund of a charge with Stripe’s full refund object, and logs the request', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId, paymentIntentId } = imitation.addCharge({ amount: 5000, currency: 'eur' });

    const refund = await stripe.refunds.create(
      { charge: chargeId, amount: 1200, reason: 'requested_by_customer', metadata: { refundkit_id: 'ref_abc123def456', note: 'a b&c=d' } },
      { idempotencyKey: 'refundkit-ref_abc123def456' },
    );

    expect(refund).toMatchObject({
      object: 'refund',
      amount: 1200,
      currency: 'eur',
      charge: chargeId,
      payment_intent: paymentIntentId,
      reason: 'requested_by_customer',
      status: 'succeeded',
      metadata: { refundkit_id: 'ref_abc123def456', note: 'a b&c=d' },
      receipt_number: null,
      transfer_reversal: null,
      source_transfer_reversal: null,
    });
    expect(refund.id).toMatch(/^re_[A-Za-z0-9]{24}$/);
    expect(refund.balance_transaction).toMatch(/^txn_/);
    expect(Math.abs(refund.created - Date.now() / 1000)).toBeLessThan(5);
    expect(refund).not.toHaveProperty('failure_reason');
    expect(refund.lastResponse.statusCode).toBe(200);
    expect(refund.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(imitation.refundableAmount(chargeId)).toBe(3800);

    expect(imitation.requests).toHaveLength(1);
    expect(imitation.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/refunds',
      idempotencyKey: 'refundkit-ref_abc123def456',
      params: { charge: chargeId, amount: '1200', reason: 'requested_by_customer', metadata: { refundkit_id: 'ref_abc123def456' } },
      apiKey: imitation.apiKey,
      stripeVersion: Stripe.API_VERSION,
      status: 200,
      delivered: true,
      fault: null,
      replayed: false,
    });
  });

  it('refunds a payment intent’s charge, the whole remaining amount when none is given', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId, paymentIntentId } = imitation.addCharge({ amount: 3000 });
    await stripe.refunds.create({ charge: chargeId, amount: 1000 });

    const rest = await stripe.refunds.create({ payment_intent: paymentIntentId });

    expect(rest).toMatchObject({ amount: 2000, currency: 'usd', charge: chargeId, payment_intent: paymentIntentId, reason: null });
    expect(rest.metadata).toEqual({});
    expect(imitation.refundableAmount(chargeId)).toBe(0);
  });

  it('retrieves a refund, and answers resource_missing for an unknown one', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 800 });
    const created = await stripe.refunds.create({ charge: chargeId });

    const fetched = await stripe.refunds.retrieve(created.id);
    expect({ ...fetched }).toEqual({ ...created });

    const error = await rejectionOf(stripe.refunds.retrieve('re_doesnotexist'));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', message: "No such refund: 're_doesnotexist'" });
  });

  it('lists refunds newest first, filtered by charge or payment intent, page by page', async () => {
    const stripe = imitation.stripeClient();
    const a = imitation.addCharge({ amount: 1000 });
    const b = imitation.addCharge({ amount: 1000 });
    const onA: string[] = [];
    for (let i = 0; i < 3; i++) onA.push((await stripe.refunds.create({ charge: a.chargeId, amount: 100 })).id);
    const onB = (await stripe.refunds.create({ charge: b.chargeId, amount: 100 })).id;

    const all = await stripe.refunds.list();
    expect(all.object).toBe('list');
    expect(all.data.map((r) => r.id)).toEqual([onB, ...[...onA].reverse()]);
    expect(all.has_more).toBe(false);

    const byCharge = await stripe.refunds.list({ charge: a.chargeId, limit: 2 });
    expect(byCharge.data.map((r) => r.id)).toEqual([onA[2], onA[1]]);
    expect(byCharge.has_more).toBe(true);
    const next = await stripe.refunds.list({ charge: a.chargeId, limit: 2, starting_after: onA[1]! });
    expect(next.data.map((r) => r.id)).toEqual([onA[0]]);
    expect(next.has_more).toBe(false);

    const byIntent = await stripe.refunds.list({ payment_intent: b.paymentIntentId });
    expect(byIntent.data.map((r) => r.id)).toEqual([onB]);

    const error = await rejectionOf(stripe.refunds.list({ limit: 101 }));
    expect(error).toMatchObject({ statusCode: 400, param: 'limit' });
  });

  it('retrieves the charge and payment intent behind a refund, with what is refunded so far', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId, paymentIntentId } = imitation.addCharge({ amount: 2500, currency: 'EUR' });
    await stripe.refunds.create({ charge: chargeId, amount: 500 });

    const charge = await stripe.charges.retrieve(chargeId);
    expect(charge).toMatchObject({
      id: chargeId,
      object: 'charge',
      amount: 2500,
      amount_refunded: 500,
      currency: 'eur',
      payment_intent: paymentIntentId,
      refunded: false,
      disputed: false,
      status: 'succeeded',
    });
    const intent = await stripe.paymentIntents.retrieve(paymentIntentId);
    expect(intent).toMatchObject({ id: paymentIntentId, object: 'payment_intent', amount: 2500, currency: 'eur', latest_charge: chargeId });

    await stripe.refunds.create({ payment_intent: paymentIntentId });
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 2500, refunded: true });

    await expect(stripe.charges.retrieve('ch_missing')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('updates metadata: an empty value unsets a key', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 800 });
    const refund = await stripe.refunds.create({ charge: chargeId, metadata: { a: '1', b: '2' } });

    const updated = await stripe.refunds.update(refund.id, { metadata: { a: '', c: '3' } });

    expect(updated.metadata).toEqual({ b: '2', c: '3' });
  });
});

describe('refund errors, as the SDK raises them', () => {
  it('amount_too_large when the amount exceeds what is left on the charge', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    await stripe.refunds.create({ charge: chargeId, amount: 400 });

    const error = await rejectionOf(stripe.refunds.create({ charge: chargeId, amount: 700 }));

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 400,
      rawType: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount',
      message: 'Refund amount ($7.00) is greater than unrefunded amount on charge ($6.00)',
    });
    expect(imitation.refundCount()).toBe(1);
  });

  it('charge_already_refunded once the charge is fully refunded', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId, paymentIntentId } = imitation.addCharge({ amount: 1000 });
    await stripe.refunds.create({ charge: chargeId });

    const error = await rejectionOf(stripe.refunds.create({ payment_intent: paymentIntentId, amount: 1 }));

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'charge_already_refunded', message: `Charge ${chargeId} has already been refunded.` });
  });

  it('charge_disputed for a charged-back charge', async () => {
    const stripe = imitation.stripeClient();
    const disputed = imitation.addCharge({ amount: 1000, disputed: true });
    const later = imitation.addCharge({ amount: 1000 });
    imitation.disputeCharge(later.chargeId);

    for (const chargeId of [disputed.chargeId, later.chargeId]) {
      const error = await rejectionOf(stripe.refunds.create({ charge: chargeId }));
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({ statusCode: 400, code: 'charge_disputed' });
    }
    expect(imitation.refundCount()).toBe(0);
  });

  it('resource_missing for an unknown charge or payment intent', async () => {
    const stripe = imitation.stripeClient();

    const noCharge = await rejectionOf(stripe.refunds.create({ charge: 'ch_missing' }));
    expect(noCharge).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(noCharge).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'charge', message: "No such charge: 'ch_missing'" });

    const noIntent = await rejectionOf(stripe.refunds.create({ payment_intent: 'pi_missing' }));
    expect(noIntent).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'payment_intent' });
  });

  it('validates parameters like Stripe, and a request that failed validation leaves its key unused', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });

    const badReason = await rejectionOf(
      stripe.refunds.create({ charge: chargeId, reason: 'product_defective' }, { idempotencyKey: 'k-validation' }),
    );
    expect(badReason).toMatchObject({ statusCode: 400, param: 'reason' });
    const unknownParam = await rejectionOf(stripe.refunds.create({ charge: chargeId, colour: 'red' } as Stripe.RefundCreateParams));
    expect(unknownParam).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'colour' });
    const missing = await rejectionOf(stripe.refunds.create({ amount: 5 }));
    expect(missing).toMatchObject({ statusCode: 400, code: 'parameter_missing' });
    const zero = await rejectionOf(stripe.refunds.create({ charge: chargeId, amount: 0 }));
    expect(zero).toMatchObject({ statusCode: 400, param: 'amount' });

    // Stripe saves no result for a request that failed validation: the key is still free.
    const refund = await stripe.refunds.create({ charge: chargeId, reason: 'duplicate' }, { idempotencyKey: 'k-validation' });
    expect(refund.reason).toBe('duplicate');
    expect(imitation.refundCount()).toBe(1);
  });

  it('refuses requests without a valid test key with a 401', async () => {
    const wrongKey = imitation.stripeClient({ apiKey: 'not-a-stripe-key' });
    const error = await rejectionOf(wrongKey.refunds.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error).toMatchObject({ statusCode: 401, rawType: 'invalid_request_error' });

    const response = await fetch(`${imitation.url}/v1/refunds`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/You did not provide an API key/);
  });

  it('can accept only the API keys it is given', async () => {
    const strict = await startStripeImitation({ apiKeys: ['sk_test_only_this_one'] });
    try {
      const accepted = await strict.stripeClient({ apiKey: 'sk_test_only_this_one' }).refunds.list();
      expect(accepted.data).toEqual([]);
      const error = await rejectionOf(strict.stripeClient({ apiKey: 'sk_test_another_key' }).refunds.list());
      expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    } finally {
      await strict.close();
    }
  });

  it('answers Stripe’s 404 for a URL it does not imitate', async () => {
    const response = await fetch(`${imitation.url}/v1/customers`, { headers: { Authorization: `Bearer ${imitation.apiKey}` } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toBe(
      'Unrecognized request URL (GET: /v1/customers). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
    );
  });
});

describe('idempotency', () => {
  it('replays the same refund for the same key and parameters, without creating a second one', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    const params = { charge: chargeId, amount: 300, metadata: { refundkit_id: 'ref_000000000001' } };

    const first = await stripe.refunds.create(params, { idempotencyKey: 'refund-ref_000000000001' });
    const second = await stripe.refunds.create(params, { idempotencyKey: 'refund-ref_000000000001' });

    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(imitation.refundCount()).toBe(1);
    expect(imitation.refundableAmount(chargeId)).toBe(700);
    expect(imitation.requests.map((r) => r.replayed)).toEqual([false, true]);
  });

  it('refuses the same key with other parameters with StripeIdempotencyError', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    await stripe.refunds.create({ charge: chargeId, amount: 300 }, { idempotencyKey: 'k-1' });

    const error = await rejectionOf(stripe.refunds.create({ charge: chargeId, amount: 301 }, { idempotencyKey: 'k-1' }));

    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({
      statusCode: 400,
      rawType: 'idempotency_error',
      message:
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'k-1' if you meant to execute a different request.",
    });
    expect(imitation.refundCount()).toBe(1);
  });

  it('saves business errors under the key, and scopes keys to the API key', async () => {
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    const stripe = imitation.stripeClient();
    const tooMuch = await rejectionOf(stripe.refunds.create({ charge: chargeId, amount: 5000 }, { idempotencyKey: 'k-2' }));
    expect(tooMuch).toMatchObject({ code: 'amount_too_large' });
    const replayed = await rejectionOf(stripe.refunds.create({ charge: chargeId, amount: 5000 }, { idempotencyKey: 'k-2' }));
    expect(replayed).toMatchObject({ code: 'amount_too_large' });
    expect((replayed as Stripe.errors.StripeError).headers!['idempotent-replayed']).toBe('true');

    const first = await stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-3' });
    const otherAccount = imitation.stripeClient({ apiKey: 'sk_test_another_account' });
    const second = await otherAccount.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-3' });
    expect(second.id).not.toBe(first.id);
    expect(imitation.refundCount()).toBe(2);
  });

  it('forgets keys when told to, as Stripe does after 24 hours', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    const first = await stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-old' });

    imitation.forgetIdempotencyKeys();
    const second = await stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-old' });

    expect(second.id).not.toBe(first.id);
    expect(imitation.refundCount()).toBe(2);
  });
});

describe('statuses and cancel', () => {
  it('gives new refunds the charge’s refund behaviour', async () => {
    const stripe = imitation.stripeClient();
    const pending = imitation.addCharge({ amount: 100, refundBehavior: 'pending' });
    const action = imitation.addCharge({ amount: 100, refundBehavior: 'requires_action' });
    const failed = imitation.addCharge({ amount: 100, refundBehavior: 'failed', failureReason: 'expired_or_canceled_card' });

    const p = await stripe.refunds.create({ charge: pending.chargeId });
    const a = await stripe.refunds.create({ charge: action.chargeId, instructions_email: 'buyer@example.com' });
    const f = await stripe.refunds.create({ charge: failed.chargeId });

    expect(p).toMatchObject({ status: 'pending', pending_reason: 'processing' });
    expect(a).toMatchObject({ status: 'requires_action', next_action: { type: 'display_details' } });
    expect(a.next_action?.display_details?.email_sent.email_sent_to).toBe('buyer@example.com');
    expect(f).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
    // A failed refund gives its amount back to the charge.
    expect(imitation.refundableAmount(failed.chargeId)).toBe(100);
  });

  it('cancels a requires_action refund', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000, refundBehavior: 'requires_action' });
    const refund = await stripe.refunds.create({ charge: chargeId });

    const canceled = await stripe.refunds.cancel(refund.id);

    expect(canceled).toMatchObject({ id: refund.id, status: 'canceled', failure_reason: 'merchant_request' });
    expect(imitation.refund(refund.id)?.status).toBe('canceled');
    expect(imitation.refundableAmount(chargeId)).toBe(1000);
  });

  it('refuses to cancel pending and succeeded refunds, leaving them as they were', async () => {
    const stripe = imitation.stripeClient();
    const pending = imitation.addCharge({ amount: 1000, refundBehavior: 'pending' });
    const done = imitation.addCharge({ amount: 1000 });
    const p = await stripe.refunds.create({ charge: pending.chargeId });
    const s = await stripe.refunds.create({ charge: done.chargeId });

    const refusedPending = await rejectionOf(stripe.refunds.cancel(p.id));
    const refusedSucceeded = await rejectionOf(stripe.refunds.cancel(s.id));

    expect(refusedPending).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(refusedPending).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error' });
    expect((refusedPending as Error).message).toContain('`pending`');
    expect(refusedSucceeded).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((refusedSucceeded as Error).message).toBe(
      "You can't cancel a refund with status `succeeded`. Only refunds with status `requires_action` can be canceled.",
    );
    expect(imitation.refund(p.id)?.status).toBe('pending');
    expect(imitation.refund(s.id)?.status).toBe('succeeded');

    const missing = await rejectionOf(stripe.refunds.cancel('re_missing'));
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('lets a test move a refund on, as Stripe does later (a card refund failing, an action completed)', async () => {
    const stripe = imitation.stripeClient();
    const card = imitation.addCharge({ amount: 1000 });
    const action = imitation.addCharge({ amount: 1000, refundBehavior: 'requires_action' });
    const r1 = await stripe.refunds.create({ charge: card.chargeId });
    const r2 = await stripe.refunds.create({ charge: action.chargeId });

    imitation.setRefundStatus(r1.id, 'failed', 'lost_or_stolen_card');
    imitation.setRefundStatus(r2.id, 'succeeded');

    expect(await stripe.refunds.retrieve(r1.id)).toMatchObject({ status: 'failed', failure_reason: 'lost_or_stolen_card' });
    expect((await stripe.refunds.retrieve(r1.id)).failure_balance_transaction).toMatch(/^txn_/);
    expect(await stripe.refunds.retrieve(r2.id)).toMatchObject({ status: 'succeeded' });
    expect(imitation.refundableAmount(card.chargeId)).toBe(1000);
    expect(() => imitation.setRefundStatus('re_missing', 'failed')).toThrow(/no refund re_missing/);
  });
});

describe('faults', () => {
  it('500: the SDK retries with the same idempotency key and one refund is made', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 2, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(2, { kind: 'status', status: 500 });

    const refund = await stripe.refunds.create({ charge: chargeId, amount: 250 });

    expect(refund.amount).toBe(250);
    expect(posts().map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(posts().map((r) => r.idempotencyKey)).size).toBe(1);
    expect(posts()[0]!.idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(imitation.refundCount()).toBe(1);
    expect(imitation.pendingFaults()).toBe(0);
  });

  it('a retry after a request that was processed replays it instead of refunding twice', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 2, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'processThenReset' });
    imitation.failNext(1, { kind: 'status', status: 503 });

    const refund = await stripe.refunds.create({ charge: chargeId, amount: 250 });

    expect(posts().map((r) => [r.fault, r.status, r.replayed])).toEqual([
      ['processThenReset', 200, false],
      ['status', 503, false],
      [null, 200, true],
    ]);
    expect(refund.id).toBe(imitation.refunds()[0]!.id);
    expect(imitation.refundCount()).toBe(1);
    expect(imitation.refundableAmount(chargeId)).toBe(750);
  });

  it('500 without retries surfaces as StripeAPIError', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'status', status: 500 });

    const error = await rejectionOf(stripe.refunds.create({ charge: chargeId }));

    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500, rawType: 'api_error' });
    expect(imitation.refundCount()).toBe(0);
  });

  it('Stripe-Should-Retry: false stops the SDK retrying a 503', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 2, retryDelayMs: 10 });
    imitation.failNext(1, { kind: 'status', status: 503, shouldRetry: false });

    const error = await rejectionOf(stripe.refunds.list());

    expect(error).toMatchObject({ statusCode: 503 });
    expect(imitation.requests).toHaveLength(1);
  });

  it('429 is not retried by the SDK, and carries rate_limit and Retry-After', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 2, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'status', status: 429, retryAfterSeconds: 2 });

    const error = await rejectionOf(stripe.refunds.create({ charge: chargeId }));

    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: 'rate_limit' });
    expect((error as Stripe.errors.StripeError).headers!['retry-after']).toBe('2');
    expect(imitation.requests).toHaveLength(1);
    expect(imitation.refundCount()).toBe(0);
  });

  it('429 with Stripe-Should-Retry: true is retried', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 1, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'status', status: 429, shouldRetry: true });

    const refund = await stripe.refunds.create({ charge: chargeId });

    expect(refund.status).toBe('succeeded');
    expect(posts().map((r) => r.status)).toEqual([429, 200]);
  });

  it('hang: the client times out with StripeConnectionError and nothing is refunded', async () => {
    const stripe = imitation.stripeClient({ timeout: 300 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'hang' });

    const error = await rejectionOf(stripe.refunds.create({ charge: chargeId }));

    // The client's own timeout ended it (not a refused or reset connection).
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect((error as Error).message).toBe('Request aborted due to timeout being reached (300ms)');
    expect(imitation.requests[0]).toMatchObject({ fault: 'hang', status: null, delivered: false });
    expect(imitation.refundCount()).toBe(0);
  });

  it('reset: the SDK retries a reset connection once on its own, even with maxNetworkRetries 0', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 0, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'reset' });

    const refund = await stripe.refunds.create({ charge: chargeId });

    expect(refund.status).toBe('succeeded');
    expect(posts().map((r) => [r.fault, r.status])).toEqual([
      ['reset', null],
      [null, 200],
    ]);
    expect(posts()[0]!.idempotencyKey).toBe(posts()[1]!.idempotencyKey);
  });

  it('reset twice: a connection error, and nothing refunded', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 0, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(2, { kind: 'reset' });

    const error = await rejectionOf(stripe.refunds.create({ charge: chargeId }));

    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(imitation.refundCount()).toBe(0);
  });

  it('processThenReset twice: the call fails, yet Stripe made the refund, and the same key finds it', async () => {
    const stripe = imitation.stripeClient({ maxNetworkRetries: 0, retryDelayMs: 10 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(2, { kind: 'processThenReset' });
    const params = { charge: chargeId, amount: 400 };

    const error = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-ref_000000000002' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(imitation.refundCount()).toBe(1);

    const again = await stripe.refunds.create(params, { idempotencyKey: 'refund-ref_000000000002' });
    expect(again.id).toBe(imitation.refunds()[0]!.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(imitation.refundCount()).toBe(1);
  });

  it('late: the client times out, the refund exists, and a retry with the same key returns it', async () => {
    const stripe = imitation.stripeClient({ timeout: 300 });
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'late', ms: 600 });
    const params = { charge: chargeId, amount: 999, metadata: { refundkit_id: 'ref_000000000003' } };

    const error = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-ref_000000000003' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect((error as Error).message).toMatch(/timeout/);
    const stored = imitation.refunds();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ amount: 999, status: 'succeeded' });

    const retried = await stripe.refunds.create(params, { idempotencyKey: 'refund-ref_000000000003' });
    expect(retried.id).toBe(stored[0]!.id);
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(imitation.refundCount()).toBe(1);

    expect(imitation.requests[0]).toMatchObject({ fault: 'late', status: 200, delivered: false });
  });

  it('late also applies to cancel: the cancellation happens although the client gave up', async () => {
    const stripe = imitation.stripeClient({ timeout: 200 });
    const { chargeId } = imitation.addCharge({ amount: 1000, refundBehavior: 'requires_action' });
    const refund = await stripe.refunds.create({ charge: chargeId });
    imitation.failNext(1, { kind: 'late', ms: 400 }, { path: /\/cancel$/ });

    const error = await rejectionOf(stripe.refunds.cancel(refund.id));

    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(imitation.refund(refund.id)?.status).toBe('canceled');
  });

  it('slow: answers correctly after the delay, and holds the key meanwhile (409 idempotency_key_in_use)', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'slow', ms: 400 });
    const params = { charge: chargeId, amount: 100 };

    const slow = stripe.refunds.create(params, { idempotencyKey: 'k-slow' });
    await waitFor(() => imitation.requests.length === 1, 'the slow request to arrive');
    const concurrent = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'k-slow' }));
    expect(concurrent).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(concurrent).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use', rawType: 'idempotency_error' });
    expect(imitation.refundCount()).toBe(0);

    const refund = await slow;
    expect(refund.amount).toBe(100);
    const replay = await stripe.refunds.create(params, { idempotencyKey: 'k-slow' });
    expect(replay.id).toBe(refund.id);
    expect(imitation.refundCount()).toBe(1);
  });

  it('held: answers only once the test lets it go, and holds the key meanwhile (409 idempotency_key_in_use)', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    const release = deferred();
    imitation.failNext(1, { kind: 'held', until: release.promise });
    const params = { charge: chargeId, amount: 100 };

    const held = stripe.refunds.create(params, { idempotencyKey: 'k-held' });
    await waitFor(() => imitation.requests.length === 1, 'the held request to arrive');
    const concurrent = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'k-held' }));
    expect(concurrent).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    expect(imitation.refundCount()).toBe(0);
    expect(imitation.requests[0]).toMatchObject({ fault: 'held', status: null, delivered: false });

    release.resolve();
    const refund = await held;
    expect(refund).toMatchObject({ amount: 100, charge: chargeId, status: 'succeeded' });
    expect(imitation.refundCount()).toBe(1);
    expect(imitation.requests[0]).toMatchObject({ fault: 'held', status: 200, delivered: true });
  });

  it('reset() drops a request held until released, so it never runs against the fresh state', async () => {
    const { chargeId } = imitation.addCharge({ amount: 1000, id: 'ch_held_until_released' });
    const release = deferred();
    imitation.failNext(1, { kind: 'held', until: release.promise });
    // Plain fetch, not the SDK: the SDK would retry the dropped connection on its own.
    const held = fetch(`${imitation.url}/v1/refunds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${imitation.apiKey}` },
      body: new URLSearchParams({ charge: chargeId }),
    });
    await waitFor(() => imitation.requests.length === 1, 'the held request');

    imitation.reset();
    imitation.addCharge({ amount: 1000, id: chargeId });
    await expect(held).rejects.toThrow();
    release.resolve();
    // The imitation's reaction to the release was queued before this await, so it has run.
    await release.promise;
    expect(imitation.refundCount()).toBe(0);
  });

  it('faults only hit matching requests, in the order they were added', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'status', status: 502 }, { method: 'GET', path: '/v1/refunds/' });
    imitation.failNext(1, { kind: 'status', status: 500 }, { method: 'GET', path: /^\/v1\/refunds\/re_/ });

    const refund = await stripe.refunds.create({ charge: chargeId });
    const list = await stripe.refunds.list();
    expect(list.data).toHaveLength(1);
    expect(imitation.pendingFaults()).toBe(2);

    await expect(stripe.refunds.retrieve(refund.id)).rejects.toMatchObject({ statusCode: 502 });
    await expect(stripe.refunds.retrieve(refund.id)).rejects.toMatchObject({ statusCode: 500 });
    await expect(stripe.refunds.retrieve(refund.id)).resolves.toMatchObject({ id: refund.id });
    expect(imitation.pendingFaults()).toBe(0);
  });

  it('dropFaults() drops the faults still waiting and says how many; requests then go through', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(2, { kind: 'status', status: 500 }, { method: 'GET', path: '/v1/charges/' });
    imitation.failNext(1, { kind: 'reset' }, { method: 'POST' });
    expect(imitation.dropFaults()).toBe(3);
    expect(imitation.pendingFaults()).toBe(0);
    await expect(stripe.charges.retrieve(chargeId)).resolves.toMatchObject({ id: chargeId });
    expect(imitation.dropFaults()).toBe(0);
  });

  it('reset() drops a request still held by a fault, so it never runs against the fresh state', async () => {
    const { chargeId } = imitation.addCharge({ amount: 1000, id: 'ch_held_by_slow_fault' });
    imitation.failNext(1, { kind: 'slow', ms: 150 });
    // Plain fetch, not the SDK: the SDK would retry the dropped connection on its own.
    const held = fetch(`${imitation.url}/v1/refunds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${imitation.apiKey}` },
      body: new URLSearchParams({ charge: chargeId }),
    });
    await waitFor(() => imitation.requests.length === 1, 'the slow request');

    imitation.reset();
    imitation.addCharge({ amount: 1000, id: chargeId });

    await expect(held).rejects.toThrow();
    // A later request held as long is answered only after the dropped one would have run.
    imitation.failNext(1, { kind: 'slow', ms: 150 });
    expect((await imitation.stripeClient().refunds.list()).data).toEqual([]);
    expect(imitation.refundCount()).toBe(0);
  });

  it('heldSettled() resolves once slow and late requests have run and been answered, and not for a hang', async () => {
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    imitation.failNext(1, { kind: 'slow', ms: 100 }, { method: 'POST' });
    imitation.failNext(1, { kind: 'late', ms: 200 }, { method: 'GET', path: '/v1/refunds' });
    imitation.failNext(1, { kind: 'hang' }, { method: 'GET', path: '/v1/charges/' });
    const stripe = imitation.stripeClient();
    const creating = stripe.refunds.create({ charge: chargeId });
    const listing = stripe.refunds.list();
    // Plain fetch, not the SDK: the SDK would retry the connection reset() drops.
    const hung = fetch(`${imitation.url}/v1/charges/${chargeId}`, { headers: { Authorization: `Bearer ${imitation.apiKey}` } }).catch(() => 'dropped');
    await waitFor(() => imitation.requests.length === 3, 'the three held requests');
    expect(imitation.refundCount()).toBe(0);

    await imitation.heldSettled();
    expect(imitation.refundCount()).toBe(1);
    expect(imitation.requests.map((r) => [r.fault, r.delivered])).toEqual([
      ['slow', true],
      ['late', true],
      ['hang', false],
    ]);
    await Promise.all([creating, listing]);
    imitation.reset();
    expect(await hung).toBe('dropped');
  });

  it('heldSettled() waits for a held request until it is released, and rejects at its deadline', async () => {
    const release = deferred();
    imitation.failNext(1, { kind: 'held', until: release.promise });
    const listing = imitation.stripeClient().refunds.list();
    await waitFor(() => imitation.requests.length === 1, 'the held request');
    await expect(imitation.heldSettled(50)).rejects.toThrow(/timed out after 50 ms .*\(1 held when asked\)/);
    release.resolve();
    await imitation.heldSettled();
    expect(imitation.requests[0]).toMatchObject({ fault: 'held', delivered: true });
    expect((await listing).data).toEqual([]);
  });

  it('close() ends hung requests at once', async () => {
    const own = await startStripeImitation();
    const stripe = own.stripeClient({ timeout: 10_000, retryDelayMs: 10 });
    own.failNext(5, { kind: 'hang' });
    const pending = rejectionOf(stripe.refunds.list());
    await waitFor(() => own.requests.length === 1, 'the hung request');

    await own.close();
    const error = await pending;

    // Ended by the close, not by the client's own 10 s timeout.
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect((error as Error).message).not.toMatch(/timeout/i);
    await own.close();
  });
});

describe('webhook events', () => {
  it('signs events that the real constructEvent verifies, and that a tampered body fails', async () => {
    const stripe = imitation.stripeClient();
    const { chargeId } = imitation.addCharge({ amount: 1000 });
    const refund = await stripe.refunds.create({ charge: chargeId });
    const failed = imitation.setRefundStatus(refund.id, 'failed', 'expired_or_canceled_card');
    const secret = 'whsec_test_imitation_secret';

    const signed = imitation.signedEvent(secret, 'refund.failed', failed, {
      id: 'evt_test_1',
      previousAttributes: { status: 'succeeded' },
    });
    const event = stripe.webhooks.constructEvent(signed.payload, signed.header, secret);

    expect(event).toMatchObject({
      id: 'evt_test_1',
      object: 'event',
      type: 'refund.failed',
      livemode: false,
      api_version: Stripe.API_VERSION,
      data: { object: { id: refund.id, status: 'failed', failure_reason: 'expired_or_canceled_card' }, previous_attributes: { status: 'succeeded' } },
    });
    expect(() => stripe.webhooks.constructEvent(signed.payload.replace('"failed"', '"succeeded"'), signed.header, secret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => stripe.webhooks.constructEvent(signed.payload, signed.header, 'whsec_other')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );

    const byId = imitation.signedEvent(secret, 'refund.updated', refund.id, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(byId.event.data.object.status).toBe('failed');
    // An hour-old signature is outside the SDK's default 300 s tolerance.
    expect(() => stripe.webhooks.constructEvent(byId.payload, byId.header, secret)).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });
});
