/**
 * Races: three separate server processes (the built program over stdio) on ONE database file,
 * each with many concurrent calls: creates with and without idempotency keys (keys shared across
 * the processes, some reused with other arguments), cancels of refunds any process created, reads,
 * plus `dispatch` processes running alongside and each server's own background loop, against the
 * Stripe imitation with faults injected all along (5xx, 429, resets, timeouts, slow and late
 * answers). The servers differ in hold window and Stripe retries, so submissions happen inside
 * create calls, in background passes and in dispatch runs, racing the cancels.
 *
 * Afterwards (servers closed, faults spent, a few dispatch passes to settle):
 * - every refund is in one legal status, its events replay from creation to it by legal moves;
 * - Stripe holds at most one refund per refund of ours, every Stripe refund is one of ours, and
 *   each refund we submitted has its twin in the same status (a cancelled-before-submission or
 *   rejected one has none);
 * - one idempotency key, one refund: every successful create with a key returned the same refund;
 * - no caller ever saw internal_error, SQLITE_BUSY or "database is locked", and no process logged
 *   an error.
 *
 * Bounded time: 5 s of load by default, 60 s with REFUNDKIT_SOAK=1.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { permitAgents } from '../support/agent-policy.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  createDemoHome,
  disconnect,
  runCli,
  type ConnectedServer,
  type Env,
  type RunResult,
  type TestHome,
} from '../support/cli.js';
import { SEED, SOAK } from '../support/arbitraries.js';
import { startStripeImitation, type Fault, type FaultMatch, type StripeImitation } from '../support/stripe-imitation.js';
import { refundInvariantViolations, snapshot, stripeAgreementViolations, type Snapshot } from '../support/reliability.js';
import { addCharges, injectFault, loadWindow, loopUntil, RefundTraffic, seededDice, settleByDispatch, withoutSeeded, type WeightedCharge } from '../support/load.js';

const LOAD_MS = SOAK ? 60_000 : 5_000;
const SERVERS = 3;
const IN_FLIGHT_PER_SERVER = 6;
const SHARED_KEYS = 12;

const dice = seededDice(SEED);

interface Call {
  server: number;
  tool: string;
  args: Record<string, unknown>;
  result?: CallToolResult;
  threw?: string;
}

interface RefundJson {
  id: string;
  status: string;
}

let imitation: StripeImitation;
let home: TestHome;
const calls: Call[] = [];
const dispatchRuns: RunResult[] = [];
const servers: ConnectedServer[] = [];
let faultsInjected = 0;
let faultsDropped = 0;
let settleRuns = 0;
let final: Snapshot = { refunds: [], events: new Map() };
const serverStderr: string[] = [];

function env(index: number): Env {
  return home.env({
    REFUNDKIT_API_KEY: DEMO_API_KEY,
    STRIPE_SECRET_KEY: imitation.apiKey,
    STRIPE_API_BASE: imitation.url,
    STRIPE_TIMEOUT_MS: '800',
    STRIPE_MAX_NETWORK_RETRIES: String(index % 2),
    REFUNDKIT_HOLD_SECONDS: ['0', '0.2', '0.5'][index % 3] ?? '0',
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0.2',
    REFUNDKIT_SYNC_INTERVAL_SECONDS: '1',
    REFUNDKIT_RETRY_BASE_SECONDS: '0.05',
    REFUNDKIT_LOG_LEVEL: 'info',
  });
}

/** Charges to refund: most succeed at once, some wait for the customer (cancellable), some stay pending. */
const charges: WeightedCharge[] = [];
let traffic: RefundTraffic;

async function oneCall(server: number): Promise<void> {
  const { tool, args } = traffic.nextToolCall();
  const call: Call = { server, tool, args };
  calls.push(call);
  try {
    call.result = await callTool(servers[server]!, tool, args);
    if (tool === 'create_refund' && call.result.isError !== true) {
      traffic.createdIds.push((call.result.structuredContent as { refund: RefundJson }).refund.id);
    }
  } catch (error) {
    call.threw = error instanceof Error ? error.message : String(error);
  }
}

