/**
 * Idempotent creates, the dispatcher's schedule and lease, the status-read schedule (SQLite's 002).
 */
import { TEXT } from './text.js';

export const name = 'submission, idempotency and status sync';

export const sql = `
ALTER TABLE refunds ADD COLUMN idempotency_key ${TEXT} CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255);
ALTER TABLE refunds ADD COLUMN request_fingerprint ${TEXT};
ALTER TABLE refunds ADD COLUMN next_attempt_at ${TEXT};
ALTER TABLE refunds ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE refunds ADD COLUMN last_error ${TEXT};
ALTER TABLE refunds ADD COLUMN claim_token ${TEXT};
ALTER TABLE refunds ADD COLUMN claim_expires_at ${TEXT};
ALTER TABLE refunds ADD COLUMN next_sync_at ${TEXT};

CREATE UNIQUE INDEX refunds_idempotency ON refunds (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX refunds_due_submission ON refunds (next_attempt_at) WHERE status = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX refunds_due_sync ON refunds (next_sync_at) WHERE next_sync_at IS NOT NULL;
`;
