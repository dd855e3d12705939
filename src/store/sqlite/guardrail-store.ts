/**
 * Agent policies and approval requests in SQLite, and the agent create that applies the policy.
 * The create is one IMMEDIATE transaction: the write lock is taken first, then the budget and the
 * transaction's refunds are counted, the domain's decision is made on those counts, and the refund
 * (held, with its approval request, when the decision says so) is written; a second process waits
 * for the lock and counts this refund too. So no number of racing processes overshoots a budget.
 */
import type { ApprovalRequest } from '../../domain/guardrails/approval.js';
import { parseAgentPolicy, type AgentPolicy } from '../../domain/guardrails/policy.js';
import type {
  AgentRefundFacts,
  AgentRefundFactsQuery,
  AgentRefundRequest,
  AgentRefundResult,
  ApprovalFilter,
  ApprovalDecision,
  ApprovalDecisionResult,
  GuardrailStore,
  PolicyDecisionRecord,
  PolicyRefusal,
  StoredPolicy,
} from '../../domain/ports.js';
import type { Refund } from '../../domain/refund.js';
import { redact } from '../../redact.js';
import {
  APPROVAL_FOR_REFUND,
  BUDGET_USAGE,
  CANCEL_HELD,
  DECIDE_APPROVAL,
  DUE_EXPIRIES,
  FIND_APPROVAL,
  INSERT_APPROVAL,
  INSERT_REFUSAL,
  LIST_REFUSALS,
  listApprovalsSql,
  POLICY,
  REFUND_CREATOR,
  REFUNDED_ON_TRANSACTION,
  RELEASE_HELD,
  SET_POLICY,
  toApproval,
  type ApprovalRow,
} from './guardrail-sql.js';
import { promised } from './promised.js';
import { toRefund, type RefundRow } from './refund-rows.js';
import { CREATE, FIND_BY_ID, FIND_BY_IDEMPOTENCY_KEY } from './refund-sql.js';
import { SqliteStatements } from './refund-statements.js';

type Written =
  | { outcome: 'created'; id: string; approvalId: string | null }
  | { outcome: 'replayed'; id: string; fingerprint: string | null }
  | Extract<AgentRefundResult, { outcome: 'denied' }>;

export class SqliteGuardrailStore extends SqliteStatements implements GuardrailStore {
  policy(organizationId: string): Promise<StoredPolicy | null> {
    return promised(() => {
      const row = this.statement(POLICY).get(organizationId) as { policy: string; updated_at: string; updated_by: string } | undefined;
      if (row === undefined) return null;
      return { policy: parseAgentPolicy(JSON.parse(row.policy)), updatedAt: row.updated_at, updatedBy: row.updated_by };
    });
  }

  setPolicy(organizationId: string, policy: AgentPolicy, updatedBy: string, at: string): Promise<StoredPolicy> {
    return promised(() => {
      // Parsed again on the way in: what is stored is always a policy the domain accepts.
      const checked = parseAgentPolicy(policy);
      this.statement(SET_POLICY).run({ organizationId, policy: JSON.stringify(checked), updatedAt: at, updatedBy });
      return { policy: checked, updatedAt: at, updatedBy };
    });
  }

