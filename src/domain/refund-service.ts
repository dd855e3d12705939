/**
 * The refund use cases. Adapters validate input at the edge, say who is acting, and call one
 * method here; every business rule lives in this class.
 *
 * Money safety rests on three habits: every status change is conditional on the status we read
 * (so racing writers produce one outcome); a pending refund is only sent to its processor under
 * a claim (so two processes never submit it together); and the processor is always given an
 * idempotency key derived from our refund id (so a retry after a crash cannot refund twice).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { asRefundKitError, errors, type RefundKitError } from './errors.js';
import { newRefundId, randomString } from './ids.js';
import type {
  CallOptions,
  Claim,
  Clock,
  ListFilter,
  ProcessorRegistry,
  RefundProcessor,
  RefundStore,
  SubmissionState,
} from './ports.js';
import { canTransition, type Initiator, type Refund, type RefundStatus } from './refund.js';
import type { CreateRefundInput, ListQuery } from './schemas.js';

/** The caller as the adapter established it: which organization, acting through which channel. */
export interface Caller {
  organizationId: string;
  actor: Initiator;
}

export interface RefundPage {
  refunds: Refund[];
  limit: number;
  offset: number;
  /** The offset of the next page, or null when this page is the last. */
  nextOffset: number | null;
}

/** Timing rules for submission and status sync, all in milliseconds. */
export interface SubmissionPolicy {
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

export const DEFAULT_POLICY: SubmissionPolicy = {
  holdMs: 0,
  leaseMs: 120_000,
  retryBaseMs: 5_000,
  maxRetryMs: 15 * 60_000,
  syncIntervalMs: 60_000,
  concurrency: 4,
  completedRecheckMs: 6 * 3_600_000,
  completedWatchMs: 7 * 24 * 3_600_000,
  cancelWaitMs: 5_000,
  inDoubtMs: 40_000,
  refreshAfterMs: 10_000,
  refreshTimeoutMs: 2_000,
  callDeadlineMs: 15_000,
  lateLandingRecheckMs: 10 * 60_000,
  lateLandingWatchMs: 24 * 3_600_000,
};

/** Bounds the memory of refunds read on request; past it, the oldest are simply read again. */
const MAX_REMEMBERED_READS = 10_000;

export interface RefundServiceDeps {
  store: RefundStore;
  processors: ProcessorRegistry;
  clock: Clock;
  policy?: Partial<SubmissionPolicy>;
  /** Told about faults that do not reach a caller (a background submission that failed). */
  onBackgroundError?: (message: string, detail: Record<string, unknown>) => void;
  /** Told when a processor holds money moving for a refund we hold as cancelled or failed. */
  onDiscrepancy?: (message: string, detail: Record<string, unknown>) => void;
}

export interface PassResult {
  submitted: number;
  synced: number;
  changed: number;
}

/** What a processor told us, unasked, about one of its refunds (a webhook event). */
export interface ProcessorReport {
  processor: string;
  /** The processor's id of the refund (Stripe's re_…). */
  externalRefundId: string;
  /** The status the report carries, already mapped to ours. */
  status: RefundStatus;
  /** Kept in the audit event, e.g. `stripe webhook refund.updated evt_123`. */
  source: string;
  /** Our id, when the processor's copy carries it (Stripe: metadata refundkit_refund_id). */
  refundId?: string;
}

export interface ProcessorReportOutcome {
  /** The refund as it stands after the report. */
  refund: Refund;
  changed: boolean;
  /** Where the status applied came from: a fresh read from the processor, or the report itself. */
  statusFrom: 'processor' | 'report';
  /** The processor holds money moving for a refund we hold as cancelled or failed (recorded). */
  discrepancy: boolean;
}

export class RefundService {
  private readonly store: RefundStore;
  private readonly processors: ProcessorRegistry;
  private readonly clock: Clock;
  private readonly policy: SubmissionPolicy;
  private readonly report: (message: string, detail: Record<string, unknown>) => void;
  private readonly alarm: (message: string, detail: Record<string, unknown>) => void;
  /** Submissions that outlived their caller's deadline and go on under their claim. */
  private readonly detached = new Set<Promise<void>>();
  /** When this process last read a processing refund's status on a caller's behalf (epoch ms). */
  private readonly readOnRequest = new Map<string, number>();
  /** Reads in progress, so that callers asking about one refund at once share one read. */
  private readonly reading = new Map<string, Promise<void>>();

