/**
 * Adversarial input for property-based tests (fast-check), shared by every edge that validates
 * input: the MCP tools today, the REST routes next. Two layers:
 *
 * - primitives: strings, numbers and values an attacker or a confused agent sends (huge strings,
 *   unicode edge cases, control characters, SQL and JSON fragments, prototype-pollution keys,
 *   NaN/Infinity/-0/unsafe integers, ids of the wrong shape, non-objects);
 * - per-operation field specs (FIELDS, OPERATIONS): for each field, values that are valid and
 *   values that are invalid BY CONSTRUCTION (checked against an independent oracle written here,
 *   not against the product's own schemas), so that `invalidCall(op)` yields arguments with
 *   exactly one fault and the name of the field an error message must mention.
 *
 * A REST route reuses the same specs: the body of POST /v1/refunds is `create` minus
 * idempotencyKey, GET /v1/refunds takes `list` as a query string (see `asQueryValue`), and
 * `adversarialPathSegment` feeds `:id`.
 */
import fc from 'fast-check';

// -------------------------------------------------------------------------------------------
// Run sizes

/** REFUNDKIT_SOAK=1 runs the long versions (more cases, iterations, time). */
export const SOAK = process.env.REFUNDKIT_SOAK === '1' || process.env.REFUNDKIT_SOAK === 'true';

/** The fixed seed of every property in the default run; REFUNDKIT_SEED overrides it to explore. */
export const SEED = Number.isSafeInteger(Number(process.env.REFUNDKIT_SEED)) && process.env.REFUNDKIT_SEED !== undefined
  ? Number(process.env.REFUNDKIT_SEED)
  : 20_260_301;

/** `quick` normally, `soak` under REFUNDKIT_SOAK=1. */
export function runs(quick: number, soak: number): number {
  return SOAK ? soak : quick;
}

// -------------------------------------------------------------------------------------------
// Independent oracles: the contract's rules, written again here from the reference.

export const REFUND_ID = /^ref_[a-z0-9]{12}$/;
const TRANSACTION_ID = /^(ch|pi)_[A-Za-z0-9_]{1,250}$/;
const CURRENCY = /^[A-Za-z]{3}$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,255}$/;
const PROCESSOR = /^[a-z][a-z0-9_]{0,31}$/;
export const STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export const REASONS = [
  'duplicate_charge',
  'fraudulent',
  'requested_by_customer',
  'product_defective',
  'product_not_received',
  'other',
] as const;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** An object literal or JSON object; fast-check also makes them with a null prototype. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isMetadata(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const keys = Reflect.ownKeys(v);
  if (keys.length > 48) return false;
  return keys.every((key) => {
    if (typeof key !== 'string') return false;
    const value: unknown = v[key];
    return (
      key.length >= 1 &&
      key.length <= 40 &&
      !/[[\]]/.test(key) &&
      !key.startsWith('refundkit_') &&
      key !== '__proto__' &&
      isString(value) &&
      value.length <= 500
    );
  });
}

/** Whether a field's value is acceptable (undefined meaning "absent"). */
export const VALID: Record<FieldName, (v: unknown) => boolean> = {
  refundId: (v) => isString(v) && REFUND_ID.test(v),
  transactionId: (v) => isString(v) && TRANSACTION_ID.test(v),
  amount: (v) => isInt(v) && v >= 1 && v <= 99_999_999,
  currency: (v) => v === undefined || (isString(v) && CURRENCY.test(v)),
  reason: (v) => isString(v) && (REASONS as readonly string[]).includes(v),
  metadata: (v) => v === undefined || isMetadata(v),
  idempotencyKey: (v) => v === undefined || (isString(v) && IDEMPOTENCY_KEY.test(v)),
  status: (v) => v === undefined || (isString(v) && (STATUSES as readonly string[]).includes(v)),
  processor: (v) => v === undefined || (isString(v) && PROCESSOR.test(v)),
  limit: (v) => v === undefined || (isInt(v) && v >= 1 && v <= 100),
  offset: (v) => v === undefined || (isInt(v) && v >= 0),
};

