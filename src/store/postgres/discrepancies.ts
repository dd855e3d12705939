/**
 * The late-landing watch and the discrepancy list in PostgreSQL (migration 005): a discrepancy is
 * recorded once per processor refund and status (a unique key), with its audit event, the status
 * left as it is.
 */
import type { Discrepancy } from '../../domain/ports.js';
import { isRefundStatus, type Refund } from '../../domain/refund.js';
import { inTransaction, type PgPool } from './database.js';
import { appendEvent, type Due } from './refund-common.js';
import { DUE_FOR_WATCH, FIND_FOR_PROCESSOR, INSERT_DISCREPANCY, LINK_DISCREPANCY, listDiscrepanciesSql, SCHEDULE_WATCH } from './refund-sql.js';
import { toRefund, type RefundRow } from './rows.js';

export class PostgresDiscrepancies {
  constructor(private readonly pool: PgPool) {}

  async findForProcessor(processor: string, refundId: string): Promise<Refund | null> {
    const { rows } = await this.pool.query<RefundRow>(FIND_FOR_PROCESSOR, [refundId, processor]);
    return rows[0] === undefined ? null : toRefund(rows[0]);
  }

  async dueForWatch(now: string, limit: number, processors: readonly string[]): Promise<Array<Due[number] & { watchUntil: string }>> {
    if (processors.length === 0) return [];
    const { rows } = await this.pool.query<{ organization_id: string; id: string; late_watch_until: string | null }>(DUE_FOR_WATCH, [
      now,
      limit,
      [...processors],
    ]);
    return rows.map((row) => ({ organizationId: row.organization_id, id: row.id, watchUntil: row.late_watch_until ?? now }));
  }

  async scheduleWatch(refundId: string, nextAt: string | null): Promise<void> {
    await this.pool.query(SCHEDULE_WATCH, [refundId, nextAt]);
  }

  record(d: Discrepancy, auditDetail: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const inserted = await client.query(INSERT_DISCREPANCY, [
        d.refundId,
        d.organizationId,
        d.processor,
        d.externalRefundId,
        d.ourStatus,
        d.processorStatus,
        d.source.slice(0, 500),
        d.detectedAt,
      ]);
      // A racing record of the same discrepancy waits on the unique index, then inserts nothing.
      if (inserted.rowCount !== 1) return false;
      await client.query(LINK_DISCREPANCY, [d.refundId, d.organizationId, d.externalRefundId]);
      await appendEvent(client, {
        refundId: d.refundId,
        organizationId: d.organizationId,
        from: d.ourStatus,
        to: d.ourStatus,
        actor: 'system',
        at: d.detectedAt,
        detail: auditDetail,
      });
      return true;
    });
  }

  async list(organizationId?: string): Promise<Discrepancy[]> {
    const { rows } = await this.pool.query<DiscrepancyRow>(
      listDiscrepanciesSql(organizationId !== undefined),
      organizationId === undefined ? [] : [organizationId],
    );
    return rows.map(toDiscrepancy);
  }
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
