/**
 * The agent budget under a race (issue 11): three server processes on ONE database file (two
 * `refundkit-mcp http`, driven over /mcp, and one stdio server), each acting with its own key of
 * the same organization, fire agent creates through MCP all at once against a small daily budget.
 * The budget is checked and consumed inside the transaction that creates the refund, so exactly
 * as many refunds are created as the budget allows: never one more, whichever process won, and
 * every other caller is told `policy_violation` naming the limit.
 *
 * The creates are lined up so that they really meet: each first reads its charge at the Stripe
 * imitation (the policy's transaction rule), and the imitation holds every one of those reads until
 * all of the round's creates are waiting on one, then lets them all go at once. From there, 30
 * creates in three processes reach the store's transaction together.
 *
 * Repeated: each round has a fresh organization (so a fresh 24 hours of budget) and its own budget,
 * by count or by amount, set by its operator with `refundkit-mcp policy set`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, callTool, cleanupCli, connectServer, createTestHome, disconnect, lastLine, queryAll, runCli, type TestHome } from '../support/cli.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';
import { spawnHttp, sleep } from '../support/reliability.js';

/** Concurrent creates per process and round: 3 x 10 callers against budgets of 1 to 7 refunds. */
const CALLS_PER_PROCESS = 10;
const PROCESSES = ['http-0', 'http-1', 'stdio'] as const;

interface Round {
  name: string;
  /** `policy set` flags for usd. Nothing is held for approval: approvalAbove = maxPerRefund. */
  limits: { dailyCount: number; dailyAmount: number };
  amount: number;
  /** How many refunds of `amount` the budget allows. */
  fits: number;
  /** What every refused caller is told, at least. */
  refusal: RegExp;
}

const ROUNDS: Round[] = [
  { name: 'a count of 7', limits: { dailyCount: 7, dailyAmount: 1_000_000 }, amount: 500, fits: 7, refusal: /in the last 24 hours: the limit is 7$/ },
  { name: 'an amount that 5 refunds fill', limits: { dailyCount: 1_000, dailyAmount: 3_500 }, amount: 700, fits: 5, refusal: /: the limit is 3500 usd$/ },
  { name: 'a count of 1', limits: { dailyCount: 1, dailyAmount: 1_000_000 }, amount: 900, fits: 1, refusal: /in the last 24 hours: the limit is 1$/ },
];

interface Outcome {
  process: string;
  refundId?: string;
  error?: { code: string; message: string };
  threw?: string;
}

let home: TestHome;
let imitation: StripeImitation;

async function cli(args: string[]): Promise<string> {
  const result = await runCli(args, home.env());
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return lastLine(result.stdout);
}

function outcomeOf(process: string, result: CallToolResult): Outcome {
  if (result.isError === true) {
    const first = result.content[0];
    const body = JSON.parse(first?.type === 'text' ? first.text : '{}') as { error?: { code: string; message: string } };
    return { process, error: body.error ?? { code: '?', message: JSON.stringify(result.content) } };
  }
  return { process, refundId: (result.structuredContent as { refund: { id: string } }).refund.id };
}

