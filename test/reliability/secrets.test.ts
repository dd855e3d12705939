/**
 * Secrets and tenants, MCP side, on the built program. A session runs with an organization's API
 * key, a Stripe secret key and a webhook signing secret (all generated here), at debug log level,
 * through successes, refusals, Stripe rejections (one of which quotes the Stripe key, which the
 * audit trail records) and Stripe faults (one of which echoes the Stripe key back in its error, as
 * a misbehaving proxy might), a Stripe that refuses the key, and
 * the operator commands. Everything is captured (every byte of stdout, so every tool result;
 * stderr; the commands' output; the database files themselves) and searched: no API key, Stripe
 * key or webhook secret appears anywhere.
 *
 * Then every tool is tried with another organization's key (not_found everywhere, nothing of the
 * first organization listed or changed, its idempotency keys not shared) and with a revoked key:
 * refused at start, and (the bug this found) refused at the next call when revoked while a
 * session is open.
 *
 * How keys are checked is read in src/store/sqlite/api-key-store.ts: only a SHA-256 is stored, the
 * lookup is by that hash (its timing says nothing about how close a guess was), and the match is
 * confirmed with crypto.timingSafeEqual; test/store/sqlite/api-key-store.test.ts proves the table
 * holds no key. Here the whole database file and its WAL are searched as bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  assertBuilt,
  cleanupCli,
  createTestHome,
  lastLine,
  lines,
  runCli,
  spawnServer,
  type Env,
  type RunResult,
  type TestHome,
} from '../support/cli.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';
import { randomText, rawSession, rowsFingerprint, secretLeaks, snapshot, twoOrganizations, type RawSession, type RefundRow } from '../support/reliability.js';


const STRIPE_KEY = `sk_test_${randomText(40)}`;
const OTHER_STRIPE_KEY = `sk_test_${randomText(40)}`;
const WEBHOOK_SECRET = `whsec_${randomText(32)}`;

let imitation: StripeImitation;
let home: TestHome;
let orgA: string;
let orgB: string;
let keyA: string;
let keyA2: string;
let keyB: string;
let keyRevoked: string;
/** Every text a secret must not appear in, by where it came from. */
const captured: Record<string, string> = {};
const commandRuns: RunResult[] = [];

async function cli(args: string[], extra: Env = {}): Promise<string> {
  const result = await runCli(args, home.env(extra));
  commandRuns.push(result);
  // `keys create` prints the new key on stdout, once, by design: that is its whole job.
  if (!(args[0] === 'keys' && args[1] === 'create')) captured[`${args.slice(0, 2).join(' ')} #${commandRuns.length} stdout`] = result.stdout;
  captured[`${args.slice(0, 2).join(' ')} #${commandRuns.length} stderr`] = result.stderr;
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return lastLine(result.stdout);
}

/** The same, returning the whole of stdout. */
async function cliOut(args: string[]): Promise<string> {
  await cli(args);
  return commandRuns.at(-1)?.stdout ?? '';
}

function stripeEnv(key: string, extra: Env = {}): Env {
  return home.env({
    REFUNDKIT_API_KEY: key,
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_API_BASE: imitation.url,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_TIMEOUT_MS: '500',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    REFUNDKIT_LOG_LEVEL: 'debug',
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0.1',
    REFUNDKIT_RETRY_BASE_SECONDS: '0.05',
    REFUNDKIT_SYNC_INTERVAL_SECONDS: '1',
    ...extra,
  });
}

/** Waits until the stored refund satisfies `done` (a background pass has acted on it). */
async function untilRefund(id: string | undefined, done: (row: RefundRow) => boolean): Promise<void> {
  expect(id).toBeDefined();
  await vi.waitFor(
    () => {
      const row = snapshot(home.dbPath).refunds.find((r) => r.id === id);
      expect(row !== undefined && done(row), JSON.stringify(row)).toBe(true);
    },
    { timeout: 30_000, interval: 50 },
  );
}

