/**
 * A Stripe imitation for tests: a small HTTP server on 127.0.0.1 that answers the refund
 * endpoints the way Stripe does, so that tests run the real `stripe` package against it
 * (`imitation.stripeClient()`, or `new Stripe(key, { host: '127.0.0.1', port, protocol: 'http' })`).
 * Stripe's own mock server cannot be installed here.
 *
 * Endpoints: POST /v1/refunds, GET /v1/refunds, GET /v1/refunds/:id, POST /v1/refunds/:id
 * (metadata), POST /v1/refunds/:id/cancel, and GET /v1/charges/:id and GET
 * /v1/payment_intents/:id (the fields a refund flow reads: amount, amount_refunded, currency,
 * disputed, refunded, payment_intent, latest_charge, status). Everything else is Stripe's 404
 * "Unrecognized request URL". Charges and payment intents exist only through `addCharge`, one
 * succeeded charge per payment intent. The rules (errors, idempotency, statuses) are in
 * stripe-imitation-state.ts.
 *
 * Faults (`failNext`) imitate what goes wrong between us and Stripe. Each one is consumed by the
 * next matching request, in the order they were added:
 * - `status`: answer an error status (500/502/503/429/...) before processing anything, with
 *   `Stripe-Should-Retry` and `Retry-After` if asked. Nothing is saved under the idempotency key.
 * - `hang`: never answer and never process; the client times out.
 * - `reset`: reset the connection (TCP RST) without processing: the client sees ECONNRESET.
 * - `slow`: wait `ms`, then process and answer. The idempotency key is held meanwhile, so a
 *   concurrent request with it gets Stripe's 409 idempotency_key_in_use.
 * - `held`: as `slow`, but held until the test settles `until` (a promise): for a test that must
 *   order events around a request in flight without sleeping. reset() and close() drop it unrun.
 * - `late`: process at once (the refund is created or canceled), answer only after `ms`: the
 *   "Stripe did it but we timed out" case.
 * - `processThenReset`: process, then reset the connection.
 * `heldSettled()` resolves once every slow, held or late request has run and been answered: a test
 * awaits it rather than sleeping for as long as a fault holds.
 *
 * What the real SDK (stripe v23) does with these, worth knowing when writing a test:
 * - It sends an `Idempotency-Key` (`stripe-node-retry-<uuid>`) on every POST, even with
 *   maxNetworkRetries 0, and reuses it on its own retries; a caller's key replaces it.
 * - It retries connection errors, 409 and 5xx up to maxNetworkRetries (sleeping 0.5 s or more
 *   between tries), obeys `Stripe-Should-Retry`, and does not retry a plain 429.
 * - It retries ECONNRESET/EPIPE once even with maxNetworkRetries 0: one `reset` fault is
 *   invisible to the caller; it takes two to surface a StripeConnectionError.
 * - A client timeout is a StripeConnectionError ("Request aborted due to timeout being reached").
 * - Its default http agent keeps connections alive and is shared by every Stripe instance.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Stripe from 'stripe';
import { within } from './waiting.js';
import {
  ImitationState,
  errorBody,
  parseForm,
  stripeId,
  type AddChargeOptions,
  type ApiRequest,
  type ApiResponse,
  type AuthOptions,
  type FormObject,
  type ImitationRefundStatus,
} from './stripe-imitation-state.js';

export {
  REFUND_REASONS,
  REFUND_STATUSES,
  type AddChargeOptions,
  type FormObject,
  type FormValue,
  type ImitationRefundReason,
  type ImitationRefundStatus,
  type RefundBehavior,
} from './stripe-imitation-state.js';

export type Fault =
  | {
      kind: 'status';
      status: number;
      retryAfterSeconds?: number;
      /** Sent as `Stripe-Should-Retry: true|false`; the SDK obeys it over its own rules. */
      shouldRetry?: boolean;
      /** Overrides the error code (default: rate_limit for 429, lock_timeout for 409, none else). */
      code?: string;
      message?: string;
    }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'slow'; ms: number }
  | { kind: 'held'; until: Promise<unknown> }
  | { kind: 'late'; ms: number }
  | { kind: 'processThenReset' };

