/**
 * Agent policies and approval requests in PostgreSQL, and the agent create that applies the policy.
 * The create takes the organization's row lock (FOR NO KEY UPDATE) first, then counts the budget
 * and the transaction's refunds, asks the domain's decision, and writes; a racing create of the
 * same organization, in any process, waits for the lock and then counts this refund too. So no
 * number of processes overshoots a budget, at READ COMMITTED (each statement sees every commit).
 */
import type { ApprovalRequest } from '../../domain/guardrails/approval.js';
import { parseAgentPolicy, type AgentPolicy } from '../../domain/guardrails/policy.js';
import type {
  AgentRefundFacts,
  AgentRefundFactsQuery,
  AgentRefundRequest,
  AgentRefundResult,
  ApprovalDecision,
  ApprovalDecisionResult,
  ApprovalFilter,
  GuardrailStore,
  PolicyDecisionRecord,
  PolicyRefusal,
  StoredPolicy,
} from '../../domain/ports.js';
import { redact } from '../../redact.js';
import { inTransaction, type PgPool } from './database.js';
import {
  APPROVAL_FOR_REFUND,
  BUDGET_USAGE,
  CANCEL_HELD,
  DECIDE_APPROVAL,
  DUE_EXPIRIES,
  FIND_APPROVAL,
  FIND_APPROVAL_FOR_DECISION,
  INSERT_APPROVAL,
  INSERT_REFUSAL,
  LIST_REFUSALS,
  listApprovalsSql,
  POLICY,
  REFUND_CREATOR,
  REFUND_STATUS_FOR_EVENT,
  REFUNDED_ON_TRANSACTION,
  RELEASE_HELD,
  SET_POLICY,
  toApproval,
  type ApprovalRow,
} from './guardrail-sql.js';
import { appendEvent, createParams, findByIdempotencyKey, lockOrganization, readRefund, type Queryable } from './refund-common.js';
import { CREATE } from './refund-sql.js';

type Written =
  | { outcome: 'created'; id: string; approvalId: string | null }
  | { outcome: 'replayed'; id: string; fingerprint: string | null }
  | Extract<AgentRefundResult, { outcome: 'denied' }>;

export class PostgresGuardrailStore implements GuardrailStore {
  constructor(private readonly pool: PgPool) {}

  async policy(organizationId: string): Promise<StoredPolicy | null> {
    const { rows } = await this.pool.query<{ policy: unknown; updated_at: string; updated_by: string }>(POLICY, [organizationId]);
    const row = rows[0];
    if (row === undefined) return null;
    return { policy: parseAgentPolicy(row.policy), updatedAt: row.updated_at, updatedBy: row.updated_by };
  }

  async setPolicy(organizationId: string, policy: AgentPolicy, updatedBy: string, at: string): Promise<StoredPolicy> {
    // Parsed again on the way in: what is stored is always a policy the domain accepts.
    const checked = parseAgentPolicy(policy);
    await this.pool.query(SET_POLICY, [organizationId, JSON.stringify(checked), at, updatedBy]);
    return { policy: checked, updatedAt: at, updatedBy };
  }

