/**
 * What the reliability tests check after every storm: a fingerprint of the rows (to prove nothing
 * changed), the refund invariants (one legal status, reached by legal moves that replay to it),
 * agreement with the Stripe imitation (at most one Stripe refund per refund of ours, the same
 * status once settled), JSON-RPC 2.0 framing, and secrets that must never appear. Plus two ways
 * to reach the HTTP server: a raw HTTP/1.1 client (`wire`) and the built `http` command as a
 * process (`spawnHttp`).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import Database from 'better-sqlite3';
import type Stripe from 'stripe';
import { canTransition, isRefundStatus, type RefundStatus } from '../../src/domain/refund.js';
import { mapStripeStatus, REFUND_ID_METADATA_KEY } from '../../src/processors/stripe.js';
import { spawnServer } from './cli.js';

type Db = Database.Database;

function withDb<T>(db: Db | string, fn: (db: Db) => T): T {
  if (typeof db !== 'string') return fn(db);
  const opened = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return fn(opened);
  } finally {
    opened.close();
  }
}

/**
 * SHA-256 of every row of refunds and refund_events (all columns), in id order; with
 * `organizationId`, of that organization's rows only (what another organization must not change).
 * `withoutSyncSchedule` leaves out `next_sync_at`, which a running server's status reads move on
 * every pass for a processing refund, whoever else is calling.
 */
export function rowsFingerprint(db: Db | string, options: { organizationId?: string; withoutSyncSchedule?: boolean } = {}): string {
  return withDb(db, (conn) => {
    const where = options.organizationId === undefined ? '' : ' WHERE organization_id = @org';
    const params = options.organizationId === undefined ? {} : { org: options.organizationId };
    const refunds = conn.prepare(`SELECT * FROM refunds${where} ORDER BY id`).all(params) as Array<Record<string, unknown>>;
    if (options.withoutSyncSchedule === true) for (const row of refunds) delete row.next_sync_at;
    const events = conn.prepare(`SELECT * FROM refund_events${where} ORDER BY id`).all(params);
    return createHash('sha256').update(JSON.stringify({ refunds, events })).digest('hex');
  });
}

export interface RefundRow {
  id: string;
  organization_id: string;
  external_refund_id: string | null;
  status: string;
  processor: string;
  amount: number;
  transaction_id: string;
  idempotency_key: string | null;
  attempts: number;
  claim_token: string | null;
  claim_expires_at: string | null;
  /** When the dispatcher is due to submit it; null while it is held (for an approval, say). */
  next_attempt_at: string | null;
}

export interface EventRow {
  id: number;
  refund_id: string;
  organization_id: string;
  from_status: string | null;
  to_status: string;
  initiated_by: string;
  detail: string | null;
}

export interface Snapshot {
  refunds: RefundRow[];
  events: Map<string, EventRow[]>;
}

export function snapshot(db: Db | string): Snapshot {
  return withDb(db, (conn) => {
    const refunds = conn.prepare('SELECT * FROM refunds ORDER BY id').all() as RefundRow[];
    const events = new Map<string, EventRow[]>();
    for (const event of conn.prepare('SELECT * FROM refund_events ORDER BY id').all() as EventRow[]) {
      const list = events.get(event.refund_id) ?? [];
      list.push(event);
      events.set(event.refund_id, list);
    }
    return { refunds, events };
  });
}

/**
 * Every refund is in one legal status; its events start at creation (from null), each move starts
 * where the previous ended and is legal by canTransition (or is a discrepancy note, which moves nothing), and the last one ends at the stored
 * status; events belong to the refund's organization; no event points at a missing refund.
 * Returns the violations (empty when all hold).
 */

