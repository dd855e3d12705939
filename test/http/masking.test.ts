/**
 * Credentials a caller puts where they do not belong (the path, the query, a field name, the
 * Host or Origin header, a tool's argument name or name) never come back in a response and never
 * reach a log line, whatever precedes them and however they are percent-encoded. A live server on
 * 127.0.0.1 at debug level with every request logged; requests go out as raw bytes.
 *
 * Each secret is checked by every 12-character run of its random part, so that a clipped or
 * partly masked echo counts as a leak too.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { randomText, wire, type WireRequest, type WireResponse } from '../support/reliability.js';
import { insertRefund } from '../support/fixtures.js';
import { cleanupHttp, orgWithKey, startTestServer, type TestServer } from '../support/http-server.js';

const WEBHOOK_SECRET = `whsec_${randomText(32)}`;
const MCP_ACCEPT = 'application/json, text/event-stream';

let s: TestServer;
let key: string;
let refundId: string;
const logLines: string[] = [];

beforeAll(async () => {
  s = await startTestServer(
    { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    { logger: createLogger('debug', (line) => logLines.push(line)), logRequests: true, mcpSessionIdleMs: 60_000 },
  );
  const org = orgWithKey(s.app);
  key = org.key;
  refundId = insertRefund(s.app, org.organizationId, { status: 'pending' }).id;
});
afterAll(() => cleanupHttp());

/** Where any 12 characters in a row of a secret's random part appear in `text`. */
function leaks(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    const body = secret.slice(secret.indexOf('_', 3) + 1);
    for (let i = 0; i + 12 <= body.length; i += 1) {
      if (text.includes(body.slice(i, i + 12))) {
        found.push(`${secret.slice(0, 8)}… (from character ${i})`);
        break;
      }
    }
  }
  return found;
}

/** The key with one of its characters percent-encoded: what a path or a query may carry. */
function splitByEscape(secret: string, at: number): string {
  return `${secret.slice(0, at)}%${secret.charCodeAt(at).toString(16).toUpperCase()}${secret.slice(at + 1)}`;
}

async function send(request: WireRequest): Promise<WireResponse> {
  return wire(s.port, request);
}

