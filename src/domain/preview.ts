/**
 * Looking before acting: what the agent policy would say about a proposed refund, without writing
 * anything. The decision is the create's own (decisionOn, on the facts the store counts with the
 * same queries, and the charge read from the processor the same way), so a preview and the create
 * that follows can differ only by what happened in between.
 */
import { agentKeyOf, budgetWindowStart, chargedAmount, decisionOn, policyOf } from './agent-policy.js';
import type { Caller, RefundContext } from './context.js';
import { errors } from './errors.js';
import { budgetLeft, type BudgetUsage, type PolicyRule } from './guardrails/decide.js';
import type { RefundReason } from './refund.js';

export interface RefundProposal {
  transactionId: string;
  amount: number;
  currency?: string | undefined;
  reason: RefundReason;
}

export interface RefundPreview {
  /** Whether the agent policy governs this caller's refunds (an agent: MCP with an API key). */
  policyApplies: boolean;
  outcome: 'allow' | 'approval' | 'deny';
  /** The rule that holds or refuses it; null when it is allowed. */
  rule: PolicyRule | null;
  message: string;
  transaction: {
    transactionId: string;
    /** What the processor says was charged; null when it cannot tell. */
    charged: number | null;
    /** What our refunds on it already took (not cancelled, not failed). */
    refunded: number;
    /** charged - refunded, never below 0; null when the charge is unknown. */
    remaining: number | null;
  };
  /** What is left of the rolling 24-hour agent budget in the currency; null where the policy sets none. */
  budgetLeft: (BudgetUsage & { currency: string }) | null;
}

const AGENTS_ONLY =
  'The agent policy applies to agents only (MCP calls with an API key): a refund this caller creates is not checked against it. For an agent: ';

export async function previewRefund(ctx: RefundContext, caller: Caller, proposal: RefundProposal): Promise<RefundPreview> {
  const guardrails = ctx.guardrails;
  if (guardrails === undefined) throw errors.internal({ cause: new Error('no guardrail store configured') });
  const currency = proposal.currency ?? 'usd';
  const { organizationId } = caller;
  const policy = await policyOf(guardrails, organizationId);
  const charged = await chargedAmount(ctx, ctx.processors.defaultProcessor, proposal.transactionId);
  const facts = await guardrails.agentRefundFacts({
    organizationId,
    currency,
    transactionId: proposal.transactionId,
    budgetSince: budgetWindowStart(ctx.clock.now()),
    idempotencyKey: null,
  });
  const decision = decisionOn(policy, { ...proposal, currency }, charged)(facts);
  const policyApplies = agentKeyOf(ctx, caller) !== undefined;
  const message =
    decision.outcome === 'allow'
      ? `Within the agent policy: the refund would be created and submitted as usual${decision.confirm ? ', after the person at the client confirms it where the client can ask' : ''}`
      : decision.outcome === 'approval'
        ? `It would be created pending and wait for a person's approval: ${decision.message}`
        : `It would be refused (policy_violation) and nothing created: ${decision.message}`;
  const left = budgetLeft(policy, currency, facts.usage);
  return {
    policyApplies,
    outcome: decision.outcome,
    rule: decision.outcome === 'allow' ? null : decision.rule,
    message: policyApplies ? message : AGENTS_ONLY + message.charAt(0).toLowerCase() + message.slice(1),
    transaction: {
      transactionId: proposal.transactionId,
      charged: charged ?? null,
      refunded: facts.refunded,
      remaining: charged === undefined ? null : Math.max(0, charged - facts.refunded),
    },
    budgetLeft: left === undefined ? null : { currency, ...left },
  };
}