/** Whether a whole argument object is a valid call of `op` (the oracle for random junk). */
export function isValidCall(op: Operation, args: unknown, options: CallOptions = {}): boolean {
  if (!isPlainObject(args)) return false;
  const spec = fieldsOf(op, options);
  const keys = Reflect.ownKeys(args);
  if (!keys.every((key) => typeof key === 'string' && spec.some((f) => f.name === key))) return false;
  return spec.every((field) => {
    const value: unknown = args[field.name];
    if (value === undefined) return !field.required && !Object.prototype.hasOwnProperty.call(args, field.name);
    return VALID[field.name](value);
  });
}

// -------------------------------------------------------------------------------------------
// Primitives

export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupSetter__',
  'isPrototypeOf',
] as const;

export const SQL_FRAGMENTS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE refunds; --",
  "ref_abc' UNION SELECT key_hash FROM api_keys --",
  '" OR ""="',
  '%',
  '_',
  '\\',
  'NULL',
  "'); DELETE FROM refund_events; --",
  '1; UPDATE refunds SET status=\'completed\'',
  "' AND sqlite_version() --",
  'ref_%',
  "ref_aaaaaaaaaaa'",
] as const;

export const JSON_FRAGMENTS = [
  '{',
  '}',
  '[',
  '{"a":1}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '"',
  '\\"',
  '\\u0000',
  'null',
  'true',
  '1e309',
  '[[[[[[[[[[',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
] as const;

export const UNICODE_EDGES = [
  '\u0000',
  '\n',
  '\r\n',
  '\t',
  '\u2028',
  '\u2029',
  '\uFEFF',
  '\u202E',
  '\u200B',
  '\uD800',
  '\uDFFF',
  '\uD83D\uDCB8',
  '👩‍👩‍👧‍👦',
  'Ω',
  'ﬀ',
  'İ',
  'ß',
  '\u0301',
  'ｒｅｆ＿',
  'ЯЕФ',
  '\u00A0',
] as const;

/** Strings of any kind: small and huge, ascii and full unicode, fragments and edge characters. */
export const adversarialString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SQL_FRAGMENTS) },
  { weight: 2, arbitrary: fc.constantFrom(...JSON_FRAGMENTS) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...UNICODE_EDGES), { minLength: 1, maxLength: 6 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom(' ', '   ', '\t\n') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1_000, max: 300_000 }), fc.constantFrom('x', 'é', '🙂', '\u0000', "'", 'ref_'))
      .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length))),
  },
);

/** Numbers a careless or hostile caller sends as amounts, limits and offsets. */
export const adversarialNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    -1,
    0.5,
    1.5,
    0.1 + 0.2,
    99_999_999.5,
    100_000_000,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.EPSILON,
    1e21,
    -1e21,
  ),
  fc.integer(),
  fc.double(),
);

/** A value of any JSON type (and then some), for a field or the whole arguments. */
export function adversarialValue(options: { wire?: boolean } = {}): fc.Arbitrary<unknown> {
  const scalars: fc.Arbitrary<unknown>[] = [adversarialString, adversarialNumber, fc.boolean(), fc.constant(null)];
  if (options.wire !== true) scalars.push(fc.bigInt(), fc.constant(new Date(0)));
  const scalar = fc.oneof(...scalars);
  return fc.oneof(
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.dictionary(adversarialString.filter((s) => s.length < 100), scalar, { maxKeys: 5 }) },
    { weight: 1, arbitrary: objectWithKey(fc.constantFrom(...PROTOTYPE_KEYS), scalar) },
    { weight: 1, arbitrary: deeplyNested() },
  );
}

/** `{ [key]: value }` as an own, enumerable property, even for '__proto__' (as JSON.parse makes it). */
export function objectWithKey(key: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(key, value).map(([k, v]) => defineOwn({}, k, v));
}

