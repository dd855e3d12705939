/**
 * The tools built from the operation table, and tools/list and tools/call as our own handlers on
 * the SDK's low-level Server, spoken to as raw JSON-RPC over an in-memory transport: no transport
 * check runs first there, so what the handlers themselves answer is what is seen.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LATEST_PROTOCOL_VERSION, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { allOperations } from '../../src/operations/index.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { toolsFor } from '../../src/mcp/tools.js';
import { cleanupAll, createOrg, createTestApp } from '../support/fixtures.js';

afterEach(() => cleanupAll());

describe('toolsFor', () => {
  it('offers every operation, in the table order, each under its own name, text and annotations', () => {
    const tools = toolsFor(false);
    expect(tools.map((tool) => tool.operation)).toEqual(allOperations);
    for (const { operation, definition } of tools) {
      expect(definition).toMatchObject({ name: operation.name, title: operation.title, description: operation.description });
      expect(definition.annotations).toEqual({ title: operation.title, ...operation.annotations });
    }
  });

  it('in read-only mode, offers exactly the operations marked readOnlyHint', () => {
    const expected = allOperations.filter((operation) => operation.annotations.readOnlyHint).map((operation) => operation.name);
    expect(expected.length).toBeGreaterThan(0);
    expect(toolsFor(true).map((tool) => tool.operation.name)).toEqual(expected);
  });

  it('converts each schema once per process, not per server or per list', () => {
    const [first] = toolsFor(false);
    const [again] = toolsFor(true);
    expect(again?.definition).toBe(first?.definition);
  });

  it('writes each tool in the key order the SDK McpServer wrote, so the wire stays as it was', () => {
    for (const { definition } of toolsFor(false)) {
      expect(Object.keys(definition)).toEqual(['name', 'title', 'description', 'inputSchema', 'annotations', 'execution', 'outputSchema']);
      expect(definition.execution).toEqual({ taskSupport: 'forbidden' });
    }
  });
});

/** A raw JSON-RPC session with a server built by createMcpServer, already initialized. */
async function rawSession(readOnly = false): Promise<(message: Record<string, unknown>) => Promise<unknown>> {
  const app = createTestApp();
  const server = createMcpServer({ service: app.service, caller: { organizationId: createOrg(app).id, actor: 'mcp' }, readOnly });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const waiting = new Map<unknown, (message: JSONRPCMessage) => void>();
  clientSide.onmessage = (message) => {
    if ('id' in message) waiting.get(message.id)?.(message);
  };
  await server.connect(serverSide);
  await clientSide.start();
  const send = (message: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve) => {
      waiting.set(message.id, resolve);
      void clientSide.send({ jsonrpc: '2.0', ...message } as JSONRPCMessage);
    });
  await send({ id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
  await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return send;
}

describe('tools/list and tools/call on the low-level Server', () => {
  it('answers a tools/list that has no params at all (a JSON message drops an undefined key)', async () => {
    const send = await rawSession();
    const answer = await send({ id: 1, method: 'tools/list' });
    expect(answer).toMatchObject({ id: 1, result: { tools: toolsFor(false).map((tool) => tool.definition) } });
  });

  it('answers params that do not fit tools/list or tools/call with Invalid params naming the param', async () => {
    const send = await rawSession();
    expect(await send({ id: 2, method: 'tools/list', params: { cursor: 5 } })).toMatchObject({
      id: 2,
      error: { code: -32602, message: expect.stringMatching(/params\.cursor/) },
    });
    expect(await send({ id: 3, method: 'tools/call' })).toMatchObject({ id: 3, error: { code: -32602 } });
    expect(await send({ id: 4, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } })).toMatchObject({
      id: 4,
      error: { code: -32602, message: expect.stringContaining("Unknown tool 'no_such_tool'; available: get_refund, list_refunds, list_refund_events, preview_refund, create_refund, cancel_refund") },
    });
  });

  it('in read-only mode, lists and runs only the read-only tools', async () => {
    const send = await rawSession(true);
    const listed = (await send({ id: 1, method: 'tools/list' })) as { result: { tools: { name: string }[] } };
    expect(listed.result.tools.map((tool) => tool.name)).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund']);
    expect(await send({ id: 2, method: 'tools/call', params: { name: 'cancel_refund', arguments: { refundId: 'ref_abc123def456' } } })).toMatchObject({
      error: { code: -32602, message: expect.stringContaining("Unknown tool 'cancel_refund'; available: get_refund, list_refunds") },
    });
  });

  it('runs the tool with the arguments as sent, so that a __proto__ key is refused, not dropped', async () => {
    const send = await rawSession();
    const args = JSON.parse('{"refundId":"ref_abc123def456","__proto__":{"x":1}}') as unknown;
    const answer = (await send({ id: 5, method: 'tools/call', params: { name: 'get_refund', arguments: args } })) as {
      result: { isError: boolean; content: { text: string }[] };
    };
    expect(answer.result.isError).toBe(true);
    expect(JSON.parse(answer.result.content[0]?.text ?? '')).toEqual({ error: { message: "Unknown field '__proto__'", code: 'validation_error' } });
  });
});
