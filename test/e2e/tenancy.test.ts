/**
 * Two organizations in one database, each served by its own stdio server acting with its own key:
 * a refund of organization A does not exist for organization B, whichever tool B calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Refund } from '../../src/domain/refund.js';
import { insertRefund as insertSeed } from '../support/fixtures.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  createTestHome,
  lastLine,
  queryAll,
  runCli,
  toolJson,
  type ConnectedServer,
  type TestHome,
} from '../support/cli.js';

const NOT_FOUND = { error: { message: 'Refund not found', code: 'not_found' } };

let home: TestHome;
let orgA: string;
let orgB: string;
let refundA: Refund;
let refundB: Refund;
let serverA: ConnectedServer;
let serverB: ConnectedServer;

async function cli(args: string[]): Promise<string> {
  const result = await runCli(args, home.env());
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return lastLine(result.stdout);
}

/** Writes a refund with the product's own store, as the API would have created it. */
function insertRefund(organizationId: string, id: string, amount: number, createdAt: string): Refund {
  const app = createSqliteApp(loadConfig({ HOME: home.dir, REFUNDKIT_DB_PATH: home.dbPath }));
  try {
    return insertSeed(app, organizationId, { id, transactionId: `ch_${id.slice(4)}`, amount, metadata: { owner: organizationId }, createdAt });
  } finally {
    app.close();
  }
}

function rowOf(refundId: string): unknown {
  return queryAll(home.dbPath, 'SELECT * FROM refunds WHERE id = ?', refundId)[0];
}

function eventsOf(refundId: string): unknown[] {
  return queryAll(home.dbPath, 'SELECT * FROM refund_events WHERE refund_id = ? ORDER BY id', refundId);
}

beforeAll(async () => {
  assertBuilt();
  home = createTestHome();
  [orgA, orgB] = await Promise.all([cli(['orgs', 'create', '--name', 'Org A']), cli(['orgs', 'create', '--name', 'Org B'])]);
  const [keyA, keyB] = await Promise.all([
    cli(['keys', 'create', '--name', 'Test agent', '--org', orgA]),
    cli(['keys', 'create', '--name', 'Test agent', '--org', orgB, '--mode', 'test']),
  ]);
  // A's refund is the newest in the database, so it would head any list that leaked it.
  refundB = insertRefund(orgB, 'ref_tenantbbbbbb', 1200, '2026-03-01T10:00:00.000Z');
  refundA = insertRefund(orgA, 'ref_tenantaaaaaa', 3400, '2026-03-01T11:00:00.000Z');
  // The seeded refunds were created by no key; B's operator lets its agents cancel such refunds
  // (the default agent policy does not), so that the cancel below is about tenancy alone.
  await cli(['policy', 'set', '--org', orgB, '--cancel-others', 'yes']);
  [serverA, serverB] = await Promise.all([
    connectServer(home.env({ REFUNDKIT_API_KEY: keyA })),
    connectServer(home.env({ REFUNDKIT_API_KEY: keyB })),
  ]);
});
afterAll(() => cleanupCli());

describe('tenant isolation across organizations sharing one database', () => {
  it("A's own server sees A's refund (the control: the refund is really there)", async () => {
    const result = await callTool(serverA, 'get_refund', { refundId: refundA.id });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ refund: refundA });
    const list = (await callTool(serverA, 'list_refunds', {})).structuredContent as { refunds: Refund[] };
    expect(list.refunds.map((r) => r.id)).toEqual([refundA.id]);
  });

  it("B's server: get_refund and cancel_refund on A's refund are not_found, list_refunds never shows it", async () => {
    const rowBefore = rowOf(refundA.id);
    const eventsBefore = eventsOf(refundA.id);

    const got = await callTool(serverB, 'get_refund', { refundId: refundA.id });
    expect(got.isError).toBe(true);
    expect(toolJson(got)).toEqual(NOT_FOUND);

    const cancelled = await callTool(serverB, 'cancel_refund', { refundId: refundA.id });
    expect(cancelled.isError).toBe(true);
    expect(toolJson(cancelled)).toEqual(NOT_FOUND);

    // Every way of listing: all, filtered to A's status and processor, paged.
    const queries: Record<string, unknown>[] = [
      {},
      { status: 'pending' },
      { processor: 'sandbox' },
      { status: 'pending', processor: 'sandbox', limit: 100 },
      { limit: 1 },
      { limit: 1, offset: 1 },
    ];
    for (const query of queries) {
      const page = (await callTool(serverB, 'list_refunds', query)).structuredContent as { refunds: Refund[] };
      for (const refund of page.refunds) expect(refund.organizationId, JSON.stringify(query)).toBe(orgB);
      expect(page.refunds.map((r) => r.id)).not.toContain(refundA.id);
    }
    const all = (await callTool(serverB, 'list_refunds', {})).structuredContent as { refunds: Refund[]; nextOffset: number | null };
    expect(all.refunds).toEqual([refundB]);
    expect(all.nextOffset).toBeNull();

    // A's refund is exactly as it was: same row, no new event.
    expect(rowOf(refundA.id)).toEqual(rowBefore);
    expect(eventsOf(refundA.id)).toEqual(eventsBefore);
    expect((await callTool(serverA, 'get_refund', { refundId: refundA.id })).structuredContent).toEqual({ refund: refundA });
  });

  it("B can still cancel its own refund; A's server cannot touch it either", async () => {
    const fromA = await callTool(serverA, 'cancel_refund', { refundId: refundB.id });
    expect(toolJson(fromA)).toEqual(NOT_FOUND);
    const fromB = await callTool(serverB, 'cancel_refund', { refundId: refundB.id });
    expect(fromB.isError).toBeFalsy();
    expect((fromB.structuredContent as { refund: Refund }).refund).toMatchObject({ id: refundB.id, status: 'cancelled' });
    expect(queryAll<{ status: string }>(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', refundA.id)).toEqual([
      { status: 'pending' },
    ]);
  });
});
