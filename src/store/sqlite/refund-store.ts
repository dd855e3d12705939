/**
 * Refunds and their audit events in SQLite. Every status change is one IMMEDIATE transaction:
 * a conditional UPDATE (`WHERE status = from`) that must change exactly one row, then the event.
 */
import type { ListFilter, Page, RefundStore, StatusChange } from '../../domain/ports.js';
import {
  canTransition,
  isActor,
  isInitiator,
  isRefundStatus,
  type Actor,
  type Initiator,
  type Refund,
  type RefundMetadata,
  type RefundStatus,
} from '../../domain/refund.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';

interface RefundRow {
  id: string;
  organization_id: string;
  external_refund_id: string | null;
  transaction_id: string;
  amount: number;
  currency: string;
  reason: string;
  status: string;
  processor: string;
  metadata: string | null;
  initiated_by: string;
  created_at: string;
  updated_at: string;
}

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

interface EventRow {
  id: number;
  refund_id: string;
  organization_id: string;
  from_status: string | null;
  to_status: string;
  initiated_by: string;
  created_at: string;
  detail: string | null;
}

/** A refund as it is first written, with the event that records its creation. */
export interface NewRefund {
  id: string;
  organizationId: string;
  externalRefundId: string | null;
  transactionId: string;
  amount: number;
  currency: string;
  reason: string;
  status: RefundStatus;
  processor: string;
  metadata: RefundMetadata | null;
  initiatedBy: Initiator;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
  processor, metadata, initiated_by, created_at, updated_at`;

export class SqliteRefundStore implements RefundStore {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: SqliteDatabase) {}

  findById(organizationId: string, refundId: string): Refund | null {
    const row = this.statement(
      'findById',
      `SELECT ${COLUMNS} FROM refunds WHERE id = ? AND organization_id = ?`,
    ).get(refundId, organizationId) as RefundRow | undefined;
    return row === undefined ? null : toRefund(row);
  }

  list(organizationId: string, filter: ListFilter, page: Page): Refund[] {
    const where = ['organization_id = @organizationId'];
    if (filter.status !== undefined) where.push('status = @status');
    if (filter.processor !== undefined) where.push('processor = @processor');
    const key = `list:${where.join(' AND ')}`;
    // The page is chosen inside the index (which holds the rowid), and only its rows are read
    // from the table: a deep offset then skips index entries, not whole rows.
    const statement = this.statement(
      key,
      `SELECT ${COLUMNS} FROM refunds
       WHERE rowid IN (
         SELECT rowid FROM refunds WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset)
       ORDER BY created_at DESC, id DESC`,
    );
    const rows = statement.all({
      organizationId,
      status: filter.status,
      processor: filter.processor,
      limit: page.limit,
      offset: page.offset,
    }) as RefundRow[];
    return rows.map(toRefund);
  }

  transition(change: StatusChange): Refund | null {
    if (!canTransition(change.from, change.to)) {
      throw new Error(`illegal refund status transition ${change.from} -> ${change.to}`);
    }
    const update = this.statement(
      'transition',
      `UPDATE refunds
       SET status = @to, updated_at = @at, external_refund_id = coalesce(@externalRefundId, external_refund_id)
       WHERE id = @refundId AND organization_id = @organizationId AND status = @from`,
    );
    const run = this.db.transaction((c: StatusChange): boolean => {
      const result = update.run({
        to: c.to,
        at: c.at,
        externalRefundId: c.externalRefundId ?? null,
        refundId: c.refundId,
        organizationId: c.organizationId,
        from: c.from,
      });
      if (result.changes !== 1) return false;
      this.appendEvent({
        refundId: c.refundId,
        organizationId: c.organizationId,
        from: c.from,
        to: c.to,
        initiatedBy: c.actor,
        createdAt: c.at,
        detail: c.detail ?? null,
      });
      return true;
    });
    // IMMEDIATE: take the write lock up front, so a second process waits (busy timeout) rather
    // than failing to upgrade a read lock.
    return run.immediate(change) ? this.findById(change.organizationId, change.refundId) : null;
  }

  /** Writes a new refund and its creation event in one transaction. */
  insert(refund: NewRefund, actor: Actor = refund.initiatedBy, detail: string | null = null): Refund {
    const insert = this.statement(
      'insert',
      `INSERT INTO refunds (${COLUMNS}) VALUES (@id, @organizationId, @externalRefundId, @transactionId, @amount,
        @currency, @reason, @status, @processor, @metadata, @initiatedBy, @createdAt, @updatedAt)`,
    );
    this.db
      .transaction(() => {
        insert.run({ ...refund, metadata: refund.metadata === null ? null : JSON.stringify(refund.metadata) });
        this.appendEvent({
          refundId: refund.id,
          organizationId: refund.organizationId,
          from: null,
          to: refund.status,
          initiatedBy: actor,
          createdAt: refund.createdAt,
          detail,
        });
      })
      .immediate();
    const stored = this.findById(refund.organizationId, refund.id);
    if (stored === null) throw new Error(`refund ${refund.id} vanished after insert`);
    return stored;
  }

  events(organizationId: string, refundId: string): RefundEvent[] {
    const rows = this.statement(
      'events',
      `SELECT id, refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail
       FROM refund_events WHERE refund_id = ? AND organization_id = ? ORDER BY id`,
    ).all(refundId, organizationId) as EventRow[];
    return rows.map(toEvent);
  }

  private appendEvent(event: Omit<RefundEvent, 'id'>): void {
    this.statement(
      'appendEvent',
      `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail)
       VALUES (@refundId, @organizationId, @from, @to, @initiatedBy, @createdAt, @detail)`,
    ).run(event);
  }

  private statement(key: string, sql: string): Statement {
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(key, statement);
    }
    return statement;
  }
}

function toRefund(row: RefundRow): Refund {
  if (!isRefundStatus(row.status)) throw new Error(`refund ${row.id} has unknown status ${row.status}`);
  if (!isInitiator(row.initiated_by)) throw new Error(`refund ${row.id} has unknown initiator ${row.initiated_by}`);
  return {
    id: row.id,
    organizationId: row.organization_id,
    externalRefundId: row.external_refund_id,
    transactionId: row.transaction_id,
    amount: row.amount,
    currency: row.currency,
    reason: row.reason,
    status: row.status,
    processor: row.processor,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as RefundMetadata),
    initiatedBy: row.initiated_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEvent(row: EventRow): RefundEvent {
  const from = row.from_status;
  if (from !== null && !isRefundStatus(from)) throw new Error(`event ${row.id} has unknown status ${from}`);
  if (!isRefundStatus(row.to_status)) throw new Error(`event ${row.id} has unknown status ${row.to_status}`);
  const actor = row.initiated_by;
  if (!isActor(actor)) throw new Error(`event ${row.id} has unknown actor ${actor}`);
  return {
    id: row.id,
    refundId: row.refund_id,
    organizationId: row.organization_id,
    from,
    to: row.to_status,
    initiatedBy: actor,
    createdAt: row.created_at,
    detail: row.detail,
  };
}
