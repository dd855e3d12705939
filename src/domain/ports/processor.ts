/**
 * The payment processor port (Stripe, the sandbox) and the registry that finds one by name.
 */
import type { Refund, RefundStatus } from '../refund.js';

/** What a processor said when asked to cancel a refund it holds. */
export type CancelOutcome =
  | { accepted: true }
  /** Refused: `status` is where the refund really stands at the processor now. */
  | { accepted: false; status: RefundStatus; reason: string };

/** What came of sending a refund to its processor. */
export type SubmitOutcome =
  | { kind: 'submitted'; externalRefundId: string; status: RefundStatus; detail?: string }
  /** The processor refused the refund for good (already refunded, disputed, unknown charge…). */
  | { kind: 'rejected'; reason: string };

export interface ProcessorStatus {
  status: RefundStatus;
  detail?: string;
}

/**
 * How long a processor call may take, from when it is made, when a caller is waiting for it. The
 * processor fits its requests (and its own retries) into that time and throws processor_unavailable
 * once it has run out; absent, its own timeouts apply (the background loop).
 */
export interface CallOptions {
  timeoutMs?: number;
}

export interface RefundProcessor {
  readonly name: string;
  /**
   * Sends the refund to the processor. `attempt > 1` means an earlier attempt may have reached it:
   * the processor must then find that refund rather than create a second one. Throws a
   * `processor_unavailable` RefundKitError on an outage (the refund stays pending).
   */
  submit(refund: Refund, attempt: number, options?: CallOptions): Promise<SubmitOutcome>;
  /**
   * The refund as the processor holds it now. Throws processor_unavailable on an outage, or when
   * `options.timeoutMs` passes first.
   */
  retrieve(refund: Refund, options?: CallOptions): Promise<ProcessorStatus>;
  /**
   * Asks the processor to cancel a refund it holds. Throws a `processor_unavailable`
   * RefundKitError when the processor cannot be reached, so the caller changes nothing.
   */
  cancel(refund: Refund, options?: CallOptions): Promise<CancelOutcome>;
  /**
   * For a pending refund whose earlier submission may have reached the processor: the processor's
   * record of it, or null when it never arrived.
   */
  findSubmitted(refund: Refund, options?: CallOptions): Promise<{ externalRefundId: string; status: RefundStatus } | null>;
  /**
   * What the transaction (a charge or payment intent) took from the customer, in minor units, for
   * the agent policy's per-transaction rule; undefined when the processor cannot tell (unknown
   * transaction, an outage). Optional: a processor without it sends agents' refunds to approval.
   */
  chargedAmount?(transactionId: string, options?: CallOptions): Promise<number | undefined>;
}

export type ProcessorLookup = { ok: true; processor: RefundProcessor } | { ok: false; hint: string };

export interface ProcessorRegistry {
  /** Unknown or unconfigured processors come back with a hint saying what to configure. */
  lookup(name: string): ProcessorLookup;
  /** The processors configured here: the only ones whose refunds this process may work on. */
  names(): readonly string[];
  /** The processor new refunds go to. */
  readonly defaultProcessor: string;
}
