/**
 * The policy's rules, as pure functions: given the policy, the proposed refund, what agents already
 * used of today's budget and what remains refundable on the transaction, decide. The store applies
 * the same decision inside the transaction that creates the refund, so the usage it is given is
 * the usage at that instant (no race can overshoot a budget), and `preview_refund` shows the same
 * decision without creating anything.
 */
import { limitsFor, UNLISTED_CURRENCY_RULE, type AgentPolicy } from './policy.js';

export const POLICY_RULES = [
  'reason',
  'transaction_remaining',
  'max_per_refund',
  'daily_count',
  'daily_amount',
  'unlisted_currency',
  'approval_threshold',
  'confirmation',
  'cancel_others',
] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

export interface AgentRefundProposal {
  amount: number;
  currency: string;
  reason: string;
  transactionId: string;
}

/** Agent refunds in the proposal's currency over the last 24 hours that hold budget. */
export interface BudgetUsage {
  count: number;
  amount: number;
}

/** What the transaction still allows: charged minus what our refunds already took (not cancelled or failed). */
export interface TransactionBalance {
  charged: number;
  refunded: number;
}

export type Decision =
  /** Goes ahead; `confirm` asks the person at the client first, where it can. */
  | { outcome: 'allow'; confirm: boolean }
  /** Created, then waits for a person: nothing reaches the processor until approved. */
  | { outcome: 'approval'; rule: PolicyRule; message: string }
  /** Refused: nothing is created. */
  | { outcome: 'deny'; rule: PolicyRule; message: string };

const money = (amount: number, currency: string): string => `${amount} ${currency}`;

export interface RefundDecisionInput {
  policy: AgentPolicy;
  proposal: AgentRefundProposal;
  usage: BudgetUsage;
  /** Undefined when the processor cannot tell what was charged: the refund then waits for approval. */
  balance: TransactionBalance | undefined;
}

/**
 * Denials first (the cheapest refusal is the one that creates nothing), then the reasons to wait
 * for a person, then confirmation. The order is part of the contract: a refund that breaks two
 * rules is reported under the first.
 */
export function decideAgentRefund({ policy, proposal, usage, balance }: RefundDecisionInput): Decision {
  const { amount, currency, reason, transactionId } = proposal;
  if (!policy.reasons.some((allowed) => allowed === reason)) {
    const allowed = policy.reasons.length === 0 ? 'no reason at all' : policy.reasons.join(', ');
    return deny('reason', `Agents may not refund with reason '${reason}': this organization's policy allows ${allowed}`);
  }
  if (balance !== undefined) {
    const remaining = Math.max(0, balance.charged - balance.refunded);
    if (amount > remaining) {
      return deny(
        'transaction_remaining',
        `Refund of ${money(amount, currency)} exceeds what remains refundable on ${transactionId}: ${money(remaining, currency)} ` +
          `(charged ${money(balance.charged, currency)}, already refunded ${money(balance.refunded, currency)})`,
      );
    }
  }
  const limits = limitsFor(policy, currency);
  if (limits !== undefined) {
    if (amount > limits.maxPerRefund) {
      return deny('max_per_refund', `Refund of ${money(amount, currency)} exceeds the agent limit of ${money(limits.maxPerRefund, currency)} per refund`);
    }
    if (usage.count + 1 > limits.dailyCount) {
      return deny(
        'daily_count',
        `Agents already made ${usage.count} refunds in ${currency} in the last 24 hours: the limit is ${limits.dailyCount}`,
      );
    }
    if (usage.amount + amount > limits.dailyAmount) {
      return deny(
        'daily_amount',
        `Refund of ${money(amount, currency)} would bring agent refunds in ${currency} over the last 24 hours to ` +
          `${money(usage.amount + amount, currency)}: the limit is ${money(limits.dailyAmount, currency)}`,
      );
    }
  }
  if (balance === undefined) {
    return wait('transaction_remaining', `The processor cannot tell what remains refundable on ${transactionId}: the refund waits for a person's approval`);
  }
  if (limits === undefined) {
    return wait('unlisted_currency', `The policy sets no agent limits for ${currency}, and ${UNLISTED_CURRENCY_RULE}`);
  }
  if (amount > limits.approvalAbove) {
    return wait(
      'approval_threshold',
      `Refund of ${money(amount, currency)} is above the approval threshold of ${money(limits.approvalAbove, currency)}: it waits for a person's approval`,
    );
  }
  return { outcome: 'allow', confirm: policy.confirmWrites };
}

export interface CancelDecisionInput {
  policy: AgentPolicy;
  refundId: string;
  /** Whether the refund was created by the very key that asks to cancel it. */
  createdByCaller: boolean;
}

export function decideAgentCancel({ policy, refundId, createdByCaller }: CancelDecisionInput): Decision {
  if (!createdByCaller && !policy.cancelOthers) {
    return deny('cancel_others', `Agents may cancel only the refunds they created: ${refundId} was created by someone else`);
  }
  return { outcome: 'allow', confirm: policy.confirmWrites };
}

/** What is left of today's budget in a currency, for `preview_refund`; undefined where no limit is set. */
export function budgetLeft(policy: AgentPolicy, currency: string, usage: BudgetUsage): BudgetUsage | undefined {
  const limits = limitsFor(policy, currency);
  if (limits === undefined) return undefined;
  return { count: Math.max(0, limits.dailyCount - usage.count), amount: Math.max(0, limits.dailyAmount - usage.amount) };
}

function deny(rule: PolicyRule, message: string): Decision {
  return { outcome: 'deny', rule, message };
}

function wait(rule: PolicyRule, message: string): Decision {
  return { outcome: 'approval', rule, message };
}
