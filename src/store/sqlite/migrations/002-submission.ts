/**
 * What submission to processors needs: idempotent creates, a schedule and a lease for the
 * dispatcher (so that several processes never submit one refund twice), and a schedule for
 * reading statuses back from the processor.
 */
export const name = 'submission, idempotency and status sync';

export const sql = `
ALTER TABLE refunds ADD COLUMN idempotency_key TEXT CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255);
-- SHA-256 of the create arguments: a replay with the same key must carry the same arguments.
ALTER TABLE refunds ADD COLUMN request_fingerprint TEXT;
-- Pending refunds: when the dispatcher may next try to submit (NULL: held, never submitted by itself).
ALTER TABLE refunds ADD COLUMN next_attempt_at TEXT;
-- How many submissions were started; more than 0 means the processor may have seen the refund.
ALTER TABLE refunds ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE refunds ADD COLUMN last_error TEXT;
-- The lease of the process submitting (or cancelling) it right now.
ALTER TABLE refunds ADD COLUMN claim_token TEXT;
ALTER TABLE refunds ADD COLUMN claim_expires_at TEXT;
-- When to read the status back from the processor next (NULL: no need).
ALTER TABLE refunds ADD COLUMN next_sync_at TEXT;

CREATE UNIQUE INDEX refunds_idempotency ON refunds (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX refunds_due_submission ON refunds (next_attempt_at) WHERE status = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX refunds_due_sync ON refunds (next_sync_at) WHERE next_sync_at IS NOT NULL;
`;
