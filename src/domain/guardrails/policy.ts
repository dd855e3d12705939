/**
 * An organization's agent policy: what a refund initiated by an agent (over MCP) may do without a
 * person. Operators set it (CLI, REST with an operator key, the dashboard); no agent key and no
 * MCP tool can. Refunds initiated by a person (`api`, `dashboard`) are not subject to it.
 */
import { z } from 'zod';
import { REFUND_REASONS, type RefundReason } from '../refund.js';

/** Limits for one currency, in its minor units (2500 = $25.00 for usd). */
export interface CurrencyLimits {
  /** An agent refund larger than this is refused. */
  maxPerRefund: number;
  /** An agent refund larger than this (and within `maxPerRefund`) waits for a person's approval. */
  approvalAbove: number;
  /** Rolling 24 hours: at most this many agent refunds in the currency… */
  dailyCount: number;
  /** …adding up to at most this amount. */
  dailyAmount: number;
}

export interface AgentPolicy {
  /**
   * Limits per lowercase currency code. A currency without an entry follows the safe rule: every
   * agent refund in it waits for approval (a person sees each one), never "no limit".
   */
  currencies: Readonly<Record<string, CurrencyLimits>>;
  /** The reasons an agent may give. A refund with another reason is refused. */
  reasons: readonly RefundReason[];
  /** Whether an agent may cancel a refund it did not create (another key's, or a person's). */
  cancelOthers: boolean;
  /** Whether an agent's create and cancel first ask the person at the client (elicitation). */
  confirmWrites: boolean;
  /** How long an approval request stays open before it expires and its refund is cancelled. */
  approvalHours: number;
}

/** What an unlisted currency gets: stated here so that docs and code say the same. */
export const UNLISTED_CURRENCY_RULE = 'every agent refund in a currency the policy does not list waits for approval';

const conservativeLimits: CurrencyLimits = { maxPerRefund: 10_000, approvalAbove: 2_500, dailyCount: 20, dailyAmount: 50_000 };

/**
 * A new organization's policy. Conservative on purpose: agents refund up to 25.00 on their own,
 * up to 100.00 with a person's approval, at most 20 refunds and 500.00 a day per currency, in
 * usd, eur and gbp; other currencies need approval; agents cancel only their own refunds.
 */
export const DEFAULT_AGENT_POLICY: AgentPolicy = {
  currencies: { usd: conservativeLimits, eur: conservativeLimits, gbp: conservativeLimits },
  reasons: REFUND_REASONS,
  cancelOthers: false,
  confirmWrites: false,
  approvalHours: 72,
};

/**
 * The demo organization's policy: small enough that a newcomer sees every path with a few calls
 * (1000 usd goes through, 5000 usd waits for approval, 20000 usd is refused). Its agent may
 * cancel refunds it did not create: the demo's refunds are seeded, so no key created any of them,
 * and cancelling one is part of trying the tools.
 */
export const DEMO_AGENT_POLICY: AgentPolicy = {
  currencies: { usd: { maxPerRefund: 10_000, approvalAbove: 2_500, dailyCount: 10, dailyAmount: 30_000 } },
  reasons: REFUND_REASONS,
  cancelOthers: true,
  confirmWrites: false,
  approvalHours: 24,
};

const AMOUNT = z.number().int().min(0).max(99_999_999);

const currencyLimitsSchema = z
  .strictObject({ maxPerRefund: AMOUNT, approvalAbove: AMOUNT, dailyCount: z.number().int().min(0).max(100_000), dailyAmount: AMOUNT })
  .refine((limits) => limits.approvalAbove <= limits.maxPerRefund, {
    error: 'approvalAbove must not exceed maxPerRefund: a refund between them would be neither approved nor refused',
  });

/** What an operator may send. Every field is checked; unknown fields are refused. */
export const agentPolicySchema = z.strictObject({
  currencies: z.record(z.string().regex(/^[a-z]{3}$/), currencyLimitsSchema, {
    error: (issue) => (issue.code === 'invalid_key' ? 'Currency keys must be three lowercase letters, e.g. usd' : undefined),
  }),
  reasons: z.array(z.enum(REFUND_REASONS)).max(REFUND_REASONS.length),
  cancelOthers: z.boolean(),
  confirmWrites: z.boolean(),
  approvalHours: z.number().int().min(1).max(720),
});

/** Parses a policy an operator sent; throws zod's error with the field and the rule. */
export function parseAgentPolicy(input: unknown): AgentPolicy {
  const parsed = agentPolicySchema.parse(input);
  return { ...parsed, reasons: [...new Set(parsed.reasons)] };
}

export function limitsFor(policy: AgentPolicy, currency: string): CurrencyLimits | undefined {
  return Object.hasOwn(policy.currencies, currency) ? policy.currencies[currency] : undefined;
}
