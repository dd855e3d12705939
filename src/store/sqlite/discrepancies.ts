/**
 * The late-landing watch and the discrepancy list in SQLite (migration 005). A refund cancelled
 * after an unanswered submission is looked for at its processor for a while after; when a
 * processor holds money moving for a refund we hold as cancelled or failed, the refund stays as
 * it is and the fact is kept here, once per processor refund and status, with an audit event.
 */
import type { Discrepancy } from '../../domain/ports.js';
import { isRefundStatus, type Refund } from '../../domain/refund.js';
import { COLUMNS, toRefund, type RefundRow } from './refund-rows.js';
import { processorIn } from './refund-sql.js';
import { SqliteStatements } from './refund-statements.js';

const FIND_FOR_PROCESSOR = `SELECT ${COLUMNS} FROM refunds WHERE id = ? AND processor = ?`;

function dueForWatchSql(processorCount: number): string {
  return `SELECT organization_id, id, late_watch_until FROM refunds
    WHERE late_watch_next_at IS NOT NULL AND late_watch_next_at <= @now
      AND ${processorIn(processorCount)}
    ORDER BY late_watch_next_at LIMIT @limit`;
}

/** A watch that ends forgets when it was to end. */
const SCHEDULE_WATCH = `UPDATE refunds SET late_watch_next_at = @nextAt,
    late_watch_until = CASE WHEN @nextAt IS NULL THEN NULL ELSE late_watch_until END
  WHERE id = @refundId`;

const INSERT_DISCREPANCY = `INSERT INTO refund_discrepancies (refund_id, organization_id, processor, external_refund_id, our_status,
    processor_status, source, detected_at)
  VALUES (@refundId, @organizationId, @processor, @externalRefundId, @ourStatus, @processorStatus, @source, @detectedAt)
  ON CONFLICT (refund_id, external_refund_id, processor_status) DO NOTHING`;

/** The status stays: only the processor's id is added, and only where the refund has none. */
const LINK_DISCREPANCY = `UPDATE refunds SET external_refund_id = @externalRefundId
  WHERE id = @refundId AND organization_id = @organizationId AND external_refund_id IS NULL`;

function listSql(ofOrganization: boolean): string {
  return `SELECT refund_id, organization_id, processor, external_refund_id, our_status, processor_status, source, detected_at
    FROM refund_discrepancies${ofOrganization ? ' WHERE organization_id = @organizationId' : ''}
    ORDER BY id`;
}

interface DiscrepancyRow {
  refund_id: string;
  organization_id: string;
  processor: string;
  external_refund_id: string;
  our_status: string;
  processor_status: string;
  source: string;
  detected_at: string;
}

/** Synchronous, one transaction per method; SqliteRefundStore answers them as promises. */
export class SqliteDiscrepancies extends SqliteStatements {
  findForProcessor(processor: string, refundId: string): Refund | null {
    const row = this.statement(FIND_FOR_PROCESSOR, true).get(refundId, processor) as RefundRow | undefined;
    return row === undefined ? null : toRefund(row);
  }

  dueForWatch(now: string, limit: number, processors: readonly string[]): Array<{ organizationId: string; id: string; watchUntil: string }> {
    if (processors.length === 0) return [];
    const params = Object.fromEntries(processors.map((name, i) => [`p${i}`, name]));
    const rows = this.statement(() => dueForWatchSql(processors.length), false, `dueForLateLandingWatch:${processors.length}`).all({
      now,
      limit,
      ...params,
    }) as Array<{ organization_id: string; id: string; late_watch_until: string | null }>;
    return rows.map((row) => ({ organizationId: row.organization_id, id: row.id, watchUntil: row.late_watch_until ?? now }));
  }

  scheduleWatch(refundId: string, nextAt: string | null): void {
    this.statement(SCHEDULE_WATCH).run({ refundId, nextAt });
  }

  record(d: Discrepancy, auditDetail: string): boolean {
    const insert = this.statement(INSERT_DISCREPANCY);
    const link = this.statement(LINK_DISCREPANCY);
    const run = this.db.transaction((row: Discrepancy): boolean => {
      if (insert.run({ ...row, source: row.source.slice(0, 500) }).changes !== 1) return false;
      link.run({ refundId: row.refundId, organizationId: row.organizationId, externalRefundId: row.externalRefundId });
      this.appendEvent(row.refundId, row.organizationId, row.ourStatus, row.ourStatus, 'system', row.detectedAt, auditDetail);
      return true;
    });
    return run.immediate(d);
  }

  list(organizationId?: string): Discrepancy[] {
    const rows = this.statement(listSql(organizationId !== undefined)).all(
      organizationId === undefined ? {} : { organizationId },
    ) as DiscrepancyRow[];
    return rows.map(toDiscrepancy);
  }
}

function toDiscrepancy(row: DiscrepancyRow): Discrepancy {
  if (!isRefundStatus(row.our_status) || !isRefundStatus(row.processor_status)) {
    throw new Error(`discrepancy of ${row.refund_id} has an unknown status`);
  }
  return {
    refundId: row.refund_id,
    organizationId: row.organization_id,
    processor: row.processor,
    externalRefundId: row.external_refund_id,
    ourStatus: row.our_status,
    processorStatus: row.processor_status,
    source: row.source,
    detectedAt: row.detected_at,
  };
}
