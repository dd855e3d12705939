/**
 * What every refund use case shares: the store, the processors, the clock, the settings, and
 * where faults that reach no caller are told. Built once (by the RefundService facade) and handed
 * to each module, so that no module keeps its own copy of a rule or a default.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Confirmation } from './guardrails/confirmation.js';
import { randomString } from './ids.js';
import type { Clock, GuardrailStore, ProcessorRegistry, RefundStore } from './ports.js';
import type { Initiator, RefundStatus } from './refund.js';
import type { RefundSettings } from './settings.js';

/** The caller as the adapter established it: which organization, acting through which channel. */
export interface Caller {
  organizationId: string;
  actor: Initiator;
  /**
   * The API key the caller authenticated with (MCP, REST); absent for the CLI and dashboard. An
   * MCP caller with a key is an agent: its creates and cancels go through the agent policy.
   */
  keyId?: string;
  /** The person acting in the dashboard (`operator:EMAIL`), named in the audit events of what they change. */
  operator?: string;
  /**
   * How the adapter asks the person at the client to confirm an agent's write, when the client
   * can (MCP elicitation). Absent: nobody can be asked, so a write the policy wants confirmed
   * waits for approval (create) or is refused (cancel). It can only narrow what the policy allows.
   */
  confirmation?: Confirmation;
}

export type FaultReporter = (message: string, detail: Record<string, unknown>) => void;

export interface RefundContext {
  readonly store: RefundStore;
  /** Agent policies and approvals; without it (some tests) no agent policy applies. */
  readonly guardrails: GuardrailStore | undefined;
  readonly processors: ProcessorRegistry;
  readonly clock: Clock;
  readonly settings: RefundSettings;
  /** Told about faults that do not reach a caller (a background submission that failed). */
  readonly report: FaultReporter;
  /** Told when a processor holds money moving for a refund we hold as cancelled or failed. */
  readonly alarm: FaultReporter;
  /**
   * Submissions that outlived their caller's deadline and go on under their claim (submission.ts):
   * a shutdown waits for them to record their outcome before the store is closed.
   */
  readonly detached: Set<Promise<void>>;
  /**
   * Waits while a cancel polls a submission in flight. Real time: the claim it waits on is held
   * by real work, whatever the clock says.
   */
  readonly sleep: (ms: number) => Promise<void>;
}

export interface ContextDeps {
  store: RefundStore;
  guardrails?: GuardrailStore;
  processors: ProcessorRegistry;
  clock: Clock;
  settings: RefundSettings;
  onBackgroundError?: FaultReporter;
  onDiscrepancy?: FaultReporter;
  sleep?: (ms: number) => Promise<void>;
}

export function createContext(deps: ContextDeps): RefundContext {
  const report = deps.onBackgroundError ?? (() => undefined);
  return {
    store: deps.store,
    guardrails: deps.guardrails,
    processors: deps.processors,
    clock: deps.clock,
    settings: deps.settings,
    report,
    alarm: deps.onDiscrepancy ?? report,
    detached: new Set(),
    sleep: deps.sleep ?? ((ms) => sleep(ms)),
  };
}

export function nowIso(ctx: RefundContext): string {
  return ctx.clock.now().toISOString();
}

/** The moment `ms` from now on the context's clock, as stored. */
export function after(ctx: RefundContext, ms: number): string {
  return new Date(ctx.clock.now().getTime() + ms).toISOString();
}

export function leaseUntil(ctx: RefundContext): string {
  return after(ctx, ctx.settings.leaseMs);
}

export function newClaimToken(): string {
  return randomString(16);
}

/** When the processor should next be asked about a refund in this status, if ever. */
export function nextSyncFor(ctx: RefundContext, refund: { status: RefundStatus; updatedAt: string }): string | null {
  if (refund.status === 'processing') return after(ctx, ctx.settings.syncIntervalMs);
  if (refund.status === 'completed') {
    const watchEnds = Date.parse(refund.updatedAt) + ctx.settings.completedWatchMs;
    const next = ctx.clock.now().getTime() + ctx.settings.completedRecheckMs;
    return next <= watchEnds ? new Date(next).toISOString() : null;
  }
  return null;
}
