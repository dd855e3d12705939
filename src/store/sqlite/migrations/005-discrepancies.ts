/**
 * Late landings and discrepancies. A refund cancelled after an unanswered submission could still
 * be created at its processor later (a request the processor executes after we gave up on it);
 * such a refund is looked for at the processor for a while after (the watch). When a processor
 * holds money moving for a refund we hold as cancelled or failed, the status machine does not let
 * the refund move, so the fact is kept here for an operator, once per processor refund and status.
 */
export const name = 'late-landing watch and discrepancies';

export const sql = `
-- Cancelled refunds whose processor is looked at again for a late landing: when next, and until when.
ALTER TABLE refunds ADD COLUMN late_watch_next_at TEXT;
ALTER TABLE refunds ADD COLUMN late_watch_until TEXT;
CREATE INDEX refunds_due_late_watch ON refunds (late_watch_next_at) WHERE late_watch_next_at IS NOT NULL;

CREATE TABLE refund_discrepancies (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  refund_id           TEXT NOT NULL REFERENCES refunds(id),
  organization_id     TEXT NOT NULL REFERENCES organizations(id),
  processor           TEXT NOT NULL CHECK (length(processor) BETWEEN 1 AND 32),
  external_refund_id  TEXT NOT NULL CHECK (length(external_refund_id) BETWEEN 1 AND 255),
  our_status          TEXT NOT NULL CHECK (our_status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  processor_status    TEXT NOT NULL CHECK (processor_status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  source              TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
  detected_at         TEXT NOT NULL,
  UNIQUE (refund_id, external_refund_id, processor_status)
);
CREATE INDEX refund_discrepancies_by_org ON refund_discrepancies (organization_id, id);

-- What was found stays found.
CREATE TRIGGER refund_discrepancies_no_update BEFORE UPDATE ON refund_discrepancies
BEGIN
  SELECT RAISE(ABORT, 'refund_discrepancies is append-only');
END;
CREATE TRIGGER refund_discrepancies_no_delete BEFORE DELETE ON refund_discrepancies
BEGIN
  SELECT RAISE(ABORT, 'refund_discrepancies is append-only');
END;
`;