function auth(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

describe('a credential sent where it does not belong', () => {
  it('is in no response and no log line: path, query, field name, Host, Origin, Content-Type, each glued to other text or percent-encoded', async () => {
    const cases: Array<{ label: string; request: WireRequest; status: number }> = [
      { label: 'path, after %20', request: { method: 'GET', target: `/v1/x%20${key}`, headers: auth() }, status: 404 },
      { label: 'path, after a letter', request: { method: 'GET', target: `/v1/x${key}/refunds`, headers: auth() }, status: 404 },
      { label: 'refund id, after a letter', request: { method: 'GET', target: `/v1/refunds/x${key}`, headers: auth() }, status: 400 },
      { label: 'refund id, split by a percent-escape', request: { method: 'GET', target: `/v1/refunds/${splitByEscape(key, 12)}`, headers: auth() }, status: 400 },
      { label: 'cancel path, split by a percent-escape', request: { method: 'POST', target: `/v1/refunds/${splitByEscape(key, 9)}/cancel`, headers: auth() }, status: 400 },
      { label: 'unknown path, split by a percent-escape', request: { method: 'GET', target: `/v2/${splitByEscape(key, 20)}`, headers: auth() }, status: 404 },
      { label: 'query name, after an encoded =', request: { method: 'GET', target: `/v1/refunds?x%3D${key}=1`, headers: auth() }, status: 400 },
      { label: 'query name, split by a percent-escape', request: { method: 'GET', target: `/v1/refunds?${splitByEscape(key, 15)}=1`, headers: auth() }, status: 400 },
      { label: 'query value', request: { method: 'GET', target: `/v1/refunds?processor=x${key}`, headers: auth() }, status: 400 },
      { label: 'webhook secret in the path, after %2F', request: { method: 'GET', target: `/v1/%2F${WEBHOOK_SECRET}`, headers: auth() }, status: 404 },
      { label: 'Host, after a letter', request: { method: 'POST', target: '/mcp', headers: auth({ host: `x${key}`, 'content-type': 'application/json', accept: MCP_ACCEPT }), body: '{}' }, status: 403 },
      { label: 'Origin, after a letter', request: { method: 'POST', target: '/mcp', headers: auth({ origin: `http://x${WEBHOOK_SECRET}.example`, 'content-type': 'application/json', accept: MCP_ACCEPT }), body: '{}' }, status: 403 },
      { label: 'Content-Type, after a letter', request: { method: 'POST', target: '/v1/refunds', headers: auth({ 'content-type': `text/x${key}` }), body: '{}' }, status: 415 },
      { label: 'charset, after a letter', request: { method: 'POST', target: '/v1/refunds', headers: auth({ 'content-type': `application/json; charset=x${key}` }), body: '{}' }, status: 415 },
      {
        label: 'create field name, after a letter',
        request: { method: 'POST', target: '/v1/refunds', headers: auth({ 'content-type': 'application/json' }), body: JSON.stringify({ transactionId: 'ch_masking', amount: 100, reason: 'other', [`x${key}`]: 1 }) },
        status: 400,
      },
      {
        label: 'cancel field name, after an underscore',
        request: { method: 'POST', target: `/v1/refunds/${refundId}/cancel`, headers: auth({ 'content-type': 'application/json' }), body: JSON.stringify({ [`_${WEBHOOK_SECRET}`]: 1 }) },
        status: 400,
      },
      {
        label: 'webhook signature',
        request: { method: 'POST', target: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': `t=1,v1=x${WEBHOOK_SECRET}` }, body: '{"id":"evt_1","type":"x"}' },
        status: 400,
      },
    ];
    for (const { label, request, status } of cases) {
      const before = logLines.length;
      const res = await send(request);
      // Soft: a failure names every case that leaks, not only the first.
      expect.soft(res.status, `${label}: ${res.body}`).toBe(status);
      expect.soft(leaks(`${res.head}\n${res.body}`, [key, WEBHOOK_SECRET]), `${label}: response`).toEqual([]);
      expect.soft(leaks(logLines.slice(before).join(''), [key, WEBHOOK_SECRET]), `${label}: log`).toEqual([]);
    }
    // The captures are real: every request was logged.
    expect(logLines.filter((line) => / debug http /.test(line)).length).toBeGreaterThanOrEqual(cases.length);
  });

  it('404 route_not_found and 403 host_not_allowed do not repeat the path or the header; the 404 lists the routes', async () => {
    const notFound = await send({ method: 'GET', target: '/v1/some/where%20else', headers: auth() });
    expect(JSON.parse(notFound.body)).toEqual({
      error: {
        message:
          'No route for GET at this path; routes: GET /v1/refunds, POST /v1/refunds, GET /v1/refunds/{id}, POST /v1/refunds/{id}/cancel, GET /v1/refunds/{id}/events, POST /v1/refunds/preview, GET /v1/policy, PUT /v1/policy, GET /v1/approvals, POST /v1/approvals/{id}/approve, POST /v1/approvals/{id}/reject, POST /webhooks/stripe, GET|POST|DELETE /mcp, GET /healthz',
        code: 'route_not_found',
      },
    });
    const host = await send({ method: 'POST', target: '/mcp', headers: auth({ host: 'evil.example', 'content-type': 'application/json', accept: MCP_ACCEPT }), body: '{}' });
    expect(JSON.parse(host.body)).toEqual({
      error: {
        message: 'The Host header names a host this server does not serve: add the name to REFUNDKIT_HTTP_ALLOWED_HOSTS to allow it',
        code: 'host_not_allowed',
      },
    });
    const origin = await send({ method: 'POST', target: '/mcp', headers: auth({ origin: 'http://evil.example', 'content-type': 'application/json', accept: MCP_ACCEPT }), body: '{}' });
    expect(JSON.parse(origin.body)).toEqual({
      error: {
        message: 'The Origin header names a host this server does not serve: add its host to REFUNDKIT_HTTP_ALLOWED_HOSTS to allow it',
        code: 'host_not_allowed',
      },
    });
    for (const res of [notFound, host, origin]) expect(res.body).not.toMatch(/where|evil/);
  });

  it('a message that names the caller\'s field still does, with the credential in it masked', async () => {
    const res = await send({ method: 'GET', target: `/v1/refunds?x%3D${key}=1`, headers: auth() });
    expect(JSON.parse(res.body)).toEqual({
      // Clipped to 40 characters (the trailing …), then masked.
      error: { message: `Unknown query parameter 'x=${key.slice(0, 8)}…[redacted]…'; allowed: status, processor, limit, offset`, code: 'validation_error' },
    });
  });

  it('the request log line names the route (and a well-formed refund id), never the path or query as sent', async () => {
    const before = logLines.length;
    await send({ method: 'GET', target: `/v1/refunds/${refundId}?x=secret-ish`, headers: auth() });
    await send({ method: 'GET', target: '/v1/refunds?limit=5&offset=0', headers: auth() });
    await send({ method: 'GET', target: '/nowhere/at-all', headers: auth() });
    const lines = logLines.slice(before).filter((line) => / debug http /.test(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`{"method":"GET","route":"/v1/refunds/{id}","refundId":"${refundId}","status":400,`);
    expect(lines[1]).toContain('{"method":"GET","route":"/v1/refunds","status":200,');
    expect(lines[2]).toContain('{"method":"GET","route":"(no route)","status":404,');
    expect(lines.join('')).not.toMatch(/secret-ish|limit=5|nowhere/);
  });
});

describe('over /mcp', () => {
  it('a credential as a list_refunds field name or as a tool name comes back masked', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    const client = new Client({ name: 'masking-test', version: '0.0.0' });
    await client.connect(transport);
    try {
      const before = logLines.length;
      const listed = await client.callTool({ name: 'list_refunds', arguments: { [`x${key}`]: 1 } });
      const text = JSON.stringify(listed);
      expect(listed.isError).toBe(true);
      expect(text).toContain('validation_error');
      expect(text).toContain(`${key.slice(0, 8)}…[redacted]`);
      expect(leaks(text, [key]), 'list_refunds result').toEqual([]);
      const unknown = await client.callTool({ name: `tool_${key}`, arguments: {} }).then(
        (result) => JSON.stringify(result),
        (error: unknown) => String(error),
      );
      expect(unknown).toMatch(/Unknown tool/);
      expect(leaks(unknown, [key]), 'unknown tool').toEqual([]);
      expect(leaks(logLines.slice(before).join(''), [key]), 'log').toEqual([]);
    } finally {
      await client.close();
    }
  });
});
