/**
 * Races over HTTP: two `refundkit-mcp http` processes and one stdio server on ONE database file,
 * for a bounded time, each with many concurrent callers: REST creates (Idempotency-Key headers
 * shared across the processes, and with the MCP callers, some reused with other arguments), REST
 * cancels and reads, MCP tool calls over stdio and over /mcp, `dispatch` processes running
 * alongside each server's own background loop, and signed Stripe webhook deliveries for refunds
 * that exist at the Stripe imitation, whose status the test moves on at Stripe the way Stripe
 * does (pending to succeeded or failed, requires_action to pending, succeeded to failed):
 * delivered once, to both servers at the same moment, late (after a newer event), and replayed.
 * A few faults are injected at Stripe all along, the read-back a webhook triggers included.
 *
 * Afterwards (servers stopped with SIGTERM, faults spent, dispatch passes to settle), the checkers
 * of races.test.ts:
 * - every refund is in one legal status, its events replay from creation to it by legal moves;
 * - Stripe holds at most one refund per refund of ours, in the status we hold once settled;
 * - one idempotency key, one refund, whichever process and whichever edge (REST or MCP) was asked;
 * - every webhook event id was applied at most once: at most one event row names it, at most one
 *   delivery was answered `applied`, and one webhook_events row records it;
 * - no caller ever saw a 5xx but the documented 503 processor_unavailable, internal_error,
 *   SQLITE_BUSY or "database is locked"; no process logged an error; every dispatch exited 0.
 *
 * Bounded time: 5 s of load by default, 60 s with REFUNDKIT_SOAK=1.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { permitAgents } from '../support/agent-policy.js';
import { REFUND_ID_METADATA_KEY } from '../../src/processors/stripe.js';
import { SEED, SOAK } from '../support/arbitraries.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  createDemoHome,
  disconnect,
  queryAll,
  runCli,
  type ConnectedServer,
  type Env,
  type RunResult,
  type TestHome,
} from '../support/cli.js';
import { cleanupHttp, orgWithKey, serveApp, type TestServer } from '../support/http-server.js';
import { createTestApp, rawEvents, storedStatus, tempDbPath } from '../support/fixtures.js';
import { deferred } from '../support/scripted.js';
import { startStripeImitation, type Fault, type FaultMatch, type SignedEvent, type StripeImitation } from '../support/stripe-imitation.js';
import { refundInvariantViolations, sleep, snapshot, spawnHttp, stripeAgreementViolations, wire, type HttpProcess, type Snapshot } from '../support/reliability.js';
import { addCharges, injectFault, loadWindow, loopUntil, RefundTraffic, seededDice, settleByDispatch, withoutSeeded, type WeightedCharge } from '../support/load.js';

const LOAD_MS = SOAK ? 60_000 : 5_000;
const REST_PER_SERVER = 4;
const MCP_STDIO_CALLERS = 3;
const MCP_HTTP_CALLERS = 2;
const SHARED_KEYS = 10;
const WEBHOOK_SECRET = 'whsec_restRacesTestOnlyNotARealSecret0001';

const dice = seededDice(SEED + 77);
const { random, pick } = dice;

interface RestCall {
  edge: string;
  kind: 'create' | 'cancel' | 'get' | 'list';
  args: Record<string, unknown>;
  idempotencyKey?: string;
  status?: number;
  body?: string;
  threw?: string;
}

interface ToolCall {
  edge: string;
  tool: string;
  args: Record<string, unknown>;
  result?: CallToolResult;
  threw?: string;
}

interface Delivery {
  server: number;
  eventId: string;
  /** The Stripe refund the event is about, its type and the status in it. */
  about: string;
  how: string;
  status?: number;
  outcome?: string;
  body?: string;
  threw?: string;
}

let imitation: StripeImitation;
let home: TestHome;
const https: HttpProcess[] = [];
let stdio: ConnectedServer;
const mcpHttp: { client: Client; transport: StreamableHTTPClientTransport }[] = [];
const restCalls: RestCall[] = [];
const toolCalls: ToolCall[] = [];
const deliveries: Delivery[] = [];
const dispatchRuns: RunResult[] = [];
const events: SignedEvent[] = [];
const charges: WeightedCharge[] = [];
let traffic: RefundTraffic;
let faultsInjected = 0;
let stripeMoves = 0;

