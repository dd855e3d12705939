/**
 * What the HTTP layer needs of the stores, and nothing more: the SQLite classes satisfy these, and
 * so will the asynchronous store ports. Every call is awaited, so either kind works.
 */

export interface Identity {
  organizationId: string;
  keyId: string;
}

export interface ApiKeyAuthenticator {
  /** The organization of a live key, or null for an unknown or revoked one. */
  authenticate(key: string): Identity | null | Promise<Identity | null>;
}

export type WebhookOutcome = 'applied' | 'unchanged' | 'ignored';

export interface WebhookEventRecord {
  source: string;
  eventId: string;
  type: string;
  refundId: string | null;
  outcome: WebhookOutcome;
  receivedAt: string;
}

/** The events a webhook endpoint has handled, so that a repeated delivery changes nothing. */
export interface WebhookEventLog {
  /** Claims an event; false when it was claimed before (the first claim stands). */
  record(event: WebhookEventRecord): boolean | Promise<boolean>;
  find(source: string, eventId: string): WebhookEventRecord | null | Promise<WebhookEventRecord | null>;
  /** What handling a claimed event came to. */
  settle(source: string, eventId: string, outcome: WebhookOutcome, refundId: string | null): unknown;
  /** Forgets a claim whose handling failed, so that the sender's retry is handled afresh. */
  release(source: string, eventId: string): unknown;
}