  constructor(deps: RefundServiceDeps) {
    this.store = deps.store;
    this.processors = deps.processors;
    this.clock = deps.clock;
    this.policy = { ...DEFAULT_POLICY, ...deps.policy };
    this.report = deps.onBackgroundError ?? (() => undefined);
    this.alarm = deps.onDiscrepancy ?? this.report;
  }

  get(caller: Caller, refundId: string): Refund {
    const refund = this.store.findById(caller.organizationId, refundId);
    if (refund === null) throw errors.notFound();
    return refund;
  }

  /**
   * get, with a processing refund's status first read from its processor when this process has
   * not read it for refreshAfterMs: an agent watching a refund settle sees what the processor
   * says now, not what the last background read left (up to syncIntervalMs old), with no webhook
   * endpoint needed. The read is one short try (refreshTimeoutMs) and never fails the call: on
   * any fault the stored refund is answered as it stands, and the background loop reads it later.
   */
  async getFresh(caller: Caller, refundId: string): Promise<Refund> {
    const refund = this.get(caller, refundId);
    if (refund.status !== 'processing' || refund.externalRefundId === null || this.policy.refreshAfterMs <= 0) return refund;
    let read = this.reading.get(refund.id);
    if (read === undefined) {
      const lastRead = this.readOnRequest.get(refund.id);
      if (lastRead !== undefined && this.clock.now().getTime() - lastRead < this.policy.refreshAfterMs) return refund;
      const found = this.processors.lookup(refund.processor);
      if (!found.ok) return refund;
      read = this.readOnBehalf(refund, found.processor).finally(() => this.reading.delete(refund.id));
      this.reading.set(refund.id, read);
    }
    await read;
    return this.get(caller, refundId);
  }

  list(caller: Caller, query: ListQuery): RefundPage {
    const filter: ListFilter = {};
    if (query.status !== undefined) filter.status = query.status;
    if (query.processor !== undefined) filter.processor = query.processor;
    // One extra row tells whether another page exists without a COUNT over the whole table.
    const rows = this.store.list(caller.organizationId, filter, { limit: query.limit + 1, offset: query.offset });
    const hasMore = rows.length > query.limit;
    return {
      refunds: hasMore ? rows.slice(0, query.limit) : rows,
      limit: query.limit,
      offset: query.offset,
      nextOffset: hasMore ? query.offset + query.limit : null,
    };
  }

  /**
   * Records a new pending refund and, without a hold window, submits it at once. With an
   * idempotency key, a repeat with the same arguments returns the first refund (as it is now)
   * and creates nothing; the same key with other arguments is idempotency_conflict.
   */
  async create(caller: Caller, input: CreateRefundInput): Promise<Refund> {
    const now = this.clock.now();
    // Only a keyed create can be a replay, so only then do the arguments need a digest.
    const fingerprint = input.idempotencyKey === undefined ? null : fingerprintOf(input);
    const result = this.store.create({
      id: newRefundId(),
      organizationId: caller.organizationId,
      transactionId: input.transactionId,
      amount: input.amount,
      currency: input.currency ?? 'usd',
      reason: input.reason,
      processor: this.processors.defaultProcessor,
      metadata: input.metadata ?? null,
      initiatedBy: caller.actor,
      createdAt: now.toISOString(),
      submitAt: new Date(now.getTime() + this.policy.holdMs).toISOString(),
      idempotencyKey: input.idempotencyKey ?? null,
      requestFingerprint: fingerprint,
    });
    if (!result.created) {
      if (result.fingerprint !== fingerprint) throw errors.idempotencyConflict();
      return result.refund;
    }
    if (this.policy.holdMs > 0) return result.refund;
    const claim = this.store.claimForSubmission(result.refund.id, newClaimToken(), this.nowIso(), this.leaseUntil());
    if (claim !== null) await this.submitWhileCallerWaits(claim);
    return this.get(caller, result.refund.id);
  }

