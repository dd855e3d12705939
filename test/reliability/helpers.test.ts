/**
 * The checkers the reliability tests rely on must catch what they claim to: each is fed a
 * hand-made violation (a half-written refund, a broken or illegal event chain, a double refund at
 * Stripe, a status Stripe does not hold, a malformed JSON-RPC line, a leaked secret) and must name
 * it, and must stay silent on the healthy version.
 */
import type Stripe from 'stripe';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, createOrg, createTestApp, insertRefund } from '../support/fixtures.js';
import { jsonRpcViolation, refundInvariantViolations, rowsFingerprint, secretLeaks, stripeAgreementViolations, type EventRow, type RefundRow, type Snapshot } from '../support/reliability.js';

function refund(id: string, status: string, extra: Partial<RefundRow> = {}): RefundRow {
  return {
    id,
    organization_id: 'org_a',
    external_refund_id: status === 'pending' ? null : `re_${id}`,
    status,
    processor: 'stripe',
    amount: 100,
    transaction_id: 'ch_1',
    idempotency_key: null,
    attempts: status === 'pending' ? 0 : 1,
    claim_token: null,
    claim_expires_at: null,
    next_attempt_at: null,
    ...extra,
  };
}

let eventId = 0;
function chain(refundId: string, ...moves: [string | null, string, string?][]): EventRow[] {
  return moves.map(([from, to, detail]) => ({
    id: ++eventId,
    refund_id: refundId,
    organization_id: 'org_a',
    from_status: from,
    to_status: to,
    initiated_by: 'system',
    detail: detail ?? (from === 'pending' && to !== 'cancelled' ? `submitted to stripe as re_${refundId}` : null),
  }));
}

function snap(refunds: RefundRow[], events: EventRow[]): Snapshot {
  const map = new Map<string, EventRow[]>();
  for (const event of events) map.set(event.refund_id, [...(map.get(event.refund_id) ?? []), event]);
  return { refunds, events: map };
}

function stripeRefund(id: string, ours: string, status: string): Stripe.Refund {
  return { id, status, metadata: { refundkit_refund_id: ours } } as unknown as Stripe.Refund;
}

describe('refundInvariantViolations', () => {
  it('is silent on healthy refunds', () => {
    const s = snap(
      [refund('r1', 'completed'), refund('r2', 'cancelled'), refund('r3', 'pending')],
      [...chain('r1', [null, 'pending'], ['pending', 'processing'], ['processing', 'completed']), ...chain('r2', [null, 'pending'], ['pending', 'cancelled']), ...chain('r3', [null, 'pending'])],
    );
    expect(refundInvariantViolations(s)).toEqual([]);
  });

  it.each([
    ['a half-written refund (no creation event)', snap([refund('r1', 'pending')], []), /no creation event/],
    ['a chain that skips', snap([refund('r1', 'completed')], chain('r1', [null, 'pending'], ['processing', 'completed'])), /starts at processing/],
    ['an illegal move', snap([refund('r1', 'pending')], chain('r1', [null, 'pending'], ['pending', 'cancelled'], ['cancelled', 'pending'])), /illegal move cancelled -> pending/],
    ['events that replay elsewhere', snap([refund('r1', 'completed')], chain('r1', [null, 'pending'], ['pending', 'failed'])), /replay to failed/],
    ['a first event that is not a creation', snap([refund('r1', 'failed')], chain('r1', ['pending', 'failed'])), /not a creation/],
    ['events of a refund that does not exist', snap([], chain('r9', [null, 'pending'])), /missing refund r9/],
    ['a settled refund still claimed', snap([refund('r1', 'completed', { claim_token: 't' })], chain('r1', [null, 'pending'], ['pending', 'completed'])), /still claimed/],
  ])('names %s', (_label, s, message) => {
    expect(refundInvariantViolations(s).join('\n')).toMatch(message);
  });
});

