/** Webhook deliveries already handled, keyed by the sender's event id (SQLite's 003). */
import { TEXT } from './text.js';

export const name = 'webhook events';

export const sql = `
CREATE TABLE webhook_events (
  source       ${TEXT} NOT NULL CHECK (length(source) BETWEEN 1 AND 32),
  event_id     ${TEXT} NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
  type         ${TEXT} NOT NULL CHECK (length(type) BETWEEN 1 AND 255),
  refund_id    ${TEXT} REFERENCES refunds(id),
  outcome      ${TEXT} NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'ignored')),
  received_at  ${TEXT} NOT NULL,
  PRIMARY KEY (source, event_id)
);
CREATE INDEX webhook_events_by_received ON webhook_events (received_at);
`;