  /**
   * Cancels a pending refund locally, or asks the processor to cancel a processing one. When two
   * callers race, exactly one wins and the other is told the status the winner left.
   *
   * Every path is bounded: waits (for a submission in flight, for a doubt to end, after a lost
   * race) end at a deadline read from the injected clock, and their real pauses add up to at most
   * cancelWaitMs whatever that clock does; processor calls end at the call deadline.
   */
  async cancel(caller: Caller, refundId: string): Promise<Refund> {
    const started = this.clock.now().getTime();
    const callEnds = started + this.policy.callDeadlineMs;
    // Waiting leaves at least half the call's time to the processor call that may follow it.
    const waitEnds = started + Math.min(this.policy.cancelWaitMs, this.policy.callDeadlineMs / 2);
    let paused = 0;
    for (;;) {
      const refund = this.get(caller, refundId);
      if (refund.status === 'processing') return this.cancelAtProcessor(caller, refund, callEnds);
      if (refund.status !== 'pending') throw errors.notCancellable(refund.status);
      const state = this.store.submissionState(refundId, this.nowIso());
      let pauseMs: number;
      let busy: () => RefundKitError = errors.refundBusy;
      if (state?.claimed === true) {
        // A submission is in flight; its outcome decides how to cancel. It is usually quick.
        pauseMs = 100;
      } else if (state !== null && state.attempts > 0) {
        // An unanswered attempt may still land at the processor: a lookup now could miss a refund
        // that exists a moment later, and we would record a cancel the customer's bank never sees.
        const doubtMs = this.doubtRemainingMs(state);
        if (doubtMs > 0) {
          busy = () => errors.refundInDoubt(Math.ceil(doubtMs / 1000));
          if (this.clock.now().getTime() + doubtMs > waitEnds) throw busy();
          pauseMs = Math.max(10, Math.min(doubtMs, 100));
        } else {
          const result = await this.cancelAfterAttempt(caller, refund, callEnds);
          if (result !== null) return result;
          // Taken meanwhile (a dispatcher's retry, another cancel): look again.
          pauseMs = 50;
        }
      } else {
        const cancelled = this.store.transition({
          organizationId: caller.organizationId,
          refundId,
          from: 'pending',
          to: 'cancelled',
          actor: caller.actor,
          at: this.nowIso(),
          detail: 'cancelled before submission; the processor never saw it',
          neverSubmitted: true,
        });
        if (cancelled !== null) return cancelled;
        // Lost a race (cancelled, or claimed for submission meanwhile): look again after a pause.
        pauseMs = 50;
      }
      if (this.clock.now().getTime() >= waitEnds || paused + pauseMs > this.policy.cancelWaitMs) throw busy();
      paused += pauseMs;
      await sleep(pauseMs);
    }
  }

  /**
   * Submits every pending refund that is due, in this process. Safe to run in many processes.
   * Only refunds of the processors configured here are taken: another process (one with that
   * processor's credentials) submits the others, and this one leaves them exactly as they are.
   */
  async submitDue(limit = 50): Promise<number> {
    let submitted = 0;
    const batch = this.store.dueForSubmission(this.nowIso(), limit, this.processors.names());
    await eachConcurrently(batch, this.policy.concurrency, async (due) => {
      const claim = this.store.claimForSubmission(due.id, newClaimToken(), this.nowIso(), this.leaseUntil());
      if (claim === null) return; // another process took it
      await this.submitClaimed(claim);
      submitted += 1;
    });
    return submitted;
  }

  /**
   * Reads back the status of refunds whose sync is due and records any change; like submitDue,
   * only for the processors configured here, leaving the others' schedule to their processes.
   */
  async syncDue(limit = 50): Promise<{ synced: number; changed: number }> {
    let synced = 0;
    let changed = 0;
    const batch = this.store.dueForSync(this.nowIso(), limit, this.processors.names());
    await eachConcurrently(batch, this.policy.concurrency, async (due) => {
      const refund = this.store.findById(due.organizationId, due.id);
      if (refund === null) return;
      const found = this.processors.lookup(refund.processor);
      // Not selected unless its processor is here; were one to slip through, it is left untouched.
      if (!found.ok) return;
      try {
        const remote = await found.processor.retrieve(refund);
        synced += 1;
        if (this.applyProcessorStatus(refund, remote.status, `status read from ${refund.processor}${remote.detail === undefined ? '' : `: ${remote.detail}`}`)) {
          changed += 1;
        }
      } catch (error) {
        this.report('status sync failed', { refundId: refund.id, error: asRefundKitError(error).message });
        this.store.scheduleSync(refund.id, this.after(this.policy.syncIntervalMs));
      }
    });
    return { synced, changed };
  }

