/**
 * Three `refundkit-mcp http` processes on one PostgreSQL database behind a plain round-robin
 * balancer (no sticky sessions), with `dispatch` as a process of its own: what docs/postgres.md
 * tells operators to run. /mcp is stateless there, so an MCP client works whichever process each of
 * its requests reaches; a revoked key is refused everywhere at its next call; another
 * organization's key finds nothing of this one's on any process; racing cancels have
 * one winner and one event; racing agent creates never overshoot their budget; a process killed
 * mid-load loses nothing that was answered, and leaves no refund whose status its events deny.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, cleanupCli } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { bearer, JSON_HEADERS, raw, type RawResponse } from '../support/http-server.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/postgres.js';

interface RefundJson {
  id: string;
  status: string;
}

describePostgres('three processes on PostgreSQL behind a round-robin balancer', () => {
  let database: TestDatabase;
  let cluster: Cluster;
  let db: pg.Pool;
  let orgId: string;
  let key: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    assertBuilt();
    database = await createTestDatabase({ migrated: false });
    // A review window, so that a refund stays pending (cancellable) until dispatch submits it.
    cluster = await startCluster(database.url, { env: { REFUNDKIT_HOLD_SECONDS: '600' } });
    db = database.pool({ max: 2 });
    orgId = await cluster.cli('orgs', 'create', '--name', 'Balanced');
    key = await cluster.cli('keys', 'create', '--name', 'Test agent', '--org', orgId);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
    await cluster.close();
    await cleanupCli();
    await database.drop();
  });

  async function connect(withKey: string): Promise<Client> {
    const transport = new StreamableHTTPClientTransport(new URL(`${cluster.balancer.url}/mcp`), { requestInit: { headers: bearer(withKey) } });
    const client = new Client({ name: 'refundkit-balancer-test', version: '0.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    return CallToolResultSchema.parse(await client.callTool({ name, arguments: args }));
  }

  function refundOf(result: CallToolResult): RefundJson {
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return (result.structuredContent as { refund: RefundJson }).refund;
  }

  const rest = (method: string, path: string, withKey: string, body?: unknown, extra: Record<string, string> = {}): Promise<RawResponse> =>
    raw(`${cluster.balancer.url}${path}`, {
      method,
      headers: { ...bearer(withKey), ...(body === undefined ? {} : JSON_HEADERS), ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const idOf = (res: RawResponse): string => (res.json() as { data: { id: string } }).data.id;

  async function eventsOf(refundId: string): Promise<{ from_status: string | null; to_status: string }[]> {
    return (await db.query<{ from_status: string | null; to_status: string }>('SELECT from_status, to_status FROM refund_events WHERE refund_id = $1 ORDER BY id', [refundId])).rows;
  }

  it('an MCP client initializes, lists and calls the tools while its requests go to every process in turn', async () => {
    const before = cluster.balancer.sequence().length;
    const client = await connect(key);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['create_refund', 'get_refund', 'cancel_refund']));
    const created = refundOf(await call(client, 'create_refund', { transactionId: 'ch_balanced1', amount: 1500, reason: 'duplicate_charge', idempotencyKey: 'balanced-1' }));
    expect(created.status).toBe('pending');
    expect(refundOf(await call(client, 'get_refund', { refundId: created.id })).id).toBe(created.id);
    expect(refundOf(await call(client, 'cancel_refund', { refundId: created.id })).status).toBe('cancelled');
    expect(refundOf(await call(client, 'get_refund', { refundId: created.id })).status).toBe('cancelled');

    const mine = cluster.balancer.sequence().slice(before);
    // initialize, initialized, (a GET the server declines), tools/list and five calls at least.
    expect(mine.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < mine.length; i++) expect(mine[i]).not.toBe(mine[i - 1]);
    expect(new Set(mine).size).toBe(3);
    expect(cluster.balancer.counts().every((count) => count >= 2)).toBe(true);
    expect((await eventsOf(created.id)).map((e) => e.to_status)).toEqual(['pending', 'cancelled']);
  });

  it('a key revoked (by the CLI, or any process) is refused through the balancer at its next call, on every process', async () => {
    const doomed = await cluster.cli('keys', 'create', '--name', 'Test agent', '--org', orgId);
    const client = await connect(doomed);
    // Each process has served the key once at least, so any cache of it would be warm everywhere.
    for (let i = 0; i < 3; i++) await client.listTools();
    expect((await rest('GET', '/v1/refunds?limit=1', doomed)).status).toBe(200);
    await cluster.cli('keys', 'revoke', '--key', doomed);
    for (let i = 0; i < 3; i++) {
      await expect(client.listTools()).rejects.toThrow(/401|invalid_api_key|revoked/i);
      expect((await rest('GET', '/v1/refunds?limit=1', doomed)).status).toBe(401);
    }
  });

  it("another organization's key sees nothing of this one's refunds, on whichever process it lands", async () => {
    const otherOrg = await cluster.cli('orgs', 'create', '--name', 'Other');
    const otherKey = await cluster.cli('keys', 'create', '--name', 'Test agent', '--org', otherOrg);
    const created = await rest('POST', '/v1/refunds', key, { transactionId: 'ch_tenancy1', amount: 800, reason: 'duplicate_charge' });
    expect(created.status, created.text).toBe(200);
    const id = idOf(created);
    const other = await connect(otherKey);
    const notFound = { error: { message: 'Refund not found', code: 'not_found' } };
    // Three rounds: each tool lands on each of the three processes in turn.
    for (let i = 0; i < 3; i++) {
      for (const tool of ['get_refund', 'cancel_refund']) {
        const refused = await call(other, tool, { refundId: id });
        expect(refused.isError).toBe(true);
        const first = refused.content[0];
        expect(JSON.parse(first?.type === 'text' ? first.text : '{}')).toEqual(notFound);
      }
      const listed = await call(other, 'list_refunds', { limit: 100 });
      expect(JSON.stringify(listed.structuredContent)).not.toContain(id);
      expect((await rest('GET', `/v1/refunds/${id}`, otherKey)).status).toBe(404);
      expect((await rest('POST', `/v1/refunds/${id}/cancel`, otherKey)).status).toBe(404);
    }
    expect((await eventsOf(id)).map((e) => e.to_status)).toEqual(['pending']);
  });

  it('cancels of one refund racing through the balancer: exactly one winner and one event', async () => {
    for (let round = 0; round < 3; round++) {
      const created = await rest('POST', '/v1/refunds', key, { transactionId: `ch_cancelrace${round}`, amount: 700, reason: 'duplicate_charge' });
      expect(created.status, created.text).toBe(200);
      const id = idOf(created);
      const answers = await Promise.all(Array.from({ length: 12 }, () => rest('POST', `/v1/refunds/${id}/cancel`, key)));
      const won = answers.filter((a) => a.status === 200);
      expect(won, answers.map((a) => `${a.status} ${a.text}`).join('\n')).toHaveLength(1);
      for (const lost of answers.filter((a) => a.status !== 200)) {
        expect(lost.status, lost.text).toBe(409);
      }
      expect((await eventsOf(id)).map((e) => e.to_status)).toEqual(['pending', 'cancelled']);
    }
  });

  it('agent creates racing through the balancer never overshoot the daily budget', async () => {
    const budgetOrg = await cluster.cli('orgs', 'create', '--name', 'Budget');
    const keys = await Promise.all([0, 1, 2].map(() => cluster.cli('keys', 'create', '--name', 'Test agent', '--org', budgetOrg)));
    await cluster.cli('policy', 'set', '--org', budgetOrg, '--as', 'race-operator', '--currency', 'usd', '--max-per-refund', '10000', '--approval-above', '10000', '--daily-count', '5', '--daily-amount', '1000000');
    const agents = await Promise.all(keys.map((k) => connect(k)));
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => call(agents[i % 3] as Client, 'create_refund', { transactionId: `ch_budget${i}`, amount: 500, reason: 'duplicate_charge' })),
    );
    const created = results.filter((r) => r.isError !== true);
    expect(created).toHaveLength(5);
    for (const refused of results.filter((r) => r.isError === true)) {
      const first = refused.content[0];
      expect(first?.type === 'text' ? first.text : '').toMatch(/policy_violation/);
    }
    const stored = await db.query<{ n: string }>('SELECT count(*) AS n FROM refunds WHERE organization_id = $1', [budgetOrg]);
    expect(Number(stored.rows[0]?.n)).toBe(5);
  });

  it('a process killed mid-load loses no answered create, duplicates none, and leaves every refund as its events say', async () => {
    // A cluster of its own that submits inside the create call (no review window), so that the
    // kill lands among submissions as well as inserts.
    const crashDatabase = await createTestDatabase({ migrated: false });
    const crash = await startCluster(crashDatabase.url, { env: { REFUNDKIT_HOLD_SECONDS: '0' } });
    const crashDb = crashDatabase.pool({ max: 2 });
    try {
      const crashOrg = await crash.cli('orgs', 'create', '--name', 'Crash');
      const crashKey = await crash.cli('keys', 'create', '--name', 'Test agent', '--org', crashOrg);
      const killed = 1;
      const answered = new Map<string, string>();
      const unanswered: string[] = [];
      let sent = 0;
      const create = (n: number): Promise<RawResponse> =>
        raw(`${crash.balancer.url}/v1/refunds`, {
          method: 'POST',
          headers: { ...bearer(crashKey), ...JSON_HEADERS, 'idempotency-key': `crash-${n}` },
          body: JSON.stringify({ transactionId: `ch_crash${n}`, amount: 300 + n, reason: 'requested_by_customer' }),
        });
      const worker = async (w: number): Promise<void> => {
        for (let i = 0; i < 8; i++) {
          const n = w * 100 + i;
          sent += 1;
          if (sent === 12) crash.kill(killed);
          const res = await create(n).catch(() => undefined);
          if (res?.status === 200) answered.set(`crash-${n}`, idOf(res));
          else unanswered.push(`crash-${n}`);
        }
      };
      await Promise.all([0, 1, 2, 3].map((w) => worker(w)));
      expect(crash.processes[killed]?.child.signalCode).toBe('SIGKILL');
      // The dead process took no request after the kill: the balancer went on to the next.
      expect(crash.balancer.counts()[killed]).toBeLessThan(6);

      // A caller whose create got no answer retries with its key, and gets the one refund.
      for (const idempotencyKey of unanswered) {
        const res = await create(Number(idempotencyKey.slice('crash-'.length)));
        expect(res.status, res.text).toBe(200);
        answered.set(idempotencyKey, idOf(res));
      }
      expect(answered.size).toBe(32);
      // The dispatcher, a process of its own, works the shared queue after the crash.
      expect(await crash.dispatch()).toMatch(/^submitted \d+, status reads \d+, status changes \d+$/);

      const rows = (
        await crashDb.query<{ id: string; status: string; idempotency_key: string; external_refund_id: string | null }>(
          'SELECT id, status, idempotency_key, external_refund_id FROM refunds WHERE organization_id = $1',
          [crashOrg],
        )
      ).rows;
      expect(rows).toHaveLength(32);
      for (const row of rows) {
        expect(answered.get(row.idempotency_key)).toBe(row.id);
        const events = (await crashDb.query<{ from_status: string | null; to_status: string }>('SELECT from_status, to_status FROM refund_events WHERE refund_id = $1 ORDER BY id', [row.id])).rows;
        // Its events replay from creation to its status, each move from where the last one left it.
        expect(events[0]).toEqual({ from_status: null, to_status: 'pending' });
        for (let i = 1; i < events.length; i++) expect(events[i]?.from_status).toBe(events[i - 1]?.to_status);
        expect(events.at(-1)?.to_status).toBe(row.status);
        // Past pending means the processor has it: never a status the processor does not back.
        if (row.status !== 'pending' && row.status !== 'cancelled') expect(row.external_refund_id).not.toBeNull();
      }
    } finally {
      await crash.close();
      await crashDatabase.drop();
    }
  });
});
