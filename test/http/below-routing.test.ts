/**
 * Requests refused before any route sees them, sent byte for byte on a raw socket: no Host header,
 * a request line or headers node:http cannot parse, headers past its size limit, a body whose
 * chunked encoding breaks half-way, an Expect node:http does not do, a CONNECT. Each gets the
 * reference error body (`{"error":{"message","code"}}`) where node:http alone would answer a bare
 * status or nothing at all, the connection closes, nothing changes, and the server goes on serving.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, insertRefund, storedStatus } from '../support/fixtures.js';
import { cleanupHttp, orgWithKey, raw, startTestServer, type TestServer } from '../support/http-server.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes the bytes, reads until the server closes the connection, parses the one answer. */
function exchange(port: number, bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) {
        reject(new Error(`no answer, got ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) });
    });
    socket.write(bytes);
  });
}

let s: TestServer;
let key: string;
let org: string;

beforeAll(async () => {
  s = await startTestServer();
  ({ key, organizationId: org } = orgWithKey(s.app));
});
afterAll(() => cleanupHttp());

function expectRefusal(answer: Answer, status: number, code: string, message: RegExp): void {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(answer.headers.connection).toBe('close');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  const body = JSON.parse(answer.body) as { error: { message: string; code: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error)).toEqual(['message', 'code']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
  expect(body.error.message).not.toMatch(/HPE_|llhttp|ERR_/);
}

describe('requests refused below routing get the error body', () => {
  it('an HTTP/1.1 request without a Host header is validation_error (400)', async () => {
    const answer = await exchange(s.port, 'GET /healthz HTTP/1.1\r\n\r\n');
    expectRefusal(answer, 400, 'validation_error', /Host header/);
    // With a key and a body, on a write route: refused before the route, nothing changes.
    const refund = insertRefund(s.app, org, { status: 'pending' });
    const write = await exchange(
      s.port,
      `POST /v1/refunds/${refund.id}/cancel HTTP/1.1\r\nAuthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`,
    );
    expectRefusal(write, 400, 'validation_error', /Host header/);
    expect(storedStatus(s.app, refund.id)).toBe('pending');
  });

  it('HTTP/1.0, which has no Host header, is still served', async () => {
    const answer = await exchange(s.port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
  });

  it('a body whose chunked encoding breaks half-way is validation_error (400), and nothing changes', async () => {
    const before = countRows(s.app, 'refunds');
    const answer = await exchange(
      s.port,
      `POST /v1/refunds HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\ncontent-type: application/json\r\n` +
        'transfer-encoding: chunked\r\n\r\n5\r\n{"tra\r\nzz\r\nnsactionId":"ch_1"}\r\n0\r\n\r\n',
    );
    expectRefusal(answer, 400, 'validation_error', /chunked/);
    expect(countRows(s.app, 'refunds')).toBe(before);
  });

  it('headers larger than node:http takes are payload_too_large with 431', async () => {
    const answer = await exchange(s.port, `GET /v1/refunds HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectRefusal(answer, 431, 'payload_too_large', /headers are larger than/);
  });

  it('a request line that is not HTTP is validation_error (400)', async () => {
    expectRefusal(await exchange(s.port, 'HELLO THERE\r\n\r\n'), 400, 'validation_error', /not valid HTTP/);
  });

  it('Content-Length alongside Transfer-Encoding is validation_error (400)', async () => {
    const answer = await exchange(
      s.port,
      'POST /v1/refunds HTTP/1.1\r\nHost: 127.0.0.1\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n0\r\n\r\n',
    );
    expectRefusal(answer, 400, 'validation_error', /Content-Length/);
  });

  it('an Expect other than 100-continue is validation_error with 417', async () => {
    const answer = await exchange(s.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\n\r\n');
    expectRefusal(answer, 417, 'validation_error', /Expect: teapot is not supported/);
  });

  it('CONNECT is method_not_allowed (405), not a dropped connection', async () => {
    const answer = await exchange(s.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expectRefusal(answer, 405, 'method_not_allowed', /CONNECT/);
    expect(answer.headers.allow).toBe('');
  });

  it('the server goes on serving', async () => {
    expect((await raw(`${s.url}/healthz`)).status).toBe(200);
  });
});
