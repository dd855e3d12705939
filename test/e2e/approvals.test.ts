/**
 * The guardrails from the operator's side, on the built CLI and stdio server: an agent's refund
 * above the demo's approval threshold waits; an operator approves it with `approvals approve` and
 * `dispatch` submits it; a rejected one is cancelled and never submitted; `policy show|set` and
 * `keys create --scopes` work as docs/cli.md says.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  createDemoHome,
  disconnect,
  lastLine,
  lines,
  queryAll,
  runCli,
  toolJson,
  type TestHome,
} from '../support/cli.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupCli());

interface RefundJson {
  refund: { id: string; status: string; amount: number };
}

const ORG = ['--org', DEMO_ORGANIZATION_ID];

async function agentCreates(home: TestHome, amounts: number[]): Promise<Array<{ id: string; status: string; note: string }>> {
  const server = await connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' }));
  try {
    const out = [];
    for (const [i, amount] of amounts.entries()) {
      const result = await callTool(server, 'create_refund', {
        transactionId: `ch_sbx_demo00000${i + 1}`,
        amount,
        reason: 'requested_by_customer',
        idempotencyKey: `approvals-e2e-${i}`,
      });
      const block = result.content[1];
      const note = block?.type === 'text' ? block.text : '';
      if (result.isError === true) {
        out.push({ id: '', status: (toolJson(result) as { error: { code: string } }).error.code, note: JSON.stringify(toolJson(result)) });
      } else {
        const { refund } = toolJson(result) as RefundJson;
        out.push({ id: refund.id, status: refund.status, note });
      }
    }
    return out;
  } finally {
    await disconnect(server);
  }
}

describe('approvals over the CLI', () => {
  it('approve: the held refund is submitted by dispatch; reject: cancelled and never submitted; over the limit: refused', async () => {
    const home = await createDemoHome();
    const [held, rejected, refused] = await agentCreates(home, [5000, 6000, 20_000]);
    expect(held?.status).toBe('pending');
    expect(rejected?.status).toBe('pending');
    expect(refused?.status).toBe('policy_violation');
    expect(refused?.note).toContain('exceeds the agent limit of 10000 usd per refund');
    // The refusal created nothing, and is on record all the same.
    const refusals = await runCli(['policy', 'refusals', ...ORG], home.env());
    expect(refusals.code).toBe(0);
    expect(lines(refusals.stdout).map((line) => line.split('\t').slice(1, 6))).toEqual([['denied', 'max_per_refund', expect.stringMatching(/^key_/), '20000', 'usd']]);

    const listed = await runCli(['approvals', 'list', ...ORG, '--status', 'requested'], home.env());
    expect(listed.code).toBe(0);
    const rows = lines(listed.stdout).map((line) => line.split('\t'));
    const idFor = (refundId: string | undefined): string => rows.find((row) => row[2] === refundId)?.[0] ?? 'missing';
    expect(rows.map((row) => row[1])).toEqual(['requested', 'requested']);
    // The requesting key by name, id and prefix, as the dashboard shows it.
    expect(rows.map((row) => row[6])).toEqual([expect.stringMatching(/^Demo agent \(key_[a-z0-9]{12} \/ rk_test_demo…\)$/), expect.stringMatching(/^Demo agent \(/)]);

    // Nothing goes out while the approval is open.
    expect(lastLine((await runCli(['dispatch'], home.env())).stdout)).toMatch(/^submitted 0,/);

    const approve = await runCli(['approvals', 'approve', idFor(held?.id), ...ORG, '--as', 'ana', '--note', 'checked the order'], home.env());
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain(`refund ${held?.id ?? ''} (5000 usd) is due for submission`);
    const reject = await runCli(['approvals', 'reject', idFor(rejected?.id), ...ORG, '--as', 'bo', '--note', 'not eligible'], home.env());
    expect(reject.code).toBe(0);
    expect(reject.stdout).toContain('is cancelled');

    expect(lastLine((await runCli(['dispatch'], home.env())).stdout)).toMatch(/^submitted 1,/);
    const status = (id: string | undefined) => queryAll<{ status: string }>(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', id)[0]?.status;
    expect(status(held?.id)).toBe('processing');
    expect(status(rejected?.id)).toBe('cancelled');
    const details = queryAll<{ detail: string }>(home.dbPath, 'SELECT detail FROM refund_events WHERE refund_id = ? ORDER BY id', rejected?.id);
    expect(details.at(-1)?.detail).toContain('rejected by operator:bo: not eligible');

    const again = await runCli(['approvals', 'approve', idFor(rejected?.id), ...ORG], home.env());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('approval_not_open');
  }, 60_000);

  it('the tool result says plainly that the refund awaits a person and how to learn the outcome', async () => {
    const home = await createDemoHome();
    const [held] = await agentCreates(home, [5000]);
    expect(held?.note).toMatch(/waits for a person's approval/);
    expect(held?.note).toContain('get_refund');
  }, 30_000);

  it('misuse is exit 2, an unknown approval exit 1', async () => {
    const home = await createDemoHome();
    expect((await runCli(['approvals', 'approve', ...ORG], home.env())).code).toBe(2);
    expect((await runCli(['approvals', 'approve', 'nope', ...ORG], home.env())).code).toBe(2);
    expect((await runCli(['approvals', 'list', ...ORG, '--status', 'maybe'], home.env())).code).toBe(2);
    const unknown = await runCli(['approvals', 'reject', 'apr_nosuchthing0', ...ORG], home.env());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('not_found');
    expect((await runCli(['approvals', '--help'], home.env())).stdout).toContain('approvals approve APPROVAL_ID');
  });
});

describe('policy and scoped keys over the CLI', () => {
  it('show prints the demo policy; set by flags and by file; an invalid policy is refused and nothing changes', async () => {
    const home = await createDemoHome();
    const shown = await runCli(['policy', 'show', ...ORG], home.env());
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(DEMO_AGENT_POLICY);

    const set = await runCli(['policy', 'set', ...ORG, '--as', 'ana', '--currency', 'eur', '--max-per-refund', '5000', '--approval-above', '1000', '--daily-count', '5', '--daily-amount', '20000'], home.env());
    expect(set.code).toBe(0);
    expect(set.stderr).toContain('set by operator:ana');
    expect((JSON.parse((await runCli(['policy', 'show', ...ORG], home.env())).stdout) as typeof DEMO_AGENT_POLICY).currencies.eur).toEqual({
      maxPerRefund: 5000, approvalAbove: 1000, dailyCount: 5, dailyAmount: 20000,
    });

    const file = join(home.dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ ...DEMO_AGENT_POLICY, cancelOthers: true }));
    expect((await runCli(['policy', 'set', ...ORG, '--file', file], home.env())).code).toBe(0);
    writeFileSync(file, JSON.stringify({ ...DEMO_AGENT_POLICY, approvalHours: 0 }));
    const bad = await runCli(['policy', 'set', ...ORG, '--file', file], home.env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('approvalHours');
    expect((JSON.parse((await runCli(['policy', 'show', ...ORG], home.env())).stdout) as typeof DEMO_AGENT_POLICY).cancelOthers).toBe(true);
    expect((await runCli(['policy', 'set', ...ORG, '--max-per-refund', '5'], home.env())).code).toBe(2);
  }, 60_000);

  it('keys create --scopes keeps them; an unknown scope is exit 2', async () => {
    const home = await createDemoHome();
    const created = await runCli(['keys', 'create', '--name', 'Test agent', ...ORG, '--scopes', 'read'], home.env());
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('with scopes read;');
    const listed = lines((await runCli(['keys', 'list', ...ORG], home.env())).stdout).map((line) => line.split('\t'));
    expect(listed.map((row) => row[5]).sort()).toEqual(['read', 'read,write']);
    const bad = await runCli(['keys', 'create', '--name', 'Test agent', ...ORG, '--scopes', 'read,sudo'], home.env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown scope 'sudo'");
  });
});
