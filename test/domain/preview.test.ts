/**
 * preview_refund's use case: the create's own decision on the same facts, with nothing written.
 * Against the real SQLite stores and the sandbox processor (which says every charge took
 * SANDBOX_CHARGED_AMOUNT, and knows nothing of a transaction whose id contains 'unknown').
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefundKitError } from '../../src/domain/errors.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SANDBOX_CHARGED_AMOUNT, SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, countRows, createKey, createOrg, createTestApp, FakeClock, settingsWith } from '../support/fixtures.js';

async function setup() {
  const app = createTestApp();
  const org = createOrg(app);
  const service = new RefundService({
    store: app.refunds,
    guardrails: app.guardrails,
    processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
    clock: new FakeClock(),
    settings: settingsWith({ holdMs: 0 }),
  });
  await app.guardrails.setPolicy(org.id, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
  const agent: Caller = { organizationId: org.id, actor: 'mcp', keyId: createKey(app, org.id).keyId };
  const person: Caller = { organizationId: org.id, actor: 'api', keyId: createKey(app, org.id).keyId };
  return { app, service, agent, person };
}

const proposal = (amount: number, extra: Partial<{ transactionId: string; currency: string }> = {}) => ({
  transactionId: 'ch_preview1',
  amount,
  reason: 'requested_by_customer' as const,
  ...extra,
});

afterEach(() => cleanupAll());

describe('previewRefund', () => {
  it('allow: within the policy, with the transaction and the budget left; nothing written', async () => {
    const { app, service, agent } = await setup();
    const before = [countRows(app, 'refunds'), countRows(app, 'refund_events'), countRows(app, 'approval_requests')];
    const preview = await service.preview(agent, proposal(1000));
    expect(preview).toEqual({
      policyApplies: true,
      outcome: 'allow',
      rule: null,
      message: 'Within the agent policy: the refund would be created and submitted as usual',
      transaction: { transactionId: 'ch_preview1', charged: SANDBOX_CHARGED_AMOUNT, refunded: 0, remaining: SANDBOX_CHARGED_AMOUNT },
      budgetLeft: { currency: 'usd', count: 10, amount: 30_000 },
    });
    expect([countRows(app, 'refunds'), countRows(app, 'refund_events'), countRows(app, 'approval_requests')]).toEqual(before);
  });

  it('counts what the create counts: after a refund, less remains and less budget is left', async () => {
    const { service, agent } = await setup();
    await service.create(agent, { ...proposal(1000), currency: 'usd' });
    const preview = await service.preview(agent, proposal(1000));
    expect(preview.transaction).toEqual({ transactionId: 'ch_preview1', charged: SANDBOX_CHARGED_AMOUNT, refunded: 1000, remaining: SANDBOX_CHARGED_AMOUNT - 1000 });
    expect(preview.budgetLeft).toEqual({ currency: 'usd', count: 9, amount: 29_000 });
  });

  it('approval: above the threshold, with the rule and the same message the create gives', async () => {
    const { service, agent } = await setup();
    const preview = await service.preview(agent, proposal(5000));
    expect(preview).toMatchObject({ outcome: 'approval', rule: 'approval_threshold' });
    expect(preview.message).toBe(
      "It would be created pending and wait for a person's approval: Refund of 5000 usd is above the approval threshold of 2500 usd: it waits for a person's approval",
    );
  });

  it('deny: above the per-refund limit, naming the limit', async () => {
    const { service, agent } = await setup();
    const preview = await service.preview(agent, proposal(20_000));
    expect(preview).toMatchObject({ outcome: 'deny', rule: 'max_per_refund' });
    expect(preview.message).toContain('Refund of 20000 usd exceeds the agent limit of 10000 usd per refund');
  });

  it('an unlisted currency: no budget (null), and it waits for approval', async () => {
    const { service, agent } = await setup();
    const preview = await service.preview(agent, proposal(100, { currency: 'jpy' }));
    expect(preview).toMatchObject({ outcome: 'approval', rule: 'unlisted_currency', budgetLeft: null });
  });

  it('an unknown charge: charged and remaining null, and it waits for approval', async () => {
    const { service, agent } = await setup();
    const preview = await service.preview(agent, proposal(100, { transactionId: 'ch_unknown1' }));
    expect(preview.transaction).toEqual({ transactionId: 'ch_unknown1', charged: null, refunded: 0, remaining: null });
    expect(preview).toMatchObject({ outcome: 'approval', rule: 'transaction_remaining' });
  });

  it('a person (REST): says the policy applies to agents only, and still shows the numbers', async () => {
    const { service, person } = await setup();
    const preview = await service.preview(person, proposal(5000));
    expect(preview.policyApplies).toBe(false);
    expect(preview.message).toMatch(/^The agent policy applies to agents only .*For an agent: it would be created pending/);
    expect(preview.budgetLeft).toEqual({ currency: 'usd', count: 10, amount: 30_000 });
    expect(preview.transaction.remaining).toBe(SANDBOX_CHARGED_AMOUNT);
  });

  it('deny, in full: the message says it would be refused, never that it would wait', async () => {
    const { service, agent } = await setup();
    expect((await service.preview(agent, proposal(20_000))).message).toBe(
      'It would be refused (policy_violation) and nothing created: Refund of 20000 usd exceeds the agent limit of 10000 usd per refund',
    );
  });

  it('a person, in full: the agents-only note, then what an agent would get, said once', async () => {
    const { service, person } = await setup();
    expect((await service.preview(person, proposal(1000))).message).toBe(
      'The agent policy applies to agents only (MCP calls with an API key): a refund this caller creates is not checked against it. For an agent: within the agent policy: the refund would be created and submitted as usual',
    );
  });

  it('allow under a policy that wants writes confirmed: the message says the person at the client confirms first', async () => {
    const { app, service, agent } = await setup();
    await app.guardrails.setPolicy(agent.organizationId, { ...DEMO_AGENT_POLICY, confirmWrites: true }, 'operator:test', new Date().toISOString());
    expect(await service.preview(agent, proposal(1000))).toMatchObject({
      outcome: 'allow',
      rule: null,
      message: 'Within the agent policy: the refund would be created and submitted as usual, after the person at the client confirms it where the client can ask',
    });
  });

  it('without a guardrail store: an internal error whose cause (for the log) says what is missing', async () => {
    const app = createTestApp();
    const org = createOrg(app);
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
      clock: new FakeClock(),
      settings: settingsWith({ holdMs: 0 }),
    });
    const error: unknown = await service.preview({ organizationId: org.id, actor: 'api' }, proposal(1000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefundKitError);
    expect(error).toMatchObject({ code: 'internal_error', message: 'Internal error' });
    expect(error instanceof Error ? error.cause : undefined).toEqual(new Error('no guardrail store configured'));
  });
});
