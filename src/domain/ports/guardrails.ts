/**
 * The guardrail store port: each organization's agent policy, the approval requests that hold an
 * agent's refund for a person, and the agent create that checks the policy. Like the refund store,
 * every method is one atomic operation; `createAgentRefund` applies the policy's decision inside
 * the very transaction that inserts the refund, so racing processes can never overshoot a budget.
 */
import type { ApprovalRequest, ApprovalStatus } from '../guardrails/approval.js';
import type { BudgetUsage, Decision } from '../guardrails/decide.js';
import type { AgentPolicy } from '../guardrails/policy.js';
import type { Actor, Refund } from '../refund.js';
import type { RefundDraft } from './refund-store.js';

export interface StoredPolicy {
  policy: AgentPolicy;
  updatedAt: string;
  /** operator:NAME, key:KEY_ID or system. */
  updatedBy: string;
}

/** What the store counts inside the create's transaction, for the decision. */
export interface AgentRefundFacts {
  /**
   * The organization's agent refunds in the draft's currency created after `budgetSince` that hold
   * budget: all but those cancelled by a rejected or expired approval and those that failed
   * before the processor took them.
   */
  usage: BudgetUsage;
  /** What the organization's refunds on the draft's transaction already took (not cancelled, not failed). */
  refunded: number;
}

/** Which facts to count: the organization's agent budget in a currency, and one transaction's refunds. */

export interface AgentRefundRequest {
  /** The refund, with `createdByKeyId` set and `submitAt` as it is when the policy allows it. */
  draft: RefundDraft & { createdByKeyId: string };
  /** Start of the rolling budget window. */
  budgetSince: string;
  /**
   * The policy's decision, called synchronously inside the transaction with the facts counted
   * there. Pure and quick: the write lock is held while it runs.
   */
  decide(facts: AgentRefundFacts): Decision;
  /** The approval request written when the decision is 'approval'. */
  approval: { id: string; expiresAt: string };
  /** Who confirmed the refund before it was written (in-band confirmation), for its audit event. */
  confirmedBy?: string;
}

/** What `agentRefundFacts` counts: the create's facts as they stand, outside any transaction. */
export interface AgentRefundFactsQuery {
  organizationId: string;
  currency: string;
  transactionId: string;
  /** Start of the rolling budget window. */
  budgetSince: string;
  /** The create's idempotency key, to tell a replay; null for none (and for a preview). */
  idempotencyKey: string | null;
}

export type AgentRefundResult =
  /** Created: submitted as usual (`approval` null), or held for a person (`approval` set). */
  | { outcome: 'created'; refund: Refund; approval: ApprovalRequest | null }
  /** The idempotency key was used before: that refund, untouched, and no decision taken. */
  | { outcome: 'replayed'; refund: Refund; fingerprint: string | null }
  /** Refused by the policy: nothing was written. */
  | { outcome: 'denied'; decision: Extract<Decision, { outcome: 'deny' }> };

export interface ApprovalDecision {
  organizationId: string;
  approvalId: string;
  status: Exclude<ApprovalStatus, 'requested'>;
  /** operator:NAME, key:KEY_ID or system (an expiry). */
  decidedBy: string;
  at: string;
  note: string | null;
  /** Who the refund's audit event names. */
  actor: Actor;
}

export type ApprovalDecisionResult =
  | { ok: true; approval: ApprovalRequest; refund: Refund }
  /** The request is no longer open, or its refund is no longer pending: nothing changed. */
  | { ok: false; approval: ApprovalRequest | null; refund: Refund | null };

/** A policy decision about an existing refund that changed nothing (a refused cancel), for its audit trail. */
export interface PolicyDecisionRecord {
  organizationId: string;
  refundId: string;
  actor: Actor;
  at: string;
  detail: string;
}

export interface ApprovalFilter {
  status?: ApprovalStatus;
  /** Oldest first: the queue of open requests, in the order they came. */
  oldestFirst?: boolean;
}

/** An agent write the policy refused before anything was created (see recordRefusal). */
export interface PolicyRefusal {
  organizationId: string;
  keyId: string;
  at: string;
  /** denied: by a rule of the policy; not_confirmed: the person at the client did not confirm. */
  outcome: 'denied' | 'not_confirmed';
  rule: string;
  message: string;
  transactionId: string;
  amount: number;
  currency: string;
  reason: string;
}

export interface GuardrailStore {
  /** The organization's policy, or null when none was ever set (the caller applies the default). */
  policy(organizationId: string): Promise<StoredPolicy | null>;
  setPolicy(organizationId: string, policy: AgentPolicy, updatedBy: string, at: string): Promise<StoredPolicy>;
  /**
   * Creates an agent's refund under the policy, atomically: an idempotency replay returns the
   * first refund; otherwise the facts are counted, `decide` is called, and the refund is written
   * (held with its approval request, when the decision says so) or nothing is.
   */
  createAgentRefund(request: AgentRefundRequest): Promise<AgentRefundResult>;
  /**
   * The facts `createAgentRefund` counts inside its transaction, read on their own (no lock, no
   * write), and whether the idempotency key was used already (a replay): what preview_refund shows,
   * and what decides whether to ask a person before a create. A hint only: the create counts again.
   */
  agentRefundFacts(query: AgentRefundFactsQuery): Promise<AgentRefundFacts & { replay: boolean }>;
  findApproval(organizationId: string, approvalId: string): Promise<ApprovalRequest | null>;
  approvalForRefund(organizationId: string, refundId: string): Promise<ApprovalRequest | null>;
  /** Newest first, unless the filter asks for the oldest first. */
  listApprovals(organizationId: string, filter: ApprovalFilter, limit: number): Promise<ApprovalRequest[]>;
  /**
   * Decides an open request and applies it to its held refund, atomically: approved sets the
   * refund due for submission at `at`; rejected and expired cancel it. Each writes an audit event.
   */
  decideApproval(decision: ApprovalDecision): Promise<ApprovalDecisionResult>;
  /** Open requests past their expiry (any organization), oldest expiry first. */
  dueApprovalExpiries(now: string, limit: number): Promise<Array<{ organizationId: string; id: string }>>;
  /**
   * Appends an audit event that changes no status (from and to are the refund's current status).
   * False when there is no such refund.
   */
  recordDecision(record: PolicyDecisionRecord): Promise<boolean>;
  /**
   * Records an agent's create that the policy (or the person asked) refused: no refund exists to
   * carry the event, and every policy decision must be on record. Append-only.
   */
  recordRefusal(refusal: PolicyRefusal): Promise<void>;
  /** The organization's refusals, newest first. */
  listRefusals(organizationId: string, limit: number): Promise<PolicyRefusal[]>;
  /** The API key that created the refund; null for the CLI, the dashboard, seeds, or no such refund. */
  refundCreator(organizationId: string, refundId: string): Promise<string | null>;
}
