/**
 * The SQL of the PostgreSQL refund store. The guards in the WHERE clauses make a status change or
 * a claim safe against racing writers: at READ COMMITTED an UPDATE that finds its row locked waits
 * for the other transaction, then checks its WHERE again on the row as committed, so of two racing
 * guarded UPDATEs exactly one changes the row.
 */
import { COLUMNS } from './rows.js';

export const FIND_BY_ID = `SELECT ${COLUMNS} FROM refunds WHERE id = $1 AND organization_id = $2`;

export const FIND_BY_EXTERNAL_ID = `SELECT ${COLUMNS} FROM refunds WHERE processor = $1 AND external_refund_id = $2
  ORDER BY created_at, id LIMIT 1`;

export const FIND_FOR_PROCESSOR = `SELECT ${COLUMNS} FROM refunds WHERE id = $1 AND processor = $2`;

export const EVENTS = `SELECT id, refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail
  FROM refund_events WHERE refund_id = $1 AND organization_id = $2 ORDER BY id`;

/**
 * The guarded change and its event in one statement: the event is written only for the row the
 * UPDATE changed, so no change goes without its event and no event without its change.
 * $1 to, $2 at, $3 externalRefundId, $4 refundId, $5 organizationId, $6 from, $7 claimToken,
 * $8 neverSubmitted, $9 setSync, $10 nextSyncAt, $11 setWatch, $12 watchNextAt, $13 watchUntil,
 * $14 actor, $15 detail.
 */
export const TRANSITION = `WITH changed AS (
    UPDATE refunds
    SET status = $1, updated_at = $2,
      external_refund_id = coalesce($3, external_refund_id),
      claim_token = NULL, claim_expires_at = NULL, next_attempt_at = NULL,
      next_sync_at = CASE WHEN $9::boolean THEN $10 ELSE next_sync_at END,
      late_watch_next_at = CASE WHEN $11::boolean THEN $12 ELSE late_watch_next_at END,
      late_watch_until = CASE WHEN $11::boolean THEN $13 ELSE late_watch_until END
    WHERE id = $4 AND organization_id = $5 AND status = $6
      AND ($7::text IS NULL OR claim_token = $7)
      AND ($7::text IS NOT NULL OR claim_token IS NULL OR claim_expires_at < $2)
      AND (NOT $8::boolean OR attempts = 0)
    RETURNING id, organization_id
  )
  INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail)
  SELECT id, organization_id, $6, $1, $14, $2, $15 FROM changed
  RETURNING refund_id`;