  /** One pass of background work: submissions first, then status reads. */
  async runPass(limit = 50): Promise<PassResult> {
    const submitted = await this.submitDue(limit);
    const { synced, changed } = await this.syncDue(limit);
    await this.watchLateLandings(limit);
    return { submitted, synced, changed };
  }

  /**
   * Records what a processor reports about a refund it holds (a webhook). Reports can be late,
   * repeated or out of order, so the processor is asked for the refund's status now and that is
   * what is recorded; only when it cannot be asked (an outage, or no credentials here) is the
   * report's own status used, and then the status machine still refuses any move backwards.
   * Returns null when no refund of ours has that processor id.
   */
  async applyProcessorReport(report: ProcessorReport): Promise<ProcessorReportOutcome | null> {
    const refund = this.store.findByExternalId(report.processor, report.externalRefundId);
    if (refund === null) {
      const ours = report.refundId === undefined ? null : this.store.findForProcessor(report.processor, report.refundId);
      if (ours === null) return null;
      // A refund of ours the processor holds but we have not linked yet: the answer to its
      // submission is being recorded right now (or was lost, and the next attempt finds it).
      // Taken as news about nothing, the report would be lost; refund_busy has it sent again.
      if (ours.status === 'pending') throw errors.refundBusy();
      return this.applyUnlinkedReport(ours, report);
    }
    let status = report.status;
    let statusFrom: ProcessorReportOutcome['statusFrom'] = 'report';
    let detail = `${report.source}: status ${report.status} from the event`;
    const found = this.processors.lookup(refund.processor);
    if (found.ok) {
      try {
        const remote = await found.processor.retrieve(refund);
        status = remote.status;
        statusFrom = 'processor';
        detail = `${report.source}: status read from ${refund.processor}${remote.detail === undefined ? '' : `: ${remote.detail}`}`;
      } catch (error) {
        this.report('status read after a processor report failed; using the report', {
          refundId: refund.id,
          error: asRefundKitError(error).message,
        });
        detail = `${report.source}: status ${report.status} from the event (reading it from ${refund.processor} failed)`;
      }
    }
    const changed = this.applyProcessorStatus(refund, status, detail);
    const now = this.store.findById(refund.organizationId, refund.id) ?? refund;
    // Only a fresh read proves money moving now: an event's own status may be stale news, and
    // the status machine is right to refuse it.
    const remote = { externalRefundId: report.externalRefundId, status };
    const discrepancy = statusFrom === 'processor' && isDiscrepancy(now, remote);
    if (discrepancy) this.noteDiscrepancy(now, remote, report.source);
    return { refund: now, changed, statusFrom, discrepancy };
  }

  /**
   * Looks again, at their processor, for refunds cancelled after an unanswered attempt: such an
   * attempt can still land after the in-doubt window (nothing documents how late a processor may
   * execute a request it received). A refund found there is recorded as a discrepancy. Returns how
   * many were found this pass.
   */
  async watchLateLandings(limit = 50): Promise<number> {
    let found = 0;
    await eachConcurrently(this.store.dueForLateLandingWatch(this.nowIso(), limit, this.processors.names()), this.policy.concurrency, async (due) => {
      const next = this.after(this.policy.lateLandingRecheckMs);
      const nextAt = next <= due.watchUntil ? next : null;
      const refund = this.store.findById(due.organizationId, due.id);
      const lookup = refund === null ? null : this.processors.lookup(refund.processor);
      if (refund === null || lookup === null || !lookup.ok) {
        this.store.scheduleLateLandingWatch(due.id, refund === null ? null : nextAt);
        return;
      }
      try {
        const remote = await lookup.processor.findSubmitted(refund);
        if (remote !== null && isDiscrepancy(refund, remote) && this.noteDiscrepancy(refund, remote, 'late-landing watch')) found += 1;
      } catch (error) {
        this.report('late-landing lookup failed; will look again', { refundId: refund.id, error: asRefundKitError(error).message });
      }
      this.store.scheduleLateLandingWatch(refund.id, nextAt);
    });
    return found;
  }

