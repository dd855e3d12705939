/**
 * Key scopes on the MCP server: a session lists only the tools its key may call, and a call to
 * one beyond its scopes is refused as forbidden, with nothing done. Checked on every tool.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import type { Scope } from '../../src/domain/guardrails/scopes.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { toolsFor } from '../../src/mcp/tools.js';
import { allOperations } from '../../src/operations/index.js';
import { cleanupAll, countRows, createOrg, createTestApp, insertRefund } from '../support/fixtures.js';

let app: SqliteApp;
let org: string;
const clients: Client[] = [];

beforeEach(() => {
  app = createTestApp({ REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' });
  org = createOrg(app).id;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  cleanupAll();
});

async function connect(scopes: readonly Scope[] | undefined, readOnly = false): Promise<Client> {
  const server = createMcpServer({ service: app.service, caller: { organizationId: org, actor: 'mcp' }, readOnly, ...(scopes === undefined ? {} : { scopes }) });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'refundkit-scopes', version: '0.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  clients.push(client);
  return client;
}

function argsFor(name: string, refundId: string): Record<string, unknown> {
  if (name === 'get_refund' || name === 'cancel_refund') return { refundId };
  if (name === 'create_refund') return { transactionId: 'ch_scope1', amount: 1000, reason: 'other' };
  return {};
}

describe('tools/list by scope', () => {
  it('a read,write key (every key made before scopes) lists exactly what a server without scopes lists', async () => {
    const all = await (await connect(undefined)).listTools();
    expect(await (await connect(['read', 'write'])).listTools()).toEqual(all);
    expect(all.tools.map((tool) => tool.name)).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund', 'create_refund', 'cancel_refund']);
  });

  it.each([
    [['read'], ['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund']],
    [['write'], ['create_refund', 'cancel_refund']],
    [['approve', 'admin'], []],
  ] as const)('scopes %j list %j', async (scopes, names) => {
    expect((await (await connect(scopes)).listTools()).tools.map((tool) => tool.name)).toEqual(names);
    expect(toolsFor(false, scopes).map((tool) => tool.operation.name)).toEqual(names);
  });

  it('read-only mode still applies: a write key on a read-only server lists nothing', async () => {
    expect((await (await connect(['write'], true)).listTools()).tools).toEqual([]);
  });
});

describe('tools/call beyond the key scopes', () => {
  for (const operation of allOperations) {
    it(`${operation.name} needs '${operation.scope}': a key without it is refused as forbidden and nothing changes`, async () => {
      const refund = insertRefund(app, org, { status: 'pending' });
      const others: Scope[] = (['read', 'write', 'approve', 'admin'] as const).filter((scope) => scope !== operation.scope);
      const client = await connect(others);
      const events = countRows(app, 'refund_events');
      const result = (await client.callTool({ name: operation.name, arguments: argsFor(operation.name, refund.id) })) as CallToolResult;
      expect(result.isError).toBe(true);
      const block = result.content[0];
      const body = JSON.parse(block?.type === 'text' ? block.text : '{}') as { error: { code: string; message: string } };
      expect(body.error.code).toBe('forbidden');
      expect(body.error.message).toContain(`'${operation.scope}' scope`);
      expect(countRows(app, 'refund_events')).toBe(events);
      expect(countRows(app, 'refunds')).toBe(1);
    });
  }
});
