/**
 * Webhook events already handled, so that a delivery a processor repeats (Stripe retries until it
 * gets a 2xx, and may send one event twice) is recognised and changes nothing.
 */

export type WebhookOutcome = 'applied' | 'unchanged' | 'ignored';

export interface WebhookEventRecord {
  source: string;
  eventId: string;
  type: string;
  refundId: string | null;
  outcome: WebhookOutcome;
  receivedAt: string;
}

export interface WebhookEventStore {
  find(source: string, eventId: string): Promise<WebhookEventRecord | null>;
  /**
   * Records a handled event (or claims one about to be handled). Resolves false when it was
   * already recorded (two deliveries of one event at the same moment): the first record stands.
   */
  record(event: WebhookEventRecord): Promise<boolean>;
  /** What handling an event recorded beforehand (as a claim) came to. */
  settle(source: string, eventId: string, outcome: WebhookOutcome, refundId: string | null): Promise<void>;
  /** Forgets an event whose handling failed, so that the sender's retry is handled afresh. */
  release(source: string, eventId: string): Promise<void>;
  /** Forgets events received before `receivedBefore` (ISO time), in batches; resolves to how many. */
  prune(receivedBefore: string, batchSize?: number): Promise<number>;
}
