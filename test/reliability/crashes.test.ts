/**
 * Crashes: the built server (and `dispatch`) killed with SIGKILL at random points of a stream of
 * creates (with and without idempotency keys), cancels and submissions to the Stripe imitation,
 * some slowed or answered late so that the kill often lands between Stripe doing the refund and
 * our write. Many iterations on ONE database file. After every kill:
 * - the database opens and PRAGMA integrity_check is ok;
 * - no refund is half-written: each has its creation event, and its events replay to its status;
 * - every answer the client got before the kill is durable (an answered create exists, an answered
 *   cancel is cancelled);
 * - Stripe holds no refund of ours twice, and every Stripe id we recorded is the one Stripe holds.
 * The next process (killed or not in its turn) picks up what the last one had in flight, once the
 * dead holder's claim has lapsed (its lease is fast-forwarded, as time would). At the end, dispatch
 * passes settle everything: each refund submitted exactly once, in the status Stripe holds.
 *
 * 20 iterations by default, 200 with REFUNDKIT_SOAK=1.
 */
import { once } from 'node:events';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { permitAgents } from '../support/agent-policy.js';
import { assertBuilt, cleanupCli, CLI_PATH, createDemoHome, ROOT, runCli, spawnServer, type Env, type TestHome } from '../support/cli.js';
import { SEED, runs } from '../support/arbitraries.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';
import { refundInvariantViolations, sleep, snapshot, stripeAgreementViolations, type Snapshot } from '../support/reliability.js';
import { seededDice, settleByDispatch, withoutSeeded } from '../support/load.js';
import { spawn } from 'node:child_process';

const ITERATIONS = runs(20, 200);

const { random, pick } = seededDice(SEED + 7);

let imitation: StripeImitation;
let home: TestHome;
let seeded: Set<string>;
let chargeIds: string[] = [];
const keyPool = Array.from({ length: 15 }, (_, i) => `crash-key-${i}`);
/** What each idempotency key was first answered with, across every iteration. */
const answeredByKey = new Map<string, string>();

interface IterationReport {
  index: number;
  victim: 'server' | 'dispatch';
  killedAfterMs: number;
  answers: number;
  violations: string[];
  integrity: string;
  /** Refunds a submission (or a cancel's lookup) held when the process died. */
  inFlight: number;
}
const reports: IterationReport[] = [];
let final: Snapshot = { refunds: [], events: new Map() };
let settleRuns = 0;

function env(extra: Env = {}): Env {
  return home.env({
    REFUNDKIT_API_KEY: DEMO_API_KEY,
    STRIPE_SECRET_KEY: imitation.apiKey,
    STRIPE_API_BASE: imitation.url,
    STRIPE_TIMEOUT_MS: '1000',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    REFUNDKIT_RETRY_BASE_SECONDS: '0.05',
    REFUNDKIT_SYNC_INTERVAL_SECONDS: '1',
    ...extra,
  });
}


