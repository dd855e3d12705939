/**
 * The operator's side of the guardrails (policies.ts): reading and setting a policy, and the open
 * approval requests, against the real SQLite stores and the sandbox processor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_POLICY, DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createKey, createOrg, createTestApp, FakeClock, settingsWith } from '../support/fixtures.js';

function setup(withGuardrails = true) {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const service = new RefundService({
    store: app.refunds,
    ...(withGuardrails ? { guardrails: app.guardrails } : {}),
    processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
    clock,
    settings: settingsWith({ holdMs: 0 }),
  });
  const agent: Caller = { organizationId: org.id, actor: 'mcp', keyId: createKey(app, org.id).keyId };
  return { app, org, clock, service, agent };
}

afterEach(() => cleanupAll());

describe('policy and setPolicy', () => {
  it('an organization that never set one gets the conservative default, marked as such', async () => {
    const { service, org } = setup();
    expect(await service.policy(org.id)).toEqual({ policy: DEFAULT_AGENT_POLICY, isDefault: true, updatedAt: null, updatedBy: null });
  });

  it('a set policy replaces it, says who and when (from the clock), and is what policy reads back', async () => {
    const { service, org, clock } = setup();
    const set = await service.setPolicy(org.id, DEMO_AGENT_POLICY, 'operator:ops@example.com');
    const expected = { policy: DEMO_AGENT_POLICY, isDefault: false, updatedAt: clock.now().toISOString(), updatedBy: 'operator:ops@example.com' };
    expect(set).toEqual(expected);
    clock.advance(60_000);
    expect(await service.policy(org.id)).toEqual(expected);
  });

  it('without a guardrail store, reading or setting a policy is an internal error, not a silent default', async () => {
    const { service, org } = setup(false);
    // The cause is what the operator's log shows: it must say what is missing.
    const missing = { code: 'internal_error', cause: new Error('no guardrail store configured') };
    await expect(service.policy(org.id)).rejects.toMatchObject(missing);
    await expect(service.setPolicy(org.id, DEMO_AGENT_POLICY, 'operator:x')).rejects.toMatchObject(missing);
    await expect(service.openApprovals(org.id, 10)).rejects.toMatchObject(missing);
  });
});

describe('openApprovals', () => {
  it('lists the requests a person can still decide, oldest first, up to the limit, leaving out expired ones', async () => {
    const { service, org, clock, agent } = setup();
    await service.setPolicy(org.id, DEMO_AGENT_POLICY, 'operator:test');
    // DEMO_AGENT_POLICY: 5000 usd waits for approval, for approvalHours (24).
    const held = [];
    for (let i = 0; i < 3; i += 1) {
      const refund = await service.create(agent, { transactionId: `ch_open${i}`, amount: 5000, currency: 'usd', reason: 'requested_by_customer' });
      held.push((await service.approvalForRefund(agent, refund.id))?.id);
      clock.advance(3_600_000);
    }
    expect(held.every((id) => id !== undefined)).toBe(true);
    expect((await service.openApprovals(org.id, 10)).map((a) => a.id)).toEqual(held);
    expect((await service.openApprovals(org.id, 2)).map((a) => a.id)).toEqual(held.slice(0, 2));
    // The first was requested 3 h before now: 21 h later it has expired, the others not yet.
    clock.advance(21 * 3_600_000);
    expect((await service.openApprovals(org.id, 10)).map((a) => a.id)).toEqual(held.slice(1));
  });
});
