/**
 * The Stripe adapter with the real `stripe` package against the Stripe imitation on 127.0.0.1,
 * alone and driven by the RefundService over the real SQLite store: what Stripe holds and what we
 * store must agree after every fault.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Refund } from '../../src/domain/refund.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import {
  mapStripeStatus,
  REFUND_ID_METADATA_KEY,
  StripeProcessor,
  stripeIdempotencyKey,
} from '../../src/processors/stripe.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';
import { cleanupAll, FakeClock, createOrg, createTestApp, rawEvents, settingsWith } from '../support/fixtures.js';

let imitation: StripeImitation;

beforeAll(async () => {
  imitation = await startStripeImitation();
});
afterAll(async () => {
  await imitation.close();
});
beforeEach(() => imitation.reset());
afterEach(() => cleanupAll());

function processor(options: { timeoutMs?: number; retries?: number } = {}): StripeProcessor {
  return new StripeProcessor({
    secretKey: imitation.apiKey,
    apiBase: imitation.url,
    timeoutMs: options.timeoutMs ?? 400,
    maxNetworkRetries: options.retries ?? 0,
  });
}

/** What the imitation saw of each refund create (POST /v1/refunds), in order. */
function refundPosts(): Array<{ idempotencyKey: string | null; fault: string | null; status: number | null; delivered: boolean; replayed: boolean }> {
  return imitation.requests
    .filter((r) => r.method === 'POST' && r.path === '/v1/refunds')
    .map(({ idempotencyKey, fault, status, delivered, replayed }) => ({ idempotencyKey, fault, status, delivered, replayed }));
}

let counter = 0;
function refundFor(transactionId: string, overrides: Partial<Refund> = {}): Refund {
  counter += 1;
  return {
    id: `ref_st${String(counter).padStart(10, '0')}`,
    organizationId: 'org_test00000000',
    externalRefundId: null,
    transactionId,
    amount: 1000,
    currency: 'usd',
    reason: 'duplicate_charge',
    status: 'pending',
    processor: 'stripe',
    metadata: { orderId: 'order_1' },
    initiatedBy: 'mcp',
    createdAt: '2026-03-01T12:00:00.000Z',
    updatedAt: '2026-03-01T12:00:00.000Z',
    ...overrides,
  };
}

describe('status mapping', () => {
  it('maps every Stripe status and never reports completed for an unknown one', () => {
    expect(mapStripeStatus('succeeded')).toBe('completed');
    expect(mapStripeStatus('pending')).toBe('processing');
    expect(mapStripeStatus('requires_action')).toBe('processing');
    expect(mapStripeStatus('failed')).toBe('failed');
    expect(mapStripeStatus('canceled')).toBe('cancelled');
    expect(mapStripeStatus('something_new')).toBe('processing');
    expect(mapStripeStatus(null)).toBe('processing');
  });
});

