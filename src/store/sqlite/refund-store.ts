/**
 * Refunds and their audit events in SQLite. Every status change is one IMMEDIATE transaction:
 * a conditional UPDATE (`WHERE status = from`) that must change exactly one row, then the event.
 * Each method of the port is one such unit of work, done at once (better-sqlite3 is synchronous)
 * and answered as a promise.
 *
 * The texts we compose from what a processor or a caller said (event details, last errors) are
 * masked on the way in, as log lines are: a processor error that quotes a key must not put it in
 * the database file, its backups and copies. The caller's own data (metadata, transaction id,
 * idempotency key) is kept as given: it is theirs, it is returned to them and sent to the
 * processor as is, and changing it would break idempotency and their records.
 */
import type {
  Claim,
  ClaimRelease,
  CreateResult,
  Discrepancy,
  ListFilter,
  Page,
  RefundDraft,
  RefundEvent,
  RefundStore,
  SeedStep,
  StatusChange,
  SubmissionState,
} from '../../domain/ports.js';
import { canTransition, type Actor, type Refund } from '../../domain/refund.js';
import { redact } from '../../redact.js';
import type { SqliteDatabase } from './database.js';
import { promised } from './promised.js';
import { SqliteDiscrepancies } from './discrepancies.js';
import { toEvent, toRefund, type EventRow, type RefundRow } from './refund-rows.js';
import {
  CLAIM_FOR_CANCEL,
  CLAIM_FOR_SUBMISSION,
  CREATE,
  dueForSubmissionSql,
  dueForSyncSql,
  EVENTS,
  FIND_BY_EXTERNAL_ID,
  FIND_BY_ID,
  FIND_BY_IDEMPOTENCY_KEY,
  INSERT,
  listSql,
  RELEASE_CLAIM,
  SCHEDULE_SYNC,
  SUBMISSION_STATE,
  TRANSITION,
} from './refund-sql.js';
import { SqliteStatements } from './refund-statements.js';
import { DEFERRED_JOIN_FROM_OFFSET } from '../paging.js';

export type { RefundEvent } from '../../domain/ports.js';

type Due = Array<{ organizationId: string; id: string }>;

export class SqliteRefundStore extends SqliteStatements implements RefundStore {
  /** The late-landing watch and the discrepancy list (discrepancies.ts). */
  private readonly late: SqliteDiscrepancies;

  constructor(db: SqliteDatabase) {
    super(db);
    this.late = new SqliteDiscrepancies(db);
  }

  findById(organizationId: string, refundId: string): Promise<Refund | null> {
    return promised(() => this.read(organizationId, refundId));
  }

  findByExternalId(processor: string, externalRefundId: string): Promise<Refund | null> {
    return promised(() => {
      const row = this.statement(FIND_BY_EXTERNAL_ID, true).get(processor, externalRefundId) as RefundRow | undefined;
      return row === undefined ? null : toRefund(row);
    });
  }

  list(organizationId: string, filter: ListFilter, page: Page): Promise<Refund[]> {
    return promised(() => {
      const where = ['organization_id = @organizationId'];
      if (filter.status !== undefined) where.push('status = @status');
      if (filter.processor !== undefined) where.push('processor = @processor');
      const deep = page.offset >= DEFERRED_JOIN_FROM_OFFSET;
      const key = `list:${deep ? 'deep:' : ''}${where.join(' AND ')}`;
      const statement = this.statement(() => listSql(where.join(' AND '), deep), true, key);
      const rows = statement.all({
        organizationId,
        status: filter.status,
        processor: filter.processor,
        limit: page.limit,
        offset: page.offset,
      }) as RefundRow[];
      return rows.map(toRefund);
    });
  }

  events(organizationId: string, refundId: string): Promise<RefundEvent[]> {
    return promised(() => {
      const rows = this.statement(EVENTS).all(refundId, organizationId) as EventRow[];
      return rows.map(toEvent);
    });
  }

