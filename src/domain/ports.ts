/**
 * What the domain needs from the outside world. Adapters (SQLite, Stripe, the sandbox) implement
 * these; the domain never imports them.
 */
import type { Actor, Initiator, Refund, RefundMetadata, RefundReason, RefundStatus } from './refund.js';

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
  /** Only apply the change while this claim holds the refund (the submitting worker's token). */
  claimToken?: string;
  /**
   * Only apply it if no submission was ever started: a refund the processor may have seen must
   * not be cancelled locally.
   */
  neverSubmitted?: boolean;
  /** When the processor should next be asked for this refund's status; null stops asking. */
  nextSyncAt?: string | null;
  /**
   * Keep looking for the refund at its processor until `until`, first at `nextAt`: set when a
   * refund is cancelled after an unanswered attempt, which could still land there (a late landing).
   */
  lateLandingWatch?: { nextAt: string; until: string };
}

/** A refund as it is first written. */
export interface RefundDraft {
  id: string;
  organizationId: string;
  transactionId: string;
  amount: number;
  currency: string;
  reason: RefundReason;
  processor: string;
  metadata: RefundMetadata | null;
  initiatedBy: Initiator;
  createdAt: string;
  /** When the dispatcher may first submit it (created + hold window); null: held until cancelled. */
  submitAt: string | null;
  idempotencyKey: string | null;
  /** A digest of the create arguments, to tell a replay from a conflicting reuse of the key. */
  requestFingerprint: string | null;
}

/** What the dispatcher knows about a pending refund it is about to submit. */
export interface Claim {
  refund: Refund;
  token: string;
  /** 1 for the first submission; more means an earlier attempt may have reached the processor. */
  attempt: number;
}

/** How a claim is given back. */
export interface ClaimRelease {
  /** When the dispatcher may try again (absent: keep the schedule it had). */
  retryAt?: string;
  /** Why the attempt did not finish, kept for operators (absent: keep the one recorded). */
  error?: string;
  /** Nothing was sent: the attempt the claim counted is taken back (attempts - 1). */
  sentNothing?: boolean;
  /**
   * Set when the attempt went unanswered: until then the processor may still act on it, so its
   * "no such refund" proves nothing.
   */
  inDoubtUntil?: string;
}

/** What is known of the submission of a pending refund. */
export interface SubmissionState {
  /** Submissions started; more than 0 means the processor may have seen the refund. */
  attempts: number;
  /** A submission (or a cancel checking one) holds the refund right now. */
  claimed: boolean;
  /** Until then, an attempt that went unanswered may still take effect at the processor. */
  inDoubtUntil: string | null;
  /**
   * When a claim nobody gave back ran out (its process died mid-attempt): that attempt may still
   * take effect for a while after. Null when there is no such claim.
   */
  lapsedClaimExpiredAt: string | null;
}

/** A processor holds money moving (or moved) for a refund we hold as cancelled or failed. */
export interface Discrepancy {
  organizationId: string;
  refundId: string;
  processor: string;
  /** The processor's id of the refund it holds. */
  externalRefundId: string;
  /** Our status when it was found (cancelled or failed; or any, for a second refund of one of ours). */
  ourStatus: RefundStatus;
  /** The processor's status, mapped to ours. */
  processorStatus: RefundStatus;
  /** How it was found, e.g. `stripe webhook refund.created evt_…` or `late-landing watch`. */
  source: string;
  detectedAt: string;
}

export type CreateResult = { created: true; refund: Refund } | { created: false; refund: Refund; fingerprint: string | null };

export interface RefundStore {
  findById(organizationId: string, refundId: string): Refund | null;
  /** The refund a processor knows by its own id (any organization: the processor's id is unique). */
  findByExternalId(processor: string, externalRefundId: string): Refund | null;
  /** Newest first. Returns up to `page.limit` rows starting at `page.offset`. */
  list(organizationId: string, filter: ListFilter, page: Page): Refund[];
  /**
   * Moves a refund from `change.from` to `change.to` and appends its audit event, atomically,
   * only if the refund is still in `change.from` (and, for a pending refund, no submission holds
   * it unless `change.claimToken` is that submission's). Returns the updated refund, or null
   * when another writer got there first (the caller re-reads and decides).
   */
  transition(change: StatusChange): Refund | null;
  /**
   * Inserts the refund with its creation event, unless the organization already has a refund with
   * the same idempotency key: then returns that one, untouched, with its fingerprint.
   */
  create(refund: RefundDraft): CreateResult;
  /** Atomically claims one pending refund for submission, if it is due and nobody holds it. */
  claimForSubmission(refundId: string, token: string, now: string, leaseUntil: string): Claim | null;
  /**
   * Pending refunds due for submission (any organization), oldest first, of these processors only:
   * a process never takes work it cannot do, and another processor's backlog never hides its own.
   */
  dueForSubmission(now: string, limit: number, processors: readonly string[]): Array<{ organizationId: string; id: string }>;
  /**
   * Claims a pending refund so that no dispatcher submits it while a cancellation checks it; null
   * when someone holds it, an unanswered attempt is still in doubt, or a lapsed claim ran out at
   * or after `lapsedBefore`.
   */
  claimForCancel(refundId: string, token: string, now: string, leaseUntil: string, lapsedBefore: string): Refund | null;
  /** Gives a claimed refund back after an attempt that did not finish. */
  releaseClaim(refundId: string, token: string, release: ClaimRelease): void;
  /** What is known of a pending refund's submission: attempts, a claim in flight, doubt. */
  submissionState(refundId: string, now: string): SubmissionState | null;
  /** Refunds of these processors whose status should be read back now (any organization). */
  dueForSync(now: string, limit: number, processors: readonly string[]): Array<{ organizationId: string; id: string }>;
  /** Records that a refund's status was read and when to read it next (null: stop). */
  scheduleSync(refundId: string, nextSyncAt: string | null): void;
  /**
   * The refund with this id whatever its organization, if its processor is `processor`: for a
   * processor's own report naming one of our refunds (Stripe metadata refundkit_refund_id).
   */
  findForProcessor(processor: string, refundId: string): Refund | null;
  /** Refunds whose late-landing watch is due (any organization), with when the watch ends. */
  dueForLateLandingWatch(now: string, limit: number, processors: readonly string[]): Array<{ organizationId: string; id: string; watchUntil: string }>;
  /** When to look for a late landing next; null ends the watch. */
  scheduleLateLandingWatch(refundId: string, nextAt: string | null): void;
  /**
   * Records a discrepancy once (again the same processor refund in the same status is no news):
   * the row in the discrepancy list, an audit event that leaves the status as it is, and the
   * processor's id on the refund if it has none. Returns whether it was news.
   */
  recordDiscrepancy(discrepancy: Discrepancy, auditDetail: string): boolean;
}

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

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