async function session(label: string, env: Env): Promise<RawSession> {
  const s = await rawSession(spawnServer(env));
  sessions.push([label, s]);
  return s;
}
const sessions: [string, RawSession][] = [];

function json(result: { content: { text: string }[] }): { refund?: { id: string; status: string }; refunds?: { id: string; organizationId: string }[]; error?: { code: string; message: string } } {
  return JSON.parse(result.content[0]?.text ?? '{}') as ReturnType<typeof json>;
}

let refundsOfA: string[] = [];

beforeAll(async () => {
  assertBuilt();
  imitation = await startStripeImitation({ apiKey: STRIPE_KEY, apiKeys: [STRIPE_KEY] });
  home = createTestHome();
  ({ orgA, orgB, keyA, keyA2, keyB, keyRevoked } = await twoOrganizations((args) => cli(args)));
  await cli(['keys', 'list', '--org', orgA]);
  await cli(['orgs', 'list']);

  // Org A's session: successes, refusals, rejections, faults, with everything logged at debug.
  const a = await session('org A', stripeEnv(keyA));
  const succeeded = imitation.addCharge({ amount: 100_000 });
  const waiting = imitation.addCharge({ amount: 100_000, refundBehavior: 'requires_action' });
  const disputed = imitation.addCharge({ amount: 5_000, disputed: true });
  const created = json(await a.tool('create_refund', { transactionId: succeeded.chargeId, amount: 1_000, reason: 'other', idempotencyKey: 'shared-between-orgs' }));
  const cancellable = json(await a.tool('create_refund', { transactionId: waiting.chargeId, amount: 2_000, reason: 'duplicate_charge' }));
  json(await a.tool('create_refund', { transactionId: disputed.chargeId, amount: 500, reason: 'fraudulent' }));
  // A rejection (400) whose message quotes the key, glued to other text: it lands in the audit trail.
  imitation.failNext(1, { kind: 'status', status: 400, message: `Invalid request for key x${STRIPE_KEY}` }, { method: 'POST', path: '/v1/refunds' });
  const rejected = json(await a.tool('create_refund', { transactionId: succeeded.chargeId, amount: 600, reason: 'other' }));
  expect(rejected.refund?.status).toBe('failed');
  // Stripe faults, one of them echoing the secret key in its message.
  imitation.failNext(1, { kind: 'status', status: 500, message: `proxy error: upstream refused Authorization: Bearer ${STRIPE_KEY}` }, { method: 'POST', path: '/v1/refunds' });
  const outage = json(await a.tool('create_refund', { transactionId: succeeded.chargeId, amount: 700, reason: 'other' }));
  imitation.failNext(2, { kind: 'reset' }, { path: /\/cancel$/ });
  await a.tool('cancel_refund', { refundId: cancellable.refund?.id });
  imitation.failNext(1, { kind: 'status', status: 429, retryAfterSeconds: 1, message: `rate limited for key ${STRIPE_KEY}` }, { method: 'GET' });
  await a.tool('cancel_refund', { refundId: cancellable.refund?.id });
  await a.tool('cancel_refund', { refundId: created.refund?.id });
  await a.tool('get_refund', { refundId: outage.refund?.id });
  await a.tool('list_refunds', { limit: 100 });
  await a.tool('get_refund', { refundId: 'ref_zzzzzzzzzzzz' });
  await a.tool('get_refund', { refundId: 'not-an-id' });
  await a.tool('list_refunds', { limit: 1_000 });
  // A background pass retries the outage: Stripe answers this time, and the refund settles.
  await untilRefund(outage.refund?.id, (r) => r.status !== 'pending');
  refundsOfA = snapshot(home.dbPath).refunds.filter((r) => r.organization_id === orgA).map((r) => r.id);
  expect(refundsOfA.length).toBeGreaterThanOrEqual(4);

  // Org A's session is done. It ends here rather than with the others below (its exit code and
  // output are checked there all the same), so that its background pass, which holds a Stripe key
  // Stripe accepts, cannot take the next server's refund.
  await a.end();

  // A server whose Stripe key Stripe refuses (401): the refusal is logged, never the key.
  const refused = await session('Stripe refuses the key', stripeEnv(keyA, { STRIPE_SECRET_KEY: OTHER_STRIPE_KEY }));
  const refusedRefund = json(await refused.tool('create_refund', { transactionId: succeeded.chargeId, amount: 300, reason: 'other' }));
  // Stripe refuses this server the charge too, so what remains refundable is unknown and the agent
  // policy holds the refund for a person (no policy lifts that). The operator approves it, with
  // the CLI: the background pass then submits it to the Stripe that refuses the key.
  expect(refusedRefund.refund?.status).toBe('pending');
  const [approval] = lines(await cliOut(['approvals', 'list', '--org', orgA, '--status', 'requested']));
  const approvalId = approval?.split('\t')[0] ?? '';
  expect(approval?.split('\t')[2], approval).toBe(refusedRefund.refund?.id);
  await cli(['approvals', 'approve', approvalId, '--org', orgA, '--as', 'ana']);
  // A background pass submits it, is refused, and retries it (refused again) before the session ends.
  await untilRefund(refusedRefund.refund?.id, (r) => r.attempts >= 2);
  // It ends here too, so that its retries, further and further apart, cannot outlast the dispatch
  // below and leave org A's refund to be settled while the tests below watch org A stand still.
  await refused.end();

  // dispatch with the same secrets (Stripe accepts them: the refund settles once its retry is
  // due), and start-up refusals that must not echo a key.
  await vi.waitFor(
    async () => {
      await cli(['dispatch'], stripeEnv(keyA));
      expect(snapshot(home.dbPath).refunds.find((r) => r.id === refusedRefund.refund?.id)?.status).not.toBe('pending');
    },
    { timeout: 30_000, interval: 100 },
  );
  for (const [label, env] of [
    ['revoked key', stripeEnv(keyRevoked)],
    ['malformed Stripe key', stripeEnv(keyA, { STRIPE_SECRET_KEY: `${STRIPE_KEY} trailing` })],
    ['malformed webhook secret', stripeEnv(keyA, { STRIPE_WEBHOOK_SECRET: `${WEBHOOK_SECRET}!` })],
  ] as const) {
    const result = await runCli([], env, { keepStdinOpen: true, timeoutMs: 10_000 });
    commandRuns.push(result);
    captured[`${label}: stdout`] = result.stdout;
    captured[`${label}: stderr`] = result.stderr;
  }
}, 120_000);

