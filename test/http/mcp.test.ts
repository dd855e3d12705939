/**
 * /mcp: the MCP tools over Streamable HTTP, driven by the SDK's own client
 * (StreamableHTTPClientTransport) against a live server. The bearer key decides the
 * organization; Host and Origin are checked against DNS rebinding.
 */
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Refund } from '../../src/domain/refund.js';
import { createLogger } from '../../src/logger.js';
import { FakeClock, countRows, insertRefund, rawEvents, storedStatus } from '../support/fixtures.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { cleanupHttp, orgWithKey, raw, startTestServer, type TestServer } from '../support/http-server.js';

const NOT_FOUND = { error: { message: 'Refund not found', code: 'not_found' } };
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-test', version: '0' } },
});
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let s: TestServer;
let a: { organizationId: string; key: string; keyId: string };
let b: { organizationId: string; key: string; keyId: string };
let refundA: Refund;
const clients: Client[] = [];

async function connect(server: TestServer, key: string | null): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: key === null ? {} : { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'refundkit-http-test', version: '0.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return CallToolResultSchema.parse(await client.callTool({ name, arguments: args }));
}

function textJson(result: CallToolResult): unknown {
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error('expected a text block');
  return JSON.parse(first.text);
}

beforeAll(async () => {
  s = await startTestServer({}, { mcpSessionIdleMs: 60_000 });
  a = orgWithKey(s.app, 'Org A');
  b = orgWithKey(s.app, 'Org B');
  refundA = insertRefund(s.app, a.organizationId, { status: 'pending', amount: 4200 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
});
afterAll(() => cleanupHttp());

describe('an MCP client over Streamable HTTP', () => {
  it('lists the four tools and calls every one of them as the key\'s organization', async () => {
    const { client, transport } = await connect(s, a.key);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund', 'create_refund', 'cancel_refund']);

    const got = await call(client, 'get_refund', { refundId: refundA.id });
    expect(got.isError).toBeFalsy();
    expect(got.structuredContent).toEqual({ refund: refundA });
    expect(textJson(got)).toEqual({ refund: refundA });

    const listed = await call(client, 'list_refunds', { limit: 10 });
    expect((listed.structuredContent as { refunds: Refund[] }).refunds.map((r) => r.id)).toContain(refundA.id);

    const created = await call(client, 'create_refund', {
      transactionId: 'ch_mcpOverHttp1',
      amount: 1500,
      reason: 'duplicate_charge',
      idempotencyKey: 'mcp-http-1',
    });
    expect(created.isError).toBeFalsy();
    const refund = (created.structuredContent as { refund: Refund }).refund;
    expect(refund).toMatchObject({ organizationId: a.organizationId, initiatedBy: 'mcp', amount: 1500 });

    const target = insertRefund(s.app, a.organizationId, { status: 'pending' });
    // Made by this session's key: the default agent policy lets an agent cancel only its own refunds.
    s.app.db.prepare('UPDATE refunds SET created_by_key_id = ? WHERE id = ?').run(a.keyId, target.id);
    const cancelled = await call(client, 'cancel_refund', { refundId: target.id });
    expect((cancelled.structuredContent as { refund: Refund }).refund.status).toBe('cancelled');
    expect(rawEvents(s.app, target.id).at(-1)).toMatchObject({ to_status: 'cancelled', initiated_by: 'mcp' });
  });

  it('tool errors come back as isError results with the REST error body', async () => {
    const { client } = await connect(s, a.key);
    const missing = await call(client, 'get_refund', { refundId: 'ref_abc123def456' });
    expect(missing.isError).toBe(true);
    expect(textJson(missing)).toEqual(NOT_FOUND);
    const bad = await call(client, 'list_refunds', { limit: 500 });
    expect(textJson(bad)).toEqual({ error: { message: 'Limit must be between 1 and 100', code: 'validation_error' } });
  });

  it('sees nothing of another organization with that organization\'s key', async () => {
    const { client } = await connect(s, b.key);
    const before = countRows(s.app, 'refund_events');
    expect(textJson(await call(client, 'get_refund', { refundId: refundA.id }))).toEqual(NOT_FOUND);
    expect(textJson(await call(client, 'cancel_refund', { refundId: refundA.id }))).toEqual(NOT_FOUND);
    const listed = await call(client, 'list_refunds', { limit: 100 });
    const ids = (listed.structuredContent as { refunds: Refund[] }).refunds.map((r) => r.organizationId);
    expect(ids.every((org) => org === b.organizationId)).toBe(true);
    expect(storedStatus(s.app, refundA.id)).toBe('pending');
    expect(countRows(s.app, 'refund_events')).toBe(before);
  });

  it('is refused without a key, with an unknown one or a revoked one (401)', async () => {
    await expect(connect(s, null)).rejects.toThrow(/invalid_api_key/);
    await expect(connect(s, 'rk_test_0000000000000000000000000000000')).rejects.toThrow(/invalid_api_key/);
    const revoked = orgWithKey(s.app, 'Revoked');
    await s.app.apiKeys.revoke(revoked.keyId);
    await expect(connect(s, revoked.key)).rejects.toThrow(/invalid_api_key/);
    const res = await raw(`${s.url}/mcp`, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="refundkit"');
    expect(res.json()).toEqual({ error: { message: 'Invalid API key: send it as Authorization: Bearer rk_live_…', code: 'invalid_api_key' } });
  });

  it("a session answers only to its own organization's keys, and to none once the key is revoked", async () => {
    const own = orgWithKey(s.app, 'Org C');
    const { transport } = await connect(s, own.key);
    const sessionId = transport.sessionId!;
    const listCall = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'list_refunds', arguments: {} } });
    const headers = (key: string) => ({ ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${key}` });

    const hijack = await raw(`${s.url}/mcp`, { method: 'POST', headers: headers(a.key), body: listCall });
    expect(hijack.status).toBe(404);
    expect(hijack.json()).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });

    const second = await s.app.apiKeys.create(own.organizationId, 'test');
    const sameOrg = await raw(`${s.url}/mcp`, { method: 'POST', headers: headers(second.key), body: listCall });
    expect(sameOrg.status).toBe(200);

    await s.app.apiKeys.revoke(own.keyId);
    const afterRevoke = await raw(`${s.url}/mcp`, { method: 'POST', headers: headers(own.key), body: listCall });
    expect(afterRevoke.status).toBe(401);
  });

  it('DELETE ends a session; requests on it are then 404', async () => {
    const { transport } = await connect(s, a.key);
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    const res = await raw(`${s.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId, authorization: `Bearer ${a.key}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    expect(res.status).toBe(404);
  });

  it('a request other than initialize needs a session', async () => {
    const res = await raw(`${s.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${a.key}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(400);
    const get = await raw(`${s.url}/mcp`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${a.key}` } });
    expect(get.status).toBe(400);
    const put = await raw(`${s.url}/mcp`, { method: 'PUT', headers: { authorization: `Bearer ${a.key}` } });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST, DELETE');
  });
});

describe('DNS-rebinding protection', () => {
  it('refuses a foreign Host or Origin (403) before looking at the key, and accepts its own names', async () => {
    const foreignHost = await raw(`${s.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, host: 'evil.example.com', authorization: `Bearer ${a.key}` },
      body: INITIALIZE,
    });
    expect(foreignHost.status).toBe(403);
    expect((foreignHost.json() as { error: { code: string } }).error.code).toBe('host_not_allowed');
    const foreignOrigin = await raw(`${s.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, origin: 'http://evil.example.com', authorization: `Bearer ${a.key}` },
      body: INITIALIZE,
    });
    expect(foreignOrigin.status).toBe(403);
    const noKey = await raw(`${s.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, host: 'evil.example.com' }, body: INITIALIZE });
    expect(noKey.status).toBe(403);
    for (const host of [`localhost:${s.port}`, `127.0.0.1:${s.port}`]) {
      const own = await raw(`${s.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, host, origin: `http://${host}`, authorization: `Bearer ${a.key}` },
        body: INITIALIZE,
      });
      expect(own.status, host).toBe(200);
    }
  });

  it('answers to the names listed in REFUNDKIT_HTTP_ALLOWED_HOSTS', async () => {
    const named = await startTestServer({ REFUNDKIT_HTTP_ALLOWED_HOSTS: 'refunds.example.com' });
    const who = orgWithKey(named.app);
    const res = await raw(`${named.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, host: 'refunds.example.com', authorization: `Bearer ${who.key}` },
      body: INITIALIZE,
    });
    expect(res.status).toBe(200);
  });

  it('REST routes are not subject to it (a bearer key cannot be taken by a rebound page)', async () => {
    const res = await raw(`${s.url}/v1/refunds/${refundA.id}`, { headers: { host: 'api.example.com', authorization: `Bearer ${a.key}` } });
    expect(res.status).toBe(200);
  });
});

/** A session opened with a bare initialize request (no GET stream): its id, or the refusal. */
async function initialize(server: TestServer, key: string): Promise<{ status: number; sessionId: string | undefined; text: string; retryAfter: unknown }> {
  const res = await raw(`${server.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: INITIALIZE });
  const header = res.headers['mcp-session-id'];
  return { status: res.status, sessionId: typeof header === 'string' ? header : undefined, text: res.text, retryAfter: res.headers['retry-after'] };
}

async function ping(server: TestServer, key: string, sessionId: string): Promise<number> {
  const res = await raw(`${server.url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${key}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
  return res.status;
}

/** A GET stream on a session: its status once the server answers, and when the server ends it. */
function openStream(server: TestServer, key: string, sessionId: string): { status: Promise<number>; ended: Promise<void> } {
  let ended: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const status = new Promise<number>((resolve, reject) => {
    const req = request(
      `${server.url}/mcp`,
      { headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${key}` }, agent: false },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        res.once('close', ended);
      },
    );
    req.once('error', reject);
    req.end();
  });
  return { status, ended: done };
}

