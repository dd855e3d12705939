/**
 * Bad input at the HTTP edge, property-based, against a live server on 127.0.0.1 (the product's
 * startHttpServer in this process, on a database holding refunds of two organizations in every
 * status). Every request goes out as raw bytes (test/support/reliability.ts `wire`), so that what
 * reaches the server is exactly what an attacker or a confused client sends: any method, any
 * request target, control characters and non-ASCII in headers, any body under any Content-Type.
 *
 * Every route is covered: GET /v1/refunds/:id (malformed, encoded-slash, unicode and huge
 * segments; well-formed unknown ids), GET /v1/refunds (arbitrary query strings), POST /v1/refunds
 * (bodies with one fault, bodies of any kind, any Idempotency-Key), POST /v1/refunds/:id/cancel
 * (any body), POST /webhooks/stripe (any body, any signature, and signed bodies of any shape),
 * /mcp (arbitrary JSON-RPC), arbitrary Authorization headers on every route, and any method on any
 * path. For each request an oracle written here from the reference decides the one answer the
 * contract allows, and the test checks:
 * - the status is that one (400 validation_error naming the field, 404 not_found for a well-formed
 *   unknown id, 401/405/413/415 where they apply), never a 5xx;
 * - the body is exactly the error shape `{"error":{"message","code"}}` (or the documented success
 *   shape, or JSON-RPC on /mcp), with no stack trace, file path or driver error in it;
 * - the rows of refunds and refund_events are byte for byte what they were (rowsFingerprint).
 *
 * Fixed seed (REFUNDKIT_SEED overrides it); REFUNDKIT_SOAK=1 runs about 20 times more cases.
 */
import fc from 'fast-check';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Refund } from '../../src/domain/refund.js';
import { REFUND_STATUSES } from '../../src/domain/refund.js';
import { createLogger } from '../../src/logger.js';
import { cleanupHttp, orgWithKey, startTestServer, type TestServer } from '../support/http-server.js';
import {
  adversarialBody,
  adversarialHeaderValue,
  adversarialPathSegment,
  adversarialQuery,
  adversarialValue,
  authorizationValue,
  contentTypeValue,
  encodePathSegment,
  FIELDS,
  invalidCall,
  isPlainObject,
  isValidCall,
  jsonRpcMessage,
  jsonText,
  REFUND_ID,
  runs,
  SEED,
  unknownRefundId,
  validCall,
  VALID,
  type Operation,
} from '../support/arbitraries.js';
import { insertRefund } from '../support/fixtures.js';
import { INTERNALS, jsonRpcViolation, rowsFingerprint, rpcMessagesOf, wire, type WireRequest, type WireResponse } from '../support/reliability.js';

const SECRET = 'whsec_restInputTestsOnlyNotARealSecret01';
const MAX_BODY = 65_536;
const TOOLS: Record<Operation, string> = { get: 'get_refund', list: 'list_refunds', create: 'create_refund', cancel: 'cancel_refund' };
/** The statuses the contract gives each error code (the reference's four, then HTTP's own). */
const STATUS_OF: Readonly<Record<string, number>> = {
  validation_error: 400,
  invalid_api_key: 401,
  host_not_allowed: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  refund_not_cancellable: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_conflict: 422,
};
const OMIT_KEY = { omit: ['idempotencyKey'] } as const;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,255}$/;
const MCP_ACCEPT = 'application/json, text/event-stream';

let s: TestServer;
let keyA: string;
let orgA: string;
const idsA: string[] = [];
const idsB: string[] = [];
let pendingA: string;
let terminalA: string[] = [];
let sessionId: string;
let fingerprint: string;
const logLines: string[] = [];
const tally = new Map<string, number>();
let requests = 0;

beforeAll(async () => {
  s = await startTestServer(
    { STRIPE_WEBHOOK_SECRET: SECRET, REFUNDKIT_HTTP_MAX_BODY_BYTES: String(MAX_BODY) },
    { logger: createLogger('debug', (line) => logLines.push(line)), logRequests: true, mcpSessionIdleMs: 600_000 },
  );
  const a = orgWithKey(s.app, 'Org A');
  const b = orgWithKey(s.app, 'Org B');
  keyA = a.key;
  orgA = a.organizationId;
  for (const status of REFUND_STATUSES) {
    for (const processor of ['sandbox', 'stripe']) {
      idsA.push(insertRefund(s.app, orgA, { status, processor, metadata: { orderId: `order_${status}` } }).id);
      idsB.push(insertRefund(s.app, b.organizationId, { status, processor }).id);
    }
  }
  pendingA = idsA[0]!;
  terminalA = s.app.db
    .prepare<[string], { id: string }>("SELECT id FROM refunds WHERE organization_id = ? AND status IN ('completed', 'failed', 'cancelled')")
    .all(orgA)
    .map((r) => r.id);
  const init = await send({
    method: 'POST',
    target: '/mcp',
    headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json', accept: MCP_ACCEPT },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } } }),
  });
  expect(init.status, init.body).toBe(200);
  sessionId = init.headers['mcp-session-id']!;
  expect(sessionId).toBeTruthy();
  const initialized = await send(mcpRequest(sessionId, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })));
  expect(initialized.status).toBe(202);
  fingerprint = rowsFingerprint(s.app.db);
});

afterAll(async () => {
  await cleanupHttp();
  const counts = [...tally].map(([name, n]) => `${name}: ${n}`).join(', ');
  process.stderr.write(`[reliability] rest-input: ${requests} requests; cases: ${counts}\n`);
});

// -------------------------------------------------------------------------------------------
// Sending and judging

function send(request: WireRequest): Promise<WireResponse> {
  requests += 1;
  return wire(s.port, request);
}

function count(name: string): void {
  tally.set(name, (tally.get(name) ?? 0) + 1);
}

