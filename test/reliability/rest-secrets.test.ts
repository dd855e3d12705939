/**
 * Secrets and tenants over HTTP, on the built `refundkit-mcp http` at debug log level (every
 * request logged), with API keys, a Stripe secret key and a webhook signing secret generated here.
 *
 * A session for organization A goes through successes, refusals of every kind, Stripe rejections
 * and Stripe faults (two of which echo the Stripe key back in their error message, as a
 * misbehaving proxy might), webhook deliveries (signed, forged, stale), /mcp with tool calls and
 * tool errors, keys sent where they do not belong (in the path, the query, a body field name, the
 * Host, Origin and Content-Type headers, a Basic header), and a second server whose Stripe key
 * Stripe refuses. Every response (status line, headers, body), every line the servers logged and
 * every command's output is captured and searched: no API key, Stripe key or webhook secret, whole
 * or by its last 16 characters.
 *
 * Then every REST route and /mcp is tried with organization B's key (nothing of A visible or
 * changed: a fingerprint of A's rows, B's idempotency key its own), with a key revoked before the
 * server started, and with a key revoked while its /mcp session is open (401 from the next request
 * on, nothing changed).
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, cleanupCli, createTestHome, lastLine, runCli, type Env, type RunResult, type TestHome } from '../support/cli.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';
import { randomText, rowsFingerprint, rpcMessagesOf, secretLeaks, snapshot, spawnHttp, twoOrganizations, wire, type HttpProcess, type WireRequest, type WireResponse } from '../support/reliability.js';


const STRIPE_KEY = `sk_test_${randomText(40)}`;
const OTHER_STRIPE_KEY = `sk_test_${randomText(40)}`;
const WEBHOOK_SECRET = `whsec_${randomText(32)}`;
const MCP_ACCEPT = 'application/json, text/event-stream';
const NOT_FOUND = { error: { message: 'Refund not found', code: 'not_found' } };
const INVALID_KEY = { error: { message: 'Invalid API key', code: 'invalid_api_key' } };

let imitation: StripeImitation;
let home: TestHome;
let server: HttpProcess;
let orgA: string;
let orgB: string;
let keyA: string;
let keyA2: string;
let keyB: string;
let keyRevoked: string;
/** Every text a secret must not appear in, by where it came from. */
const captured: Record<string, string> = {};
let responses = 0;
const runs: RunResult[] = [];
let refundsOfA: string[] = [];
let pendingOfA = '';

async function cli(args: string[], extra: Env = {}): Promise<string> {
  const result = await runCli(args, home.env(extra));
  runs.push(result);
  // `keys create` prints the new key on stdout, once, by design: that is its whole job.
  if (!(args[0] === 'keys' && args[1] === 'create')) captured[`${args.join(' ').slice(0, 40)} #${runs.length} stdout`] = result.stdout;
  captured[`${args.join(' ').slice(0, 40)} #${runs.length} stderr`] = result.stderr;
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return lastLine(result.stdout);
}

function serverEnv(extra: Env = {}): Env {
  return home.env({
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_API_BASE: imitation.url,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_TIMEOUT_MS: '500',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    REFUNDKIT_LOG_LEVEL: 'debug',
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0.1',
    REFUNDKIT_RETRY_BASE_SECONDS: '0.05',
    REFUNDKIT_SYNC_INTERVAL_SECONDS: '1',
    ...extra,
  });
}

/** Sends a request and keeps every byte of the answer for the search. */
async function send(target: HttpProcess, request: WireRequest): Promise<WireResponse> {
  const res = await wire(target.port, request);
  responses += 1;
  captured[`response #${responses} to ${request.method} ${request.target.slice(0, 60)}`] = `${res.head}\r\n\r\n${res.body}`;
  return res;
}

function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

function json(res: WireResponse): { data?: { id: string; status: string; organizationId: string } | { id: string; organizationId: string }[]; error?: { code: string; message: string } } {
  return JSON.parse(res.body) as ReturnType<typeof json>;
}

async function create(key: string, body: Record<string, unknown>, idempotencyKey?: string): Promise<WireResponse> {
  const headers = bearer(key, { 'content-type': 'application/json' });
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  return send(server, { method: 'POST', target: '/v1/refunds', headers, body: JSON.stringify(body) });
}

function cancel(key: string, id: string): Promise<WireResponse> {
  return send(server, { method: 'POST', target: `/v1/refunds/${id}/cancel`, headers: bearer(key, { 'content-type': 'application/json' }), body: '{}' });
}