const MIN_REST_CALLS = SOAK ? 1_000 : 100;
const DELIVERY_KINDS = ['once', 'duplicate at once', 'late', 'replay'] as const;

/** The work the checks below need to see, whatever the machine's speed (see loadWindow). */
function didEnough(): boolean {
  return (
    restCalls.length > MIN_REST_CALLS &&
    toolCalls.filter((c) => c.edge === 'stdio').length > 20 &&
    toolCalls.filter((c) => c.edge !== 'stdio').length > 20 &&
    DELIVERY_KINDS.every((how) => deliveries.some((d) => d.how === how)) &&
    deliveries.some((d) => d.outcome === 'applied') &&
    deliveries.some((d) => d.outcome === 'duplicate') &&
    stripeMoves > 3
  );
}
let settleRuns = 0;
let final: Snapshot = { refunds: [], events: new Map() };
const serverStderr: string[] = [];
let loadStartedAt = 0;
let loadMs = 0;

function env(index: number): Env {
  return home.env({
    REFUNDKIT_API_KEY: DEMO_API_KEY,
    STRIPE_SECRET_KEY: imitation.apiKey,
    STRIPE_API_BASE: imitation.url,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_TIMEOUT_MS: '800',
    STRIPE_MAX_NETWORK_RETRIES: String(index % 2),
    REFUNDKIT_HOLD_SECONDS: ['0', '0.3', '0.2'][index % 3] ?? '0',
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0.2',
    REFUNDKIT_SYNC_INTERVAL_SECONDS: '1',
    REFUNDKIT_RETRY_BASE_SECONDS: '0.05',
    REFUNDKIT_LOG_LEVEL: 'info',
  });
}

async function restCall(server: number): Promise<void> {
  const http = https[server]!;
  const roll = random();
  const auth = { authorization: `Bearer ${DEMO_API_KEY}` };
  let call: RestCall;
  let request: Parameters<typeof wire>[1];
  if (roll < 0.45 || traffic.createdIds.length === 0) {
    const { idempotencyKey, ...args } = traffic.createArgs();
    call = { edge: `http-${server}`, kind: 'create', args };
    const headers: Record<string, string> = { ...auth, 'content-type': 'application/json' };
    if (typeof idempotencyKey === 'string') {
      headers['idempotency-key'] = idempotencyKey;
      call.idempotencyKey = idempotencyKey;
    }
    request = { method: 'POST', target: '/v1/refunds', headers, body: JSON.stringify(args) };
  } else if (roll < 0.8) {
    const id = traffic.recentId();
    call = { edge: `http-${server}`, kind: 'cancel', args: { id } };
    request = random() < 0.5
      ? { method: 'POST', target: `/v1/refunds/${id}/cancel`, headers: { ...auth, 'content-type': 'application/json' }, body: '{}' }
      : { method: 'POST', target: `/v1/refunds/${id}/cancel`, headers: auth };
  } else if (roll < 0.92) {
    const id = traffic.anyId();
    call = { edge: `http-${server}`, kind: 'get', args: { id } };
    request = { method: 'GET', target: `/v1/refunds/${id}`, headers: auth };
  } else {
    const status = pick(['pending', 'processing', 'completed', 'cancelled', 'failed'] as const);
    call = { edge: `http-${server}`, kind: 'list', args: { status } };
    request = { method: 'GET', target: `/v1/refunds?status=${status}&limit=50`, headers: auth };
  }
  restCalls.push(call);
  try {
    // Connection: close on each: keep-alive would hide nothing here, and each call stands alone.
    const res = await wire(http.port, request, 30_000);
    call.status = res.status;
    call.body = res.body;
    if (call.kind === 'create' && res.status === 200) traffic.createdIds.push((JSON.parse(res.body) as { data: { id: string } }).data.id);
  } catch (error) {
    call.threw = error instanceof Error ? error.message : String(error);
  }
}

async function toolCall(edge: string, call: (tool: string, args: Record<string, unknown>) => Promise<CallToolResult>): Promise<void> {
  const { tool, args } = traffic.nextToolCall();
  const entry: ToolCall = { edge, tool, args };
  toolCalls.push(entry);
  try {
    entry.result = await call(tool, args);
    if (tool === 'create_refund' && entry.result.isError !== true) {
      traffic.createdIds.push((entry.result.structuredContent as { refund: { id: string } }).refund.id);
    }
  } catch (error) {
    entry.threw = error instanceof Error ? error.message : String(error);
  }
}