const FAULT_KINDS: { fault: Fault; times: number }[] = [
  { fault: { kind: 'status', status: 500 }, times: 1 },
  { fault: { kind: 'status', status: 503 }, times: 2 },
  { fault: { kind: 'status', status: 429 }, times: 1 },
  { fault: { kind: 'status', status: 429, retryAfterSeconds: 1 }, times: 1 },
  { fault: { kind: 'reset' }, times: 2 },
  { fault: { kind: 'hang' }, times: 1 },
  { fault: { kind: 'slow', ms: 300 }, times: 1 },
  { fault: { kind: 'slow', ms: 1_000 }, times: 1 },
  { fault: { kind: 'late', ms: 1_200 }, times: 1 },
  { fault: { kind: 'processThenReset' }, times: 2 },
];
const FAULT_TARGETS: FaultMatch[] = [
  { method: 'POST', path: '/v1/refunds' },
  { method: 'POST', path: /\/cancel$/ },
  { method: 'GET', path: /^\/v1\/refunds\/re_/ },
  { method: 'GET', path: '/v1/refunds' },
  { method: 'GET', path: '/v1/charges/' },
];

beforeAll(async () => {
  assertBuilt();
  imitation = await startStripeImitation();
  home = await createDemoHome();
  // Many agent refunds and cancels of others' refunds: this test is about races, not the policy.
  await permitAgents(home, DEMO_ORGANIZATION_ID);
  charges.push(
    ...addCharges(imitation, SOAK ? 40 : 6, [
      { charge: {}, weight: 4 },
      { charge: {}, weight: 2, asPaymentIntent: true },
      { charge: { refundBehavior: 'requires_action' }, weight: 4 },
      { charge: { refundBehavior: 'pending' }, weight: 2 },
      { charge: { refundBehavior: 'failed' }, weight: 1 },
      { charge: { disputed: true }, weight: 1 },
      { charge: { currency: 'eur' }, weight: 1 },
    ]),
  );
  traffic = new RefundTraffic(dice, charges, { sharedKeys: SHARED_KEYS, keyPrefix: 'shared-key-' });
  const seeded = new Set(snapshot(home.dbPath).refunds.map((r) => r.id));
  servers.push(...(await Promise.all(Array.from({ length: SERVERS }, (_, i) => connectServer(env(i), `racer-${i}`)))));

  const keepGoing = loadWindow(LOAD_MS, () => calls.length > MIN_CALLS && faultsInjected > 5);
  const workers: Promise<void>[] = [];
  for (let s = 0; s < SERVERS; s += 1) {
    for (let w = 0; w < IN_FLIGHT_PER_SERVER; w += 1) workers.push(loopUntil(keepGoing, () => oneCall(s)));
  }
  // dispatch processes, one after another, all through the load.
  workers.push(loopUntil(keepGoing, async () => void dispatchRuns.push(await runCli(['dispatch'], env(dispatchRuns.length), { timeoutMs: 120_000 }))));
  // Faults, one kind at a time, on a random endpoint.
  workers.push(loopUntil(keepGoing, async () => void (faultsInjected += await injectFault(imitation, dice, FAULT_KINDS, FAULT_TARGETS, 150))));
  await Promise.all(workers);
  // The load is over: a fault still waiting on an endpoint that nothing calls any more (the charge
  // read, once every refund is submitted) would only keep the settle loop below from ending.
  faultsDropped = imitation.dropFaults();

  // Let requests held by slow/late faults finish, then close the servers: each answers what it
  // was asked and lets its background pass end before it exits.
  await imitation.heldSettled();
  await Promise.all(servers.map((server) => disconnect(server)));
  serverStderr.push(...servers.map((server) => server.stderr()));

  // Settle: dispatch passes (submissions due, statuses due) until Stripe and we agree.
  settleRuns = await settleByDispatch({
    passes: 12,
    dispatch: async () => void dispatchRuns.push(await runCli(['dispatch'], env(0), { timeoutMs: 120_000 })),
    snapshot: () => withoutSeeded(snapshot(home.dbPath), seeded),
    imitation,
  });
  final = withoutSeeded(snapshot(home.dbPath), seeded);
}, 180_000);