  async createAgentRefund(request: AgentRefundRequest): Promise<AgentRefundResult> {
    const { draft } = request;
    const outcome = await inTransaction(this.pool, async (client): Promise<Written> => {
      await lockOrganization(client, draft.organizationId);
      if (draft.idempotencyKey !== null) {
        const existing = await findByIdempotencyKey(client, draft.organizationId, draft.idempotencyKey);
        if (existing !== undefined) return { outcome: 'replayed', id: existing.id, fingerprint: existing.request_fingerprint };
      }
      const decision = request.decide(await facts(client, { ...draft, budgetSince: request.budgetSince }));
      if (decision.outcome === 'deny') return { outcome: 'denied', decision };
      const held = decision.outcome === 'approval';
      await client.query(CREATE, createParams(draft, held ? null : draft.submitAt));
      const confirmed = request.confirmedBy === undefined ? '' : `; confirmed by ${request.confirmedBy}`;
      const detail = held
        ? `created by key ${draft.createdByKeyId}${confirmed}; held for approval ${request.approval.id}: ${decision.message}`
        : `created by key ${draft.createdByKeyId}${confirmed}; within the agent policy; submission due at ${draft.submitAt ?? 'never'}`;
      const base = { refundId: draft.id, organizationId: draft.organizationId, actor: draft.initiatedBy, at: draft.createdAt };
      await appendEvent(client, { ...base, from: null, to: 'pending', detail });
      if (!held) return { outcome: 'created', id: draft.id, approvalId: null };
      await client.query(INSERT_APPROVAL, [
        request.approval.id,
        draft.organizationId,
        draft.id,
        draft.amount,
        draft.currency,
        draft.reason,
        draft.transactionId,
        draft.createdByKeyId,
        decision.rule,
        redact(decision.message),
        request.approval.expiresAt,
        draft.createdAt,
      ]);
      // The request is its own event, so the approval's life reads requested, then decided.
      const requested = `approval ${request.approval.id} requested for key ${draft.createdByKeyId} (rule ${decision.rule}); open until ${request.approval.expiresAt}`;
      await appendEvent(client, { ...base, from: 'pending', to: 'pending', detail: requested });
      return { outcome: 'created', id: draft.id, approvalId: request.approval.id };
    });
    if (outcome.outcome === 'denied') return outcome;
    const refund = await readRefund(this.pool, draft.organizationId, outcome.id);
    if (refund === null) throw new Error(`refund ${outcome.id} vanished after create`);
    if (outcome.outcome === 'replayed') return { outcome: 'replayed', refund, fingerprint: outcome.fingerprint };
    const approval = outcome.approvalId === null ? null : await this.approval(this.pool, draft.organizationId, outcome.approvalId);
    return { outcome: 'created', refund, approval };
  }

  async agentRefundFacts(query: AgentRefundFactsQuery): Promise<AgentRefundFacts & { replay: boolean }> {
    const replay = query.idempotencyKey !== null && (await findByIdempotencyKey(this.pool, query.organizationId, query.idempotencyKey)) !== undefined;
    return { ...(await facts(this.pool, query)), replay };
  }

  findApproval(organizationId: string, approvalId: string): Promise<ApprovalRequest | null> {
    return this.approval(this.pool, organizationId, approvalId);
  }

  async approvalForRefund(organizationId: string, refundId: string): Promise<ApprovalRequest | null> {
    const { rows } = await this.pool.query<ApprovalRow>(APPROVAL_FOR_REFUND, [refundId, organizationId]);
    return rows[0] === undefined ? null : toApproval(rows[0]);
  }

  async listApprovals(organizationId: string, filter: ApprovalFilter, limit: number): Promise<ApprovalRequest[]> {
    const byStatus = filter.status !== undefined;
    const params: unknown[] = [organizationId, limit];
    if (byStatus) params.push(filter.status);
    const { rows } = await this.pool.query<ApprovalRow>(listApprovalsSql(byStatus, filter.oldestFirst === true), params);
    return rows.map(toApproval);
  }