export function defineOwn<T extends object>(target: T, key: string, value: unknown): T {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** Objects and arrays nested hundreds to thousands of levels deep. */
export function deeplyNested(): fc.Arbitrary<unknown> {
  return fc.tuple(fc.integer({ min: 50, max: 3_000 }), fc.boolean()).map(([depth, arrays]) => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i += 1) value = arrays ? [value] : { a: value };
    return value;
  });
}

/** Arguments that are not a JSON object at all. */
export const nonObject: fc.Arbitrary<unknown> = fc.oneof(
  adversarialString,
  adversarialNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(adversarialString, adversarialNumber), { maxLength: 4 }),
);

/** Refund ids of every wrong shape: near misses first (one character off), then anything. */
export const malformedRefundId: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.stringMatching(/^[a-z0-9]{12}$/),
        fc.constantFrom('upper', 'short', 'long', 'prefix', 'symbol', 'space', 'unicode', 'newline', 'sql'),
        fc.nat(11),
      )
      .map(([body, how, at]) => {
        switch (how) {
          case 'upper':
            return `ref_${body.slice(0, at)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.charAt(at)}${body.slice(at + 1)}`;
          case 'short':
            return `ref_${body.slice(0, at)}`;
          case 'long':
            return `ref_${body}${'a'.repeat(at + 1)}`;
          case 'prefix':
            return (['REF_', 'ref-', 'rf_', 're_', 'ref__', '_ref_', ' ref_'][at % 7] ?? 'REF_') + body;
          case 'symbol':
            return `ref_${body.slice(0, at)}${"-_.'%/\\;"[at % 9] ?? '-'}${body.slice(at + 1)}`;
          case 'space':
            return at % 2 === 0 ? `ref_${body} ` : ` ref_${body}`;
          case 'unicode':
            return `ref_${body.slice(0, at)}${UNICODE_EDGES[at % UNICODE_EDGES.length] ?? 'é'}${body.slice(at + 1)}`;
          case 'newline':
            return `ref_${body}\n`;
          default:
            return `ref_${body.slice(0, 6)}' OR '1'='1`;
        }
      }),
  },
  { weight: 3, arbitrary: adversarialString },
  { weight: 2, arbitrary: adversarialValue() },
).filter((v) => !(typeof v === 'string' && REFUND_ID.test(v)));

/** A refund id of the right shape, not one of `known`. */
export function unknownRefundId(known: readonly string[]): fc.Arbitrary<string> {
  const taken = new Set(known);
  return fc.stringMatching(/^ref_[a-z0-9]{12}$/).filter((id) => !taken.has(id));
}

/**
 * A string as one percent-encoded path segment: every byte of its UTF-8 form outside the
 * unreserved set is %XX. Unlike encodeURIComponent it never throws: a lone surrogate goes out as
 * the three bytes it would take (WTF-8), which no server can decode as UTF-8.
 */
export function encodePathSegment(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    let code = unit;
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
        i += 1;
      }
    }
    if (code < 0x80 && /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(code))) {
      out += String.fromCharCode(code);
      continue;
    }
    const bytes: number[] = [];
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    for (const byte of bytes) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Path segments for REST routes that take an id (`/v1/refunds/:id`), none of them a valid id. */
export const adversarialPathSegment: fc.Arbitrary<string> = fc
  .oneof(
    malformedRefundId.filter((v): v is string => typeof v === 'string' && v.length < 2_000),
    fc.constantFrom('..', '%2e%2e', '..%2f..%2f', '%00', 'ref_%00abcdefghij', '%252e', '.', '~', 'ref_abcdefabcdef%0a', 'ref_abcdefabcdef;'),
  )
  .map((s) => encodePathSegment(s))
  // An empty segment is another route (/v1/refunds/), not an id.
  .filter((s) => s !== '');

// -------------------------------------------------------------------------------------------
// Fields and operations

