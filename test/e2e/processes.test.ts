/**
 * Processes that share one database file, the way the README sets them up: an `http` server with
 * the Stripe key, and a stdio server without it (or read-only). Each process works only on refunds
 * of the processors it has, and leaves the others exactly as they are for the process that has
 * theirs; a read-only process (REFUNDKIT_READ_ONLY=1) writes nothing at all.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { REFUND_ID_METADATA_KEY } from '../../src/processors/stripe.js';
import { SqliteWebhookEventStore } from '../../src/store/sqlite/webhook-event-store.js';
import { raw } from '../support/http-server.js';
import { insertRefund } from '../support/fixtures.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  createDemoHome,
  queryAll,
  runCli,
  type Env,
  type TestHome,
} from '../support/cli.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';
import { snapshot, spawnHttp, stripeAgreementViolations } from '../support/reliability.js';

const WEBHOOK_SECRET = 'whsec_processesTestOnlyNotARealSecret0001';

let imitation: StripeImitation;
let home: TestHome;

beforeAll(async () => {
  assertBuilt();
  imitation = await startStripeImitation();
});
afterAll(async () => {
  await imitation.close();
  await cleanupCli();
});
beforeEach(async () => {
  imitation.reset();
  home = await createDemoHome();
});
afterEach(() => cleanupCli({ keepDemoTemplate: true }));

/** A process with the Stripe key, pointed at the imitation. */
function withStripe(extra: Env = {}): Env {
  return {
    STRIPE_SECRET_KEY: imitation.apiKey,
    STRIPE_API_BASE: imitation.url,
    STRIPE_TIMEOUT_MS: '2000',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    ...extra,
  };
}

/** Passes every 100 ms, so that a process that would touch the work does so at once. */
const BUSY_LOOP: Env = { REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0.1' };

interface Seeded {
  /** Pending, due for submission since a minute ago. */
  stripePending: string[];
  /** Processing at Stripe (which now says succeeded), status read due since a minute ago. */
  stripeProcessing: string[];
  /** Due after all the Stripe work: once a process has done these, it has been through that. */
  sandboxPending: string;
  sandboxProcessing: string;
}

/**
 * Due work for both processors, written with the product's own store: Stripe refunds to submit
 * and to read back (each with a charge, and a refund, at the imitation), then sandbox ones.
 */
async function seedDueWork(options: { oldWebhookEvent?: boolean } = {}): Promise<Seeded> {
  const app = createSqliteApp(loadConfig(home.env()));
  try {
    const at = (secondsAgo: number): string => new Date(Date.now() - secondsAgo * 1000).toISOString();
    const stripePending: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { chargeId } = imitation.addCharge({ amount: 10_000 });
      const id = `ref_shpend${String(i).padStart(6, '0')}`;
      await app.refunds.create({
        id,
        organizationId: DEMO_ORGANIZATION_ID,
        transactionId: chargeId,
        amount: 1_000,
        currency: 'usd',
        reason: 'duplicate_charge',
        processor: 'stripe',
        metadata: null,
        initiatedBy: 'mcp',
        createdAt: at(60 - i),
        submitAt: at(60 - i),
        idempotencyKey: null,
        requestFingerprint: null,
      });
      stripePending.push(id);
    }
    const stripe = imitation.stripeClient();
    const stripeProcessing: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const { chargeId } = imitation.addCharge({ amount: 10_000 });
      const id = `ref_shproc${String(i).padStart(6, '0')}`;
      const twin = await stripe.refunds.create({ charge: chargeId, amount: 2_000, metadata: { [REFUND_ID_METADATA_KEY]: id } });
      imitation.setRefundStatus(twin.id, 'succeeded');
      insertRefund(app, DEMO_ORGANIZATION_ID, { id, status: 'processing', processor: 'stripe', transactionId: chargeId, externalRefundId: twin.id, amount: 2_000 });
      await app.refunds.scheduleSync(id, at(60 - i));
      stripeProcessing.push(id);
    }
    const sandboxPending = 'ref_shsbxpend001';
    await app.refunds.create({
      id: sandboxPending,
      organizationId: DEMO_ORGANIZATION_ID,
      transactionId: 'sbx_ch_processes1',
      amount: 2_500,
      currency: 'usd',
      reason: 'other',
      processor: 'sandbox',
      metadata: null,
      initiatedBy: 'api',
      createdAt: at(1),
      submitAt: at(1),
      idempotencyKey: null,
      requestFingerprint: null,
    });
    // 4999: the sandbox reports it completed when read.
    const sandboxProcessing = insertRefund(app, DEMO_ORGANIZATION_ID, {
      id: 'ref_shsbxproc001',
      status: 'processing',
      processor: 'sandbox',
      amount: 4_999,
      externalRefundId: 'sbx_re_shsbxproc001',
    }).id;
    await app.refunds.scheduleSync(sandboxProcessing, at(1));
    if (options.oldWebhookEvent === true) {
      // Older than the 30 days a serving process remembers events for: pruning would delete it.
      new SqliteWebhookEventStore(app.db).record({
        source: 'stripe',
        eventId: 'evt_processesLongAgo',
        type: 'refund.updated',
        refundId: null,
        outcome: 'ignored',
        receivedAt: '2020-01-01T00:00:00.000Z',
      });
    }
    return { stripePending, stripeProcessing, sandboxPending, sandboxProcessing };
  } finally {
    app.close();
  }
}

