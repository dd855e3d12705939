/**
 * The HTTP server's options for an app, from its configuration: one place, used by
 * `refundkit-mcp http` and by the tests that serve an app in-process, so both run the same server.
 */
import type { App } from '../app.js';
import type { HttpServerOptions } from '../http/server.js';
import type { Logger } from '../logger.js';
import { stripeWebhookReader } from '../processors/stripe-webhook.js';

export function httpServerOptions(app: App, logger: Logger): Omit<HttpServerOptions, 'host' | 'port'> {
  const { config } = app;
  const webhookSecret = config.stripe.webhookSecret;
  return {
    service: app.service,
    apiKeys: app.apiKeys,
    webhookEvents: app.webhookEvents,
    checkHealth: () => app.stores.health(),
    readOnly: config.readOnly,
    maxBodyBytes: config.http.maxBodyBytes,
    stripeWebhookReader: webhookSecret === undefined ? undefined : stripeWebhookReader(webhookSecret),
    allowedHosts: config.http.allowedHosts,
    mcpSessionIdleMs: config.http.mcpSessionIdleSeconds * 1000,
    mcpMaxSessions: config.http.mcpMaxSessions,
    mcpMaxSessionsPerOrg: config.http.mcpMaxSessionsPerOrg,
    mcpMaxSessionsPerKey: config.http.mcpMaxSessionsPerKey,
    mcpStateless: config.http.mcpStateless,
    logger,
    logRequests: config.logLevel === 'debug',
    shutdownGraceMs: config.httpShutdownGraceSeconds * 1000,
    dashboard: {
      auth: app.operatorAuth,
      organizations: app.organizations,
      apiKeys: app.apiKeys,
      actions: app.operators,
      processors: ['sandbox', 'stripe'],
    },
  };
}