function auth(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${keyA}`, ...extra };
}

function mcpRequest(session: string | null, body: string | Uint8Array, extra: Record<string, string> = {}): WireRequest {
  const headers: Record<string, string> = auth({ 'content-type': 'application/json', accept: MCP_ACCEPT, ...extra });
  if (session !== null) {
    headers['mcp-session-id'] = session;
    headers['mcp-protocol-version'] = '2025-06-18';
  }
  return { method: 'POST', target: '/mcp', headers, body };
}

/** What was sent, as text: an internal-looking word in an answer is fine only if the caller sent it. */
function sentText(request: WireRequest): string {
  const body = request.body === undefined ? '' : Buffer.from(request.body).toString('utf8');
  return `${request.target}\n${JSON.stringify(request.headers ?? {})}\n${body}`;
}

function expectNoInternals(text: string, request: WireRequest): void {
  const match = INTERNALS.exec(text);
  if (match !== null) expect(sentText(request), `internals in the answer: ${text.slice(0, 300)}`).toContain(match[0].trim());
}

/** Never a 5xx; head and body free of internals. */
function expectClean(res: WireResponse, request: WireRequest): void {
  expect(res.status, `${request.method} ${request.target.slice(0, 120)} -> ${res.status} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  expectNoInternals(res.head, request);
  expectNoInternals(res.body, request);
}

/** The reference's error body, exactly; returns the code and message. */
function errorOf(res: WireResponse, request: WireRequest): { code: string; message: string } {
  expectClean(res, request);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`${res.status} with a body that is not JSON: ${JSON.stringify(res.body.slice(0, 200))}`);
  }
  expect(isPlainObject(body) && Object.keys(body), res.body.slice(0, 300)).toEqual(['error']);
  const error = (body as { error: unknown }).error;
  expect(isPlainObject(error) && Object.keys(error), res.body.slice(0, 300)).toEqual(['message', 'code']);
  const { code, message } = error as { code: unknown; message: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') throw new Error(`code and message must be strings: ${res.body.slice(0, 300)}`);
  expect(Object.keys(STATUS_OF), res.body.slice(0, 300)).toContain(code);
  // Headers past node:http's limit are 431 (Request Header Fields Too Large), a body past ours 413.
  const status = code === 'payload_too_large' && message.startsWith('Request line and headers') ? 431 : STATUS_OF[code];
  expect(res.status, `${code}: ${message.slice(0, 200)}`).toBe(status);
  expect(message.length).toBeGreaterThan(0);
  // No caller input is echoed at length: a message stays short whatever was sent.
  expect(message.length, message.slice(0, 200)).toBeLessThanOrEqual(600);
  if (code === 'invalid_api_key') expect(res.headers['www-authenticate']).toBe('Bearer realm="refundkit"');
  return { code, message };
}

function expectError(res: WireResponse, request: WireRequest, code: string): string {
  const error = errorOf(res, request);
  expect(error.code, error.message.slice(0, 300)).toBe(code);
  return error.message;
}

/**
 * The rows are as they were. When they are not, the new state becomes the baseline before
 * failing, so that shrinking looks for the smallest request that changes rows again.
 */
function expectUnchanged(request?: WireRequest): void {
  const now = rowsFingerprint(s.app.db);
  if (now === fingerprint) return;
  fingerprint = now;
  throw new Error(`rows changed after ${request === undefined ? 'a request' : sentText(request).slice(0, 600)}`);
}

/**
 * Whether the request line and headers exceed node:http's limit (16 KiB), which answers 431 before
 * any route sees the request. Near the limit the other headers decide: such a case is skipped.
 */
function headTooLarge(request: WireRequest): boolean {
  const head = `${request.method} ${request.target} HTTP/1.1\r\nHost: 127.0.0.1:65535\r\nConnection: close\r\nContent-Length: 100000\r\n${Object.entries(
    request.headers ?? {},
  )
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}`;
  const size = Buffer.byteLength(head);
  fc.pre(size < 15_800 || size > 16_600);
  return size > 16_384;
}

/** Percent-decoding as a server would, leaving what does not decode as it was. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** SP and HTAB around a header value are not part of it (RFC 9110 5.5): HTTP parsers strip them. */
function fieldValue(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** A header value with a control character (HTAB aside) is not HTTP: the parser refuses it. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** application/json or application/<anything>+json (RFC 6839), parameters and case aside. */
function isJsonType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = fieldValue(value).split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[^/]+\+json$/.test(type);
}

/**
 * A charset parameter that is not UTF-8, which the server refuses rather than misread (RFC 8259:
 * JSON is UTF-8). `utf-8` and `utf8`, in any case, quoted or not, are UTF-8.
 */
function hasForeignCharset(value: string): boolean {
  return fieldValue(value)
    .split(';')
    .slice(1)
    .map((parameter) => /^\s*charset\s*=\s*(.*?)\s*$/i.exec(parameter)?.[1])
    .some((charset) => charset !== undefined && !/^(?:"utf-?8"|utf-?8)$/i.test(charset));
}

