/**
 * Deciding approval requests (approvals.ts), against the real SQLite stores and the sandbox
 * processor: what each decision records, who it names, and every way a decision is refused.
 * DEMO_AGENT_POLICY holds a 5000 usd agent refund for approval, for 24 hours.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { expireDueApprovals } from '../../src/domain/approvals.js';
import { createContext } from '../../src/domain/context.js';
import { NOTE_MAX_LENGTH, type Decider } from '../../src/domain/guardrails/approval.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import type { GuardrailStore } from '../../src/domain/ports.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createKey, createOrg, createTestApp, FakeClock, settingsWith } from '../support/fixtures.js';

const HOUR = 3_600_000;

async function setup() {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const deps = (guardrails: GuardrailStore | undefined) => ({
    store: app.refunds,
    ...(guardrails === undefined ? {} : { guardrails }),
    processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
    clock,
    settings: settingsWith({ holdMs: 0 }),
  });
  const serviceWith = (guardrails: GuardrailStore | undefined) => new RefundService(deps(guardrails));
  /** The background pass's expiry, on a context of its own. */
  const expire = (limit?: number, guardrails: GuardrailStore | undefined = app.guardrails) => expireDueApprovals(createContext(deps(guardrails)), limit);
  const service = serviceWith(app.guardrails);
  await service.setPolicy(org.id, DEMO_AGENT_POLICY, 'operator:test');
  const agentKey = createKey(app, org.id).keyId;
  const agent: Caller = { organizationId: org.id, actor: 'mcp', keyId: agentKey };
  const approverKeyId = createKey(app, org.id).keyId;
  const approverKey: Decider = { kind: 'key', keyId: approverKeyId, name: 'Approver' };
  const operator: Decider = { kind: 'operator', name: 'ops@example.com' };
  /** An agent refund held for approval, and its request. */
  const held = async (transactionId = `ch_held${Math.random().toString(36).slice(2, 10)}`) => {
    const refund = await service.create(agent, { transactionId, amount: 5000, currency: 'usd', reason: 'requested_by_customer' });
    const approval = await service.approvalForRefund(agent, refund.id);
    if (approval === null) throw new Error('the refund was not held');
    return { refund, approval };
  };
  return { app, org, clock, service, serviceWith, expire, agent, agentKey, approverKey, approverKeyId, operator, held };
}

afterEach(() => cleanupAll());

describe('listing and finding', () => {
  it('lists the requests, by status when asked, up to the limit', async () => {
    const { service, org, held, operator } = await setup();
    const first = await held();
    const second = await held();
    await service.decideApproval(org.id, first.approval.id, 'reject', operator, 'no');
    const ids = async (status: 'requested' | 'rejected' | undefined, limit = 10) =>
      (await service.listApprovals(org.id, status, limit)).map((a) => a.id).sort();
    expect(await ids(undefined)).toEqual([first.approval.id, second.approval.id].sort());
    expect(await ids('requested')).toEqual([second.approval.id]);
    expect(await ids('rejected')).toEqual([first.approval.id]);
    expect(await service.listApprovals(org.id, undefined, 1)).toHaveLength(1);
  });

  it('an unknown or another organization\'s approval is not_found', async () => {
    const { app, service, held } = await setup();
    const { approval } = await held();
    const notFound = { code: 'not_found', message: 'Approval request not found' };
    await expect(service.getApproval(approval.organizationId, 'apr_unknown000000')).rejects.toMatchObject(notFound);
    await expect(service.getApproval(createOrg(app, 'Other').id, approval.id)).rejects.toMatchObject(notFound);
    expect((await service.getApproval(approval.organizationId, approval.id)).id).toBe(approval.id);
  });

  it('without a guardrail store: no approval holds a refund, and the operator calls are internal errors', async () => {
    const { serviceWith, agent, org } = await setup();
    const bare = serviceWith(undefined);
    expect(await bare.approvalForRefund(agent, 'ref_anything0000')).toBeNull();
    const missing = { code: 'internal_error', cause: new Error('no guardrail store configured') };
    await expect(bare.listApprovals(org.id, undefined, 10)).rejects.toMatchObject(missing);
    await expect(bare.getApproval(org.id, 'apr_x')).rejects.toMatchObject(missing);
  });
});