/** How the events that record a fact without a status change begin (see refundInvariantViolations). */
const NOTE_PREFIXES = ['discrepancy:', 'approval ', 'cancel by key '];
export function refundInvariantViolations(snap: Snapshot): string[] {
  const violations: string[] = [];
  const ids = new Set(snap.refunds.map((r) => r.id));
  for (const refundId of snap.events.keys()) if (!ids.has(refundId)) violations.push(`events for missing refund ${refundId}`);
  for (const refund of snap.refunds) {
    if (!isRefundStatus(refund.status)) {
      violations.push(`${refund.id}: unknown status ${refund.status}`);
      continue;
    }
    const events = snap.events.get(refund.id) ?? [];
    if (events.length === 0) {
      violations.push(`${refund.id}: no creation event (half-written)`);
      continue;
    }
    let at: RefundStatus | null = null;
    for (const [index, event] of events.entries()) {
      if (event.organization_id !== refund.organization_id) violations.push(`${refund.id}: event ${event.id} of another organization`);
      if (index === 0 && event.from_status !== null) violations.push(`${refund.id}: first event is not a creation (${event.from_status} -> ${event.to_status})`);
      if (index > 0 && event.from_status !== at) violations.push(`${refund.id}: event ${event.id} starts at ${event.from_status}, previous ended at ${at}`);
      const to = event.to_status;
      if (!isRefundStatus(to)) {
        violations.push(`${refund.id}: event ${event.id} to unknown status ${to}`);
        continue;
      }
      // Facts that change no status are recorded as events that leave it where it is: a discrepancy,
      // an approval requested or closed, an agent's cancel refused or confirmed. Only those.
      const note = index > 0 && event.from_status === to && to === at && NOTE_PREFIXES.some((prefix) => (event.detail ?? '').startsWith(prefix));
      if (index > 0 && at !== null && !note && !canTransition(at, to)) violations.push(`${refund.id}: illegal move ${at} -> ${to} (event ${event.id})`);
      at = to;
    }
    if (at !== refund.status) violations.push(`${refund.id}: events replay to ${at}, stored status is ${refund.status}`);
    if (refund.status !== 'pending' && refund.claim_token !== null) violations.push(`${refund.id}: ${refund.status} but still claimed`);
  }
  return violations;
}

/**
 * Our refunds against the Stripe imitation's: no refund of ours exists there twice, every Stripe
 * refund is one of ours, and (with `settled`) every refund we submitted has its Stripe twin under
 * the id we recorded, in the status we hold. A refund cancelled before submission, or pending, or
 * rejected by Stripe, must have no twin.
 */
export function stripeAgreementViolations(snap: Snapshot, stripeRefunds: readonly Stripe.Refund[], options: { settled: boolean }): string[] {
  const violations: string[] = [];
  const byOurId = new Map<string, Stripe.Refund[]>();
  for (const remote of stripeRefunds) {
    const ours = remote.metadata?.[REFUND_ID_METADATA_KEY];
    if (ours === undefined) {
      violations.push(`stripe refund ${remote.id} carries no ${REFUND_ID_METADATA_KEY}`);
      continue;
    }
    byOurId.set(ours, [...(byOurId.get(ours) ?? []), remote]);
  }
  const refunds = new Map(snap.refunds.map((r) => [r.id, r]));
  for (const [ours, twins] of byOurId) {
    if (twins.length > 1) violations.push(`${ours}: refunded ${twins.length} times at Stripe (${twins.map((t) => t.id).join(', ')})`);
    const refund = refunds.get(ours);
    if (refund === undefined) violations.push(`${ours}: Stripe holds a refund we have no record of`);
  }
  for (const refund of snap.refunds) {
    if (refund.processor !== 'stripe') continue;
    const twin = byOurId.get(refund.id)?.[0];
    const events = snap.events.get(refund.id) ?? [];
    const wasSubmitted = events.some((e) => e.from_status === 'pending' && e.to_status !== 'cancelled' && /^submitted|^found at/.test(e.detail ?? ''));
    if (refund.external_refund_id !== null && twin !== undefined && refund.external_refund_id !== twin.id) {
      violations.push(`${refund.id}: we recorded ${refund.external_refund_id}, Stripe holds ${twin.id}`);
    }
    if (refund.external_refund_id !== null && twin === undefined) {
      violations.push(`${refund.id}: recorded as ${refund.external_refund_id} but Stripe has no refund of ours`);
    }
    if (!options.settled) continue;
    if (twin === undefined) {
      if (refund.status === 'processing' || refund.status === 'completed' || wasSubmitted) {
        violations.push(`${refund.id}: ${refund.status} (submitted) but Stripe has no refund of ours`);
      }
      continue;
    }
    if (refund.status === 'pending') {
      violations.push(`${refund.id}: still pending after settling, yet Stripe holds ${twin.id}`);
      continue;
    }
    const theirs = mapStripeStatus(twin.status);
    if (theirs !== refund.status) {
      violations.push(`${refund.id}: we hold ${refund.status}, Stripe holds ${String(twin.status)} (${theirs})`);
    }
  }
  return violations;
}

