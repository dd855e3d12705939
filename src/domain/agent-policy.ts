/**
 * The agent policy applied to an agent's writes: an MCP caller with an API key. Its refund is
 * decided by decideAgentRefund inside the store's create transaction (budgets cannot be overshot
 * by racing processes); its cancel by decideAgentCancel.
 */
import type { Caller, RefundContext } from './context.js';
import { processorShare, within } from './deadline.js';
import { errors } from './errors.js';
import { expiryFor } from './guardrails/approval.js';
import { cancelPrompt, CONFIRMED_BY, createPrompt, notConfirmedMessage, withConfirmation, type Confirmation } from './guardrails/confirmation.js';
import { decideAgentCancel, decideAgentRefund, type AgentRefundProposal, type Decision } from './guardrails/decide.js';
import { DEFAULT_AGENT_POLICY, type AgentPolicy } from './guardrails/policy.js';
import { newApprovalId } from './ids.js';
import type { AgentRefundFacts, AgentRefundResult, GuardrailStore, RefundDraft } from './ports.js';

const DAY_MS = 24 * 3_600_000;

/** The caller's key, when the caller is an agent the policy governs; undefined otherwise. */
export function agentKeyOf(ctx: RefundContext, caller: Caller): { keyId: string; guardrails: GuardrailStore } | undefined {
  if (caller.actor !== 'mcp' || caller.keyId === undefined || ctx.guardrails === undefined) return undefined;
  return { keyId: caller.keyId, guardrails: ctx.guardrails };
}

/** The organization's policy; one never set is the conservative default. */
export async function policyOf(guardrails: GuardrailStore, organizationId: string): Promise<AgentPolicy> {
  return (await guardrails.policy(organizationId))?.policy ?? DEFAULT_AGENT_POLICY;
}

/**
 * What the transaction took, asked of the refund's processor within part of the call deadline:
 * undefined (the refund then waits for approval) when it cannot tell, fails, or is too slow.
 */
export async function chargedAmount(ctx: RefundContext, processorName: string, transactionId: string): Promise<number | undefined> {
  const found = ctx.processors.lookup(processorName);
  if (!found.ok || found.processor.chargedAmount === undefined) return undefined;
  const ms = ctx.settings.callDeadlineMs / 2;
  try {
    const answer = await within(found.processor.chargedAmount(transactionId, { timeoutMs: processorShare(ms) }), ms);
    return answer.done ? answer.value : undefined;
  } catch {
    return undefined;
  }
}

/** Start of the rolling budget window that ends at `at`. */
export function budgetWindowStart(at: Date): string {
  return new Date(at.getTime() - DAY_MS).toISOString();
}

/**
 * The policy's decision on a proposal, given the facts the store counts: the one function the
 * create (inside its transaction) and preview_refund (on a plain read) both apply.
 */
export function decisionOn(policy: AgentPolicy, proposal: AgentRefundProposal, charged: number | undefined): (facts: AgentRefundFacts) => Decision {
  const { amount, currency, reason, transactionId } = proposal;
  return ({ usage, refunded }) =>
    decideAgentRefund({
      policy,
      proposal: { amount, currency, reason, transactionId },
      usage,
      balance: charged === undefined ? undefined : { charged, refunded },
    });
}

/**
 * Creates an agent's refund under the policy: created and due, created and held, or denied
 * (thrown). When the policy wants it confirmed and the client can ask, the person is asked first,
 * about a refund the policy would let through as things stand (a replay, a refusal or a refund
 * bound for approval asks nobody); a refusal by the person is thrown and nothing is created. The
 * create's own transaction decides again: only a confirmed refund goes ahead without approval.
 */