/** The bytes as UTF-8, or null where they are not UTF-8. */
function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** JSON whitespace only (RFC 8259): the same as no body at all. */
function isBlankJson(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/**
 * UTF-8 as a server reads it. A leading BOM is kept: JSON parsers MAY ignore one (RFC 8259 8.1),
 * ours refuses it. Stripe's library drops it, so the webhook oracle asks for that.
 */
function decodeUtf8(bytes: Uint8Array, options: { dropBom?: boolean } = {}): string {
  return new TextDecoder('utf-8', { ignoreBOM: options.dropBom !== true }).decode(bytes);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Field names a create body must not have, has broken, or lacks: one of them must be named. */
function faultyFields(args: Record<string, unknown>): string[] {
  const fields = ['transactionId', 'amount', 'currency', 'reason', 'metadata'] as const;
  const faulty: string[] = [];
  for (const key of Reflect.ownKeys(args)) {
    if (typeof key !== 'string') continue;
    if (!(fields as readonly string[]).includes(key)) faulty.push(key);
  }
  for (const field of fields) {
    const present = Object.prototype.hasOwnProperty.call(args, field);
    const value = present ? args[field] : undefined;
    if (!present && FIELDS[field].required) faulty.push(field);
    else if (present && !VALID[field](value)) faulty.push(field);
  }
  return faulty;
}

function expectNamesOneOf(message: string, faulty: readonly string[]): void {
  const lower = message.toLowerCase();
  const named = faulty.some((field) => lower.includes(field.slice(0, 40).toLowerCase()));
  expect(named, `'${message.slice(0, 200)}' names none of ${JSON.stringify(faulty.map((f) => f.slice(0, 40)))}`).toBe(true);
}

// -------------------------------------------------------------------------------------------
// GET /v1/refunds/:id

describe('GET /v1/refunds/:id', () => {
  it('a malformed id (near misses, unicode, encoded slashes and dots, SQL, huge): 400 validation_error naming id', async () => {
    await fc.assert(
      fc.asyncProperty(adversarialPathSegment, async (segment) => {
        fc.pre(!REFUND_ID.test(decodeSegment(segment)));
        count('get malformed id');
        const request: WireRequest = { method: 'GET', target: `/v1/refunds/${segment}`, headers: auth() };
        if (headTooLarge(request)) {
          expectError(await send(request), request, 'payload_too_large');
        } else {
          expect(expectError(await send(request), request, 'validation_error')).toMatch(/^id must be a RefundKit refund id/);
        }
        expectUnchanged(request);
      }),
      { seed: SEED, numRuns: runs(250, 5_000) },
    );
  });

  it("a well-formed id that is not this organization's: exactly not_found", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(unknownRefundId([...idsA, ...idsB]), fc.constantFrom(...idsB)), fc.boolean(), async (id, encoded) => {
        count('get unknown id');
        // Percent-encoding letters changes nothing: the id is the same once decoded.
        const segment = encoded ? Array.from(id).map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join('') : id;
        const request: WireRequest = { method: 'GET', target: `/v1/refunds/${segment}`, headers: auth() };
        const res = await send(request);
        expectError(res, request, 'not_found');
        expect(JSON.parse(res.body)).toEqual({ error: { message: 'Refund not found', code: 'not_found' } });
        expectUnchanged(request);
      }),
      { seed: SEED + 1, numRuns: runs(100, 2_000) },
    );
  });

  it('anything after /v1/refunds/, sent raw (slashes, dots, %, ?, #): 400, 404 or 405, never the refund', async () => {
    const raw = fc
      .array(
        fc.oneof(
          fc.constantFrom('/', '//', '.', '..', '%2F', '%2f', '%5C', '%00', '%', '%%', '?', '#', ';', 'cancel', 'ref_', pendingA, '%2e%2e', '~', '&', '='),
          fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
        ),
        { minLength: 1, maxLength: 8 },
      )
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(raw, fc.constantFrom('GET', 'POST'), async (tail, method) => {
        const path = tail.split(/[?#]/)[0]!;
        fc.pre(!REFUND_ID.test(decodeSegment(path)) && !/^[^/]+\/cancel$/.test(path));
        count('raw tails');
        const request: WireRequest = { method, target: `/v1/refunds/${tail}`, headers: auth({ 'content-type': 'application/json' }), body: '{}' };
        const { code } = errorOf(await send(request), request);
        expect(['validation_error', 'not_found', 'route_not_found', 'method_not_allowed']).toContain(code);
        expectUnchanged(request);
      }),
      { seed: SEED + 2, numRuns: runs(200, 4_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// GET /v1/refunds

type ListVerdict = { ok: true; status?: string; processor?: string; limit: number; offset: number } | { ok: false; faulty: string[] };

/** Integers in a query string: an optional minus and at most 16 digits, within the safe range. */
function queryInteger(text: string): number | null {
  if (!/^-?\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** The verdict of the List Refunds page for a query string, parsed as application/x-www-form-urlencoded. */
function listVerdict(query: string): ListVerdict {
  const faulty: string[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!['status', 'processor', 'limit', 'offset'].includes(name) || seen.has(name)) faulty.push(name);
    else seen.set(name, value);
  }
  const status = seen.get('status');
  const processor = seen.get('processor');
  const limitText = seen.get('limit');
  const offsetText = seen.get('offset');
  if (status !== undefined && !VALID.status(status)) faulty.push('status');
  if (processor !== undefined && !VALID.processor(processor)) faulty.push('processor');
  const limit = limitText === undefined ? 25 : queryInteger(limitText);
  if (limit === null || !VALID.limit(limit)) faulty.push('limit');
  const offset = offsetText === undefined ? 0 : queryInteger(offsetText);
  if (offset === null || !VALID.offset(offset)) faulty.push('offset');
  if (faulty.length > 0 || limit === null || offset === null) return { ok: false, faulty };
  return { ok: true, ...(status === undefined ? {} : { status }), ...(processor === undefined ? {} : { processor }), limit, offset };
}

describe('GET /v1/refunds', () => {
  it('any query string: 400 validation_error naming a faulty parameter, or exactly the page the filters select', async () => {
    const select = (v: Extract<ListVerdict, { ok: true }>): string[] => {
      const where = ['organization_id = ?'];
      const params: (string | number)[] = [orgA];
      if (v.status !== undefined) {
        where.push('status = ?');
        params.push(v.status);
      }
      if (v.processor !== undefined) {
        where.push('processor = ?');
        params.push(v.processor);
      }
      params.push(v.limit, v.offset);
      return s.app.db
        .prepare(`SELECT id FROM refunds WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
        .all(...params)
        .map((row) => (row as { id: string }).id);
    };
    let pages = 0;
    await fc.assert(
      fc.asyncProperty(adversarialQuery, async (query) => {
        const request: WireRequest = { method: 'GET', target: `/v1/refunds?${query}`, headers: auth() };
        const res = await send(request);
        const verdict = listVerdict(query);
        if (verdict.ok) {
          count('list answered');
          pages += 1;
          expectClean(res, request);
          expect(res.status, res.body.slice(0, 300)).toBe(200);
          const body = JSON.parse(res.body) as { data: Refund[] };
          expect(Object.keys(body)).toEqual(['data']);
          expect(body.data.map((r) => r.id)).toEqual(select(verdict));
        } else {
          count('list refused');
          expectNamesOneOf(expectError(res, request, 'validation_error'), verdict.faulty);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 3, numRuns: runs(400, 8_000) },
    );
    // Both branches ran: the generator is not all junk, nor all valid.
    expect(pages).toBeGreaterThan(runs(400, 8_000) / 20);
    expect(tally.get('list refused') ?? 0).toBeGreaterThan(runs(400, 8_000) / 4);
  });

  it('one fault in otherwise valid parameters: 400 naming that parameter', async () => {
    await fc.assert(
      fc.asyncProperty(invalidCall('list').filter((c) => c.kind !== 'not-an-object' && c.kind !== 'missing'), async (c) => {
        const args = c.args as Record<string, unknown>;
        const query = Object.entries(args)
          .map(([name, value]) => `${encodePathSegment(name)}=${encodePathSegment(typeof value === 'string' ? value : typeof value === 'bigint' ? value.toString() : jsonText(value))}`)
          .join('&');
        const verdict = listVerdict(query);
        // A value that only a query string cannot tell from a valid one (the number 5 and the text '5').
        fc.pre(!verdict.ok);
        const target = `/v1/refunds?${query}`;
        // Near node:http's limit on the request line and headers (16 KiB), which side wins depends on the other headers.
        fc.pre(target.length < 15_500 || target.length > 16_384);
        count('list one-fault');
        const request: WireRequest = { method: 'GET', target, headers: auth() };
        const res = await send(request);
        if (target.length > 16_384) {
          expectError(res, request, 'payload_too_large');
        } else {
          // The names as the server decodes them (a lone surrogate sent as bytes comes back as U+FFFD).
          expectNamesOneOf(expectError(res, request, 'validation_error'), verdict.faulty);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 4, numRuns: runs(200, 4_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// POST /v1/refunds (create)

type BodyVerdict = { kind: 'too-large' } | { kind: 'unsupported' } | { kind: 'empty' } | { kind: 'not-utf8' } | { kind: 'not-json' } | { kind: 'json'; value: unknown };

/** What the body is to an HTTP server that takes JSON: checked in the order size, presence, type and charset, encoding, syntax. */
function bodyVerdict(body: Uint8Array, contentType: string | undefined): BodyVerdict {
  if (body.length > MAX_BODY) return { kind: 'too-large' };
  if (body.length === 0) return { kind: 'empty' };
  if (!isJsonType(contentType) || hasForeignCharset(contentType ?? '')) return { kind: 'unsupported' };
  const text = strictUtf8(body);
  if (text === null) return { kind: 'not-utf8' };
  if (isBlankJson(text)) return { kind: 'empty' };
  const parsed = parseJson(text);
  return parsed.ok ? { kind: 'json', value: parsed.value } : { kind: 'not-json' };
}

function createRequest(body: Uint8Array | string, headers: Record<string, string> = {}): WireRequest {
  return { method: 'POST', target: '/v1/refunds', headers: auth(headers), body };
}

describe('POST /v1/refunds', () => {
  it('one fault in an otherwise valid body (any field, any type, missing, unknown, __proto__): 400 naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(invalidCall('create', OMIT_KEY), async (c) => {
        const text = jsonText(c.args);
        const wireArgs = JSON.parse(text) as unknown;
        // A bigint that JSON turns into a valid number is no fault once sent.
        fc.pre(!isValidCall('create', wireArgs, OMIT_KEY));
        count('create one-fault');
        const request = createRequest(text, { 'content-type': 'application/json' });
        const res = await send(request);
        if (Buffer.byteLength(text) > MAX_BODY) {
          expectError(res, request, 'payload_too_large');
        } else {
          const message = expectError(res, request, 'validation_error');
          if (c.kind === 'not-an-object') expect(message).toMatch(/^Request body must be a JSON object/);
          else expectNamesOneOf(message, [c.field ?? '']);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 5, numRuns: runs(400, 8_000) },
    );
  });

  it('any body under any Content-Type: 413, 415 or 400 as the body is, never a refund', async () => {
    await fc.assert(
      fc.asyncProperty(adversarialBody, contentTypeValue, async (body, contentType) => {
        const verdict = bodyVerdict(body, contentType);
        fc.pre(!(verdict.kind === 'json' && isValidCall('create', verdict.value, OMIT_KEY)));
        fc.pre(contentType === undefined || !hasControl(contentType));
        count(`create any-body ${verdict.kind}`);
        const request = createRequest(body, contentType === undefined ? {} : { 'content-type': contentType });
        const res = await send(request);
        if (verdict.kind === 'too-large') expectError(res, request, 'payload_too_large');
        else if (verdict.kind === 'unsupported') expectError(res, request, 'unsupported_media_type');
        else if (verdict.kind === 'not-utf8') expect(expectError(res, request, 'validation_error')).toBe('Request body is not valid UTF-8');
        else if (verdict.kind === 'not-json') expect(expectError(res, request, 'validation_error')).toBe('Request body is not valid JSON');
        else if (verdict.kind === 'empty' || !isPlainObject(verdict.value)) {
          expect(expectError(res, request, 'validation_error')).toMatch(/^Request body must be a JSON object/);
        } else {
          const faulty = faultyFields(verdict.value);
          expectNamesOneOf(expectError(res, request, 'validation_error'), faulty);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 6, numRuns: runs(400, 8_000) },
    );
  });

  it('any Idempotency-Key that is not 1-255 of [A-Za-z0-9_.:-], with a body that would create: 400 naming the header', async () => {
    const badKey = fc.oneof(
      adversarialHeaderValue,
      FIELDS.idempotencyKey.invalid.map((v) => (typeof v === 'string' ? v : jsonText(v)).replace(/[\r\n]/g, '')),
      fc.constantFrom('a b', 'key,other', 'k'.repeat(256), 'ключ', '', 'key\u0000', "key'--", 'a\tb'),
    );
    await fc.assert(
      fc.asyncProperty(validCall('create', OMIT_KEY), badKey, async (args, key) => {
        fc.pre(!IDEMPOTENCY_KEY.test(fieldValue(key)));
        count('create bad Idempotency-Key');
        const request = createRequest(JSON.stringify(args), { 'content-type': 'application/json', 'idempotency-key': key });
        if (headTooLarge(request)) {
          // Past the size limit; a control character may stop the parser first.
          expect(hasControl(key) ? ['payload_too_large', 'validation_error'] : ['payload_too_large']).toContain(errorOf(await send(request), request).code);
        } else {
          const message = expectError(await send(request), request, 'validation_error');
          if (!hasControl(key)) expect(message).toMatch(/Idempotency-Key/);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 7, numRuns: runs(200, 4_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// POST /v1/refunds/:id/cancel

describe('POST /v1/refunds/:id/cancel', () => {
  it("any body but none or {} (on a pending refund, which {} would cancel): 400, 413 or 415, and it stays pending", async () => {
    await fc.assert(
      fc.asyncProperty(adversarialBody, contentTypeValue, async (body, contentType) => {
        const verdict = bodyVerdict(body, contentType);
        fc.pre(verdict.kind !== 'empty' && !(verdict.kind === 'json' && isPlainObject(verdict.value) && Reflect.ownKeys(verdict.value).length === 0));
        fc.pre(contentType === undefined || !hasControl(contentType));
        count(`cancel any-body ${verdict.kind}`);
        const request: WireRequest = {
          method: 'POST',
          target: `/v1/refunds/${pendingA}/cancel`,
          headers: auth(contentType === undefined ? {} : { 'content-type': contentType }),
          body,
        };
        const res = await send(request);
        if (verdict.kind === 'too-large') expectError(res, request, 'payload_too_large');
        else if (verdict.kind === 'unsupported') expectError(res, request, 'unsupported_media_type');
        else if (verdict.kind === 'not-utf8') expect(expectError(res, request, 'validation_error')).toBe('Request body is not valid UTF-8');
        else if (verdict.kind === 'not-json') expect(expectError(res, request, 'validation_error')).toBe('Request body is not valid JSON');
        else if (isPlainObject(verdict.value)) {
          const message = expectError(res, request, 'validation_error');
          expectNamesOneOf(message, Reflect.ownKeys(verdict.value).filter((k): k is string => typeof k === 'string'));
        } else {
          expect(expectError(res, request, 'validation_error')).toMatch(/^Request body must be a JSON object/);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 8, numRuns: runs(300, 6_000) },
    );
  });

  it('a malformed id: 400 naming id; a well-formed unknown one: not_found', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(adversarialPathSegment, unknownRefundId([...idsA, ...idsB]), fc.constantFrom(...idsB)), async (segment) => {
        const decoded = decodeSegment(segment);
        count('cancel id');
        const request: WireRequest = { method: 'POST', target: `/v1/refunds/${segment}/cancel`, headers: auth({ 'content-type': 'application/json' }), body: '{}' };
        const headTooBig = headTooLarge(request);
        const res = await send(request);
        if (headTooBig) expectError(res, request, 'payload_too_large');
        else if (REFUND_ID.test(decoded)) expect(expectError(res, request, 'not_found')).toBe('Refund not found');
        else expect(expectError(res, request, 'validation_error')).toMatch(/^id must be/);
        expectUnchanged(request);
      }),
      { seed: SEED + 9, numRuns: runs(200, 4_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// POST /webhooks/stripe

const eventLike: fc.Arbitrary<unknown> = fc.record(
  {
    id: fc.oneof(
      { weight: 4, arbitrary: fc.stringMatching(/^evt_[A-Za-z0-9]{10,24}$/) },
      { weight: 1, arbitrary: adversarialValue({ wire: true }) },
      { weight: 1, arbitrary: fc.integer({ min: 250, max: 400 }).map((n) => `evt_${'x'.repeat(n)}`) },
    ),
    object: fc.oneof(fc.constantFrom('event', 'event', 'v2.core.event'), adversarialValue({ wire: true })),
    type: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated', 'payout.paid', 'charge.succeeded') },
      { weight: 1, arbitrary: adversarialValue({ wire: true }) },
      { weight: 1, arbitrary: fc.integer({ min: 250, max: 400 }).map((n) => `refund.${'x'.repeat(n)}`) },
    ),
    data: fc.oneof(
      fc.record(
        {
          object: fc.oneof(
            fc.record(
              {
                object: fc.oneof(fc.constant('refund'), adversarialValue({ wire: true })),
                id: fc.oneof(fc.stringMatching(/^re_[A-Za-z0-9]{14}$/), adversarialValue({ wire: true })),
                status: fc.oneof(fc.constantFrom('pending', 'succeeded', 'failed', 'canceled', 'requires_action'), adversarialValue({ wire: true })),
              },
              { requiredKeys: [] },
            ),
            adversarialValue({ wire: true }),
          ),
        },
        { requiredKeys: [] },
      ),
      adversarialValue({ wire: true }),
    ),
  },
  { requiredKeys: [] },
);

type SignatureMode = 'valid' | 'other-secret' | 'stale' | 'tampered' | 'junk' | 'missing' | 'scheme-v0';

function signatureFor(payload: Uint8Array, mode: SignatureMode, junk: string): string | undefined {
  // Stripe's library checks the signature against the body decoded as UTF-8 (a BOM dropped).
  const text = decodeUtf8(payload, { dropBom: true });
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'valid':
      return Stripe.webhooks.generateTestHeaderString({ payload: text, secret: SECRET, timestamp: now });
    case 'other-secret':
      return Stripe.webhooks.generateTestHeaderString({ payload: text, secret: 'whsec_someoneElsesSecret0000000000', timestamp: now });
    case 'stale':
      return Stripe.webhooks.generateTestHeaderString({ payload: text, secret: SECRET, timestamp: now - 3_600 });
    case 'tampered':
      return Stripe.webhooks.generateTestHeaderString({ payload: `${text} `, secret: SECRET, timestamp: now });
    case 'scheme-v0':
      return Stripe.webhooks.generateTestHeaderString({ payload: text, secret: SECRET, timestamp: now, scheme: 'v0' });
    case 'junk':
      return junk;
    default:
      return undefined;
  }
}

/** What Stripe's library and our contract make of a delivery that verified: an event, or a refusal. */
function eventVerdict(payload: Uint8Array): { ok: true; id: string; type: string } | { ok: false } {
  // Bytes that are not UTF-8 are refused even when signed: Stripe sends UTF-8 only.
  if (strictUtf8(payload) === null) return { ok: false };
  const parsed = parseJson(decodeUtf8(payload, { dropBom: true }));
  if (!parsed.ok || !isPlainObject(parsed.value)) return { ok: false };
  const { id, type, object } = parsed.value;
  // A thin event notification (v2) is not a webhook event: the library refuses it.
  if (object === 'v2.core.event') return { ok: false };
  if (typeof id !== 'string' || typeof type !== 'string') return { ok: false };
  // Stripe's ids and types are short; the endpoint stores at most 255 characters of either.
  if (id.length < 1 || id.length > 255 || type.length < 1 || type.length > 255) return { ok: false };
  return { ok: true, id, type };
}

describe('POST /webhooks/stripe', () => {
  it('any body, any signature: 400 unless signed with the secret, and a signed one is 200 or 400 by its shape, never a change', async () => {
    const body = fc.oneof(
      { weight: 3, arbitrary: eventLike.map((e) => new Uint8Array(Buffer.from(jsonText(e)))) },
      { weight: 2, arbitrary: adversarialBody },
    );
    const mode = fc.constantFrom<SignatureMode>('valid', 'valid', 'valid', 'other-secret', 'stale', 'tampered', 'junk', 'missing', 'scheme-v0');
    await fc.assert(
      fc.asyncProperty(body, mode, adversarialHeaderValue.filter((v) => !hasControl(v)), contentTypeValue, async (payload, how, junk, contentType) => {
        fc.pre(contentType === undefined || !hasControl(contentType));
        const signature = signatureFor(payload, how, junk);
        const headers: Record<string, string> = {};
        if (contentType !== undefined) headers['content-type'] = contentType;
        if (signature !== undefined) headers['stripe-signature'] = signature;
        const request: WireRequest = { method: 'POST', target: '/webhooks/stripe', headers, body: payload };
        const headTooBig = headTooLarge(request);
        const res = await send(request);
        const signed = how === 'valid' && payload.length > 0;
        if (payload.length > MAX_BODY || headTooBig) {
          count('webhook too large');
          expectError(res, request, 'payload_too_large');
        } else if (signature === undefined || fieldValue(signature) === '') {
          count('webhook unsigned');
          expect(expectError(res, request, 'validation_error')).toMatch(/^Missing Stripe-Signature header/);
        } else if (payload.length === 0) {
          count('webhook empty');
          expect(expectError(res, request, 'validation_error')).toBe('Webhook body is empty');
        } else if (!signed) {
          count(`webhook ${how}`);
          expect(expectError(res, request, 'validation_error')).toMatch(/Stripe-Signature/);
        } else {
          const verdict = eventVerdict(payload);
          if (verdict.ok) {
            count('webhook signed event');
            expectClean(res, request);
            expect(res.status, res.body.slice(0, 300)).toBe(200);
            const answer = JSON.parse(res.body) as { data: { eventId: string; type: string; outcome: string; refundId: string | null } };
            expect(Object.keys(answer)).toEqual(['data']);
            expect(answer.data).toMatchObject({ eventId: verdict.id, type: verdict.type, refundId: null });
            expect(['ignored', 'duplicate']).toContain(answer.data.outcome);
          } else {
            count('webhook signed non-event');
            expect(expectError(res, request, 'validation_error')).toMatch(/^Webhook /);
          }
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 10, numRuns: runs(400, 8_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// /mcp

describe('/mcp', () => {
  /** Every answer of /mcp: JSON-RPC (or the REST error shape for what the HTTP layer refuses). */
  function expectMcpAnswer(res: WireResponse, request: WireRequest): void {
    expectClean(res, request);
    expect([200, 202, 400, 404, 406, 413, 415, 431], `${res.status} ${res.body.slice(0, 300)}`).toContain(res.status);
    if (res.status === 202) {
      expect(res.body).toBe('');
      return;
    }
    const messages = rpcMessagesOf(res);
    if (res.status !== 200 && messages.length === 1 && 'error' in (JSON.parse(messages[0]!) as object) && !('jsonrpc' in (JSON.parse(messages[0]!) as object))) {
      // The HTTP layer's own refusal (a body too large): the REST error shape.
      errorOf(res, request);
      return;
    }
    expect(messages.length, res.body.slice(0, 300)).toBeGreaterThan(0);
    for (const message of messages) {
      expect(jsonRpcViolation(message), message.slice(0, 300)).toBeNull();
      const parsed = JSON.parse(message) as { error?: { code: number; message: string }; result?: { isError?: boolean; content?: { text?: string }[] } };
      if (res.status !== 200) expect(parsed.error, message.slice(0, 300)).toBeDefined();
      // -32603 is the protocol's "Internal error": a fault of ours, never an answer to bad input.
      expect(parsed.error?.code, message.slice(0, 300)).not.toBe(-32603);
      if (parsed.result?.isError === true) {
        const text = parsed.result.content?.[0]?.text ?? '';
        const body = JSON.parse(text) as { error: { code: string } };
        expect(['validation_error', 'not_found'], text.slice(0, 300)).toContain(body.error.code);
      }
    }
  }

  it('arbitrary JSON-RPC (bad versions, ids, methods, params, tool calls with bad arguments, batches) in a session and outside one', async () => {
    const message = jsonRpcMessage(TOOLS);
    // Turned into text in the property, not the arbitrary: generation runs deep in the stack, and
    // a nested value with a bigint in it takes a stack frame per level to write out.
    const body = fc.oneof(
      { weight: 4, arbitrary: message.map((m) => ({ json: m })) },
      { weight: 1, arbitrary: fc.array(message, { maxLength: 4 }).map((m) => ({ json: m })) },
      { weight: 1, arbitrary: adversarialBody.map((b) => ({ text: decodeUtf8(b) })) },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), fc.constantFrom('right', 'right', 'right', 'json-only', 'sse-only', 'none', 'junk'), async (sent, inSession, accept) => {
        const text = 'text' in sent ? sent.text : jsonText(sent.json);
        count(`mcp ${inSession ? 'in session' : 'no session'}`);
        const extra: Record<string, string> = {};
        if (accept === 'json-only') extra.accept = 'application/json';
        if (accept === 'sse-only') extra.accept = 'text/event-stream';
        if (accept === 'junk') extra.accept = 'text/html';
        const request = mcpRequest(inSession ? sessionId : null, text, extra);
        if (accept === 'none') delete request.headers!.accept;
        expectMcpAnswer(await send(request), request);
        expectUnchanged(request);
      }),
      { seed: SEED + 11, numRuns: runs(300, 6_000) },
    );
    // The session survived it all.
    const list = await send(mcpRequest(sessionId, JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'tools/list' })));
    expect(list.status).toBe(200);
    expect(rpcMessagesOf(list).join()).toContain('get_refund');
  });

  it('any Content-Type and any session id: refused with a JSON-RPC error or the error body', async () => {
    await fc.assert(
      fc.asyncProperty(contentTypeValue, fc.oneof(adversarialHeaderValue, fc.uuid()), fc.constantFrom('POST', 'GET', 'DELETE'), async (contentType, session, method) => {
        fc.pre(session !== sessionId && !hasControl(session) && fieldValue(session) !== '' && (contentType === undefined || !hasControl(contentType)));
        count('mcp headers');
        const headers = auth({ accept: MCP_ACCEPT, 'mcp-session-id': session });
        if (contentType !== undefined) headers['content-type'] = contentType;
        const request: WireRequest = method === 'POST' ? { method, target: '/mcp', headers, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' } : { method, target: '/mcp', headers };
        const headTooBig = headTooLarge(request);
        const res = await send(request);
        expectClean(res, request);
        if (headTooBig) expectError(res, request, 'payload_too_large');
        else expect([400, 404, 406, 415], `${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
        expectUnchanged(request);
      }),
      { seed: SEED + 12, numRuns: runs(100, 2_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// Authorization, on every route that takes a key

describe('arbitrary Authorization headers', () => {
  it('on every route: 401 invalid_api_key (or 400 for a header HTTP itself refuses) unless it is exactly the key; nothing changes', async () => {
    const routes = (): WireRequest[] => [
      { method: 'GET', target: `/v1/refunds/${pendingA}` },
      { method: 'GET', target: '/v1/refunds?limit=100' },
      { method: 'POST', target: '/v1/refunds', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transactionId: 'ch_authFuzz', amount: 100, reason: 'other' }) },
      { method: 'POST', target: `/v1/refunds/${pendingA}/cancel`, headers: { 'content-type': 'application/json' }, body: '{}' },
      {
        method: 'POST',
        target: '/mcp',
        headers: { 'content-type': 'application/json', accept: MCP_ACCEPT },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
      },
    ];
    const accepted = (value: string): boolean => {
      const match = /^bearer +(\S+)$/i.exec(fieldValue(value));
      return match?.[1] === keyA;
    };
    await fc.assert(
      fc.asyncProperty(fc.option(authorizationValue(keyA), { nil: undefined }), fc.nat(4), async (value, index) => {
        fc.pre(value === undefined || !accepted(value));
        count('auth');
        const route = routes()[index]!;
        const request: WireRequest = { ...route, headers: { ...route.headers, ...(value === undefined ? {} : { authorization: value }) } };
        const headTooBig = headTooLarge(request);
        const res = await send(request);
        if (headTooBig) {
          expect(value !== undefined && hasControl(value) ? ['payload_too_large', 'validation_error'] : ['payload_too_large']).toContain(errorOf(res, request).code);
        } else if (value !== undefined && hasControl(value)) {
          expect(['validation_error', 'invalid_api_key']).toContain(errorOf(res, request).code);
        } else {
          expect(expectError(res, request, 'invalid_api_key')).toMatch(/^Invalid API key/);
        }
        expectUnchanged(request);
      }),
      { seed: SEED + 13, numRuns: runs(300, 6_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// Any method, any path

describe('any method on any path', () => {
  it('answers with a documented status and body, never a 5xx, never a change', async () => {
    const methods = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'SEARCH', 'PURGE') },
      { weight: 1, arbitrary: fc.constantFrom('get', 'FOO', 'GET\u0000', 'G ET', '') },
    );
    const segment = fc.oneof(adversarialPathSegment, unknownRefundId(idsA), fc.constantFrom(...terminalA));
    const path = fc.oneof(
      fc.constantFrom('/v1/refunds', '/webhooks/stripe', '/mcp', '/healthz', '/', '/v1', '/v1/refunds/', '/v2/refunds', '//v1/refunds', '/V1/REFUNDS', '/v1/refunds/../refunds', '*'),
      segment.map((id) => `/v1/refunds/${id}`),
      segment.map((id) => `/v1/refunds/${id}/cancel`),
      fc.stringMatching(/^\/[\x21-\x7e]{0,40}$/),
    );
    const authValue = fc.oneof(fc.constant(`Bearer ${keyA}`), fc.constant(undefined), authorizationValue(keyA));
    await fc.assert(
      fc.asyncProperty(methods, path, authValue, fc.option(fc.tuple(adversarialBody, contentTypeValue), { nil: undefined }), async (method, target, authorization, withBody) => {
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (withBody?.[1] !== undefined) headers['content-type'] = withBody[1];
        // A body that is a valid create for this organization would create a refund: not junk.
        if (withBody !== undefined) {
          const verdict = bodyVerdict(withBody[0], withBody[1]);
          fc.pre(!(verdict.kind === 'json' && isValidCall('create', verdict.value, OMIT_KEY)));
        }
        count('any request');
        const request: WireRequest = withBody === undefined ? { method, target, headers } : { method, target, headers, body: withBody[0] };
        headTooLarge(request);
        const res = await send(request);
        expectClean(res, request);
        expect([200, 202, 400, 401, 403, 404, 405, 406, 409, 413, 415, 431], `${method} ${target} -> ${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
        if (method !== 'HEAD' && res.status !== 200 && res.status !== 202 && !target.startsWith('/mcp')) errorOf(res, request);
        expectUnchanged(request);
      }),
      { seed: SEED + 14, numRuns: runs(400, 8_000) },
    );
  });
});

// -------------------------------------------------------------------------------------------
// What HTTP's own parser refuses, and the regressions the properties found

describe('requests the HTTP parser refuses get the error body too', () => {
  it.each([
    ['a control character in a header value', { method: 'GET', target: '/v1/refunds', headers: { authorization: 'Bearer rk_live_\u0001abc' } }, 400, 'validation_error'],
    ['a request line that is not HTTP', { method: 'GARBAGE NOT HTTP', target: '', headers: {} }, 400, 'validation_error'],
    ['a space inside the request target', { method: 'GET', target: '/v1/refunds/ref abc', headers: {} }, 400, 'validation_error'],
    ['a URL of 20 000 characters', { method: 'GET', target: `/v1/refunds/${'a'.repeat(20_000)}`, headers: {} }, 431, 'payload_too_large'],
    ['a query of 100 000 characters', { method: 'GET', target: `/v1/refunds?limit=${'9'.repeat(100_000)}`, headers: {} }, 431, 'payload_too_large'],
    ['an Authorization header of 40 000 characters', { method: 'GET', target: '/v1/refunds', headers: { authorization: `Bearer ${'k'.repeat(40_000)}` } }, 431, 'payload_too_large'],
  ] as const)('%s: %i %s', async (_label, request, status, code) => {
    const res = await send(request);
    expect(res.status).toBe(status);
    expect(expectError(res, request, code)).not.toMatch(/HPE_|llhttp/);
    expectUnchanged();
    expect((await send({ method: 'GET', target: '/healthz' })).status).toBe(200);
  });
});

describe('regressions found by the properties above', () => {
  async function deliverSigned(payload: string): Promise<WireResponse> {
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    return send({ method: 'POST', target: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  }

  it.each([
    ['a refund event without data (was a TypeError: 500)', '{"id":"evt_regressionNoData","type":"refund.updated"}', 200],
    ['a refund event whose data is null (was 500)', '{"id":"evt_regressionNullData","type":"refund.updated","data":null}', 200],
    ['the JSON null (was a TypeError: 500)', 'null', 400],
    ['an event id of 300 characters (broke a CHECK constraint: 500)', JSON.stringify({ id: `evt_${'x'.repeat(296)}`, type: 'refund.updated' }), 400],
    ['an event type of 300 characters (broke a CHECK constraint: 500)', JSON.stringify({ id: 'evt_regressionLongType', type: 't'.repeat(300) }), 400],
    ['a thin event notification (v2), which constructEvent refuses with a plain Error (was 500)', '{"id":"evt_regressionThin","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered"}', 400],
  ] as const)('a signed webhook with %s is answered, not a 500', async (_label, payload, status) => {
    const res = await deliverSigned(payload);
    expect(res.status, res.body).toBe(status);
    if (status === 400) expect(expectError(res, { method: 'POST', target: '/webhooks/stripe', body: payload }, 'validation_error')).toMatch(/^Webhook /);
    else expect((JSON.parse(res.body) as { data: { outcome: string } }).data.outcome).toBe('ignored');
    expectUnchanged();
  });

  it.each([
    ['tools/call without params', { jsonrpc: '2.0', id: 41, method: 'tools/call' }, /params/],
    ['tools/call with params that are a string', { jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 5 } }, /params\.name/],
    ['tools/list with a numeric cursor', { jsonrpc: '2.0', id: 43, method: 'tools/list', params: { cursor: 5 } }, /params\.cursor/],
  ] as const)('/mcp answers %s with Invalid params (-32602), not Internal error (-32603) with a validator dump', async (_label, message, named) => {
    const res = await send(mcpRequest(sessionId, JSON.stringify(message)));
    expect(res.status).toBe(200);
    const [answer] = rpcMessagesOf(res).map((m) => JSON.parse(m) as { id: number; error: { code: number; message: string } });
    expect(answer?.id).toBe(message.id);
    expect(answer?.error.code).toBe(-32602);
    expect(answer?.error.message).toMatch(named);
    expect(answer?.error.message).not.toMatch(/\n/);
    expectUnchanged();
  });

  it('a body of non-JSON whitespace (no-break space, BOM) is not "no body": a cancel with it is refused, not carried out', async () => {
    for (const body of ['\u00a0', '\ufeff', '\u2028', ' \u00a0 ']) {
      const request: WireRequest = { method: 'POST', target: `/v1/refunds/${pendingA}/cancel`, headers: auth({ 'content-type': 'application/json' }), body };
      expect(expectError(await send(request), request, 'validation_error')).toBe('Request body is not valid JSON');
      expectUnchanged(request);
    }
  });
});

describe('the run itself', () => {
  it('logged no error, one debug line per request, and the pending refund is still pending', async () => {
    expect(logLines.filter((line) => /^\S+ error /.test(line))).toEqual([]);
    expect(logLines.filter((line) => / debug http /.test(line)).length).toBeGreaterThan(requests / 2);
    const request: WireRequest = { method: 'GET', target: `/v1/refunds/${pendingA}`, headers: auth() };
    const res = await send(request);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { data: Refund }).data.status).toBe('pending');
    expectUnchanged();
  });
});