function integrityCheck(): string {
  const db = new Database(home.dbPath, { fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * The dead process's claims lapse as its lease would (60 s and more): fast-forwarded so that the
 * next process may take its work over. Only ever done while no RefundKit process runs.
 */
function expireLeases(): number {
  const db = new Database(home.dbPath, { fileMustExist: true });
  try {
    return db.prepare("UPDATE refunds SET claim_expires_at = '2000-01-01T00:00:00.000Z' WHERE claim_token IS NOT NULL").run().changes;
  } finally {
    db.close();
  }
}

function createArgs(): Record<string, unknown> {
  const args: Record<string, unknown> = {
    transactionId: pick(chargeIds),
    amount: 100 + Math.floor(random() * 900),
    reason: pick(['duplicate_charge', 'requested_by_customer', 'other'] as const),
  };
  if (random() < 0.5) {
    const key = pick(keyPool);
    // A key always goes with the same arguments, so a resend after a crash is a true retry.
    const index = keyPool.indexOf(key);
    args.transactionId = chargeIds[index % chargeIds.length];
    args.amount = 500 + index;
    args.reason = 'duplicate_charge';
    args.idempotencyKey = key;
  }
  return args;
}

interface Answer {
  id: number;
  tool: string;
  args: Record<string, unknown>;
  refund?: { id: string; status: string };
}

/** One server life: start, a stream of calls, SIGKILL at a random point. Returns what was answered. */
async function serverLife(knownIds: readonly string[]): Promise<{ answers: Answer[]; killedAfterMs: number }> {
  const hold = pick(['0', '0', '0.05'] as const);
  const child = spawnServer(env({ REFUNDKIT_HOLD_SECONDS: hold, REFUNDKIT_DISPATCH_INTERVAL_SECONDS: pick(['0.05', '0'] as const) }));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stdin.on('error', () => undefined);
  const sent = new Map<number, { tool: string; args: Record<string, unknown> }>();
  const lines: string[] = [
    JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'crash', version: '0' } } }),
    JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  ];
  for (let id = 1; id <= 30; id += 1) {
    const cancel = knownIds.length > 0 && random() < 0.3;
    const tool = cancel ? 'cancel_refund' : 'create_refund';
    const args = cancel ? { refundId: pick(knownIds.slice(-10)) } : createArgs();
    sent.set(id, { tool, args });
    lines.push(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } }));
  }
  child.stdin.write(lines.join('\n') + '\n');
  // Kill somewhere between start-up and well after the work began. The work begins at the server's
  // first request to Stripe: an agent's create first reads the charge (the agent policy's
  // transaction rule) and records the refund only then, so counting from start-up alone would
  // kill most servers before their first refund exists.
  const started = Date.now();
  const exited = once(child, 'exit');
  const stripeRequests = imitation.requests.length;
  await Promise.race([waitFor(() => stdout.includes('"id":0') && imitation.requests.length > stripeRequests, 5_000), exited]);
  await sleep(Math.floor(random() * 250));
  const killedAfterMs = Date.now() - started;
  child.kill('SIGKILL');
  await exited;
  const answers: Answer[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const message = JSON.parse(line) as { id?: number; result?: { isError?: boolean; structuredContent?: { refund?: { id: string; status: string } } } };
    const request = message.id === undefined ? undefined : sent.get(message.id);
    if (request === undefined || message.id === undefined) continue;
    const answer: Answer = { id: message.id, tool: request.tool, args: request.args };
    if (message.result?.isError !== true && message.result?.structuredContent?.refund !== undefined) answer.refund = message.result.structuredContent.refund;
    answers.push(answer);
  }
  return { answers, killedAfterMs };
}

/** One `dispatch` run killed at a random point. */
async function dispatchLife(): Promise<number> {
  const child = spawn(process.execPath, [CLI_PATH, 'dispatch'], { env: env(), cwd: ROOT, stdio: 'ignore' });
  const exited = once(child, 'exit');
  const delay = 150 + Math.floor(random() * 500);
  await Promise.race([sleep(delay), exited]);
  child.kill('SIGKILL');
  await exited;
  return delay;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(10);
}

