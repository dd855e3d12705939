/**
 * The MCP side of in-band confirmation: a client that declared form elicitation is asked (one
 * boolean) and its answer decides; a client that did not is never asked, and the domain falls
 * back (held for approval). Over the SDK's in-memory transport; stdio is in test/e2e.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { answerOf, CONFIRM_SCHEMA } from '../../src/mcp/confirm.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { cleanupAll, countRows, createKey, createOrg, createTestApp } from '../support/fixtures.js';

let app: SqliteApp;
let org: string;
let keyId: string;
const clients: Client[] = [];

beforeEach(async () => {
  app = createTestApp({ REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' });
  org = createOrg(app).id;
  keyId = createKey(app, org).keyId;
  await app.guardrails.setPolicy(org, { ...DEMO_AGENT_POLICY, confirmWrites: true }, 'operator:test', new Date().toISOString());
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  cleanupAll();
});

async function connect(answer?: (request: ElicitRequest) => ElicitResult): Promise<{ client: Client; asked: ElicitRequest[] }> {
  const server = createMcpServer({ service: app.service, caller: { organizationId: org, actor: 'mcp', keyId }, readOnly: false });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'refundkit-confirm', version: '0.0.0' }, answer === undefined ? {} : { capabilities: { elicitation: {} } });
  const asked: ElicitRequest[] = [];
  if (answer !== undefined) {
    client.setRequestHandler(ElicitRequestSchema, (request) => (asked.push(request), answer(request)));
  }
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  clients.push(client);
  return { client, asked };
}

function body(result: CallToolResult): { refund?: { id: string; status: string }; error?: { code: string; message: string } } {
  const block = result.content[0];
  return JSON.parse(block?.type === 'text' ? block.text : '{}') as ReturnType<typeof body>;
}

const create = (client: Client) =>
  client.callTool({ name: 'create_refund', arguments: { transactionId: 'ch_mcpconfirm', amount: 1200, reason: 'duplicate_charge' } }) as Promise<CallToolResult>;

describe('answerOf', () => {
  it('only an accepted form with confirm true is a yes', () => {
    expect(answerOf({ action: 'accept', content: { confirm: true } })).toBe('accepted');
    expect(answerOf({ action: 'accept', content: { confirm: false } })).toBe('declined');
    expect(answerOf({ action: 'accept' })).toBe('declined');
    expect(answerOf({ action: 'decline' })).toBe('declined');
    expect(answerOf({ action: 'cancel' })).toBe('cancelled');
  });
});

describe('create_refund with an elicitation-capable client', () => {
  it('asks with a plain message and a one-boolean form; accept creates the refund', async () => {
    const { client, asked } = await connect(() => ({ action: 'accept', content: { confirm: true } }));
    const result = await create(client);
    expect(result.isError).toBeUndefined();
    expect(body(result).refund?.status).toBe('processing');
    expect(asked).toHaveLength(1);
    const params = asked[0]?.params;
    expect(params?.message).toContain('$12.00 (1200 usd)');
    expect(params?.message).toContain('ch_mcpconfirm');
    expect(params !== undefined && 'requestedSchema' in params ? params.requestedSchema : undefined).toEqual(CONFIRM_SCHEMA);
  });

  it.each([
    ['decline', { action: 'decline' }],
    ['cancel', { action: 'cancel' }],
    ['accept unchecked', { action: 'accept', content: { confirm: false } }],
  ] as const)('%s: confirmation_declined, nothing created', async (_name, answer) => {
    const { client } = await connect(() => answer);
    const result = await create(client);
    expect(result.isError).toBe(true);
    expect(body(result).error?.code).toBe('confirmation_declined');
    expect(countRows(app, 'refunds')).toBe(0);
  });

  it('an answer that breaks the form is no yes', async () => {
    const { client } = await connect(() => ({ action: 'accept', content: { confirm: 'yes' } }));
    expect(body(await create(client)).error?.code).toBe('confirmation_declined');
    expect(countRows(app, 'refunds')).toBe(0);
  });
});

describe('without the elicitation capability', () => {
  it('create_refund is held for approval and the result says so', async () => {
    const { client } = await connect();
    const result = await create(client);
    expect(body(result).refund?.status).toBe('pending');
    const note = result.content[1];
    expect(note?.type === 'text' ? note.text : '').toMatch(/waits for a person's approval/);
    expect(countRows(app, 'approval_requests')).toBe(1);
  });

  it('cancel_refund is refused: a person must cancel it', async () => {
    const { client: asking } = await connect(() => ({ action: 'accept', content: { confirm: true } }));
    const refund = body(await create(asking)).refund;
    const { client } = await connect();
    const result = (await client.callTool({ name: 'cancel_refund', arguments: { refundId: refund?.id } })) as CallToolResult;
    expect(body(result).error?.code).toBe('policy_violation');
    expect(body(result).error?.message).toContain('A person must cancel it');
  });
});
