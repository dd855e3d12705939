/**
 * The composition root: the one place that opens the database and wires stores, processors and
 * the service together. Nothing here runs at import time.
 */
import { databaseLocation, type Config } from './config.js';
import { OperatorAuth } from './domain/operators/auth.js';
import { RefundService } from './domain/refund-service.js';
import { refundSettings } from './domain/settings.js';
import {
  systemClock,
  type ApiKeyStore,
  type Clock,
  type GuardrailStore,
  type OperatorStore,
  type OrganizationStore,
  type RefundProcessor,
  type RefundStore,
  type StoreBundle,
  type WebhookEventStore,
} from './domain/ports.js';
import { CommandError } from './commands/common.js';
import { silentLogger, type Logger } from './logger.js';
import { redact } from './redact.js';
import { StaticProcessorRegistry } from './processors/registry.js';
import { SandboxProcessor } from './processors/sandbox.js';
import { STRIPE_LATE_EXECUTION_FLOOR_MS, StripeProcessor } from './processors/stripe.js';
import type { SqliteDatabase } from './store/sqlite/database.js';
import { openSqliteStores, type SqliteStores } from './store/sqlite/stores.js';

export interface App {
  config: Readonly<Config>;
  /** The database behind the stores: health, schema version, close. */
  stores: StoreBundle;
  refunds: RefundStore;
  organizations: OrganizationStore;
  apiKeys: ApiKeyStore;
  /** Agent policies and approval requests. */
  guardrails: GuardrailStore;
  webhookEvents: WebhookEventStore;
  /** Dashboard operators, their sessions and sign-in failures. */
  operators: OperatorStore;
  operatorAuth: OperatorAuth;
  processors: StaticProcessorRegistry;
  service: RefundService;
  logger: Logger;
  /** Closes the database (every connection of the pool); safe to call twice. */
  close(): Promise<void>;
}

/** An app on the SQLite file, with its connection: what tests seed through. */
export interface SqliteApp extends App {
  stores: SqliteStores;
  db: SqliteDatabase;
}

export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
  /**
   * Serve from a read-only connection (SQLite) or read-only transactions (PostgreSQL), opened once
   * the schema is migrated: a REFUNDKIT_READ_ONLY server then cannot change the database even
   * through a path that forgot to check.
   */
  readOnlyDatabase?: boolean;
}

/** What to tell an operator when a refund's processor has no configuration here. */
const MISSING_PROCESSOR_HINTS: Readonly<Record<string, string>> = {
  stripe: 'set STRIPE_SECRET_KEY to a Stripe secret key (sk_test_… or sk_live_…) and restart the server',
};

/**
 * The app on the configured database: PostgreSQL when REFUNDKIT_DATABASE_URL is set (its driver
 * loaded only then), else the SQLite file.
 */
export async function createApp(config: Readonly<Config>, options: AppOptions = {}): Promise<App> {
  if (config.databaseUrl === undefined) return createSqliteApp(config, options);
  const { openPostgresStores } = await import('./store/postgres/stores.js');
  const { stores, applied } = await openPostgresStores(config.databaseUrl, { readonly: options.readOnlyDatabase === true }).catch(
    (error: unknown) => {
      // One line that names the database (password masked) and the driver's reason, for the operator.
      const reason = error instanceof Error ? error.message : String(error);
      throw new CommandError(redact(`cannot open the PostgreSQL database ${databaseLocation(config)} (REFUNDKIT_DATABASE_URL): ${reason}`));
    },
  );
  logMigrated(config, options, applied);
  return assemble(config, stores, options);
}

/** The app on the SQLite file at config.dbPath, opened at once (better-sqlite3 is synchronous). */
export function createSqliteApp(config: Readonly<Config>, options: AppOptions = {}): SqliteApp {
  const { stores, applied } = openSqliteStores(config.dbPath, { readonly: options.readOnlyDatabase === true });
  logMigrated(config, options, applied);
  return { ...assemble(config, stores, options), stores, db: stores.db };
}

function logMigrated(config: Readonly<Config>, options: AppOptions, applied: readonly number[]): void {
  if (applied.length > 0) (options.logger ?? silentLogger).info('database migrated', { database: databaseLocation(config), applied });
}

function assemble(config: Readonly<Config>, stores: StoreBundle, options: AppOptions): App {
  const logger = options.logger ?? silentLogger;
  const { refunds, guardrails } = stores;
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
  const clock = options.clock ?? systemClock;
  const { operators } = stores;
  const service = new RefundService({
    store: refunds,
    guardrails,
    processors,
    clock,
    settings: refundSettings(config, { lateExecutionFloorMs: STRIPE_LATE_EXECUTION_FLOOR_MS }),
    onBackgroundError: (message, detail) => logger.warn(message, detail),
    onDiscrepancy: (message, detail) => logger.error(message, detail),
  });
  return {
    config,
    stores,
    refunds,
    organizations: stores.organizations,
    apiKeys: stores.apiKeys,
    guardrails,
    webhookEvents: stores.webhookEvents,
    operators,
    operatorAuth: new OperatorAuth(operators, clock),
    processors,
    service,
    logger,
    close: () => stores.close(),
  };
}