afterAll(async () => {
  await imitation.close();
  await cleanupCli();
});

describe('no secret anywhere', () => {
  it('not in stdout (every tool result), stderr or any command output, even when Stripe echoes its key', async () => {
    for (const [label, s] of sessions) {
      const code = await s.end();
      expect(code, s.stderr()).toBe(0);
      captured[`${label}: stdout`] = s.stdout();
      captured[`${label}: stderr`] = s.stderr();
    }
    // The captures are real: the session did log at debug, Stripe faults and refusals included.
    const aErr = captured['org A: stderr'] ?? '';
    expect(aErr).toContain('tool call');
    expect(aErr).toMatch(/submission failed; will retry/);
    expect(captured['org A: stdout']).toContain('processor_unavailable');
    expect(captured['Stripe refuses the key: stderr']).toMatch(/submission failed; will retry/);
    const leaks = secretLeaks(
      { apiKeyA: keyA, apiKeyA2: keyA2, apiKeyB: keyB, revokedKey: keyRevoked, stripeKey: STRIPE_KEY, otherStripeKey: OTHER_STRIPE_KEY, webhookSecret: WEBHOOK_SECRET },
      captured,
    );
    expect(leaks).toEqual([]);
  });

  it('the start-up refusals said why, in one line, without the value', () => {
    expect(captured['revoked key: stderr']).toMatch(/invalid_api_key/);
    expect(captured['malformed Stripe key: stderr']).toMatch(/STRIPE_SECRET_KEY must be/);
    expect(captured['malformed webhook secret: stderr']).toMatch(/STRIPE_WEBHOOK_SECRET must be/);
    for (const label of ['revoked key', 'malformed Stripe key', 'malformed webhook secret']) {
      expect(lines(captured[`${label}: stderr`] ?? ''), label).toHaveLength(1);
      expect(captured[`${label}: stdout`], label).toBe('');
    }
  });

  it('not in the database files, byte for byte (keys are stored as SHA-256 only)', () => {
    for (const file of [home.dbPath, `${home.dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file).toString('latin1');
      for (const secret of [keyA, keyA2, keyB, keyRevoked, STRIPE_KEY, WEBHOOK_SECRET]) expect(bytes.includes(secret), file).toBe(false);
    }
  });
});

describe("another organization's key", () => {
  it('sees and changes nothing of the first: not_found for each refund, absent from every list, own idempotency keys', async () => {
    const before = rowsFingerprint(home.dbPath, { withoutSyncSchedule: true });
    const b = await rawSession(spawnServer(stripeEnv(keyB)));
    for (const refundId of refundsOfA) {
      for (const tool of ['get_refund', 'cancel_refund']) {
        expect(json(await b.tool(tool, { refundId })), `${tool} ${refundId}`).toEqual({ error: { message: 'Refund not found', code: 'not_found' } });
      }
    }
    for (const query of [{}, { status: 'completed' }, { status: 'processing' }, { status: 'pending' }, { processor: 'stripe', limit: 100 }, { offset: 0, limit: 1 }]) {
      const page = json(await b.tool('list_refunds', query));
      expect(page.refunds, JSON.stringify(query)).toEqual([]);
    }
    expect(rowsFingerprint(home.dbPath, { withoutSyncSchedule: true })).toBe(before);
    // The same idempotency key as A's first refund: B gets a refund of its own, not A's.
    const charge = imitation.addCharge({ amount: 10_000 });
    const own = json(await b.tool('create_refund', { transactionId: charge.chargeId, amount: 1_000, reason: 'other', idempotencyKey: 'shared-between-orgs' }));
    expect(own.refund?.id).toBeDefined();
    expect(refundsOfA).not.toContain(own.refund?.id);
    expect((own.refund as { organizationId?: string } | undefined)?.organizationId).toBe(orgB);
    const rows = snapshot(home.dbPath).refunds;
    expect(rows.filter((r) => r.idempotency_key === 'shared-between-orgs').map((r) => r.organization_id).sort()).toEqual([orgA, orgB].sort());
    expect(await b.end()).toBe(0);
  });
});

describe('a revoked key', () => {
  it('cannot start a server (checked above): one line, invalid_api_key', () => {
    expect(captured['revoked key: stderr']).toMatch(/unknown or revoked \(invalid_api_key\)/);
  });

  it('revoked while a session is open: every tool is refused from the next call on, and nothing changes', async () => {
    const s = await rawSession(spawnServer(stripeEnv(keyA2)));
    const target = refundsOfA[0] ?? '';
    expect(json(await s.tool('get_refund', { refundId: target })).refund?.id).toBe(target);
    await cli(['keys', 'revoke', '--key', keyA2]);
    const before = rowsFingerprint(home.dbPath, { withoutSyncSchedule: true });
    const charge = imitation.addCharge({ amount: 10_000 });
    const attempts: [string, unknown][] = [
      ['get_refund', { refundId: target }],
      ['list_refunds', {}],
      ['cancel_refund', { refundId: target }],
      ['create_refund', { transactionId: charge.chargeId, amount: 100, reason: 'other' }],
    ];
    for (const [tool, args] of attempts) {
      expect(json(await s.tool(tool, args)), tool).toEqual({ error: { message: 'Invalid API key', code: 'invalid_api_key' } });
    }
    expect(rowsFingerprint(home.dbPath, { withoutSyncSchedule: true })).toBe(before);
    expect(imitation.refunds().filter((r) => r.charge === charge.chargeId)).toEqual([]);
    expect(await s.end()).toBe(0);
    expect(secretLeaks({ keyA2 }, { stdout: s.stdout(), stderr: s.stderr() })).toEqual([]);
  });
});