  /**
   * Waits (up to `timeoutMs`) for submissions that outlived their caller's deadline to record
   * their outcome: a shutdown calls it before closing the store.
   */
  async settleDetached(timeoutMs = this.policy.leaseMs): Promise<void> {
    if (this.detached.size === 0) return;
    await within(Promise.allSettled([...this.detached]), timeoutMs);
  }

  /**
   * Records a status the processor reports (a status read, a webhook). Illegal or stale moves
   * are ignored; returns whether the refund changed.
   */
  applyProcessorStatus(refund: Refund, status: RefundStatus, detail: string): boolean {
    const current = this.store.findById(refund.organizationId, refund.id) ?? refund;
    if (current.status === status) {
      this.store.scheduleSync(current.id, this.nextSyncFor(current));
      return false;
    }
    if (!canTransition(current.status, status)) {
      // Stale or out-of-order news never moves a refund backwards; a real disagreement is logged.
      this.report('processor status ignored: not a legal move', { refundId: current.id, from: current.status, to: status, detail });
      this.store.scheduleSync(current.id, this.nextSyncFor(current));
      return false;
    }
    const moved = this.store.transition({
      organizationId: current.organizationId,
      refundId: current.id,
      from: current.status,
      to: status,
      actor: 'system',
      at: this.nowIso(),
      detail,
      nextSyncAt: this.nextSyncFor({ status, updatedAt: this.nowIso() }),
    });
    if (moved === null) this.store.scheduleSync(current.id, this.nextSyncFor(current));
    return moved !== null;
  }

  private async readOnBehalf(refund: Refund, processor: RefundProcessor): Promise<void> {
    if (this.readOnRequest.size >= MAX_REMEMBERED_READS) this.readOnRequest.clear();
    this.readOnRequest.set(refund.id, this.clock.now().getTime());
    const timeoutMs = Math.min(this.policy.refreshTimeoutMs, processorShare(this.policy.callDeadlineMs));
    try {
      // The processor bounds its own request; the race bounds one that does not answer at all.
      const read = await within(processor.retrieve(refund, { timeoutMs }), Math.min(timeoutMs + graceFor(timeoutMs), this.policy.callDeadlineMs));
      if (!read.done) throw errors.processorUnavailable(refund.processor);
      const remote = read.value;
      // An unchanged status writes nothing: a read on request must stay a read.
      if (remote.status !== refund.status) {
        const detail = `status read from ${refund.processor} on request${remote.detail === undefined ? '' : `: ${remote.detail}`}`;
        this.applyProcessorStatus(refund, remote.status, detail);
      }
    } catch (error) {
      this.report('status read on request failed; answering with the stored status', {
        refundId: refund.id,
        error: asRefundKitError(error).message,
      });
    }
  }

  /**
   * Submits inside the caller's call, for at most callDeadlineMs: past it the caller is answered
   * with the refund still pending while the submission goes on under its claim and records its
   * outcome. Should this process die first, its claim lapses into doubt and another retries it.
   */
  private async submitWhileCallerWaits(claim: Claim): Promise<void> {
    const submission = this.submitClaimed(claim, { timeoutMs: processorShare(this.policy.callDeadlineMs) });
    if ((await within(submission, this.policy.callDeadlineMs)).done) return;
    this.report('submission outlived the call deadline; it goes on under its claim', {
      refundId: claim.refund.id,
      attempt: claim.attempt,
      deadlineMs: this.policy.callDeadlineMs,
    });
    const tracked: Promise<void> = submission
      .catch((error: unknown) => {
        this.report('submission after the call deadline failed', { refundId: claim.refund.id, error: asRefundKitError(error).message });
      })
      .finally(() => this.detached.delete(tracked));
    this.detached.add(tracked);
  }