  transition(change: StatusChange): Promise<Refund | null> {
    return promised(() => {
      if (!canTransition(change.from, change.to)) {
        throw new Error(`illegal refund status transition ${change.from} -> ${change.to}`);
      }
      const update = this.statement(TRANSITION);
      const run = this.db.transaction((c: StatusChange): boolean => {
        const result = update.run({
          to: c.to,
          at: c.at,
          externalRefundId: c.externalRefundId ?? null,
          refundId: c.refundId,
          organizationId: c.organizationId,
          from: c.from,
          claimToken: c.claimToken ?? null,
          neverSubmitted: c.neverSubmitted === true ? 1 : 0,
          setSync: c.nextSyncAt === undefined ? 0 : 1,
          nextSyncAt: c.nextSyncAt ?? null,
          setWatch: c.lateLandingWatch === undefined ? 0 : 1,
          watchNextAt: c.lateLandingWatch?.nextAt ?? null,
          watchUntil: c.lateLandingWatch?.until ?? null,
        });
        if (result.changes !== 1) return false;
        this.appendEvent(c.refundId, c.organizationId, c.from, c.to, c.actor, c.at, c.detail ?? null);
        return true;
      });
      // IMMEDIATE: take the write lock up front, so a second process waits (busy timeout) rather
      // than failing to upgrade a read lock.
      return run.immediate(change) ? this.read(change.organizationId, change.refundId) : null;
    });
  }

  create(draft: RefundDraft): Promise<CreateResult> {
    return promised(() => {
      const findByKey = this.statement(FIND_BY_IDEMPOTENCY_KEY);
      const insert = this.statement(CREATE);
      const run = this.db.transaction((d: RefundDraft): { created: boolean; id: string; fingerprint: string | null } => {
        if (d.idempotencyKey !== null) {
          const existing = findByKey.get(d.organizationId, d.idempotencyKey) as
            | { id: string; request_fingerprint: string | null }
            | undefined;
          if (existing !== undefined) return { created: false, id: existing.id, fingerprint: existing.request_fingerprint };
        }
        insert.run({ ...d, metadata: d.metadata === null ? null : JSON.stringify(d.metadata), createdByKeyId: d.createdByKeyId ?? null });
        const detail = d.submitAt === null ? 'created; held until cancelled' : `created; submission due at ${d.submitAt}`;
        this.appendEvent(d.id, d.organizationId, null, 'pending', d.initiatedBy, d.createdAt, detail);
        return { created: true, id: d.id, fingerprint: d.requestFingerprint };
      });
      const outcome = run.immediate(draft);
      const refund = this.read(draft.organizationId, outcome.id);
      if (refund === null) throw new Error(`refund ${outcome.id} vanished after create`);
      return outcome.created ? { created: true, refund } : { created: false, refund, fingerprint: outcome.fingerprint };
    });
  }

  insert(refund: Refund, options: { actor?: Actor; detail?: string | null; history?: readonly SeedStep[] } = {}): Promise<Refund> {
    return promised(() => {
      const history = options.history ?? [];
      let from = history.length === 0 ? refund.status : 'pending';
      for (const step of history) {
        if (!canTransition(from, step.to)) throw new Error(`illegal refund status transition ${from} -> ${step.to}`);
        from = step.to;
      }
      if (from !== refund.status) throw new Error(`refund ${refund.id}: its history ends in ${from}, not ${refund.status}`);
      const insert = this.statement(INSERT);
      this.db
        .transaction(() => {
          insert.run({ ...refund, metadata: refund.metadata === null ? null : JSON.stringify(refund.metadata) });
          const first = history.length === 0 ? refund.status : 'pending';
          this.appendEvent(refund.id, refund.organizationId, null, first, options.actor ?? refund.initiatedBy, refund.createdAt, options.detail ?? null);
          let status = first;
          for (const step of history) {
            this.appendEvent(refund.id, refund.organizationId, status, step.to, step.actor, step.at, step.detail ?? null);
            status = step.to;
          }
        })
        .immediate();
      const stored = this.read(refund.organizationId, refund.id);
      if (stored === null) throw new Error(`refund ${refund.id} vanished after insert`);
      return stored;
    });
  }