beforeAll(async () => {
  assertBuilt();
  imitation = await startStripeImitation();
  home = await createDemoHome();
  // Many agent refunds, and cancels of others' refunds: this test is about crashes, not the policy.
  await permitAgents(home, DEMO_ORGANIZATION_ID);
  seeded = new Set(snapshot(home.dbPath).refunds.map((r) => r.id));
  const big = 1_000_000_000;
  chargeIds = [
    imitation.addCharge({ amount: big }).chargeId,
    imitation.addCharge({ amount: big, refundBehavior: 'requires_action' }).chargeId,
    imitation.addCharge({ amount: big, refundBehavior: 'pending' }).chargeId,
    imitation.addCharge({ amount: big }).paymentIntentId,
  ];

  for (let index = 0; index < ITERATIONS; index += 1) {
    expireLeases();
    // Widen the window between Stripe doing the refund and our write: the kill lands there often.
    const roll = random();
    if (roll < 0.3) imitation.failNext(3, { kind: 'slow', ms: 150 }, { method: 'POST', path: '/v1/refunds' });
    else if (roll < 0.6) imitation.failNext(2, { kind: 'late', ms: 1_500 }, { method: 'POST', path: '/v1/refunds' });
    const before = withoutSeeded(snapshot(home.dbPath), seeded);
    const knownIds = before.refunds.map((r) => r.id);
    const victim = knownIds.length > 0 && random() < 0.2 ? 'dispatch' : 'server';
    let answers: Answer[] = [];
    let killedAfterMs: number;
    if (victim === 'server') ({ answers, killedAfterMs } = await serverLife(knownIds));
    else killedAfterMs = await dispatchLife();

    const integrity = integrityCheck();
    const after = withoutSeeded(snapshot(home.dbPath), seeded);
    const violations = [...refundInvariantViolations(after), ...stripeAgreementViolations(after, imitation.refunds(), { settled: false })];
    const rows = new Map(after.refunds.map((r) => [r.id, r]));
    for (const answer of answers) {
      if (answer.refund === undefined) continue;
      const row = rows.get(answer.refund.id);
      if (row === undefined) violations.push(`answered ${answer.tool} ${answer.refund.id} is not in the database`);
      if (answer.tool === 'cancel_refund' && row?.status !== 'cancelled') violations.push(`answered cancel of ${answer.refund.id} is ${row?.status}`);
      const key = answer.args.idempotencyKey;
      if (answer.tool === 'create_refund' && typeof key === 'string') {
        const first = answeredByKey.get(key);
        if (first !== undefined && first !== answer.refund.id) violations.push(`key ${key}: ${first} then ${answer.refund.id}`);
        answeredByKey.set(key, answer.refund.id);
      }
    }
    const now = new Date().toISOString();
    const inFlight = after.refunds.filter((r) => r.status === 'pending' && r.claim_token !== null && (r.claim_expires_at ?? '') > now).length;
    reports.push({ index, victim, killedAfterMs, answers: answers.length, violations, integrity, inFlight });
  }

  // Recovery: the last holder's claims lapse; dispatch until Stripe and we agree.
  await imitation.heldSettled(); // requests held by a slow or late fault finish at Stripe
  imitation.dropFaults(); // those no request met: recovery is measured without faults
  settleRuns = await settleByDispatch({
    passes: 12,
    dispatch: async () => {
      expireLeases();
      const run = await runCli(['dispatch'], env(), { timeoutMs: 30_000 });
      expect(run.code, run.stderr).toBe(0);
    },
    snapshot: () => withoutSeeded(snapshot(home.dbPath), seeded),
    imitation,
  });
  final = withoutSeeded(snapshot(home.dbPath), seeded);
}, 300_000);

afterAll(async () => {
  await imitation.close();
  await cleanupCli();
  const killedServers = reports.filter((r) => r.victim === 'server').length;
  process.stderr.write(
    `[reliability] crashes: ${reports.length} SIGKILLs (${killedServers} servers, ${reports.length - killedServers} dispatch runs), ` +
      `${reports.reduce((n, r) => n + r.answers, 0)} answers before the kills, ` +
      `${reports.reduce((n, r) => n + r.inFlight, 0)} submissions in flight at a kill, ${final.refunds.length} refunds, ` +
      `${imitation.refundCount()} at Stripe, ${settleRuns} dispatch runs to settle\n`,
  );
});

describe(`SIGKILL at random points, ${ITERATIONS} times on one database`, () => {
  it('after every kill the database is intact: integrity_check ok, nothing half-written, answers durable, no double refund', () => {
    expect(reports).toHaveLength(ITERATIONS);
    for (const report of reports) {
      expect(report.integrity, `iteration ${report.index}`).toBe('ok');
      expect(report.violations, `iteration ${report.index} (${report.victim} killed after ${report.killedAfterMs} ms)`).toEqual([]);
    }
  });

  it('the kills landed in the middle of work: refunds were created and some were in flight', () => {
    expect(final.refunds.length).toBeGreaterThan(ITERATIONS);
    const interrupted = final.refunds.filter((r) => r.attempts > 1);
    expect(interrupted.length, 'refunds whose submission had to be taken over').toBeGreaterThan(0);
    expect(reports.reduce((n, r) => n + r.inFlight, 0), 'submissions in flight when a process died').toBeGreaterThan(0);
  });

  it('restarted processes finished what was in flight: every refund settled, each at Stripe once, as Stripe holds it', () => {
    expect(refundInvariantViolations(final)).toEqual([]);
    expect(stripeAgreementViolations(final, imitation.refunds(), { settled: true })).toEqual([]);
    expect(final.refunds.filter((r) => r.status === 'pending').map((r) => r.id)).toEqual([]);
    expect(imitation.refundCount()).toBe(final.refunds.filter((r) => r.external_refund_id !== null).length);
  });
});