  createAgentRefund(request: AgentRefundRequest): Promise<AgentRefundResult> {
    return promised(() => {
      const { draft } = request;
      const run = this.db.transaction((): Written => {
        if (draft.idempotencyKey !== null) {
          const existing = this.statement(FIND_BY_IDEMPOTENCY_KEY).get(draft.organizationId, draft.idempotencyKey) as
            | { id: string; request_fingerprint: string | null }
            | undefined;
          if (existing !== undefined) return { outcome: 'replayed', id: existing.id, fingerprint: existing.request_fingerprint };
        }
        const decision = request.decide(this.facts({ ...draft, budgetSince: request.budgetSince }));
        if (decision.outcome === 'deny') return { outcome: 'denied', decision };
        const held = decision.outcome === 'approval';
        this.statement(CREATE).run({
          ...draft,
          metadata: draft.metadata === null ? null : JSON.stringify(draft.metadata),
          submitAt: held ? null : draft.submitAt,
        });
        const confirmed = request.confirmedBy === undefined ? '' : `; confirmed by ${request.confirmedBy}`;
        const detail = held
          ? `created by key ${draft.createdByKeyId}${confirmed}; held for approval ${request.approval.id}: ${decision.message}`
          : `created by key ${draft.createdByKeyId}${confirmed}; within the agent policy; submission due at ${draft.submitAt ?? 'never'}`;
        this.appendEvent(draft.id, draft.organizationId, null, 'pending', draft.initiatedBy, draft.createdAt, detail);
        if (!held) return { outcome: 'created', id: draft.id, approvalId: null };
        this.statement(INSERT_APPROVAL).run({
          id: request.approval.id,
          organizationId: draft.organizationId,
          refundId: draft.id,
          amount: draft.amount,
          currency: draft.currency,
          reason: draft.reason,
          transactionId: draft.transactionId,
          requestedByKeyId: draft.createdByKeyId,
          rule: decision.rule,
          ruleMessage: redact(decision.message),
          expiresAt: request.approval.expiresAt,
          createdAt: draft.createdAt,
        });
        // The request is its own event, so the approval's life reads requested, then decided.
        this.appendEvent(
          draft.id,
          draft.organizationId,
          'pending',
          'pending',
          draft.initiatedBy,
          draft.createdAt,
          `approval ${request.approval.id} requested for key ${draft.createdByKeyId} (rule ${decision.rule}); open until ${request.approval.expiresAt}`,
        );
        return { outcome: 'created', id: draft.id, approvalId: request.approval.id };
      });
      const outcome = run.immediate();
      if (outcome.outcome === 'denied') return outcome;
      const refund = this.refund(draft.organizationId, outcome.id);
      if (outcome.outcome === 'replayed') return { outcome: 'replayed', refund, fingerprint: outcome.fingerprint };
      const approval = outcome.approvalId === null ? null : this.approval(draft.organizationId, outcome.approvalId);
      return { outcome: 'created', refund, approval };
    });
  }

  agentRefundFacts(query: AgentRefundFactsQuery): Promise<AgentRefundFacts & { replay: boolean }> {
    return promised(() => {
      const replay =
        query.idempotencyKey !== null && this.statement(FIND_BY_IDEMPOTENCY_KEY).get(query.organizationId, query.idempotencyKey) !== undefined;
      return { ...this.facts(query), replay };
    });
  }

  findApproval(organizationId: string, approvalId: string): Promise<ApprovalRequest | null> {
    return promised(() => this.approval(organizationId, approvalId));
  }

  approvalForRefund(organizationId: string, refundId: string): Promise<ApprovalRequest | null> {
    return promised(() => {
      const row = this.statement(APPROVAL_FOR_REFUND).get(refundId, organizationId) as ApprovalRow | undefined;
      return row === undefined ? null : toApproval(row);
    });
  }

  listApprovals(organizationId: string, filter: ApprovalFilter, limit: number): Promise<ApprovalRequest[]> {
    return promised(() => {
      const byStatus = filter.status !== undefined;
      const oldest = filter.oldestFirst === true;
      const rows = this.statement(() => listApprovalsSql(byStatus, oldest), false, `listApprovals:${byStatus}:${oldest}`).all({
        organizationId,
        status: filter.status,
        limit,
      }) as ApprovalRow[];
      return rows.map(toApproval);
    });
  }