afterAll(async () => {
  await imitation.close();
  await cleanupCli();
  const creates = calls.filter((c) => c.tool === 'create_refund').length;
  const cancels = calls.filter((c) => c.tool === 'cancel_refund').length;
  process.stderr.write(
    `[reliability] races: ${SERVERS} servers x ${IN_FLIGHT_PER_SERVER} in flight for ${LOAD_MS} ms: ${calls.length} calls ` +
      `(${creates} creates, ${cancels} cancels), ${dispatchRuns.length} dispatch runs (${settleRuns} to settle), ` +
      `${faultsInjected} faults (${faultsDropped} never met a request), ${final.refunds.length} refunds, ${imitation.refundCount()} at Stripe; ` +
      `dispatch runs took ${Math.round(Math.min(...dispatchRuns.map((r) => r.ms)))}-${Math.round(Math.max(...dispatchRuns.map((r) => r.ms)))} ms ` +
      `(${dispatchRuns.map((r) => /submitted \d+, status reads \d+/.exec(r.stdout)?.[0] ?? '?').join('; ')})\n`,
  );
});

const MIN_CALLS = SOAK ? 1_000 : 100;

const ALLOWED_ERRORS = new Set(['idempotency_conflict', 'refund_not_cancellable', 'refund_busy', 'processor_unavailable']);

describe('three server processes, dispatch runs and faults on one database', () => {
  it('did real work: many calls, refunds in every outcome', () => {
    expect(calls.length).toBeGreaterThan(MIN_CALLS);
    const statuses = new Set(final.refunds.filter((r) => r.processor === 'stripe').map((r) => r.status));
    for (const status of ['completed', 'cancelled', 'failed', 'processing']) expect(statuses, [...statuses].join()).toContain(status);
    expect(faultsInjected).toBeGreaterThan(5);
  });

  it('every caller got an answer: a result, or one of the documented retryable/business errors', () => {
    const threw = calls.filter((c) => c.threw !== undefined);
    expect(threw.map((c) => `${c.tool}: ${c.threw}`)).toEqual([]);
    const unexpected: string[] = [];
    for (const call of calls) {
      const text = JSON.stringify(call.result);
      if (/SQLITE_|database is locked|internal_error|Internal error/i.test(text)) unexpected.push(`${call.tool}: ${text}`);
      if (call.result?.isError === true) {
        const code = (JSON.parse((call.result.content[0] as { text: string }).text) as { error: { code: string } }).error.code;
        if (!ALLOWED_ERRORS.has(code)) unexpected.push(`${call.tool} ${JSON.stringify(call.args)}: ${code}`);
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('no process logged an error, a lock timeout or SQLITE_BUSY; every dispatch exited 0', () => {
    for (const text of [...serverStderr, ...dispatchRuns.map((r) => r.stderr)]) {
      expect(text).not.toMatch(/SQLITE_|database is locked/);
      // Log lines are `<time> <level> <message>`: no line at level error.
      expect(text).not.toMatch(/^\S+ error /m);
    }
    expect(dispatchRuns.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
  });

  it('every refund is in one legal status, reached by legal moves its events replay', () => {
    expect(refundInvariantViolations(final)).toEqual([]);
  });

  it('Stripe holds at most one refund per refund of ours, and the same status once settled', () => {
    expect(stripeAgreementViolations(final, imitation.refunds(), { settled: true })).toEqual([]);
    const ours = final.refunds.filter((r) => r.processor === 'stripe' && r.external_refund_id !== null).length;
    expect(imitation.refundCount()).toBe(ours);
  });

  it('one idempotency key, one refund, whichever process was asked', () => {
    const byKey = new Map<string, Set<string>>();
    for (const call of calls) {
      const key = call.args.idempotencyKey;
      if (call.tool !== 'create_refund' || typeof key !== 'string' || call.result?.isError === true) continue;
      const id = (call.result?.structuredContent as { refund: RefundJson }).refund.id;
      byKey.set(key, (byKey.get(key) ?? new Set()).add(id));
    }
    const split = [...byKey].filter(([, ids]) => ids.size !== 1).map(([key, ids]) => `${key}: ${[...ids].join(', ')}`);
    expect(split).toEqual([]);
    const rows = final.refunds.filter((r) => r.idempotency_key !== null);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(rows.length);
    for (const [key, ids] of byKey) expect(rows.find((r) => r.idempotency_key === key)?.id).toBe([...ids][0]);
    // The shared keys were really shared: asked from more than one process.
    const sharedFrom = new Set(calls.filter((c) => String(c.args.idempotencyKey).startsWith('shared-key-')).map((c) => c.server));
    expect(sharedFrom.size).toBe(SERVERS);
  });

  it('every refund a caller was told about exists as told', () => {
    const ids = new Set(final.refunds.map((r) => r.id));
    expect(traffic.createdIds.filter((id) => !ids.has(id))).toEqual([]);
  });
});