/** Moves a refund of ours on at Stripe the way Stripe can, now and then; returns the event type to tell of it. */
function moveAtStripe(id: string, status: string | null): string {
  const roll = random();
  if (status === 'pending' && roll < 0.5) {
    imitation.setRefundStatus(id, 'succeeded');
    stripeMoves += 1;
    return 'refund.updated';
  }
  if (status === 'pending' && roll < 0.6) {
    imitation.setRefundStatus(id, 'failed', 'expired_or_canceled_card');
    stripeMoves += 1;
    return 'refund.failed';
  }
  if (status === 'requires_action' && roll < 0.25) {
    imitation.setRefundStatus(id, 'pending');
    stripeMoves += 1;
    return 'refund.updated';
  }
  if (status === 'succeeded' && roll < 0.08) {
    imitation.setRefundStatus(id, 'failed', 'lost_or_stolen_card');
    stripeMoves += 1;
    return 'refund.failed';
  }
  return pick(['refund.updated', 'charge.refund.updated', 'refund.created'] as const);
}

async function deliver(server: number, event: SignedEvent, how: string): Promise<void> {
  const entry: Delivery = { server, eventId: event.event.id, about: `${event.event.data.object.id} ${event.event.type} ${String(event.event.data.object.status)}`, how };
  deliveries.push(entry);
  try {
    const res = await wire(
      https[server]!.port,
      {
        method: 'POST',
        target: '/webhooks/stripe',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': event.header },
        body: event.payload,
      },
      30_000,
    );
    entry.status = res.status;
    entry.body = res.body;
    if (res.status === 200) entry.outcome = (JSON.parse(res.body) as { data: { outcome: string } }).data.outcome;
    // Not handled (a refund of ours whose link is being written): Stripe sends it again later.
    if (res.status === 409) retries.push(event);
  } catch (error) {
    entry.threw = error instanceof Error ? error.message : String(error);
  }
}

/** Events a server asked to have sent again (409 refund_busy), as Stripe would. */
const retries: SignedEvent[] = [];

async function redeliver(): Promise<void> {
  for (const event of retries.splice(0)) await deliver(Math.floor(random() * https.length), event, 'retry');
}

let held: SignedEvent | undefined;

/** One webhook step: a new event about a refund of ours at Stripe, delivered in one of several ways. */
async function webhookStep(): Promise<void> {
  const ours = imitation.refunds().filter((r) => r.metadata?.[REFUND_ID_METADATA_KEY] !== undefined);
  if (ours.length === 0) {
    await sleep(50);
    return;
  }
  const target = random() < 0.7 ? pick(ours.slice(-15)) : pick(ours);
  const type = moveAtStripe(target.id, target.status);
  const event = imitation.signedEvent(WEBHOOK_SECRET, type, target.id);
  events.push(event);
  const roll = random();
  const server = Math.floor(random() * https.length);
  if (roll < 0.35) {
    await deliver(server, event, 'once');
  } else if (roll < 0.65) {
    // Stripe delivering the same event twice at once, to two processes behind a load balancer.
    await Promise.all([deliver(0, event, 'duplicate at once'), deliver(1, event, 'duplicate at once'), deliver(server, event, 'duplicate at once')]);
  } else if (roll < 0.85) {
    // Out of order: this one waits, and goes after the next one.
    const late = held;
    held = event;
    if (late !== undefined) await deliver(server, late, 'late');
  } else {
    await deliver(server, event, 'once');
    // A replay of an older event, whatever happened since.
    await deliver(1 - server, pick(events), 'replay');
  }
}

