/**
 * In-band confirmation on the built stdio server, with the SDK client: the demo organization's
 * policy set to confirmWrites by the operator CLI; a client with the elicitation capability is
 * asked and its person's accept / decline / cancel decides; a client without it gets its refund
 * held for approval, never created as usual.
 */
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { assertBuilt, callTool, cleanupCli, connectServer, count, createDemoHome, disconnect, queryAll, runCli, toolJson, type TestHome } from '../support/cli.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupCli());

interface Answered {
  asked: ElicitRequest[];
  result: { refund?: { id: string; status: string }; error?: { code: string; message: string } };
  note: string;
}

async function confirmingHome(): Promise<TestHome> {
  const home = await createDemoHome();
  const set = await runCli(['policy', 'set', '--org', DEMO_ORGANIZATION_ID, '--confirm-writes', 'yes'], home.env());
  expect(set.code, set.stderr).toBe(0);
  return home;
}

async function agentCall(home: TestHome, name: string, args: Record<string, unknown>, answer?: ElicitResult): Promise<Answered> {
  const asked: ElicitRequest[] = [];
  const server = await connectServer(
    home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' }),
    'refundkit-e2e-confirm',
    answer === undefined
      ? {}
      : { capabilities: { elicitation: { form: {} } }, setup: (client) => client.setRequestHandler(ElicitRequestSchema, (request) => (asked.push(request), answer)) },
  );
  try {
    const result = await callTool(server, name, args);
    const block = result.content[1];
    return { asked, result: toolJson(result) as Answered['result'], note: block?.type === 'text' ? block.text : '' };
  } finally {
    await disconnect(server);
  }
}

const refundArgs = (key: string) => ({ transactionId: 'ch_sbx_demo000001', amount: 1500, reason: 'duplicate_charge', idempotencyKey: key });
const refunds = (home: TestHome) => count(home.dbPath, 'SELECT count(*) AS n FROM refunds');

describe('confirmation over stdio (demo policy with confirmWrites)', () => {
  it('accept: the person is asked in plain words and the refund is created as usual; decline and cancel create nothing', async () => {
    const home = await confirmingHome();
    const before = refunds(home);

    const accepted = await agentCall(home, 'create_refund', refundArgs('confirm-accept'), { action: 'accept', content: { confirm: true } });
    expect(accepted.asked).toHaveLength(1);
    expect(accepted.asked[0]?.params.message).toContain('$15.00 (1500 usd)');
    expect(accepted.asked[0]?.params.message).toContain('ch_sbx_demo000001');
    expect(accepted.result.refund?.status).not.toBe('pending');
    const events = queryAll<{ detail: string }>(home.dbPath, 'SELECT detail FROM refund_events WHERE refund_id = ? ORDER BY id', accepted.result.refund?.id);
    expect(events[0]?.detail).toContain('confirmed by the person at the MCP client');

    for (const [key, answer] of [['confirm-decline', { action: 'decline' }], ['confirm-cancel', { action: 'cancel' }]] as const) {
      const refused = await agentCall(home, 'create_refund', refundArgs(key), answer);
      expect(refused.asked).toHaveLength(1);
      expect(refused.result.error?.code).toBe('confirmation_declined');
      expect(refused.result.error?.message).toContain('nothing was created');
    }
    expect(refunds(home)).toBe(before + 1);
  }, 60_000);

  it('cancel: declined changes nothing; accepted cancels', async () => {
    const home = await confirmingHome();
    const created = await agentCall(home, 'create_refund', refundArgs('confirm-then-cancel'), { action: 'accept', content: { confirm: true } });
    const refundId = created.result.refund?.id;
    // A seeded pending refund: cancellable locally.
    const [pending] = queryAll<{ id: string }>(home.dbPath, "SELECT id FROM refunds WHERE status = 'pending' AND processor = 'sandbox' AND id <> ? ORDER BY id LIMIT 1", refundId);
    const declined = await agentCall(home, 'cancel_refund', { refundId: pending?.id }, { action: 'decline' });
    expect(declined.asked[0]?.params.message).toContain(pending?.id ?? 'missing');
    expect(declined.result.error?.code).toBe('confirmation_declined');
    expect(queryAll<{ status: string }>(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', pending?.id)[0]?.status).toBe('pending');
    const accepted = await agentCall(home, 'cancel_refund', { refundId: pending?.id }, { action: 'accept', content: { confirm: true } });
    expect(accepted.result.refund?.status).toBe('cancelled');
  }, 60_000);

  it('a client without elicitation: the refund waits for approval (never created as usual); its cancel is refused', async () => {
    const home = await confirmingHome();
    const held = await agentCall(home, 'create_refund', refundArgs('confirm-fallback'));
    expect(held.result.refund?.status).toBe('pending');
    expect(held.note).toMatch(/waits for a person's approval/);
    const approvals = queryAll<{ rule: string; status: string }>(home.dbPath, 'SELECT rule, status FROM approval_requests WHERE refund_id = ?', held.result.refund?.id);
    expect(approvals).toEqual([{ rule: 'confirmation', status: 'requested' }]);
    const cancel = await agentCall(home, 'cancel_refund', { refundId: held.result.refund?.id });
    expect(cancel.result.error?.code).toBe('policy_violation');
    expect(cancel.result.error?.message).toContain('A person must cancel it');
  }, 60_000);
});