export type FieldName =
  | 'refundId'
  | 'transactionId'
  | 'amount'
  | 'currency'
  | 'reason'
  | 'metadata'
  | 'idempotencyKey'
  | 'status'
  | 'processor'
  | 'limit'
  | 'offset';

export interface FieldSpec {
  name: FieldName;
  required: boolean;
  /** Values the contract accepts. */
  valid: fc.Arbitrary<unknown>;
  /** Values it refuses, whether sent over the wire (JSON) or in memory. */
  invalid: fc.Arbitrary<unknown>;
}

/** Any value but those `ok` accepts; undefined excluded (absent is a separate case). */
function invalidFor(name: FieldName, specific: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .oneof({ weight: 3, arbitrary: specific }, { weight: 2, arbitrary: adversarialValue() })
    .filter((v) => v !== undefined && !VALID[name](v) && !VALID[name](wireForm(v)));
}

const metadataKey = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/).filter((k) => !k.startsWith('refundkit_') && k !== '__proto__');
const validMetadata = fc.dictionary(metadataKey, fc.string({ maxLength: 60 }), { maxKeys: 6 });

/** Metadata broken in one way: a bad key, a bad value, too many keys, or not an object. */
const invalidMetadata: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(validMetadata, fc.oneof(
    fc.constantFrom('', 'refundkit_refund_id', 'refundkit_x', 'a[b]', '[', ']', 'x'.repeat(41), '__proto__'),
    fc.string({ minLength: 41, maxLength: 80 }),
  ), fc.string({ maxLength: 10 })).map(([base, key, value]) => defineOwn({ ...base }, key, value)),
  fc.tuple(validMetadata, metadataKey, fc.oneof(
    fc.string({ minLength: 501, maxLength: 2_000 }),
    adversarialNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  )).map(([base, key, value]) => defineOwn({ ...base }, key, value)),
  fc.integer({ min: 49, max: 80 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))),
  nonObject,
);

export const FIELDS: Record<FieldName, FieldSpec> = {
  refundId: {
    name: 'refundId',
    required: true,
    valid: fc.stringMatching(/^ref_[a-z0-9]{12}$/),
    invalid: invalidFor('refundId', malformedRefundId),
  },
  transactionId: {
    name: 'transactionId',
    required: true,
    valid: fc.tuple(fc.constantFrom('ch_', 'pi_'), fc.stringMatching(/^[A-Za-z0-9_]{1,40}$/)).map(([p, s]) => p + s),
    invalid: invalidFor(
      'transactionId',
      fc.oneof(
        fc.constantFrom('ch_', 'pi_', 'CH_abc', 'ch-abc', 're_abc', 'py_abc', 'ch_ abc', 'ch_abc\n', `ch_${'a'.repeat(251)}`, 'ch_é', 'pi_%'),
        fc.constantFrom(...SQL_FRAGMENTS).map((s) => `ch_${s}`),
      ),
    ),
  },
  amount: {
    name: 'amount',
    required: true,
    valid: fc.integer({ min: 1, max: 99_999_999 }),
    invalid: invalidFor(
      'amount',
      fc.oneof(
        adversarialNumber,
        fc.constantFrom('2500', '25.00', '$25', '1e3', '0x10', ' 1', ''),
        fc.integer({ min: 100_000_000 }),
        fc.integer({ max: 0 }),
      ),
    ),
  },
  currency: {
    name: 'currency',
    required: false,
    valid: fc.stringMatching(/^[a-z]{3}$/),
    invalid: invalidFor('currency', fc.constantFrom('us', 'usdd', 'u$d', '123', 'ÜSD', ' usd', 'usd\n', 'US', '€', '')),
  },
  reason: {
    name: 'reason',
    required: true,
    valid: fc.constantFrom(...REASONS),
    invalid: invalidFor(
      'reason',
      fc.oneof(
        fc.constantFrom(...REASONS).map((r) => r.toUpperCase()),
        fc.constantFrom(...REASONS).map((r) => ` ${r}`),
        fc.constantFrom('duplicate', 'requested', 'OTHER', 'other\u0000', ...PROTOTYPE_KEYS),
      ),
    ),
  },
  metadata: { name: 'metadata', required: false, valid: validMetadata, invalid: invalidMetadata },
  idempotencyKey: {
    name: 'idempotencyKey',
    required: false,
    valid: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
    invalid: invalidFor('idempotencyKey', fc.constantFrom('', 'a b', 'key/1', 'k'.repeat(256), 'ключ', 'key\n', "key'--", 'a,b')),
  },
  status: {
    name: 'status',
    required: false,
    valid: fc.constantFrom(...STATUSES),
    invalid: invalidFor('status', fc.constantFrom('PENDING', 'canceled', 'succeeded', 'requires_action', ' pending', 'all', '*', '')),
  },
  processor: {
    name: 'processor',
    required: false,
    valid: fc.constantFrom('stripe', 'sandbox', 'adyen_2'),
    invalid: invalidFor('processor', fc.constantFrom('Stripe', '1stripe', '_x', 'a'.repeat(33), 'str ipe', 'stripe;', '')),
  },
  limit: {
    name: 'limit',
    required: false,
    valid: fc.integer({ min: 1, max: 100 }),
    invalid: invalidFor('limit', fc.oneof(fc.constantFrom(0, 101, -1, 1.5, '10', '', 'all'), fc.integer({ min: 101 }), fc.integer({ max: 0 }))),
  },
  offset: {
    name: 'offset',
    required: false,
    valid: fc.nat(),
    invalid: invalidFor('offset', fc.oneof(fc.constantFrom(-1, 0.5, '0', '', 2 ** 53, -0.5), fc.integer({ max: -1 }))),
  },
};

