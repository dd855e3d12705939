/**
 * `refundkit-mcp http`: the REST API, Stripe webhooks, MCP over Streamable HTTP and /healthz on
 * one port, with the background loop (submissions, status reads) every serving process runs.
 * SIGTERM/SIGINT stop it gracefully: no new connections, requests in flight finish, the
 * background pass in progress ends, then the database is closed.
 */
import { createApp } from '../app.js';
import { startBackgroundWork } from '../background.js';
import { databaseLocation, type Config } from '../config.js';
import { isWildcardHost } from '../http/host-check.js';
import type { RunningHttpServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import { CommandError, type Io } from './common.js';

export const HTTP_HELP = `Usage: refundkit-mcp http [--port 3000] [--host 127.0.0.1]

Serves, on one port:
  GET  /v1/refunds               list refunds (status, processor, limit, offset)
  POST /v1/refunds               create a refund (Idempotency-Key header honoured)
  GET  /v1/refunds/{id}          get a refund
  POST /v1/refunds/{id}/cancel   cancel a refund (empty body or {})
  POST /webhooks/stripe          Stripe webhook endpoint (needs STRIPE_WEBHOOK_SECRET)
  /mcp                           the MCP tools over Streamable HTTP
  GET  /healthz                  health check for load balancers
  /dashboard                     the operator dashboard (operators sign in; see docs/dashboard.md)
Every route but /webhooks/stripe (signed by Stripe), /healthz and /dashboard takes Authorization: Bearer
rk_live_… (the key decides the organization). Prints the URL it listens on alone on stdout; logs
go to stderr. SIGTERM/SIGINT stop it gracefully.

  --port N    port to listen on (default REFUNDKIT_HTTP_PORT or 3000; 0 picks a free one)
  --host H    interface to listen on (default REFUNDKIT_HTTP_HOST or 127.0.0.1; 0.0.0.0 for all,
              then list the names clients use in REFUNDKIT_HTTP_ALLOWED_HOSTS for /mcp)`;

/**
 * How long a handled webhook event is remembered. Stripe retries an unacknowledged delivery for
 * up to three days, and a delivery's signature is only good for five minutes, so an older event
 * can no longer arrive as a valid replay; a month leaves a wide margin.
 */
export const WEBHOOK_EVENT_RETENTION_MS = 30 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

export interface HttpCommandOptions {
  port?: number;
  host?: string;
}

export async function runHttp(config: Readonly<Config>, options: HttpCommandOptions, io: Io): Promise<void> {
  const logger = createLogger(config.logLevel);
  const host = options.host ?? config.http.host;
  const port = options.port ?? config.http.port;
  const app = await createApp(config, { logger, readOnlyDatabase: config.readOnly });
  const { webhookEvents } = app;
  let running: RunningHttpServer;
  try {
    // Loaded here, not at start: the stdio server, started for every conversation, never needs it.
    const { startHttpServer } = await import('../http/server.js');
    const { httpServerOptions } = await import('./http-options.js');
    running = await startHttpServer({ ...httpServerOptions(app, logger), host, port });
  } catch (error) {
    await app.close();
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    let why = error instanceof Error ? error.message : String(error);
    if (code === 'EADDRINUSE') why = 'the port is in use (pick another --port)';
    if (code === 'EACCES') why = 'permission denied (ports below 1024 need privileges)';
    throw new CommandError(`cannot listen on ${host}:${port}: ${why}`);
  }
  // A read-only server writes nothing: no background pass, no forgetting of webhook events.
  const background = startBackgroundWork(app.service, logger, config.readOnly ? 0 : config.dispatchIntervalSeconds * 1000);
  const pruneWebhookEvents = async (): Promise<void> => {
    try {
      const pruned = await webhookEvents.prune(new Date(Date.now() - WEBHOOK_EVENT_RETENTION_MS).toISOString());
      if (pruned > 0) logger.info('forgot old webhook events', { pruned, olderThanDays: WEBHOOK_EVENT_RETENTION_MS / 86_400_000 });
      // Expired dashboard sessions and sign-in failures older than the rate limit's window.
      const forgotten = await app.operatorAuth.prune();
      if (forgotten > 0) logger.info('forgot expired dashboard sessions and old sign-in failures', { forgotten });
    } catch (error) {
      // A busy database now is no reason to stop serving; the next round tries again.
      logger.warn('pruning old webhook events and dashboard sessions failed', { error });
    }
  };
  let pruning: NodeJS.Timeout | undefined;
  if (!config.readOnly) {
    void pruneWebhookEvents();
    pruning = setInterval(() => void pruneWebhookEvents(), PRUNE_EVERY_MS);
    pruning.unref();
  } else if (config.stripe.webhookSecret !== undefined) {
    logger.warn('read-only: POST /webhooks/stripe refuses deliveries (405); send them to a server without REFUNDKIT_READ_ONLY');
  }
  if (isWildcardHost(host) && config.http.allowedHosts.length === 0) {
    logger.warn('listening on every interface: /mcp answers only to localhost names until REFUNDKIT_HTTP_ALLOWED_HOSTS lists the others');
  }
  logger.info('serving HTTP', {
    url: running.url,
    database: databaseLocation(config),
    readOnly: config.readOnly,
    processors: app.processors.names(),
    webhooks: config.stripe.webhookSecret !== undefined,
  });
  io.out(running.url);

  let closing = false;
  const shutdown = (why: string): void => {
    if (closing) {
      // A second signal: the operator does not want to wait.
      logger.warn('forced exit', { why });
      process.exit(1);
    }
    closing = true;
    if (pruning !== undefined) clearInterval(pruning);
    logger.info('shutting down', { why });
    void Promise.all([running.close(), background.stop()])
      .catch((error: unknown) => logger.error('shutdown failed', { error }))
      .finally(() => app.close())
      .catch((error: unknown) => logger.error('closing the database failed', { error }))
      .finally(() => {
        logger.info('stopped');
        process.exit(0);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
