/**
 * The refund use cases behind one object, so that adapters hold one thing and call one method:
 * get/getFresh/list (queries.ts), create (create.ts), cancel (cancel.ts), the background work
 * (dispatcher.ts), processor reports (processor-reports.ts) and the discrepancies both find
 * (discrepancies.ts). Each lives in its own module and
 * shares one context (context.ts); the timing rules come from settings.ts. Adapters validate
 * input at the edge, say who is acting, and await one method here.
 *
 * Money safety rests on three habits: every status change is conditional on the status we read
 * (so racing writers produce one outcome); a pending refund is only sent to its processor under
 * a claim (so two processes never submit it together); and the processor is always given an
 * idempotency key derived from our refund id (so a retry after a crash cannot refund twice).
 */
import { approvalForRefund, decideApproval, getApproval, listApprovals, type DecidedApproval } from './approvals.js';
import { cancelRefund } from './cancel.js';
import { createContext, type Caller, type ContextDeps, type RefundContext } from './context.js';
import { createRefund } from './create.js';
import { watchLateLandings } from './discrepancies.js';
import { runPass, submitDue, syncDue, type PassResult } from './dispatcher.js';
import { applyProcessorReport, type ProcessorReport, type ProcessorReportOutcome } from './processor-reports.js';
import { FreshReads, getRefund, listRefunds, type RefundPage } from './queries.js';
import { applyProcessorStatus } from './processor-status.js';
import { refundAudit, type RefundAudit } from './audit.js';
import { getPolicy, openApprovals, setPolicy, type PolicyView } from './policies.js';
import type { AgentPolicy } from './guardrails/policy.js';
import { previewRefund, type RefundPreview, type RefundProposal } from './preview.js';
import type { ApprovalRequest, ApprovalStatus, ApprovalVerdict, Decider } from './guardrails/approval.js';
import type { Refund, RefundStatus } from './refund.js';
import type { CreateRefundInput, ListQuery } from './schemas.js';
import { settleDetached } from './submission.js';

export type { DecidedApproval } from './approvals.js';
export type { RefundAudit } from './audit.js';
export type { PolicyView } from './policies.js';
export type { Caller } from './context.js';
export type { PassResult } from './dispatcher.js';
export type { RefundPreview, RefundProposal } from './preview.js';
export type { ProcessorReport, ProcessorReportOutcome } from './processor-reports.js';
export type { RefundPage } from './queries.js';
export type { RefundSettings } from './settings.js';

export type RefundServiceDeps = ContextDeps;

export class RefundService {
  private readonly ctx: RefundContext;
  private readonly fresh: FreshReads;

  constructor(deps: RefundServiceDeps) {
    this.ctx = createContext(deps);
    this.fresh = new FreshReads(this.ctx);
  }

  get(caller: Caller, refundId: string): Promise<Refund> {
    return getRefund(this.ctx, caller, refundId);
  }

  /** get, with a processing refund's status read from its processor first (see FreshReads). */
  getFresh(caller: Caller, refundId: string): Promise<Refund> {
    return this.fresh.get(caller, refundId);
  }

  list(caller: Caller, query: ListQuery): Promise<RefundPage> {
    return listRefunds(this.ctx, caller, query);
  }

  create(caller: Caller, input: CreateRefundInput): Promise<Refund> {
    return createRefund(this.ctx, caller, input);
  }

  cancel(caller: Caller, refundId: string): Promise<Refund> {
    return cancelRefund(this.ctx, caller, refundId);
  }

  /** A refund's audit events and approval request (audit.ts). */
  events(caller: Caller, refundId: string): Promise<RefundAudit> {
    return refundAudit(this.ctx, caller, refundId);
  }

  /** What the agent policy would say about a refund, changing nothing (preview.ts). */
  preview(caller: Caller, proposal: RefundProposal): Promise<RefundPreview> {
    return previewRefund(this.ctx, caller, proposal);
  }

  /** Approval requests of an organization, newest first (approvals.ts). */
  listApprovals(organizationId: string, status: ApprovalStatus | undefined, limit: number): Promise<ApprovalRequest[]> {
    return listApprovals(this.ctx, organizationId, status, limit);
  }

  /** Open approval requests a person can still decide, oldest first (policies.ts). */
  openApprovals(organizationId: string, limit: number): Promise<ApprovalRequest[]> {
    return openApprovals(this.ctx, organizationId, limit);
  }

  /** The organization's agent policy, or the default when it never set one. */
  policy(organizationId: string): Promise<PolicyView> {
    return getPolicy(this.ctx, organizationId);
  }

  /** Sets the agent policy; an operator's act, never offered to an MCP tool. */
  setPolicy(organizationId: string, policy: AgentPolicy, updatedBy: string): Promise<PolicyView> {
    return setPolicy(this.ctx, organizationId, policy, updatedBy);
  }

  /** The approval request of one of the caller's refunds, or null when it never needed one. */
  approvalForRefund(caller: Caller, refundId: string): Promise<ApprovalRequest | null> {
    return approvalForRefund(this.ctx, caller, refundId);
  }

  getApproval(organizationId: string, approvalId: string): Promise<ApprovalRequest> {
    return getApproval(this.ctx, organizationId, approvalId);
  }

  /** A person's verdict on an open approval request; never offered to an MCP tool. */
  decideApproval(organizationId: string, approvalId: string, verdict: ApprovalVerdict, decider: Decider, note?: string): Promise<DecidedApproval> {
    return decideApproval(this.ctx, organizationId, approvalId, verdict, decider, note);
  }

  submitDue(limit?: number): Promise<number> {
    return submitDue(this.ctx, limit);
  }

  syncDue(limit?: number): Promise<{ synced: number; changed: number }> {
    return syncDue(this.ctx, limit);
  }

  runPass(limit?: number): Promise<PassResult> {
    return runPass(this.ctx, limit);
  }

  /** Looks for late landings of refunds cancelled after an unanswered attempt (discrepancies.ts). */
  watchLateLandings(limit?: number): Promise<number> {
    return watchLateLandings(this.ctx, limit);
  }

  /**
   * Waits (up to `timeoutMs`, by default the claim lease) for submissions that outlived their
   * caller's deadline to record their outcome: a shutdown calls it before closing the store.
   */
  settleDetached(timeoutMs?: number): Promise<void> {
    return settleDetached(this.ctx, timeoutMs);
  }

  applyProcessorReport(report: ProcessorReport): Promise<ProcessorReportOutcome | null> {
    return applyProcessorReport(this.ctx, report);
  }

  /** Records a status the processor reports; illegal or stale moves are ignored (see processor-status.ts). */
  applyProcessorStatus(refund: Refund, status: RefundStatus, detail: string): Promise<boolean> {
    return applyProcessorStatus(this.ctx, refund, status, detail);
  }
}