const FAULTS: { fault: Fault; times: number }[] = [
  { fault: { kind: 'status', status: 500 }, times: 1 },
  { fault: { kind: 'status', status: 503 }, times: 2 },
  { fault: { kind: 'status', status: 429 }, times: 1 },
  { fault: { kind: 'reset' }, times: 2 },
  { fault: { kind: 'slow', ms: 300 }, times: 1 },
  { fault: { kind: 'late', ms: 1_200 }, times: 1 },
  { fault: { kind: 'processThenReset' }, times: 1 },
];
const FAULT_TARGETS: FaultMatch[] = [
  { method: 'POST', path: '/v1/refunds' },
  { method: 'POST', path: /\/cancel$/ },
  // The fresh read a webhook triggers, and the status reads.
  { method: 'GET', path: /^\/v1\/refunds\/re_/ },
  { method: 'GET', path: /^\/v1\/refunds\/re_/ },
  { method: 'GET', path: '/v1/charges/' },
];

const REST_ALLOWED: Record<RestCall['kind'], ReadonlySet<string>> = {
  create: new Set(['idempotency_conflict', 'processor_unavailable']),
  cancel: new Set(['refund_not_cancellable', 'refund_busy', 'processor_unavailable']),
  get: new Set(),
  list: new Set(),
};
const TOOL_ALLOWED = new Set(['idempotency_conflict', 'refund_not_cancellable', 'refund_busy', 'processor_unavailable']);