export async function createUnderPolicy(
  ctx: RefundContext,
  agent: { keyId: string; guardrails: GuardrailStore; confirmation: Confirmation | undefined },
  initial: RefundDraft,
): Promise<Exclude<AgentRefundResult, { outcome: 'denied' }>> {
  let draft = initial;
  const policy = await policyOf(agent.guardrails, draft.organizationId);
  const charged = await chargedAmount(ctx, draft.processor, draft.transactionId);
  const proposal = { amount: draft.amount, currency: draft.currency, reason: draft.reason, transactionId: draft.transactionId };
  let confirmed = false;
  if (policy.confirmWrites && agent.confirmation !== undefined) {
    const facts = await agent.guardrails.agentRefundFacts({ ...draft, budgetSince: budgetWindowStart(new Date(draft.createdAt)) });
    const first = decisionOn(policy, proposal, charged)(facts);
    if (!facts.replay && first.outcome === 'allow' && first.confirm) {
      const answer = await agent.confirmation.ask(createPrompt(draft));
      if (answer !== 'accepted') {
        const message = notConfirmedMessage(answer, `the refund of ${draft.amount} ${draft.currency} on ${draft.transactionId}`, 'nothing was created');
        await recordRefusal(ctx, agent, draft, { outcome: 'not_confirmed', rule: 'confirmation', message });
        throw errors.confirmationDeclined(message);
      }
      confirmed = true;
      // The person may have taken a while: the refund is created (and its budget counted) now.
      const now = ctx.clock.now();
      draft = { ...draft, createdAt: now.toISOString(), submitAt: new Date(now.getTime() + ctx.settings.holdMs).toISOString() };
    }
  }
  const now = Date.parse(draft.createdAt);
  const result = await agent.guardrails.createAgentRefund({
    draft: { ...draft, createdByKeyId: agent.keyId },
    budgetSince: budgetWindowStart(new Date(now)),
    decide: (facts) => withConfirmation(decisionOn(policy, proposal, charged)(facts), confirmed, agent.confirmation !== undefined),
    approval: { id: newApprovalId(), expiresAt: expiryFor(new Date(now), policy.approvalHours) },
    ...(confirmed ? { confirmedBy: CONFIRMED_BY } : {}),
  });
  if (result.outcome === 'denied') {
    await recordRefusal(ctx, agent, draft, { outcome: 'denied', rule: result.decision.rule, message: result.decision.message });
    throw errors.policyViolation(result.decision.message);
  }
  return result;
}

/** Puts a refused create on record (policy_refusals): it left no refund to carry an event. */
async function recordRefusal(
  ctx: RefundContext,
  agent: { keyId: string; guardrails: GuardrailStore },
  draft: RefundDraft,
  refusal: { outcome: 'denied' | 'not_confirmed'; rule: string; message: string },
): Promise<void> {
  await agent.guardrails.recordRefusal({
    organizationId: draft.organizationId,
    keyId: agent.keyId,
    at: ctx.clock.now().toISOString(),
    ...refusal,
    transactionId: draft.transactionId,
    amount: draft.amount,
    currency: draft.currency,
    reason: draft.reason,
  });
}

/**
 * Refuses an agent's cancel the policy does not allow (another's refund, unless cancelOthers).
 * When the policy wants cancels confirmed, the person at the client is asked (their answer is
 * recorded on the refund); a client that cannot ask is refused, as no approval flow exists for a
 * cancel: a person must cancel it.
 */
export async function checkAgentCancel(ctx: RefundContext, caller: Caller, refundId: string): Promise<void> {
  const agent = agentKeyOf(ctx, caller);
  if (agent === undefined) return;
  // Not found first: another organization's refund stays invisible, whatever the policy says.
  const refund = await ctx.store.findById(caller.organizationId, refundId);
  if (refund === null) throw errors.notFound();
  const policy = await policyOf(agent.guardrails, caller.organizationId);
  const creator = await agent.guardrails.refundCreator(caller.organizationId, refundId);
  const decision = decideAgentCancel({ policy, refundId, createdByCaller: creator === agent.keyId });
  if (decision.outcome !== 'allow') {
    await agent.guardrails.recordDecision({
      organizationId: caller.organizationId,
      refundId,
      actor: caller.actor,
      at: ctx.clock.now().toISOString(),
      detail: `cancel by key ${agent.keyId} refused by the agent policy (rule ${decision.rule}): ${decision.message}`,
    });
    throw errors.policyViolation(decision.message);
  }
  // Nothing to confirm about a refund that cannot be cancelled: the cancel says why.
  if (!decision.confirm || (refund.status !== 'pending' && refund.status !== 'processing')) return;
  if (caller.confirmation === undefined) {
    throw errors.policyViolation(
      `This organization's policy asks the person at the client to confirm each cancel by an agent, and this client cannot ask (no elicitation): ` +
        `${refundId} was not cancelled. A person must cancel it (REST API or dashboard), or use a client that can ask for confirmation.`,
    );
  }
  const answer = await caller.confirmation.ask(cancelPrompt(refund));
  const note = { organizationId: caller.organizationId, refundId, actor: caller.actor, at: ctx.clock.now().toISOString() };
  if (answer === 'accepted') {
    await agent.guardrails.recordDecision({ ...note, detail: `cancel by key ${agent.keyId} confirmed by ${CONFIRMED_BY}` });
    return;
  }
  await agent.guardrails.recordDecision({ ...note, detail: `cancel by key ${agent.keyId} not confirmed (${answer}) by ${CONFIRMED_BY}; nothing changed` });
  throw errors.confirmationDeclined(notConfirmedMessage(answer, `cancelling ${refundId}`, 'nothing changed'));
}
