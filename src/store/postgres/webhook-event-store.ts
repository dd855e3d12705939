/**
 * Webhook events already handled, in PostgreSQL. Two deliveries of one event at the same moment:
 * the second INSERT waits on the primary key for the first to commit, then inserts nothing, so an
 * event is applied once whichever process each delivery reaches.
 */
import type { WebhookEventRecord, WebhookEventStore, WebhookOutcome } from '../../domain/ports.js';
import type { PgPool } from './database.js';

interface WebhookEventRow {
  source: string;
  event_id: string;
  type: string;
  refund_id: string | null;
  outcome: WebhookOutcome;
  received_at: string;
}

export class PostgresWebhookEventStore implements WebhookEventStore {
  constructor(private readonly pool: PgPool) {}

  async find(source: string, eventId: string): Promise<WebhookEventRecord | null> {
    const { rows } = await this.pool.query<WebhookEventRow>(
      'SELECT source, event_id, type, refund_id, outcome, received_at FROM webhook_events WHERE source = $1 AND event_id = $2',
      [source, eventId],
    );
    const row = rows[0];
    return row === undefined
      ? null
      : { source: row.source, eventId: row.event_id, type: row.type, refundId: row.refund_id, outcome: row.outcome, receivedAt: row.received_at };
  }

  async record(event: WebhookEventRecord): Promise<boolean> {
    // Only a repeated id is let through quietly; any other broken rule still throws.
    const result = await this.pool.query(
      `INSERT INTO webhook_events (source, event_id, type, refund_id, outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (source, event_id) DO NOTHING`,
      [event.source, event.eventId, event.type, event.refundId, event.outcome, event.receivedAt],
    );
    return result.rowCount === 1;
  }

  async settle(source: string, eventId: string, outcome: WebhookOutcome, refundId: string | null): Promise<void> {
    await this.pool.query('UPDATE webhook_events SET outcome = $1, refund_id = $2 WHERE source = $3 AND event_id = $4', [
      outcome,
      refundId,
      source,
      eventId,
    ]);
  }

  async release(source: string, eventId: string): Promise<void> {
    await this.pool.query('DELETE FROM webhook_events WHERE source = $1 AND event_id = $2', [source, eventId]);
  }

  async prune(receivedBefore: string, batchSize = 1_000): Promise<number> {
    let pruned = 0;
    // In batches along the received_at index, so that no single statement holds many locks long.
    for (;;) {
      const result = await this.pool.query(
        `DELETE FROM webhook_events WHERE (source, event_id) IN (
           SELECT source, event_id FROM webhook_events WHERE received_at < $1 ORDER BY received_at LIMIT $2)`,
        [receivedBefore, batchSize],
      );
      const removed = result.rowCount ?? 0;
      pruned += removed;
      if (removed < batchSize) return pruned;
    }
  }
}
