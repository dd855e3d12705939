/**
 * The one home of every timing rule of the refund domain: the values an operator configures come
 * from the configuration (src/config.ts, the one reader of the environment, holds their
 * defaults); everything else — fixed windows and the durations derived from the processor
 * client's limits — is decided here, in refundSettings(), and nowhere else.
 */

/** Timing rules for submission, status sync and cancellation, all in milliseconds. */
export interface RefundSettings {
  /** Review window between creation and submission; 0 submits inside the create call. */
  holdMs: number;
  /** How long a claim protects a submission in flight; must outlast the processor's timeouts. */
  leaseMs: number;
  /** First retry delay after an outage; it triples with each attempt up to maxRetryMs. */
  retryBaseMs: number;
  maxRetryMs: number;
  /** How often a processing refund's status is read back from its processor. */
  syncIntervalMs: number;
  /**
   * How many submissions (or status reads) one pass has in flight at once. Claims keep each
   * refund to one submitter whatever this is; it only sets how fast a backlog drains.
   */
  concurrency: number;
  /** Completed refunds are re-read this often, for completedWatchMs, to catch late failures. */
  completedRecheckMs: number;
  completedWatchMs: number;
  /**
   * get_refund reads a processing refund's status from its processor first when this process
   * has not read it for this long (0: never; the background loop alone reads statuses).
   */
  refreshAfterMs: number;
  /** How long that read may take before the stored status is answered instead. */
  refreshTimeoutMs: number;
  /** How long a cancel waits for a submission in flight before answering refund_busy. */
  cancelWaitMs: number;
  /**
   * How long after an attempt went unanswered (a timeout, a reset, a 5xx) the processor may still
   * act on it. Until then its "no such refund" proves nothing, so a cancel waits or is refused.
   */
  inDoubtMs: number;
  /**
   * The longest a caller waits for any call (create's submission, cancel, get's status read),
   * whatever the processor does: MCP clients give up at 60 s by default, and an agent that sees a
   * timeout may retry without its idempotency key. Past it the refund is answered as it stands.
   */
  callDeadlineMs: number;
  /**
   * A refund cancelled after an unanswered attempt is looked for at its processor every
   * lateLandingRecheckMs for lateLandingWatchMs, in case the attempt landed after all.
   */
  lateLandingRecheckMs: number;
  lateLandingWatchMs: number;
}

/** What the settings are computed from: the configuration's fields (src/config.ts) by name. */
export interface SettingsSource {
  /** A read-only process records nothing, so get_refund answers the stored status. */
  readOnly: boolean;
  holdSeconds: number;
  syncIntervalSeconds: number;
  dispatchConcurrency: number;
  refreshAfterSeconds: number;
  retryBaseSeconds: number;
  callDeadlineSeconds: number;
  /** The processor client's limits: how long one try may take, and how many retries follow it. */
  stripe: { timeoutMs: number; maxNetworkRetries: number };
}

/**
 * What the processor itself allows for, beyond what is configured: the least time after an
 * unanswered request during which it may still execute it (Stripe: STRIPE_LATE_EXECUTION_FLOOR_MS
 * in processors/stripe.ts). The domain does not know the processor; the composition root does.
 */
export interface ProcessorTiming {
  lateExecutionFloorMs: number;
}

/** Retries after an outage never wait longer than this. */
const MAX_RETRY_MS = 15 * 60_000;
/** A completed refund can still fail at the bank: it is re-read this often, for this long. */
const COMPLETED_RECHECK_MS = 6 * 3_600_000;
const COMPLETED_WATCH_MS = 7 * 24 * 3_600_000;
/** A caller is waiting on get_refund: its status read is short. */
const REFRESH_TIMEOUT_MS = 2_000;
/** A cancel waits this long for a submission in flight (usually quick) before refund_busy. */
const CANCEL_WAIT_MS = 5_000;
/** The shortest claim lease, whatever the client's timeouts. */
const MIN_LEASE_MS = 60_000;
/** A refund cancelled after an unanswered attempt is looked for again this often, for this long. */
const LATE_LANDING_RECHECK_MS = 10 * 60_000;
const LATE_LANDING_WATCH_MS = 24 * 3_600_000;

export function refundSettings(source: SettingsSource, processor: ProcessorTiming): RefundSettings {
  const { timeoutMs, maxNetworkRetries } = source.stripe;
  return {
    holdMs: source.holdSeconds * 1000,
    syncIntervalMs: source.syncIntervalSeconds * 1000,
    concurrency: source.dispatchConcurrency,
    // A read-only process answers the stored status: a read that found a change would record it.
    refreshAfterMs: source.readOnly ? 0 : source.refreshAfterSeconds * 1000,
    retryBaseMs: source.retryBaseSeconds * 1000,
    maxRetryMs: MAX_RETRY_MS,
    completedRecheckMs: COMPLETED_RECHECK_MS,
    completedWatchMs: COMPLETED_WATCH_MS,
    cancelWaitMs: CANCEL_WAIT_MS,
    callDeadlineMs: source.callDeadlineSeconds * 1000,
    lateLandingRecheckMs: LATE_LANDING_RECHECK_MS,
    lateLandingWatchMs: LATE_LANDING_WATCH_MS,
    // Never longer than one try of the client: the read is one try.
    refreshTimeoutMs: Math.min(REFRESH_TIMEOUT_MS, timeoutMs),
    // A claim must outlast every try the client makes, with room to spare.
    leaseMs: Math.max(MIN_LEASE_MS, timeoutMs * (maxNetworkRetries + 1) * 2 + 10_000),
    // A request the processor received may still execute after the client gave up on it. How
    // long is not documented; twice the client's own timeout, and never less than the processor's
    // floor, which does not depend on it (a short client timeout does not make the processor quicker).
    inDoubtMs: Math.max(processor.lateExecutionFloorMs, timeoutMs * 2),
  };
}
