/**
 * Creating a refund (create.ts): idempotency, submission inside the call, the hold window, against
 * the real SQLite store and a scripted processor double.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/domain/create.js';
import { errors } from '../../src/domain/errors.js';
import type { Claim } from '../../src/domain/ports.js';
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { ObservedStore, ScriptedProcessor } from '../support/scripted.js';
import { cleanupAll, countRows, createKey, FakeClock, createOrg, createTestApp, rawEvents, settingsWith } from '../support/fixtures.js';

const input: CreateRefundInput = {
  transactionId: 'ch_3PqTestCharge',
  amount: 2500,
  currency: 'usd',
  reason: 'product_defective',
  metadata: { orderId: 'order_1', ticketId: 'SUP-1' },
};

function setup(policy: Partial<RefundSettings> = {}) {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const processor = new ScriptedProcessor();
  // What the service asks of the store, so that a test can wait for a step instead of sleeping.
  const observed = new ObservedStore(app.refunds);
  const service = new RefundService({
    store: observed.store,
    processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    settings: settingsWith({ retryBaseMs: 1_000, cancelWaitMs: 300, ...policy }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'mcp' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  return { app, org, clock, processor, service, caller, column, observed };
}

afterEach(() => cleanupAll());

describe('create', () => {
  it('without a hold window submits inside the call and records both steps', async () => {
    const { app, service, caller, processor } = setup();
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('processing');
    expect(refund.externalRefundId).toBe(`re_${refund.id.slice(4)}`);
    expect(refund.initiatedBy).toBe('mcp');
    expect(refund.processor).toBe('stripe');
    expect(refund.metadata).toEqual(input.metadata);
    expect(processor.submits).toEqual([{ id: refund.id, attempt: 1 }]);
    const events = rawEvents(app, refund.id);
    expect(events.map((e) => [e.from_status, e.to_status, e.initiated_by])).toEqual([
      [null, 'pending', 'mcp'],
      ['pending', 'processing', 'system'],
    ]);
  });

  it('replays the first refund for the same idempotency key and arguments, creating nothing', async () => {
    const { service, caller, processor, app } = setup();
    const first = await service.create(caller, { ...input, idempotencyKey: 'ticket-42' });
    // Same arguments, metadata keys in another order.
    const again = await service.create(caller, {
      ...input,
      metadata: { ticketId: 'SUP-1', orderId: 'order_1' },
      idempotencyKey: 'ticket-42',
    });
    expect(again.id).toBe(first.id);
    expect(processor.submits).toHaveLength(1);
    expect((app.db.prepare('SELECT count(*) AS n FROM refunds').get() as { n: number }).n).toBe(1);
  });

  it('refuses the same key with different arguments with idempotency_conflict', async () => {
    const { service, caller, processor } = setup();
    await service.create(caller, { ...input, idempotencyKey: 'ticket-43' });
    await expect(service.create(caller, { ...input, amount: 2600, idempotencyKey: 'ticket-43' })).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    expect(processor.submits).toHaveLength(1);
  });

  // The key stands for one set of arguments: any one of them different is a different refund,
  // never the first one replayed (the same key for another charge would refund the wrong one).
  it.each<[string, Partial<CreateRefundInput>]>([
    ['another charge', { transactionId: 'ch_3PqOtherCharge' }],
    ['another amount', { amount: 2501 }],
    ['another currency', { currency: 'eur' }],
    ['another reason', { reason: 'duplicate_charge' }],
    ['a metadata value changed', { metadata: { orderId: 'order_2', ticketId: 'SUP-1' } }],
    ['a metadata key added', { metadata: { orderId: 'order_1', ticketId: 'SUP-1', note: 'x' } }],
    ['metadata left out', { metadata: undefined }],
  ])('refuses the same key with %s: idempotency_conflict, nothing created or sent', async (_label, change) => {
    const { app, service, caller, processor } = setup();
    const first = await service.create(caller, { ...input, idempotencyKey: 'ticket-44' });
    const again: CreateRefundInput = { ...input, ...change, idempotencyKey: 'ticket-44' };
    if (again.metadata === undefined) delete again.metadata;
    await expect(service.create(caller, again)).rejects.toMatchObject({
      code: 'idempotency_conflict',
      message: 'idempotencyKey was already used for a refund with different arguments; use a new key for a new refund',
    });
    expect(processor.submits).toEqual([{ id: first.id, attempt: 1 }]);
    expect(countRows(app, 'refunds')).toBe(1);
    expect(rawEvents(app, first.id)).toHaveLength(2);
  });

  it('replays for the same key when only the default currency was spelt out', async () => {
    const { service, caller, processor } = setup();
    const withoutCurrency: CreateRefundInput = { ...input };
    delete withoutCurrency.currency;
    const first = await service.create(caller, { ...withoutCurrency, idempotencyKey: 'ticket-45' });
    const again = await service.create(caller, { ...input, currency: 'usd', idempotencyKey: 'ticket-45' });
    expect(again).toEqual(first);
    expect(processor.submits).toHaveLength(1);
  });

  it('scopes idempotency keys to the organization', async () => {
    const { app, service, caller } = setup();
    const other = createOrg(app, 'Other');
    const mine = await service.create(caller, { ...input, idempotencyKey: 'shared-key' });
    const theirs = await service.create({ organizationId: other.id, actor: 'api' }, { ...input, idempotencyKey: 'shared-key' });
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.organizationId).toBe(other.id);
  });

  it('creates a new refund for each call without a key', async () => {
    const { service, caller } = setup();
    const a = await service.create(caller, input);
    const b = await service.create(caller, input);
    expect(a.id).not.toBe(b.id);
  });

  it('records a rejected refund as failed with the reason in its event', async () => {
    const { app, service, caller, processor } = setup();
    processor.onSubmit = () => Promise.resolve({ kind: 'rejected', reason: 'charge_already_refunded: Charge has already been refunded.' });
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('failed');
    expect(refund.externalRefundId).toBeNull();
    expect(rawEvents(app, refund.id).at(-1)?.detail).toContain('charge_already_refunded');
  });

  it('leaves a refund pending through an outage and retries it later with backoff', async () => {
    const { service, caller, processor, clock, column } = setup();
    processor.onSubmit = () => Promise.reject(errors.processorUnavailable('stripe'));
    const refund = await service.create(caller, input);
    expect(refund.status).toBe('pending');
    expect(column(refund.id, 'attempts')).toBe(1);
    expect(String(column(refund.id, 'last_error'))).toContain('could not be reached');
    // Not due yet: the first retry waits retryBaseMs.
    expect(await service.submitDue()).toBe(0);
    clock.advance(1_000);
    processor.onSubmit = (r) => Promise.resolve({ kind: 'submitted', externalRefundId: `re_${r.id.slice(4)}`, status: 'completed' });
    expect(await service.submitDue()).toBe(1);
    expect((await service.get(caller, refund.id)).status).toBe('completed');
    expect(processor.submits.map((s) => s.attempt)).toEqual([1, 2]);
  });
});

describe('hold window', () => {
  it('keeps the refund pending until the hold passes, and a cancel before then never reaches the processor', async () => {
    const { service, caller, processor, clock } = setup({ holdMs: 60_000 });
    const held = await service.create(caller, input);
    expect(held.status).toBe('pending');
    expect(await service.submitDue()).toBe(0);
    const cancelled = await service.cancel(caller, held.id);
    expect(cancelled.status).toBe('cancelled');
    clock.advance(120_000);
    expect(await service.submitDue()).toBe(0);
    expect(processor.submits).toHaveLength(0);
    expect(processor.cancels).toHaveLength(0);
  });

  it('submits the refund once the hold has passed', async () => {
    const { service, caller, processor, clock } = setup({ holdMs: 60_000 });
    const held = await service.create(caller, input);
    clock.advance(60_000);
    expect(await service.submitDue()).toBe(1);
    expect((await service.get(caller, held.id)).status).toBe('processing');
    expect(processor.submits).toHaveLength(1);
  });
});

describe('create: what is recorded with the refund', () => {
  it('a refund created with an API key outside MCP (REST) records that key as its creator', async () => {
    const { app, org, clock, processor } = setup();
    const service = new RefundService({
      store: app.refunds,
      guardrails: app.guardrails,
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith(),
    });
    const { keyId } = createKey(app, org.id);
    const refund = await service.create({ organizationId: org.id, actor: 'api', keyId }, input);
    expect(await app.guardrails.refundCreator(org.id, refund.id)).toBe(keyId);
  });

  it('a refund another process claims first is answered pending, and this call submits nothing', async () => {
    const { app, org, clock, processor } = setup();
    class ClaimedElsewhereFirst extends SqliteRefundStore {
      override async claimForSubmission(refundId: string, token: string, now: string, leaseUntil: string): Promise<Claim | null> {
        expect(await super.claimForSubmission(refundId, 'other-process', now, leaseUntil)).not.toBeNull();
        return super.claimForSubmission(refundId, token, now, leaseUntil);
      }
    }
    const service = new RefundService({
      store: new ClaimedElsewhereFirst(app.db),
      processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
      clock,
      settings: settingsWith(),
    });
    const refund = await service.create({ organizationId: org.id, actor: 'mcp' }, input);
    expect(refund.status).toBe('pending');
    expect(processor.submits).toEqual([]);
    expect(app.db.prepare('SELECT claim_token AS v FROM refunds WHERE id = ?').get(refund.id)).toEqual({ v: 'other-process' });
  });

  it("the request's digest is the SHA-256 of its canonical JSON, metadata keys in ascending order: digests stored by earlier versions still match", () => {
    const canonical = '["ch_1",2500,"usd","duplicate_charge",{"a":"1","b":"2","c":"3"}]';
    const expected = createHash('sha256').update(canonical).digest('hex');
    const base = { transactionId: 'ch_1', amount: 2500, reason: 'duplicate_charge' } as const;
    expect(fingerprintOf({ ...base, currency: 'usd', metadata: { c: '3', a: '1', b: '2' } })).toBe(expected);
    expect(fingerprintOf({ ...base, metadata: { b: '2', c: '3', a: '1' } })).toBe(expected);
  });
});
