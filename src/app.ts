/**
 * The composition root: the one place that opens the database and wires stores, processors and
 * the service together. Nothing here runs at import time.
 */
import type { Config } from './config.js';
import { RefundService } from './domain/refund-service.js';
import { systemClock, type Clock, type RefundProcessor } from './domain/ports.js';
import { silentLogger, type Logger } from './logger.js';
import { StaticProcessorRegistry } from './processors/registry.js';
import { SandboxProcessor } from './processors/sandbox.js';
import { STRIPE_LATE_EXECUTION_FLOOR_MS, StripeProcessor } from './processors/stripe.js';
import { migrate, openDatabase, type SqliteDatabase } from './store/sqlite/database.js';
import { SqliteApiKeyStore } from './store/sqlite/api-key-store.js';
import { SqliteOrganizationStore } from './store/sqlite/organization-store.js';
import { SqliteRefundStore } from './store/sqlite/refund-store.js';

export interface App {
  config: Readonly<Config>;
  db: SqliteDatabase;
  refunds: SqliteRefundStore;
  organizations: SqliteOrganizationStore;
  apiKeys: SqliteApiKeyStore;
  processors: StaticProcessorRegistry;
  service: RefundService;
  logger: Logger;
  close(): void;
}

export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
  /**
   * Serve from a read-only connection, opened once the schema is migrated: a REFUNDKIT_READ_ONLY
   * server then cannot change the database even through a path that forgot to check.
   */
  readOnlyDatabase?: boolean;
}

/** What to tell an operator when a refund's processor has no configuration here. */
const MISSING_PROCESSOR_HINTS: Readonly<Record<string, string>> = {
  stripe: 'set STRIPE_SECRET_KEY to a Stripe secret key (sk_test_… or sk_live_…) and restart the server',
};

export function createApp(config: Readonly<Config>, options: AppOptions = {}): App {
  const logger = options.logger ?? silentLogger;
  let db = openDatabase(config.dbPath);
  try {
    // Even for a read-only server: bringing the schema up to this build is set-up, not data (it
    // changes no refund, key or event), and without it this build's queries could not run.
    const applied = migrate(db);
    if (applied.length > 0) logger.info('database migrated', { path: config.dbPath, applied });
  } catch (error) {
    db.close();
    throw error;
  }
  if (options.readOnlyDatabase === true) {
    db.close();
    db = openDatabase(config.dbPath, { readonly: true });
  }
  const refunds = new SqliteRefundStore(db);
  const processorList: RefundProcessor[] = [new SandboxProcessor()];
  if (config.stripe.secretKey !== undefined) {
    processorList.push(
      new StripeProcessor({
        secretKey: config.stripe.secretKey,
        apiBase: config.stripe.apiBase,
        timeoutMs: config.stripe.timeoutMs,
        maxNetworkRetries: config.stripe.maxNetworkRetries,
      }),
    );
  }
  const processors = new StaticProcessorRegistry(processorList, MISSING_PROCESSOR_HINTS, config.processor);
  const service = new RefundService({
    store: refunds,
    processors,
    clock: options.clock ?? systemClock,
    policy: {
      holdMs: config.holdSeconds * 1000,
      syncIntervalMs: config.syncIntervalSeconds * 1000,
      concurrency: config.dispatchConcurrency,
      // A read-only server answers the stored status: a read that found a change would record it.
      refreshAfterMs: config.readOnly ? 0 : config.refreshAfterSeconds * 1000,
      // A caller is waiting: a short read, never longer than the configured Stripe timeout.
      refreshTimeoutMs: Math.min(2_000, config.stripe.timeoutMs),
      callDeadlineMs: config.callDeadlineSeconds * 1000,
      retryBaseMs: config.retryBaseSeconds * 1000,
      // A claim must outlast every try the Stripe client makes, with room to spare.
      leaseMs: Math.max(60_000, config.stripe.timeoutMs * (config.stripe.maxNetworkRetries + 1) * 2 + 10_000),
      // A request Stripe received may still execute after the client gave up on it. How long is
      // not documented; twice the client's own timeout, and never less than a floor that does not
      // depend on it (a short client timeout does not make Stripe quicker).
      inDoubtMs: Math.max(STRIPE_LATE_EXECUTION_FLOOR_MS, config.stripe.timeoutMs * 2),
    },
    onBackgroundError: (message, detail) => logger.warn(message, detail),
    onDiscrepancy: (message, detail) => logger.error(message, detail),
  });
  return {
    config,
    db,
    refunds,
    organizations: new SqliteOrganizationStore(db),
    apiKeys: new SqliteApiKeyStore(db),
    processors,
    service,
    logger,
    close: () => {
      if (db.open) db.close();
    },
  };
}