export type Operation = 'get' | 'list' | 'create' | 'cancel';

export const OPERATIONS: Record<Operation, readonly FieldSpec[]> = {
  get: [FIELDS.refundId],
  cancel: [FIELDS.refundId],
  list: [FIELDS.status, FIELDS.processor, FIELDS.limit, FIELDS.offset],
  create: [FIELDS.transactionId, FIELDS.amount, FIELDS.currency, FIELDS.reason, FIELDS.metadata, FIELDS.idempotencyKey],
};

/**
 * Options for validCall/invalidCall. `omit` leaves fields out of the operation, for an edge that
 * carries them elsewhere (REST's create takes idempotencyKey as the Idempotency-Key header).
 */
export interface CallOptions {
  omit?: readonly FieldName[];
}

function fieldsOf(op: Operation, options: CallOptions): readonly FieldSpec[] {
  const omit = options.omit ?? [];
  return OPERATIONS[op].filter((field) => !omit.includes(field.name));
}

/** A valid call: every required field, each optional one present or not. */
export function validCall(op: Operation, options: CallOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const entries = fieldsOf(op, options).map((field) =>
    field.required ? field.valid.map((v) => [field.name, v] as const) : fc.option(field.valid, { nil: undefined }).map((v) => [field.name, v] as const),
  );
  return fc.tuple(...entries).map((pairs) => {
    const out: Record<string, unknown> = {};
    for (const [name, value] of pairs) if (value !== undefined) out[name] = value;
    return out;
  });
}

export interface InvalidCall {
  args: unknown;
  /**
   * The field the error message must name: the corrupted, missing or unknown field; null when the
   * arguments are not an object at all.
   */
  field: string | null;
  kind: 'corrupt' | 'missing' | 'unknown-field' | 'not-an-object';
}