  private async submitClaimed(claim: Claim, options: CallOptions = {}): Promise<void> {
    const { refund, token, attempt } = claim;
    const found = this.processors.lookup(refund.processor);
    if (!found.ok) {
      // Only create() can get here (submitDue selects nothing it cannot submit). Nothing was
      // sent, so the refund goes back exactly as it was: due now, with no attempt, no error and
      // no later retry, for a process that has the processor to submit; and a cancel stays local.
      this.store.releaseClaim(refund.id, token, { sentNothing: true });
      this.report('submission left to a process with the processor', {
        refundId: refund.id,
        reason: `processor '${refund.processor}' is not configured here: ${found.hint}`,
      });
      return;
    }
    let outcome;
    try {
      outcome = await found.processor.submit(refund, attempt, options);
    } catch (error) {
      const failure = asRefundKitError(error);
      const delay = Math.min(this.policy.maxRetryMs, this.policy.retryBaseMs * 3 ** (attempt - 1));
      // Whatever failed, the processor may have received the refund and act on it after we gave
      // up; until inDoubtMs has passed, a cancel cannot trust a lookup that finds nothing.
      this.store.releaseClaim(refund.id, token, {
        retryAt: this.after(delay),
        error: failure.message,
        inDoubtUntil: this.after(this.policy.inDoubtMs),
      });
      this.report('submission failed; will retry', { refundId: refund.id, attempt, error: failure.message, retryInMs: delay });
      return;
    }
    const moved =
      outcome.kind === 'rejected'
        ? this.store.transition({
            organizationId: refund.organizationId,
            refundId: refund.id,
            from: 'pending',
            to: 'failed',
            actor: 'system',
            at: this.nowIso(),
            detail: `rejected by ${refund.processor}: ${outcome.reason}`,
            claimToken: token,
            nextSyncAt: null,
          })
        : this.recordAtProcessor(
            refund,
            token,
            outcome,
            `submitted to ${refund.processor} as ${outcome.externalRefundId}${outcome.detail === undefined ? '' : `: ${outcome.detail}`}`,
          );
    if (moved === null) {
      // Our claim ran out while the processor answered and someone else took over; the next
      // holder finds the processor's refund through findSubmitted, so nothing is lost.
      this.report('submission outcome not recorded: claim lost', { refundId: refund.id, attempt });
    }
  }

  private async cancelAtProcessor(caller: Caller, refund: Refund, callEnds: number, processor?: RefundProcessor): Promise<Refund> {
    let target = processor;
    if (target === undefined) {
      const found = this.processors.lookup(refund.processor);
      if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
      target = found.processor;
    }
    const timeoutMs = callEnds - this.clock.now().getTime();
    if (timeoutMs <= 0) throw errors.processorUnavailable(refund.processor);
    const answer = await within(target.cancel(refund, { timeoutMs: processorShare(timeoutMs) }), timeoutMs);
    if (!answer.done) {
      // Unanswered in time: nothing is recorded here, and whatever the processor makes of the
      // request, the status read (or a webhook) brings it; a retry of the cancel finds it.
      this.report('cancel at the processor outlived the call deadline', { refundId: refund.id, deadlineMs: this.policy.callDeadlineMs });
      throw errors.processorUnavailable(refund.processor);
    }
    const outcome = answer.value;
    if (outcome.accepted || outcome.status === 'cancelled') {
      const cancelled = this.store.transition({
        organizationId: caller.organizationId,
        refundId: refund.id,
        from: refund.status,
        to: 'cancelled',
        actor: caller.actor,
        at: this.nowIso(),
        detail: `cancellation accepted by ${refund.processor}`,
        nextSyncAt: null,
      });
      if (cancelled !== null) return cancelled;
      throw errors.notCancellable(this.get(caller, refund.id).status);
    }
    // Refused: record where the refund really stands, then tell the caller the truth.
    this.applyProcessorStatus(refund, outcome.status, `${refund.processor} refused the cancellation: ${outcome.reason}`);
    throw errors.processorRefusedCancel(this.get(caller, refund.id).status);
  }