/** One round: a fresh organization and budget, three processes, every create at once. */
async function race(round: Round, index: number): Promise<{ outcomes: Outcome[]; orgId: string; afterwards: Outcome }> {
  const orgId = await cli(['orgs', 'create', '--name', `Budget race ${index}`]);
  const keys = [await cli(['keys', 'create', '--name', 'Test agent', '--org', orgId]), await cli(['keys', 'create', '--name', 'Test agent', '--org', orgId]), await cli(['keys', 'create', '--name', 'Test agent', '--org', orgId])];
  const { dailyCount, dailyAmount } = round.limits;
  await cli(['policy', 'set', '--org', orgId, '--as', 'race-operator', '--currency', 'usd', '--max-per-refund', '10000', '--approval-above', '10000',
    '--daily-count', String(dailyCount), '--daily-amount', String(dailyAmount)]);

  const serverEnv = {
    STRIPE_SECRET_KEY: imitation.apiKey,
    STRIPE_API_BASE: imitation.url,
    // Room for the held charge reads: a create waits on its read for half the call deadline.
    REFUNDKIT_CALL_DEADLINE_SECONDS: '40',
    STRIPE_TIMEOUT_MS: '20000',
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0',
    REFUNDKIT_LOG_LEVEL: 'warn',
  };
  const [h0, h1, stdio] = await Promise.all([
    spawnHttp(home.env(serverEnv)),
    spawnHttp(home.env(serverEnv)),
    connectServer(home.env({ ...serverEnv, REFUNDKIT_API_KEY: keys[2] ?? '' }), 'budget-racer-stdio'),
  ]);
  const clients = await Promise.all(
    [h0, h1].map(async (http, i) => {
      const client = new Client({ name: `budget-racer-http-${i}`, version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${keys[i] ?? ''}` } } }));
      return client;
    }),
  );
  const callers: ((args: Record<string, unknown>) => Promise<CallToolResult>)[] = [
    async (args) => CallToolResultSchema.parse(await clients[0]?.callTool({ name: 'create_refund', arguments: args })),
    async (args) => CallToolResultSchema.parse(await clients[1]?.callTool({ name: 'create_refund', arguments: args })),
    (args) => callTool(stdio, 'create_refund', args),
  ];
  let release: () => void = () => undefined;
  try {
    // Each refund on a charge of its own, so that the budget is the only limit any of them meets.
    const total = PROCESSES.length * CALLS_PER_PROCESS;
    const chargeIds = Array.from({ length: total }, () => imitation.addCharge({ amount: 100_000 }).chargeId);
    const gate = new Promise<void>((resolve) => (release = resolve));
    imitation.failNext(total, { kind: 'held', until: gate }, { method: 'GET', path: '/v1/charges/' });
    const readsBefore = imitation.requests.length;
    const pending = Promise.all(
      PROCESSES.flatMap((process, p) =>
        Array.from({ length: CALLS_PER_PROCESS }, async (_, i): Promise<Outcome> => {
          const args = { transactionId: chargeIds[p * CALLS_PER_PROCESS + i], amount: round.amount, reason: 'duplicate_charge' };
          const caller = callers[p];
          if (caller === undefined) throw new Error(`no caller for ${process}`);
          try {
            return outcomeOf(process, await caller(args));
          } catch (error) {
            return { process, threw: error instanceof Error ? error.message : String(error) };
          }
        }),
      ),
    );
    // Every create of every process is waiting on its charge read: let them all go at once.
    const deadline = Date.now() + 15_000;
    const held = (): number => imitation.requests.slice(readsBefore).filter((r) => r.fault === 'held').length;
    while (held() < total && Date.now() < deadline) await sleep(10);
    expect(held(), 'charge reads held before the gate opened').toBe(total);
    release();
    const outcomes = await pending;
    // The budget is spent: one more, through any process, is refused too.
    const late = imitation.addCharge({ amount: 100_000 }).chargeId;
    const afterwards = outcomeOf('stdio', await callTool(stdio, 'create_refund', { transactionId: late, amount: round.amount, reason: 'duplicate_charge' }));
    return { outcomes, orgId, afterwards };
  } finally {
    release();
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all([h0.stop(), h1.stop(), disconnect(stdio)]);
  }
}

const results: { round: Round; outcomes: Outcome[]; orgId: string; afterwards: Outcome }[] = [];

beforeAll(async () => {
  assertBuilt();
  home = createTestHome();
  imitation = await startStripeImitation();
});

afterAll(async () => {
  await cleanupCli();
  await imitation.close();
  const won = results.map(({ round, outcomes }) => {
    const by = PROCESSES.map((process) => `${process} ${outcomes.filter((o) => o.process === process && o.refundId !== undefined).length}`);
    return `${round.name}: ${by.join(', ')}`;
  });
  process.stderr.write(`[reliability] budget-race: refunds created by process, per round: ${won.join('; ')}\n`);
});

describe('three processes racing agent creates against a small budget', () => {
  it('create exactly what the budget allows, never one more, round after round', async () => {
    await cli(['init']);
    for (const [index, round] of ROUNDS.entries()) results.push({ round, ...(await race(round, index)) });

    for (const { round, outcomes, orgId, afterwards } of results) {
      const label = `${round.name}: ${JSON.stringify(outcomes)}`;
      expect(outcomes, label).toHaveLength(PROCESSES.length * CALLS_PER_PROCESS);
      expect(outcomes.filter((o) => o.threw !== undefined), label).toEqual([]);
      const created = outcomes.filter((o) => o.refundId !== undefined);
      const refused = outcomes.filter((o) => o.error !== undefined);
      expect(created, label).toHaveLength(round.fits);
      expect(refused, label).toHaveLength(outcomes.length - round.fits);
      for (const { error } of refused) {
        expect(error?.code, label).toBe('policy_violation');
        expect(error?.message, label).toMatch(round.refusal);
      }
      expect(afterwards.error?.code, JSON.stringify(afterwards)).toBe('policy_violation');

      // The database agrees: exactly the answered refunds exist, and they use the budget exactly.
      const rows = queryAll<{ id: string; amount: number; created_by_key_id: string | null }>(
        home.dbPath,
        'SELECT id, amount, created_by_key_id FROM refunds WHERE organization_id = ?',
        orgId,
      );
      expect(rows.map((r) => r.id).sort(), round.name).toEqual(created.map((o) => o.refundId).sort());
      expect(rows.reduce((sum, r) => sum + r.amount, 0), round.name).toBe(round.fits * round.amount);
      expect(rows.every((r) => r.created_by_key_id !== null), round.name).toBe(true);
      // Each went through as allowed: none is waiting for approval (a charge read that timed out).
      expect(queryAll(home.dbPath, 'SELECT id FROM approval_requests WHERE organization_id = ?', orgId), round.name).toEqual([]);
    }
  }, 180_000);
});
