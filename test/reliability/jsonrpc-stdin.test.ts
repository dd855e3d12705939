/**
 * Malformed JSON-RPC on the stdin of the BUILT server (node dist/cli.js, spawned as a client
 * launches it): garbage lines, truncated JSON, wrong or missing versions, unknown methods, params
 * and arguments of the wrong type, batches, ids of the wrong type, invalid UTF-8, blank lines, a
 * 1 MB message, and a 6.5 MB and an 11 MB one (over the 1 MiB limit). JSON-RPC 2.0 says what each deserves: a
 * Parse error (-32700) or Invalid Request (-32600) without an id when the id cannot be read (MCP's
 * schema leaves it out where JSON-RPC 2.0 writes null), the request's id otherwise, Method not
 * found (-32601), Invalid params (-32602); blank lines and responses to nothing are ignored.
 * Before the fix, the SDK's stdio transport dropped the first two kinds without a word (a client
 * waiting on such an id waited forever), answered bad params Internal error (-32603), and on a
 * line over its limit (then 10 MB) closed itself: the server exited 0 without a word. Afterwards the server still answers a normal tools/call, and
 * EVERY line it wrote to stdout is a valid JSON-RPC 2.0 message.
 */
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../src/demo.js';
import { assertBuilt, cleanupCli, createDemoHome, lines, spawnServer, type TestHome } from '../support/cli.js';
import { INTERNALS, jsonRpcViolation, rowsFingerprint } from '../support/reliability.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupCli());

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

interface Message {
  jsonrpc: string;
  id?: string | number | null;
  result?: { isError?: boolean; content?: { type: string; text: string }[]; structuredContent?: unknown };
  error?: { code: number; message: string };
}

/** One line of input and what it must get back. */
type Probe =
  | { send: string | Buffer; expect: 'nothing' }
  | { send: string | Buffer; expect: 'null-id-error'; code: number }
  | { send: string | Buffer; expect: 'error'; id: number; code: number; message?: RegExp }
  | { send: string | Buffer; expect: 'result'; id: number; check?: (m: Message) => void };