  decideApproval(decision: ApprovalDecision): Promise<ApprovalDecisionResult> {
    return promised(() => {
      const { organizationId, approvalId, status, at, decidedBy } = decision;
      const run = this.db.transaction((): boolean => {
        const approval = this.approval(organizationId, approvalId);
        if (approval?.status !== 'requested') return false;
        const refundChange = status === 'approved' ? RELEASE_HELD : CANCEL_HELD;
        const changed = this.statement(refundChange).run({ refundId: approval.refundId, organizationId, at }).changes === 1;
        // A refund already cancelled (its agent withdrew it) can still be rejected or expire: the
        // request is closed so that the expiry pass stops finding it. Nothing else can be decided.
        if (!changed && (status === 'approved' || this.refundOrNull(organizationId, approval.refundId)?.status !== 'cancelled')) return false;
        this.statement(DECIDE_APPROVAL).run({ id: approvalId, organizationId, status, decidedBy, at, note: decision.note });
        const note = decision.note === null ? '' : `: ${decision.note}`;
        if (!changed) {
          const detail = `approval ${approvalId} ${status} by ${decidedBy}${note}; the refund was already cancelled`;
          this.appendEvent(approval.refundId, organizationId, 'cancelled', 'cancelled', decision.actor, at, detail);
          return true;
        }
        const detail =
          status === 'approved'
            ? `approval ${approvalId} approved by ${decidedBy}${note}; submission due at ${at}`
            : `approval ${approvalId} ${status} by ${decidedBy}${note}; cancelled before submission, the processor never saw it`;
        this.appendEvent(approval.refundId, organizationId, 'pending', status === 'approved' ? 'pending' : 'cancelled', decision.actor, at, detail);
        return true;
      });
      const ok = run.immediate();
      const approval = this.approval(organizationId, approvalId);
      const refund = approval === null ? null : this.refundOrNull(organizationId, approval.refundId);
      if (ok && approval !== null && refund !== null) return { ok: true, approval, refund };
      return { ok: false, approval, refund };
    });
  }

  dueApprovalExpiries(now: string, limit: number): Promise<Array<{ organizationId: string; id: string }>> {
    return promised(() => {
      const rows = this.statement(DUE_EXPIRIES).all({ now, limit }) as Array<{ organization_id: string; id: string }>;
      return rows.map((row) => ({ organizationId: row.organization_id, id: row.id }));
    });
  }

  recordDecision(record: PolicyDecisionRecord): Promise<boolean> {
    return promised(() =>
      this.db.transaction((): boolean => {
        const refund = this.refundOrNull(record.organizationId, record.refundId);
        if (refund === null) return false;
        this.appendEvent(refund.id, refund.organizationId, refund.status, refund.status, record.actor, record.at, record.detail);
        return true;
      }).immediate(),
    );
  }

  recordRefusal(refusal: PolicyRefusal): Promise<void> {
    return promised(() => {
      this.statement(INSERT_REFUSAL).run({ ...refusal, message: redact(refusal.message) });
    });
  }

  listRefusals(organizationId: string, limit: number): Promise<PolicyRefusal[]> {
    return promised(() => (this.statement(LIST_REFUSALS).all({ organizationId, limit }) as PolicyRefusal[]).map((row) => ({ ...row })));
  }

  refundCreator(organizationId: string, refundId: string): Promise<string | null> {
    return promised(() => {
      const row = this.statement(REFUND_CREATOR).get(refundId, organizationId) as { created_by_key_id: string | null } | undefined;
      return row?.created_by_key_id ?? null;
    });
  }

  /** The budget used and what the transaction's refunds took: the create counts these inside its transaction. */
  private facts({ organizationId, currency, transactionId, budgetSince }: AgentRefundFactsQuery): AgentRefundFacts {
    const usage = this.statement(BUDGET_USAGE).get({ organizationId, currency, since: budgetSince }) as { count: number; amount: number };
    const { refunded } = this.statement(REFUNDED_ON_TRANSACTION).get({ organizationId, transactionId }) as { refunded: number };
    return { usage: { count: usage.count, amount: usage.amount }, refunded };
  }

  private approval(organizationId: string, approvalId: string): ApprovalRequest | null {
    const row = this.statement(FIND_APPROVAL).get(approvalId, organizationId) as ApprovalRow | undefined;
    return row === undefined ? null : toApproval(row);
  }

  private refundOrNull(organizationId: string, refundId: string): Refund | null {
    const row = this.statement(FIND_BY_ID, true).get(refundId, organizationId) as RefundRow | undefined;
    return row === undefined ? null : toRefund(row);
  }

  private refund(organizationId: string, refundId: string): Refund {
    const refund = this.refundOrNull(organizationId, refundId);
    if (refund === null) throw new Error(`refund ${refundId} vanished after create`);
    return refund;
  }
}