/** Every column of these refunds and every one of their events. */
function rowsOf(ids: readonly string[]): unknown {
  const list = ids.map((id) => `'${id}'`).join(', ');
  return {
    refunds: queryAll(home.dbPath, `SELECT * FROM refunds WHERE id IN (${list}) ORDER BY id`),
    events: queryAll(home.dbPath, `SELECT * FROM refund_events WHERE refund_id IN (${list}) ORDER BY id`),
  };
}

/** The whole database as data: the schema, and every row of every table, in a stable order. */
function contents(path: string): { digest: string; rows: number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    const schema = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all();
    let rows = 0;
    const data: Record<string, string[]> = {};
    for (const { name } of tables) {
      const all = db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row));
      rows += all.length;
      data[name] = all.sort();
    }
    return { digest: createHash('sha256').update(JSON.stringify({ schema, data })).digest('hex'), rows };
  } finally {
    db.close();
  }
}

function status(id: string): string | undefined {
  return queryAll<{ status: string }>(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', id)[0]?.status;
}

/** Polls the database until `done` holds, or fails with what it last saw. */
async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a process without Stripe beside one with it, on one database', () => {
  it('the one without never claims, retries or reschedules Stripe work; the one with submits and reads it at once', async () => {
    const seeded = await seedDueWork();
    const stripeIds = [...seeded.stripePending, ...seeded.stripeProcessing];
    const before = rowsOf(stripeIds);

    const without = await connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, ...BUSY_LOOP }));
    // Its own work was due after all the Stripe work: done, its passes went past the Stripe refunds.
    await until('the process without Stripe to do its sandbox work', () => status(seeded.sandboxPending) === 'processing' && status(seeded.sandboxProcessing) === 'completed');
    expect(rowsOf(stripeIds)).toEqual(before);
    expect(imitation.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds')).toHaveLength(2);

    const withStripeKey = await spawnHttp(home.env(withStripe(BUSY_LOOP)));
    try {
      await until(
        'the Stripe process to submit the pending refunds and read the processing ones',
        // The imitation settles a new refund at once: submitted, it is recorded completed.
        () => seeded.stripePending.every((id) => status(id) === 'completed') && seeded.stripeProcessing.every((id) => status(id) === 'completed'),
      );
    } finally {
      expect(await withStripeKey.stop()).toBe(0);
    }
    for (const id of seeded.stripePending) {
      expect(queryAll(home.dbPath, 'SELECT attempts, last_error, claim_token FROM refunds WHERE id = ?', id)).toEqual([
        { attempts: 1, last_error: null, claim_token: null },
      ]);
    }
    // One Stripe refund per refund of ours, in our status (the demo's made-up Stripe ids aside).
    const snap = snapshot(home.dbPath);
    snap.refunds = snap.refunds.filter((r) => stripeIds.includes(r.id));
    expect(stripeAgreementViolations(snap, imitation.refunds(), { settled: true })).toEqual([]);
    expect(without.stderr()).not.toMatch(/not configured|submission postponed/);
  });

  it('dispatch without Stripe does the sandbox work only; read-only, it refuses and writes nothing', async () => {
    const seeded = await seedDueWork();
    const stripeIds = [...seeded.stripePending, ...seeded.stripeProcessing];
    const before = rowsOf(stripeIds);
    const run = await runCli(['dispatch'], home.env());
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('submitted 1, status reads 1, status changes 1\n');
    expect(rowsOf(stripeIds)).toEqual(before);

    const untouched = contents(home.dbPath);
    const readOnly = await runCli(['dispatch'], home.env(withStripe({ REFUNDKIT_READ_ONLY: '1' })));
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toMatch(/REFUNDKIT_READ_ONLY/);
    expect(contents(home.dbPath)).toEqual(untouched);
  });
});

