/**
 * /mcp without sessions (REFUNDKIT_MCP_STATELESS): every POST is answered on its own, so that
 * any process behind a balancer may take any request. The SDK's own client, over Streamable HTTP.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { countRows } from '../support/fixtures.js';
import { bearer, cleanupHttp, orgWithKey, raw, startTestServer, type TestServer } from '../support/http-server.js';

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' });

let s: TestServer;
let a: { organizationId: string; key: string; keyId: string };
const clients: Client[] = [];

async function connect(key: string, elicitation = false): Promise<{ client: Client; transport: StreamableHTTPClientTransport; asked: unknown[] }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const client = new Client({ name: 'refundkit-stateless-test', version: '0.0.0' }, elicitation ? { capabilities: { elicitation: {} } } : {});
  const asked: unknown[] = [];
  if (elicitation) client.setRequestHandler(ElicitRequestSchema, (request) => (asked.push(request), { action: 'accept', content: { confirm: true } }));
  await client.connect(transport);
  clients.push(client);
  return { client, transport, asked };
}

function body(result: CallToolResult): { refund?: { id: string; status: string }; error?: { code: string } } {
  const block = result.content[0];
  return JSON.parse(block?.type === 'text' ? block.text : '{}') as ReturnType<typeof body>;
}

beforeAll(async () => {
  s = await startTestServer({}, { mcpStateless: true });
  a = orgWithKey(s.app, 'Org A');
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
});
afterAll(() => cleanupHttp());

describe('stateless /mcp', () => {
  it('serves initialize, tools/list and tool calls with no session id', async () => {
    const { client, transport } = await connect(a.key);
    expect(transport.sessionId).toBeUndefined();
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('create_refund');
    const created = (await client.callTool({ name: 'create_refund', arguments: { transactionId: 'ch_stateless1', amount: 900, reason: 'duplicate_charge' } })) as CallToolResult;
    expect(created.isError).toBeFalsy();
    const id = body(created).refund?.id ?? '';
    const got = (await client.callTool({ name: 'get_refund', arguments: { refundId: id } })) as CallToolResult;
    expect(body(got).refund?.id).toBe(id);
  });

  it('answers a tools/list that no initialize preceded on this process (the balancer sent it elsewhere)', async () => {
    const res = await raw(`${s.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(a.key) }, body: LIST });
    expect(res.status).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    const answer = res.json() as { id: number; result: { tools: unknown[] } };
    expect(answer.id).toBe(7);
    expect(answer.result.tools.length).toBeGreaterThan(0);
  });

  it('still checks the key on every request: a revoked key is refused at its next call', async () => {
    const b = orgWithKey(s.app, 'Org B');
    const { client } = await connect(b.key);
    await client.listTools();
    await s.app.apiKeys.revoke(b.keyId);
    await expect(client.listTools()).rejects.toThrow(/401|invalid|revoked/i);
  });

  it('GET and DELETE are 405 with Allow: POST (no stream, no session to end)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await raw(`${s.url}/mcp`, { method, headers: { ...MCP_HEADERS, ...bearer(a.key) } });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.text).toContain('stateless');
    }
  });

  it('a create the policy wants confirmed is held for approval, never asked, even of a client that can answer', async () => {
    const c = orgWithKey(s.app, 'Org C');
    await s.app.guardrails.setPolicy(c.organizationId, { ...DEMO_AGENT_POLICY, confirmWrites: true }, 'operator:test', new Date().toISOString());
    const { client, asked } = await connect(c.key, true);
    const result = (await client.callTool({ name: 'create_refund', arguments: { transactionId: 'ch_statelessconf', amount: 1200, reason: 'duplicate_charge' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(asked).toEqual([]);
    expect(body(result).refund?.status).toBe('pending');
    const note = result.content[1];
    expect(note?.type === 'text' ? note.text : '').toMatch(/waits for a person's approval/);
    expect(countRows(s.app, 'approval_requests')).toBe(1);
  });
});

describe('REFUNDKIT_MCP_STATELESS', () => {
  it('is off by default on SQLite, on when set, and always on with a PostgreSQL URL', () => {
    expect(loadConfig({}).http.mcpStateless).toBe(false);
    expect(loadConfig({ REFUNDKIT_MCP_STATELESS: '1' }).http.mcpStateless).toBe(true);
    expect(loadConfig({ REFUNDKIT_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' }).http.mcpStateless).toBe(true);
    expect(() => loadConfig({ REFUNDKIT_MCP_STATELESS: 'maybe' })).toThrow(/REFUNDKIT_MCP_STATELESS must be 1 or 0/);
  });
});
