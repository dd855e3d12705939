/**
 * The SQL of the refund store. Each statement is one step of a method of SqliteRefundStore; the
 * guards in the WHERE clauses are what make a status change or a claim safe against racing
 * writers in other processes.
 */
import { COLUMNS } from './refund-rows.js';

export const FIND_BY_ID = `SELECT ${COLUMNS} FROM refunds WHERE id = ? AND organization_id = ?`;

/**
 * Served by refunds_by_external_id. Oldest first: one processor refund is ours once, but should an
 * operator ever have copied rows, the original wins.
 */
export const FIND_BY_EXTERNAL_ID = `SELECT ${COLUMNS} FROM refunds WHERE processor = ? AND external_refund_id = ? ORDER BY created_at, id LIMIT 1`;

export const EVENTS = `SELECT id, refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail
  FROM refund_events WHERE refund_id = ? AND organization_id = ? ORDER BY id`;

/**
 * Leaving pending ends any claim and the submission schedule; a pending refund held by a live
 * claim moves only for the claim's holder; `neverSubmitted` moves it only if no attempt started.
 */
export const TRANSITION = `UPDATE refunds
  SET status = @to, updated_at = @at,
    external_refund_id = coalesce(@externalRefundId, external_refund_id),
    claim_token = NULL, claim_expires_at = NULL, next_attempt_at = NULL,
    next_sync_at = CASE WHEN @setSync = 1 THEN @nextSyncAt ELSE next_sync_at END,
    late_watch_next_at = CASE WHEN @setWatch = 1 THEN @watchNextAt ELSE late_watch_next_at END,
    late_watch_until = CASE WHEN @setWatch = 1 THEN @watchUntil ELSE late_watch_until END
  WHERE id = @refundId AND organization_id = @organizationId AND status = @from
    AND (@claimToken IS NULL OR claim_token = @claimToken)
    AND (@claimToken IS NOT NULL OR claim_token IS NULL OR claim_expires_at < @at)
    AND (@neverSubmitted = 0 OR attempts = 0)`;

export const FIND_BY_IDEMPOTENCY_KEY = `SELECT id, request_fingerprint FROM refunds WHERE organization_id = ? AND idempotency_key = ?`;

export const CREATE = `INSERT INTO refunds (id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
    processor, metadata, initiated_by, created_at, updated_at, idempotency_key, request_fingerprint, next_attempt_at, created_by_key_id)
  VALUES (@id, @organizationId, NULL, @transactionId, @amount, @currency, @reason, 'pending', @processor, @metadata,
    @initiatedBy, @createdAt, @createdAt, @idempotencyKey, @requestFingerprint, @submitAt, @createdByKeyId)`;

export const INSERT = `INSERT INTO refunds (${COLUMNS}) VALUES (@id, @organizationId, @externalRefundId, @transactionId, @amount,
  @currency, @reason, @status, @processor, @metadata, @initiatedBy, @createdAt, @updatedAt)`;

export const CLAIM_FOR_SUBMISSION = `UPDATE refunds SET claim_token = @token, claim_expires_at = @leaseUntil, attempts = attempts + 1
  WHERE id = @refundId AND status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= @now
    AND (claim_token IS NULL OR claim_expires_at < @now)
  RETURNING organization_id, attempts`;

export const CLAIM_FOR_CANCEL = `UPDATE refunds SET claim_token = @token, claim_expires_at = @leaseUntil
  WHERE id = @refundId AND status = 'pending' AND (claim_token IS NULL OR claim_expires_at < @lapsedBefore)
    AND (in_doubt_until IS NULL OR in_doubt_until <= @now)
  RETURNING organization_id`;

export const RELEASE_CLAIM = `UPDATE refunds SET claim_token = NULL, claim_expires_at = NULL, next_attempt_at = coalesce(@retryAt, next_attempt_at),
    last_error = coalesce(@error, last_error), in_doubt_until = coalesce(@inDoubtUntil, in_doubt_until),
    attempts = attempts - @sentNothing
  WHERE id = @refundId AND claim_token = @token`;

export const SUBMISSION_STATE = `SELECT attempts, (claim_token IS NOT NULL AND claim_expires_at >= @now) AS claimed, in_doubt_until,
    CASE WHEN claim_token IS NOT NULL AND claim_expires_at < @now THEN claim_expires_at END AS lapsed_claim_expired_at
  FROM refunds WHERE id = @refundId`;

export const APPEND_EVENT = `INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail)
  VALUES (@refundId, @organizationId, @from, @to, @initiatedBy, @createdAt, @detail)`;

/** Pending refunds of the processors @p0… due for submission. */
export function dueForSubmissionSql(processorCount: number): string {
  return `SELECT organization_id, id FROM refunds
    WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= @now
      AND (claim_token IS NULL OR claim_expires_at < @now)
      AND ${processorIn(processorCount)}
    ORDER BY next_attempt_at LIMIT @limit`;
}

/** Refunds of the processors @p0… whose status read is due. */
export function dueForSyncSql(processorCount: number): string {
  return `SELECT organization_id, id FROM refunds
    WHERE next_sync_at IS NOT NULL AND next_sync_at <= @now AND external_refund_id IS NOT NULL
      AND ${processorIn(processorCount)}
    ORDER BY next_sync_at LIMIT @limit`;
}

/**
 * `processor IN (@p0, …)`, written `+processor` so that SQLite never serves it from
 * refunds_by_external_id (processor, external_refund_id): without table statistics it prefers that
 * equality to the due index's range, and would walk every refund the processor ever held, then
 * sort them. The due indexes stay the plan; the processor is checked on each due row.
 */
export function processorIn(count: number): string {
  return `+processor IN (${Array.from({ length: count }, (_, i) => `@p${i}`).join(', ')})`;
}

export const SCHEDULE_SYNC = 'UPDATE refunds SET next_sync_at = ? WHERE id = ?';

/**
 * A page of an organization's refunds, newest first. A deep page (`deep`) is chosen inside the
 * index, which holds the rowid, and only its rows are read from the table: a deep offset then
 * skips index entries, not whole rows.
 */
export function listSql(where: string, deep: boolean): string {
  return deep
    ? `SELECT ${COLUMNS} FROM refunds
       WHERE rowid IN (
         SELECT rowid FROM refunds WHERE ${where}
         ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset)
       ORDER BY created_at DESC, id DESC`
    : `SELECT ${COLUMNS} FROM refunds WHERE ${where}
       ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`;
}