describe('a read-only process writes nothing', () => {
  it('stdio, with Stripe configured and due work for both processors: no pass, and get_refund answers the stored status', async () => {
    const seeded = await seedDueWork();
    const before = contents(home.dbPath);
    const stripeRequests = imitation.requests.length;

    const server = await connectServer(home.env(withStripe({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_READ_ONLY: '1', ...BUSY_LOOP })));
    const processing = seeded.stripeProcessing[0]!;
    const got = await callTool(server, 'get_refund', { refundId: processing });
    // Stripe says succeeded; a read-only server does not ask, and answers what is stored.
    expect(got.structuredContent).toMatchObject({ refund: { id: processing, status: 'processing' } });
    expect((await callTool(server, 'get_refund', { refundId: seeded.stripePending[0]! })).structuredContent).toMatchObject({
      refund: { status: 'pending' },
    });
    expect((await callTool(server, 'list_refunds', { processor: 'stripe', limit: 50 })).isError ?? false).toBe(false);
    // Ending stdin lets a pass in progress finish before the process exits.
    await server.client.close();
    await until('the read-only server to exit', () => {
      try {
        process.kill(server.pid, 0);
        return false;
      } catch {
        return true;
      }
    });

    expect(contents(home.dbPath)).toEqual(before);
    expect(imitation.requests.length).toBe(stripeRequests);
    // Nothing even tried to write (a write on the read-only connection would have failed, logged).
    expect(server.stderr()).not.toMatch(/ (warn|error) /);
  });

  it('http, with Stripe and a webhook secret: no pass, no pruning, webhook deliveries refused, reads served', async () => {
    const seeded = await seedDueWork({ oldWebhookEvent: true });
    const before = contents(home.dbPath);
    const stripeRequests = imitation.requests.length;

    const server = await spawnHttp(home.env(withStripe({ REFUNDKIT_READ_ONLY: '1', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ...BUSY_LOOP })));
    try {
      const processing = seeded.stripeProcessing[0]!;
      const rest = await raw(`${server.url}/v1/refunds/${processing}`, { headers: { authorization: `Bearer ${DEMO_API_KEY}` } });
      expect(rest.status).toBe(200);

      const client = new Client({ name: 'e2e-processes', version: '0.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${DEMO_API_KEY}` } } }),
      );
      try {
        const got = await client.callTool({ name: 'get_refund', arguments: { refundId: processing } });
        expect(got.structuredContent).toMatchObject({ refund: { status: 'processing' } });
      } finally {
        await client.close();
      }

      const twin = imitation.refunds().find((r) => r.metadata?.[REFUND_ID_METADATA_KEY] === processing);
      expect(twin).toBeDefined();
      const delivery = imitation.signedEvent(WEBHOOK_SECRET, 'refund.updated', twin!);
      const webhook = await raw(`${server.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': delivery.header },
        body: delivery.payload,
      });
      expect(webhook.status).toBe(405);
      expect(webhook.json()).toMatchObject({ error: { code: 'method_not_allowed', message: expect.stringMatching(/read-only/) as unknown } });
    } finally {
      // SIGTERM lets a pass in progress finish before the process exits.
      expect(await server.stop()).toBe(0);
    }
    const warnings = server.stderr().split('\n').filter((line) => / (warn|error) /.test(line));
    expect(warnings).toEqual([expect.stringMatching(/read-only: POST \/webhooks\/stripe refuses deliveries/)]);

    expect(contents(home.dbPath)).toEqual(before);
    expect(imitation.requests.length).toBe(stripeRequests);
  });
});
