/**
 * A refund's audit trail (audit.ts, and the events the guardrail store writes): every policy
 * decision and approval step is an event with its actor and decider, beside the approval request.
 * Against the real SQLite stores and the sandbox processor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefundKitError } from '../../src/domain/errors.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createKey, createOrg, createTestApp, FakeClock, settingsWith } from '../support/fixtures.js';

async function setup() {
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
  await app.guardrails.setPolicy(org.id, { ...DEMO_AGENT_POLICY, cancelOthers: false }, 'operator:test', new Date().toISOString());
  const agentKey = createKey(app, org.id).keyId;
  const agent: Caller = { organizationId: org.id, actor: 'mcp', keyId: agentKey };
  const person: Caller = { organizationId: org.id, actor: 'api', keyId: createKey(app, org.id).keyId };
  const held = await service.create(agent, { transactionId: 'ch_audit1', amount: 5000, currency: 'usd', reason: 'other' });
  const approval = await app.guardrails.approvalForRefund(org.id, held.id);
  if (approval === null) throw new Error('not held');
  return { app, service, clock, agent, agentKey, person, held, approval };
}

afterEach(() => cleanupAll());

describe('refund events', () => {
  it('a held refund: its creation and its approval request, each an event, beside the open request', async () => {
    const { service, agent, agentKey, held, approval } = await setup();
    const audit = await service.events(agent, held.id);
    expect(audit.approval).toMatchObject({ id: approval.id, status: 'requested' });
    expect(audit.events.map((e) => [e.from, e.to, e.initiatedBy])).toEqual([
      [null, 'pending', 'mcp'],
      ['pending', 'pending', 'mcp'],
    ]);
    expect(audit.events[0]?.detail).toContain(`created by key ${agentKey}; held for approval ${approval.id}`);
    expect(audit.events[1]?.detail).toBe(`approval ${approval.id} requested for key ${agentKey} (rule approval_threshold); open until ${approval.expiresAt}`);
  });

  it('approved, then submitted: the decider and note, then the submission', async () => {
    const { service, agent, held, approval } = await setup();
    await service.decideApproval(agent.organizationId, approval.id, 'approve', { kind: 'operator', name: 'ana' }, 'ok');
    await service.runPass();
    const { events, approval: after } = await service.events(agent, held.id);
    expect(after).toMatchObject({ status: 'approved', decidedBy: 'operator:ana', note: 'ok' });
    expect(events[2]).toMatchObject({ from: 'pending', to: 'pending', initiatedBy: 'dashboard', detail: expect.stringContaining(`approval ${approval.id} approved by operator:ana: ok`) });
    expect(events.at(-1)).toMatchObject({ from: 'pending', to: 'processing', initiatedBy: 'system' });
  });

  it('rejected by an approver key: the cancellation names the key', async () => {
    const { service, agent, person, held, approval } = await setup();
    const keyId = person.keyId ?? '';
    await service.decideApproval(agent.organizationId, approval.id, 'reject', { kind: 'key', keyId, name: 'lead' }, 'no');
    const { events } = await service.events(agent, held.id);
    expect(events.at(-1)).toMatchObject({ from: 'pending', to: 'cancelled', initiatedBy: 'api', detail: expect.stringContaining(`rejected by key:${keyId}: no`) });
  });

  it('expired: cancelled by the system', async () => {
    const { service, agent, held, approval, clock } = await setup();
    clock.advance(24 * 3_600_000);
    await service.runPass();
    const { events } = await service.events(agent, held.id);
    expect(events.at(-1)).toMatchObject({ to: 'cancelled', initiatedBy: 'system', detail: expect.stringContaining(`approval ${approval.id} expired by system`) });
  });

  it('a request closed after its agent cancelled the refund is still an event', async () => {
    const { service, agent, held, approval } = await setup();
    await service.cancel(agent, held.id);
    await service.decideApproval(agent.organizationId, approval.id, 'reject', { kind: 'operator', name: 'ana' });
    const { events } = await service.events(agent, held.id);
    expect(events.at(-1)).toMatchObject({
      from: 'cancelled',
      to: 'cancelled',
      initiatedBy: 'dashboard',
      detail: `approval ${approval.id} rejected by operator:ana; the refund was already cancelled`,
    });
  });

  it("an agent's cancel the policy refuses is an event that changes nothing", async () => {
    const { service, agent, agentKey, person } = await setup();
    const theirs = await service.create(person, { transactionId: 'ch_audit2', amount: 1000, currency: 'usd', reason: 'other' });
    await expect(service.cancel(agent, theirs.id)).rejects.toMatchObject({ code: 'policy_violation' });
    const { events, approval } = await service.events(person, theirs.id);
    expect(approval).toBeNull();
    expect(events.at(-1)).toMatchObject({
      from: theirs.status,
      to: theirs.status,
      initiatedBy: 'mcp',
      detail: expect.stringMatching(new RegExp(`^cancel by key ${agentKey} refused by the agent policy \\(rule cancel_others\\)`)),
    });
  });

  it("another organization's refund is not_found", async () => {
    const { app, service, held } = await setup();
    const other: Caller = { organizationId: createOrg(app).id, actor: 'mcp' };
    const error: unknown = await service.events(other, held.id).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RefundKitError);
    expect((error as RefundKitError).code).toBe('not_found');
  });

  it('without a guardrail store: the events, and no approval request', async () => {
    const { app, clock, person } = await setup();
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
      clock,
      settings: settingsWith({ holdMs: 60_000 }),
    });
    const refund = await service.create(person, { transactionId: 'ch_audit2', amount: 1000, currency: 'usd', reason: 'other' });
    const audit = await service.events(person, refund.id);
    expect(audit.refundId).toBe(refund.id);
    expect(audit.approval).toBeNull();
    expect(audit.events.map((e) => [e.from, e.to, e.initiatedBy])).toEqual([[null, 'pending', 'api']]);
  });
});