/** Field names that are not part of `op`, prototype keys and SQL/JSON fragments included. */
function unknownFieldName(op: Operation): fc.Arbitrary<string> {
  // Omitted fields are excluded too: the edge that omits one may still name it in its own way.
  const known = new Set<string>(OPERATIONS[op].map((f) => f.name));
  return fc
    .oneof(
      fc.constantFrom(...PROTOTYPE_KEYS),
      fc.constantFrom('id', 'organizationId', 'status', 'refund_id', 'RefundId', 'amount ', 'initiatedBy', 'processor', 'limit'),
      adversarialString.filter((s) => s.length < 10_000),
    )
    .filter((name) => !known.has(name));
}

/** Arguments for `op` with exactly one fault, and the field the error must name. */
export function invalidCall(op: Operation, options: CallOptions = {}): fc.Arbitrary<InvalidCall> {
  const fields = fieldsOf(op, options);
  const required = fields.filter((f) => f.required);
  const corrupt = fc
    .tuple(validCall(op, options), fc.constantFrom(...fields))
    .chain(([base, field]) => field.invalid.map((bad): InvalidCall => ({ args: defineOwn({ ...base }, field.name, bad), field: field.name, kind: 'corrupt' })));
  const unknown = fc
    .tuple(validCall(op, options), unknownFieldName(op), adversarialValue())
    .map(([base, name, value]): InvalidCall => ({ args: defineOwn({ ...base }, name, value), field: name, kind: 'unknown-field' }));
  const notObject = nonObject.map((args): InvalidCall => ({ args, field: null, kind: 'not-an-object' }));
  const arbitraries: fc.Arbitrary<InvalidCall>[] = [corrupt, corrupt, unknown, notObject];
  if (required.length > 0) {
    arbitraries.push(
      fc.tuple(validCall(op, options), fc.constantFrom(...required)).map(([base, field]): InvalidCall => {
        const args = Object.fromEntries(Object.entries(base).filter(([name]) => name !== field.name));
        return { args, field: field.name, kind: 'missing' };
      }),
    );
  }
  return fc.oneof(...arbitraries);
}

/**
 * What the value becomes on the wire (JSON.stringify then JSON.parse): NaN and Infinity turn into
 * null, undefined members vanish, -0 becomes 0. Values that JSON cannot carry (bigint) stay as is.
 */
export function wireForm(value: unknown): unknown {
  try {
    // undefined for undefined, a function or a symbol, whatever the lib's types say
    const text = JSON.stringify(value) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return value;
  }
}

/** A field's value as a query-string parameter would carry it (REST GET /v1/refunds). */
export function asQueryValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return jsonText(value);
}

// -------------------------------------------------------------------------------------------
// REST: what an HTTP client can put in a query string, a header or a body

/**
 * JSON text for any value, as a careless client would send it: a bigint as its digits (a number
 * literal JSON allows but JavaScript cannot hold exactly), what JSON cannot carry as null.
 */
export function jsonText(value: unknown): string {
  const marker = '\u0000bigint:';
  // undefined for undefined, a function or a symbol, whatever the lib's types say
  const write = (v: unknown) => JSON.stringify(v) as string | undefined;
  let text: string | undefined;
  try {
    text = write(value);
  } catch {
    // A bigint somewhere. Not with a replacer: that costs stack frames per level, and the value
    // may be thousands of levels deep. Marked on an iterative copy, written out, then unmarked.
    text = write(markBigints(value, marker));
  }
  if (text === undefined) return 'null';
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

function markBigints(root: unknown, marker: string): unknown {
  const convert = (v: unknown): unknown => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v);
  const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null && !(v instanceof Date);
  if (!isContainer(root)) return convert(root);
  const copy: object = Array.isArray(root) ? [] : {};
  const stack: [object, object][] = [[root, copy]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [source, target] = next;
    for (const key of Object.keys(source)) {
      const value: unknown = (source as Record<string, unknown>)[key];
      let out: unknown = convert(value);
      if (isContainer(value)) {
        out = Array.isArray(value) ? [] : {};
        stack.push([value, out as object]);
      }
      defineOwn(target, key, out);
    }
  }
  return copy;
}