  /**
   * A pending refund whose earlier submission was interrupted (an outage, a crash) may already
   * exist at the processor. Once no attempt can still land there, hold it against the dispatcher,
   * ask the processor, and cancel whatever is really there. Null when it could not be held.
   */
  private async cancelAfterAttempt(caller: Caller, refund: Refund, callEnds: number): Promise<Refund | null> {
    const found = this.processors.lookup(refund.processor);
    if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
    const timeoutMs = callEnds - this.clock.now().getTime();
    if (timeoutMs <= 0) throw errors.processorUnavailable(refund.processor);
    const token = newClaimToken();
    const held = this.store.claimForCancel(refund.id, token, this.nowIso(), this.leaseUntil(), this.after(-this.policy.inDoubtMs));
    if (held === null) return null;
    let remote;
    try {
      const lookup = await within(found.processor.findSubmitted(held, { timeoutMs: processorShare(timeoutMs) }), timeoutMs);
      // A lookup that does not answer in time proves nothing; its late answer is not used.
      if (!lookup.done) throw errors.processorUnavailable(refund.processor);
      remote = lookup.value;
    } catch (error) {
      // A lookup creates nothing, so its failure leaves no doubt behind.
      this.store.releaseClaim(refund.id, token, { error: asRefundKitError(error).message });
      throw error;
    }
    if (remote === null) {
      const cancelled = this.store.transition({
        organizationId: caller.organizationId,
        refundId: refund.id,
        from: 'pending',
        to: 'cancelled',
        actor: caller.actor,
        at: this.nowIso(),
        detail: `cancelled; ${refund.processor} confirmed it never received the refund`,
        claimToken: token,
        // Confirmed as far as anyone can tell; should the attempt land after all, the watch sees it.
        lateLandingWatch: { nextAt: this.after(this.policy.lateLandingRecheckMs), until: this.after(this.policy.lateLandingWatchMs) },
      });
      if (cancelled !== null) return cancelled;
      throw errors.notCancellable(this.get(caller, refund.id).status);
    }
    const adopted = this.recordAtProcessor(
      held,
      token,
      remote,
      `found at ${refund.processor} as ${remote.externalRefundId} after an interrupted submission`,
    );
    if (adopted === null) throw errors.refundBusy();
    if (adopted.status === 'processing') return this.cancelAtProcessor(caller, adopted, callEnds, found.processor);
    throw errors.notCancellable(adopted.status);
  }

  /**
   * A report naming one of our refunds (by our id) under a processor id we do not hold: the
   * refund was cancelled or failed here (or holds another processor id) while the processor made
   * it. Acknowledged, never refund_busy: waiting would not change it, and a processor retrying
   * for days would hide it. The processor's own copy is read when it can be; a report signed by
   * the processor proves the refund exists there all the same.
   */
  private async applyUnlinkedReport(ours: Refund, report: ProcessorReport): Promise<ProcessorReportOutcome> {
    let remote = { externalRefundId: report.externalRefundId, status: report.status };
    let statusFrom: ProcessorReportOutcome['statusFrom'] = 'report';
    const found = this.processors.lookup(ours.processor);
    if (found.ok) {
      try {
        const read = await found.processor.retrieve({ ...ours, externalRefundId: report.externalRefundId });
        remote = { externalRefundId: report.externalRefundId, status: read.status };
        statusFrom = 'processor';
      } catch (error) {
        this.report('status read after a processor report failed; using the report', { refundId: ours.id, error: asRefundKitError(error).message });
      }
    }
    const discrepancy = isDiscrepancy(ours, remote);
    if (discrepancy) this.noteDiscrepancy(ours, remote, report.source);
    return { refund: this.store.findById(ours.organizationId, ours.id) ?? ours, changed: false, statusFrom, discrepancy };
  }

  /**
   * Records that the processor holds money moving for a refund we hold otherwise, without moving
   * the refund (the status machine forbids leaving cancelled or failed, and a silent flip would
   * hide the mismatch): an audit event, a row in the discrepancy list, an error-level alarm.
   * Returns whether it was news (the same processor refund in the same status is recorded once).
   */
  private noteDiscrepancy(refund: Refund, remote: { externalRefundId: string; status: RefundStatus }, source: string): boolean {
    const second = refund.externalRefundId !== null && refund.externalRefundId !== remote.externalRefundId;
    const what = second
      ? `${refund.processor} holds a second refund ${remote.externalRefundId} (${remote.status}) for this refund, recorded as ${refund.externalRefundId ?? ''}`
      : `${refund.processor} holds ${remote.externalRefundId} as ${remote.status} while this refund is ${refund.status}`;
    const news = this.store.recordDiscrepancy(
      {
        organizationId: refund.organizationId,
        refundId: refund.id,
        processor: refund.processor,
        externalRefundId: remote.externalRefundId,
        ourStatus: refund.status,
        processorStatus: remote.status,
        source,
        detectedAt: this.nowIso(),
      },
      `discrepancy: ${what}; found by ${source}. The status is left as recorded: money may have moved, an operator must reconcile it`,
    );
    if (news) {
      this.alarm('discrepancy: the processor holds money moving for a refund we hold otherwise', {
        refundId: refund.id,
        organizationId: refund.organizationId,
        status: refund.status,
        processor: refund.processor,
        externalRefundId: remote.externalRefundId,
        processorStatus: remote.status,
        source,
      });
    }
    return news;
  }

