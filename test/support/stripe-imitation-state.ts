/**
 * The Stripe imitation's bookkeeping and endpoint logic, with no I/O: charges, refunds, the
 * idempotency records, authentication and the refund endpoints. stripe-imitation.ts turns HTTP
 * into an ApiRequest, asks `admit` and `execute` for an ApiResponse, and writes it back (or,
 * under an injected fault, does not).
 *
 * What is imitated, and from where:
 * - The refund object and its statuses (`pending`, `requires_action`, `succeeded`, `failed`,
 *   `canceled`), typed against the real package's `Stripe.Refund` so a missing or misspelt field
 *   is a compile error. `failure_reason` is absent until a refund fails or is canceled, as in the
 *   SDK's type (`failure_reason?: string`); a canceled refund carries `merchant_request`, as in
 *   Stripe's cancel example.
 * - Errors are `{"error": {type, code, message, param, doc_url}}` with Stripe's statuses: 400
 *   invalid_request_error (amount_too_large, charge_already_refunded, charge_disputed,
 *   parameter_unknown, parameter_missing, ...), 404 resource_missing, 401 for keys, 400
 *   idempotency_error for a key reused with other parameters or another endpoint, 409
 *   idempotency_key_in_use while the first request with the key is still executing.
 * - Idempotency as Stripe documents it: keys are scoped to the API key, only POSTs are
 *   idempotent, the first result is saved and replayed (with `Idempotent-Replayed: true`) once
 *   the endpoint began executing, including its business errors; a request that failed parameter
 *   validation (or authentication) saves nothing, so the key can be used again.
 * - Failed and canceled refunds give their amount back to the charge, as at Stripe.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';

export const REFUND_STATUSES = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const;
export type ImitationRefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
export type ImitationRefundReason = (typeof REFUND_REASONS)[number];

/** The status a new refund of a charge gets (the charge's payment method decides at Stripe). */
export type RefundBehavior = 'succeeded' | 'pending' | 'requires_action' | 'failed';

/** A form or query string parsed with Stripe's bracket notation: `metadata[k]=v`, `expand[0]=x`. */
export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  /** True when this is a stored response replayed for a repeated idempotency key. */
  replayed: boolean;
}

export interface ApiRequest {
  method: string;
  /** The URL path without its query string, e.g. `/v1/refunds/re_123/cancel`. */
  path: string;
  /** Body parameters for POST, query parameters otherwise. */
  params: FormObject;
  authorization: string | undefined;
  idempotencyKey: string | null;
}

export interface ChargeRecord {
  id: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  disputed: boolean;
  refundBehavior: RefundBehavior;
  /** failure_reason given to refunds created failed (refundBehavior 'failed'). */
  failureReason: string;
  created: number;
}

interface RefundRecord {
  id: string;
  seq: number;
  chargeId: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  created: number;
  metadata: Record<string, string>;
  reason: ImitationRefundReason | null;
  status: ImitationRefundStatus;
  failureReason: string | null;
  balanceTransaction: string;
  failureBalanceTransaction: string | null;
  instructionsEmail: string | null;
}

export interface AddChargeOptions {
  /** In minor units, > 0. */
  amount: number;
  currency?: string;
  id?: string;
  paymentIntentId?: string;
  disputed?: boolean;
  refundBehavior?: RefundBehavior;
  /** failure_reason of refunds created with refundBehavior 'failed'; default 'unknown'. */
  failureReason?: string;
}

export interface AuthOptions {
  /** Accepted API keys. Default: any test-mode key (`sk_test_…` or `rk_test_…`). */
  apiKeys?: readonly string[];
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Stripe-looking id: prefix, underscore, 24 alphanumerics (`re_3MmlLrLkdIwHu7ix0uke3Ezy`). */
export function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHANUMERIC[byte % ALPHANUMERIC.length] ?? 'x';
  return `${prefix}_${out}`;
}

/**
 * Thrown by the endpoint logic and turned into a Stripe error response. `executed` tells whether
 * the endpoint had begun executing (its result is then saved under the idempotency key).
 */
