/**
 * The built server over stdio, as an MCP client launches it: `node dist/cli.js` spawned by the
 * SDK's StdioClientTransport (or by hand, for the raw protocol stream), on a copy of the demo
 * database, with an environment that holds only what the test sets.
 */
import { existsSync } from 'node:fs';
import { LATEST_PROTOCOL_VERSION, JSONRPCMessageSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { DEMO_COMPLETED_REFUND } from '../support/fixtures.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  count,
  createDemoHome,
  createTestHome,
  lines,
  queryAll,
  runCli,
  spawnServer,
  toolJson,
  type ConnectedServer,
  type Env,
  type TestHome,
} from '../support/cli.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupCli());

const CORE_TOOLS = ['get_refund', 'list_refunds', 'cancel_refund'];


interface RefundJson {
  id: string;
  organizationId: string;
  status: string;
  processor: string;
  createdAt: string;
  updatedAt: string;
  amount: number;
}

interface EventRow {
  from_status: string | null;
  to_status: string;
  initiated_by: string;
  organization_id: string;
}

function events(home: TestHome, refundId: string): EventRow[] {
  return queryAll<EventRow>(home.dbPath, 'SELECT * FROM refund_events WHERE refund_id = ? ORDER BY id', refundId);
}

function storedStatus(home: TestHome, refundId: string): string | undefined {
  return queryAll<{ status: string }>(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', refundId)[0]?.status;
}

describe('a client session on the demo database (StdioClientTransport)', () => {
  let home: TestHome;
  let server: ConnectedServer;

  beforeAll(async () => {
    home = await createDemoHome();
    server = await connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY }));
  });

  it('tools/list has the three tools, each with a title, a description, schemas and honest annotations', async () => {
    const { tools } = await server.client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(CORE_TOOLS));
    for (const name of CORE_TOOLS) {
      const tool = byName.get(name)!;
      expect(tool.title, name).toBeTruthy();
      expect(tool.description!.length, name).toBeGreaterThan(100);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type, name).toBe('object');
    }
    expect(byName.get('get_refund')!.inputSchema.required).toEqual(['refundId']);
    expect(byName.get('get_refund')!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.get('list_refunds')!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.get('cancel_refund')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });

  it('get_refund returns the refund as structured content and as the same JSON in text', async () => {
    const result = await callTool(server, 'get_refund', { refundId: 'ref_demo00000006' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ refund: DEMO_COMPLETED_REFUND });
    expect(toolJson(result)).toEqual({ refund: DEMO_COMPLETED_REFUND });
  });

  it('get_refund: an unknown id is not_found, a malformed one a validation_error naming the field', async () => {
    const missing = await callTool(server, 'get_refund', { refundId: 'ref_zzzzzzzzzzzz' });
    expect(missing.isError).toBe(true);
    expect(toolJson(missing)).toEqual({ error: { message: 'Refund not found', code: 'not_found' } });

    const malformed = await callTool(server, 'get_refund', { refundId: 'REF-1' });
    expect(malformed.isError).toBe(true);
    expect(toolJson(malformed)).toMatchObject({ error: { code: 'validation_error', message: expect.stringContaining('refundId') } });
  });

  it('list_refunds returns every demo refund newest first, filters, and pages with nextOffset', async () => {
    const all = await callTool(server, 'list_refunds', {});
    expect(all.isError).toBeFalsy();
    const page = all.structuredContent as { refunds: RefundJson[]; limit: number; offset: number; nextOffset: number | null };
    expect(toolJson(all)).toEqual(page);
    expect(page.limit).toBe(25);
    expect(page.offset).toBe(0);
    expect(page.nextOffset).toBeNull();
    expect(page.refunds).toHaveLength(count(home.dbPath, 'SELECT count(*) AS n FROM refunds'));
    expect(page.refunds[0]!.id).toBe('ref_demo00000001');
    const created = page.refunds.map((r) => r.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    expect(new Set(page.refunds.map((r) => r.organizationId))).toEqual(new Set([DEMO_ORGANIZATION_ID]));

    const pendingTotal = count(home.dbPath, "SELECT count(*) AS n FROM refunds WHERE status = 'pending'");
    expect(pendingTotal).toBeGreaterThan(2);
    const first = (await callTool(server, 'list_refunds', { status: 'pending', limit: 2 })).structuredContent as typeof page;
    expect(first.refunds.map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(first.nextOffset).toBe(2);
    const rest = (await callTool(server, 'list_refunds', { status: 'pending', limit: 2, offset: 2 }))
      .structuredContent as typeof page;
    expect(rest.refunds.every((r) => r.status === 'pending')).toBe(true);
    expect([...first.refunds, ...rest.refunds].map((r) => r.id)).toEqual(
      page.refunds.filter((r) => r.status === 'pending').slice(0, 4).map((r) => r.id),
    );
    if (pendingTotal <= 4) expect(rest.nextOffset).toBeNull();

    const sandbox = (await callTool(server, 'list_refunds', { processor: 'sandbox', status: 'completed' }))
      .structuredContent as typeof page;
    expect(sandbox.refunds.length).toBeGreaterThan(0);
    expect(sandbox.refunds.every((r) => r.processor === 'sandbox' && r.status === 'completed')).toBe(true);
  });

  it('list_refunds answers a bad limit with the reference validation_error', async () => {
    for (const limit of [0, 101, 500]) {
      const result = await callTool(server, 'list_refunds', { limit });
      expect(result.isError).toBe(true);
      expect(toolJson(result)).toEqual({ error: { message: 'Limit must be between 1 and 100', code: 'validation_error' } });
    }
  });

  it('cancel_refund cancels a pending refund and records one event initiated by mcp', async () => {
    const id = 'ref_demo00000002';
    expect(storedStatus(home, id)).toBe('pending');
    const result = await callTool(server, 'cancel_refund', { refundId: id });
    expect(result.isError).toBeFalsy();
    const { refund } = result.structuredContent as { refund: RefundJson };
    expect(refund).toMatchObject({ id, status: 'cancelled', organizationId: DEMO_ORGANIZATION_ID });
    expect(refund.updatedAt > refund.createdAt).toBe(true);
    expect(toolJson(result)).toEqual(result.structuredContent);

    expect(storedStatus(home, id)).toBe('cancelled');
    expect(events(home, id).at(-1)).toMatchObject({
      from_status: 'pending',
      to_status: 'cancelled',
      initiated_by: 'mcp',
      organization_id: DEMO_ORGANIZATION_ID,
    });

    const again = await callTool(server, 'cancel_refund', { refundId: id });
    expect(again.isError).toBe(true);
    expect(toolJson(again)).toEqual({
      error: { message: "Refund cannot be cancelled — status is 'cancelled'", code: 'refund_not_cancellable' },
    });
    expect(events(home, id).filter((e) => e.to_status === 'cancelled')).toHaveLength(1);

    const fetched = await callTool(server, 'get_refund', { refundId: id });
    expect((fetched.structuredContent as { refund: RefundJson }).refund.status).toBe('cancelled');
  });

  it('cancel_refund on a completed refund is refund_not_cancellable with the reference message, and changes nothing', async () => {
    const eventsBefore = events(home, DEMO_COMPLETED_REFUND.id);
    const result = await callTool(server, 'cancel_refund', { refundId: DEMO_COMPLETED_REFUND.id });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const first = result.content[0];
    expect(first?.type === 'text' ? first.text : undefined).toBe(
      '{"error":{"message":"Refund cannot be cancelled — status is \'completed\'","code":"refund_not_cancellable"}}',
    );
    expect(events(home, DEMO_COMPLETED_REFUND.id)).toEqual(eventsBefore);
    expect((await callTool(server, 'get_refund', { refundId: DEMO_COMPLETED_REFUND.id })).structuredContent).toEqual({
      refund: DEMO_COMPLETED_REFUND,
    });
  });

  it('cancel_refund on processing refunds follows the processor: sandbox accepts, refuses x99, stripe unconfigured', async () => {
    const accepted = await callTool(server, 'cancel_refund', { refundId: 'ref_demo00000003' });
    expect(accepted.isError).toBeFalsy();
    expect((accepted.structuredContent as { refund: RefundJson }).refund.status).toBe('cancelled');
    expect(events(home, 'ref_demo00000003').at(-1)).toMatchObject({
      from_status: 'processing',
      to_status: 'cancelled',
      initiated_by: 'mcp',
    });

    // 7999: the sandbox's documented rule says it has already completed.
    const refused = await callTool(server, 'cancel_refund', { refundId: 'ref_demo00000004' });
    expect(refused.isError).toBe(true);
    expect(toolJson(refused)).toMatchObject({
      error: { code: 'refund_not_cancellable', message: expect.stringContaining("'completed'") },
    });
    expect(storedStatus(home, 'ref_demo00000004')).toBe('completed');

    // No STRIPE_SECRET_KEY in this server's environment.
    const eventsBefore = events(home, 'ref_demo00000005');
    const unconfigured = await callTool(server, 'cancel_refund', { refundId: 'ref_demo00000005' });
    expect(unconfigured.isError).toBe(true);
    expect(toolJson(unconfigured)).toMatchObject({
      error: { code: 'processor_not_configured', message: expect.stringContaining('STRIPE_SECRET_KEY') },
    });
    expect(storedStatus(home, 'ref_demo00000005')).toBe('processing');
    expect(events(home, 'ref_demo00000005')).toEqual(eventsBefore);
  });

  it('logs on stderr, never the key in clear', () => {
    expect(server.stderr()).toContain('serving MCP over stdio');
    expect(server.stderr()).not.toContain(DEMO_API_KEY);
  });
});

