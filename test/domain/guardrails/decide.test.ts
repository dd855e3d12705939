import { describe, expect, it } from 'vitest';
import {
  budgetLeft,
  decideAgentCancel,
  decideAgentRefund,
  type RefundDecisionInput,
} from '../../../src/domain/guardrails/decide.js';
import { DEFAULT_AGENT_POLICY, type AgentPolicy } from '../../../src/domain/guardrails/policy.js';

const policy: AgentPolicy = {
  currencies: { usd: { maxPerRefund: 20_000, approvalAbove: 5_000, dailyCount: 3, dailyAmount: 30_000 } },
  reasons: ['duplicate_charge', 'requested_by_customer'],
  cancelOthers: false,
  confirmWrites: false,
  approvalHours: 24,
};

function input(overrides: Partial<RefundDecisionInput['proposal']> = {}, rest: Partial<Omit<RefundDecisionInput, 'proposal'>> = {}): RefundDecisionInput {
  return {
    policy,
    proposal: { amount: 1_000, currency: 'usd', reason: 'duplicate_charge', transactionId: 'ch_1', ...overrides },
    usage: { count: 0, amount: 0 },
    balance: { charged: 100_000, refunded: 0 },
    ...rest,
  };
}

describe('decideAgentRefund', () => {
  it('allows a refund within every rule, and asks for confirmation only when the policy says so', () => {
    expect(decideAgentRefund(input())).toEqual({ outcome: 'allow', confirm: false });
    expect(decideAgentRefund(input({}, { policy: { ...policy, confirmWrites: true } }))).toEqual({ outcome: 'allow', confirm: true });
  });

  it('refuses a reason the policy does not list, naming the ones it does', () => {
    expect(decideAgentRefund(input({ reason: 'fraudulent' }))).toEqual({
      outcome: 'deny',
      rule: 'reason',
      message: "Agents may not refund with reason 'fraudulent': this organization's policy allows duplicate_charge, requested_by_customer",
    });
    const none = decideAgentRefund(input({}, { policy: { ...policy, reasons: [] } }));
    expect(none).toMatchObject({ outcome: 'deny', rule: 'reason' });
    expect(none.outcome === 'deny' && none.message).toContain('allows no reason at all');
  });

  describe('the per-refund maximum', () => {
    it('allows exactly the maximum (with approval, since it is above the threshold) and refuses one more', () => {
      expect(decideAgentRefund(input({ amount: 20_000 }))).toMatchObject({ outcome: 'approval', rule: 'approval_threshold' });
      expect(decideAgentRefund(input({ amount: 20_001 }))).toEqual({
        outcome: 'deny',
        rule: 'max_per_refund',
        message: 'Refund of 20001 usd exceeds the agent limit of 20000 usd per refund',
      });
    });
  });

  describe('the approval threshold', () => {
    it('lets the threshold itself through and sends one more to a person', () => {
      expect(decideAgentRefund(input({ amount: 5_000 }))).toEqual({ outcome: 'allow', confirm: false });
      expect(decideAgentRefund(input({ amount: 5_001 }))).toEqual({
        outcome: 'approval',
        rule: 'approval_threshold',
        message: "Refund of 5001 usd is above the approval threshold of 5000 usd: it waits for a person's approval",
      });
    });

    it('with a threshold of 0, every agent refund waits for a person', () => {
      const strict = { ...policy, currencies: { usd: { ...policy.currencies.usd!, approvalAbove: 0 } } };
      expect(decideAgentRefund(input({ amount: 1 }, { policy: strict }))).toMatchObject({ outcome: 'approval' });
    });
  });

  describe('the rolling 24-hour budget', () => {
    it('counts refunds: the last one that fits is allowed, the next is refused', () => {
      expect(decideAgentRefund(input({}, { usage: { count: 2, amount: 0 } }))).toMatchObject({ outcome: 'allow' });
      expect(decideAgentRefund(input({}, { usage: { count: 3, amount: 0 } }))).toEqual({
        outcome: 'deny',
        rule: 'daily_count',
        message: 'Agents already made 3 refunds in usd in the last 24 hours: the limit is 3',
      });
    });

    it('adds amounts: reaching the budget exactly is allowed, passing it by one unit is refused', () => {
      expect(decideAgentRefund(input({ amount: 1_000 }, { usage: { count: 1, amount: 29_000 } }))).toMatchObject({ outcome: 'allow' });
      expect(decideAgentRefund(input({ amount: 1_001 }, { usage: { count: 1, amount: 29_000 } }))).toEqual({
        outcome: 'deny',
        rule: 'daily_amount',
        message: 'Refund of 1001 usd would bring agent refunds in usd over the last 24 hours to 30001 usd: the limit is 30000 usd',
      });
    });

    it('applies to refunds that would wait for approval too, so approvals cannot pass the budget', () => {
      expect(decideAgentRefund(input({ amount: 6_000 }, { usage: { count: 0, amount: 25_000 } }))).toMatchObject({
        outcome: 'deny',
        rule: 'daily_amount',
      });
    });
  });

  describe('what remains refundable on the transaction', () => {
    it('allows exactly what remains and refuses one unit more, before any other limit', () => {
      expect(decideAgentRefund(input({ amount: 4_000 }, { balance: { charged: 10_000, refunded: 6_000 } }))).toMatchObject({ outcome: 'allow' });
      expect(decideAgentRefund(input({ amount: 4_001, transactionId: 'ch_abc' }, { balance: { charged: 10_000, refunded: 6_000 } }))).toEqual({
        outcome: 'deny',
        rule: 'transaction_remaining',
        message: 'Refund of 4001 usd exceeds what remains refundable on ch_abc: 4000 usd (charged 10000 usd, already refunded 6000 usd)',
      });
    });

    it('treats a transaction refunded beyond its charge (by hand, elsewhere) as having nothing left', () => {
      expect(decideAgentRefund(input({ amount: 1 }, { balance: { charged: 100, refunded: 150 } }))).toMatchObject({
        outcome: 'deny',
        rule: 'transaction_remaining',
      });
    });

    it('sends the refund to a person when the processor cannot say what was charged', () => {
      expect(decideAgentRefund(input({}, { balance: undefined }))).toMatchObject({ outcome: 'approval', rule: 'transaction_remaining' });
    });
  });

  it('a currency the policy does not list waits for approval, never passes as unlimited', () => {
    const decision = decideAgentRefund(input({ currency: 'jpy', amount: 100_000 }));
    expect(decision).toEqual({
      outcome: 'approval',
      rule: 'unlisted_currency',
      message: 'The policy sets no agent limits for jpy, and every agent refund in a currency the policy does not list waits for approval',
    });
  });

  it('a currency key that is an Object property name is still unlisted', () => {
    expect(decideAgentRefund(input({ currency: 'constructor' }))).toMatchObject({ outcome: 'approval', rule: 'unlisted_currency' });
  });

  it('reports a refund that breaks several rules under the first one, in the documented order', () => {
    const decision = decideAgentRefund(input({ reason: 'other', amount: 50_000 }, { usage: { count: 9, amount: 99_000 }, balance: { charged: 10, refunded: 0 } }));
    expect(decision).toMatchObject({ outcome: 'deny', rule: 'reason' });
    const next = decideAgentRefund(input({ amount: 50_000 }, { usage: { count: 9, amount: 99_000 }, balance: { charged: 10, refunded: 0 } }));
    expect(next).toMatchObject({ rule: 'transaction_remaining' });
  });

  it('the default policy of a new organization: 25.00 alone, up to 100.00 with approval, nothing above', () => {
    const base = { policy: DEFAULT_AGENT_POLICY, usage: { count: 0, amount: 0 }, balance: { charged: 1_000_000, refunded: 0 } };
    const proposal = { currency: 'eur', reason: 'requested_by_customer', transactionId: 'ch_1' };
    expect(decideAgentRefund({ ...base, proposal: { ...proposal, amount: 2_500 } })).toMatchObject({ outcome: 'allow' });
    expect(decideAgentRefund({ ...base, proposal: { ...proposal, amount: 2_501 } })).toMatchObject({ outcome: 'approval' });
    expect(decideAgentRefund({ ...base, proposal: { ...proposal, amount: 10_001 } })).toMatchObject({ outcome: 'deny' });
  });
});

