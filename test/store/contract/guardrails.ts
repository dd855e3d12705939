/**
 * The GuardrailStore contract: agent policies, the agent create that applies the policy inside
 * its own transaction, and approval requests. Told through the ports alone.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../../src/domain/guardrails/decide.js';
import { DEFAULT_AGENT_POLICY, DEMO_AGENT_POLICY } from '../../../src/domain/guardrails/policy.js';
import type { AgentRefundFacts, AgentRefundRequest, GuardrailStore, RefundStore } from '../../../src/domain/ports.js';
import type { StoreFactory, StoreHarness } from './harness.js';

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
    });
  });
}
