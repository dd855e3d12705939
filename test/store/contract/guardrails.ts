/**
 * The GuardrailStore contract: agent policies, the agent create that applies the policy inside
 * its own transaction, and approval requests. Told through the ports alone.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../../src/domain/guardrails/decide.js';
import { DEFAULT_AGENT_POLICY, DEMO_AGENT_POLICY } from '../../../src/domain/guardrails/policy.js';
import type { AgentRefundFacts, AgentRefundRequest, GuardrailStore, RefundStore } from '../../../src/domain/ports.js';
import { refundFixture, type StoreFactory, type StoreHarness } from './harness.js';

const T0 = '2026-03-01T12:00:00.000Z';
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

const allow: Decision = { outcome: 'allow', confirm: false };
const wait: Decision = { outcome: 'approval', rule: 'approval_threshold', message: 'above the approval threshold' };
const deny: Decision = { outcome: 'deny', rule: 'max_per_refund', message: 'Refund of 50000 usd exceeds the agent limit' };

export function guardrailStoreContract(factory: StoreFactory): void {
  describe('GuardrailStore contract', () => {
    let stores: StoreHarness;
    let guardrails: GuardrailStore;
    let refunds: RefundStore;
    let org: string;
    let other: string;
    let keyId: string;
    let serial = 0;

    beforeEach(async () => {
      stores = await factory();
      guardrails = stores.guardrails;
      refunds = stores.refunds;
      org = (await stores.organizations.create('Org')).id;
      other = (await stores.organizations.create('Other')).id;
      keyId = (await stores.apiKeys.create(org, 'test')).record.id;
    });
    afterEach(() => stores.close());

    function request(
      decision: Decision | ((facts: AgentRefundFacts) => Decision),
      overrides: Partial<AgentRefundRequest['draft']> = {},
    ): AgentRefundRequest {
      serial += 1;
      const id = `ref_g${String(serial).padStart(11, '0')}`;
      return {
        draft: {
          id,
          organizationId: org,
          transactionId: 'ch_guard1',
          amount: 1000,
          currency: 'usd',
          reason: 'requested_by_customer',
          processor: 'sandbox',
          metadata: null,
          initiatedBy: 'mcp',
          createdAt: at(serial),
          submitAt: at(serial),
          idempotencyKey: null,
          requestFingerprint: null,
          createdByKeyId: keyId,
          ...overrides,
        },
        budgetSince: at(-24 * 60),
        decide: typeof decision === 'function' ? decision : () => decision,
        approval: { id: `apr_g${String(serial).padStart(11, '0')}`, expiresAt: at(serial + 60) },
      };
    }

    describe('policy', () => {
      it('is null until set; set replaces it and says who and when', async () => {
        expect(await guardrails.policy(org)).toBeNull();
        await guardrails.setPolicy(org, DEFAULT_AGENT_POLICY, 'operator:ana', T0);
        expect(await guardrails.policy(org)).toEqual({ policy: DEFAULT_AGENT_POLICY, updatedAt: T0, updatedBy: 'operator:ana' });
        await guardrails.setPolicy(org, DEMO_AGENT_POLICY, 'operator:bo', at(1));
        expect(await guardrails.policy(org)).toEqual({ policy: DEMO_AGENT_POLICY, updatedAt: at(1), updatedBy: 'operator:bo' });
        expect(await guardrails.policy(other)).toBeNull();
      });

      it('refuses a policy the domain would not accept, and keeps the one it had', async () => {
        await guardrails.setPolicy(org, DEFAULT_AGENT_POLICY, 'operator:ana', T0);
        const broken = { ...DEFAULT_AGENT_POLICY, approvalHours: 0 };
        await expect(guardrails.setPolicy(org, broken, 'operator:ana', at(1))).rejects.toThrow();
        expect((await guardrails.policy(org))?.policy).toEqual(DEFAULT_AGENT_POLICY);
      });

      it('set answers with the policy as stored, who set it and when', async () => {
        expect(await guardrails.setPolicy(org, DEMO_AGENT_POLICY, 'operator:ana', T0)).toEqual({
          policy: DEMO_AGENT_POLICY,
          updatedAt: T0,
          updatedBy: 'operator:ana',
        });
      });
    });

    describe('createAgentRefund', () => {
      it('allowed: the refund is written due for submission, with its creator key, and no approval', async () => {
        const decide = vi.fn(() => allow);
        const req = request(decide);
        const result = await guardrails.createAgentRefund(req);
        expect(result.outcome).toBe('created');
        if (result.outcome !== 'created') return;
        expect(result.approval).toBeNull();
        expect(result.refund).toMatchObject({ id: req.draft.id, status: 'pending', initiatedBy: 'mcp', amount: 1000 });
        expect(decide).toHaveBeenCalledWith({ usage: { count: 0, amount: 0 }, refunded: 0 });
        expect(await guardrails.refundCreator(org, req.draft.id)).toBe(keyId);
        expect(await refunds.dueForSubmission(at(100), 10, ['sandbox'])).toEqual([{ organizationId: org, id: req.draft.id }]);
        expect(await refunds.events(org, req.draft.id)).toHaveLength(1);
      });

      it('approval: the refund is held (never due) with its open request, in one step', async () => {
        const req = request(wait, { amount: 5000 });
        const result = await guardrails.createAgentRefund(req);
        if (result.outcome !== 'created') throw new Error(result.outcome);
        expect(result.refund.status).toBe('pending');
        expect(result.approval).toEqual({
          id: req.approval.id,
          organizationId: org,
          refundId: req.draft.id,
          amount: 5000,
          currency: 'usd',
          reason: 'requested_by_customer',
          transactionId: 'ch_guard1',
          requestedByKeyId: keyId,
          rule: 'approval_threshold',
          ruleMessage: 'above the approval threshold',
          status: 'requested',
          decidedBy: null,
          decidedAt: null,
          note: null,
          expiresAt: req.approval.expiresAt,
          createdAt: req.draft.createdAt,
        });
        expect(await refunds.dueForSubmission(at(10_000), 10, ['sandbox'])).toEqual([]);
        expect(await guardrails.approvalForRefund(org, req.draft.id)).toEqual(result.approval);
        expect(await guardrails.findApproval(org, req.approval.id)).toEqual(result.approval);
        expect(await guardrails.findApproval(other, req.approval.id)).toBeNull();
        expect((await refunds.events(org, req.draft.id))[0]?.detail).toContain(req.approval.id);
      });

      it('denied: nothing is written', async () => {
        const result = await guardrails.createAgentRefund(request(deny));
        expect(result).toEqual({ outcome: 'denied', decision: deny });
        expect(await refunds.list(org, {}, { limit: 10, offset: 0 })).toEqual([]);
        expect(await guardrails.listApprovals(org, {}, 10)).toEqual([]);
      });

      it('keeps refused creates on record, newest first, per organization, and masks credentials in the message', async () => {
        const refusal = {
          organizationId: org,
          keyId,
          outcome: 'denied' as const,
          rule: 'max_per_refund',
          message: 'Refund of 50000 usd exceeds the agent limit of 20000 usd per refund',
          transactionId: 'ch_1',
          amount: 50_000,
          currency: 'usd',
          reason: 'other',
        };
        await guardrails.recordRefusal({ ...refusal, at: at(0) });
        await guardrails.recordRefusal({ ...refusal, at: at(1), outcome: 'not_confirmed', rule: 'confirmation', message: 'declined; key sk_test_abcdefghijklmnop1234' });
        const listed = await guardrails.listRefusals(org, 10);
        expect(listed.map((r) => [r.at, r.outcome, r.rule])).toEqual([
          [at(1), 'not_confirmed', 'confirmation'],
          [at(0), 'denied', 'max_per_refund'],
        ]);
        expect(listed[1]).toEqual({ ...refusal, at: at(0) });
        expect(listed[0]?.message).not.toContain('sk_test_abcdefghijklmnop1234');
        expect(await guardrails.listRefusals(org, 1)).toHaveLength(1);
        expect(await guardrails.listRefusals(other, 10)).toEqual([]);
      });

      it('counts the budget: agent refunds of the organization in the currency within the window that hold budget', async () => {
        await guardrails.createAgentRefund(request(allow, { amount: 1000 }));
        await guardrails.createAgentRefund(request(wait, { amount: 3000 }));
        await guardrails.createAgentRefund(request(allow, { amount: 700, currency: 'eur' }));
        await guardrails.createAgentRefund(request(allow, { amount: 400, createdAt: at(-24 * 60 - 1) }));
        // A person's refund (no key, not over MCP) holds no agent budget.
        await refunds.create({ ...request(allow).draft, initiatedBy: 'api', createdByKeyId: null, amount: 9000, submitAt: at(0) });
        const otherKey = (await stores.apiKeys.create(other, 'test')).record.id;
        await guardrails.createAgentRefund(request(allow, { organizationId: other, createdByKeyId: otherKey, amount: 8000 }));
        const seen = vi.fn(() => allow);
        await guardrails.createAgentRefund(request(seen, { transactionId: 'ch_guard2' }));
        expect(seen).toHaveBeenCalledWith({ usage: { count: 2, amount: 4000 }, refunded: 0 });
      });

      it('counts what the transaction already gave: every refund on it but cancelled and failed ones', async () => {
        await guardrails.createAgentRefund(request(allow, { amount: 1000 }));
        await refunds.create({ ...request(allow).draft, initiatedBy: 'api', createdByKeyId: null, amount: 2000 });
        const gone = await guardrails.createAgentRefund(request(allow, { amount: 4000 }));
        if (gone.outcome !== 'created') throw new Error(gone.outcome);
        await refunds.transition({ organizationId: org, refundId: gone.refund.id, from: 'pending', to: 'cancelled', actor: 'mcp', at: at(50) });
        const seen = vi.fn(() => allow);
        await guardrails.createAgentRefund(request(seen));
        // The agent's own cancel keeps its budget spent (only a rejected or expired approval gives it back).
        expect(seen).toHaveBeenCalledWith({ usage: { count: 2, amount: 5000 }, refunded: 3000 });
      });

      it('a refund cancelled by a rejected approval gives its budget back; one the agent cancelled does not', async () => {
        const held = await guardrails.createAgentRefund(request(wait, { amount: 5000 }));
        if (held.outcome !== 'created' || held.approval === null) throw new Error('not held');
        await guardrails.decideApproval({
          organizationId: org, approvalId: held.approval.id, status: 'rejected', decidedBy: 'operator:ana', at: at(30), note: 'no', actor: 'dashboard',
        });
        const seen = vi.fn(() => allow);
        await guardrails.createAgentRefund(request(seen, { transactionId: 'ch_guard3' }));
        expect(seen).toHaveBeenCalledWith({ usage: { count: 0, amount: 0 }, refunded: 0 });
      });

      it('an idempotency replay returns the first refund without deciding again', async () => {
        const first = await guardrails.createAgentRefund(request(allow, { idempotencyKey: 'k1', requestFingerprint: 'f1' }));
        const decide = vi.fn(() => deny);
        const again = await guardrails.createAgentRefund(request(decide, { idempotencyKey: 'k1', requestFingerprint: 'f2' }));
        if (first.outcome !== 'created') throw new Error(first.outcome);
        expect(again).toEqual({ outcome: 'replayed', refund: first.refund, fingerprint: 'f1' });
        expect(decide).not.toHaveBeenCalled();
      });

      it('two connections creating against one budget see each other: the second counts the first', async () => {
        const second = await stores.another();
        const budget = (facts: AgentRefundFacts): Decision => (facts.usage.amount + 1000 > 1000 ? deny : allow);
        const results = await Promise.all([
          guardrails.createAgentRefund(request(budget)),
          second.guardrails.createAgentRefund(request(budget)),
        ]);
        expect(results.map((r) => r.outcome).sort()).toEqual(['created', 'denied']);
      });

      it('the creation event says which key created it, who confirmed it and when it is due', async () => {
        const plain = request(allow);
        await guardrails.createAgentRefund(plain);
        const confirmed = request(allow);
        await guardrails.createAgentRefund({ ...confirmed, confirmedBy: 'the person at the client' });
        const unscheduled = request(allow, { submitAt: null });
        await guardrails.createAgentRefund(unscheduled);
        const creation = async (id: string): Promise<unknown> => (await refunds.events(org, id)).map((e) => [e.from, e.to, e.initiatedBy, e.createdAt, e.detail]);
        expect(await creation(plain.draft.id)).toEqual([
          [null, 'pending', 'mcp', plain.draft.createdAt, `created by key ${keyId}; within the agent policy; submission due at ${plain.draft.submitAt}`],
        ]);
        expect(await creation(confirmed.draft.id)).toEqual([
          [
            null,
            'pending',
            'mcp',
            confirmed.draft.createdAt,
            `created by key ${keyId}; confirmed by the person at the client; within the agent policy; submission due at ${confirmed.draft.submitAt}`,
          ],
        ]);
        expect(await creation(unscheduled.draft.id)).toEqual([
          [null, 'pending', 'mcp', unscheduled.draft.createdAt, `created by key ${keyId}; within the agent policy; submission due at never`],
        ]);
      });

      it('a held refund has two events: its creation, then its approval request with the rule and how long it is open', async () => {
        const req = request(wait, { amount: 5000 });
        await guardrails.createAgentRefund(req);
        expect((await refunds.events(org, req.draft.id)).map((e) => [e.from, e.to, e.initiatedBy, e.detail])).toEqual([
          [null, 'pending', 'mcp', `created by key ${keyId}; held for approval ${req.approval.id}: above the approval threshold`],
          ['pending', 'pending', 'mcp', `approval ${req.approval.id} requested for key ${keyId} (rule approval_threshold); open until ${req.approval.expiresAt}`],
        ]);
      });

      it("keeps the draft's metadata on the refund", async () => {
        const req = request(allow, { metadata: { order: 'o_1001', ticket: 'T-7' } });
        const result = await guardrails.createAgentRefund(req);
        if (result.outcome !== 'created') throw new Error(result.outcome);
        expect(result.refund.metadata).toEqual({ order: 'o_1001', ticket: 'T-7' });
        expect((await refunds.findById(org, req.draft.id))?.metadata).toEqual({ order: 'o_1001', ticket: 'T-7' });
      });

      it('agentRefundFacts counts as the create would, and tells a used idempotency key of this organization as a replay', async () => {
        await guardrails.createAgentRefund(request(allow, { amount: 1000, idempotencyKey: 'k1' }));
        await guardrails.createAgentRefund(request(wait, { amount: 3000, transactionId: 'ch_guard2' }));
        const query = { organizationId: org, currency: 'usd', transactionId: 'ch_guard1', budgetSince: at(-24 * 60) };
        const facts = { usage: { count: 2, amount: 4000 }, refunded: 1000 };
        expect(await guardrails.agentRefundFacts({ ...query, idempotencyKey: 'k1' })).toEqual({ ...facts, replay: true });
        expect(await guardrails.agentRefundFacts({ ...query, idempotencyKey: 'k2' })).toEqual({ ...facts, replay: false });
        expect(await guardrails.agentRefundFacts({ ...query, idempotencyKey: null })).toEqual({ ...facts, replay: false });
        expect(await guardrails.agentRefundFacts({ ...query, organizationId: other, idempotencyKey: 'k1' })).toEqual({
          usage: { count: 0, amount: 0 },
          refunded: 0,
          replay: false,
        });
      });

      it('refundCreator and approvalForRefund are null for a refund that is not there or not held', async () => {
        const req = request(allow);
        await guardrails.createAgentRefund(req);
        expect(await guardrails.approvalForRefund(org, req.draft.id)).toBeNull();
        expect(await guardrails.refundCreator(org, 'ref_nosuchrefund0')).toBeNull();
        expect(await guardrails.refundCreator(other, req.draft.id)).toBeNull();
      });
    });

    describe('decideApproval', () => {
      async function held(): Promise<{ refundId: string; approvalId: string }> {
        const result = await guardrails.createAgentRefund(request(wait, { amount: 5000 }));
        if (result.outcome !== 'created' || result.approval === null) throw new Error('not held');
        return { refundId: result.refund.id, approvalId: result.approval.id };
      }

      it('approved: the refund becomes due now, with an event naming the decider; a second decision changes nothing', async () => {
        const { refundId, approvalId } = await held();
        const result = await guardrails.decideApproval({
          organizationId: org, approvalId, status: 'approved', decidedBy: 'operator:ana', at: at(30), note: 'ok', actor: 'dashboard',
        });
        expect(result.ok).toBe(true);
        expect(result.approval).toMatchObject({ status: 'approved', decidedBy: 'operator:ana', decidedAt: at(30), note: 'ok' });
        expect(result.refund?.status).toBe('pending');
        expect(await refunds.dueForSubmission(at(30), 10, ['sandbox'])).toEqual([{ organizationId: org, id: refundId }]);
        const events = await refunds.events(org, refundId);
        expect(events.at(-1)).toMatchObject({ from: 'pending', to: 'pending', initiatedBy: 'dashboard' });
        expect(events.at(-1)?.detail).toContain('approved by operator:ana: ok');
        const again = await guardrails.decideApproval({
          organizationId: org, approvalId, status: 'rejected', decidedBy: 'operator:bo', at: at(31), note: null, actor: 'dashboard',
        });
        expect(again.ok).toBe(false);
        expect(again.approval?.status).toBe('approved');
      });

      it.each(['rejected', 'expired'] as const)('%s: the refund is cancelled with the decision in its audit trail', async (status) => {
        const { refundId, approvalId } = await held();
        const result = await guardrails.decideApproval({
          organizationId: org, approvalId, status, decidedBy: status === 'expired' ? 'system' : 'operator:ana', at: at(30), note: 'too much', actor: status === 'expired' ? 'system' : 'dashboard',
        });
        expect(result.ok).toBe(true);
        expect(result.refund?.status).toBe('cancelled');
        expect((await refunds.events(org, refundId)).at(-1)).toMatchObject({ from: 'pending', to: 'cancelled' });
        expect((await refunds.events(org, refundId)).at(-1)?.detail).toContain(`${status} by`);
        expect(await refunds.dueForSubmission(at(10_000), 10, ['sandbox'])).toEqual([]);
      });

      it('a request whose refund is no longer pending is not decided', async () => {
        const { refundId, approvalId } = await held();
        await refunds.transition({ organizationId: org, refundId, from: 'pending', to: 'cancelled', actor: 'mcp', at: at(5) });
        const result = await guardrails.decideApproval({
          organizationId: org, approvalId, status: 'approved', decidedBy: 'operator:ana', at: at(30), note: null, actor: 'dashboard',
        });
        expect(result).toMatchObject({ ok: false, approval: { status: 'requested' }, refund: { status: 'cancelled' } });
      });

      it('a request whose refund its agent already cancelled can still expire, and is closed', async () => {
        const { refundId, approvalId } = await held();
        await refunds.transition({ organizationId: org, refundId, from: 'pending', to: 'cancelled', actor: 'mcp', at: at(5) });
        const result = await guardrails.decideApproval({
          organizationId: org, approvalId, status: 'expired', decidedBy: 'system', at: at(30), note: null, actor: 'system',
        });
        expect(result).toMatchObject({ ok: true, approval: { status: 'expired' }, refund: { status: 'cancelled' } });
        expect(await guardrails.dueApprovalExpiries(at(10_000), 10)).toEqual([]);
      });

      it('another organization cannot decide it', async () => {
        const { approvalId } = await held();
        const result = await guardrails.decideApproval({
          organizationId: other, approvalId, status: 'approved', decidedBy: 'operator:ana', at: at(30), note: null, actor: 'dashboard',
        });
        expect(result).toEqual({ ok: false, approval: null, refund: null });
      });

      it('each decision event says what happened to the refund, with the note only when there is one', async () => {
        const approved = await held();
        const rejected = await held();
        await guardrails.decideApproval({
          organizationId: org, approvalId: approved.approvalId, status: 'approved', decidedBy: 'operator:ana', at: at(30), note: null, actor: 'dashboard',
        });
        await guardrails.decideApproval({
          organizationId: org, approvalId: rejected.approvalId, status: 'rejected', decidedBy: 'operator:bo', at: at(31), note: 'too much', actor: 'dashboard',
        });
        const last = async (refundId: string): Promise<unknown> => {
          const event = (await refunds.events(org, refundId)).at(-1);
          return [event?.from, event?.to, event?.initiatedBy, event?.createdAt, event?.detail];
        };
        expect(await last(approved.refundId)).toEqual([
          'pending', 'pending', 'dashboard', at(30), `approval ${approved.approvalId} approved by operator:ana; submission due at ${at(30)}`,
        ]);
        expect(await last(rejected.refundId)).toEqual([
          'pending', 'cancelled', 'dashboard', at(31),
          `approval ${rejected.approvalId} rejected by operator:bo: too much; cancelled before submission, the processor never saw it`,
        ]);
      });

      it('closing the request of a refund its agent already cancelled leaves the refund as it was, and says so', async () => {
        const { refundId, approvalId } = await held();
        await refunds.transition({ organizationId: org, refundId, from: 'pending', to: 'cancelled', actor: 'mcp', at: at(5) });
        const before = await refunds.events(org, refundId);
        await guardrails.decideApproval({
          organizationId: org, approvalId, status: 'rejected', decidedBy: 'operator:ana', at: at(30), note: 'gone anyway', actor: 'dashboard',
        });
        const after = await refunds.events(org, refundId);
        expect(after).toHaveLength(before.length + 1);
        expect(after.at(-1)).toMatchObject({
          from: 'cancelled',
          to: 'cancelled',
          initiatedBy: 'dashboard',
          createdAt: at(30),
          detail: `approval ${approvalId} rejected by operator:ana: gone anyway; the refund was already cancelled`,
        });
      });

      it.each(['rejected', 'expired'] as const)('%s: a request whose refund failed instead is not decided, and nothing is written', async (status) => {
        const { refundId, approvalId } = await held();
        await refunds.transition({ organizationId: org, refundId, from: 'pending', to: 'failed', actor: 'system', at: at(5), detail: 'processor refused it' });
        const before = await refunds.events(org, refundId);
        const result = await guardrails.decideApproval({
          organizationId: org, approvalId, status, decidedBy: 'operator:ana', at: at(30), note: null, actor: 'dashboard',
        });
        expect(result).toMatchObject({ ok: false, approval: { status: 'requested', decidedBy: null }, refund: { status: 'failed' } });
        expect(await refunds.events(org, refundId)).toEqual(before);
        expect(await guardrails.dueApprovalExpiries(at(10_000), 10)).toEqual([{ organizationId: org, id: approvalId }]);
      });
    });

    describe('listing and expiry', () => {
      it('lists newest first, by status; due expiries are the open requests past their expiry', async () => {
        const a = await guardrails.createAgentRefund(request(wait));
        const b = await guardrails.createAgentRefund(request(wait));
        if (a.outcome !== 'created' || b.outcome !== 'created' || a.approval === null || b.approval === null) throw new Error('not held');
        expect((await guardrails.listApprovals(org, {}, 10)).map((x) => x.id)).toEqual([b.approval.id, a.approval.id]);
        expect(await guardrails.listApprovals(org, {}, 1)).toHaveLength(1);
        expect(await guardrails.listApprovals(other, {}, 10)).toEqual([]);
        expect(await guardrails.dueApprovalExpiries(a.approval.expiresAt, 10)).toEqual([{ organizationId: org, id: a.approval.id }]);
        await guardrails.decideApproval({
          organizationId: org, approvalId: a.approval.id, status: 'approved', decidedBy: 'operator:ana', at: at(3), note: null, actor: 'dashboard',
        });
        expect(await guardrails.dueApprovalExpiries(at(10_000), 10)).toEqual([{ organizationId: org, id: b.approval.id }]);
        expect((await guardrails.listApprovals(org, { status: 'approved' }, 10)).map((x) => x.id)).toEqual([a.approval.id]);
        expect((await guardrails.listApprovals(org, { status: 'requested' }, 10)).map((x) => x.id)).toEqual([b.approval.id]);
      });

      it('lists oldest first when asked: the queue of open requests in the order they came', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i += 1) {
          const result = await guardrails.createAgentRefund(request(wait));
          if (result.outcome !== 'created' || result.approval === null) throw new Error('not held');
          ids.push(result.approval.id);
        }
        expect((await guardrails.listApprovals(org, { oldestFirst: true }, 10)).map((x) => x.id)).toEqual(ids);
        expect((await guardrails.listApprovals(org, { status: 'requested', oldestFirst: true }, 2)).map((x) => x.id)).toEqual(ids.slice(0, 2));
        expect((await guardrails.listApprovals(org, { oldestFirst: false }, 10)).map((x) => x.id)).toEqual([...ids].reverse());
      });
    });

    describe('recordDecision', () => {
      it("appends an event that keeps the refund's status, by the actor, at the time, with the detail", async () => {
        const refund = await refunds.insert(refundFixture(org, { status: 'completed' }));
        const before = await refunds.events(org, refund.id);
        const ok = await guardrails.recordDecision({
          organizationId: org, refundId: refund.id, actor: 'mcp', at: at(40), detail: 'cancel by key k refused by the agent policy',
        });
        expect(ok).toBe(true);
        const after = await refunds.events(org, refund.id);
        expect(after).toHaveLength(before.length + 1);
        expect(after.at(-1)).toMatchObject({
          refundId: refund.id,
          organizationId: org,
          from: 'completed',
          to: 'completed',
          initiatedBy: 'mcp',
          createdAt: at(40),
          detail: 'cancel by key k refused by the agent policy',
        });
        expect(await refunds.findById(org, refund.id)).toEqual(refund);
      });

      it('is false, and writes nothing, for a refund that is not there or is another organization\'s', async () => {
        const refund = await refunds.insert(refundFixture(org));
        const before = await refunds.events(org, refund.id);
        const record = { organizationId: other, refundId: refund.id, actor: 'mcp' as const, at: at(40), detail: 'refused' };
        expect(await guardrails.recordDecision(record)).toBe(false);
        expect(await guardrails.recordDecision({ ...record, organizationId: org, refundId: 'ref_nosuchrefund0' })).toBe(false);
        expect(await refunds.events(org, refund.id)).toEqual(before);
        expect(await refunds.events(other, refund.id)).toEqual([]);
      });
    });
  });
}