/** An /mcp session: initialize, then a function that sends one request in it. */
async function mcpSession(key: string): Promise<{ id: string; call: (key: string, method: string, params?: unknown) => Promise<WireResponse> }> {
  const init = await send(server, {
    method: 'POST',
    target: '/mcp',
    headers: bearer(key, { 'content-type': 'application/json', accept: MCP_ACCEPT }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'secrets', version: '0' } } }),
  });
  expect(init.status, init.body).toBe(200);
  const id = init.headers['mcp-session-id']!;
  let next = 1;
  const call = (callerKey: string, method: string, params?: unknown): Promise<WireResponse> =>
    send(server, {
      method: 'POST',
      target: '/mcp',
      headers: bearer(callerKey, { 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' }),
      body: JSON.stringify(params === undefined ? { jsonrpc: '2.0', id: next++, method } : { jsonrpc: '2.0', id: next++, method, params }),
    });
  await call(key, 'notifications/initialized');
  return { id, call };
}

/** The structured content (or error body) of a tools/call answer. */
function toolOutcome(res: WireResponse): { refund?: { id: string }; refunds?: { id: string; organizationId: string }[]; error?: { code: string; message: string } } {
  const [message] = rpcMessagesOf(res);
  const parsed = JSON.parse(message ?? '{}') as { result?: { content: { text: string }[] }; error?: { message: string } };
  if (parsed.result === undefined) throw new Error(`not a tool result: ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(parsed.result.content[0]?.text ?? '{}') as ReturnType<typeof toolOutcome>;
}

beforeAll(async () => {
  assertBuilt();
  imitation = await startStripeImitation({ apiKey: STRIPE_KEY, apiKeys: [STRIPE_KEY] });
  home = createTestHome();
  ({ orgA, orgB, keyA, keyA2, keyB, keyRevoked } = await twoOrganizations((args) => cli(args)));
  server = await spawnHttp(serverEnv());

  const succeeded = imitation.addCharge({ amount: 100_000 });
  const waiting = imitation.addCharge({ amount: 100_000, refundBehavior: 'requires_action' });
  const slow = imitation.addCharge({ amount: 100_000, refundBehavior: 'pending' });
  const disputed = imitation.addCharge({ amount: 5_000, disputed: true });

  // Successes.
  const first = json(await create(keyA, { transactionId: succeeded.chargeId, amount: 1_000, reason: 'other' }, 'shared-between-orgs'));
  const cancellable = json(await create(keyA, { transactionId: waiting.chargeId, amount: 2_000, reason: 'duplicate_charge' }));
  const processing = json(await create(keyA, { transactionId: slow.chargeId, amount: 3_000, reason: 'product_defective', metadata: { orderId: 'o_1' } }));
  await cancel(keyA, (cancellable.data as { id: string }).id);
  await send(server, { method: 'GET', target: '/v1/refunds?limit=100', headers: bearer(keyA) });
  // Stripe rejections and faults, two echoing the Stripe key.
  await create(keyA, { transactionId: disputed.chargeId, amount: 500, reason: 'fraudulent' });
  imitation.failNext(1, { kind: 'status', status: 500, message: `proxy error: upstream refused Authorization: Bearer ${STRIPE_KEY}` }, { method: 'POST', path: '/v1/refunds' });
  await create(keyA, { transactionId: succeeded.chargeId, amount: 700, reason: 'other' });
  imitation.failNext(1, { kind: 'status', status: 429, retryAfterSeconds: 1, message: `rate limited for key ${STRIPE_KEY}` }, { method: 'GET' });
  imitation.failNext(2, { kind: 'reset' }, { path: /\/cancel$/ });
  const second = json(await create(keyA, { transactionId: waiting.chargeId, amount: 900, reason: 'other' }));
  await cancel(keyA, (second.data as { id: string }).id);
  await cancel(keyA, (first.data as { id: string }).id);
  // Refusals of every kind, with keys where they do not belong.
  const refusals: WireRequest[] = [
    { method: 'GET', target: '/v1/refunds/ref_zzzzzzzzzzzz', headers: bearer(keyA) },
    { method: 'GET', target: `/v1/refunds/${keyA}`, headers: bearer(keyA) },
    { method: 'GET', target: `/v1/${keyA}/refunds`, headers: bearer(keyA) },
    { method: 'GET', target: `/v1/refunds?api_key=${keyA}`, headers: bearer(keyA) },
    { method: 'GET', target: `/v1/refunds?${keyA}=1`, headers: bearer(keyA) },
    { method: 'GET', target: `/v1/refunds?processor=${STRIPE_KEY}`, headers: bearer(keyA) },
    { method: 'GET', target: '/v1/refunds?limit=1000', headers: bearer(keyA) },
    { method: 'POST', target: '/v1/refunds', headers: bearer(keyA, { 'content-type': 'application/json' }), body: JSON.stringify({ transactionId: succeeded.chargeId, amount: 1, reason: 'other', [keyA]: STRIPE_KEY }) },
    { method: 'POST', target: '/v1/refunds', headers: bearer(keyA, { 'content-type': 'application/json', 'idempotency-key': `${WEBHOOK_SECRET}!` }), body: '{}' },
    { method: 'POST', target: '/v1/refunds', headers: bearer(keyA, { 'content-type': `text/${keyA}` }), body: '{}' },
    { method: 'POST', target: `/v1/refunds/${pendingOfA || 'ref_zzzzzzzzzzzz'}/cancel`, headers: bearer(keyA, { 'content-type': 'application/json' }), body: JSON.stringify({ [WEBHOOK_SECRET]: 1 }) },
    { method: keyA.slice(0, 20).toUpperCase().replace(/[^A-Z]/g, 'X'), target: '/v1/refunds', headers: bearer(keyA) },
    { method: 'GET', target: '/v1/refunds', headers: { authorization: `Bearer ${keyA}x` } },
    { method: 'GET', target: '/v1/refunds', headers: { authorization: `Basic ${Buffer.from(`${keyA}:`).toString('base64')}` } },
    { method: 'GET', target: '/v1/refunds', headers: { authorization: `Token ${keyA}` } },
    { method: 'GET', target: '/v1/refunds', headers: { authorization: `Bearer ${STRIPE_KEY}` } },
    { method: 'GET', target: '/v1/refunds', headers: { authorization: `Bearer ${keyA}\u0001` } },
    { method: 'POST', target: '/mcp', headers: bearer(keyA, { host: `${keyA}.example`, 'content-type': 'application/json', accept: MCP_ACCEPT }), body: '{}' },
    { method: 'POST', target: '/mcp', headers: bearer(keyA, { origin: `http://${WEBHOOK_SECRET}.example`, 'content-type': 'application/json', accept: MCP_ACCEPT }), body: '{}' },
  ];
  for (const request of refusals) {
    const res = await send(server, request);
    expect(res.status, `${request.method} ${request.target}: ${res.body}`).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  }
  // Webhooks: signed, forged with the right payload and another secret, stale, and with the secret as the signature.
  const processingRefund = processing.data as { id: string; status: string };
  expect(processingRefund.status).toBe('processing');
  const stripeId = snapshot(home.dbPath).refunds.find((r) => r.id === processingRefund.id)?.external_refund_id ?? '';
  imitation.setRefundStatus(stripeId, 'succeeded');
  const event = imitation.signedEvent(WEBHOOK_SECRET, 'refund.updated', stripeId);
  const hook = (signature: string, payload = event.payload): Promise<WireResponse> =>
    send(server, { method: 'POST', target: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
  expect((await hook(event.header)).status).toBe(200);
  await hook(event.header);
  await hook(imitation.signedEvent(`whsec_${randomText(32)}`, 'refund.updated', stripeId).header);
  await hook(imitation.signedEvent(WEBHOOK_SECRET, 'refund.updated', stripeId, { timestamp: Math.floor(Date.now() / 1000) - 3_600 }).header);
  await hook(`t=${Math.floor(Date.now() / 1000)},v1=${WEBHOOK_SECRET}`);
  await hook(Stripe.webhooks.generateTestHeaderString({ payload: 'not json', secret: WEBHOOK_SECRET }), 'not json');
  // /mcp: tools, tool errors, a protocol error.
  const session = await mcpSession(keyA);
  await session.call(keyA, 'tools/list');
  await session.call(keyA, 'tools/call', { name: 'list_refunds', arguments: { limit: 100 } });
  await session.call(keyA, 'tools/call', { name: 'get_refund', arguments: { refundId: keyA } });
  await session.call(keyA, 'tools/call', { name: 'create_refund', arguments: { transactionId: succeeded.chargeId, amount: 1, reason: 'other', [STRIPE_KEY]: 1 } });
  await session.call(keyA, 'tools/call', { name: 'cancel_refund', arguments: { refundId: processingRefund.id } });
  await session.call(keyA, 'tools/call', { name: keyA, arguments: {} });
  await session.call(keyA, 'tools/call');
  // A server whose Stripe key Stripe refuses: the refusal is logged (at debug, every request too), never the key.
  const refused = await spawnHttp(serverEnv({ STRIPE_SECRET_KEY: OTHER_STRIPE_KEY }));
  const refusedCreate = await send(refused, { method: 'POST', target: '/v1/refunds', headers: bearer(keyA, { 'content-type': 'application/json' }), body: JSON.stringify({ transactionId: succeeded.chargeId, amount: 300, reason: 'other' }) });
  const refusedId = (JSON.parse(refusedCreate.body) as { data: { id: string; status: string } }).data.id;
  // A background pass retries the outage (and logs it) before the server stops.
  await vi.waitFor(() => expect(snapshot(home.dbPath).refunds.find((r) => r.id === refusedId)?.attempts).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 });
  expect(await refused.stop()).toBe(0);
  captured['refused server: stderr'] = refused.stderr();
  await cli(['dispatch'], { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: imitation.url, REFUNDKIT_LOG_LEVEL: 'debug' });
  await cli(['keys', 'list', '--org', orgA]);

  refundsOfA = snapshot(home.dbPath).refunds.filter((r) => r.organization_id === orgA).map((r) => r.id);
  pendingOfA = snapshot(home.dbPath).refunds.find((r) => r.organization_id === orgA && r.status === 'pending')?.id ?? '';
  expect(refundsOfA.length).toBeGreaterThanOrEqual(5);
}, 120_000);

afterAll(async () => {
  await server.stop();
  await imitation.close();
  await cleanupCli();
  process.stderr.write(`[reliability] rest-secrets: ${responses} HTTP responses and ${Object.keys(captured).length} captured texts searched\n`);
});

describe('no secret in any response, header, log line or command output', () => {
  it('the captures are real: the server logged every request at debug, Stripe faults and refusals included', () => {
    const log = server.stderr();
    expect(log).toMatch(/ debug http /);
    expect(log).toMatch(/stripe webhook/);
    expect(captured['refused server: stderr']).toMatch(/submission failed; will retry|could not be reached|authentication/i);
    const bodies = Object.entries(captured).filter(([label]) => label.startsWith('response')).map(([, text]) => text).join('\n');
    for (const code of ['validation_error', 'not_found', 'invalid_api_key', 'route_not_found', 'unsupported_media_type', 'host_not_allowed', 'refund_not_cancellable']) {
      expect(bodies, code).toContain(code);
    }
  });

  it('a key the caller sent where it does not belong is masked where a message echoes it (as in the logs)', () => {
    // A query name is echoed (the message names it); a path is not (the 404 lists the routes instead).
    const echoed = Object.entries(captured).filter(([label]) => label.startsWith('response') && label.includes(`/v1/refunds?${keyA.slice(0, 8)}`));
    expect(echoed.length).toBeGreaterThan(0);
    for (const [, text] of echoed) expect(text).toContain(`${keyA.slice(0, 8)}…[redacted]`);
    const notFound = Object.entries(captured).filter(([label]) => label.startsWith('response') && label.includes(`/v1/${keyA.slice(0, 8)}`));
    expect(notFound.length).toBeGreaterThan(0);
    for (const [, text] of notFound) expect(text).toContain('No route for GET at this path; routes:');
  });

  it('no API key, Stripe key or webhook secret, whole or its tail, anywhere', () => {
    captured['server: stderr'] = server.stderr();
    const leaks = secretLeaks(
      { apiKeyA: keyA, apiKeyA2: keyA2, apiKeyB: keyB, revokedKey: keyRevoked, stripeKey: STRIPE_KEY, otherStripeKey: OTHER_STRIPE_KEY, webhookSecret: WEBHOOK_SECRET },
      captured,
    );
    expect(leaks).toEqual([]);
  });
});

describe("organization B's key on every route", () => {
  it('sees and changes nothing of A: not_found on each of A\'s refunds, absent from every list, its idempotency key its own', async () => {
    const before = rowsFingerprint(home.dbPath, { organizationId: orgA, withoutSyncSchedule: true });
    for (const id of refundsOfA) {
      const got = await send(server, { method: 'GET', target: `/v1/refunds/${id}`, headers: bearer(keyB) });
      expect(got.status).toBe(404);
      expect(JSON.parse(got.body)).toEqual(NOT_FOUND);
      const cancelled = await cancel(keyB, id);
      expect(cancelled.status).toBe(404);
      expect(JSON.parse(cancelled.body)).toEqual(NOT_FOUND);
    }
    for (const query of ['', '?status=completed', '?status=processing', '?status=pending', '?status=cancelled', '?processor=stripe&limit=100', '?limit=1&offset=0']) {
      const list = await send(server, { method: 'GET', target: `/v1/refunds${query}`, headers: bearer(keyB) });
      expect(list.status).toBe(200);
      expect(json(list).data, query).toEqual([]);
    }
    // The same Idempotency-Key as A's first refund, and the same body: B gets a refund of its own.
    const charge = imitation.addCharge({ amount: 10_000 });
    const own = json(await create(keyB, { transactionId: charge.chargeId, amount: 1_000, reason: 'other' }, 'shared-between-orgs'));
    const ownRefund = own.data as { id: string; organizationId: string };
    expect(ownRefund.organizationId).toBe(orgB);
    expect(refundsOfA).not.toContain(ownRefund.id);
    expect(rowsFingerprint(home.dbPath, { organizationId: orgA, withoutSyncSchedule: true })).toBe(before);
  });

  it('over /mcp: not_found for each of A\'s refunds, nothing listed; A\'s session does not exist for B', async () => {
    const before = rowsFingerprint(home.dbPath, { organizationId: orgA, withoutSyncSchedule: true });
    const b = await mcpSession(keyB);
    for (const id of refundsOfA) {
      for (const tool of ['get_refund', 'cancel_refund']) {
        expect(toolOutcome(await b.call(keyB, 'tools/call', { name: tool, arguments: { refundId: id } })), `${tool} ${id}`).toEqual(NOT_FOUND);
      }
    }
    for (const args of [{}, { status: 'completed' }, { status: 'processing' }, { status: 'pending' }, { processor: 'stripe', limit: 100 }]) {
      const listed = toolOutcome(await b.call(keyB, 'tools/call', { name: 'list_refunds', arguments: args })).refunds ?? [];
      // B's own refund (created above with A's idempotency key) at most; nothing of A.
      expect(listed.filter((r) => r.organizationId !== orgB), JSON.stringify(args)).toEqual([]);
      expect(listed.filter((r) => refundsOfA.includes(r.id))).toEqual([]);
    }
    // A's session id with B's key: the session does not exist for B, and nothing happens in it.
    const a = await mcpSession(keyA);
    const hijack = await a.call(keyB, 'tools/call', { name: 'cancel_refund', arguments: { refundId: pendingOfA || refundsOfA[0] } });
    expect(hijack.status).toBe(404);
    expect(JSON.parse(hijack.body)).toMatchObject({ error: { message: 'Session not found' } });
    expect(rowsFingerprint(home.dbPath, { organizationId: orgA, withoutSyncSchedule: true })).toBe(before);
  });
});

describe('revoked keys', () => {
  function everyRoute(key: string, id: string): WireRequest[] {
    const auth = bearer(key, { 'content-type': 'application/json', accept: MCP_ACCEPT });
    return [
      { method: 'GET', target: `/v1/refunds/${id}`, headers: auth },
      { method: 'GET', target: '/v1/refunds', headers: auth },
      { method: 'POST', target: `/v1/refunds/${id}/cancel`, headers: auth, body: '{}' },
      { method: 'POST', target: '/v1/refunds', headers: auth, body: JSON.stringify({ transactionId: 'ch_revokedKeyTest', amount: 100, reason: 'other' }) },
      {
        method: 'POST',
        target: '/mcp',
        headers: auth,
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
      },
    ];
  }

  it('a key revoked before the server started: 401 on every route, nothing changed', async () => {
    const before = rowsFingerprint(home.dbPath, { withoutSyncSchedule: true });
    for (const request of everyRoute(keyRevoked, pendingOfA || refundsOfA[0]!)) {
      const res = await send(server, request);
      expect(res.status, `${request.method} ${request.target}`).toBe(401);
      expect(JSON.parse(res.body)).toEqual(INVALID_KEY);
    }
    expect(rowsFingerprint(home.dbPath, { withoutSyncSchedule: true })).toBe(before);
  });

  it('a key revoked while its /mcp session is open: 401 from the next request on, in the session and on every route', async () => {
    const session = await mcpSession(keyA2);
    const target = pendingOfA || refundsOfA[0]!;
    expect(toolOutcome(await session.call(keyA2, 'tools/call', { name: 'get_refund', arguments: { refundId: target } })).refund?.id).toBe(target);
    await cli(['keys', 'revoke', '--key', keyA2]);
    const before = rowsFingerprint(home.dbPath, { withoutSyncSchedule: true });
    const inSession = await session.call(keyA2, 'tools/call', { name: 'cancel_refund', arguments: { refundId: target } });
    expect(inSession.status).toBe(401);
    expect(JSON.parse(inSession.body)).toEqual(INVALID_KEY);
    for (const request of everyRoute(keyA2, target)) {
      const res = await send(server, request);
      expect(res.status, `${request.method} ${request.target}`).toBe(401);
    }
    expect(rowsFingerprint(home.dbPath, { withoutSyncSchedule: true })).toBe(before);
    expect(secretLeaks({ keyA2 }, { log: server.stderr() })).toEqual([]);
  });
});