describe('two http processes, a stdio one, dispatch runs and webhooks on one database', () => {
  beforeAll(async () => {
    assertBuilt();
    imitation = await startStripeImitation();
    home = await createDemoHome();
    // Many agent refunds and cancels of others' refunds: this test is about races, not the policy.
    await permitAgents(home, DEMO_ORGANIZATION_ID);
    charges.push(
      ...addCharges(imitation, SOAK ? 40 : 6, [
        { charge: {}, weight: 3 },
        { charge: {}, weight: 1, asPaymentIntent: true },
        { charge: { refundBehavior: 'pending' }, weight: 5 },
        { charge: { refundBehavior: 'requires_action' }, weight: 4 },
        { charge: { refundBehavior: 'failed' }, weight: 1 },
        { charge: { disputed: true }, weight: 1 },
      ]),
    );
    traffic = new RefundTraffic(dice, charges, { sharedKeys: SHARED_KEYS, keyPrefix: 'shared-rest-key-' });
    const seeded = new Set(snapshot(home.dbPath).refunds.map((r) => r.id));
    const [h0, h1, s2] = await Promise.all([spawnHttp(env(0)), spawnHttp(env(1)), connectServer(env(2), 'rest-racer-stdio')]);
    https.push(h0, h1);
    stdio = s2;
    for (let i = 0; i < MCP_HTTP_CALLERS; i += 1) {
      const transport = new StreamableHTTPClientTransport(new URL(`${https[i % 2]!.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${DEMO_API_KEY}` } },
      });
      const client = new Client({ name: `rest-racer-mcp-http-${i}`, version: '0.0.0' });
      await client.connect(transport);
      mcpHttp.push({ client, transport });
    }

    loadStartedAt = performance.now();
    const keepGoing = loadWindow(LOAD_MS, didEnough);
    const workers: Promise<void>[] = [];
    const loop = (step: () => Promise<void>): Promise<void> => loopUntil(keepGoing, step);
    for (let s = 0; s < https.length; s += 1) for (let w = 0; w < REST_PER_SERVER; w += 1) workers.push(loop(() => restCall(s)));
    for (let w = 0; w < MCP_STDIO_CALLERS; w += 1) workers.push(loop(() => toolCall('stdio', (tool, args) => callTool(stdio, tool, args))));
    mcpHttp.forEach(({ client }, i) => {
      workers.push(
        loop(() => toolCall(`mcp-http-${i}`, async (tool, args) => CallToolResultSchema.parse(await client.callTool({ name: tool, arguments: args })))),
      );
    });
    workers.push(loop(webhookStep), loop(webhookStep));
    workers.push(
      loop(async () => {
        await sleep(300);
        await redeliver();
      }),
    );
    workers.push(loop(async () => void dispatchRuns.push(await runCli(['dispatch'], env(dispatchRuns.length), { timeoutMs: 120_000 }))));
    workers.push(loop(async () => void (faultsInjected += await injectFault(imitation, dice, FAULTS, FAULT_TARGETS, 200))));
    await Promise.all(workers);
    // The load is over: a fault left on an endpoint nothing calls any more would only stall the settling.
    imitation.dropFaults();
    if (held !== undefined) await deliver(0, held, 'late');
    for (let round = 0; round < 30 && retries.length > 0; round += 1) {
      await sleep(200);
      await redeliver();
    }
    loadMs = performance.now() - loadStartedAt;

    // Requests held by slow or late faults finish; then every server stops gracefully.
    await imitation.heldSettled();
    await Promise.all(mcpHttp.map(({ client }) => client.close().catch(() => undefined)));
    const codes = await Promise.all(https.map((h) => h.stop()));
    expect(codes, https.map((h) => h.stderr()).join('\n')).toEqual([0, 0]);
    await disconnect(stdio);
    serverStderr.push(...https.map((h) => h.stderr()), stdio.stderr());

    // Settle: dispatch passes (submissions due, statuses due) until Stripe and we agree.
    settleRuns = await settleByDispatch({
      passes: 15,
      dispatch: async () => void dispatchRuns.push(await runCli(['dispatch'], env(0), { timeoutMs: 120_000 })),
      snapshot: () => withoutSeeded(snapshot(home.dbPath), seeded),
      imitation,
    });
    final = withoutSeeded(snapshot(home.dbPath), seeded);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(mcpHttp.map(({ client }) => client.close().catch(() => undefined)));
    await Promise.all(https.map((h) => h.stop()));
    await imitation.close();
    await cleanupCli();
    const count = (kind: string): number => restCalls.filter((c) => c.kind === kind).length;
    const outcomes = new Map<string, number>();
    for (const d of deliveries) outcomes.set(d.outcome ?? String(d.status), (outcomes.get(d.outcome ?? String(d.status)) ?? 0) + 1);
    process.stderr.write(
      `[reliability] rest-races: 2 http + 1 stdio processes for ${Math.round(loadMs)} ms: ${restCalls.length} REST calls ` +
        `(${count('create')} creates, ${count('cancel')} cancels), ${toolCalls.length} MCP calls ` +
        `(${toolCalls.filter((c) => c.edge === 'stdio').length} stdio, ${toolCalls.filter((c) => c.edge !== 'stdio').length} /mcp), ` +
        `${events.length} webhook events in ${deliveries.length} deliveries (${[...outcomes].map(([o, n]) => `${n} ${o}`).join(', ')}), ` +
        `${stripeMoves} moves at Stripe, ${faultsInjected} faults, ${dispatchRuns.length} dispatch runs (${settleRuns} to settle), ` +
        `${final.refunds.length} refunds, ${imitation.refundCount()} at Stripe\n`,
    );
  });


  it('did real work: calls on every edge, deliveries of every kind, refunds in every outcome', () => {
    expect(restCalls.length).toBeGreaterThan(MIN_REST_CALLS);
    expect(toolCalls.filter((c) => c.edge === 'stdio').length).toBeGreaterThan(20);
    expect(toolCalls.filter((c) => c.edge !== 'stdio').length).toBeGreaterThan(20);
    for (const how of DELIVERY_KINDS) expect(deliveries.filter((d) => d.how === how).length, how).toBeGreaterThan(0);
    expect(deliveries.filter((d) => d.outcome === 'applied').length).toBeGreaterThan(0);
    expect(deliveries.filter((d) => d.outcome === 'duplicate').length).toBeGreaterThan(0);
    expect(stripeMoves).toBeGreaterThan(3);
    const statuses = new Set(final.refunds.map((r) => r.status));
    for (const status of ['completed', 'cancelled', 'failed', 'processing']) expect(statuses, [...statuses].join()).toContain(status);
  });

  it('every REST caller got a documented answer: never a 5xx but 503 processor_unavailable, never internal_error', () => {
    expect(restCalls.filter((c) => c.threw !== undefined).map((c) => `${c.kind}: ${c.threw}`)).toEqual([]);
    const unexpected: string[] = [];
    for (const call of restCalls) {
      const text = call.body ?? '';
      if (/SQLITE_|database is locked|internal_error|Internal error/i.test(text)) unexpected.push(`${call.kind}: ${text}`);
      if (call.status === 200) continue;
      const body = JSON.parse(text) as { error: { code: string } };
      if (!REST_ALLOWED[call.kind].has(body.error.code)) unexpected.push(`${call.edge} ${call.kind} ${JSON.stringify(call.args)} -> ${call.status} ${text}`);
      if (body.error.code === 'processor_unavailable' && call.status !== 503) unexpected.push(`${call.kind}: processor_unavailable with ${call.status}`);
    }
    expect(unexpected).toEqual([]);
  });

  it('every MCP caller (stdio and /mcp) got a result or a documented retryable/business error', () => {
    expect(toolCalls.filter((c) => c.threw !== undefined).map((c) => `${c.edge} ${c.tool}: ${c.threw}`)).toEqual([]);
    const unexpected: string[] = [];
    for (const call of toolCalls) {
      const text = JSON.stringify(call.result);
      if (/SQLITE_|database is locked|internal_error|Internal error/i.test(text)) unexpected.push(`${call.edge} ${call.tool}: ${text}`);
      if (call.result?.isError === true) {
        const code = (JSON.parse((call.result.content[0] as { text: string }).text) as { error: { code: string } }).error.code;
        if (!TOOL_ALLOWED.has(code)) unexpected.push(`${call.edge} ${call.tool} ${JSON.stringify(call.args)}: ${code}`);
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('every webhook delivery was answered 200 with an outcome, or 409 refund_busy and then sent again until it was', () => {
    const bad = deliveries
      .filter((d) => !(d.status === 200 && d.outcome !== undefined) && !(d.status === 409 && d.body?.includes('"refund_busy"') === true))
      .map((d) => `${d.how} ${d.eventId}: ${d.status} ${d.threw ?? d.body}`);
    expect(bad).toEqual([]);
    const answered = new Set(deliveries.filter((d) => d.status === 200).map((d) => d.eventId));
    expect(deliveries.filter((d) => !answered.has(d.eventId)).map((d) => d.eventId)).toEqual([]);
  });

  it('every webhook event id was applied at most once, and is recorded once', () => {
    const appliedAnswers = new Map<string, number>();
    for (const d of deliveries) if (d.outcome === 'applied') appliedAnswers.set(d.eventId, (appliedAnswers.get(d.eventId) ?? 0) + 1);
    expect([...appliedAnswers].filter(([, n]) => n > 1)).toEqual([]);
    const rowsPerEvent = new Map<string, number>();
    for (const list of final.events.values()) {
      for (const event of list) {
        const id = /stripe webhook \S+ (evt_\w+)/.exec(event.detail ?? '')?.[1];
        if (id !== undefined) rowsPerEvent.set(id, (rowsPerEvent.get(id) ?? 0) + 1);
      }
    }
    expect([...rowsPerEvent].filter(([, n]) => n > 1)).toEqual([]);
    // An event whose delivery said `applied` left exactly its row; one that was never applied left none.
    for (const [id] of appliedAnswers) expect(rowsPerEvent.get(id), id).toBe(1);
    const recorded = queryAll<{ event_id: string; outcome: string }>(home.dbPath, "SELECT event_id, outcome FROM webhook_events WHERE source = 'stripe'");
    const delivered = new Set(deliveries.map((d) => d.eventId));
    expect(recorded.map((r) => r.event_id).sort()).toEqual([...delivered].sort());
    for (const row of recorded) if ((rowsPerEvent.get(row.event_id) ?? 0) === 0) expect(row.outcome, row.event_id).not.toBe('applied');
  });

  it('no process logged an error, a lock timeout or SQLITE_BUSY; every dispatch exited 0', () => {
    for (const text of [...serverStderr, ...dispatchRuns.map((r) => r.stderr)]) {
      expect(text).not.toMatch(/SQLITE_|database is locked/);
      expect(text).not.toMatch(/^\S+ error /m);
    }
    expect(dispatchRuns.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
  });

  it('every refund is in one legal status, reached by legal moves its events replay', () => {
    expect(refundInvariantViolations(final)).toEqual([]);
  });

  it('Stripe holds at most one refund per refund of ours, and the same status once settled', () => {
    const violations = stripeAgreementViolations(final, imitation.refunds(), { settled: true });
    // What happened to each refund in disagreement, to tell a lost webhook from a lost status read.
    const story = violations.map((violation) => {
      const id = violation.split(':')[0] ?? '';
      const stripeId = final.refunds.find((r) => r.id === id)?.external_refund_id ?? '?';
      const rows = (final.events.get(id) ?? []).map((e) => `${e.from_status}->${e.to_status} (${e.detail ?? ''})`);
      const hooks = deliveries.filter((d) => d.about.startsWith(`${stripeId} `)).map((d) => `${d.how} ${d.eventId} ${d.about}: ${d.outcome ?? d.status}`);
      return `${violation}\n  events: ${rows.join('; ')}\n  deliveries: ${hooks.join('; ')}`;
    });
    expect(story).toEqual([]);
    const ours = final.refunds.filter((r) => r.processor === 'stripe' && r.external_refund_id !== null).length;
    expect(imitation.refundCount()).toBe(ours);
  });

  it('one idempotency key, one refund, whichever process and edge was asked', () => {
    const byKey = new Map<string, Set<string>>();
    const edgesByKey = new Map<string, Set<string>>();
    const note = (key: string, id: string, edge: string): void => {
      byKey.set(key, (byKey.get(key) ?? new Set()).add(id));
      edgesByKey.set(key, (edgesByKey.get(key) ?? new Set()).add(edge));
    };
    for (const call of restCalls) {
      if (call.kind === 'create' && call.idempotencyKey !== undefined && call.status === 200) {
        note(call.idempotencyKey, (JSON.parse(call.body ?? '{}') as { data: { id: string } }).data.id, call.edge);
      }
    }
    for (const call of toolCalls) {
      const key = call.args.idempotencyKey;
      if (call.tool === 'create_refund' && typeof key === 'string' && call.result !== undefined && call.result.isError !== true) {
        note(key, (call.result.structuredContent as { refund: { id: string } }).refund.id, call.edge);
      }
    }
    expect([...byKey].filter(([, ids]) => ids.size !== 1).map(([key, ids]) => `${key}: ${[...ids].join(', ')}`)).toEqual([]);
    const rows = final.refunds.filter((r) => r.idempotency_key !== null);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(rows.length);
    for (const [key, ids] of byKey) expect(rows.find((r) => r.idempotency_key === key)?.id).toBe([...ids][0]);
    // The shared keys were asked for on REST and MCP, through more than one process.
    const sharedEdges = new Set([...edgesByKey].filter(([key]) => key.startsWith('shared-rest-key-')).flatMap(([, edges]) => [...edges]));
    expect([...sharedEdges].some((e) => e.startsWith('http-'))).toBe(true);
    expect([...sharedEdges].some((e) => e === 'stdio' || e.startsWith('mcp-http'))).toBe(true);
  });

  it('every refund a caller was told about exists as told', () => {
    const ids = new Set(final.refunds.map((r) => r.id));
    expect(traffic.createdIds.filter((id) => !ids.has(id))).toEqual([]);
  });
});

describe('regressions found by the storm above (two servers in this process on one database file)', () => {
  const SECRET = 'whsec_restRacesRegressionOnlyNotReal001';
  let stripe: StripeImitation;
  let a: TestServer;
  let b: TestServer;
  let key: string;

  beforeAll(async () => {
    stripe = await startStripeImitation();
    const dbPath = tempDbPath();
    const config = {
      REFUNDKIT_DB_PATH: dbPath,
      STRIPE_SECRET_KEY: 'sk_test_restRacesRegression0000',
      STRIPE_API_BASE: stripe.url,
      STRIPE_WEBHOOK_SECRET: SECRET,
      STRIPE_MAX_NETWORK_RETRIES: '0',
      STRIPE_TIMEOUT_MS: '3000',
    };
    a = await serveApp(createTestApp(config));
    b = await serveApp(createTestApp(config));
    key = orgWithKey(a.app).key;
  });
  afterAll(async () => {
    await cleanupHttp();
    await stripe.close();
  });

  async function processingRefund(): Promise<{ id: string; stripeId: string }> {
    const { chargeId } = stripe.addCharge({ amount: 10_000, refundBehavior: 'pending' });
    const res = await wire(a.port, {
      method: 'POST',
      target: '/v1/refunds',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ transactionId: chargeId, amount: 500, reason: 'other' }),
    });
    const refund = (JSON.parse(res.body) as { data: { id: string; externalRefundId: string; status: string } }).data;
    expect(refund.status).toBe('processing');
    return { id: refund.id, stripeId: refund.externalRefundId };
  }

  function deliver(server: TestServer, event: SignedEvent): Promise<Awaited<ReturnType<typeof wire>>> {
    return wire(server.port, {
      method: 'POST',
      target: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': event.header },
      body: event.payload,
    });
  }

  it('one event delivered to two processes at once, Stripe moving on between their reads, is applied once (it was applied by both)', async () => {
    const refund = await processingRefund();
    stripe.setRefundStatus(refund.stripeId, 'succeeded');
    const event = stripe.signedEvent(SECRET, 'refund.updated', refund.stripeId);
    // The first process's read of the refund is held until the second delivery has been answered
    // and Stripe has moved on to failed. Before the fix each applied its own read, under one event id.
    const release = deferred();
    stripe.failNext(1, { kind: 'held', until: release.promise }, { method: 'GET', path: '/v1/refunds/re_' });
    const first = deliver(a, event);
    await vi.waitFor(() => expect(stripe.requests.filter((r) => r.fault === 'held')).toHaveLength(1), { timeout: 30_000 });
    const second = await deliver(b, event);
    stripe.setRefundStatus(refund.stripeId, 'failed', 'lost_or_stolen_card');
    release.resolve();
    const outcomes = [await first, second].map((res) => (JSON.parse(res.body) as { data: { outcome: string } }).data.outcome);
    expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
    const rows = rawEvents(a.app, refund.id).filter((e) => e.detail?.includes(event.event.id) === true);
    expect(rows).toHaveLength(1);
    // Whichever applied it, the refund ends where Stripe is.
    await deliver(b, stripe.signedEvent(SECRET, 'refund.failed', refund.stripeId));
    expect(storedStatus(a.app, refund.id)).toBe('failed');
  });

  it("a late failure reported while the refund's submission answer is still being written is answered 409, and applied when sent again (it was 200 ignored: completed for hours)", async () => {
    const { chargeId } = stripe.addCharge({ amount: 10_000 });
    // Stripe makes the refund at once and answers 500 ms later: meanwhile it is Stripe's, not yet linked here.
    stripe.failNext(1, { kind: 'late', ms: 500 }, { method: 'POST', path: '/v1/refunds' });
    const creating = wire(a.port, {
      method: 'POST',
      target: '/v1/refunds',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ transactionId: chargeId, amount: 700, reason: 'other' }),
    });
    let atStripe = stripe.refunds().find((r) => r.charge === chargeId);
    for (let i = 0; i < 100 && atStripe === undefined; i += 1) {
      await sleep(10);
      atStripe = stripe.refunds().find((r) => r.charge === chargeId);
    }
    expect(atStripe?.status).toBe('succeeded');
    stripe.setRefundStatus(atStripe!.id, 'failed', 'lost_or_stolen_card');
    const event = stripe.signedEvent(SECRET, 'refund.failed', atStripe!.id);
    const early = await deliver(b, event);
    expect(early.status, early.body).toBe(409);
    expect(JSON.parse(early.body)).toMatchObject({ error: { code: 'refund_busy' } });
    expect(early.headers['retry-after']).toBe('2');
    const created = JSON.parse((await creating).body) as { data: { id: string; status: string } };
    // Our record holds what Stripe answered at the time.
    expect(created.data.status).toBe('completed');
    const again = await deliver(b, event);
    expect((JSON.parse(again.body) as { data: { outcome: string } }).data.outcome).toBe('applied');
    expect(storedStatus(a.app, created.data.id)).toBe('failed');
  });

  it('an event whose handling failed is not marked handled: the retry Stripe sends after the error applies it', async () => {
    const refund = await processingRefund();
    stripe.setRefundStatus(refund.stripeId, 'succeeded');
    const event = stripe.signedEvent(SECRET, 'refund.updated', refund.stripeId);
    a.app.db.exec('ALTER TABLE refunds RENAME TO refunds_away');
    try {
      expect((await deliver(a, event)).status).toBe(500);
    } finally {
      a.app.db.exec('ALTER TABLE refunds_away RENAME TO refunds');
    }
    const retry = await deliver(b, event);
    expect((JSON.parse(retry.body) as { data: { outcome: string } }).data.outcome).toBe('applied');
    expect(storedStatus(a.app, refund.id)).toBe('completed');
  });
});