// -------------------------------------------------------------------------------------------
// JSON-RPC 2.0 framing, from the specification, with MCP's one relaxation: an error about a
// request whose id could not be read may leave the id out (JSON-RPC 2.0 writes `"id": null`).

const isId = (v: unknown): boolean => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));

/** Why `line` is not one JSON-RPC 2.0 message, or null when it is. */
export function jsonRpcViolation(line: string): string | null {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'not a JSON object';
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  const keys = Object.keys(m);
  if ('method' in m) {
    if (typeof m.method !== 'string') return 'method is not a string';
    if ('id' in m && !isId(m.id)) return 'request id is neither a string nor an integer';
    if ('params' in m && (typeof m.params !== 'object' || m.params === null)) return 'params is not structured';
    if (keys.some((k) => !['jsonrpc', 'method', 'id', 'params'].includes(k))) return `extra members in a request: ${keys.join(',')}`;
    return null;
  }
  if (!('id' in m) && !('error' in m)) return 'a result without id';
  if ('id' in m && m.id !== null && !isId(m.id)) return 'response id is neither a string, an integer nor null';
  const hasResult = 'result' in m;
  const hasError = 'error' in m;
  if (hasResult === hasError) return 'a response needs exactly one of result and error';
  if (hasError) {
    const error = m.error as Record<string, unknown> | null;
    if (typeof error !== 'object' || error === null) return 'error is not an object';
    if (typeof error.code !== 'number' || !Number.isInteger(error.code)) return 'error.code is not an integer';
    if (typeof error.message !== 'string') return 'error.message is not a string';
  } else if (m.id === null || m.id === undefined) {
    return 'a result with id null';
  }
  if (keys.some((k) => !['jsonrpc', 'id', 'result', 'error'].includes(k))) return `extra members in a response: ${keys.join(',')}`;
  return null;
}

// -------------------------------------------------------------------------------------------
// Secrets and internals that must never reach a caller or a log line

/** Where each secret was found in `texts` (name → labels of the texts holding it). */
export function secretLeaks(secrets: Record<string, string>, texts: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    // The whole secret, and its distinctive tail (a masked prefix is fine; the rest is not).
    const tail = secret.slice(-16);
    for (const [label, text] of Object.entries(texts)) {
      if (text.includes(secret)) leaks.push(`${name} in ${label}`);
      else if (tail.length === 16 && text.includes(tail)) leaks.push(`${name} (its last 16 characters) in ${label}`);
    }
  }
  return leaks;
}

