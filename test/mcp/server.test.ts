/**
 * The MCP server through the SDK's own client over an in-memory transport: what tools/list shows,
 * every tool's happy path, every error code a tool can return, read-only mode and tenancy.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { errors } from '../../src/domain/errors.js';
import type { CancelOutcome, ProcessorStatus, RefundProcessor, SubmitOutcome } from '../../src/domain/ports.js';
import { systemClock } from '../../src/domain/ports.js';
import { RefundService } from '../../src/domain/refund-service.js';
import type { Initiator, Refund } from '../../src/domain/refund.js';
import { createLogger, redact, type Logger } from '../../src/logger.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { cleanupAll, countRows, createOrg, createTestApp, insertRefund, rawEvents, storedStatus, settingsWith } from '../support/fixtures.js';

let app: SqliteApp;
let orgA: string;
let orgB: string;
const clients: Client[] = [];

beforeEach(() => {
  app = createTestApp();
  orgA = createOrg(app, 'Org A').id;
  orgB = createOrg(app, 'Org B').id;
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  cleanupAll();
});

interface ConnectOptions {
  organizationId?: string;
  /**
   * The caller's actor, as an adapter sets it. The real adapters (/mcp, stdio) set `mcp`, and are
   * checked in test/http/mcp.test.ts and test/e2e/stdio.test.ts; here the server must stamp
   * whatever it was given, so the tests about stamping give it something else.
   */
  actor?: Initiator;
  readOnly?: boolean;
  service?: RefundService;
  logger?: Logger;
}

async function connect(options: ConnectOptions = {}): Promise<Client> {
  const server = createMcpServer({
    service: options.service ?? app.service,
    caller: { organizationId: options.organizationId ?? orgA, actor: options.actor ?? 'mcp' },
    readOnly: options.readOnly ?? false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'refundkit-test', version: '0.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args?: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool(args === undefined ? { name } : { name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  expect(result.content).toHaveLength(1);
  const block = result.content[0]!;
  expect(block.type).toBe('text');
  return block.type === 'text' ? block.text : '';
}

/** A success: structuredContent, and a text block carrying exactly the same JSON. */
function success(result: CallToolResult): Record<string, unknown> {
  expect(result.isError ?? false).toBe(false);
  expect(result.structuredContent).toBeDefined();
  expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  return result.structuredContent!;
}

/** A failure: isError, no structured content, and text that is exactly the reference error body. */
function failure(result: CallToolResult, code: string, message?: string): string {
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  const text = textOf(result);
  const body = JSON.parse(text) as { error: { message: string; code: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error)).toEqual(['message', 'code']);
  expect(body.error.code).toBe(code);
  if (message !== undefined) {
    expect(body.error.message).toBe(message);
    expect(text).toBe(JSON.stringify({ error: { message, code } }));
  }
  return body.error.message;
}

/** A processor double for the paths the sandbox cannot produce (an outage, a bug). */
function failingProcessor(name: string, error: Error): RefundProcessor {
  return {
    name,
    cancel: (): Promise<CancelOutcome> => Promise.reject(error),
    submit: (): Promise<SubmitOutcome> => Promise.reject(error),
    retrieve: (): Promise<ProcessorStatus> => Promise.reject(error),
    findSubmitted: () => Promise.reject(error),
  };
}

function serviceWith(processor: RefundProcessor): RefundService {
  return new RefundService({
    store: app.refunds,
    processors: new StaticProcessorRegistry([processor]),
    clock: systemClock,
    settings: settingsWith(),
  });
}

const ISSUE_2_TOOLS = ['get_refund', 'list_refunds', 'cancel_refund'];

describe('create_refund when the processor does not answer within the call deadline (issue 9)', () => {
  it('answers the pending refund, unchanged in shape, with a second text block saying it is queued and what to do', async () => {
    // Stripe that never answers; the submission goes on after the call, as the server would.
    const silent: RefundProcessor = { ...failingProcessor('stripe', new Error('unused')), submit: () => new Promise<SubmitOutcome>(() => undefined) };
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([silent]),
      clock: systemClock,
      settings: settingsWith({ callDeadlineMs: 100 }),
    });
    const result = await call(await connect({ service }), 'create_refund', {
      transactionId: 'ch_3PqTestCharge',
      amount: 2500,
      reason: 'product_defective',
      idempotencyKey: 'ticket-deadline',
    });
    expect(result.isError ?? false).toBe(false);
    const refund = (result.structuredContent as { refund: Refund }).refund;
    expect(refund).toMatchObject({ status: 'pending', processor: 'stripe', externalRefundId: null });
    expect(result.content).toHaveLength(2);
    const [data, note] = result.content;
    expect(data?.type === 'text' ? JSON.parse(data.text) : undefined).toEqual(result.structuredContent);
    expect(note).toEqual({
      type: 'text',
      text: `Refund ${refund.id} is pending: it is recorded and queued, and the server submits it to the processor by itself (nothing more to do). Check its status with get_refund. Do not create it again: a repeat with the same idempotencyKey returns this refund, without it a second refund would be made.`,
    });
  });

  it('a refund the processor took carries no note', async () => {
    const result = await call(await connect(), 'create_refund', { transactionId: 'ch_3PqTestCharge', amount: 2500, reason: 'other' });
    expect((result.structuredContent as { refund: Refund }).refund.status).not.toBe('pending');
    expect(result.content).toHaveLength(1);
  });
});

