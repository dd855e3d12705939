/**
 * What the reliability tests check after every storm: a fingerprint of the rows (to prove nothing
 * changed), the refund invariants (one legal status, reached by legal moves that replay to it),
 * agreement with the Stripe imitation (at most one Stripe refund per refund of ours, the same
 * status once settled), JSON-RPC 2.0 framing, and secrets that must never appear.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type Stripe from 'stripe';
import { canTransition, isRefundStatus, type RefundStatus } from '../../src/domain/refund.js';
import { mapStripeStatus, REFUND_ID_METADATA_KEY } from '../../src/processors/stripe.js';

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

/** SHA-256 of every row of refunds and refund_events (all columns), in id order. */
export function rowsFingerprint(db: Db | string): string {
  return withDb(db, (conn) => {
    const refunds = conn.prepare('SELECT * FROM refunds ORDER BY id').all();
    const events = conn.prepare('SELECT * FROM refund_events ORDER BY id').all();
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
 * where the previous ended and is legal by canTransition, and the last one ends at the stored
 * status; events belong to the refund's organization; no event points at a missing refund.
 * Returns the violations (empty when all hold).
 */
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
      if (index > 0 && at !== null && !canTransition(at, to)) violations.push(`${refund.id}: illegal move ${at} -> ${to} (event ${event.id})`);
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
