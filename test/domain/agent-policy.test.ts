/**
 * The agent policy on the domain's flows (agent-policy.ts, approvals.ts): an MCP caller with a key
 * is refused, held for approval, or goes ahead; a person decides held refunds; expiry cancels them.
 * Against the real SQLite stores and the sandbox processor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefundKitError } from '../../src/domain/errors.js';
import type { Confirmation } from '../../src/domain/guardrails/confirmation.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import type { AgentRefundFactsQuery, CallOptions } from '../../src/domain/ports.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createKey, createOrg, createTestApp, FakeClock, rawEvents, settingsWith } from '../support/fixtures.js';

function setup() {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const service = new RefundService({
    store: app.refunds,
    guardrails: app.guardrails,
    processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
    clock,
    settings: settingsWith({ holdMs: 0 }),
  });
  const agentKey = createKey(app, org.id).keyId;
  const otherKey = createKey(app, org.id).keyId;
  const agent: Caller = { organizationId: org.id, actor: 'mcp', keyId: agentKey };
  const person: Caller = { organizationId: org.id, actor: 'api', keyId: otherKey };
  return { app, org, clock, service, agent, person, agentKey, otherKey };
}

const input = (amount: number, extra: Partial<CreateRefundInput> = {}): CreateRefundInput => ({
  transactionId: 'ch_policy1',
  amount,
  currency: 'usd',
  reason: 'requested_by_customer',
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<RefundKitError> {
  const error: unknown = await promise.then(() => undefined, (thrown: unknown) => thrown);
  if (!(error instanceof RefundKitError)) throw new Error(`expected a RefundKitError, got ${String(error)}`);
  return error;
}

afterEach(() => cleanupAll());

describe('agent creates under the policy (DEMO_AGENT_POLICY)', () => {
  it('within the limits: created and submitted as usual, with the key recorded', async () => {
    const { app, service, agent, agentKey } = setup();
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    const refund = await service.create(agent, input(1000));
    expect(refund.status).toBe('processing');
    expect(await app.guardrails.refundCreator(agent.organizationId, refund.id)).toBe(agentKey);
    expect(await app.guardrails.approvalForRefund(agent.organizationId, refund.id)).toBeNull();
  });

  it('above the limit: policy_violation naming the rule and limit, nothing created', async () => {
    const { app, service, agent } = setup();
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    const error = await refusal(service.create(agent, input(20_000)));
    expect(error.code).toBe('policy_violation');
    expect(error.message).toBe('Refund of 20000 usd exceeds the agent limit of 10000 usd per refund');
    expect((await service.list(agent, { limit: 10, offset: 0 })).refunds).toEqual([]);
  });

  it('above the threshold: created pending and held, with an open approval request; nothing reaches the processor', async () => {
    const { app, service, agent, agentKey, clock } = setup();
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    const refund = await service.create(agent, input(5000));
    expect(refund.status).toBe('pending');
    const approval = await app.guardrails.approvalForRefund(agent.organizationId, refund.id);
    expect(approval).toMatchObject({ status: 'requested', requestedByKeyId: agentKey, rule: 'approval_threshold', amount: 5000 });
    expect(approval?.expiresAt).toBe(new Date(clock.ms + 24 * 3_600_000).toISOString());
    clock.advance(3_600_000);
    expect((await service.runPass()).submitted).toBe(0);
    expect((await service.get(agent, refund.id)).status).toBe('pending');
  });

  it('a new organization gets the default policy; a person is not subject to it', async () => {
    const { service, agent, person } = setup();
    expect((await refusal(service.create(agent, input(10_001)))).code).toBe('policy_violation');
    expect((await service.create(person, input(10_001))).status).toBe('processing');
  });

  it('what remains on the transaction: an agent cannot refund past it; an unknown charge waits for approval', async () => {
    const { app, service, agent, person } = setup();
    await app.guardrails.setPolicy(agent.organizationId, { ...DEMO_AGENT_POLICY, currencies: { usd: { maxPerRefund: 100_000, approvalAbove: 100_000, dailyCount: 10, dailyAmount: 1_000_000 } } }, 'operator:test', new Date().toISOString());
    await service.create(person, input(99_000));
    const error = await refusal(service.create(agent, input(1_500)));
    expect(error.message).toMatch(/exceeds what remains refundable on ch_policy1: 1000 usd/);
    const held = await service.create(agent, input(500, { transactionId: 'ch_unknown_1' }));
    expect((await app.guardrails.approvalForRefund(agent.organizationId, held.id))?.rule).toBe('transaction_remaining');
  });

  it('the daily budget counts agent refunds: the refund that would pass it is refused', async () => {
    const { app, service, agent } = setup();
    await app.guardrails.setPolicy(agent.organizationId, { ...DEMO_AGENT_POLICY, currencies: { usd: { maxPerRefund: 2500, approvalAbove: 2500, dailyCount: 10, dailyAmount: 5000 } } }, 'operator:test', new Date().toISOString());
    await service.create(agent, input(2500, { transactionId: 'ch_a' }));
    await service.create(agent, input(2500, { transactionId: 'ch_b' }));
    const error = await refusal(service.create(agent, input(1, { transactionId: 'ch_c' })));
    expect(error.message).toMatch(/the limit is 5000 usd/);
  });

  it('an idempotent replay returns the first refund even once the budget is spent', async () => {
    const { app, service, agent } = setup();
    await app.guardrails.setPolicy(agent.organizationId, { ...DEMO_AGENT_POLICY, currencies: { usd: { maxPerRefund: 2500, approvalAbove: 2500, dailyCount: 1, dailyAmount: 5000 } } }, 'operator:test', new Date().toISOString());
    const first = await service.create(agent, input(2000, { idempotencyKey: 'ticket-1' }));
    const again = await service.create(agent, input(2000, { idempotencyKey: 'ticket-1' }));
    expect(again.id).toBe(first.id);
  });

  it('an agent reusing its key with other arguments gets idempotency_conflict, as anyone would; nothing more is sent', async () => {
    const { app, service, agent } = setup();
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    const first = await service.create(agent, input(1000, { idempotencyKey: 'ticket-2', metadata: { orderId: 'o1', ticketId: 't1' } }));
    for (const change of [{ amount: 1200 }, { transactionId: 'ch_policy2' }, { metadata: { orderId: 'o2', ticketId: 't1' } }]) {
      const error = await refusal(service.create(agent, input(1000, { idempotencyKey: 'ticket-2', metadata: { orderId: 'o1', ticketId: 't1' }, ...change })));
      expect(error.code, JSON.stringify(change)).toBe('idempotency_conflict');
    }
    // The same arguments, metadata keys in another order: the first refund, untouched.
    const again = await service.create(agent, input(1000, { idempotencyKey: 'ticket-2', metadata: { ticketId: 't1', orderId: 'o1' } }));
    expect(again).toEqual(await service.get(agent, first.id));
    const refunds = app.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM refunds').get();
    expect(refunds?.n).toBe(1);
  });
});

describe('approvals', () => {
  async function held() {
    const ctx = setup();
    await ctx.app.guardrails.setPolicy(ctx.agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    const refund = await ctx.service.create(ctx.agent, input(5000));
    const approval = await ctx.app.guardrails.approvalForRefund(ctx.agent.organizationId, refund.id);
    if (approval === null) throw new Error('not held');
    return { ...ctx, refund, approval };
  }

  it('approved by an operator: the refund is submitted by the next pass', async () => {
    const { service, agent, refund, approval, app } = await held();
    const decided = await service.decideApproval(agent.organizationId, approval.id, 'approve', { kind: 'operator', name: 'ana' }, 'fine');
    expect(decided.approval).toMatchObject({ status: 'approved', decidedBy: 'operator:ana', note: 'fine' });
    expect((await service.runPass()).submitted).toBe(1);
    expect((await service.get(agent, refund.id)).status).toBe('processing');
    expect(rawEvents(app, refund.id).some((e) => e.detail?.includes('approved by operator:ana: fine') === true)).toBe(true);
  });

  it('rejected: the refund is cancelled with the decider and note in its audit trail, and never submitted', async () => {
    const { service, agent, refund, approval, app } = await held();
    await service.decideApproval(agent.organizationId, approval.id, 'reject', { kind: 'operator', name: 'ana' }, 'not eligible');
    expect((await service.get(agent, refund.id)).status).toBe('cancelled');
    expect((await service.runPass()).submitted).toBe(0);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ to_status: 'cancelled', detail: expect.stringContaining('rejected by operator:ana: not eligible') });
  });

  it('a key never decides what its own agent requested; a decided request is not open', async () => {
    const { service, agent, agentKey, otherKey, approval } = await held();
    const own = await refusal(service.decideApproval(agent.organizationId, approval.id, 'approve', { kind: 'key', keyId: agentKey, name: 'agent' }));
    expect(own.code).toBe('forbidden');
    await service.decideApproval(agent.organizationId, approval.id, 'approve', { kind: 'key', keyId: otherKey, name: 'lead' });
    const again = await refusal(service.decideApproval(agent.organizationId, approval.id, 'reject', { kind: 'operator', name: 'bo' }));
    expect(again.code).toBe('approval_not_open');
  });

  it('expiry: the background pass cancels the held refund; a late decision is refused', async () => {
    const { service, agent, refund, approval, clock } = await held();
    clock.advance(24 * 3_600_000);
    await service.runPass();
    expect((await service.get(agent, refund.id)).status).toBe('cancelled');
    expect((await service.getApproval(agent.organizationId, approval.id)).status).toBe('expired');
    expect((await refusal(service.decideApproval(agent.organizationId, approval.id, 'approve', { kind: 'operator', name: 'ana' }))).code).toBe('approval_not_open');
  });

  it('an unknown approval id is not_found', async () => {
    const { service, agent } = await held();
    expect((await refusal(service.decideApproval(agent.organizationId, 'apr_nosuchthing0', 'approve', { kind: 'operator', name: 'a' }))).code).toBe('not_found');
  });
});

describe('agent cancels under the policy', () => {
  it('an agent cancels its own refund, not another key\'s (cancelOthers false)', async () => {
    const { app, service, agent, person } = setup();
    await app.guardrails.setPolicy(agent.organizationId, { ...DEMO_AGENT_POLICY, cancelOthers: false }, 'operator:test', new Date().toISOString());
    const mine = await service.create(agent, input(5000));
    expect((await service.cancel(agent, mine.id)).status).toBe('cancelled');
    const theirs = await service.create(person, input(1000, { transactionId: 'ch_other' }));
    const error = await refusal(service.cancel(agent, theirs.id));
    expect(error.code).toBe('policy_violation');
    expect(error.message).toContain('created by someone else');
    expect((await refusal(service.cancel(agent, 'ref_nosuchrefund'))).code).toBe('not_found');
  });
});

describe('who the policy governs, and what it leaves on record', () => {
  it('an MCP caller without a key (stdio) is not an agent the policy governs: its refund above the agent limit goes ahead', async () => {
    const { app, service, agent } = setup();
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    const refund = await service.create({ organizationId: agent.organizationId, actor: 'mcp' }, input(20_000));
    expect(refund.status).toBe('processing');
    expect(await app.guardrails.approvalForRefund(agent.organizationId, refund.id)).toBeNull();
  });

  it('without a guardrail store no policy applies: an agent creates above any limit and cancels', async () => {
    const { app, clock, agent } = setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
      clock,
      settings: settingsWith({ holdMs: 60_000 }),
    });
    const refund = await service.create(agent, input(20_000));
    expect(refund.status).toBe('pending');
    expect((await service.cancel(agent, refund.id)).status).toBe('cancelled');
  });

  it("the charge is asked of the processor within half the call deadline, less the grace", async () => {
    const { app, clock, agent } = setup();
    const asked: Array<CallOptions | undefined> = [];
    class CountingCharges extends SandboxProcessor {
      override chargedAmount(transactionId: string, options?: CallOptions): Promise<number | undefined> {
        asked.push(options);
        return super.chargedAmount(transactionId);
      }
    }
    const service = new RefundService({
      store: app.refunds,
      guardrails: app.guardrails,
      processors: new StaticProcessorRegistry([new CountingCharges()], {}, 'sandbox'),
      clock,
      settings: settingsWith({ holdMs: 0, callDeadlineMs: 15_000 }),
    });
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    expect((await service.create(agent, input(1000))).status).toBe('processing');
    // Half of 15 s is 7.5 s; the processor is told 500 ms less, to end before our own timer.
    expect(asked).toEqual([{ timeoutMs: 7_000 }]);
  });

  it('a create the policy refuses is put on record with the key, the rule and the refund it asked for', async () => {
    const { app, service, agent, agentKey, clock } = setup();
    await app.guardrails.setPolicy(agent.organizationId, DEMO_AGENT_POLICY, 'operator:test', new Date().toISOString());
    await refusal(service.create(agent, input(20_000)));
    expect(await app.guardrails.listRefusals(agent.organizationId, 10)).toEqual([
      {
        organizationId: agent.organizationId,
        keyId: agentKey,
        at: clock.now().toISOString(),
        outcome: 'denied',
        rule: 'max_per_refund',
        message: 'Refund of 20000 usd exceeds the agent limit of 10000 usd per refund',
        transactionId: 'ch_policy1',
        amount: 20_000,
        currency: 'usd',
        reason: 'requested_by_customer',
      },
    ]);
  });

  it('a refund refused when the person could have been asked, but allowed by the time it is created, waits for approval as not confirmed', async () => {
    const { app, service, agent, clock } = setup();
    const policy = { ...DEMO_AGENT_POLICY, confirmWrites: true, currencies: { usd: { maxPerRefund: 10_000, approvalAbove: 2_500, dailyCount: 1, dailyAmount: 1_000_000 } } };
    await app.guardrails.setPolicy(agent.organizationId, policy, 'operator:test', new Date().toISOString());
    // The day's one agent refund is held for approval (above the threshold: nobody is asked).
    const first = await service.create(agent, input(5000));
    const firstApproval = await app.guardrails.approvalForRefund(agent.organizationId, first.id);
    if (firstApproval === null) throw new Error('not held');
    // Between the read that refuses the next one (the day's count is used) and its create, a
    // person rejects the first: the count is free again when the create decides.
    let raced = false;
    const guardrails = new Proxy(app.guardrails, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'agentRefundFacts' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (query: AgentRefundFactsQuery) => {
          const facts = await target.agentRefundFacts(query);
          if (!raced) {
            raced = true;
            await service.decideApproval(agent.organizationId, firstApproval.id, 'reject', { kind: 'operator', name: 'ana' });
          }
          return facts;
        };
      },
    });
    const racing = new RefundService({
      store: app.refunds,
      guardrails,
      processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
      clock,
      settings: settingsWith({ holdMs: 0 }),
    });
    const asked: string[] = [];
    const confirmation: Confirmation = {
      ask: (request) => {
        asked.push(request.message);
        return Promise.resolve('accepted');
      },
    };
    const second = await racing.create({ ...agent, confirmation }, input(1000, { transactionId: 'ch_policy2' }));
    expect(raced).toBe(true);
    expect(asked).toEqual([]);
    expect(second.status).toBe('pending');
    expect(await app.guardrails.approvalForRefund(agent.organizationId, second.id)).toMatchObject({
      status: 'requested',
      rule: 'confirmation',
      ruleMessage:
        "This organization's policy asks the person at the client to confirm each agent refund, and this one was not confirmed: it waits for a person's approval",
    });
  });
});