  claimForSubmission(refundId: string, token: string, now: string, leaseUntil: string): Promise<Claim | null> {
    return promised(() => {
      const claim = this.statement(CLAIM_FOR_SUBMISSION);
      const row = this.db
        .transaction(() => claim.get({ refundId, token, now, leaseUntil }) as { organization_id: string; attempts: number } | undefined)
        .immediate();
      if (row === undefined) return null;
      const refund = this.read(row.organization_id, refundId);
      return refund === null ? null : { refund, token, attempt: row.attempts };
    });
  }

  claimForCancel(refundId: string, token: string, now: string, leaseUntil: string, lapsedBefore: string): Promise<Refund | null> {
    return promised(() => {
      const claim = this.statement(CLAIM_FOR_CANCEL);
      const row = this.db
        .transaction(() => claim.get({ refundId, token, now, leaseUntil, lapsedBefore }) as { organization_id: string } | undefined)
        .immediate();
      return row === undefined ? null : this.read(row.organization_id, refundId);
    });
  }

  dueForSubmission(now: string, limit: number, processors: readonly string[]): Promise<Due> {
    return promised(() => this.due(`dueForSubmission:${processors.length}`, dueForSubmissionSql, now, limit, processors));
  }

  releaseClaim(refundId: string, token: string, release: ClaimRelease): Promise<void> {
    return promised(() => {
      this.statement(RELEASE_CLAIM).run({
        refundId,
        token,
        retryAt: release.retryAt ?? null,
        error: release.error === undefined ? null : redact(release.error),
        inDoubtUntil: release.inDoubtUntil ?? null,
        sentNothing: release.sentNothing === true ? 1 : 0,
      });
    });
  }

  submissionState(refundId: string, now: string): Promise<SubmissionState | null> {
    return promised(() => {
      const row = this.statement(SUBMISSION_STATE).get({ refundId, now }) as
        | { attempts: number; claimed: number; in_doubt_until: string | null; lapsed_claim_expired_at: string | null }
        | undefined;
      if (row === undefined) return null;
      return {
        attempts: row.attempts,
        claimed: row.claimed === 1,
        inDoubtUntil: row.in_doubt_until,
        lapsedClaimExpiredAt: row.lapsed_claim_expired_at,
      };
    });
  }

  dueForSync(now: string, limit: number, processors: readonly string[]): Promise<Due> {
    return promised(() => this.due(`dueForSync:${processors.length}`, dueForSyncSql, now, limit, processors));
  }

  scheduleSync(refundId: string, nextSyncAt: string | null): Promise<void> {
    return promised(() => {
      this.statement(SCHEDULE_SYNC).run(nextSyncAt, refundId);
    });
  }

  findForProcessor(processor: string, refundId: string): Promise<Refund | null> {
    return promised(() => this.late.findForProcessor(processor, refundId));
  }

  dueForLateLandingWatch(now: string, limit: number, processors: readonly string[]): Promise<Array<Due[number] & { watchUntil: string }>> {
    return promised(() => this.late.dueForWatch(now, limit, processors));
  }

  scheduleLateLandingWatch(refundId: string, nextAt: string | null): Promise<void> {
    return promised(() => this.late.scheduleWatch(refundId, nextAt));
  }

  recordDiscrepancy(discrepancy: Discrepancy, auditDetail: string): Promise<boolean> {
    return promised(() => this.late.record(discrepancy, auditDetail));
  }

  listDiscrepancies(organizationId?: string): Promise<Discrepancy[]> {
    return promised(() => this.late.list(organizationId));
  }

  private read(organizationId: string, refundId: string): Refund | null {
    const row = this.statement(FIND_BY_ID, true).get(refundId, organizationId) as RefundRow | undefined;
    return row === undefined ? null : toRefund(row);
  }

  /** Due work of these processors only; one statement per number of processors. */
  private due(key: string, sql: (processorCount: number) => string, now: string, limit: number, processors: readonly string[]): Due {
    if (processors.length === 0) return [];
    const params = Object.fromEntries(processors.map((name, i) => [`p${i}`, name]));
    const rows = this.statement(() => sql(processors.length), false, key).all({ now, limit, ...params }) as Array<{
      organization_id: string;
      id: string;
    }>;
    return rows.map((row) => ({ organizationId: row.organization_id, id: row.id }));
  }
}
