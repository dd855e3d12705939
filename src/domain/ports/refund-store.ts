/**
 * The refund store port: what the domain needs from a database to keep refunds.
 */
import type { Actor, Initiator, Refund, RefundMetadata, RefundReason, RefundStatus } from '../refund.js';

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
  /** The API key whose caller created it; null or absent for the CLI, the dashboard, a seed. */
  createdByKeyId?: string | null;
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

/** A refund's audit event, as the store keeps it. */
export interface RefundEvent {
  id: number;
  refundId: string;
  organizationId: string;
  from: RefundStatus | null;
  to: RefundStatus;
  initiatedBy: Actor;
  createdAt: string;
  detail: string | null;
}

/** One step of a seeded refund's history, after its creation event. */
export interface SeedStep {
  to: RefundStatus;
  actor: Actor;
  at: string;
  detail?: string | null;
}

/**
 * Refunds and their audit trail. Every method is one atomic operation of the database (a read, a
 * claim, a guarded status change with its event, a create under its idempotency key), so that
 * the domain never needs a transaction of its own and any database with conditional writes can
 * implement it. The shared contract suite (test/store/contract/) says what each must do.
 */
export interface RefundStore {
  findById(organizationId: string, refundId: string): Promise<Refund | null>;
  /** The refund a processor knows by its own id (any organization: the processor's id is unique). */
  findByExternalId(processor: string, externalRefundId: string): Promise<Refund | null>;
  /** Newest first. Returns up to `page.limit` rows starting at `page.offset`. */
  list(organizationId: string, filter: ListFilter, page: Page): Promise<Refund[]>;
  /** The refund's audit trail, oldest first. */
  events(organizationId: string, refundId: string): Promise<RefundEvent[]>;
  /**
   * Moves a refund from `change.from` to `change.to` and appends its audit event, atomically,
   * only if the refund is still in `change.from` (and, for a pending refund, no submission holds
   * it unless `change.claimToken` is that submission's). Returns the updated refund, or null
   * when another writer got there first (the caller re-reads and decides). An illegal move
   * rejects before anything is written.
   */
  transition(change: StatusChange): Promise<Refund | null>;
  /**
   * Inserts the refund with its creation event, unless the organization already has a refund with
   * the same idempotency key: then returns that one, untouched, with its fingerprint.
   */
  create(refund: RefundDraft): Promise<CreateResult>;
  /**
   * Writes a refund as it is, in any status, with its audit trail, atomically: for seeding demo
   * and test data (refunds that callers create go through create()). Without `history` the one
   * creation event is in the refund's status, by `actor` (default: its initiator) with `detail`;
   * with it, the creation event is `pending` and each step follows, and must end in the status.
   */
  insert(refund: Refund, options?: { actor?: Actor; detail?: string | null; history?: readonly SeedStep[] }): Promise<Refund>;
  /** Atomically claims one pending refund for submission, if it is due and nobody holds it. */
  claimForSubmission(refundId: string, token: string, now: string, leaseUntil: string): Promise<Claim | null>;
  /**
   * Pending refunds due for submission (any organization), oldest first, of these processors only:
   * a process never takes work it cannot do, and another processor's backlog never hides its own.
   */
  dueForSubmission(now: string, limit: number, processors: readonly string[]): Promise<Array<{ organizationId: string; id: string }>>;
  /**
   * Claims a pending refund so that no dispatcher submits it while a cancellation checks it; null
   * when someone holds it, an unanswered attempt is still in doubt, or a lapsed claim ran out at
   * or after `lapsedBefore`.
   */
  claimForCancel(refundId: string, token: string, now: string, leaseUntil: string, lapsedBefore: string): Promise<Refund | null>;
  /** Gives a claimed refund back after an attempt that did not finish; a stale token changes nothing. */
  releaseClaim(refundId: string, token: string, release: ClaimRelease): Promise<void>;
  /** What is known of a pending refund's submission: attempts, a claim in flight, doubt. */
  submissionState(refundId: string, now: string): Promise<SubmissionState | null>;
  /** Refunds of these processors whose status should be read back now (any organization). */
  dueForSync(now: string, limit: number, processors: readonly string[]): Promise<Array<{ organizationId: string; id: string }>>;
  /** Records that a refund's status was read and when to read it next (null: stop). */
  scheduleSync(refundId: string, nextSyncAt: string | null): Promise<void>;
  /**
   * The refund with this id whatever its organization, if its processor is `processor`: for a
   * processor's own report naming one of our refunds (Stripe metadata refundkit_refund_id).
   */
  findForProcessor(processor: string, refundId: string): Promise<Refund | null>;
  /** Refunds whose late-landing watch is due (any organization), with when the watch ends. */
  dueForLateLandingWatch(
    now: string,
    limit: number,
    processors: readonly string[],
  ): Promise<Array<{ organizationId: string; id: string; watchUntil: string }>>;
  /** When to look for a late landing next; null ends the watch. */
  scheduleLateLandingWatch(refundId: string, nextAt: string | null): Promise<void>;
  /**
   * Records a discrepancy once (again the same processor refund in the same status is no news):
   * the row in the discrepancy list, an audit event that leaves the status as it is, and the
   * processor's id on the refund if it has none, atomically. Resolves to whether it was news.
   */
  recordDiscrepancy(discrepancy: Discrepancy, auditDetail: string): Promise<boolean>;
  /** Discrepancies found, oldest first; of one organization, or of all (the operator's list). */
  listDiscrepancies(organizationId?: string): Promise<Discrepancy[]>;
}
