/**
 * In-band confirmation: when the policy asks for it (`confirmWrites`), an agent's create or cancel
 * is first shown to the person at the client, where the client can ask (MCP elicitation). Asking
 * is the adapter's business; the domain only states what to ask and what each answer means. A
 * confirmation can only narrow what the policy allows: a refund it does not let through is never
 * asked about, and one that cannot be confirmed waits for a person's approval instead of going
 * ahead. Pure functions; no MCP here.
 */
import type { Decision } from './decide.js';

/** What the person at the client answered: accepted (and confirmed), declined, dismissed, or no answer at all. */
export type ConfirmationAnswer = 'accepted' | 'declined' | 'cancelled' | 'unanswered';

export interface ConfirmationRequest {
  action: 'create_refund' | 'cancel_refund';
  /** Plain words for the person: what will happen, with the amount for humans and in minor units. */
  message: string;
}

/**
 * The adapter's capability to ask the person at the client. A caller without it cannot confirm:
 * its refund waits for approval, its cancel is refused.
 */
export interface Confirmation {
  ask(request: ConfirmationRequest): Promise<ConfirmationAnswer>;
}

/** Who confirmed, as the audit trail names it. */
export const CONFIRMED_BY = 'the person at the MCP client (elicitation)';

/** "$25.00 (2500 usd)": the amount as a person reads it, and as the API counts it. */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  // Intl formats any well-formed code, with two decimals for one it does not know: that would guess.
  if (!knownCurrencies().has(code)) return `${amount} ${code} minor units (${amount} ${currency})`;
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: code });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return `${format.format(amount / 10 ** digits)} (${amount} ${currency})`;
}

let known: ReadonlySet<string> | undefined;
function knownCurrencies(): ReadonlySet<string> {
  known ??= new Set(Intl.supportedValuesOf('currency'));
  return known;
}

export function createPrompt(refund: { amount: number; currency: string; transactionId: string; reason: string }): ConfirmationRequest {
  return {
    action: 'create_refund',
    message:
      `An AI agent asks to refund ${formatMoney(refund.amount, refund.currency)} on transaction ${refund.transactionId}, ` +
      `reason: ${refund.reason.replaceAll('_', ' ')}. The money goes back to the customer. Confirm to let it go ahead.`,
  };
}

export function cancelPrompt(refund: { id: string; amount: number; currency: string; status: string; transactionId: string }): ConfirmationRequest {
  return {
    action: 'cancel_refund',
    message:
      `An AI agent asks to cancel refund ${refund.id} of ${formatMoney(refund.amount, refund.currency)} on transaction ` +
      `${refund.transactionId}, now ${refund.status}. The customer would not get this money back. Confirm to cancel it.`,
  };
}

/**
 * The decision once confirmation is accounted for: a refund the policy lets through but wants
 * confirmed goes ahead only when the person confirmed it; otherwise it waits for approval.
 */
export function withConfirmation(decision: Decision, confirmed: boolean, canAsk: boolean): Decision {
  if (decision.outcome !== 'allow' || !decision.confirm) return decision;
  if (confirmed) return { outcome: 'allow', confirm: false };
  return {
    outcome: 'approval',
    rule: 'confirmation',
    message: canAsk
      ? "This organization's policy asks the person at the client to confirm each agent refund, and this one was not confirmed: it waits for a person's approval"
      : "This organization's policy asks the person at the client to confirm each agent refund, and this client cannot ask (no elicitation): it waits for a person's approval",
  };
}

/** Why nothing happened, for the agent: the person said no, or never answered. */
export function notConfirmedMessage(answer: Exclude<ConfirmationAnswer, 'accepted'>, what: string, nothing: string): string {
  const why =
    answer === 'declined'
      ? 'The person at the client declined'
      : answer === 'cancelled'
        ? 'The person at the client dismissed the confirmation of'
        : 'No answer came from the person at the client (timed out or failed) to confirm';
  return `${why} ${what}: ${nothing}. Do not retry unless the person asks for it again.`;
}