describe('tools/list', () => {
  it('offers the refund tools, reads before writes', async () => {
    const { tools } = await (await connect()).listTools();
    const names = tools.map((t) => t.name);
    for (const name of ISSUE_2_TOOLS) expect(names).toContain(name);
    expect(names).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund', 'create_refund', 'cancel_refund']);
  });

  it('each tool has a title, a model-facing description, schemas and annotations', async () => {
    const { tools } = await (await connect()).listTools();
    for (const tool of tools) {
      expect(tool.title, tool.name).toMatch(/\S/);
      expect(tool.annotations?.title, tool.name).toBe(tool.title);
      expect(tool.description!.length, tool.name).toBeGreaterThan(150);
      // Says what comes back and which sibling tool to call next.
      expect(tool.description, tool.name).toMatch(/Returns \{/);
      const siblings = tools.map((t) => t.name).filter((n) => n !== tool.name);
      expect(siblings.some((n) => tool.description!.includes(n)), tool.name).toBe(true);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
        expect(typeof tool.annotations?.[hint], `${tool.name}.${hint}`).toBe('boolean');
      }
    }
  });

  it('get_refund: read-only, open world (it may ask the processor), refundId required with its pattern', async () => {
    const tool = byName(await (await connect()).listTools(), 'get_refund');
    expect(tool.title).toBe('Get refund');
    expect(tool.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(tool.inputSchema.required).toEqual(['refundId']);
    expect(tool.inputSchema.properties).toEqual({
      refundId: expect.objectContaining({ type: 'string', pattern: '^ref_[a-z0-9]{12}$' }),
    });
    expect(tool.outputSchema?.required).toEqual(['refund']);
    expect(tool.description).toContain('list_refunds');
    expect(tool.description).toContain('cancel_refund');
  });

  it('list_refunds: read-only; every field optional with its bounds', async () => {
    const tool = byName(await (await connect()).listTools(), 'list_refunds');
    expect(tool.title).toBe('List refunds');
    expect(tool.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
    expect(tool.inputSchema.required ?? []).toEqual([]);
    const props = tool.inputSchema.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(props).sort()).toEqual(['limit', 'offset', 'processor', 'status']);
    expect(props.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(props.offset).toMatchObject({ type: 'integer', minimum: 0 });
    expect(props.status).toMatchObject({ enum: ['pending', 'processing', 'completed', 'failed', 'cancelled'] });
    expect(tool.outputSchema?.required).toEqual(['refunds', 'limit', 'offset', 'nextOffset']);
    expect(tool.description).toMatch(/default 25/);
    expect(tool.description).toContain('nextOffset');
  });

  it('cancel_refund: a destructive write that reaches the processor', async () => {
    const tool = byName(await (await connect()).listTools(), 'cancel_refund');
    expect(tool.title).toBe('Cancel refund');
    expect(tool.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    expect(tool.inputSchema.required).toEqual(['refundId']);
    expect(Object.keys(tool.inputSchema.properties ?? {})).toEqual(['refundId']);
    expect(tool.description).toContain('get_refund');
    expect(tool.description).toContain('refund_not_cancellable');
  });

  it('matches the committed snapshot (a schema change must be a visible diff)', async () => {
    const listed = await (await connect()).listTools();
    await expect(`${JSON.stringify(listed.tools, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/tools-list.json');
  });

  it('the server instructions name the error codes', async () => {
    const client = await connect();
    const instructions = client.getInstructions() ?? '';
    for (const code of ['validation_error', 'not_found', 'refund_not_cancellable', 'processor_unavailable']) {
      expect(instructions).toContain(code);
    }
    expect(client.getServerVersion()?.name).toBe('refundkit-mcp');
  });
});

function byName(listed: { tools: Tool[] }, name: string): Tool {
  const tool = listed.tools.find((t) => t.name === name);
  expect(tool, name).toBeDefined();
  return tool!;
}

describe('read-only mode', () => {
  it('registers no write tool', async () => {
    const { tools } = await (await connect({ readOnly: true })).listTools();
    expect(tools.map((t) => t.name)).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund']);
    for (const tool of tools) expect(tool.annotations?.readOnlyHint).toBe(true);
  });

  it('calling cancel_refund is an error and changes nothing', async () => {
    const refund = insertRefund(app, orgA, { status: 'pending' });
    const client = await connect({ readOnly: true });
    await expect(call(client, 'cancel_refund', { refundId: refund.id })).rejects.toThrow(/Unknown tool 'cancel_refund'/);
    expect(storedStatus(app, refund.id)).toBe('pending');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('read tools still work', async () => {
    const refund = insertRefund(app, orgA);
    const client = await connect({ readOnly: true });
    expect(success(await call(client, 'get_refund', { refundId: refund.id }))).toEqual({ refund });
  });
});

describe('an unknown tool', () => {
  it('is a protocol error that lists the tools', async () => {
    await expect(call(await connect(), 'delete_refund', {})).rejects.toThrow(/Unknown tool 'delete_refund'.*get_refund/);
  });
});

describe('a credential the caller sent, echoed back', () => {
  const SECRETS = [
    ['a Stripe secret key', `sk_test_${'Q7'.repeat(12)}`],
    ['a RefundKit API key', `rk_live_${'Zx9'.repeat(10)}`],
    ['a webhook signing secret', `whsec_${'Ab3'.repeat(10)}`],
  ] as const;

  it.each(SECRETS)('is masked in the error body when %s is sent as a field name', async (_label, secret) => {
    const result = await call(await connect(), 'list_refunds', { [secret]: 1 });
    failure(result, 'validation_error', `Unknown field '${redact(secret)}'`);
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it.each(SECRETS)('is masked in the protocol error when %s is sent as a tool name', async (_label, secret) => {
    const error = await call(await connect(), secret, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`Unknown tool '${redact(secret)}'`);
    expect((error as Error).message).not.toContain(secret);
  });
});

describe('get_refund', () => {
  it('returns { refund } as structured content and as text', async () => {
    const refund = insertRefund(app, orgA, { metadata: { orderId: 'order_1' }, status: 'completed' });
    const data = success(await call(await connect(), 'get_refund', { refundId: refund.id }));
    expect(data).toEqual({ refund });
    expect(data.refund).toMatchObject({ organizationId: orgA, metadata: { orderId: 'order_1' }, status: 'completed' });
  });

  it('an unknown id is not_found', async () => {
    failure(await call(await connect(), 'get_refund', { refundId: 'ref_000000000000' }), 'not_found', 'Refund not found');
  });
});

describe('list_refunds', () => {
  it('applies the defaults (limit 25, offset 0) and pages newest first', async () => {
    const ids = Array.from({ length: 30 }, () => insertRefund(app, orgA).id).reverse();
    const client = await connect();
    const first = success(await call(client, 'list_refunds', {}));
    expect(first).toMatchObject({ limit: 25, offset: 0, nextOffset: 25 });
    expect((first.refunds as Refund[]).map((r) => r.id)).toEqual(ids.slice(0, 25));
    const second = success(await call(client, 'list_refunds', { offset: 25 }));
    expect(second).toMatchObject({ limit: 25, offset: 25, nextOffset: null });
    expect((second.refunds as Refund[]).map((r) => r.id)).toEqual(ids.slice(25));
  });

  it('works with no arguments at all', async () => {
    insertRefund(app, orgA);
    const data = success(await call(await connect(), 'list_refunds'));
    expect(data).toMatchObject({ limit: 25, offset: 0, nextOffset: null });
    expect(data.refunds).toHaveLength(1);
  });

  it('filters by status and processor', async () => {
    const wanted = insertRefund(app, orgA, { status: 'failed', processor: 'stripe' });
    insertRefund(app, orgA, { status: 'failed', processor: 'sandbox' });
    insertRefund(app, orgA, { status: 'completed', processor: 'stripe' });
    const data = success(await call(await connect(), 'list_refunds', { status: 'failed', processor: 'stripe', limit: 10 }));
    expect(data).toEqual({ refunds: [wanted], limit: 10, offset: 0, nextOffset: null });
  });
});

describe('create_refund', () => {
  it("creates the refund for the session's organization, initiated by the session's actor, and submits it", async () => {
    const client = await connect({ actor: 'dashboard' });
    const data = success(
      await call(client, 'create_refund', {
        transactionId: 'ch_mcpServerTest1',
        amount: 1234,
        reason: 'product_defective',
        metadata: { ticketId: 'SUP-9' },
        idempotencyKey: 'server-test-1',
      }),
    );
    const refund = data.refund as Refund;
    expect(refund).toMatchObject({
      organizationId: orgA,
      transactionId: 'ch_mcpServerTest1',
      amount: 1234,
      currency: 'usd',
      reason: 'product_defective',
      metadata: { ticketId: 'SUP-9' },
      processor: 'sandbox',
      status: 'processing',
      initiatedBy: 'dashboard',
    });
    expect(rawEvents(app, refund.id).map((e) => [e.to_status, e.initiated_by])).toEqual([
      ['pending', 'dashboard'],
      ['processing', 'system'],
    ]);
    // The same key and arguments: the same refund, nothing new.
    const again = success(
      await call(client, 'create_refund', {
        transactionId: 'ch_mcpServerTest1',
        amount: 1234,
        reason: 'product_defective',
        metadata: { ticketId: 'SUP-9' },
        idempotencyKey: 'server-test-1',
      }),
    );
    expect(again).toEqual({ refund });
    expect(countRows(app, 'refunds')).toBe(1);
  });

  it('a refusal is a validation_error body naming the field, and nothing is created', async () => {
    const result = await call(await connect(), 'create_refund', { transactionId: 'ch_mcpServerTest2', amount: 0, reason: 'other' });
    failure(result, 'validation_error', 'Amount must be an integer number of minor units between 1 and 99999999 (2500 = $25.00)');
    expect(countRows(app, 'refunds')).toBe(0);
  });
});

describe('cancel_refund', () => {
  it("cancels a pending refund and writes an event initiated by the session's actor", async () => {
    const refund = insertRefund(app, orgA, { status: 'pending', initiatedBy: 'api' });
    const data = success(await call(await connect({ actor: 'dashboard' }), 'cancel_refund', { refundId: refund.id }));
    expect(data.refund).toMatchObject({ id: refund.id, status: 'cancelled', initiatedBy: 'api' });
    expect(storedStatus(app, refund.id)).toBe('cancelled');
    const events = rawEvents(app, refund.id);
    expect(events.at(-1)).toMatchObject({ from_status: 'pending', to_status: 'cancelled', initiated_by: 'dashboard' });
  });

  it("cancels a processing sandbox refund the sandbox lets go, as the session's actor", async () => {
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'sandbox', amount: 2000 });
    const data = success(await call(await connect({ actor: 'dashboard' }), 'cancel_refund', { refundId: refund.id }));
    expect(data.refund).toMatchObject({ status: 'cancelled' });
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ from_status: 'processing', to_status: 'cancelled', initiated_by: 'dashboard' });
  });

  it.each(['completed', 'failed', 'cancelled'] as const)('a %s refund is refund_not_cancellable', async (status) => {
    const refund = insertRefund(app, orgA, { status });
    failure(
      await call(await connect(), 'cancel_refund', { refundId: refund.id }),
      'refund_not_cancellable',
      `Refund cannot be cancelled — status is '${status}'`,
    );
    expect(storedStatus(app, refund.id)).toBe(status);
  });

  it('a processor refusal is refund_not_cancellable with the status now (sandbox, amount ending in 99)', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'sandbox', amount: 7999 });
    const message = failure(await call(await connect(), 'cancel_refund', { refundId: refund.id }), 'refund_not_cancellable');
    expect(message).toMatch(/processor refused/);
    expect(message).toContain("status is 'completed'");
    expect(storedStatus(app, refund.id)).toBe('completed');
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ to_status: 'completed', initiated_by: 'system' });
  });

  it('a processing stripe refund without Stripe configured is processor_not_configured; nothing changes', async () => {
    expect(app.config.stripe.secretKey).toBeUndefined();
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'stripe' });
    const message = failure(await call(await connect(), 'cancel_refund', { refundId: refund.id }), 'processor_not_configured');
    expect(message).toContain("'stripe'");
    expect(message).toContain('STRIPE_SECRET_KEY');
    expect(storedStatus(app, refund.id)).toBe('processing');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('a processor outage is processor_unavailable; nothing changes', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'sandbox' });
    const outage = errors.processorUnavailable('sandbox', { cause: new Error('ECONNRESET') });
    const client = await connect({ service: serviceWith(failingProcessor('sandbox', outage)) });
    failure(await call(client, 'cancel_refund', { refundId: refund.id }), 'processor_unavailable', outage.message);
    expect(storedStatus(app, refund.id)).toBe('processing');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('an unexpected throw is internal_error without its message (which goes to the log)', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'sandbox' });
    const secret = 'sk_test_' + 'L'.repeat(24);
    const bug = new Error(`database at /srv/secret/path exploded with ${secret}`);
    const lines: string[] = [];
    const client = await connect({
      service: serviceWith(failingProcessor('sandbox', bug)),
      logger: createLogger('debug', (line) => lines.push(line)),
    });
    const result = await call(client, 'cancel_refund', { refundId: refund.id });
    failure(result, 'internal_error', 'Internal error');
    expect(JSON.stringify(result)).not.toContain('exploded');
    expect(JSON.stringify(result)).not.toContain('/srv/secret');
    expect(storedStatus(app, refund.id)).toBe('processing');
    const logged = lines.join('');
    expect(logged).toContain('exploded');
    expect(logged).toContain('cancel_refund');
    expect(logged).not.toContain(secret);
  });

  it('two cancels of the same refund: the second is refund_not_cancellable, one event', async () => {
    const refund = insertRefund(app, orgA, { status: 'pending' });
    const client = await connect();
    success(await call(client, 'cancel_refund', { refundId: refund.id }));
    failure(
      await call(client, 'cancel_refund', { refundId: refund.id }),
      'refund_not_cancellable',
      "Refund cannot be cancelled — status is 'cancelled'",
    );
    expect(rawEvents(app, refund.id).filter((e) => e.to_status === 'cancelled')).toHaveLength(1);
  });
});

describe('validation_error names the field and the rule', () => {
  const ID_RULE =
    "refundId must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456";

  it.each([
    ['list_refunds', { limit: 0 }, 'Limit must be between 1 and 100'],
    ['list_refunds', { limit: 101 }, 'Limit must be between 1 and 100'],
    ['list_refunds', { limit: 1.5 }, 'Limit must be an integer between 1 and 100'],
    ['list_refunds', { limit: '10' }, 'Limit must be an integer between 1 and 100'],
    ['list_refunds', { offset: -1 }, 'Offset must be an integer of 0 or more'],
    ['list_refunds', { status: 'canceled' }, 'Status must be one of: pending, processing, completed, failed, cancelled'],
    ['list_refunds', { sort: 'asc' }, "Unknown field 'sort'"],
    ['get_refund', {}, 'refundId is required'],
    ['get_refund', { refundId: 'ref_ABC' }, ID_RULE],
    ['get_refund', { refundId: 42 }, ID_RULE],
    ['get_refund', { refundId: 'ref_abc123def456', organizationId: 'org_x' }, "Unknown field 'organizationId'"],
    ['cancel_refund', {}, 'refundId is required'],
    ['cancel_refund', { refundId: 'abc' }, ID_RULE],
  ])('%s %j', async (tool, args, message) => {
    failure(await call(await connect(), tool, args), 'validation_error', message);
  });

  it('get_refund with no arguments at all', async () => {
    failure(await call(await connect(), 'get_refund'), 'validation_error', 'refundId is required');
  });

  it('a rejected cancel changes nothing', async () => {
    const refund = insertRefund(app, orgA, { status: 'pending' });
    failure(await call(await connect(), 'cancel_refund', { refundId: refund.id, force: true }), 'validation_error');
    expect(storedStatus(app, refund.id)).toBe('pending');
  });
});

describe('tenant isolation', () => {
  it("org B never sees org A's refund: get and cancel are not_found, list leaves it out", async () => {
    const theirs = insertRefund(app, orgA, { status: 'pending', processor: 'sandbox' });
    const mine = insertRefund(app, orgB, { status: 'pending', processor: 'sandbox' });
    const client = await connect({ organizationId: orgB });
    failure(await call(client, 'get_refund', { refundId: theirs.id }), 'not_found', 'Refund not found');
    failure(await call(client, 'cancel_refund', { refundId: theirs.id }), 'not_found', 'Refund not found');
    expect(storedStatus(app, theirs.id)).toBe('pending');
    expect(rawEvents(app, theirs.id)).toHaveLength(1);
    for (const args of [{}, { status: 'pending' }, { processor: 'sandbox' }, { status: 'pending', processor: 'sandbox', limit: 100 }]) {
      const data = success(await call(client, 'list_refunds', args));
      expect((data.refunds as Refund[]).map((r) => r.id)).toEqual([mine.id]);
    }
  });

  it('a refund of another organization in a terminal state is not_found, not refund_not_cancellable', async () => {
    const theirs = insertRefund(app, orgA, { status: 'completed' });
    failure(await call(await connect({ organizationId: orgB }), 'cancel_refund', { refundId: theirs.id }), 'not_found');
  });
});
