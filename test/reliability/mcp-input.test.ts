/**
 * Bad input at the MCP edge, property-based: every tool (get_refund, list_refunds, create_refund,
 * cancel_refund) through the SDK's own client over an in-memory transport, on a database that
 * holds refunds of two organizations. Arguments with exactly one fault (a wrong type, a missing
 * or unknown field, a huge or unicode string, a NaN/float/negative/unsafe amount, SQL and JSON
 * fragments, prototype-pollution keys, an id of the wrong shape), random junk, and well-formed
 * unknown ids. Whatever comes in: the answer is a tool error with validation_error naming the
 * field (or not_found, exactly, for a well-formed unknown id), or for arguments that are not an
 * object at all the protocol's Invalid params; never internal_error, never a thrown exception,
 * never a stack trace or a file path; and the rows of refunds and refund_events are byte for
 * byte what they were.
 *
 * Fixed seed (REFUNDKIT_SEED overrides it); REFUNDKIT_SOAK=1 runs 25 times more cases.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { REFUND_STATUSES } from '../../src/domain/refund.js';
import { createLogger } from '../../src/logger.js';
import { createMcpServer } from '../../src/mcp/server.js';
import {
  adversarialValue,
  invalidCall,
  isPlainObject,
  isValidCall,
  nonObject,
  OPERATIONS,
  PROTOTYPE_KEYS,
  runs,
  SEED,
  unknownRefundId,
  wireForm,
  type InvalidCall,
  type Operation,
} from '../support/arbitraries.js';
import { cleanupAll, createOrg, createTestApp, insertRefund } from '../support/fixtures.js';
import { INTERNALS, rowsFingerprint } from '../support/reliability.js';

const TOOLS: Record<Operation, string> = {
  get: 'get_refund',
  list: 'list_refunds',
  create: 'create_refund',
  cancel: 'cancel_refund',
};
const OPS = Object.keys(TOOLS) as Operation[];

let app: SqliteApp;
let client: Client;
let orgA: string;
const idsA: string[] = [];
const idsB: string[] = [];
let fingerprint: string;
const logLines: string[] = [];
/** How many calls each property made, for the report at the end. */
const tally = new Map<string, number>();