describe('StripeProcessor.submit', () => {
  it('creates the refund with our id in metadata, the mapped reason and a key derived from our id', async () => {
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    const refund = refundFor(chargeId);
    const outcome = await processor().submit(refund, 1);
    expect(outcome.kind).toBe('submitted');
    const stored = imitation.refunds();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.metadata).toMatchObject({ [REFUND_ID_METADATA_KEY]: refund.id, orderId: 'order_1', refundkit_reason: 'duplicate_charge' });
    expect(stored[0]?.reason).toBe('duplicate');
    expect(stored[0]?.amount).toBe(1000);
    const post = imitation.requests.find((r) => r.path === '/v1/refunds' && r.method === 'POST');
    expect(post?.idempotencyKey).toBe(stripeIdempotencyKey(refund.id));
    expect(outcome).toMatchObject({ externalRefundId: stored[0]?.id, status: 'completed' });
  });

  it('sends no Stripe reason for ours that have no Stripe equivalent, and refunds payment intents', async () => {
    const { paymentIntentId } = imitation.addCharge({ amount: 5000, refundBehavior: 'pending' });
    const outcome = await processor().submit(refundFor(paymentIntentId, { reason: 'product_defective' }), 1);
    expect(outcome).toMatchObject({ kind: 'submitted', status: 'processing' });
    expect(imitation.refunds()[0]?.reason ?? null).toBeNull();
    expect(imitation.refunds()[0]?.payment_intent).toBe(paymentIntentId);
  });

  it('refunds once when the same submission is sent twice', async () => {
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    const refund = refundFor(chargeId);
    const first = await processor().submit(refund, 1);
    const second = await processor().submit(refund, 1);
    expect(second).toEqual(first);
    expect(imitation.refundCount()).toBe(1);
  });

  it('finds the first refund on a retry even after Stripe forgot the idempotency key', async () => {
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    const refund = refundFor(chargeId);
    const first = await processor().submit(refund, 1);
    imitation.forgetIdempotencyKeys();
    const retry = await processor().submit(refund, 2);
    expect(retry).toMatchObject({ kind: 'submitted', externalRefundId: first.kind === 'submitted' ? first.externalRefundId : '' });
    expect(imitation.refundCount()).toBe(1);
  });

  it.each([
    ['an unknown charge', () => 'ch_doesNotExist', 'resource_missing'],
    [
      'a fully refunded charge',
      () => {
        const { chargeId } = imitation.addCharge({ amount: 1000 });
        imitation.stripeClient(); // no-op: keeps the helper's default client warm
        return chargeId;
      },
      null,
    ],
  ])('rejects %s for good', async (_label, makeCharge, code) => {
    const chargeId = makeCharge();
    if (code === null) {
      // Refund it fully first, through another refund of ours.
      await processor().submit(refundFor(chargeId, { amount: 1000 }), 1);
    }
    const before = imitation.refundCount();
    const outcome = await processor().submit(refundFor(chargeId, { amount: 500 }), 1);
    expect(outcome.kind).toBe('rejected');
    if (outcome.kind === 'rejected') expect(outcome.reason).toContain(code ?? 'charge_already_refunded');
    expect(imitation.refundCount()).toBe(before);
  });

  it('rejects a disputed charge and an amount above what is left', async () => {
    const disputed = imitation.addCharge({ amount: 1000, disputed: true });
    const small = imitation.addCharge({ amount: 300 });
    const a = await processor().submit(refundFor(disputed.chargeId), 1);
    const b = await processor().submit(refundFor(small.chargeId, { amount: 301 }), 1);
    expect(a).toMatchObject({ kind: 'rejected' });
    expect(a.kind === 'rejected' && a.reason).toContain('charge_disputed');
    expect(b.kind === 'rejected' && b.reason).toContain('amount_too_large');
    expect(imitation.refundCount()).toBe(0);
  });

  it('rejects a refund whose currency is not the charge’s, before any money moves', async () => {
    const { chargeId } = imitation.addCharge({ amount: 5000, currency: 'eur' });
    const outcome = await processor().submit(refundFor(chargeId, { currency: 'usd' }), 1);
    expect(outcome.kind === 'rejected' && outcome.reason).toContain('currency mismatch');
    expect(imitation.refundCount()).toBe(0);
  });

  it.each([
    ['500', { kind: 'status', status: 500 } as const],
    ['503', { kind: 'status', status: 503 } as const],
    ['429 without a retry hint', { kind: 'status', status: 429 } as const],
    ['429 with Retry-After', { kind: 'status', status: 429, retryAfterSeconds: 1 } as const],
    ['a timeout', { kind: 'hang' } as const],
    ['a connection reset', { kind: 'reset' } as const],
  ])('throws processor_unavailable on %s and creates nothing', async (_label, fault) => {
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    imitation.failNext(5, fault, { method: 'POST', path: '/v1/refunds' });
    await expect(processor().submit(refundFor(chargeId), 1)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(imitation.refundCount()).toBe(0);
  });

  it('recovers the refund Stripe made after answering too late, without a second one', async () => {
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    const refund = refundFor(chargeId);
    imitation.failNext(1, { kind: 'late', ms: 1_000 }, { method: 'POST', path: '/v1/refunds' });
    await expect(processor({ timeoutMs: 300 }).submit(refund, 1)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(imitation.refundCount()).toBe(1);
    const retry = await processor().submit(refund, 2);
    expect(retry).toMatchObject({ kind: 'submitted', externalRefundId: imitation.refunds()[0]?.id });
    expect(imitation.refundCount()).toBe(1);
  });
});

describe('StripeProcessor.cancel and retrieve', () => {
  async function submitted(behavior: 'pending' | 'requires_action' | 'succeeded'): Promise<Refund> {
    const { chargeId } = imitation.addCharge({ amount: 5000, refundBehavior: behavior });
    const refund = refundFor(chargeId);
    const outcome = await processor().submit(refund, 1);
    if (outcome.kind !== 'submitted') throw new Error('expected a submission');
    return { ...refund, status: outcome.status, externalRefundId: outcome.externalRefundId };
  }

  it('is accepted for a refund awaiting customer action', async () => {
    const refund = await submitted('requires_action');
    expect(await processor().cancel(refund)).toEqual({ accepted: true });
    expect(imitation.refund(refund.externalRefundId ?? '')?.status).toBe('canceled');
  });

  it('is refused for a pending refund, which stays processing', async () => {
    const refund = await submitted('pending');
    expect(await processor().cancel(refund)).toMatchObject({ accepted: false, status: 'processing' });
  });

  it('is refused for a succeeded refund, which is completed', async () => {
    const refund = await submitted('succeeded');
    expect(await processor().cancel(refund)).toMatchObject({ accepted: false, status: 'completed' });
  });

  it('throws processor_unavailable on an outage and leaves Stripe untouched', async () => {
    const refund = await submitted('requires_action');
    imitation.failNext(3, { kind: 'status', status: 500 }, { path: /\/cancel$/ });
    await expect(processor().cancel(refund)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(imitation.refund(refund.externalRefundId ?? '')?.status).toBe('requires_action');
  });

  it('reads the status back', async () => {
    const refund = await submitted('pending');
    expect((await processor().retrieve(refund)).status).toBe('processing');
    imitation.setRefundStatus(refund.externalRefundId ?? '', 'succeeded');
    expect((await processor().retrieve(refund)).status).toBe('completed');
    imitation.setRefundStatus(refund.externalRefundId ?? '', 'failed', 'lost_or_stolen_card');
    const failed = await processor().retrieve(refund);
    expect(failed.status).toBe('failed');
    expect(failed.detail).toContain('lost_or_stolen_card');
  });

  it('a read with timeoutMs is one short try: it gives up at that timeout, not the client\'s, and does not retry', async () => {
    const refund = await submitted('pending');
    const patient = processor({ timeoutMs: 10_000, retries: 2 });
    imitation.failNext(3, { kind: 'hang' }, { method: 'GET', path: /^\/v1\/refunds\/re_/ });
    const error = await patient.retrieve(refund, { timeoutMs: 250 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'processor_unavailable' });
    // The SDK says which timeout ended the request: the read's own (what is left of its 250 ms
    // when the request goes out), never the client's 10 s.
    const message = ((error as Error).cause as Error).message;
    const timeout = Number(/^Request aborted due to timeout being reached \((\d+)ms\)$/.exec(message)?.[1]);
    expect(timeout).toBeGreaterThan(0);
    expect(timeout).toBeLessThanOrEqual(250);
    expect(imitation.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/refunds/re_'))).toHaveLength(1);
    expect(imitation.pendingFaults()).toBe(2);
  });

  it('finds a submitted refund by our id, and nothing for one never sent', async () => {
    const refund = await submitted('pending');
    expect(await processor().findSubmitted({ ...refund, externalRefundId: null, status: 'pending' })).toMatchObject({
      externalRefundId: refund.externalRefundId,
      status: 'processing',
    });
    const { chargeId } = imitation.addCharge({ amount: 100 });
    expect(await processor().findSubmitted(refundFor(chargeId))).toBeNull();
    expect(await processor().findSubmitted(refundFor('ch_unknownCharge'))).toBeNull();
  });
});

describe('RefundService with Stripe: what Stripe holds and what we store agree', () => {

  function setup(options: { holdMs?: number; timeoutMs?: number; retries?: number } = {}) {
    const app = createTestApp();
    const org = createOrg(app);
    const clock = new FakeClock();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry(
        [processor({ timeoutMs: options.timeoutMs ?? 400, retries: options.retries ?? 1 })],
        {},
        'stripe',
      ),
      clock,
      settings: settingsWith({ holdMs: options.holdMs ?? 0, retryBaseMs: 1_000, syncIntervalMs: 1_000, completedRecheckMs: 1_000 }),
    });
    const caller: Caller = { organizationId: org.id, actor: 'mcp' };
    return { app, service, caller, clock };
  }

  const input = (transactionId: string, amount = 1500): CreateRefundInput => ({
    transactionId,
    amount,
    currency: 'usd',
    reason: 'requested_by_customer',
    idempotencyKey: `key-${transactionId}-${amount}`,
  });

  it('creates, replays the same idempotency key, and cancels a refund awaiting customer action', async () => {
    const { service, caller } = setup();
    const { chargeId } = imitation.addCharge({ amount: 5000, refundBehavior: 'requires_action' });
    const created = await service.create(caller, input(chargeId));
    expect(created.status).toBe('processing');
    const again = await service.create(caller, input(chargeId));
    expect(again.id).toBe(created.id);
    expect(imitation.refundCount()).toBe(1);
    const cancelled = await service.cancel(caller, created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(imitation.refund(created.externalRefundId ?? '')?.status).toBe('canceled');
  });

  it('never calls Stripe for a refund cancelled inside its hold window', async () => {
    const { service, caller, clock } = setup({ holdMs: 30_000 });
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    const created = await service.create(caller, input(chargeId));
    expect(created.status).toBe('pending');
    expect((await service.cancel(caller, created.id)).status).toBe('cancelled');
    clock.ms += 60_000;
    await service.runPass();
    expect(imitation.requests).toHaveLength(0);
  });

  it('tells the truth when Stripe refuses a cancel: pending stays processing, succeeded becomes completed', async () => {
    const { service, caller } = setup();
    const pending = imitation.addCharge({ amount: 5000, refundBehavior: 'pending' });
    const succeeded = imitation.addCharge({ amount: 5000 });
    const a = await service.create(caller, input(pending.chargeId));
    const b = await service.create(caller, input(succeeded.chargeId));
    expect(b.status).toBe('completed');
    await expect(service.cancel(caller, a.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — the processor refused the cancellation; status is 'processing'",
    });
    expect((await service.get(caller, a.id)).status).toBe('processing');
    await expect(service.cancel(caller, b.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — status is 'completed'",
    });
  });

  it('refuses at Stripe then finds it completed: records completed with the refusal in the event', async () => {
    const { app, service, caller } = setup();
    const { chargeId } = imitation.addCharge({ amount: 5000, refundBehavior: 'pending' });
    const created = await service.create(caller, input(chargeId));
    imitation.setRefundStatus(created.externalRefundId ?? '', 'succeeded');
    await expect(service.cancel(caller, created.id)).rejects.toMatchObject({
      code: 'refund_not_cancellable',
      message: "Refund cannot be cancelled — the processor refused the cancellation; status is 'completed'",
    });
    expect((await service.get(caller, created.id)).status).toBe('completed');
    expect(rawEvents(app, created.id).at(-1)?.detail).toContain('refused the cancellation');
  });

  it.each([
    ['500', { kind: 'status', status: 500 } as const],
    ['429', { kind: 'status', status: 429 } as const],
    ['a timeout', { kind: 'hang' } as const],
    ['a connection reset', { kind: 'reset' } as const],
  ])('keeps a refund pending through %s at create, then submits it exactly once', async (_label, fault) => {
    const { service, caller, clock } = setup();
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    imitation.failNext(10, fault, { method: 'POST', path: '/v1/refunds' });
    const created = await service.create(caller, input(chargeId));
    expect(created.status).toBe('pending');
    expect(imitation.refundCount()).toBe(0);
    imitation.reset();
    imitation.addCharge({ amount: 5000, id: chargeId });
    clock.ms += 1_000;
    expect(await service.submitDue()).toBe(1);
    expect((await service.get(caller, created.id)).status).toBe('completed');
    expect(imitation.refundCount()).toBe(1);
  });

  it('absorbs an answer that came after our timeout through the SDK retry and the same key', async () => {
    const { service, caller } = setup({ timeoutMs: 300, retries: 1 });
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    imitation.failNext(1, { kind: 'late', ms: 900 }, { method: 'POST', path: '/v1/refunds' });
    const created = await service.create(caller, input(chargeId));
    expect(created.status).toBe('completed');
    expect(created.externalRefundId).toBe(imitation.refunds()[0]?.id);
    expect(imitation.refundCount()).toBe(1);
    // Both tries carried our key, derived from our refund id: the SDK's own retry key
    // (stripe-node-retry-…) would have absorbed the late answer just as well, so the key is checked.
    const key = stripeIdempotencyKey(created.id);
    expect(refundPosts()).toEqual([
      { idempotencyKey: key, fault: 'late', status: 200, delivered: false, replayed: false },
      { idempotencyKey: key, fault: null, status: 200, delivered: true, replayed: true },
    ]);
  });

  it('records the refund Stripe created after our timeout exactly once, with no SDK retry', async () => {
    const { app, service, caller, clock } = setup({ timeoutMs: 300, retries: 0 });
    const { chargeId } = imitation.addCharge({ amount: 5000 });
    imitation.failNext(1, { kind: 'late', ms: 900 }, { method: 'POST', path: '/v1/refunds' });
    const created = await service.create(caller, input(chargeId));
    expect(created.status).toBe('pending');
    // A `late` fault executes at once and only holds back the answer: Stripe already has the refund.
    expect(imitation.refundCount()).toBe(1);
    const key = stripeIdempotencyKey(created.id);
    expect(refundPosts()).toEqual([{ idempotencyKey: key, fault: 'late', status: 200, delivered: false, replayed: false }]);
    clock.ms += 1_000;
    expect(await service.submitDue()).toBe(1);
    const settled = await service.get(caller, created.id);
    expect(settled.status).toBe('completed');
    expect(settled.externalRefundId).toBe(imitation.refunds()[0]?.id);
    expect(imitation.refundCount()).toBe(1);
    // The dispatcher's retry found the refund by our id in its metadata and created nothing.
    expect(refundPosts()).toHaveLength(1);
    expect(rawEvents(app, created.id).at(-1)?.detail).toBe(
      `submitted to stripe as ${settled.externalRefundId}: found the refund an interrupted attempt had created`,
    );
  });

  it.each([
    ['500', { kind: 'status', status: 500 } as const],
    ['429', { kind: 'status', status: 429 } as const],
    ['a timeout', { kind: 'hang' } as const],
    ['a connection reset', { kind: 'reset' } as const],
  ])('answers processor_unavailable on %s during cancel, with nothing changed', async (_label, fault) => {
    const { service, caller } = setup();
    const { chargeId } = imitation.addCharge({ amount: 5000, refundBehavior: 'requires_action' });
    const created = await service.create(caller, input(chargeId));
    imitation.failNext(10, fault, { path: /\/cancel$/ });
    await expect(service.cancel(caller, created.id)).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect((await service.get(caller, created.id)).status).toBe('processing');
    expect(imitation.refund(created.externalRefundId ?? '')?.status).toBe('requires_action');
    expect(imitation.refundCount()).toBe(1);
  });

  it('reconciles processing → completed and completed → failed from Stripe', async () => {
    const { service, caller, clock } = setup();
    const { chargeId } = imitation.addCharge({ amount: 5000, refundBehavior: 'pending' });
    const created = await service.create(caller, input(chargeId));
    expect(created.status).toBe('processing');
    imitation.setRefundStatus(created.externalRefundId ?? '', 'succeeded');
    clock.ms += 1_000;
    expect((await service.syncDue()).changed).toBe(1);
    expect((await service.get(caller, created.id)).status).toBe('completed');
    imitation.setRefundStatus(created.externalRefundId ?? '', 'failed', 'expired_or_canceled_card');
    clock.ms += 1_000;
    expect((await service.syncDue()).changed).toBe(1);
    expect((await service.get(caller, created.id)).status).toBe('failed');
  });
});
