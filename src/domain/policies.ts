/**
 * The operator's side of the guardrails: reading and setting an organization's agent policy, and
 * the queue of approval requests still open. Who may call these is the adapter's rule (the CLI on
 * the host, REST with the admin or approve scope); no MCP tool reaches this module.
 */
import type { RefundContext } from './context.js';
import { errors } from './errors.js';
import { isExpired, type ApprovalRequest } from './guardrails/approval.js';
import { DEFAULT_AGENT_POLICY, type AgentPolicy } from './guardrails/policy.js';
import type { GuardrailStore } from './ports.js';

export interface PolicyView {
  policy: AgentPolicy;
  /** True when the organization never set one: the conservative default applies. */
  isDefault: boolean;
  updatedAt: string | null;
  /** operator:NAME, key:KEY_ID or system; null for the default. */
  updatedBy: string | null;
}

function guardrailsOf(ctx: RefundContext): GuardrailStore {
  if (ctx.guardrails === undefined) throw errors.internal({ cause: new Error('no guardrail store configured') });
  return ctx.guardrails;
}

export async function getPolicy(ctx: RefundContext, organizationId: string): Promise<PolicyView> {
  const stored = await guardrailsOf(ctx).policy(organizationId);
  if (stored === null) return { policy: DEFAULT_AGENT_POLICY, isDefault: true, updatedAt: null, updatedBy: null };
  return { policy: stored.policy, isDefault: false, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
}

/** Replaces the policy (already parsed by the adapter; the store parses it again). */
export async function setPolicy(ctx: RefundContext, organizationId: string, policy: AgentPolicy, updatedBy: string): Promise<PolicyView> {
  const stored = await guardrailsOf(ctx).setPolicy(organizationId, policy, updatedBy, ctx.clock.now().toISOString());
  return { policy: stored.policy, isDefault: false, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
}

/**
 * Requests a person can still decide, oldest first. One past its expiry is left out: deciding it
 * would only record the expiry, which the background pass does anyway.
 */
export async function openApprovals(ctx: RefundContext, organizationId: string, limit: number): Promise<ApprovalRequest[]> {
  const now = ctx.clock.now();
  const requested = await guardrailsOf(ctx).listApprovals(organizationId, { status: 'requested', oldestFirst: true }, limit);
  return requested.filter((approval) => !isExpired(approval, now));
}