/** Traces of internals in a caller-facing message: stack frames, file paths, raw driver errors. */
export const INTERNALS = /\n\s+at |\bat [^\s]+ \(|node:internal|\/src\/|\/dist\/|node_modules|\bSQLITE_|\bZodError\b|\bTypeError\b|\bRangeError\b|\bReferenceError\b|\bSyntaxError\b|better-sqlite3/;

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// -------------------------------------------------------------------------------------------
// A raw JSON-RPC session with the built stdio server: every byte it writes is kept.

export interface RawSession {
  /** Sends a request and resolves with its response (result or error). */
  request(method: string, params?: unknown): Promise<{ result?: unknown; error?: { code: number; message: string } }>;
  /** tools/call, resolving with the CallToolResult. */
  tool(name: string, args: unknown): Promise<{ isError?: boolean; content: { type: string; text: string }[]; structuredContent?: unknown }>;
  stdout(): string;
  stderr(): string;
  /** Closes stdin and resolves with the exit code. */
  end(): Promise<number | null>;
}

export async function rawSession(child: ChildProcessWithoutNullStreams): Promise<RawSession> {
  let stdout = '';
  let stderr = '';
  let buffered = '';
  let nextId = 1;
  const waiting = new Map<number, (message: { result?: unknown; error?: { code: number; message: string } }) => void>();
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.stdin.on('error', () => undefined);
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const message = JSON.parse(line) as { id?: number; result?: unknown; error?: { code: number; message: string } };
      if (typeof message.id === 'number') waiting.get(message.id)?.(message);
    }
  });
  const request: RawSession['request'] = (method, params) => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} #${id}\nstderr: ${stderr}`)), 20_000);
      waiting.set(id, (message) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(message);
      });
      child.stdin.write(`${JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params })}\n`);
    });
  };
  const session: RawSession = {
    request,
    tool: async (name, args) => {
      const answer = await request('tools/call', { name, arguments: args });
      if (answer.error !== undefined) throw new Error(`tools/call ${name}: ${answer.error.message}`);
      return answer.result as Awaited<ReturnType<RawSession['tool']>>;
    },
    stdout: () => stdout,
    stderr: () => stderr,
    end: () => {
      child.stdin.end();
      return exited;
    },
  };
  const init = await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } });
  if (init.error !== undefined) throw new Error(`initialize failed: ${init.error.message}`);
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return session;
}

// -------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: sends exactly the bytes it is given (any method, any request target,
// any header value, any body), one request per connection, and reads the answer to the end.
// node:http's client refuses much of what an attacker sends (control characters, unescaped
// paths), so the REST reliability tests speak HTTP here.

export interface WireRequest {
  method: string;
  /** The request target exactly as sent: path and query, not escaped further. */
  target: string;
  /** Sent as UTF-8 bytes, in this order. Host and Connection: close are added unless given. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Leave out the Content-Length a body otherwise gets. */
  noContentLength?: boolean;
}

export interface WireResponse {
  status: number;
  /** Lowercased names; a repeated header's values joined with ', '. */
  headers: Record<string, string>;
  /** The body, de-chunked, as UTF-8. */
  body: string;
  /** The head as received (latin1), for searching. */
  head: string;
}

/** One request on its own connection to 127.0.0.1:`port`. */
export function wire(port: number, request: WireRequest, timeoutMs = 15_000): Promise<WireResponse> {
  const headers = request.headers ?? {};
  const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : Buffer.from(request.body);
  let head = `${request.method} ${request.target} HTTP/1.1\r\n`;
  if (!names.has('host')) head += `Host: 127.0.0.1:${port}\r\n`;
  if (!names.has('connection')) head += 'Connection: close\r\n';
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (body !== undefined && request.noContentLength !== true && !names.has('content-length')) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const bytes = body === undefined ? Buffer.from(head, 'utf8') : Buffer.concat([Buffer.from(head, 'utf8'), body]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ port, host: '127.0.0.1' });
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks);
      if (received.length === 0) {
        reject(error ?? new Error(`no answer to ${request.method} ${request.target.slice(0, 100)}`));
        return;
      }
      try {
        resolve(parseResponse(received, request.method === 'HEAD'));
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Stop as soon as a framed answer is complete (a server may keep the socket open).
      if (isComplete(Buffer.concat(chunks), request.method === 'HEAD')) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer and close before reading the whole body (413): what it said counts.
    socket.on('error', (error) => finish(error));
    socket.write(bytes);
  });
}

function splitHead(received: Buffer): { head: string; rest: Buffer } | null {
  const end = received.indexOf('\r\n\r\n');
  if (end === -1) return null;
  return { head: received.subarray(0, end).toString('latin1'), rest: received.subarray(end + 4) };
}