describe('stripeAgreementViolations', () => {
  const healthy = snap(
    [refund('r1', 'completed'), refund('r2', 'cancelled', { external_refund_id: null, attempts: 0 }), refund('r3', 'processing')],
    [
      ...chain('r1', [null, 'pending'], ['pending', 'completed']),
      ...chain('r2', [null, 'pending'], ['pending', 'cancelled']),
      ...chain('r3', [null, 'pending'], ['pending', 'processing']),
    ],
  );
  const stripe = [stripeRefund('re_r1', 'r1', 'succeeded'), stripeRefund('re_r3', 'r3', 'requires_action')];

  it('is silent when Stripe and we agree', () => {
    expect(stripeAgreementViolations(healthy, stripe, { settled: true })).toEqual([]);
  });

  it('names a refund made twice at Stripe', () => {
    expect(stripeAgreementViolations(healthy, [...stripe, stripeRefund('re_again', 'r1', 'succeeded')], { settled: false }).join()).toMatch(/r1: refunded 2 times/);
  });

  it('names a status Stripe does not hold, once settled', () => {
    const wrong = [stripeRefund('re_r1', 'r1', 'failed'), stripe[1]!];
    expect(stripeAgreementViolations(healthy, wrong, { settled: true }).join()).toMatch(/r1: we hold completed, Stripe holds failed/);
    expect(stripeAgreementViolations(healthy, wrong, { settled: false })).toEqual([]);
  });

  it('names money moved for a refund we cancelled before submission', () => {
    expect(stripeAgreementViolations(healthy, [...stripe, stripeRefund('re_r2', 'r2', 'succeeded')], { settled: true }).join()).toMatch(/r2: we hold cancelled/);
  });

  it('names a recorded Stripe id Stripe does not have, and a Stripe refund we do not know', () => {
    expect(stripeAgreementViolations(healthy, [stripe[0]!], { settled: false }).join()).toMatch(/r3: recorded as re_r3 but Stripe has no refund/);
    expect(stripeAgreementViolations(healthy, [...stripe, stripeRefund('re_x', 'r_unknown', 'succeeded')], { settled: false }).join()).toMatch(/r_unknown: Stripe holds a refund we have no record of/);
  });
});

describe('jsonRpcViolation', () => {
  it.each([
    '{"jsonrpc":"2.0","id":1,"result":{}}',
    '{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"Method not found"}}',
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}',
    '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}',
    '{"jsonrpc":"2.0","method":"notifications/message","params":{}}',
  ])('accepts %s', (line) => expect(jsonRpcViolation(line)).toBeNull());

  it.each([
    'serving MCP over stdio',
    '{"jsonrpc":"1.0","id":1,"result":{}}',
    '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}',
    '{"jsonrpc":"2.0","result":{}}',
    '{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"y"}}',
    '[{"jsonrpc":"2.0","id":1,"result":{}}]',
  ])('refuses %s', (line) => expect(jsonRpcViolation(line)).not.toBeNull());
});

describe('secretLeaks', () => {
  it('finds a secret whole or by its tail, not by a masked prefix', () => {
    const secret = 'sk_test_abcdefghijklmnopqrstuvwxyz0123456789';
    expect(secretLeaks({ s: secret }, { log: `key=${secret}` })).toEqual(['s in log']);
    expect(secretLeaks({ s: secret }, { log: `key=sk_test_…${secret.slice(-16)}` })).toEqual(['s (its last 16 characters) in log']);
    expect(secretLeaks({ s: secret }, { log: 'key=sk_test_…[redacted]' })).toEqual([]);
  });
});

describe('rowsFingerprint', () => {
  afterAll(() => cleanupAll());

  it('sees any column change; withoutSyncSchedule overlooks only the status-read schedule', () => {
    const app = createTestApp();
    const org = createOrg(app).id;
    const { id } = insertRefund(app, org, { status: 'processing', processor: 'stripe' });
    const full = rowsFingerprint(app.db);
    const quiet = rowsFingerprint(app.db, { withoutSyncSchedule: true });
    app.db.prepare("UPDATE refunds SET next_sync_at = '2030-01-01T00:00:00.000Z' WHERE id = ?").run(id);
    expect(rowsFingerprint(app.db)).not.toBe(full);
    expect(rowsFingerprint(app.db, { withoutSyncSchedule: true })).toBe(quiet);
    app.db.prepare('UPDATE refunds SET attempts = attempts + 1 WHERE id = ?').run(id);
    expect(rowsFingerprint(app.db, { withoutSyncSchedule: true })).not.toBe(quiet);
  });
});
