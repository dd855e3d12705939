/**
 * The REST API on a live server (127.0.0.1, ephemeral port): answers, error paths, auth and
 * tenant isolation. Each request goes out as raw HTTP, so that headers and bodies are exactly
 * what a test says.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Refund } from '../../src/domain/refund.js';
import { countRows, insertRefund, rawEvents, storedStatus } from '../support/fixtures.js';
import { bearer, cleanupHttp, JSON_HEADERS, orgWithKey, raw, REFUND_FIELDS, startTestServer, type TestServer } from '../support/http-server.js';
import { within } from '../support/waiting.js';

const NOT_FOUND = { error: { message: 'Refund not found', code: 'not_found' } };
const INVALID_KEY = { error: { message: 'Invalid API key', code: 'invalid_api_key' } };

function errorOf(body: unknown): { message: string; code: string } {
  expect(Object.keys(body as object)).toEqual(['error']);
  const error = (body as { error: { message: string; code: string } }).error;
  expect(Object.keys(error)).toEqual(['message', 'code']);
  return error;
}

let s: TestServer;
let key: string;
let org: string;
let refunds: Refund[];

beforeAll(async () => {
  s = await startTestServer();
  ({ key, organizationId: org } = orgWithKey(s.app, 'Shop A'));
  refunds = [
    insertRefund(s.app, org, { status: 'pending', amount: 4999, metadata: { ticketId: 'SUP-1' } }),
    insertRefund(s.app, org, { status: 'processing', processor: 'sandbox', amount: 2500 }),
    insertRefund(s.app, org, { status: 'completed', processor: 'stripe', amount: 1200 }),
    insertRefund(s.app, org, { status: 'failed', processor: 'stripe', amount: 700 }),
    insertRefund(s.app, org, { status: 'cancelled', amount: 300 }),
  ];
});
afterAll(() => cleanupHttp());

describe('GET /v1/refunds/:id', () => {
  it('answers {"data": refund} with the reference fields in the reference order', async () => {
    const res = await raw(`${s.url}/v1/refunds/${refunds[2]!.id}`, { headers: bearer(key) });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json() as { data: Refund };
    expect(Object.keys(body)).toEqual(['data']);
    expect(Object.keys(body.data)).toEqual(REFUND_FIELDS);
    expect(body.data).toEqual(refunds[2]);
  });

  it('a well-formed unknown id is not_found (404), a malformed one validation_error (400)', async () => {
    const missing = await raw(`${s.url}/v1/refunds/ref_abc123def456`, { headers: bearer(key) });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual(NOT_FOUND);
    for (const id of ['ref_abc', 'REF_ABC123DEF456', 'ref_abc123def4567', 're_123', '%E0%A4%A', 'ref_abc123def45%21']) {
      const bad = await raw(`${s.url}/v1/refunds/${id}`, { headers: bearer(key) });
      expect(bad.status, id).toBe(400);
      expect(errorOf(bad.json())).toEqual({
        code: 'validation_error',
        message: "id must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456",
      });
    }
  });

  it('refuses query parameters it does not take', async () => {
    const res = await raw(`${s.url}/v1/refunds/${refunds[0]!.id}?expand=events`, { headers: bearer(key) });
    expect(res.status).toBe(400);
    expect(errorOf(res.json())).toEqual({ code: 'validation_error', message: "Unknown query parameter 'expand': this route takes none" });
  });

  it('HEAD answers the same status and headers, without a body', async () => {
    const res = await raw(`${s.url}/v1/refunds/${refunds[0]!.id}`, { method: 'HEAD', headers: bearer(key) });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(Number(res.headers['content-length'])).toBeGreaterThan(100);
  });
});

describe('GET /v1/refunds', () => {
  it('answers exactly {"data": [...]}, newest first', async () => {
    const res = await raw(`${s.url}/v1/refunds`, { headers: bearer(key) });
    expect(res.status).toBe(200);
    const body = res.json() as { data: Refund[] };
    expect(Object.keys(body)).toEqual(['data']);
    expect(body.data.map((r) => r.id)).toEqual([...refunds].reverse().map((r) => r.id));
  });

  it('filters by status and processor, and pages with limit and offset', async () => {
    const ids = async (query: string): Promise<string[]> => {
      const res = await raw(`${s.url}/v1/refunds?${query}`, { headers: bearer(key) });
      expect(res.status, query).toBe(200);
      return (res.json() as { data: Refund[] }).data.map((r) => r.id);
    };
    expect(await ids('status=completed')).toEqual([refunds[2]!.id]);
    expect(await ids('status=pending')).toEqual([refunds[0]!.id]);
    expect(await ids('processor=stripe')).toEqual([refunds[3]!.id, refunds[2]!.id]);
    expect(await ids('status=completed&processor=stripe&limit=50')).toEqual([refunds[2]!.id]);
    expect(await ids('status=completed&processor=sandbox')).toEqual([]);
    expect(await ids('limit=2&offset=0')).toEqual([refunds[4]!.id, refunds[3]!.id]);
    expect(await ids('limit=2&offset=2')).toEqual([refunds[2]!.id, refunds[1]!.id]);
    expect(await ids('limit=2&offset=4')).toEqual([refunds[0]!.id]);
    expect(await ids('limit=2&offset=6')).toEqual([]);
  });

  it.each([
    ['limit=0', 'Limit must be between 1 and 100'],
    ['limit=101', 'Limit must be between 1 and 100'],
    ['limit=-1', 'Limit must be between 1 and 100'],
    ['limit=10abc', 'Limit must be an integer between 1 and 100'],
    ['limit=', 'Limit must be an integer between 1 and 100'],
    ['limit=1e2', 'Limit must be an integer between 1 and 100'],
    ['limit=2.5', 'Limit must be an integer between 1 and 100'],
    ['limit=%2010', 'Limit must be an integer between 1 and 100'],
    ['limit=99999999999999999999999', 'Limit must be an integer between 1 and 100'],
    ['offset=-1', 'Offset must be an integer of 0 or more'],
    ['offset=ten', 'Offset must be an integer of 0 or more'],
    ['offset=', 'Offset must be an integer of 0 or more'],
    ['status=done', 'Status must be one of: pending, processing, completed, failed, cancelled'],
    ['status=', 'Status must be one of: pending, processing, completed, failed, cancelled'],
    ['processor=Stripe%21', "Processor must be a processor name of lowercase letters, digits or '_' (at most 32), e.g. stripe"],
    ['page=2', "Unknown query parameter 'page'; allowed: status, processor, limit, offset"],
    ['limit=10&limit=20', "Query parameter 'limit' is given more than once"],
  ])('%s is validation_error: %s', async (query, message) => {
    const res = await raw(`${s.url}/v1/refunds?${query}`, { headers: bearer(key) });
    expect(res.status).toBe(400);
    expect(errorOf(res.json())).toEqual({ code: 'validation_error', message });
  });
});

describe('POST /v1/refunds/:id/cancel', () => {
  it('cancels a pending refund with an empty body, with {} and with no body at all', async () => {
    const bodies: Array<{ body?: string; headers: Record<string, string> }> = [
      { body: '{}', headers: JSON_HEADERS },
      { headers: {} },
      { body: '', headers: JSON_HEADERS },
    ];
    for (const variant of bodies) {
      const refund = insertRefund(s.app, org, { status: 'pending' });
      const res = await raw(`${s.url}/v1/refunds/${refund.id}/cancel`, {
        method: 'POST',
        headers: bearer(key, variant.headers),
        ...(variant.body === undefined ? {} : { body: variant.body }),
      });
      expect(res.status, JSON.stringify(variant)).toBe(200);
      const data = (res.json() as { data: Refund }).data;
      expect(Object.keys(data)).toEqual(REFUND_FIELDS);
      expect(data.status).toBe('cancelled');
      const events = rawEvents(s.app, refund.id);
      expect(events.at(-1)).toMatchObject({ from_status: 'pending', to_status: 'cancelled', initiated_by: 'api' });
    }
  });

  it('a terminal refund is refund_not_cancellable (409) with the reference message, and nothing changes', async () => {
    const before = countRows(s.app, 'refund_events');
    const res = await raw(`${s.url}/v1/refunds/${refunds[2]!.id}/cancel`, { method: 'POST', headers: bearer(key, JSON_HEADERS), body: '{}' });
    expect(res.status).toBe(409);
    expect(res.json()).toEqual({ error: { message: "Refund cannot be cancelled — status is 'completed'", code: 'refund_not_cancellable' } });
    expect(countRows(s.app, 'refund_events')).toBe(before);
  });

  it('a refund whose last submission went unanswered is refund_busy (409) with Retry-After the seconds left, and nothing changes', async () => {
    const refund = insertRefund(s.app, org, { status: 'pending', processor: 'stripe' });
    const inDoubtUntil = new Date(Date.now() + 30_000).toISOString();
    s.app.db.prepare('UPDATE refunds SET attempts = 1, in_doubt_until = ? WHERE id = ?').run(inDoubtUntil, refund.id);
    const before = countRows(s.app, 'refund_events');
    const res = await raw(`${s.url}/v1/refunds/${refund.id}/cancel`, { method: 'POST', headers: bearer(key) });
    expect(res.status).toBe(409);
    const error = errorOf(res.json());
    expect(error.code).toBe('refund_busy');
    expect(error.message).toMatch(/^Refund's last submission to its processor went unanswered and may still take effect; retry in (29|30) seconds$/);
    expect(['29', '30']).toContain(res.headers['retry-after']);
    expect(storedStatus(s.app, refund.id)).toBe('pending');
    expect(countRows(s.app, 'refund_events')).toBe(before);
  });

  it('an unknown refund is not_found; a body with fields is refused', async () => {
    const missing = await raw(`${s.url}/v1/refunds/ref_abc123def456/cancel`, { method: 'POST', headers: bearer(key) });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual(NOT_FOUND);
    const refund = insertRefund(s.app, org, { status: 'pending' });
    for (const body of ['{"reason":"x"}', '[]', '"x"', 'null']) {
      const res = await raw(`${s.url}/v1/refunds/${refund.id}/cancel`, { method: 'POST', headers: bearer(key, JSON_HEADERS), body });
      expect(res.status, body).toBe(400);
      expect(errorOf(res.json()).code).toBe('validation_error');
    }
    expect(storedStatus(s.app, refund.id)).toBe('pending');
  });
});

describe('POST /v1/refunds (create)', () => {
  const body = { transactionId: 'ch_3MmlLrLkdIwHu7ix', amount: 2500, currency: 'usd', reason: 'product_defective', metadata: { orderId: 'order_1' } };

  it('creates a refund stamped initiatedBy api, on the sandbox processor here', async () => {
    const res = await raw(`${s.url}/v1/refunds`, { method: 'POST', headers: bearer(key, JSON_HEADERS), body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const data = (res.json() as { data: Refund }).data;
    expect(Object.keys(data)).toEqual(REFUND_FIELDS);
    expect(data).toMatchObject({ organizationId: org, initiatedBy: 'api', amount: 2500, reason: 'product_defective', processor: 'sandbox' });
    expect(data.metadata).toEqual({ orderId: 'order_1' });
    expect(rawEvents(s.app, data.id)[0]).toMatchObject({ from_status: null, to_status: 'pending', initiated_by: 'api' });
  });

  it('honours Idempotency-Key: the same key and body returns the first refund, other arguments are 422', async () => {
    const headers = bearer(key, { ...JSON_HEADERS, 'idempotency-key': 'order-77-refund' });
    const first = await raw(`${s.url}/v1/refunds`, { method: 'POST', headers, body: JSON.stringify({ ...body, amount: 1100 }) });
    expect(first.status).toBe(200);
    const before = countRows(s.app, 'refunds');
    const again = await raw(`${s.url}/v1/refunds`, { method: 'POST', headers, body: JSON.stringify({ ...body, amount: 1100 }) });
    expect(again.status).toBe(200);
    expect((again.json() as { data: Refund }).data.id).toBe((first.json() as { data: Refund }).data.id);
    const conflict = await raw(`${s.url}/v1/refunds`, { method: 'POST', headers, body: JSON.stringify({ ...body, amount: 1200 }) });
    expect(conflict.status).toBe(422);
    expect(errorOf(conflict.json()).code).toBe('idempotency_conflict');
    expect(countRows(s.app, 'refunds')).toBe(before);
  });

  it.each([
    [{ ...body, amount: 0 }, /^Amount must be an integer/],
    [{ ...body, amount: '2500' }, /^Amount must be an integer/],
    [{ ...body, transactionId: 'tx_1' }, /^transactionId must be a Stripe charge id/],
    [{ ...body, reason: 'because' }, /^Reason must be one of/],
    [{ ...body, currency: 'dollars' }, /^Currency must be a three-letter/],
    [{ ...body, extra: 1 }, /^Unknown field 'extra'/],
    [{ ...body, idempotencyKey: 'k1' }, /Idempotency-Key header/],
    [{ amount: 100, reason: 'other' }, /^transactionId is required/],
    [[], /^Request body must be a JSON object/],
  ])('refuses %j', async (input, message) => {
    const before = countRows(s.app, 'refunds');
    const res = await raw(`${s.url}/v1/refunds`, { method: 'POST', headers: bearer(key, JSON_HEADERS), body: JSON.stringify(input) });
    expect(res.status).toBe(400);
    const error = errorOf(res.json());
    expect(error.code).toBe('validation_error');
    expect(error.message).toMatch(message);
    expect(countRows(s.app, 'refunds')).toBe(before);
  });

  it('refuses a malformed Idempotency-Key and a missing body', async () => {
    const badKey = await raw(`${s.url}/v1/refunds`, {
      method: 'POST',
      headers: bearer(key, { ...JSON_HEADERS, 'idempotency-key': 'has spaces' }),
      body: JSON.stringify(body),
    });
    expect(badKey.status).toBe(400);
    expect(errorOf(badKey.json()).message).toMatch(/^Idempotency-Key header must be/);
    const empty = await raw(`${s.url}/v1/refunds`, { method: 'POST', headers: bearer(key) });
    expect(empty.status).toBe(400);
    expect(errorOf(empty.json()).message).toMatch(/^Request body must be a JSON object/);
  });
});

describe('requests the server cannot serve get the error body, never a crash', () => {
  it('unknown routes are route_not_found (404)', async () => {
    for (const path of ['/', '/v1', '/v1/refund', '/v1/refunds/', '/v1/refunds/ref_abc123def456/refund', '/v1/refunds/ref_abc123def456/cancel/x', '/v2/refunds', '/mcp/x']) {
      const res = await raw(`${s.url}${path}`, { headers: bearer(key) });
      expect(res.status, path).toBe(404);
      const error = errorOf(res.json());
      expect(error.code).toBe('route_not_found');
      expect(error.message).toContain('GET /v1/refunds/{id}');
    }
  });

  it('a wrong method is method_not_allowed (405) with an Allow header', async () => {
    const cases: Array<[string, string, string]> = [
      ['DELETE', '/v1/refunds', 'GET, HEAD, POST'],
      ['PUT', `/v1/refunds/${refunds[0]!.id}`, 'GET, HEAD'],
      ['GET', `/v1/refunds/${refunds[0]!.id}/cancel`, 'POST'],
      ['GET', '/webhooks/stripe', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await raw(`${s.url}${path}`, { method, headers: bearer(key) });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(errorOf(res.json()).code).toBe('method_not_allowed');
    }
    expect(storedStatus(s.app, refunds[0]!.id)).toBe('pending');
  });

  it('malformed JSON is validation_error (400), another content type unsupported_media_type (415)', async () => {
    const refund = insertRefund(s.app, org, { status: 'pending' });
    const url = `${s.url}/v1/refunds/${refund.id}/cancel`;
    for (const text of ['{', '{"a":}', "{'a':1}", 'nul']) {
      const res = await raw(url, { method: 'POST', headers: bearer(key, JSON_HEADERS), body: text });
      expect(res.status, text).toBe(400);
      expect(res.json()).toEqual({ error: { message: 'Request body is not valid JSON', code: 'validation_error' } });
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await raw(url, { method: 'POST', headers: bearer(key, { 'content-type': type }), body: '{}' });
      expect(res.status, type).toBe(415);
      expect(errorOf(res.json()).code).toBe('unsupported_media_type');
    }
    const noType = await raw(url, { method: 'POST', headers: bearer(key), body: '{}' });
    expect(noType.status).toBe(415);
    const charset = await raw(url, { method: 'POST', headers: bearer(key, { 'content-type': 'Application/JSON; charset=utf-8' }), body: '{}' });
    expect(charset.status).toBe(200);
  });

  it('a body over the limit is payload_too_large (413), declared or streamed, and the connection closes', async () => {
    const small = await startTestServer({ REFUNDKIT_HTTP_MAX_BODY_BYTES: '1024' });
    const other = orgWithKey(small.app);
    const refund = insertRefund(small.app, other.organizationId, { status: 'pending' });
    const big = JSON.stringify({ transactionId: 'ch_1', amount: 1, reason: 'other', metadata: { note: 'x'.repeat(2000) } });
    const declared = await raw(`${small.url}/v1/refunds`, { method: 'POST', headers: bearer(other.key, JSON_HEADERS), body: big });
    expect(declared.status).toBe(413);
    expect(declared.json()).toEqual({ error: { message: 'Request body is larger than 1024 bytes', code: 'payload_too_large' } });
    expect(declared.headers.connection).toBe('close');
    const streamed = await raw(`${small.url}/v1/refunds/${refund.id}/cancel`, {
      method: 'POST',
      headers: bearer(other.key, JSON_HEADERS),
      body: big,
      chunked: true,
    });
    expect(streamed.status).toBe(413);
    expect(errorOf(streamed.json()).code).toBe('payload_too_large');
    expect(storedStatus(small.app, refund.id)).toBe('pending');
    expect(countRows(small.app, 'refunds')).toBe(1);
  });

  it('a client that goes away in the middle of its body changes nothing, and the server keeps serving', async () => {
    const refund = insertRefund(s.app, org, { status: 'pending' });
    const path = `/v1/refunds/${refund.id}/cancel`;
    // The server's side of the request: the client goes only once the server has it, body unfinished.
    const arrived = new Promise<ServerResponse>((resolve) => {
      const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
        if (req.url !== path) return;
        s.running.server.off('request', onRequest);
        resolve(res);
      };
      s.running.server.on('request', onRequest);
    });
    const socket = connect(s.port, '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
      );
    });
    const failed = new Promise<never>((_resolve, reject) => socket.on('error', reject));
    const res = await within(Promise.race([arrived, failed]), 10_000, 'the request to reach the server');
    const closed = res.closed ? Promise.resolve() : new Promise<void>((resolve) => res.once('close', () => resolve()));
    socket.destroy();
    await within(closed, 10_000, "the server's end of the abandoned request to close");
    // Answered after the abandoned request's handling: by then it would have shown.
    expect((await raw(`${s.url}/healthz`)).status).toBe(200);
    expect(storedStatus(s.app, refund.id)).toBe('pending');
  });

  it('a fault inside is internal_error (500) with no detail, and the server keeps serving', async () => {
    const broken = await startTestServer();
    const other = orgWithKey(broken.app);
    broken.app.db.exec('ALTER TABLE refunds RENAME TO refunds_gone');
    const res = await raw(`${broken.url}/v1/refunds`, { headers: bearer(other.key) });
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({ error: { message: 'Internal error', code: 'internal_error' } });
    expect(res.text).not.toMatch(/at |\.ts|\.js|SQLITE|no such table/i);
    const health = await raw(`${broken.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('API keys', () => {
  const routes = (id: string): Array<{ method: string; path: string; body?: string }> => [
    { method: 'GET', path: `/v1/refunds/${id}` },
    { method: 'GET', path: '/v1/refunds' },
    { method: 'POST', path: `/v1/refunds/${id}/cancel`, body: '{}' },
    { method: 'POST', path: '/v1/refunds', body: JSON.stringify({ transactionId: 'ch_1', amount: 100, reason: 'other' }) },
  ];

  it('a missing, malformed, unknown or revoked key is invalid_api_key (401) on every route, and nothing changes', async () => {
    const revoked = orgWithKey(s.app, 'Revoked');
    await s.app.apiKeys.revoke(revoked.keyId);
    const refund = insertRefund(s.app, org, { status: 'pending' });
    const before = countRows(s.app, 'refund_events');
    const headerSets: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['empty', { authorization: '' }],
      ['basic', { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` }],
      ['no token', { authorization: 'Bearer' }],
      ['two tokens', { authorization: `Bearer ${key} extra` }],
      ['unknown', bearer('rk_test_0000000000000000000000000000000')],
      ['not a key', bearer('sk_test_123')],
      ['revoked', bearer(revoked.key)],
    ];
    for (const [label, headers] of headerSets) {
      for (const route of routes(refund.id)) {
        const res = await raw(`${s.url}${route.path}`, {
          method: route.method,
          headers: { ...headers, ...JSON_HEADERS },
          ...(route.body === undefined ? {} : { body: route.body }),
        });
        expect(res.status, `${label} ${route.method} ${route.path}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="refundkit"');
        const error = errorOf(res.json());
        expect(error.code).toBe('invalid_api_key');
        expect(error.message).toMatch(/^Invalid API key/);
        if (label === 'unknown' || label === 'revoked') expect(res.json()).toEqual(INVALID_KEY);
      }
    }
    expect(countRows(s.app, 'refund_events')).toBe(before);
    expect(storedStatus(s.app, refund.id)).toBe('pending');
  });

  it('the scheme is case-insensitive, as RFC 7235 says', async () => {
    const res = await raw(`${s.url}/v1/refunds?limit=1`, { headers: { authorization: `bearer ${key}` } });
    expect(res.status).toBe(200);
  });

  it("another organization's key sees nothing of the first organization, on every route", async () => {
    const other = orgWithKey(s.app, 'Shop B');
    const mine = insertRefund(s.app, other.organizationId, { status: 'completed' });
    const target = insertRefund(s.app, org, { status: 'pending' });
    const before = countRows(s.app, 'refund_events');

    const get = await raw(`${s.url}/v1/refunds/${target.id}`, { headers: bearer(other.key) });
    expect(get.status).toBe(404);
    expect(get.json()).toEqual(NOT_FOUND);
    const cancel = await raw(`${s.url}/v1/refunds/${target.id}/cancel`, { method: 'POST', headers: bearer(other.key) });
    expect(cancel.status).toBe(404);
    expect(cancel.json()).toEqual(NOT_FOUND);
    for (const query of ['', '?status=pending', '?processor=sandbox', '?limit=100']) {
      const list = await raw(`${s.url}/v1/refunds${query}`, { headers: bearer(other.key) });
      const ids = (list.json() as { data: Refund[] }).data.map((r) => r.id);
      expect(ids.every((id) => id === mine.id), query).toBe(true);
    }
    const created = await raw(`${s.url}/v1/refunds`, {
      method: 'POST',
      headers: bearer(other.key, JSON_HEADERS),
      body: JSON.stringify({ transactionId: 'ch_2', amount: 100, reason: 'other' }),
    });
    expect((created.json() as { data: Refund }).data.organizationId).toBe(other.organizationId);
    expect(storedStatus(s.app, target.id)).toBe('pending');
    expect(countRows(s.app, 'refund_events')).toBe(before + 2); // the create and its submission
    // And the first organization does not see the second one's refunds either.
    const back = await raw(`${s.url}/v1/refunds/${mine.id}`, { headers: bearer(key) });
    expect(back.status).toBe(404);
  });
});

describe('/healthz and read-only mode', () => {
  let ro: TestServer;
  let roKey: string;
  let roRefund: Refund;

  beforeAll(async () => {
    ro = await startTestServer({ REFUNDKIT_READ_ONLY: '1' });
    const who = orgWithKey(ro.app);
    roKey = who.key;
    roRefund = insertRefund(ro.app, who.organizationId, { status: 'pending' });
  });

  it('/healthz answers {"status":"ok"} without a key, and 503 when the database is gone', async () => {
    const res = await raw(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    const down = await startTestServer();
    down.app.close();
    const gone = await raw(`${down.url}/healthz`);
    expect(gone.status).toBe(503);
    expect(gone.json()).toEqual({ status: 'unavailable' });
  });

  it('a read-only server reads, and refuses create and cancel with 405, changing nothing', async () => {
    expect((await raw(`${ro.url}/v1/refunds/${roRefund.id}`, { headers: bearer(roKey) })).status).toBe(200);
    const cancel = await raw(`${ro.url}/v1/refunds/${roRefund.id}/cancel`, { method: 'POST', headers: bearer(roKey) });
    expect(cancel.status).toBe(405);
    expect(cancel.headers.allow).toBe('');
    expect(errorOf(cancel.json()).message).toMatch(/read-only/);
    const create = await raw(`${ro.url}/v1/refunds`, {
      method: 'POST',
      headers: bearer(roKey, JSON_HEADERS),
      body: JSON.stringify({ transactionId: 'ch_1', amount: 100, reason: 'other' }),
    });
    expect(create.status).toBe(405);
    expect(create.headers.allow).toBe('GET, HEAD');
    expect(storedStatus(ro.app, roRefund.id)).toBe('pending');
    expect(countRows(ro.app, 'refunds')).toBe(1);
  });
});