/** Debug log lines of a server, to wait for one. */
const logWatcher = (() => {
  const waiting: Array<{ text: string; resolve: (line: string) => void }> = [];
  return {
    logger: createLogger('debug', (line) => {
      const at = waiting.findIndex((w) => line.includes(w.text));
      if (at !== -1) waiting.splice(at, 1)[0]!.resolve(line);
    }),
    next: (text: string) => new Promise<string>((resolve) => waiting.push({ text, resolve })),
  };
})();

describe('session caps: no organization can end, or crowd out, another\'s sessions', () => {
  it("a key filling its cap replaces its own oldest idle session, never another organization's", async () => {
    const capped = await startTestServer({}, { mcpMaxSessions: 6, mcpMaxSessionsPerOrg: 4, mcpMaxSessionsPerKey: 2 });
    const orgA = orgWithKey(capped.app, 'Org A');
    const orgB = orgWithKey(capped.app, 'Org B');
    const sessionA = (await initialize(capped, orgA.key)).sessionId!;
    const opened: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const res = await initialize(capped, orgB.key);
      expect(res.status, res.text).toBe(200);
      opened.push(res.sessionId!);
    }
    expect(await ping(capped, orgA.key, sessionA)).toBe(200);
    // B's own: the two newest live on, the older ones made room for them.
    expect(await ping(capped, orgB.key, opened[11]!)).toBe(200);
    expect(await ping(capped, orgB.key, opened[10]!)).toBe(200);
    expect(await ping(capped, orgB.key, opened[0]!)).toBe(404);
  });

  it("an organization at its cap is refused (429) when the key has no idle session of its own to replace", async () => {
    const capped = await startTestServer({ REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG: '2', REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY: '2' });
    const org = orgWithKey(capped.app, 'Org B');
    const first = await initialize(capped, org.key);
    const second = await initialize(capped, org.key);
    const otherKey = (await capped.app.apiKeys.create(org.organizationId, 'test')).key;
    const refused = await initialize(capped, otherKey);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(refused.text)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: expect.stringContaining('REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG') },
      id: null,
    });
    expect(await ping(capped, org.key, first.sessionId!)).toBe(200);
    expect(await ping(capped, org.key, second.sessionId!)).toBe(200);
  });

  it('the ceiling of the process refuses a new session (503, Retry-After) and ends none', async () => {
    const capped = await startTestServer({}, { mcpMaxSessions: 3 });
    const orgs = [orgWithKey(capped.app, 'Org A'), orgWithKey(capped.app, 'Org B'), orgWithKey(capped.app, 'Org C')];
    const held = [await initialize(capped, orgs[0]!.key), await initialize(capped, orgs[0]!.key), await initialize(capped, orgs[1]!.key)];
    expect(held.map((h) => h.status)).toEqual([200, 200, 200]);
    const refused = await initialize(capped, orgs[2]!.key);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(refused.text)).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringContaining('REFUNDKIT_MCP_MAX_SESSIONS') }, id: null });
    expect(await ping(capped, orgs[0]!.key, held[0]!.sessionId!)).toBe(200);
    expect(await ping(capped, orgs[0]!.key, held[1]!.sessionId!)).toBe(200);
    expect(await ping(capped, orgs[1]!.key, held[2]!.sessionId!)).toBe(200);
    // A session ended by its client frees its slot.
    const ended = await raw(`${capped.url}/mcp`, {
      method: 'DELETE',
      headers: { 'mcp-session-id': held[2]!.sessionId!, 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${orgs[1]!.key}` },
    });
    expect(ended.status).toBe(200);
    expect((await initialize(capped, orgs[2]!.key)).status).toBe(200);
  });
});

describe('sessions over time', () => {
  it('a read-only server lists no write tools', async () => {
    const ro = await startTestServer({ REFUNDKIT_READ_ONLY: '1' });
    const who = orgWithKey(ro.app);
    const { client } = await connect(ro, who.key);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund']);
  });

  it('an idle session is closed after the idle time', async () => {
    const clock = new FakeClock();
    const short = await startTestServer({}, { mcpSessionIdleMs: 200, clock, logger: logWatcher.logger });
    const who = orgWithKey(short.app);
    // A bare initialize: the SDK client would open a GET stream at a moment of its own choosing.
    const { sessionId } = await initialize(short, who.key);
    const ended = logWatcher.next('mcp session ended');
    clock.advance(201);
    expect(await ended).toContain('"why":"idle"');
    expect(await ping(short, who.key, sessionId!)).toBe(404);
  });

  it('a session whose only activity is an open GET stream is ended after the idle time, and the stream with it', async () => {
    const clock = new FakeClock();
    const short = await startTestServer({}, { mcpSessionIdleMs: 200, clock });
    const who = orgWithKey(short.app);
    const { sessionId } = await initialize(short, who.key);
    const stream = openStream(short, who.key, sessionId!);
    expect(await stream.status).toBe(200);
    // Time passes with the stream open and no request: the session is idle.
    clock.advance(201);
    await stream.ended;
    expect(await ping(short, who.key, sessionId!)).toBe(404);
  });

  it('closing the server ends open sessions and their streams at once', async () => {
    const logger = new RecordingLogger();
    // A grace far longer than the test may take: close() can only return because the sessions and
    // their streams were ended, never because the grace ran out and connections were cut.
    const other = await startTestServer({}, { shutdownGraceMs: 3_600_000, logger });
    const who = orgWithKey(other.app);
    const sessions = [(await connect(other, who.key)).transport.sessionId!, (await connect(other, who.key)).transport.sessionId!];
    // Each client holds its session's standalone SSE stream open: a second one is refused.
    for (const sessionId of sessions) {
      const second = await raw(`${other.url}/mcp`, {
        headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, authorization: `Bearer ${who.key}` },
      });
      expect(second.status).toBe(409);
    }
    await other.running.close();
    expect(other.running.server.listening).toBe(false);
    expect(logger.messages('mcp session ended').map((e) => e.fields).sort((x, y) => String(x?.sessionId).localeCompare(String(y?.sessionId)))).toEqual(
      [...sessions].sort().map((sessionId) => ({ sessionId, why: 'shutdown' })),
    );
  });
});
