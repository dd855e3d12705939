/**
 * What the HTTP layer needs of the stores, and nothing more: narrow views of the domain's store
 * ports, so that any store adapter (SQLite today) serves HTTP without HTTP knowing it.
 */
import type { ApiKeyIdentity, ApiKeyStore, WebhookEventStore } from '../domain/ports.js';

export type { WebhookEventRecord, WebhookOutcome } from '../domain/ports.js';

export type Identity = ApiKeyIdentity;

export type ApiKeyAuthenticator = Pick<ApiKeyStore, 'authenticate'>;

/** The events a webhook endpoint has handled, so that a repeated delivery changes nothing. */
export type WebhookEventLog = Pick<WebhookEventStore, 'record' | 'find' | 'settle' | 'release'>;
