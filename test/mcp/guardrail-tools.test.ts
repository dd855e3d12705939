/**
 * The guardrail read tools over MCP with an agent's key: preview_refund, list_refund_events, and
 * get_refund's approval beside a held refund (the refund itself keeps the reference's shape).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { cleanupAll, createKey, createOrg, createTestApp, insertRefund } from '../support/fixtures.js';

let app: SqliteApp;
let client: Client;
let org: string;

const REFUND_KEYS = ['id', 'organizationId', 'externalRefundId', 'transactionId', 'amount', 'currency', 'reason', 'status', 'processor', 'metadata', 'initiatedBy', 'createdAt', 'updatedAt'];

beforeEach(async () => {
  app = createTestApp({ REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' });
  org = createOrg(app).id;
  await app.guardrails.setPolicy(org, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
  const keyId = createKey(app, org).keyId;
  const server = createMcpServer({ service: app.service, caller: { organizationId: org, actor: 'mcp', keyId }, readOnly: false });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  client = new Client({ name: 'refundkit-guardrails', version: '0.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
});

afterEach(async () => {
  await client.close();
  cleanupAll();
});

async function call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  return result.structuredContent ?? {};
}

describe('guardrail read tools over MCP', () => {
  it('preview_refund answers without creating; the create that follows agrees', async () => {
    const args = { transactionId: 'ch_mcp1', amount: 5000, reason: 'other' };
    const preview = await call('preview_refund', args);
    expect(preview).toMatchObject({ policyApplies: true, outcome: 'approval', rule: 'approval_threshold', budgetLeft: { currency: 'usd', count: 10, amount: 30_000 } });
    expect((await call('list_refunds', {})).refunds).toEqual([]);
    const { refund } = await call('create_refund', args);
    expect(refund).toMatchObject({ status: 'pending' });
  });

  it('get_refund shows the approval beside a held refund, whose shape stays the reference\'s', async () => {
    const { refund } = (await call('create_refund', { transactionId: 'ch_mcp2', amount: 5000, reason: 'other' })) as { refund: { id: string } };
    const got = await call('get_refund', { refundId: refund.id });
    expect(Object.keys(got.refund as object).sort()).toEqual([...REFUND_KEYS].sort());
    expect(got.approval).toMatchObject({ refundId: refund.id, status: 'requested', rule: 'approval_threshold', decidedBy: null });
    expect(got.approval).not.toHaveProperty('organizationId');
  });

  it('get_refund has no approval for a refund that never needed one', async () => {
    const plain = insertRefund(app, org, { status: 'pending' });
    expect(Object.keys(await call('get_refund', { refundId: plain.id }))).toEqual(['refund']);
  });

  it('list_refund_events: the creation and the approval request, then the decision', async () => {
    const { refund } = (await call('create_refund', { transactionId: 'ch_mcp3', amount: 5000, reason: 'other' })) as { refund: { id: string; organizationId: string } };
    const approval = await app.guardrails.approvalForRefund(refund.organizationId, refund.id);
    await app.service.decideApproval(refund.organizationId, approval?.id ?? '', 'reject', { kind: 'operator', name: 'ana' }, 'no');
    const audit = await call('list_refund_events', { refundId: refund.id });
    expect(audit.approval).toMatchObject({ status: 'rejected', decidedBy: 'operator:ana', note: 'no' });
    expect((audit.events as Array<{ from: string | null; to: string; actor: string }>).map((e) => [e.from, e.to, e.actor])).toEqual([
      [null, 'pending', 'mcp'],
      ['pending', 'pending', 'mcp'],
      ['pending', 'cancelled', 'dashboard'],
    ]);
  });
});