export class ImitationApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: StripeErrorBody,
    readonly executed: boolean,
  ) {
    super(error.message);
    this.name = 'ImitationApiError';
  }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;
}

/** A Stripe-shaped error body; coded errors get Stripe's doc_url. */
export function errorBody(type: string, message: string, extra: { code?: string; param?: string } = {}): StripeErrorBody {
  const body: StripeErrorBody = { type, message };
  if (extra.code !== undefined) {
    body.code = extra.code;
    body.doc_url = docUrl(extra.code);
  }
  if (extra.param !== undefined) body.param = extra.param;
  return body;
}

function invalidParam(message: string, param: string, code?: string): ImitationApiError {
  return new ImitationApiError(400, errorBody('invalid_request_error', message, code === undefined ? { param } : { param, code }), false);
}

function noSuch(kind: string, id: string, param: string, executed: boolean): ImitationApiError {
  return new ImitationApiError(
    404,
    errorBody('invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param }),
    executed,
  );
}

function unrecognizedUrl(method: string, path: string): ImitationApiError {
  return new ImitationApiError(
    404,
    errorBody(
      'invalid_request_error',
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    ),
    false,
  );
}

/** Canonical JSON (sorted keys), to compare the parameters of two requests. */
function fingerprint(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${fingerprint(value[k] ?? '')}`).join(',')}}`;
}

function rejectUnknown(params: FormObject, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw invalidParam(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

function optionalString(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(`Invalid string: {...}`, name);
  return value;
}

function positiveInteger(raw: string, param: string, max?: number): number {
  if (!/^-?\d+$/.test(raw)) throw invalidParam(`Invalid integer: ${raw}`, param, 'parameter_invalid_integer');
  const value = Number(raw);
  if (value < 1) throw invalidParam('This value must be greater than or equal to 1.', param);
  if (max !== undefined && value > max) throw invalidParam(`This value must be less than or equal to ${max}.`, param);
  return value;
}

/** Stripe's metadata rules: string values, at most 50 keys of 40 characters, values of 500. */
function parseMetadata(value: FormValue | undefined, current: Record<string, string>): Record<string, string> {
  if (value === undefined) return current;
  // `metadata=` (an empty string) unsets every key.
  if (value === '') return {};
  if (typeof value === 'string') throw invalidParam('Invalid object', 'metadata');
  const next = new Map(Object.entries(current));
  for (const [key, item] of Object.entries(value)) {
    const param = `metadata[${key}]`;
    if (typeof item !== 'string') throw invalidParam('Invalid string: {...}', param);
    if (key.length > 40) throw invalidParam('Metadata keys can have a maximum length of 40 characters.', param);
    if (item.length > 500) throw invalidParam('Metadata values can have a maximum length of 500 characters.', param);
    // An empty value unsets the key.
    if (item === '') next.delete(key);
    else next.set(key, item);
  }
  if (next.size > 50) throw invalidParam('You can have up to 50 metadata keys.', 'metadata');
  return Object.fromEntries(next);
}

function formatAmount(amount: number, currency: string): string {
  const symbol = currency === 'usd' ? '$' : '';
  const suffix = currency === 'usd' ? '' : ` ${currency.toUpperCase()}`;
  return `${symbol}${(amount / 100).toFixed(2)}${suffix}`;
}

function maskKey(key: string): string {
  const visible = key.slice(-4);
  const prefix = /^[a-z]+_[a-z]+_/.exec(key)?.[0] ?? '';
  return `${prefix}${'*'.repeat(Math.max(4, key.length - prefix.length - 4))}${visible}`;
}

/** The API key from an Authorization header: Bearer (what the SDK sends) or Basic (curl -u). */
function apiKeyFrom(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer?.[1] !== undefined) return bearer[1];
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const user = decoded.split(':')[0] ?? '';
    return user === '' ? null : user;
  }
  return null;
}

type Route =
  | { kind: 'charge'; id: string }
  | { kind: 'paymentIntent'; id: string }
  | { kind: 'create' }
  | { kind: 'list' }
  | { kind: 'retrieve'; id: string }
  | { kind: 'update'; id: string }
  | { kind: 'cancel'; id: string };

function decodeId(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function route(method: string, path: string): Route | null {
  const paid = /^\/v1\/(charges|payment_intents)\/([^/]+)\/?$/.exec(path);
  if (paid?.[1] !== undefined && paid[2] !== undefined && method === 'GET') {
    const id = decodeId(paid[2]);
    if (id === null) return null;
    return paid[1] === 'charges' ? { kind: 'charge', id } : { kind: 'paymentIntent', id };
  }
  if (path === '/v1/refunds' || path === '/v1/refunds/') {
    if (method === 'POST') return { kind: 'create' };
    if (method === 'GET') return { kind: 'list' };
    return null;
  }
  const match = /^\/v1\/refunds\/([^/]+)(\/cancel)?\/?$/.exec(path);
  if (match?.[1] === undefined) return null;
  const id = decodeId(match[1]);
  if (id === null) return null;
  if (match[2] !== undefined) return method === 'POST' ? { kind: 'cancel', id } : null;
  if (method === 'GET') return { kind: 'retrieve', id };
  if (method === 'POST') return { kind: 'update', id };
  return null;
}

interface IdempotencyEntry {
  method: string;
  path: string;
  fingerprint: string;
  /** null while the first request with the key is still executing. */
  response: ApiResponse | null;
}

/** What `admit` decided: answer at once, or execute (possibly later, for a slow request). */
export type Admission = { kind: 'answer'; response: ApiResponse } | { kind: 'execute'; ticket: Ticket };

export interface Ticket {
  readonly route: Route;
  readonly request: ApiRequest;
  /** The idempotency slot this execution holds (reserved in admit), or null. */
  readonly slot: string | null;
}

export class ImitationState {
  private readonly charges = new Map<string, ChargeRecord>();
  private readonly chargeByPaymentIntent = new Map<string, string>();
  private readonly refundsById = new Map<string, RefundRecord>();
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private seq = 0;

  constructor(
    private readonly now: () => number,
    private readonly auth: AuthOptions = {},
  ) {}

  reset(): void {
    this.charges.clear();
    this.chargeByPaymentIntent.clear();
    this.refundsById.clear();
    this.idempotency.clear();
  }

  /** Stripe prunes idempotency keys after 24 hours; this forgets them all now. */
  forgetIdempotencyKeys(): void {
    for (const [slot, entry] of this.idempotency) {
      if (entry.response !== null) this.idempotency.delete(slot);
    }
  }

  addCharge(options: AddChargeOptions): ChargeRecord {
    if (!Number.isInteger(options.amount) || options.amount <= 0) {
      throw new Error(`addCharge: amount must be a positive integer (minor units), got ${options.amount}`);
    }
    const id = options.id ?? stripeId('ch');
    const paymentIntentId = options.paymentIntentId ?? stripeId('pi');
    if (this.charges.has(id)) throw new Error(`addCharge: charge ${id} already exists`);
    if (this.chargeByPaymentIntent.has(paymentIntentId)) throw new Error(`addCharge: payment intent ${paymentIntentId} already exists`);
    const charge: ChargeRecord = {
      id,
      paymentIntentId,
      amount: options.amount,
      currency: (options.currency ?? 'usd').toLowerCase(),
      disputed: options.disputed ?? false,
      refundBehavior: options.refundBehavior ?? 'succeeded',
      failureReason: options.failureReason ?? 'unknown',
      created: this.now(),
    };
    this.charges.set(id, charge);
    this.chargeByPaymentIntent.set(paymentIntentId, id);
    return charge;
  }

  charge(id: string): ChargeRecord | undefined {
    return this.charges.get(id);
  }

  /** What is left to refund: failed and canceled refunds give their amount back. */
  refundableAmount(chargeId: string): number {
    const charge = this.charges.get(chargeId);
    if (charge === undefined) throw new Error(`no charge ${chargeId}`);
    let refunded = 0;
    for (const refund of this.refundsById.values()) {
      if (refund.chargeId === chargeId && refund.status !== 'failed' && refund.status !== 'canceled') refunded += refund.amount;
    }
    return charge.amount - refunded;
  }

  /** Every refund, oldest first. */
  refunds(): Stripe.Refund[] {
    return this.sortedRefunds('oldest').map((r) => this.render(r));
  }

  refundCount(): number {
    return this.refundsById.size;
  }

  refund(id: string): Stripe.Refund | undefined {
    const record = this.refundsById.get(id);
    return record === undefined ? undefined : this.render(record);
  }

  /**
   * Moves a refund to any status, as Stripe does on its own (a card refund that succeeded and
   * fails days later; a requires_action refund the customer completes).
   */
  setRefundStatus(id: string, status: ImitationRefundStatus, failureReason?: string): Stripe.Refund {
    const record = this.refundsById.get(id);
    if (record === undefined) throw new Error(`setRefundStatus: no refund ${id}`);
    record.status = status;
    if (status === 'failed' || status === 'canceled') {
      record.failureReason = failureReason ?? (status === 'canceled' ? 'merchant_request' : 'unknown');
      record.failureBalanceTransaction ??= stripeId('txn');
    } else {
      record.failureReason = null;
      record.failureBalanceTransaction = null;
    }
    return this.render(record);
  }

  /**
   * Decides what to do with a request before it runs: authentication, routing, and the
   * idempotency check (replay, conflict, key in use). For a POST with a new key, reserves the key
   * until `execute` finishes, so that a concurrent request with it gets 409.
   */
  admit(request: ApiRequest): Admission {
    const authError = this.authenticate(request.authorization);
    if (authError !== null) return { kind: 'answer', response: authError };
    const found = route(request.method, request.path);
    if (found === null) return { kind: 'answer', response: errorResponse(unrecognizedUrl(request.method, request.path)) };
    const apiKey = apiKeyFrom(request.authorization) ?? '';
    if (request.method !== 'POST' || request.idempotencyKey === null) {
      return { kind: 'execute', ticket: { route: found, request, slot: null } };
    }
    const key = request.idempotencyKey;
    const slot = `${apiKey}\u0000${key}`;
    const print = fingerprint(request.params);
    const entry = this.idempotency.get(slot);
    if (entry === undefined) {
      this.idempotency.set(slot, { method: request.method, path: request.path, fingerprint: print, response: null });
      return { kind: 'execute', ticket: { route: found, request, slot } };
    }
    if (entry.response === null) {
      return {
        kind: 'answer',
        response: errorResponse(
          new ImitationApiError(
            409,
            errorBody(
              'idempotency_error',
              `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
              { code: 'idempotency_key_in_use' },
            ),
            false,
          ),
        ),
      };
    }
    if (entry.path !== request.path || entry.method !== request.method) {
      return {
        kind: 'answer',
        response: errorResponse(
          new ImitationApiError(
            400,
            errorBody(
              'idempotency_error',
              `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.method} ${entry.path}' vs '${request.method} ${request.path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
            false,
          ),
        ),
      };
    }
    if (entry.fingerprint !== print) {
      return {
        kind: 'answer',
        response: errorResponse(
          new ImitationApiError(
            400,
            errorBody(
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
            false,
          ),
        ),
      };
    }
    return { kind: 'answer', response: { ...entry.response, replayed: true } };
  }

  /** Runs an admitted request and settles its idempotency slot. */
  execute(ticket: Ticket): ApiResponse {
    let response: ApiResponse;
    let executed: boolean;
    try {
      response = { status: 200, body: this.run(ticket.route, ticket.request.params), replayed: false };
      executed = true;
    } catch (error) {
      if (!(error instanceof ImitationApiError)) throw error;
      response = errorResponse(error);
      executed = error.executed;
    }
    if (ticket.slot !== null) {
      const entry = this.idempotency.get(ticket.slot);
      if (executed && entry !== undefined) entry.response = response;
      else this.idempotency.delete(ticket.slot);
    }
    return response;
  }

  private authenticate(authorization: string | undefined): ApiResponse | null {
    const key = apiKeyFrom(authorization);
    if (key === null) {
      return errorResponse(
        new ImitationApiError(
          401,
          errorBody(
            'invalid_request_error',
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
          ),
          false,
        ),
      );
    }
    const accepted = this.auth.apiKeys === undefined ? /^(sk|rk)_test_\S+$/.test(key) : this.auth.apiKeys.includes(key);
    if (accepted) return null;
    return errorResponse(
      new ImitationApiError(401, errorBody('invalid_request_error', `Invalid API Key provided: ${maskKey(key)}`), false),
    );
  }

  private run(found: Route, params: FormObject): unknown {
    switch (found.kind) {
      case 'charge':
        rejectUnknown(params, ['expand']);
        return this.renderCharge(found.id);
      case 'paymentIntent':
        rejectUnknown(params, ['client_secret', 'expand']);
        return this.renderPaymentIntent(found.id);
      case 'create':
        return this.create(params);
      case 'list':
        return this.list(params);
      case 'retrieve':
        rejectUnknown(params, ['expand']);
        return this.render(this.find(found.id, 'id', false));
      case 'update':
        return this.update(found.id, params);
      case 'cancel':
        return this.cancel(found.id, params);
    }
  }

  private find(id: string, param: string, executed: boolean): RefundRecord {
    const record = this.refundsById.get(id);
    if (record === undefined) throw noSuch('refund', id, param, executed);
    return record;
  }

  private create(params: FormObject): Stripe.Refund {
    // Parameter validation: nothing is saved under the idempotency key if this fails.
    rejectUnknown(params, [
      'amount',
      'charge',
      'currency',
      'customer',
      'expand',
      'instructions_email',
      'metadata',
      'origin',
      'payment_intent',
      'reason',
      'refund_application_fee',
      'reverse_transfer',
    ]);
    const chargeParam = optionalString(params, 'charge');
    const intentParam = optionalString(params, 'payment_intent');
    if ((chargeParam ?? '') === '' && (intentParam ?? '') === '') {
      throw invalidParam(
        'One of the following parameters should be provided for this request: charge or payment_intent.',
        'charge',
        'parameter_missing',
      );
    }
    const rawAmount = optionalString(params, 'amount');
    const amount = rawAmount === undefined ? undefined : positiveInteger(rawAmount, 'amount');
    const rawReason = optionalString(params, 'reason');
    let reason: ImitationRefundReason | null = null;
    if (rawReason !== undefined && rawReason !== '') {
      const known = REFUND_REASONS.find((r) => r === rawReason);
      if (known === undefined) {
        throw invalidParam('Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer', 'reason');
      }
      reason = known;
    }
    const metadata = parseMetadata(params.metadata, {});
    const instructionsEmail = optionalString(params, 'instructions_email') ?? null;

    // From here on the endpoint executes: its result, error or not, is saved for the key.
    let charge: ChargeRecord | undefined;
    if (chargeParam !== undefined && chargeParam !== '') {
      charge = this.charges.get(chargeParam);
      if (charge === undefined) throw noSuch('charge', chargeParam, 'charge', true);
    }
    if (intentParam !== undefined && intentParam !== '') {
      const chargeId = this.chargeByPaymentIntent.get(intentParam);
      if (chargeId === undefined) throw noSuch('payment_intent', intentParam, 'payment_intent', true);
      if (charge !== undefined && charge.id !== chargeId) {
        throw new ImitationApiError(
          400,
          errorBody('invalid_request_error', `The charge ${charge.id} does not belong to the PaymentIntent ${intentParam}.`, {
            param: 'charge',
          }),
          true,
        );
      }
      charge = this.charges.get(chargeId);
    }
    if (charge === undefined) throw new Error('unreachable: a charge or payment intent was checked above');
    const currency = optionalString(params, 'currency');
    if (currency !== undefined && currency.toLowerCase() !== charge.currency) {
      throw new ImitationApiError(
        400,
        errorBody('invalid_request_error', `The currency must match the charge's currency (${charge.currency}).`, { param: 'currency' }),
        true,
      );
    }
    if (charge.disputed) {
      throw new ImitationApiError(
        400,
        errorBody('invalid_request_error', `Charge ${charge.id} has been charged back; cannot issue a refund.`, {
          code: 'charge_disputed',
        }),
        true,
      );
    }
    const remaining = this.refundableAmount(charge.id);
    if (remaining <= 0) {
      throw new ImitationApiError(
        400,
        errorBody('invalid_request_error', `Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' }),
        true,
      );
    }
    const refundAmount = amount ?? remaining;
    if (refundAmount > remaining) {
      throw new ImitationApiError(
        400,
        errorBody(
          'invalid_request_error',
          `Refund amount (${formatAmount(refundAmount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
          { code: 'amount_too_large', param: 'amount' },
        ),
        true,
      );
    }
    const status: ImitationRefundStatus = charge.refundBehavior;
    const record: RefundRecord = {
      id: stripeId('re'),
      seq: ++this.seq,
      chargeId: charge.id,
      paymentIntentId: charge.paymentIntentId,
      amount: refundAmount,
      currency: charge.currency,
      created: this.now(),
      metadata,
      reason,
      status,
      failureReason: status === 'failed' ? charge.failureReason : null,
      balanceTransaction: stripeId('txn'),
      failureBalanceTransaction: status === 'failed' ? stripeId('txn') : null,
      instructionsEmail,
    };
    this.refundsById.set(record.id, record);
    return this.render(record);
  }

  private update(id: string, params: FormObject): Stripe.Refund {
    rejectUnknown(params, ['expand', 'metadata']);
    const record = this.find(id, 'id', false);
    record.metadata = parseMetadata(params.metadata, record.metadata);
    return this.render(record);
  }

  private cancel(id: string, params: FormObject): Stripe.Refund {
    rejectUnknown(params, ['expand']);
    const record = this.find(id, 'id', false);
    if (record.status !== 'requires_action') {
      throw new ImitationApiError(
        400,
        errorBody(
          'invalid_request_error',
          `You can't cancel a refund with status \`${record.status}\`. Only refunds with status \`requires_action\` can be canceled.`,
        ),
        true,
      );
    }
    return this.setRefundStatus(record.id, 'canceled', 'merchant_request');
  }

  private list(params: FormObject): Stripe.ApiList<Stripe.Refund> {
    rejectUnknown(params, ['charge', 'created', 'ending_before', 'expand', 'limit', 'payment_intent', 'starting_after']);
    const rawLimit = optionalString(params, 'limit');
    const limit = rawLimit === undefined ? 10 : positiveInteger(rawLimit, 'limit', 100);
    const chargeFilter = optionalString(params, 'charge');
    const intentFilter = optionalString(params, 'payment_intent');
    const startingAfter = optionalString(params, 'starting_after');
    const endingBefore = optionalString(params, 'ending_before');
    let all = this.sortedRefunds('newest').filter(
      (r) => (chargeFilter === undefined || r.chargeId === chargeFilter) && (intentFilter === undefined || r.paymentIntentId === intentFilter),
    );
    let data: RefundRecord[];
    let hasMore: boolean;
    if (endingBefore !== undefined) {
      const cursor = this.find(endingBefore, 'ending_before', false);
      all = all.filter((r) => r.seq > cursor.seq);
      data = all.slice(Math.max(0, all.length - limit));
      hasMore = all.length > limit;
    } else {
      if (startingAfter !== undefined) {
        const cursor = this.find(startingAfter, 'starting_after', false);
        all = all.filter((r) => r.seq < cursor.seq);
      }
      data = all.slice(0, limit);
      hasMore = all.length > limit;
    }
    return { object: 'list', data: data.map((r) => this.render(r)), has_more: hasMore, url: '/v1/refunds' };
  }

  private sortedRefunds(order: 'newest' | 'oldest'): RefundRecord[] {
    const sign = order === 'newest' ? -1 : 1;
    return [...this.refundsById.values()].sort((a, b) => sign * (a.seq - b.seq));
  }

  /** The fields of Stripe's charge object a refund flow reads (not the whole object). */
  private renderCharge(id: string): Record<string, unknown> {
    const charge = this.charges.get(id);
    if (charge === undefined) throw noSuch('charge', id, 'id', false);
    const refunded = charge.amount - this.refundableAmount(id);
    return {
      id: charge.id,
      object: 'charge',
      amount: charge.amount,
      amount_captured: charge.amount,
      amount_refunded: refunded,
      captured: true,
      created: charge.created,
      currency: charge.currency,
      customer: null,
      description: null,
      disputed: charge.disputed,
      livemode: false,
      metadata: {},
      paid: true,
      payment_intent: charge.paymentIntentId,
      refunded: refunded === charge.amount,
      status: 'succeeded',
    };
  }

  /** The fields of Stripe's payment intent object a refund flow reads (not the whole object). */
  private renderPaymentIntent(id: string): Record<string, unknown> {
    const chargeId = this.chargeByPaymentIntent.get(id);
    const charge = chargeId === undefined ? undefined : this.charges.get(chargeId);
    if (charge === undefined) throw noSuch('payment_intent', id, 'intent', false);
    return {
      id: charge.paymentIntentId,
      object: 'payment_intent',
      amount: charge.amount,
      amount_received: charge.amount,
      capture_method: 'automatic',
      created: charge.created,
      currency: charge.currency,
      customer: null,
      latest_charge: charge.id,
      livemode: false,
      metadata: {},
      payment_method_types: ['card'],
      status: 'succeeded',
    };
  }

  private render(r: RefundRecord): Stripe.Refund {
    const refund: Stripe.Refund = {
      id: r.id,
      object: 'refund',
      amount: r.amount,
      balance_transaction: r.balanceTransaction,
      charge: r.chargeId,
      created: r.created,
      currency: r.currency,
      customer: null,
      customer_account: null,
      metadata: { ...r.metadata },
      payment_intent: r.paymentIntentId,
      payment_method: null,
      reason: r.reason,
      receipt_number: null,
      source_transfer_reversal: null,
      status: r.status,
      transfer_reversal: null,
    };
    if (r.failureReason !== null) refund.failure_reason = r.failureReason;
    if (r.failureBalanceTransaction !== null) refund.failure_balance_transaction = r.failureBalanceTransaction;
    if (r.instructionsEmail !== null) refund.instructions_email = r.instructionsEmail;
    if (r.status === 'pending') refund.pending_reason = 'processing';
    if (r.status === 'requires_action') {
      refund.next_action = {
        type: 'display_details',
        display_details: {
          email_sent: { email_sent_at: r.created, email_sent_to: r.instructionsEmail ?? 'customer@example.com' },
          expires_at: r.created + 45 * 24 * 3600,
        },
      };
    }
    return refund;
  }
}

export function errorResponse(error: ImitationApiError): ApiResponse {
  return { status: error.status, body: { error: error.error }, replayed: false };
}

/** Parses a urlencoded form or query string with Stripe's bracket notation into nested objects. */
export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const match = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    const path =
      match?.[1] === undefined
        ? [rawKey]
        : [match[1], ...[...(match[2] ?? '').matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '')];
    let node: FormObject = root;
    for (let i = 0; i < path.length; i++) {
      let segment = path[i] ?? '';
      // `expand[]=x` appends, like an indexed array.
      if (segment === '') segment = String(Object.keys(node).length);
      if (i === path.length - 1) {
        node[segment] = value;
      } else {
        const child = node[segment];
        if (child === undefined || typeof child === 'string') {
          const created: FormObject = {};
          node[segment] = created;
          node = created;
        } else {
          node = child;
        }
      }
    }
  }
  return root;
}