describe('decideAgentCancel', () => {
  it('lets an agent cancel its own refund', () => {
    expect(decideAgentCancel({ policy, refundId: 'ref_a', createdByCaller: true })).toEqual({ outcome: 'allow', confirm: false });
  });

  it("refuses another's refund unless the policy lets agents cancel others'", () => {
    expect(decideAgentCancel({ policy, refundId: 'ref_a', createdByCaller: false })).toEqual({
      outcome: 'deny',
      rule: 'cancel_others',
      message: 'Agents may cancel only the refunds they created: ref_a was created by someone else',
    });
    expect(decideAgentCancel({ policy: { ...policy, cancelOthers: true, confirmWrites: true }, refundId: 'ref_a', createdByCaller: false })).toEqual({
      outcome: 'allow',
      confirm: true,
    });
  });
});

describe('budgetLeft', () => {
  it('is the limit minus the usage, never below zero, and undefined for an unlisted currency', () => {
    expect(budgetLeft(policy, 'usd', { count: 1, amount: 10_000 })).toEqual({ count: 2, amount: 20_000 });
    expect(budgetLeft(policy, 'usd', { count: 5, amount: 40_000 })).toEqual({ count: 0, amount: 0 });
    expect(budgetLeft(policy, 'eur', { count: 0, amount: 0 })).toBeUndefined();
  });
});