/** The list route's parameters, for query strings. */
export const LIST_PARAMS = ['status', 'processor', 'limit', 'offset'] as const;

const queryName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...LIST_PARAMS) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('page', 'expand', 'id', 'organizationId', 'LIMIT', 'Status', 'limit[]', 'status[0]', 'limit ', '', 'sort') },
  { weight: 1, arbitrary: adversarialString.filter((s) => s.length < 300) },
);

const queryValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LIST_PARAMS).chain((name) => FIELDS[name].valid.map(asQueryValue)) },
  { weight: 4, arbitrary: fc.constantFrom(...LIST_PARAMS).chain((name) => FIELDS[name].invalid.map(asQueryValue)) },
  { weight: 1, arbitrary: fc.integer({ min: -1_000, max: 1_000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('010', '+5', '5.0', '1e1', '0x10', ' 5', '5 ', '9007199254740993', '00000000000000005', '-0', '１') },
  { weight: 2, arbitrary: adversarialString.filter((s) => s.length < 1_500) },
);

/**
 * Query strings for GET /v1/refunds: known and unknown names, repeated ones, any values, each pair
 * percent-encoded or sent raw (printable ASCII only, so the request line stays parseable), joined
 * by & (sometimes doubled, or ;). Kept under 6 000 characters: the huge ones have their own test.
 */
export const adversarialQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(queryName, queryValue, fc.constantFrom('encoded', 'encoded', 'raw', 'no-value')),
    { maxLength: 6 },
  )
  .chain((pairs) =>
    fc.constantFrom('&', '&', '&&', ';').map((joiner) =>
      pairs
        .map(([name, value, how]) => {
          if (how === 'no-value') return encodePathSegment(name);
          if (how === 'encoded') return `${encodePathSegment(name)}=${encodePathSegment(value)}`;
          return `${asciiRaw(name)}=${asciiRaw(value)}`;
        })
        .join(joiner),
    ),
  )
  .filter((query) => query.length < 6_000);

/** Printable ASCII as is (the reserved characters too), everything else percent-encoded. */
function asciiRaw(text: string): string {
  return Array.from(text, (ch) => (/^[\x21-\x7e]$/.test(ch) ? ch : encodePathSegment(ch))).join('');
}

/**
 * Header values a client can send on one line: anything but CR and LF (which would end the header
 * and start another, a different request altogether). Control characters and non-ASCII included.
 */
export const adversarialHeaderValue: fc.Arbitrary<string> = fc.oneof(
  adversarialString.filter((s) => s.length < 4_000),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('', ' ', '\t', 'null', 'undefined', '[object Object]', '{}', ...SQL_FRAGMENTS),
).map((s) => s.replace(/[\r\n]/g, ''));

/** Authorization header values around a real key: near misses of it and of the scheme, and junk. */
export function authorizationValue(realKey: string): fc.Arbitrary<string> {
  const nearKey = fc.tuple(fc.nat(realKey.length - 1), fc.constantFrom('change', 'drop', 'add', 'upper', 'truncate', 'double', 'space', 'quote', 'nul', 'prefix')).map(([at, how]) => {
    switch (how) {
      case 'change': {
        const ch = realKey.charAt(at);
        return `${realKey.slice(0, at)}${ch === 'a' ? 'b' : 'a'}${realKey.slice(at + 1)}`;
      }
      case 'drop':
        return realKey.slice(0, at) + realKey.slice(at + 1);
      case 'add':
        return `${realKey.slice(0, at)}x${realKey.slice(at)}`;
      case 'upper':
        return realKey.toUpperCase();
      case 'truncate':
        return realKey.slice(0, at);
      case 'double':
        return realKey + realKey;
      case 'space':
        return `${realKey.slice(0, at)} ${realKey.slice(at)}`;
      case 'quote':
        return `"${realKey}"`;
      case 'nul':
        return `${realKey}\u0000`;
      default:
        return `rk_live_${realKey}`;
    }
  });
  const scheme = fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer', 'Bearer\t', 'Bearer:', 'Bearer=', 'Basic ', 'Token ', 'Bearer Bearer ', '', ' Bearer ');
  const token = fc.oneof(
    { weight: 4, arbitrary: nearKey },
    { weight: 2, arbitrary: fc.constant(realKey) },
    { weight: 1, arbitrary: fc.stringMatching(/^rk_(live|test)_[A-Za-z0-9]{8,40}$/) },
    { weight: 1, arbitrary: fc.constant(Buffer.from(`${realKey}:`).toString('base64')) },
    { weight: 2, arbitrary: adversarialHeaderValue },
  );
  return fc
    .tuple(scheme, token, fc.constantFrom('', '', ' ', ', Bearer x', ' extra', '\u0000', '\t'))
    .map(([s, t, tail]) => `${s}${t}${tail}`.replace(/[\r\n]/g, ''));
}

