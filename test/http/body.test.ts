/**
 * JSON bodies are UTF-8 (RFC 8259) and are never decoded with a loss: a body declared in another
 * charset is 415 unsupported_media_type, bytes that are not UTF-8 are 400 validation_error, and
 * nothing is stored either way. 'José' in latin1 used to be stored as 'Jos\uFFFD'. Raw bytes over
 * HTTP on 127.0.0.1, on every route that reads a body.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Refund } from '../../src/domain/refund.js';
import { wire, type WireResponse } from '../support/reliability.js';
import { countRows, insertRefund, storedStatus } from '../support/fixtures.js';
import { cleanupHttp, orgWithKey, startTestServer, type TestServer } from '../support/http-server.js';

const WEBHOOK_SECRET = 'whsec_bodyTestsOnlyNotARealSecret0001';

let s: TestServer;
let key: string;
let org: string;

beforeAll(async () => {
  s = await startTestServer({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  ({ key, organizationId: org } = orgWithKey(s.app));
});
afterAll(() => cleanupHttp());

let counter = 0;
/** A valid create body with metadata {"name":"José"}, as text (its bytes depend on the encoding). */
function createText(): string {
  counter += 1;
  return JSON.stringify({ transactionId: `ch_bodyCharset${counter}`, amount: 100, reason: 'other', metadata: { name: 'José' } });
}

function create(body: Buffer, contentType: string): Promise<WireResponse> {
  return wire(s.port, { method: 'POST', target: '/v1/refunds', headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, body });
}

function errorOf(res: WireResponse): { code: string; message: string } {
  return (JSON.parse(res.body) as { error: { code: string; message: string } }).error;
}

function rows(): { refunds: number; events: number } {
  return { refunds: countRows(s.app, 'refunds'), events: countRows(s.app, 'refund_events') };
}

describe('POST /v1/refunds', () => {
  it.each([
    'application/json; charset=latin1',
    'application/json; charset=ISO-8859-1',
    'application/json;charset="windows-1252"',
    'application/json; charset=utf-16',
    'application/json; charset=',
    'application/json; charset=utf-8; charset=latin1',
  ])('Content-Type %s: 415 unsupported_media_type, nothing stored', async (contentType) => {
    const before = rows();
    const res = await create(Buffer.from(createText(), 'latin1'), contentType);
    expect(res.status, res.body).toBe(415);
    expect(errorOf(res).code).toBe('unsupported_media_type');
    expect(errorOf(res).message).toMatch(/^Content-Type charset must be utf-8 \(JSON is UTF-8\), not '/);
    expect(rows()).toEqual(before);
  });

  it.each([
    ['latin1 bytes sent as application/json', Buffer.from(createText(), 'latin1'), 'application/json'],
    ['latin1 bytes declared utf-8', Buffer.from(createText(), 'latin1'), 'application/json; charset=utf-8'],
    ['a truncated UTF-8 sequence', Buffer.concat([Buffer.from(createText().slice(0, -3), 'utf8'), Buffer.from([0xe2, 0x82]), Buffer.from('"}}')]), 'application/json'],
    ['an overlong encoding of "/"', Buffer.concat([Buffer.from('{"transactionId":"ch_x","amount":100,"reason":"other","metadata":{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]), 'application/json'],
    ['a lone surrogate encoded as UTF-8 bytes', Buffer.concat([Buffer.from('{"transactionId":"ch_x","amount":100,"reason":"other","metadata":{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')]), 'application/json'],
  ])('%s: 400 validation_error, nothing stored', async (_label, body, contentType) => {
    const before = rows();
    const res = await create(body, contentType);
    expect(res.status, res.body).toBe(400);
    expect(errorOf(res)).toEqual({ code: 'validation_error', message: 'Request body is not valid UTF-8' });
    expect(rows()).toEqual(before);
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/json;charset="utf-8"',
    'application/json; Charset = "UTF-8" ',
    'application/json; charset=utf8',
  ])('UTF-8 under Content-Type %s: created, and stored exactly as sent', async (contentType) => {
    const res = await create(Buffer.from(createText(), 'utf8'), contentType);
    expect(res.status, res.body).toBe(200);
    const refund = (JSON.parse(res.body) as { data: Refund }).data;
    expect(refund.metadata).toEqual({ name: 'José' });
    const stored = s.app.db.prepare<[string], { metadata: string }>('SELECT metadata FROM refunds WHERE id = ?').get(refund.id);
    expect(stored?.metadata).toBe('{"name":"José"}');
  });

  it('a BOM is still not JSON (kept by the decoder, not dropped in silence)', async () => {
    const before = rows();
    const res = await create(Buffer.from(`\uFEFF${createText()}`, 'utf8'), 'application/json');
    expect(errorOf(res)).toEqual({ code: 'validation_error', message: 'Request body is not valid JSON' });
    expect(rows()).toEqual(before);
  });
});

describe('POST /v1/refunds/{id}/cancel', () => {
  it('a body in another charset or not UTF-8 is refused, and the refund stays pending', async () => {
    const pending = insertRefund(s.app, org, { status: 'pending' });
    const cancel = (body: Buffer, contentType: string): Promise<WireResponse> =>
      wire(s.port, { method: 'POST', target: `/v1/refunds/${pending.id}/cancel`, headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, body });
    const declared = await cancel(Buffer.from('{}'), 'application/json; charset=latin1');
    expect([declared.status, errorOf(declared).code]).toEqual([415, 'unsupported_media_type']);
    const invalid = await cancel(Buffer.from([0x7b, 0xff, 0x7d]), 'application/json');
    expect([invalid.status, errorOf(invalid).code]).toEqual([400, 'validation_error']);
    expect(storedStatus(s.app, pending.id)).toBe('pending');
  });
});

describe('POST /webhooks/stripe', () => {
  it('a signed body that is not UTF-8 is refused (400), not applied with its bytes replaced; nothing recorded', async () => {
    // Stripe's library checks the signature on the body decoded with a loss, so a signature made
    // over that text verifies: the bytes must be refused on their own account.
    const bytes = Buffer.concat([Buffer.from('{"id":"evt_notUtf8'), Buffer.from([0xe9]), Buffer.from('","type":"refund.updated","data":{"object":{}}}')]);
    const header = Stripe.webhooks.generateTestHeaderString({ payload: new TextDecoder().decode(bytes), secret: WEBHOOK_SECRET });
    const before = countRows(s.app, 'webhook_events');
    const res = await wire(s.port, { method: 'POST', target: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: bytes });
    expect(res.status, res.body).toBe(400);
    expect(errorOf(res)).toEqual({ code: 'validation_error', message: 'Webhook body is not valid UTF-8' });
    expect(countRows(s.app, 'webhook_events')).toBe(before);
  });

  it('an unsigned one is told about the signature first', async () => {
    const res = await wire(s.port, { method: 'POST', target: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: Buffer.from([0x7b, 0xff, 0x7d]) });
    expect(res.status).toBe(400);
    expect(errorOf(res).message).toMatch(/Stripe-Signature/);
  });
});