export type FaultKind = Fault['kind'];

export interface FaultMatch {
  /** e.g. 'POST'; any method when absent. */
  method?: string;
  /** A prefix of the URL path (no query string), or a RegExp tested against it. */
  path?: string | RegExp;
}

export interface LoggedRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** The Idempotency-Key header as sent (the SDK sends one on every POST). */
  idempotencyKey: string | null;
  /** Body parameters for POST, query parameters otherwise, parsed into nested objects. */
  params: FormObject;
  apiKey: string | null;
  stripeVersion: string | null;
  /** The status the imitation answered (or will answer, for a `late` fault); null if none. */
  status: number | null;
  /** False while unanswered, and when the client had gone by the time the answer was written. */
  delivered: boolean;
  fault: FaultKind | null;
  /** True when the answer was a stored response replayed for a repeated idempotency key. */
  replayed: boolean;
}

export interface StripeImitationOptions extends AuthOptions {
  /** Clock for `created` fields and event timestamps, in Unix seconds. */
  now?: () => number;
  /** The key stripeClient() uses by default; generated (`sk_test_imitation_…`) when absent. */
  apiKey?: string;
}

export type StripeClientOptions = Stripe.StripeConfig & {
  apiKey?: string;
  /**
   * Sleep between the SDK's own retries, in ms, instead of its 0.5 s to 5 s backoff. Only for
   * speed: it replaces the instance's getInitialNetworkRetryDelay/getMaxNetworkRetryDelay.
   */
  retryDelayMs?: number;
};

export interface SignedEventOptions {
  id?: string;
  /** The event's `created`, Unix seconds. */
  created?: number;
  /** The signature's timestamp (`t=`), Unix seconds; default now, so the event verifies. */
  timestamp?: number;
  /** `data.previous_attributes`, as in `refund.updated` events. */
  previousAttributes?: Record<string, unknown>;
  apiVersion?: string;
}

export interface ImitationEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Stripe.Refund; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface SignedEvent {
  /** The raw body, exactly as signed: pass it unchanged to constructEvent. */
  payload: string;
  /** The `Stripe-Signature` header value. */
  header: string;
  event: ImitationEvent;
}

export interface StripeImitation {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The API key stripeClient() uses. */
  readonly apiKey: string;
  /** Every request received since start or reset(), oldest first. */
  readonly requests: readonly LoggedRequest[];
  /**
   * The real `stripe` package pointed at the imitation. Defaults: maxNetworkRetries 0 (each call is
   * one request, bar the SDK's single ECONNRESET retry), timeout 5000 ms, telemetry off.
   */
  stripeClient(options?: StripeClientOptions): Stripe;
  addCharge(options: AddChargeOptions): { chargeId: string; paymentIntentId: string };
  /** Marks a charge as disputed (charged back): new refunds of it fail with charge_disputed. */
  disputeCharge(chargeId: string): void;
  /** The charge's amount minus its refunds that did not fail and were not canceled. */
  refundableAmount(chargeId: string): number;
  refund(id: string): Stripe.Refund | undefined;
  /** Every refund, oldest first. */
  refunds(): Stripe.Refund[];
  refundCount(): number;
  setRefundStatus(id: string, status: ImitationRefundStatus, failureReason?: string): Stripe.Refund;
  failNext(count: number, fault: Fault, match?: FaultMatch): void;
  /** How many injected faults are still waiting for a request. */
  pendingFaults(): number;
  /**
   * Resolves once no request is held by a slow, held or late fault: each has run at Stripe and been
   * answered (or was dropped by reset()/close()). A hang's request is not waited for: it never runs.
   * Rejects after `timeoutMs`. What a test awaits instead of sleeping for as long as a fault holds.
   */
  heldSettled(timeoutMs?: number): Promise<void>;
  /** Drops the faults still waiting (say, on an endpoint nothing calls any more); returns how many. */
  dropFaults(): number;
  /** Forgets saved idempotency keys, as Stripe does after 24 hours. */
  forgetIdempotencyKeys(): void;
  /** A webhook event about a refund (object or id), signed with `secret` as Stripe signs it. */
  signedEvent(secret: string, type: string, refund: Stripe.Refund | string, options?: SignedEventOptions): SignedEvent;
  /**
   * Clears charges, refunds, idempotency keys, faults and the request log, and drops requests still
   * held by a hang, slow, held or late fault (their connections are destroyed, a slow or held one never runs).
   */
  reset(): void;
  /** Stops the server, destroying every open connection (hung ones too). */
  close(): Promise<void>;
}