/** Content-Type values: JSON ones in every spelling, other types, and junk. */
export const contentTypeValue: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json', ' application/json ') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'application/json-seq',
      'text/json',
      'application/xml',
      'json',
      '*/*',
      'application/',
      ';',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: adversarialHeaderValue.filter((s) => s.length < 200) },
);

/** Request bodies of every kind: JSON of anything, JSON fragments and broken JSON, text, bytes, huge. */
export const adversarialBody: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { weight: 4, arbitrary: adversarialValue({ wire: true }).map((v) => jsonText(v)) },
    { weight: 2, arbitrary: fc.constantFrom(...JSON_FRAGMENTS) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', '{}', '[]', 'null', '\uFEFF{}', '{"a":1}{"b":2}', '{} x', '{"a":1,}', '{"a":01}', "{'a':1}", '{"a":"\ud800"}') },
    { weight: 2, arbitrary: adversarialValue({ wire: true }).chain((v) => {
      const text = jsonText(v);
      return fc.nat(text.length).map((n) => text.slice(0, n));
    }) },
    { weight: 2, arbitrary: adversarialString },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  )
  .map((body) => (typeof body === 'string' ? new Uint8Array(Buffer.from(body, 'utf8')) : body));

/** JSON-RPC messages and almost-messages for /mcp, tool calls with bad arguments among them. */
export function jsonRpcMessage(tools: Record<Operation, string>): fc.Arbitrary<unknown> {
  const ops = Object.keys(tools) as Operation[];
  const method = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('tools/call', 'tools/list', 'ping', 'initialize', 'notifications/initialized', 'notifications/cancelled', 'resources/list', 'prompts/list', 'logging/setLevel', 'completion/complete', 'rpc.discover', '') },
    { weight: 1, arbitrary: adversarialString.filter((s) => s.length < 300) },
    { weight: 1, arbitrary: adversarialValue({ wire: true }) },
  );
  const toolCall = fc.oneof(
    fc.constantFrom(...ops).chain((op) => invalidCall(op).map((c) => ({ name: tools[op], arguments: wireForm(c.args) }))),
    fc.record({ name: fc.oneof(fc.constantFrom(...ops.map((op) => tools[op])), adversarialString.filter((s) => s.length < 300)), arguments: adversarialValue({ wire: true }) }, { requiredKeys: [] }),
  );
  const params = fc.oneof(toolCall, toolCall, adversarialValue({ wire: true }), fc.record({ protocolVersion: fc.oneof(fc.constantFrom('2025-06-18', '2024-11-05', '1.0'), adversarialString), capabilities: adversarialValue({ wire: true }), clientInfo: adversarialValue({ wire: true }) }, { requiredKeys: [] }));
  const id = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), adversarialValue({ wire: true }));
  return fc.record(
    {
      jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: adversarialValue({ wire: true }) }),
      id,
      method,
      params,
      result: adversarialValue({ wire: true }),
      error: adversarialValue({ wire: true }),
    },
    { requiredKeys: [] },
  );
}