describe('start-up refusals: one line on stderr, nothing on stdout, a non-zero exit of its own', () => {
  /** Starts the server with stdin held open, so it can only stop by refusing to start. */
  async function startExpectingRefusal(env: Env, mentions: RegExp): Promise<void> {
    const result = await runCli([], env, { keepStdinOpen: true, timeoutMs: 10_000 });
    expect(result.code, result.stderr).not.toBe(0);
    // Exited on its own: a server that did not refuse would serve until the runner killed it
    // (code null, a signal). No wall-clock check: how quick depends on the machine's load.
    expect(result.code).not.toBeNull();
    expect(result.signal).toBeNull();
    expect(result.stdout).toBe('');
    expect(lines(result.stderr), result.stderr).toHaveLength(1);
    expect(result.stderr).toMatch(mentions);
  }

  it.concurrent('without REFUNDKIT_API_KEY', async () => {
    const home = await createDemoHome();
    await startExpectingRefusal(home.env(), /REFUNDKIT_API_KEY is not set/);
  });

  it.concurrent('with an unknown key (without echoing it)', async () => {
    const home = await createDemoHome();
    const key = 'rk_live_unknownKeyThatWasNeverIssued0000';
    await startExpectingRefusal(home.env({ REFUNDKIT_API_KEY: key }), /^(?!.*unknownKeyThatWasNeverIssued).*invalid_api_key/);
  });

  it.concurrent('with a key that is not even shaped like one', async () => {
    const home = await createDemoHome();
    await startExpectingRefusal(home.env({ REFUNDKIT_API_KEY: 'hunter2' }), /invalid_api_key/);
  });

  it.concurrent('with a key on a database that does not exist yet (e.g. a mistyped REFUNDKIT_DB_PATH)', async () => {
    const home = createTestHome();
    await startExpectingRefusal(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY }), /no database at .*refundkit-mcp init/);
    // A mistyped path must not leave a new, empty database behind.
    expect(existsSync(home.dbPath)).toBe(false);
  });

  it.concurrent('with a revoked key', async () => {
    const home = await createDemoHome();
    const revoke = await runCli(['keys', 'revoke', '--key', DEMO_API_KEY], home.env());
    expect(revoke.code, revoke.stderr).toBe(0);
    await startExpectingRefusal(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY }), /invalid_api_key/);
  });

  it.concurrent('with a malformed setting', async () => {
    const home = await createDemoHome();
    await startExpectingRefusal(
      home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_READ_ONLY: 'maybe' }),
      /REFUNDKIT_READ_ONLY must be/,
    );
  });
});

