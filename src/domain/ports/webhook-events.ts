/**
 * Webhook events already handled, so that a delivery a processor repeats (Stripe retries until it
 * gets a 2xx, and may send one event twice) is recognised and changes nothing.
 */
import type { RefundStatus } from '../refund.js';

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

/** One verified webhook delivery: its keys, and the refund it reports on when it is a refund event. */
export interface ProcessorWebhookEvent {
  id: string;
  type: string;
  refund: {
    /** The processor's refund id (for Stripe, re_…). */
    externalRefundId: string;
    status: RefundStatus;
    /** Our refund id, from the metadata we set at submission, when the event carries it. */
    refundId: string | null;
  } | null;
}

/**
 * Reads one processor's webhook deliveries: checks the signature over the raw bytes before
 * anything is trusted, then reads the event. What the sender got wrong is a validation_error.
 * The processor adapter implements it; the HTTP route only hands it the bytes.
 */
export type WebhookReader = (raw: Uint8Array, signature: string) => Promise<ProcessorWebhookEvent>;