  /**
   * Records, under our claim, that the processor holds a pending refund: its id there and its
   * status (a processor's own "pending" is our processing), with the status read scheduled.
   */
  private recordAtProcessor(
    refund: Refund,
    claimToken: string,
    remote: { externalRefundId: string; status: RefundStatus },
    detail: string,
  ): Refund | null {
    const at = this.nowIso();
    const to = remote.status === 'pending' ? 'processing' : remote.status;
    return this.store.transition({
      organizationId: refund.organizationId,
      refundId: refund.id,
      from: 'pending',
      to,
      actor: 'system',
      at,
      detail,
      externalRefundId: remote.externalRefundId,
      claimToken,
      nextSyncAt: this.nextSyncFor({ status: to, updatedAt: at }),
    });
  }

  /**
   * How long, from now, an earlier attempt may still take effect at the processor: one that went
   * unanswered, or one whose process died holding the claim (it may have sent its request).
   */
  private doubtRemainingMs(state: SubmissionState): number {
    const ends = Math.max(
      state.inDoubtUntil === null ? 0 : Date.parse(state.inDoubtUntil),
      state.lapsedClaimExpiredAt === null ? 0 : Date.parse(state.lapsedClaimExpiredAt) + this.policy.inDoubtMs,
    );
    return ends - this.clock.now().getTime();
  }

  /** When the processor should next be asked about a refund in this status, if ever. */
  private nextSyncFor(refund: { status: RefundStatus; updatedAt: string }): string | null {
    if (refund.status === 'processing') return this.after(this.policy.syncIntervalMs);
    if (refund.status === 'completed') {
      const watchEnds = Date.parse(refund.updatedAt) + this.policy.completedWatchMs;
      const next = this.clock.now().getTime() + this.policy.completedRecheckMs;
      return next <= watchEnds ? new Date(next).toISOString() : null;
    }
    return null;
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }

  private after(ms: number): string {
    return new Date(this.clock.now().getTime() + ms).toISOString();
  }

  private leaseUntil(): string {
    return this.after(this.policy.leaseMs);
  }
}

/**
 * How much sooner than the caller's own timer a processor call is told to end: the processor
 * then ends by itself and its outcome is recorded inside the call; the timer only catches a call
 * that ignores its timeout.
 */
function graceFor(ms: number): number {
  return Math.min(500, ms / 10);
}

/** Of `ms` a caller waits, what the processor call gets (see graceFor). */
function processorShare(ms: number): number {
  return Math.max(1, ms - graceFor(ms));
}

/** The processor statuses in which money moves, or is about to. */
function movesMoney(status: RefundStatus): boolean {
  return status === 'processing' || status === 'completed';
}

/**
 * The processor holds money moving for a refund we hold as cancelled or failed, or holds a
 * second refund for one of ours.
 */
function isDiscrepancy(refund: Refund, remote: { externalRefundId: string; status: RefundStatus }): boolean {
  if (!movesMoney(remote.status)) return false;
  if (refund.externalRefundId !== null && refund.externalRefundId !== remote.externalRefundId) return true;
  return refund.status === 'cancelled' || refund.status === 'failed';
}

/**
 * `promise`'s value, or done: false once `ms` have passed first (real time). A rejection before
 * then is thrown; one after is handled here and goes nowhere (the caller chose not to wait).
 */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `work` for every item with at most `limit` in flight, and resolves once all have settled.
 * Every item gets its turn even when one fails; the first failure is thrown at the end.
 */
async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
}

function newClaimToken(): string {
  return randomString(16);
}

/** The same arguments give the same digest, whatever order metadata keys came in. */
function fingerprintOf(input: CreateRefundInput): string {
  const metadata = input.metadata === undefined ? null : Object.fromEntries(Object.entries(input.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const canonical = JSON.stringify([input.transactionId, input.amount, input.currency ?? 'usd', input.reason, metadata]);
  return createHash('sha256').update(canonical).digest('hex');
}