describe('REFUNDKIT_READ_ONLY=1', () => {
  it('registers no write tool: cancel_refund is not listed and cannot be called', async () => {
    const home = await createDemoHome();
    const server = await connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_READ_ONLY: '1' }));
    const { tools } = await server.client.listTools();
    const names = tools.map((tool: Tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['get_refund', 'list_refunds']));
    expect(names).not.toContain('cancel_refund');
    for (const tool of tools) expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);

    await expect(server.client.callTool({ name: 'cancel_refund', arguments: { refundId: 'ref_demo00000001' } })).rejects.toThrow(
      /cancel_refund/,
    );
    expect(storedStatus(home, 'ref_demo00000001')).toBe('pending');
    const read = await callTool(server, 'get_refund', { refundId: 'ref_demo00000001' });
    expect(read.isError).toBeFalsy();
  });
});

describe('stdout carries only JSON-RPC', () => {
  it('every stdout line is a JSON-RPC 2.0 message, every request is answered, logs go to stderr, EOF exits 0', async () => {
    const home = await createDemoHome();
    const child = spawnServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_LOG_LEVEL: 'debug' }), ['stdio']);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

    const call = (id: number, name: string, args: unknown) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: args },
    });
    const messages: unknown[] = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      call(3, 'get_refund', { refundId: 'ref_demo00000006' }),
      call(4, 'get_refund', { refundId: 'ref_zzzzzzzzzzzz' }),
      call(5, 'list_refunds', { limit: 0 }),
      call(6, 'list_refunds', { status: 'failed' }),
      call(7, 'cancel_refund', { refundId: 'ref_demo00000010' }),
      call(8, 'cancel_refund', { refundId: 'ref_demo00000010' }),
      call(9, 'cancel_refund', { refundId: 'ref_demo00000005' }),
      call(10, 'no_such_tool', {}),
      call(11, 'get_refund', 'not an object'),
      { jsonrpc: '2.0', id: 12, method: 'no/such/method' },
    ];
    child.stdin.write(messages.map((m) => JSON.stringify(m)).join('\n') + '\n');
    child.stdin.write('this line is not JSON\n');
    child.stdin.end();

    expect(await exited, stderr).toBe(0);

    const out = lines(stdout);
    const parsed = out.map((line) => {
      const json: unknown = JSON.parse(line);
      return JSONRPCMessageSchema.parse(json) as { jsonrpc: string; id?: number; result?: unknown; error?: unknown };
    });
    for (const message of parsed) expect(message.jsonrpc).toBe('2.0');
    // Every request got exactly one answer; the line that is not JSON got a Parse error (no id:
    // it has none); nothing else was written.
    const withId = parsed.filter((m) => m.id !== undefined);
    expect(withId.map((m) => m.id).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(parsed.filter((m) => m.id === undefined)).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: -32700 }) })]);
    const byId = new Map(parsed.map((m) => [m.id, m]));
    expect(byId.get(3)!.result).toMatchObject({ structuredContent: { refund: DEMO_COMPLETED_REFUND } });
    expect(byId.get(4)!.result).toMatchObject({ isError: true });
    expect(byId.get(5)!.result).toMatchObject({ isError: true });
    expect(byId.get(7)!.result).toMatchObject({ structuredContent: { refund: { status: 'cancelled' } } });
    expect(byId.get(8)!.result).toMatchObject({ isError: true });
    expect(byId.get(10)!.error).toBeDefined();
    expect(byId.get(12)!.error).toMatchObject({ code: -32601 });

    expect(stderr).toContain('serving MCP over stdio');
    expect(stderr).toContain('tool call');
    expect(stderr).toContain('shutting down');
    expect(stdout).not.toContain('serving MCP');
    expect(storedStatus(home, 'ref_demo00000010')).toBe('cancelled');
  });
});
