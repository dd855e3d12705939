/**
 * Webhook events already handled, so that a delivery Stripe repeats (it retries until it gets a
 * 2xx, and may send one event twice) is recognised and changes nothing.
 */
import type { WebhookEventRecord, WebhookEventStore, WebhookOutcome } from '../../domain/ports.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import { promised } from './promised.js';

export type { WebhookEventRecord, WebhookOutcome } from '../../domain/ports.js';

interface WebhookEventRow {
  source: string;
  event_id: string;
  type: string;
  refund_id: string | null;
  outcome: WebhookOutcome;
  received_at: string;
}

export class SqliteWebhookEventStore implements WebhookEventStore {
  private readonly findStatement: Statement<[string, string]>;
  private readonly insertStatement: Statement<[WebhookEventRow]>;
  private readonly settleStatement: Statement<[WebhookOutcome, string | null, string, string]>;
  private readonly releaseStatement: Statement<[string, string]>;
  private readonly pruneStatement: Statement<[string, number]>;

  constructor(db: SqliteDatabase) {
    this.findStatement = db.prepare(
      'SELECT source, event_id, type, refund_id, outcome, received_at FROM webhook_events WHERE source = ? AND event_id = ?',
    );
    this.insertStatement = db.prepare(
      // Only a repeated id is let through quietly; any other broken rule still throws.
      `INSERT INTO webhook_events (source, event_id, type, refund_id, outcome, received_at)
       VALUES (@source, @event_id, @type, @refund_id, @outcome, @received_at)
       ON CONFLICT (source, event_id) DO NOTHING`,
    );
    this.settleStatement = db.prepare('UPDATE webhook_events SET outcome = ?, refund_id = ? WHERE source = ? AND event_id = ?');
    this.releaseStatement = db.prepare('DELETE FROM webhook_events WHERE source = ? AND event_id = ?');
    // In batches along the received_at index, so that no single write holds the database long.
    this.pruneStatement = db.prepare(
      `DELETE FROM webhook_events WHERE (source, event_id) IN (
         SELECT source, event_id FROM webhook_events WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
    );
  }

  /** Forgets events received before `receivedBefore` (ISO time); returns how many. */
  prune(receivedBefore: string, batchSize = 1_000): Promise<number> {
    return promised(() => {
      let pruned = 0;
      for (;;) {
        const removed = this.pruneStatement.run(receivedBefore, batchSize).changes;
        pruned += removed;
        if (removed < batchSize) return pruned;
      }
    });
  }

  find(source: string, eventId: string): Promise<WebhookEventRecord | null> {
    return promised(() => {
      const row = this.findStatement.get(source, eventId) as WebhookEventRow | undefined;
      return row === undefined ? null : toRecord(row);
    });
  }

  /**
   * Records a handled event. Returns false when it was already recorded (two deliveries of one
   * event handled at the same moment): the first record stands.
   */
  record(event: WebhookEventRecord): Promise<boolean> {
    return promised(() => {
      const result = this.insertStatement.run({
        source: event.source,
        event_id: event.eventId,
        type: event.type,
        refund_id: event.refundId,
        outcome: event.outcome,
        received_at: event.receivedAt,
      });
      return result.changes === 1;
    });
  }

  /** What handling an event recorded beforehand (as a claim) came to. */
  settle(source: string, eventId: string, outcome: WebhookOutcome, refundId: string | null): Promise<void> {
    return promised(() => {
      this.settleStatement.run(outcome, refundId, source, eventId);
    });
  }

  /** Forgets an event whose handling failed, so that the sender's retry is handled afresh. */
  release(source: string, eventId: string): Promise<void> {
    return promised(() => {
      this.releaseStatement.run(source, eventId);
    });
  }
}

function toRecord(row: WebhookEventRow): WebhookEventRecord {
  return {
    source: row.source,
    eventId: row.event_id,
    type: row.type,
    refundId: row.refund_id,
    outcome: row.outcome,
    receivedAt: row.received_at,
  };
}
