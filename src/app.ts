/**
 * The composition root: the one place that opens the database and wires stores, processors and
 * the service together. Nothing here runs at import time.
 */
import type { Config } from './config.js';
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
} from './domain/ports.js';
import { silentLogger, type Logger } from './logger.js';
import { StaticProcessorRegistry } from './processors/registry.js';
import { SandboxProcessor } from './processors/sandbox.js';
import { STRIPE_LATE_EXECUTION_FLOOR_MS, StripeProcessor } from './processors/stripe.js';
import { migrate, openDatabase, type SqliteDatabase } from './store/sqlite/database.js';
import { SqliteApiKeyStore } from './store/sqlite/api-key-store.js';
import { SqliteGuardrailStore } from './store/sqlite/guardrail-store.js';
import { SqliteOperatorStore } from './store/sqlite/operator-store.js';
import { SqliteOrganizationStore } from './store/sqlite/organization-store.js';
import { SqliteRefundStore } from './store/sqlite/refund-store.js';

export interface App {
  config: Readonly<Config>;
  db: SqliteDatabase;
  refunds: RefundStore;
  organizations: OrganizationStore;
  apiKeys: ApiKeyStore;
  /** Agent policies and approval requests. */
  guardrails: GuardrailStore;
  /** Dashboard operators, their sessions and sign-in failures. */
  operators: OperatorStore;
  operatorAuth: OperatorAuth;
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
  const guardrails = new SqliteGuardrailStore(db);
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
  const operators = new SqliteOperatorStore(db);
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
    db,
    refunds,
    organizations: new SqliteOrganizationStore(db),
    apiKeys: new SqliteApiKeyStore(db),
    guardrails,
    operators,
    operatorAuth: new OperatorAuth(operators, clock),
    processors,
    service,
    logger,
    close: () => {
      if (db.open) db.close();
    },
  };
}