const json = (value: unknown): string => JSON.stringify(value);
const request = (id: number, method: string, params?: unknown): string =>
  json(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
const toolCall = (id: number, name: unknown, args: unknown): string => request(id, 'tools/call', { name, arguments: args });

function toolErrorCode(m: Message): string {
  const text = m.result?.content?.[0]?.text ?? '';
  expect(m.result?.isError).toBe(true);
  return (JSON.parse(text) as { error: { code: string } }).error.code;
}

const PROBES: Probe[] = [
  { send: request(1, 'initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } }), expect: 'result', id: 1 },
  { send: json({ jsonrpc: '2.0', method: 'notifications/initialized' }), expect: 'nothing' },
  // Not JSON at all.
  { send: 'this line is not JSON', expect: 'null-id-error', code: PARSE_ERROR },
  { send: '{"jsonrpc":"2.0","id":2,"method":"ping"', expect: 'null-id-error', code: PARSE_ERROR },
  { send: "{'jsonrpc':'2.0','id':3,'method':'ping'}", expect: 'null-id-error', code: PARSE_ERROR },
  { send: 'SELECT * FROM api_keys; --', expect: 'null-id-error', code: PARSE_ERROR },
  { send: Buffer.from([0xff, 0xfe, 0x7b, 0x80]), expect: 'null-id-error', code: PARSE_ERROR },
  // Blank lines are not messages.
  { send: '', expect: 'nothing' },
  { send: '   \t ', expect: 'nothing' },
  { send: '\r', expect: 'nothing' },
  // JSON, but not a JSON-RPC 2.0 message: the id is echoed when it can be read.
  { send: json({ jsonrpc: '1.0', id: 10, method: 'tools/list' }), expect: 'error', id: 10, code: INVALID_REQUEST },
  { send: json({ id: 11, method: 'tools/list' }), expect: 'error', id: 11, code: INVALID_REQUEST },
  { send: json({ jsonrpc: 2.0, id: 12, method: 'tools/list' }), expect: 'error', id: 12, code: INVALID_REQUEST },
  { send: json({ jsonrpc: '2.0', id: 13, method: 'tools/call', params: 'not an object' }), expect: 'error', id: 13, code: INVALID_REQUEST },
  { send: json({ jsonrpc: '2.0', id: 14, method: 'tools/list', params: [1, 2] }), expect: 'error', id: 14, code: INVALID_REQUEST },
  { send: json({ jsonrpc: '2.0', id: 15, method: 42 }), expect: 'null-id-error', code: INVALID_REQUEST },
  { send: json({ jsonrpc: '2.0', id: { nested: 1 }, method: 'ping' }), expect: 'null-id-error', code: INVALID_REQUEST },
  { send: json([{ jsonrpc: '2.0', id: 16, method: 'ping' }]), expect: 'null-id-error', code: INVALID_REQUEST },
  { send: '[]', expect: 'null-id-error', code: INVALID_REQUEST },
  { send: '{}', expect: 'null-id-error', code: INVALID_REQUEST },
  { send: 'null', expect: 'null-id-error', code: INVALID_REQUEST },
  { send: '"a string"', expect: 'null-id-error', code: INVALID_REQUEST },
  { send: '{"__proto__":{"jsonrpc":"2.0"},"id":17,"method":"ping"}', expect: 'error', id: 17, code: INVALID_REQUEST },
  // A response to a request the server never made: nothing to answer.
  { send: json({ jsonrpc: '2.0', id: 999, result: {} }), expect: 'nothing' },
  // Well-formed messages the server must refuse.
  { send: request(20, 'no/such/method'), expect: 'error', id: 20, code: METHOD_NOT_FOUND },
  // The SDK answered these Internal error (-32603) with its validator's dump; now Invalid params.
  { send: request(21, 'tools/list', { cursor: 5 }), expect: 'error', id: 21, code: INVALID_PARAMS, message: /params\.cursor/ },
  { send: request(18, 'initialize', { protocolVersion: 7 }), expect: 'error', id: 18, code: INVALID_PARAMS, message: /params\.protocolVersion/ },
  { send: toolCall(22, 'get_refund', 'not an object'), expect: 'error', id: 22, code: INVALID_PARAMS, message: /params\.arguments/ },
  { send: toolCall(23, 'get_refund', [1, 2]), expect: 'error', id: 23, code: INVALID_PARAMS, message: /params\.arguments/ },
  { send: toolCall(24, 'get_refund', null), expect: 'error', id: 24, code: INVALID_PARAMS, message: /params\.arguments/ },
  { send: toolCall(25, 5, {}), expect: 'error', id: 25, code: INVALID_PARAMS, message: /params\.name/ },
  { send: toolCall(26, 'no_such_tool', {}), expect: 'error', id: 26, code: INVALID_PARAMS, message: /Unknown tool 'no_such_tool'/ },
  { send: toolCall(27, 'get_refund', { refundId: "ref_' OR 1=1 --" }), expect: 'result', id: 27, check: (m) => expect(toolErrorCode(m)).toBe('validation_error') },
  {
    // 1e309 parses as Infinity.
    send: '{"jsonrpc":"2.0","id":28,"method":"tools/call","params":{"name":"create_refund","arguments":{"transactionId":"ch_x","amount":1e309,"reason":"other"}}}',
    expect: 'result',
    id: 28,
    check: (m) => expect(toolErrorCode(m)).toBe('validation_error'),
  },
  // Invalid UTF-8 inside a JSON string is replaced (U+FFFD); the message itself is fine.
  {
    send: Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":29,"method":"ping","params":{"_meta":{"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}}')]),
    expect: 'result',
    id: 29,
  },
  // Large, under the 1 MiB limit: a 1 MB tools/call is read and refused by the tool; a 1 MB
  // garbage line is a parse error.
  {
    send: toolCall(30, 'list_refunds', { ['k'.repeat(1_000_000)]: 1 }),
    expect: 'result',
    id: 30,
    check: (m) => {
      expect(toolErrorCode(m)).toBe('validation_error');
      expect(m.result?.content?.[0]?.text.length ?? 0).toBeLessThan(400);
    },
  },
  { send: '{' + 'x'.repeat(1_000_000), expect: 'null-id-error', code: PARSE_ERROR },
  // Over the 1 MiB limit (REFUNDKIT_STDIO_MAX_MESSAGE_BYTES): discarded unread and answered, and
  // the session goes on. A 6.5 MB line of small objects was parsed whole and cost 300 MB.
  { send: toolCall(32, 'list_refunds', { pad: Array.from({ length: 2_200_000 }, () => ({})) }), expect: 'null-id-error', code: INVALID_REQUEST },
  { send: toolCall(31, 'list_refunds', { pad: 'p'.repeat(11 * 1024 * 1024) }), expect: 'null-id-error', code: INVALID_REQUEST },
  // And a normal session afterwards.
  { send: request(40, 'ping'), expect: 'result', id: 40 },
  { send: request(41, 'tools/list'), expect: 'result', id: 41 },
  {
    send: toolCall(42, 'get_refund', { refundId: 'ref_demo00000006' }),
    expect: 'result',
    id: 42,
    check: (m) => expect(m.result?.structuredContent).toMatchObject({ refund: { id: 'ref_demo00000006', status: 'completed' } }),
  },
];

describe('malformed JSON-RPC on stdin', () => {
  let home: TestHome;
  let stdout = '';
  let stderr = '';
  let exitCode: number | null;
  let before: string;

  beforeAll(async () => {
    home = await createDemoHome();
    before = rowsFingerprint(home.dbPath);
    const child = spawnServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_LOG_LEVEL: 'debug' }));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    for (const probe of PROBES) {
      const line = typeof probe.send === 'string' ? Buffer.from(`${probe.send}\n`) : Buffer.concat([probe.send, Buffer.from('\n')]);
      if (!child.stdin.write(line)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    }
    child.stdin.end();
    exitCode = await exited;
  }, 60_000);

  it('exits 0 when stdin closes, having answered everything', () => {
    expect(exitCode, stderr.slice(-2000)).toBe(0);
  });

  it('every line written to stdout is one valid JSON-RPC 2.0 message', () => {
    const out = lines(stdout);
    expect(out.length).toBeGreaterThan(20);
    for (const line of out) expect(jsonRpcViolation(line), line.slice(0, 300)).toBeNull();
  });

  it('each probe got exactly what JSON-RPC 2.0 says, in order for those without an id', () => {
    const messages = lines(stdout).map((line) => JSON.parse(line) as Message);
    const byId = new Map<number | string, Message[]>();
    const nullIdCodes: number[] = [];
    for (const m of messages) {
      if (m.id === null || m.id === undefined) nullIdCodes.push(m.error?.code ?? 0);
      else byId.set(m.id, [...(byId.get(m.id) ?? []), m]);
    }
    const expectedNullIdCodes: number[] = [];
    const answeredIds = new Set<number>();
    for (const probe of PROBES) {
      if (probe.expect === 'null-id-error') expectedNullIdCodes.push(probe.code);
      if (probe.expect !== 'error' && probe.expect !== 'result') continue;
      answeredIds.add(probe.id);
      const answers = byId.get(probe.id) ?? [];
      expect(answers, `id ${probe.id}`).toHaveLength(1);
      const answer = answers[0]!;
      if (probe.expect === 'error') {
        expect(answer.error, `id ${probe.id}`).toBeDefined();
        expect(answer.error?.code, `id ${probe.id}: ${answer.error?.message}`).toEqual(probe.code);
        expect(answer.error?.message ?? '').not.toMatch(/\n\s+at /);
        if (probe.message !== undefined) expect(answer.error?.message).toMatch(probe.message);
      } else {
        expect(answer.result, `id ${probe.id}: ${JSON.stringify(answer.error)}`).toBeDefined();
        probe.check?.(answer);
      }
    }
    expect(nullIdCodes).toEqual(expectedNullIdCodes);
    // Nothing else was answered: no reply to a notification, a blank line or a stray response.
    expect([...byId.keys()].filter((id) => !answeredIds.has(Number(id)))).toEqual([]);
  });

  it('logged nothing internal on stderr, changed no row, and refused with messages, not traces', () => {
    expect(stderr).toContain('serving MCP over stdio');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toMatch(/^\S+ error /m);
    expect(stderr).not.toContain(DEMO_API_KEY);
    for (const line of lines(stdout)) {
      const m = JSON.parse(line) as Message;
      if (m.error !== undefined) expect(m.error.message, m.error.message).not.toMatch(INTERNALS);
    }
    expect(rowsFingerprint(home.dbPath)).toBe(before);
  });
});

describe('REFUNDKIT_STDIO_MAX_MESSAGE_BYTES', () => {
  it('sets the limit: a longer line is refused, and the next request is answered', async () => {
    const home = await createDemoHome();
    const child = spawnServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_STDIO_MAX_MESSAGE_BYTES: '2048' }));
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdin.write(`${toolCall(1, 'list_refunds', { pad: 'p'.repeat(3_000) })}\n${request(2, 'ping')}\n`);
    child.stdin.end();
    await exited;
    expect(lines(stdout).map((line) => JSON.parse(line) as Message)).toEqual([
      { jsonrpc: '2.0', error: { code: INVALID_REQUEST, message: expect.stringContaining('limited to 2048 bytes') } },
      { jsonrpc: '2.0', id: 2, result: {} },
    ]);
  });
});
