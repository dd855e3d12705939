/**
 * How refunds and their events read back from PostgreSQL rows into the domain's types. json
 * columns arrive parsed, bigint ones as numbers (database.ts).
 */
import type { RefundEvent } from '../../domain/ports.js';
import { isActor, isInitiator, isRefundStatus, type Refund, type RefundMetadata } from '../../domain/refund.js';

export const COLUMNS = `id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
  processor, metadata, initiated_by, created_at, updated_at`;

export interface RefundRow {
  id: string;
  organization_id: string;
  external_refund_id: string | null;
  transaction_id: string;
  amount: number;
  currency: string;
  reason: string;
  status: string;
  processor: string;
  metadata: RefundMetadata | null;
  initiated_by: string;
  created_at: string;
  updated_at: string;
}

export interface EventRow {
  id: number;
  refund_id: string;
  organization_id: string;
  from_status: string | null;
  to_status: string;
  initiated_by: string;
  created_at: string;
  detail: string | null;
}

export function toRefund(row: RefundRow): Refund {
  const { status, initiated_by: initiatedBy } = row;
  if (!isRefundStatus(status)) throw new Error(`refund ${row.id} has unknown status ${status}`);
  if (!isInitiator(initiatedBy)) throw new Error(`refund ${row.id} has unknown initiator ${initiatedBy}`);
  return {
    id: row.id,
    organizationId: row.organization_id,
    externalRefundId: row.external_refund_id,
    transactionId: row.transaction_id,
    amount: row.amount,
    currency: row.currency,
    reason: row.reason,
    status,
    processor: row.processor,
    metadata: row.metadata,
    initiatedBy,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toEvent(row: EventRow): RefundEvent {
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
