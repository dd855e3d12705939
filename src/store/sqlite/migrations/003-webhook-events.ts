/**
 * Webhook deliveries already handled, keyed by the sender's event id: a processor delivers an
 * event at least once (and retries it for days), so a replay must be recognised and change nothing.
 */
export const name = 'webhook events';

export const sql = `
CREATE TABLE webhook_events (
  -- Who sent it (stripe) and its id there (evt_…): the pair is what makes a delivery a replay.
  source       TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 32),
  event_id     TEXT NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
  type         TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 255),
  -- The refund it was about, when it named one of ours.
  refund_id    TEXT REFERENCES refunds(id),
  outcome      TEXT NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'ignored')),
  received_at  TEXT NOT NULL,
  PRIMARY KEY (source, event_id)
) WITHOUT ROWID;
CREATE INDEX webhook_events_by_received ON webhook_events (received_at);
`;
