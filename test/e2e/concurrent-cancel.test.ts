/**
 * Two separate server processes (say Claude Desktop and an agent framework) share one database
 * file and cancel the same pending refund at the same moment: exactly one wins, the other is told
 * refund_not_cancellable, and the audit trail holds exactly one cancellation.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { insertRefund } from '../support/fixtures.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  count,
  createDemoHome,
  queryAll,
  toolJson,
  type ConnectedServer,
  type TestHome,
} from '../support/cli.js';

let home: TestHome;
let first: ConnectedServer;
let second: ConnectedServer;

/** Fresh pending refunds for the demo organization, written with the product's own store. */
function insertPending(ids: string[]): void {
  const app = createSqliteApp(loadConfig({ HOME: home.dir, REFUNDKIT_DB_PATH: home.dbPath }));
  try {
    ids.forEach((id, index) => {
      const at = new Date(Date.parse('2026-03-01T00:00:00.000Z') + index * 1000).toISOString();
      insertRefund(app, DEMO_ORGANIZATION_ID, {
        id,
        transactionId: `ch_${id.slice(4)}`,
        amount: 1000 + index,
        reason: 'duplicate_charge',
        processor: index % 2 === 0 ? 'sandbox' : 'stripe',
        createdAt: at,
      });
    });
  } finally {
    app.close();
  }
}

const PAIRED = ['ref_racepair0001', 'ref_racepair0002', 'ref_racepair0003', 'ref_racepair0004'];
const BURST = ['ref_raceburst001', 'ref_raceburst002', 'ref_raceburst003', 'ref_raceburst004', 'ref_raceburst005'];

beforeAll(async () => {
  assertBuilt();
  home = await createDemoHome();
  insertPending([...PAIRED, ...BURST]);
  // Both processes are up and connected before any cancellation is sent.
  [first, second] = await Promise.all([
    connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY }), 'desktop'),
    connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY }), 'agent'),
  ]);
  expect(first.pid).not.toBe(second.pid);
});
afterAll(() => cleanupCli());

function cancelledEvents(refundId: string): { initiated_by: string; from_status: string }[] {
  return queryAll(home.dbPath, "SELECT * FROM refund_events WHERE refund_id = ? AND to_status = 'cancelled'", refundId);
}

/** One winner (status cancelled) and one loser (refund_not_cancellable), one event row. */
function expectOneWinner(refundId: string, results: CallToolResult[]): void {
  const winners = results.filter((result) => result.isError !== true);
  const losers = results.filter((result) => result.isError === true);
  expect(winners, refundId).toHaveLength(1);
  expect(losers, refundId).toHaveLength(1);
  expect((winners[0]!.structuredContent as { refund: { id: string; status: string } }).refund).toMatchObject({
    id: refundId,
    status: 'cancelled',
  });
  expect(toolJson(losers[0]!)).toEqual({
    error: { message: "Refund cannot be cancelled — status is 'cancelled'", code: 'refund_not_cancellable' },
  });
  expect(cancelledEvents(refundId), refundId).toEqual([expect.objectContaining({ from_status: 'pending', initiated_by: 'mcp' })]);
  expect(queryAll(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', refundId)).toEqual([{ status: 'cancelled' }]);
}

describe('two processes cancel the same pending refund at once', () => {
  it('for each refund in turn, exactly one cancellation succeeds', async () => {
    for (const refundId of PAIRED) {
      const results = await Promise.all([
        callTool(first, 'cancel_refund', { refundId }),
        callTool(second, 'cancel_refund', { refundId }),
      ]);
      expectOneWinner(refundId, results);
    }
  });

  it('in a burst over several refunds, each has exactly one winner and one event', async () => {
    const calls = BURST.map((refundId) =>
      Promise.all([callTool(first, 'cancel_refund', { refundId }), callTool(second, 'cancel_refund', { refundId })]),
    );
    const results = await Promise.all(calls);
    BURST.forEach((refundId, index) => expectOneWinner(refundId, results[index]!));
    expect(
      count(
        home.dbPath,
        `SELECT count(*) AS n FROM refund_events WHERE to_status = 'cancelled' AND refund_id IN (${BURST.map(() => '?').join(', ')})`,
        ...BURST,
      ),
    ).toBe(BURST.length);
  });
});