describe('decideApproval', () => {
  it('approve by a key: recorded with the key and the note, the refund stays pending and becomes due, the event says api', async () => {
    const { app, org, clock, service, held, approverKey, approverKeyId } = await setup();
    const { refund, approval } = await held();
    clock.advance(HOUR);
    const decided = await service.decideApproval(org.id, approval.id, 'approve', approverKey, 'checked the order');
    expect(decided.approval).toMatchObject({
      status: 'approved',
      decidedBy: `key:${approverKeyId}`,
      decidedAt: clock.now().toISOString(),
      note: 'checked the order',
    });
    expect(decided.refund.id).toBe(refund.id);
    expect(decided.refund.status).toBe('pending');
    const events = await app.refunds.events(org.id, refund.id);
    expect(events.at(-1)?.initiatedBy).toBe('api');
  });

  it('reject by an operator: the refund is cancelled, the decision names the operator, the event says dashboard', async () => {
    const { app, org, service, held, operator } = await setup();
    const { refund, approval } = await held();
    const decided = await service.decideApproval(org.id, approval.id, 'reject', operator, undefined);
    expect(decided.approval).toMatchObject({ status: 'rejected', decidedBy: 'operator:ops@example.com', note: null });
    expect(decided.refund.status).toBe('cancelled');
    const events = await app.refunds.events(org.id, refund.id);
    expect(events.at(-1)).toMatchObject({ to: 'cancelled', initiatedBy: 'dashboard' });
  });

  it('the key whose agent asked cannot decide; a note too long is a validation error; neither changes anything', async () => {
    const { org, service, held, agentKey } = await setup();
    const { approval } = await held();
    await expect(service.decideApproval(org.id, approval.id, 'approve', { kind: 'key', keyId: agentKey, name: 'Agent' }, undefined)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(service.decideApproval(org.id, approval.id, 'approve', { kind: 'operator', name: 'x' }, 'n'.repeat(NOTE_MAX_LENGTH + 1))).rejects.toMatchObject({
      code: 'validation_error',
    });
    expect((await service.getApproval(org.id, approval.id)).status).toBe('requested');
  });

  it('a decided request cannot be decided again', async () => {
    const { org, service, held, operator } = await setup();
    const { approval } = await held();
    await service.decideApproval(org.id, approval.id, 'approve', operator, undefined);
    await expect(service.decideApproval(org.id, approval.id, 'reject', operator, undefined)).rejects.toMatchObject({
      code: 'approval_not_open',
      message: `Approval ${approval.id} is already approved`,
    });
  });

  it('past its expiry: recorded as expired by the system (no note), its refund cancelled, and the decision refused', async () => {
    const { app, org, clock, service, held, operator } = await setup();
    const { refund, approval } = await held();
    clock.advance(24 * HOUR);
    await expect(service.decideApproval(org.id, approval.id, 'approve', operator, 'too late')).rejects.toMatchObject({
      code: 'approval_not_open',
      message: `Approval ${approval.id} expired at ${approval.expiresAt}; its refund was cancelled`,
    });
    expect(await service.getApproval(org.id, approval.id)).toMatchObject({ status: 'expired', decidedBy: 'system', note: null });
    expect((await app.refunds.findById(org.id, refund.id))?.status).toBe('cancelled');
    expect((await app.refunds.events(org.id, refund.id)).at(-1)?.initiatedBy).toBe('system');
  });

  it('a request whose refund is no longer pending cannot be decided, and says what the refund is', async () => {
    const { app, org, service, held, operator } = await setup();
    const { refund, approval } = await held();
    await app.refunds.transition({ organizationId: org.id, refundId: refund.id, from: 'pending', to: 'cancelled', actor: 'api', at: new Date().toISOString() });
    await expect(service.decideApproval(org.id, approval.id, 'approve', operator, undefined)).rejects.toMatchObject({
      code: 'approval_not_open',
      message: `Approval ${approval.id} cannot be decided: its refund is already cancelled`,
    });
  });

  it('two deciders racing: the one who read the request before the other decided is refused with what won', async () => {
    const { app, org, service, serviceWith, held, operator } = await setup();
    const { approval } = await held();
    // The loser read the request while it was still open, then the winner decided it.
    const stale = serviceWith(
      new Proxy(app.guardrails, {
        get: (target, property, receiver) =>
          property === 'findApproval' ? () => Promise.resolve(approval) : (Reflect.get(target, property, receiver) as unknown),
      }),
    );
    await service.decideApproval(org.id, approval.id, 'reject', operator, undefined);
    await expect(stale.decideApproval(org.id, approval.id, 'approve', operator, undefined)).rejects.toMatchObject({
      code: 'approval_not_open',
      message: `Approval ${approval.id} is already rejected`,
    });
  });
});

describe('expireDueApprovals', () => {
  it('expires the requests past their expiry, up to the limit, and counts them; a second pass finds none', async () => {
    const { app, org, clock, service, held, expire } = await setup();
    const requests = [await held(), await held(), await held()];
    clock.advance(2 * HOUR);
    const later = await held();
    clock.advance(23 * HOUR); // the first three are 25 h old, the last 23 h
    expect(await expire(2)).toBe(2);
    expect(await expire()).toBe(1);
    expect(await expire()).toBe(0);
    for (const { approval, refund } of requests) {
      expect((await service.getApproval(org.id, approval.id)).status).toBe('expired');
      expect((await app.refunds.findById(org.id, refund.id))?.status).toBe('cancelled');
    }
    expect((await service.getApproval(org.id, later.approval.id)).status).toBe('requested');
    expect(await expire(undefined, undefined)).toBe(0);
  });

  it('counts only the requests it expired: one a person decided after the due list was read is left as decided', async () => {
    const { app, org, clock, service, held, expire, operator } = await setup();
    const { approval, refund } = await held();
    clock.advance(25 * HOUR);
    // A person decides it just before its expiry (the clock set back for them), landing between
    // the read of what is due and the expiry.
    const guardrails = new Proxy(app.guardrails, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'dueApprovalExpiries' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (now: string, limit: number) => {
          const due = await target.dueApprovalExpiries(now, limit);
          clock.advance(-24 * HOUR);
          await service.decideApproval(org.id, approval.id, 'approve', operator, 'fine');
          clock.advance(24 * HOUR);
          return due;
        };
      },
    });
    expect(await expire(undefined, guardrails)).toBe(0);
    expect((await service.getApproval(org.id, approval.id)).status).toBe('approved');
    expect((await app.refunds.findById(org.id, refund.id))?.status).toBe('pending');
  });
});
