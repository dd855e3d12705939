/**
 * What the domain needs from the outside world. Adapters (SQLite, Stripe, the sandbox) implement
 * these; the domain never imports them.
 */
import type { Actor, Refund, RefundStatus } from './refund.js';

export interface ListFilter {
  status?: RefundStatus;
  processor?: string;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface StatusChange {
  organizationId: string;
  refundId: string;
  from: RefundStatus;
  to: RefundStatus;
  actor: Actor;
  at: string;
  /** Free text kept in the audit trail, such as the processor's reason for a failure. */
  detail?: string | null;
  /** Set together with the status, for example the processor's refund id at submission. */
  externalRefundId?: string;
}

export interface RefundStore {
  findById(organizationId: string, refundId: string): Refund | null;
  /** Newest first. Returns up to `page.limit` rows starting at `page.offset`. */
  list(organizationId: string, filter: ListFilter, page: Page): Refund[];
  /**
   * Moves a refund from `change.from` to `change.to` and appends its audit event, atomically,
   * only if the refund is still in `change.from`. Returns the updated refund, or null when
   * another writer got there first (the caller re-reads and decides).
   */
  transition(change: StatusChange): Refund | null;
}

/** What a processor said when asked to cancel a refund it holds. */
export type CancelOutcome =
  | { accepted: true }
  /** Refused: `status` is where the refund really stands at the processor now. */
  | { accepted: false; status: RefundStatus; reason: string };

export interface RefundProcessor {
  readonly name: string;
  /**
   * Asks the processor to cancel a refund it holds. Throws a `processor_unavailable`
   * RefundKitError when the processor cannot be reached, so the caller changes nothing.
   */
  cancel(refund: Refund): Promise<CancelOutcome>;
}

export type ProcessorLookup = { ok: true; processor: RefundProcessor } | { ok: false; hint: string };

export interface ProcessorRegistry {
  /** Unknown or unconfigured processors come back with a hint saying what to configure. */
  lookup(name: string): ProcessorLookup;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
