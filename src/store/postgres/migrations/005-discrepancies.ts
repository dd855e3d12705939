/** The late-landing watch and the append-only discrepancy list (SQLite's 005). */
import { STATUSES, TEXT } from './text.js';

export const name = 'late-landing watch and discrepancies';

export const sql = `
ALTER TABLE refunds ADD COLUMN late_watch_next_at ${TEXT};
ALTER TABLE refunds ADD COLUMN late_watch_until ${TEXT};
CREATE INDEX refunds_due_late_watch ON refunds (late_watch_next_at) WHERE late_watch_next_at IS NOT NULL;

CREATE TABLE refund_discrepancies (
  id                  bigserial PRIMARY KEY,
  refund_id           ${TEXT} NOT NULL REFERENCES refunds(id),
  organization_id     ${TEXT} NOT NULL REFERENCES organizations(id),
  processor           ${TEXT} NOT NULL CHECK (length(processor) BETWEEN 1 AND 32),
  external_refund_id  ${TEXT} NOT NULL CHECK (length(external_refund_id) BETWEEN 1 AND 255),
  our_status          ${TEXT} NOT NULL CHECK (our_status IN ${STATUSES}),
  processor_status    ${TEXT} NOT NULL CHECK (processor_status IN ${STATUSES}),
  source              ${TEXT} NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
  detected_at         ${TEXT} NOT NULL,
  UNIQUE (refund_id, external_refund_id, processor_status)
);
CREATE INDEX refund_discrepancies_by_org ON refund_discrepancies (organization_id, id);

CREATE TRIGGER refund_discrepancies_append_only BEFORE UPDATE OR DELETE ON refund_discrepancies
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only();
CREATE TRIGGER refund_discrepancies_no_truncate BEFORE TRUNCATE ON refund_discrepancies
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only();
`;
