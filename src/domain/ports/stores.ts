/**
 * Every store a process works with, over one database (the SQLite file or PostgreSQL), and what
 * the composition root needs of that database itself: is it up, which schema, close it.
 */
import type { ApiKeyStore, OrganizationStore } from './accounts.js';
import type { GuardrailStore } from './guardrails.js';
import type { OperatorStore } from './operators.js';
import type { RefundStore } from './refund-store.js';
import type { WebhookEventStore } from './webhook-events.js';

export interface StoreBundle {
  readonly kind: 'sqlite' | 'postgres';
  readonly refunds: RefundStore;
  readonly organizations: OrganizationStore;
  readonly apiKeys: ApiKeyStore;
  readonly guardrails: GuardrailStore;
  readonly webhookEvents: WebhookEventStore;
  /** Dashboard operators, their sessions and sign-in failures. */
  readonly operators: OperatorStore;
  /** Resolves when the database answers a query; rejects when it does not (the health check). */
  health(): Promise<void>;
  /** The latest migration applied. */
  schemaVersion(): Promise<number>;
  /** Closes every connection; safe to call twice. */
  close(): Promise<void>;
}
