/**
 * The atomic guarantees under real concurrency: many pools (each a process's view), many
 * connections each, all aimed at one refund, one idempotency key, one budget, one webhook event.
 * Exactly one winner, exactly one event; a budget never overshot.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/guardrails/decide.js';
import type { AgentRefundFacts, RefundDraft } from '../../../src/domain/ports.js';
import { postgresStoresOn, type PostgresStores } from '../../../src/store/postgres/stores.js';
import { refundFixture } from '../contract/harness.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres.js';

const PROCESSES = 4;
const RACERS = 24;
const CONNECTIONS = 6;
const T0 = '2026-04-01T00:00:00.000Z';

describePostgres('PostgreSQL under concurrency', () => {
  let database: TestDatabase;
  let processes: PostgresStores[];
  let org: string;

  beforeEach(async () => {
    database = await createTestDatabase();
    processes = Array.from({ length: PROCESSES }, () => postgresStoresOn(database.pool({ max: CONNECTIONS })));
    // Every connection opened before the race, so that the racers overlap instead of queueing
    // behind connection set-up (password authentication takes a while).
    await Promise.all(processes.flatMap((p) => Array.from({ length: CONNECTIONS }, () => p.pool.query('SELECT pg_sleep(0.05)'))));
    org = (await processes[0]!.organizations.create('Org')).id;
  });
  afterEach(() => database.drop());

  /** `RACERS` calls spread over the processes, started together. */
  const race = <T>(call: (stores: PostgresStores, i: number) => Promise<T>): Promise<T[]> =>
    Promise.all(Array.from({ length: RACERS }, (_, i) => call(processes[i % PROCESSES]!, i)));

  it('a guarded status change: exactly one winner, exactly one event', async () => {
    const refund = await processes[0]!.refunds.insert(refundFixture(org, { status: 'processing' }));
    const results = await race((stores, i) =>
      stores.refunds.transition({
        organizationId: org, refundId: refund.id, from: 'processing', to: i % 2 === 0 ? 'completed' : 'failed', actor: 'system', at: T0,
      }),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const events = await processes[0]!.refunds.events(org, refund.id);
    expect(events.map((e) => [e.from, e.to])).toEqual([[null, 'processing'], ['processing', winners[0]!.status]]);
  });

  it('a submission claim: exactly one holder, one attempt counted', async () => {
    const { refund } = await processes[0]!.refunds.create(draft('ref_raceclaim001', null));
    const claims = await race((stores, i) => stores.refunds.claimForSubmission(refund.id, `token${i}`, T0, '2026-04-01T00:05:00.000Z'));
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    expect((await processes[0]!.refunds.submissionState(refund.id, T0))?.attempts).toBe(1);
  });

  it('an idempotent create: one refund, one creation event, every caller answered with it', async () => {
    const results = await race((stores, i) => stores.refunds.create(draft(`ref_raceidem${String(i).padStart(4, '0')}`, 'same-key')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.refund.id)).size).toBe(1);
    expect(await processes[0]!.refunds.list(org, {}, { limit: 100, offset: 0 })).toHaveLength(1);
    expect(await processes[0]!.refunds.events(org, results[0]!.refund.id)).toHaveLength(1);
  });

  it('agent creates against one budget: never overshot, whichever process each reaches', async () => {
    const keyId = (await processes[0]!.apiKeys.create(org, 'test')).record.id;
    const BUDGET = 5;
    const decide = (facts: AgentRefundFacts): Decision =>
      facts.usage.count >= BUDGET ? { outcome: 'deny', rule: 'daily_count', message: 'over the daily count' } : { outcome: 'allow', confirm: false };
    const results = await race((stores, i) =>
      stores.guardrails.createAgentRefund({
        draft: { ...draft(`ref_racebudg${String(i).padStart(4, '0')}`, null), initiatedBy: 'mcp', createdByKeyId: keyId },
        budgetSince: '2026-03-31T00:00:00.000Z',
        decide,
        approval: { id: `apr_racebudg${String(i).padStart(4, '0')}`, expiresAt: '2026-04-02T00:00:00.000Z' },
      }),
    );
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(BUDGET);
    expect(results.filter((r) => r.outcome === 'denied')).toHaveLength(RACERS - BUDGET);
    expect(await processes[0]!.refunds.list(org, {}, { limit: 100, offset: 0 })).toHaveLength(BUDGET);
  });

  it('one webhook event delivered to every process at once is recorded once', async () => {
    const recorded = await race((stores) =>
      stores.webhookEvents.record({ source: 'stripe', eventId: 'evt_race', type: 'refund.updated', refundId: null, outcome: 'ignored', receivedAt: T0 }),
    );
    expect(recorded.filter(Boolean)).toHaveLength(1);
  });

  it('an approval decided by several operators at once: one decision, one event', async () => {
    const keyId = (await processes[0]!.apiKeys.create(org, 'test')).record.id;
    const held = await processes[0]!.guardrails.createAgentRefund({
      draft: { ...draft('ref_raceappr0001', null), initiatedBy: 'mcp', createdByKeyId: keyId },
      budgetSince: T0,
      decide: () => ({ outcome: 'approval', rule: 'approval_threshold', message: 'above the threshold' }),
      approval: { id: 'apr_raceappr0001', expiresAt: '2026-04-02T00:00:00.000Z' },
    });
    if (held.outcome !== 'created') throw new Error('not held');
    const decisions = await race((stores, i) =>
      stores.guardrails.decideApproval({
        organizationId: org, approvalId: 'apr_raceappr0001', status: i % 3 === 0 ? 'approved' : 'rejected',
        decidedBy: `operator:op${i}`, at: T0, note: null, actor: 'dashboard',
      }),
    );
    expect(decisions.filter((d) => d.ok)).toHaveLength(1);
    const events = await processes[0]!.refunds.events(org, held.refund.id);
    expect(events.filter((e) => e.detail?.includes('by operator:'))).toHaveLength(1);
  });

  function draft(id: string, idempotencyKey: string | null): RefundDraft {
    return {
      id,
      organizationId: org,
      transactionId: 'ch_race',
      amount: 1000,
      currency: 'usd',
      reason: 'other',
      processor: 'sandbox',
      metadata: null,
      initiatedBy: 'api',
      createdAt: T0,
      submitAt: T0,
      idempotencyKey,
      requestFingerprint: idempotencyKey === null ? null : 'fp',
    };
  }
});