export const APPEND_EVENT = `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

export const FIND_BY_IDEMPOTENCY_KEY = 'SELECT id, request_fingerprint FROM refunds WHERE organization_id = $1 AND idempotency_key = $2';

/**
 * Inserted unless the organization already used the idempotency key: a racing insert with the same
 * key waits for the first to commit, then does nothing (and RETURNING gives no row).
 */
export const CREATE = `INSERT INTO refunds (id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
    processor, metadata, initiated_by, created_at, updated_at, idempotency_key, request_fingerprint, next_attempt_at, created_by_key_id)
  VALUES ($1, $2, NULL, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $10, $11, $12, $13, $14)
  ON CONFLICT (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id`;

export const INSERT = `INSERT INTO refunds (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`;

export const CLAIM_FOR_SUBMISSION = `UPDATE refunds SET claim_token = $2, claim_expires_at = $4, attempts = attempts + 1
  WHERE id = $1 AND status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $3
    AND (claim_token IS NULL OR claim_expires_at < $3)
  RETURNING organization_id, attempts`;

export const CLAIM_FOR_CANCEL = `UPDATE refunds SET claim_token = $2, claim_expires_at = $4
  WHERE id = $1 AND status = 'pending' AND (claim_token IS NULL OR claim_expires_at < $5)
    AND (in_doubt_until IS NULL OR in_doubt_until <= $3)
  RETURNING organization_id`;

export const RELEASE_CLAIM = `UPDATE refunds SET claim_token = NULL, claim_expires_at = NULL, next_attempt_at = coalesce($3, next_attempt_at),
    last_error = coalesce($4, last_error), in_doubt_until = coalesce($5, in_doubt_until),
    attempts = attempts - CASE WHEN $6::boolean THEN 1 ELSE 0 END
  WHERE id = $1 AND claim_token = $2`;

export const SUBMISSION_STATE = `SELECT attempts, (claim_token IS NOT NULL AND claim_expires_at >= $2) AS claimed, in_doubt_until,
    CASE WHEN claim_token IS NOT NULL AND claim_expires_at < $2 THEN claim_expires_at END AS lapsed_claim_expired_at
  FROM refunds WHERE id = $1`;

/** Pending refunds of these processors due for submission, along refunds_due_submission. */
export const DUE_FOR_SUBMISSION = `SELECT organization_id, id FROM refunds
  WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
    AND (claim_token IS NULL OR claim_expires_at < $1)
    AND processor = ANY($3::text[])
  ORDER BY next_attempt_at LIMIT $2`;

/** Refunds of these processors whose status read is due, along refunds_due_sync. */
export const DUE_FOR_SYNC = `SELECT organization_id, id FROM refunds
  WHERE next_sync_at IS NOT NULL AND next_sync_at <= $1 AND external_refund_id IS NOT NULL
    AND processor = ANY($3::text[])
  ORDER BY next_sync_at LIMIT $2`;

export const SCHEDULE_SYNC = 'UPDATE refunds SET next_sync_at = $1 WHERE id = $2';

/**
 * A page of an organization's refunds, newest first, along the index of its filter. A deep page
 * (`deep`) is chosen inside the index, which holds the id (an index-only scan: the skipped rows
 * are never read from the table), and only its rows are then read. Read straight, a deep offset
 * reads every skipped row from the table, and on a big table the planner rather scans the table
 * and sorts it (seen at offset 100,000 of 1,000,000 refunds in `npm run bench`).
 */
export function listSql(byStatus: boolean, byProcessor: boolean, deep = false): string {
  const where = ['organization_id = $1'];
  if (byStatus) where.push('status = $4');
  if (byProcessor) where.push(`processor = $${byStatus ? 5 : 4}`);
  return deep
    ? `SELECT ${COLUMNS} FROM refunds WHERE id IN (
         SELECT id FROM refunds WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3)
       ORDER BY created_at DESC, id DESC`
    : `SELECT ${COLUMNS} FROM refunds WHERE ${where.join(' AND ')}
    ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`;
}

export const DUE_FOR_WATCH = `SELECT organization_id, id, late_watch_until FROM refunds
  WHERE late_watch_next_at IS NOT NULL AND late_watch_next_at <= $1 AND processor = ANY($3::text[])
  ORDER BY late_watch_next_at LIMIT $2`;

/** A watch that ends forgets when it was to end. */
export const SCHEDULE_WATCH = `UPDATE refunds SET late_watch_next_at = $2,
    late_watch_until = CASE WHEN $2::text IS NULL THEN NULL ELSE late_watch_until END
  WHERE id = $1`;

export const INSERT_DISCREPANCY = `INSERT INTO refund_discrepancies (refund_id, organization_id, processor, external_refund_id, our_status,
    processor_status, source, detected_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (refund_id, external_refund_id, processor_status) DO NOTHING
  RETURNING id`;

export const LINK_DISCREPANCY = `UPDATE refunds SET external_refund_id = $3
  WHERE id = $1 AND organization_id = $2 AND external_refund_id IS NULL`;

export function listDiscrepanciesSql(ofOrganization: boolean): string {
  return `SELECT refund_id, organization_id, processor, external_refund_id, our_status, processor_status, source, detected_at
    FROM refund_discrepancies${ofOrganization ? ' WHERE organization_id = $1' : ''} ORDER BY id`;
}

/**
 * Taken by every create before it counts or inserts: creates of one organization queue up, so
 * that an agent create's budget and transaction counts include every refund committed before it
 * (FOR NO KEY UPDATE does not block the foreign-key checks of other writes on the organization).
 */
export const LOCK_ORGANIZATION = 'SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE';
