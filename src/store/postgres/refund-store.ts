/**
 * Refunds and their audit events in PostgreSQL. Each method of the port is one transaction (most
 * are one statement): a guarded UPDATE that must match the row and writes its event in the same
 * statement, a claim that is one conditional UPDATE, a create that waits on the organization's row
 * lock and inserts under the unique idempotency index. READ COMMITTED is enough for each: PostgreSQL
 * re-checks an UPDATE's WHERE on the row a concurrent writer committed (docs/postgres.md).
 *
 * Texts we compose (event details, last errors) are masked on the way in, as in SQLite; the
 * caller's own data (metadata, transaction id, idempotency key) is kept as given.
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
import { inTransaction, type PgPool } from './database.js';
import { PostgresDiscrepancies } from './discrepancies.js';
import { appendEvent, createParams, findByIdempotencyKey, lockOrganization, readRefund, type Due } from './refund-common.js';
import {
  CLAIM_FOR_CANCEL,
  CLAIM_FOR_SUBMISSION,
  CREATE,
  DUE_FOR_SUBMISSION,
  DUE_FOR_SYNC,
  EVENTS,
  FIND_BY_EXTERNAL_ID,
  INSERT,
  listSql,
  RELEASE_CLAIM,
  SCHEDULE_SYNC,
  SUBMISSION_STATE,
  TRANSITION,
} from './refund-sql.js';
import { toEvent, toRefund, type EventRow, type RefundRow } from './rows.js';
import { DEFERRED_JOIN_FROM_OFFSET } from '../paging.js';

export class PostgresRefundStore implements RefundStore {
  /** The late-landing watch and the discrepancy list (discrepancies.ts). */
  private readonly late: PostgresDiscrepancies;

  constructor(private readonly pool: PgPool) {
    this.late = new PostgresDiscrepancies(pool);
  }

  findById(organizationId: string, refundId: string): Promise<Refund | null> {
    return readRefund(this.pool, organizationId, refundId);
  }

  async findByExternalId(processor: string, externalRefundId: string): Promise<Refund | null> {
    const { rows } = await this.pool.query<RefundRow>(FIND_BY_EXTERNAL_ID, [processor, externalRefundId]);
    return rows[0] === undefined ? null : toRefund(rows[0]);
  }

  async list(organizationId: string, filter: ListFilter, page: Page): Promise<Refund[]> {
    const params: unknown[] = [organizationId, page.limit, page.offset];
    if (filter.status !== undefined) params.push(filter.status);
    if (filter.processor !== undefined) params.push(filter.processor);
    const deep = page.offset >= DEFERRED_JOIN_FROM_OFFSET;
    const { rows } = await this.pool.query<RefundRow>(listSql(filter.status !== undefined, filter.processor !== undefined, deep), params);
    return rows.map(toRefund);
  }

  async events(organizationId: string, refundId: string): Promise<RefundEvent[]> {
    const { rows } = await this.pool.query<EventRow>(EVENTS, [refundId, organizationId]);
    return rows.map(toEvent);
  }

  async transition(c: StatusChange): Promise<Refund | null> {
    if (!canTransition(c.from, c.to)) throw new Error(`illegal refund status transition ${c.from} -> ${c.to}`);
    // One statement is one transaction: the change and its event commit together or not at all.
    const { rowCount } = await this.pool.query(TRANSITION, [
      c.to,
      c.at,
      c.externalRefundId ?? null,
      c.refundId,
      c.organizationId,
      c.from,
      c.claimToken ?? null,
      c.neverSubmitted === true,
      c.nextSyncAt !== undefined,
      c.nextSyncAt ?? null,
      c.lateLandingWatch !== undefined,
      c.lateLandingWatch?.nextAt ?? null,
      c.lateLandingWatch?.until ?? null,
      c.actor,
      c.detail == null ? null : redact(c.detail),
    ]);
    return rowCount === 1 ? readRefund(this.pool, c.organizationId, c.refundId) : null;
  }

  async create(draft: RefundDraft): Promise<CreateResult> {
    const outcome = await inTransaction(this.pool, async (client) => {
      // Creates of one organization queue here, as agent creates do (guardrail-store.ts), so that
      // an agent's count of a transaction's refunds never misses one being written beside it.
      await lockOrganization(client, draft.organizationId);
      const { rows } = await client.query<{ id: string }>(CREATE, createParams(draft, draft.submitAt));
      if (rows.length === 0 && draft.idempotencyKey !== null) {
        const existing = await findByIdempotencyKey(client, draft.organizationId, draft.idempotencyKey);
        if (existing === undefined) throw new Error(`refund with idempotency key of ${draft.id} vanished`);
        return { created: false, id: existing.id, fingerprint: existing.request_fingerprint };
      }
      const detail = draft.submitAt === null ? 'created; held until cancelled' : `created; submission due at ${draft.submitAt}`;
      await appendEvent(client, {
        refundId: draft.id,
        organizationId: draft.organizationId,
        from: null,
        to: 'pending',
        actor: draft.initiatedBy,
        at: draft.createdAt,
        detail,
      });
      return { created: true, id: draft.id, fingerprint: draft.requestFingerprint };
    });
    const refund = await readRefund(this.pool, draft.organizationId, outcome.id);
    if (refund === null) throw new Error(`refund ${outcome.id} vanished after create`);
    return outcome.created ? { created: true, refund } : { created: false, refund, fingerprint: outcome.fingerprint };
  }

  async insert(refund: Refund, options: { actor?: Actor; detail?: string | null; history?: readonly SeedStep[] } = {}): Promise<Refund> {
    const history = options.history ?? [];
    let from = history.length === 0 ? refund.status : 'pending';
    for (const step of history) {
      if (!canTransition(from, step.to)) throw new Error(`illegal refund status transition ${from} -> ${step.to}`);
      from = step.to;
    }
    if (from !== refund.status) throw new Error(`refund ${refund.id}: its history ends in ${from}, not ${refund.status}`);
    await inTransaction(this.pool, async (client) => {
      await client.query(INSERT, [
        refund.id,
        refund.organizationId,
        refund.externalRefundId,
        refund.transactionId,
        refund.amount,
        refund.currency,
        refund.reason,
        refund.status,
        refund.processor,
        refund.metadata === null ? null : JSON.stringify(refund.metadata),
        refund.initiatedBy,
        refund.createdAt,
        refund.updatedAt,
      ]);
      const first = history.length === 0 ? refund.status : 'pending';
      const base = { refundId: refund.id, organizationId: refund.organizationId };
      await appendEvent(client, { ...base, from: null, to: first, actor: options.actor ?? refund.initiatedBy, at: refund.createdAt, detail: options.detail ?? null });
      let status: string = first;
      for (const step of history) {
        await appendEvent(client, { ...base, from: status, to: step.to, actor: step.actor, at: step.at, detail: step.detail ?? null });
        status = step.to;
      }
    });
    const stored = await readRefund(this.pool, refund.organizationId, refund.id);
    if (stored === null) throw new Error(`refund ${refund.id} vanished after insert`);
    return stored;
  }

  async claimForSubmission(refundId: string, token: string, now: string, leaseUntil: string): Promise<Claim | null> {
    const { rows } = await this.pool.query<{ organization_id: string; attempts: number }>(CLAIM_FOR_SUBMISSION, [refundId, token, now, leaseUntil]);
    const row = rows[0];
    if (row === undefined) return null;
    const refund = await readRefund(this.pool, row.organization_id, refundId);
    return refund === null ? null : { refund, token, attempt: row.attempts };
  }

  async claimForCancel(refundId: string, token: string, now: string, leaseUntil: string, lapsedBefore: string): Promise<Refund | null> {
    const { rows } = await this.pool.query<{ organization_id: string }>(CLAIM_FOR_CANCEL, [refundId, token, now, leaseUntil, lapsedBefore]);
    const row = rows[0];
    return row === undefined ? null : readRefund(this.pool, row.organization_id, refundId);
  }

  dueForSubmission(now: string, limit: number, processors: readonly string[]): Promise<Due> {
    return this.due(DUE_FOR_SUBMISSION, now, limit, processors);
  }

  async releaseClaim(refundId: string, token: string, release: ClaimRelease): Promise<void> {
    await this.pool.query(RELEASE_CLAIM, [
      refundId,
      token,
      release.retryAt ?? null,
      release.error === undefined ? null : redact(release.error),
      release.inDoubtUntil ?? null,
      release.sentNothing === true,
    ]);
  }

  async submissionState(refundId: string, now: string): Promise<SubmissionState | null> {
    const { rows } = await this.pool.query<{
      attempts: number;
      claimed: boolean;
      in_doubt_until: string | null;
      lapsed_claim_expired_at: string | null;
    }>(SUBMISSION_STATE, [refundId, now]);
    const row = rows[0];
    if (row === undefined) return null;
    return { attempts: row.attempts, claimed: row.claimed, inDoubtUntil: row.in_doubt_until, lapsedClaimExpiredAt: row.lapsed_claim_expired_at };
  }

  dueForSync(now: string, limit: number, processors: readonly string[]): Promise<Due> {
    return this.due(DUE_FOR_SYNC, now, limit, processors);
  }

  async scheduleSync(refundId: string, nextSyncAt: string | null): Promise<void> {
    await this.pool.query(SCHEDULE_SYNC, [nextSyncAt, refundId]);
  }

  findForProcessor(processor: string, refundId: string): Promise<Refund | null> {
    return this.late.findForProcessor(processor, refundId);
  }

  dueForLateLandingWatch(now: string, limit: number, processors: readonly string[]): Promise<Array<Due[number] & { watchUntil: string }>> {
    return this.late.dueForWatch(now, limit, processors);
  }

  scheduleLateLandingWatch(refundId: string, nextAt: string | null): Promise<void> {
    return this.late.scheduleWatch(refundId, nextAt);
  }

  recordDiscrepancy(discrepancy: Discrepancy, auditDetail: string): Promise<boolean> {
    return this.late.record(discrepancy, auditDetail);
  }

  listDiscrepancies(organizationId?: string): Promise<Discrepancy[]> {
    return this.late.list(organizationId);
  }

  /** Due work of these processors only. */
  private async due(sql: string, now: string, limit: number, processors: readonly string[]): Promise<Due> {
    if (processors.length === 0) return [];
    const { rows } = await this.pool.query<{ organization_id: string; id: string }>(sql, [now, limit, [...processors]]);
    return rows.map((row) => ({ organizationId: row.organization_id, id: row.id }));
  }
}