  async decideApproval(decision: ApprovalDecision): Promise<ApprovalDecisionResult> {
    const { organizationId, approvalId, status, at, decidedBy } = decision;
    const ok = await inTransaction(this.pool, async (client): Promise<boolean> => {
      const { rows } = await client.query<ApprovalRow>(FIND_APPROVAL_FOR_DECISION, [approvalId, organizationId]);
      const approval = rows[0] === undefined ? null : toApproval(rows[0]);
      if (approval?.status !== 'requested') return false;
      const refundChange = status === 'approved' ? RELEASE_HELD : CANCEL_HELD;
      const changed = (await client.query(refundChange, [approval.refundId, organizationId, at])).rowCount === 1;
      // A refund already cancelled (its agent withdrew it) can still be rejected or expire: the
      // request is closed so that the expiry pass stops finding it. Nothing else can be decided.
      if (!changed && (status === 'approved' || (await readRefund(client, organizationId, approval.refundId))?.status !== 'cancelled')) return false;
      await client.query(DECIDE_APPROVAL, [approvalId, organizationId, status, decidedBy, at, decision.note]);
      const note = decision.note === null ? '' : `: ${decision.note}`;
      const base = { refundId: approval.refundId, organizationId, actor: decision.actor, at };
      if (!changed) {
        const detail = `approval ${approvalId} ${status} by ${decidedBy}${note}; the refund was already cancelled`;
        await appendEvent(client, { ...base, from: 'cancelled', to: 'cancelled', detail });
        return true;
      }
      const detail =
        status === 'approved'
          ? `approval ${approvalId} approved by ${decidedBy}${note}; submission due at ${at}`
          : `approval ${approvalId} ${status} by ${decidedBy}${note}; cancelled before submission, the processor never saw it`;
      await appendEvent(client, { ...base, from: 'pending', to: status === 'approved' ? 'pending' : 'cancelled', detail });
      return true;
    });
    const approval = await this.approval(this.pool, organizationId, approvalId);
    const refund = approval === null ? null : await readRefund(this.pool, organizationId, approval.refundId);
    if (ok && approval !== null && refund !== null) return { ok: true, approval, refund };
    return { ok: false, approval, refund };
  }

  async dueApprovalExpiries(now: string, limit: number): Promise<Array<{ organizationId: string; id: string }>> {
    const { rows } = await this.pool.query<{ organization_id: string; id: string }>(DUE_EXPIRIES, [now, limit]);
    return rows.map((row) => ({ organizationId: row.organization_id, id: row.id }));
  }

  recordDecision(record: PolicyDecisionRecord): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ status: string }>(REFUND_STATUS_FOR_EVENT, [record.refundId, record.organizationId]);
      const status = rows[0]?.status;
      if (status === undefined) return false;
      await appendEvent(client, {
        refundId: record.refundId,
        organizationId: record.organizationId,
        from: status,
        to: status,
        actor: record.actor,
        at: record.at,
        detail: record.detail,
      });
      return true;
    });
  }

  async recordRefusal(r: PolicyRefusal): Promise<void> {
    await this.pool.query(INSERT_REFUSAL, [
      r.organizationId,
      r.keyId,
      r.at,
      r.outcome,
      r.rule,
      redact(r.message),
      r.transactionId,
      r.amount,
      r.currency,
      r.reason,
    ]);
  }

  async listRefusals(organizationId: string, limit: number): Promise<PolicyRefusal[]> {
    const { rows } = await this.pool.query<PolicyRefusal>(LIST_REFUSALS, [organizationId, limit]);
    return rows.map((row) => ({ ...row }));
  }

  async refundCreator(organizationId: string, refundId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ created_by_key_id: string | null }>(REFUND_CREATOR, [refundId, organizationId]);
    return rows[0]?.created_by_key_id ?? null;
  }

  private async approval(client: Queryable, organizationId: string, approvalId: string): Promise<ApprovalRequest | null> {
    const { rows } = await client.query<ApprovalRow>(FIND_APPROVAL, [approvalId, organizationId]);
    return rows[0] === undefined ? null : toApproval(rows[0]);
  }
}

/** The budget used and what the transaction's refunds took: the create counts these inside its transaction. */
async function facts(client: Queryable, q: AgentRefundFactsQuery): Promise<AgentRefundFacts> {
  const usage = await client.query<{ count: number; amount: number }>(BUDGET_USAGE, [q.organizationId, q.currency, q.budgetSince]);
  const refunded = await client.query<{ refunded: number }>(REFUNDED_ON_TRANSACTION, [q.organizationId, q.transactionId]);
  return {
    usage: { count: usage.rows[0]?.count ?? 0, amount: usage.rows[0]?.amount ?? 0 },
    refunded: refunded.rows[0]?.refunded ?? 0,
  };
}