beforeAll(async () => {
  app = createTestApp();
  orgA = createOrg(app, 'Org A').id;
  const orgB = createOrg(app, 'Org B').id;
  for (const status of REFUND_STATUSES) {
    for (const processor of ['sandbox', 'stripe']) {
      idsA.push(insertRefund(app, orgA, { status, processor, metadata: { orderId: `order_${status}` } }).id);
      idsB.push(insertRefund(app, orgB, { status, processor }).id);
    }
  }
  const server = createMcpServer({
    service: app.service,
    caller: { organizationId: orgA, actor: 'mcp' },
    readOnly: false,
    logger: createLogger('debug', (line) => logLines.push(line)),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  client = new Client({ name: 'reliability-fuzz', version: '0.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  fingerprint = rowsFingerprint(app.db);
});

afterAll(async () => {
  await client.close();
  cleanupAll();
  const counts = [...tally].map(([name, n]) => `${name}: ${n}`).join(', ');
  process.stderr.write(`[reliability] mcp-input cases: ${counts}\n`);
});

type Outcome = { kind: 'result'; result: CallToolResult } | { kind: 'protocol-error'; error: McpError };

async function call(tool: string, args: unknown): Promise<Outcome> {
  try {
    // The SDK types arguments as an object; the point here is to send anything at all.
    const result = (await client.callTool({ name: tool, arguments: args as Record<string, unknown> })) as CallToolResult;
    return { kind: 'result', result };
  } catch (error) {
    if (error instanceof McpError) return { kind: 'protocol-error', error };
    throw error;
  }
}

/** The tool error body, checked for shape, code, size and leaks; returns its message. */
function toolError(outcome: Outcome, code: string): string {
  if (outcome.kind !== 'result') throw new Error(`expected a tool result, got protocol error ${outcome.error.code}: ${outcome.error.message}`);
  const { result } = outcome;
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  expect(result.content).toHaveLength(1);
  const block = result.content[0];
  if (block?.type !== 'text') throw new Error('expected one text block');
  const body = JSON.parse(block.text) as { error: { message: unknown; code: unknown } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error)).toEqual(['message', 'code']);
  expect(body.error.code, block.text.slice(0, 300)).toBe(code);
  const message = body.error.message;
  if (typeof message !== 'string') throw new Error('message is not a string');
  // No caller input is echoed at length: a message stays short whatever was sent.
  expect(message.length, message.slice(0, 200)).toBeLessThanOrEqual(600);
  return message;
}

function expectNoInternals(message: string, echoed: string | null): void {
  const own = echoed === null ? message : message.split(echoed.slice(0, 40)).join('');
  expect(own, message).not.toMatch(INTERNALS);
}

/**
 * The rows are as they were. When they are not, the new state becomes the baseline before
 * failing, so that fast-check's shrinking looks for the smallest input that changes rows again
 * (instead of every later input failing on the first change).
 */
function expectUnchanged(args?: unknown): void {
  const now = rowsFingerprint(app.db);
  if (now === fingerprint) return;
  fingerprint = now;
  let shown: string;
  try {
    shown = ((JSON.stringify(args) as string | undefined) ?? String(args)).slice(0, 500);
  } catch {
    shown = String(args);
  }
  throw new Error(`rows changed after a call with ${shown}`);
}

function expectInvalidParams(outcome: Outcome): void {
  if (outcome.kind !== 'protocol-error') throw new Error(`expected Invalid params, got a tool result: ${JSON.stringify(outcome.result).slice(0, 300)}`);
  expect(outcome.error.code).toBe(ErrorCode.InvalidParams);
  expect(outcome.error.message).toContain('arguments');
  expect(outcome.error.message).not.toMatch(/\n\s+at /);
}

/** The verdict for one call with exactly one fault. */
function expectRefused(c: InvalidCall, outcome: Outcome): void {
  if (c.kind === 'not-an-object') {
    expectInvalidParams(outcome);
    return;
  }
  const message = toolError(outcome, 'validation_error');
  const field = c.field ?? '';
  if (c.kind === 'unknown-field') {
    expect(message.startsWith(`Unknown field '${field.slice(0, 40)}`), message.slice(0, 200)).toBe(true);
  } else {
    expect(message.toLowerCase(), `${c.kind} ${field}: ${message}`).toContain(field.toLowerCase());
  }
  expectNoInternals(message, c.kind === 'unknown-field' ? field : null);
}

function count(name: string): void {
  tally.set(name, (tally.get(name) ?? 0) + 1);
}

describe('one fault in otherwise valid arguments: validation_error naming the field', () => {
  for (const op of OPS) {
    it(TOOLS[op], async () => {
      await fc.assert(
        fc.asyncProperty(invalidCall(op), fc.boolean(), async (c, overWire) => {
          count(`${TOOLS[op]} one-fault`);
          const args = overWire ? wireForm(c.args) : c.args;
          expectRefused(c, await call(TOOLS[op], args));
          expectUnchanged(args);
        }),
        { seed: SEED, numRuns: runs(500, 10_000) },
      );
    });
  }
});

describe('random junk as arguments: refused, or (list only) answered; never a fault of ours', () => {
  for (const op of OPS) {
    it(TOOLS[op], async () => {
      const names = [...OPERATIONS[op].map((f) => f.name), ...PROTOTYPE_KEYS, 'id', 'refund_id'];
      const junk = fc.oneof(
        adversarialValue(),
        nonObject,
        fc.dictionary(fc.constantFrom(...names), adversarialValue(), { maxKeys: 4 }),
        // Real field names with values that are sometimes right: list calls then succeed.
        fc.record(Object.fromEntries(OPERATIONS[op].map((f) => [f.name, fc.oneof(f.valid, f.invalid)])), { requiredKeys: [] }),
      );
      await fc.assert(
        fc.asyncProperty(junk, async (args) => {
          const valid = isValidCall(op, args);
          // A valid create would create a refund; those are not junk.
          fc.pre(!(valid && op === 'create'));
          count(`${TOOLS[op]} junk`);
          const outcome = await call(TOOLS[op], args);
          if (!isPlainObject(args)) {
            expectInvalidParams(outcome);
          } else if (!valid) {
            const message = toolError(outcome, 'validation_error');
            expectNoInternals(message, Object.keys(args).find((k) => message.includes(k.slice(0, 40))) ?? null);
          } else if (op === 'list') {
            if (outcome.kind !== 'result') throw new Error(`list failed: ${outcome.error.message}`);
            expect(outcome.result.isError ?? false, JSON.stringify(outcome.result).slice(0, 300)).toBe(false);
            const page = outcome.result.structuredContent as { refunds: { organizationId: string }[] };
            for (const refund of page.refunds) expect(refund.organizationId).toBe(orgA);
          } else {
            // A valid get/cancel call carries a well-formed id this organization does not have.
            expect(toolError(outcome, 'not_found')).toBe('Refund not found');
          }
          expectUnchanged(args);
        }),
        { seed: SEED + 1, numRuns: runs(500, 10_000) },
      );
    });
  }
});

describe('well-formed ids that are not this organization’s: not_found, exactly', () => {
  for (const op of ['get', 'cancel'] as const) {
    it(TOOLS[op], async () => {
      const id = fc.oneof(unknownRefundId([...idsA, ...idsB]), fc.constantFrom(...idsB));
      await fc.assert(
        fc.asyncProperty(id, async (refundId) => {
          count(`${TOOLS[op]} unknown-id`);
          const message = toolError(await call(TOOLS[op], { refundId }), 'not_found');
          expect(message).toBe('Refund not found');
          expectUnchanged();
        }),
        { seed: SEED + 2, numRuns: runs(150, 3_000) },
      );
    });
  }
});

describe('regressions found by the properties above', () => {
  it("a '__proto__' key in metadata is refused naming metadata (zod dropped it: the refund was created without it)", async () => {
    const args = JSON.parse('{"transactionId":"ch_regression1","amount":100,"reason":"other","metadata":{"__proto__":"x","orderId":"o_1"}}') as unknown;
    const message = toolError(await call('create_refund', args), 'validation_error');
    expect(message).toBe("metadata: the key '__proto__' is not allowed");
    expectUnchanged();
  });

  it("a top-level '__proto__' field is an unknown field, not silently dropped (cancel went ahead without it)", async () => {
    const pending = idsA[0];
    const args = JSON.parse(`{"refundId":"${pending}","__proto__":{"isAdmin":true}}`) as unknown;
    expect(toolError(await call('cancel_refund', args), 'validation_error')).toBe("Unknown field '__proto__'");
    expectUnchanged();
  });

  it('an unknown field with a 100 000-character name is named, cut short, not echoed in full', async () => {
    const name = 'k'.repeat(100_000);
    const message = toolError(await call('list_refunds', { [name]: 1 }), 'validation_error');
    expect(message).toBe(`Unknown field '${'k'.repeat(40)}…'`);
  });

  it('arguments that are not an object are Invalid params (-32602), not Internal error (-32603)', async () => {
    for (const args of ['text', 42, [1, 2], null, true]) expectInvalidParams(await call('get_refund', args));
    expectUnchanged();
  });
});

describe('the run itself', () => {
  it('logged no internal error, and the refunds the fuzzing never touched are all still there', async () => {
    expect(logLines.filter((line) => /^\S+ error /.test(line))).toEqual([]);
    // Control: the client still works and sees the organization's refunds.
    const outcome = await call('get_refund', { refundId: idsA[0] });
    if (outcome.kind !== 'result') throw new Error('get failed');
    expect(outcome.result.isError ?? false).toBe(false);
    expectUnchanged();
  });
});