function headerMap(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return null;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function isComplete(received: Buffer, isHead: boolean): boolean {
  const split = splitHead(received);
  if (split === null) return false;
  const headers = headerMap(split.head);
  const status = Number(split.head.slice(9, 12));
  if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) return true;
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked') === true) return dechunk(split.rest) !== null;
  if (headers['content-length'] !== undefined) return split.rest.length >= Number(headers['content-length']);
  return false;
}

function parseResponse(received: Buffer, isHead: boolean): WireResponse {
  const split = splitHead(received);
  if (split === null) throw new Error(`not an HTTP response: ${JSON.stringify(received.subarray(0, 200).toString('latin1'))}`);
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(split.head);
  if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(split.head.slice(0, 100))}`);
  const headers = headerMap(split.head);
  let body = isHead ? Buffer.alloc(0) : split.rest;
  if (!isHead && headers['transfer-encoding']?.toLowerCase().includes('chunked') === true) body = dechunk(split.rest) ?? split.rest;
  else if (!isHead && headers['content-length'] !== undefined) body = split.rest.subarray(0, Number(headers['content-length']));
  return { status: Number(match[1]), headers, body: body.toString('utf8'), head: split.head };
}

/** The JSON-RPC messages of a Streamable HTTP answer: a JSON body, or the data lines of an SSE stream. */
export function rpcMessagesOf(response: WireResponse): string[] {
  if ((response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    return response.body
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .filter((line) => line !== '');
  }
  const body = response.body.trim();
  if (body === '') return [];
  const parsed = JSON.parse(body) as unknown;
  return Array.isArray(parsed) ? parsed.map((message) => JSON.stringify(message)) : [body];
}

// -------------------------------------------------------------------------------------------
// `refundkit-mcp http` as a separate process

export interface HttpProcess {
  child: ChildProcessWithoutNullStreams;
  /** e.g. http://127.0.0.1:43123 */
  url: string;
  port: number;
  stderr(): string;
  /** SIGTERM (a graceful shutdown: requests in flight finish), then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawns the built `http --port 0` with exactly `env` (through spawnServer, so cleanupCli kills it
 * if a test does not stop it) and resolves once it prints its URL.
 */
export function spawnHttp(env: Record<string, string>, args: string[] = []): Promise<HttpProcess> {
  const child = spawnServer(env, ['http', '--port', '0', ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s; stderr: ${stderr}`)), 20_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`http exited (${code}) before listening; stderr: ${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const end = stdout.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      const url = stdout.slice(0, end).trim();
      resolve({
        child,
        url,
        port: Number(new URL(url).port),
        stderr: () => stderr,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random letters and digits: secrets made for one run, so that a leak test cannot match by luck. */
export function randomText(length: number): string {
  return [...randomBytes(length)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}

/** The organizations and keys the secrets tests share. */
export interface TwoOrganizations {
  orgA: string;
  orgB: string;
  /** A live key of A, a test-mode key of A, a key of B, and a key of A revoked at once. */
  keyA: string;
  keyA2: string;
  keyB: string;
  keyRevoked: string;
}

/**
 * Initializes a database through the CLI (`cli` runs one command and returns its last stdout
 * line) with two organizations and their keys, one of them revoked.
 */
export async function twoOrganizations(cli: (args: string[]) => Promise<string>): Promise<TwoOrganizations> {
  await cli(['init']);
  const orgA = await cli(['orgs', 'create', '--name', 'Org A']);
  const orgB = await cli(['orgs', 'create', '--name', 'Org B']);
  const keyA = await cli(['keys', 'create', '--name', 'Test agent', '--org', orgA]);
  const keyA2 = await cli(['keys', 'create', '--name', 'Test agent', '--org', orgA, '--mode', 'test']);
  const keyB = await cli(['keys', 'create', '--name', 'Test agent', '--org', orgB]);
  const keyRevoked = await cli(['keys', 'create', '--name', 'Test agent', '--org', orgA]);
  await cli(['keys', 'revoke', '--key', keyRevoked]);
  return { orgA, orgB, keyA, keyA2, keyB, keyRevoked };
}
