/**
 * What the PostgreSQL refund and guardrail stores share: reading a refund, the audit event every
 * change appends inside its transaction (masked on the way in), the create's parameters and the
 * organization lock every create takes first.
 */
import type { RefundDraft } from '../../domain/ports.js';
import type { Actor, Refund } from '../../domain/refund.js';
import { redact } from '../../redact.js';
import type { PgClient, PgPool } from './database.js';
import { APPEND_EVENT, FIND_BY_ID, FIND_BY_IDEMPOTENCY_KEY, LOCK_ORGANIZATION } from './refund-sql.js';
import { toRefund, type RefundRow } from './rows.js';

export type Due = Array<{ organizationId: string; id: string }>;
export type Queryable = Pick<PgClient, 'query'> | PgPool;

/** Appends one audit event inside the caller's transaction, its detail masked. */
export async function appendEvent(
  client: Queryable,
  event: { refundId: string; organizationId: string; from: string | null; to: string; actor: Actor; at: string; detail: string | null },
): Promise<void> {
  const detail = event.detail === null ? null : redact(event.detail);
  await client.query(APPEND_EVENT, [event.refundId, event.organizationId, event.from, event.to, event.actor, event.at, detail]);
}

export async function readRefund(client: Queryable, organizationId: string, refundId: string): Promise<Refund | null> {
  const { rows } = await client.query<RefundRow>(FIND_BY_ID, [refundId, organizationId]);
  const row = rows[0];
  return row === undefined ? null : toRefund(row);
}

/** The refund draft's columns for CREATE, in order; `submitAt` as the caller decided it. */
export function createParams(d: RefundDraft, submitAt: string | null): unknown[] {
  return [
    d.id,
    d.organizationId,
    d.transactionId,
    d.amount,
    d.currency,
    d.reason,
    d.processor,
    d.metadata === null ? null : JSON.stringify(d.metadata),
    d.initiatedBy,
    d.createdAt,
    d.idempotencyKey,
    d.requestFingerprint,
    submitAt,
    d.createdByKeyId ?? null,
  ];
}

export async function findByIdempotencyKey(
  client: Queryable,
  organizationId: string,
  key: string,
): Promise<{ id: string; request_fingerprint: string | null } | undefined> {
  const { rows } = await client.query<{ id: string; request_fingerprint: string | null }>(FIND_BY_IDEMPOTENCY_KEY, [organizationId, key]);
  return rows[0];
}

export async function lockOrganization(client: PgClient, organizationId: string): Promise<void> {
  await client.query(LOCK_ORGANIZATION, [organizationId]);
}