interface FaultRule {
  remaining: number;
  fault: Fault;
  match: FaultMatch;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

function matches(match: FaultMatch, method: string, path: string): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? path.startsWith(match.path) : match.path.test(path);
}

function faultResponse(fault: Extract<Fault, { kind: 'status' }>): ApiResponse {
  const code = fault.code ?? (fault.status === 429 ? 'rate_limit' : fault.status === 409 ? 'lock_timeout' : undefined);
  let message = fault.message;
  if (message === undefined) {
    if (fault.status === 429) {
      message = 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.';
    } else if (fault.status >= 500) {
      message = `An unexpected error occurred (HTTP ${fault.status} injected by the Stripe imitation).`;
    } else {
      message = `The request failed (HTTP ${fault.status} injected by the Stripe imitation).`;
    }
  }
  const type = fault.status >= 500 ? 'api_error' : 'invalid_request_error';
  return {
    status: fault.status,
    body: { error: errorBody(type, message, code === undefined ? {} : { code }) },
    replayed: false,
  };
}

function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

class StripeImitationServer implements StripeImitation {
  readonly url: string;
  readonly requests: LoggedRequest[] = [];
  private readonly state: ImitationState;
  private readonly now: () => number;
  private readonly sockets = new Set<Socket>();
  /** Requests held by a hang, slow, held or late fault, with what stops their answer (if anything). */
  private readonly parked = new Map<Socket, (() => void) | null>();
  private faults: FaultRule[] = [];
  private closing: Promise<void> | null = null;
  /** heldSettled() callers, told each time a held request runs or is dropped. */
  private readonly unparkWatchers = new Set<() => void>();

  constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
    readonly apiKey: string,
    options: StripeImitationOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.state = new ImitationState(this.now, options.apiKeys === undefined ? {} : { apiKeys: options.apiKeys });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
  }

  stripeClient(options: StripeClientOptions = {}): Stripe {
    const { apiKey, retryDelayMs, ...config } = options;
    const client = new Stripe(apiKey ?? this.apiKey, {
      host: '127.0.0.1',
      port: this.port,
      protocol: 'http',
      maxNetworkRetries: 0,
      timeout: 5000,
      telemetry: false,
      ...config,
    });
    if (retryDelayMs !== undefined) {
      const seconds = retryDelayMs / 1000;
      client.getInitialNetworkRetryDelay = () => seconds;
      client.getMaxNetworkRetryDelay = () => seconds;
    }
    return client;
  }

  addCharge(options: AddChargeOptions): { chargeId: string; paymentIntentId: string } {
    const charge = this.state.addCharge(options);
    return { chargeId: charge.id, paymentIntentId: charge.paymentIntentId };
  }

  disputeCharge(chargeId: string): void {
    const charge = this.state.charge(chargeId);
    if (charge === undefined) throw new Error(`disputeCharge: no charge ${chargeId}`);
    charge.disputed = true;
  }

  refundableAmount(chargeId: string): number {
    return this.state.refundableAmount(chargeId);
  }

  refund(id: string): Stripe.Refund | undefined {
    return this.state.refund(id);
  }

  refunds(): Stripe.Refund[] {
    return this.state.refunds();
  }

  refundCount(): number {
    return this.state.refundCount();
  }

  setRefundStatus(id: string, status: ImitationRefundStatus, failureReason?: string): Stripe.Refund {
    return this.state.setRefundStatus(id, status, failureReason);
  }

  failNext(count: number, fault: Fault, match: FaultMatch = {}): void {
    if (!Number.isInteger(count) || count < 1) throw new Error(`failNext: count must be a positive integer, got ${count}`);
    if ((fault.kind === 'slow' || fault.kind === 'late') && !(fault.ms >= 0)) throw new Error(`failNext: ${fault.kind} needs ms >= 0`);
    this.faults.push({ remaining: count, fault, match });
  }

  pendingFaults(): number {
    return this.faults.reduce((sum, rule) => sum + rule.remaining, 0);
  }

  dropFaults(): number {
    const dropped = this.pendingFaults();
    this.faults = [];
    return dropped;
  }

  heldSettled(timeoutMs = 10_000): Promise<void> {
    let watcher = (): void => undefined;
    const settled = new Promise<void>((resolve) => {
      watcher = () => {
        if (this.heldCount() === 0) resolve();
      };
      this.unparkWatchers.add(watcher);
      watcher();
    });
    const what = `the Stripe imitation's requests held by slow, held or late faults (${this.heldCount()} held when asked)`;
    return within(settled, timeoutMs, what).finally(() => this.unparkWatchers.delete(watcher));
  }

  /** Requests a slow, held or late fault holds, still to run or to be answered (hangs aside). */
  private heldCount(): number {
    let held = 0;
    for (const stop of this.parked.values()) if (stop !== null) held += 1;
    return held;
  }

  private unparked(): void {
    for (const watcher of [...this.unparkWatchers]) watcher();
  }

  forgetIdempotencyKeys(): void {
    this.state.forgetIdempotencyKeys();
  }

  signedEvent(secret: string, type: string, refund: Stripe.Refund | string, options: SignedEventOptions = {}): SignedEvent {
    const object = typeof refund === 'string' ? this.state.refund(refund) : refund;
    if (object === undefined) throw new Error(`signedEvent: no refund ${typeof refund === 'string' ? refund : refund.id}`);
    const data: ImitationEvent['data'] = { object };
    if (options.previousAttributes !== undefined) data.previous_attributes = options.previousAttributes;
    const event: ImitationEvent = {
      id: options.id ?? stripeId('evt'),
      object: 'event',
      api_version: options.apiVersion ?? Stripe.API_VERSION,
      created: options.created ?? this.now(),
      data,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    const payload = JSON.stringify(event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: options.timestamp ?? this.now() });
    return { payload, header: signature, event };
  }

  reset(): void {
    // Requests still held by a fault belong to the state being discarded: drop them, so that a
    // slow request from an earlier test can never execute against the fresh state.
    this.releaseParked();
    this.state.reset();
    this.faults = [];
    this.requests.length = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.releaseParked();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  /** Holds a request's connection; with `after` (a delay in ms, or a promise), then runs `fn`. */
  private park(socket: Socket, after?: number | Promise<unknown>, fn?: () => void): void {
    if (after === undefined || fn === undefined) {
      this.parked.set(socket, null);
      socket.once('close', () => this.parked.delete(socket));
      return;
    }
    if (typeof after === 'number') {
      const timer = setTimeout(() => {
        this.parked.delete(socket);
        fn();
        this.unparked();
      }, after);
      this.parked.set(socket, () => clearTimeout(timer));
      return;
    }
    let dropped = false;
    const run = (): void => {
      if (dropped) return;
      this.parked.delete(socket);
      fn();
      this.unparked();
    };
    after.then(run, run);
    this.parked.set(socket, () => {
      dropped = true;
    });
  }

  private releaseParked(): void {
    for (const [socket, stop] of this.parked) {
      stop?.();
      socket.destroy();
    }
    this.parked.clear();
    this.unparked();
  }

  private takeFault(method: string, path: string): Fault | null {
    const rule = this.faults.find((r) => r.remaining > 0 && matches(r.match, method, path));
    if (rule === undefined) return null;
    rule.remaining -= 1;
    if (rule.remaining === 0) this.faults = this.faults.filter((r) => r !== rule);
    return rule.fault;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    // A client that goes away mid-request is a normal event here (timeouts, resets).
    req.on('error', () => undefined);
    res.on('error', () => undefined);
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const params = method === 'POST' ? parseForm(body) : parseForm(url.search.slice(1));
    const authorization = header(req, 'authorization');
    const idempotencyKey = header(req, 'idempotency-key');
    const fault = this.takeFault(method, url.pathname);
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      idempotencyKey,
      params,
      apiKey: /^(?:Bearer)\s+(\S+)/i.exec(authorization ?? '')?.[1] ?? null,
      stripeVersion: header(req, 'stripe-version'),
      status: null,
      delivered: false,
      fault: fault?.kind ?? null,
      replayed: false,
    };
    this.requests.push(entry);
    const request: ApiRequest = {
      method,
      path: url.pathname,
      params,
      authorization: authorization ?? undefined,
      idempotencyKey: method === 'POST' ? idempotencyKey : null,
    };
    const answer = (response: ApiResponse, extraHeaders: Record<string, string> = {}): void => {
      entry.status = response.status;
      entry.replayed = response.replayed;
      this.send(req, res, entry, response, extraHeaders);
    };

    if (fault === null) {
      answer(this.process(request));
      return;
    }
    switch (fault.kind) {
      case 'status': {
        const extra: Record<string, string> = {};
        if (fault.shouldRetry !== undefined) extra['Stripe-Should-Retry'] = String(fault.shouldRetry);
        if (fault.retryAfterSeconds !== undefined) extra['Retry-After'] = String(fault.retryAfterSeconds);
        answer(faultResponse(fault), extra);
        return;
      }
      case 'hang':
        // Never answered; the client's timeout, reset() or close() ends the connection.
        this.park(req.socket);
        return;
      case 'reset':
        resetSocket(req.socket);
        return;
      case 'slow':
      case 'held': {
        const admission = this.state.admit(request);
        this.park(req.socket, fault.kind === 'slow' ? fault.ms : fault.until, () => {
          answer(admission.kind === 'answer' ? admission.response : this.state.execute(admission.ticket));
        });
        return;
      }
      case 'late': {
        const response = this.process(request);
        entry.status = response.status;
        entry.replayed = response.replayed;
        this.park(req.socket, fault.ms, () => answer(response));
        return;
      }
      case 'processThenReset': {
        const response = this.process(request);
        entry.status = response.status;
        entry.replayed = response.replayed;
        resetSocket(req.socket);
        return;
      }
    }
  }

  private process(request: ApiRequest): ApiResponse {
    const admission = this.state.admit(request);
    return admission.kind === 'answer' ? admission.response : this.state.execute(admission.ticket);
  }

  private send(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest, response: ApiResponse, extra: Record<string, string>): void {
    if (req.socket.destroyed || res.writableEnded) return;
    const payload = `${JSON.stringify(response.body, null, 2)}\n`;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(payload)),
      'Request-Id': stripeId('req', 14),
      'Stripe-Version': entry.stripeVersion ?? Stripe.API_VERSION,
      ...extra,
    };
    if (entry.method === 'POST' && entry.idempotencyKey !== null) headers['Idempotency-Key'] = entry.idempotencyKey;
    if (response.replayed) headers['Idempotent-Replayed'] = 'true';
    res.writeHead(response.status, headers);
    res.end(payload);
    entry.delivered = true;
  }
}

/** Starts an imitation on 127.0.0.1 with an ephemeral port. Call close() when done. */
export async function startStripeImitation(options: StripeImitationOptions = {}): Promise<StripeImitation> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const apiKey = options.apiKey ?? `sk_test_imitation_${stripeId('k', 16).slice(2)}`;
  return new StripeImitationServer(server, port, apiKey, options);
}
