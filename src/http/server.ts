/**
 * The HTTP server of `refundkit-mcp http`, on Fastify: REST (/v1/refunds…, built from the
 * operation table), Stripe webhooks (/webhooks/stripe), MCP over Streamable HTTP (/mcp) and a
 * health check (/healthz), all on one port and one refund domain, with one error handler that
 * writes the reference's error body.
 *
 * Where Fastify's defaults differ from the contract the tests hold, they are set back here: the
 * request target is routed as sent ('#' and a malformed escape are part of the path), any path
 * parameter length reaches the schema, bodies are judged by the routes (size, then type), a 404 of
 * a known path is a 405 with Allow, and shutdown lets requests in flight finish.
 */
import { createServer, maxHeaderSize, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  DEFAULT_MCP_MAX_SESSIONS,
  DEFAULT_MCP_MAX_SESSIONS_PER_KEY,
  DEFAULT_MCP_MAX_SESSIONS_PER_ORG,
  DEFAULT_MCP_SESSION_IDLE_SECONDS,
} from '../config.js';
import type { Clock, WebhookReader } from '../domain/ports.js';
import { systemClock } from '../domain/ports.js';
import type { RefundService } from '../domain/refund-service.js';
import { silentLogger, type Logger } from '../logger.js';
import { allOperations } from '../operations/index.js';
import { Connections } from './connections.js';
import { checkExpectation, clientErrorHandler, refuseConnect, refuseWithoutHost } from './below-routing.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { allowedHostRules, type HostRule } from './host-check.js';
import { McpRoute } from './mcp.js';
import { MCP_METHOD_LIST, MCP_PATH, registerMcpRoute, type McpHandler } from './mcp-route.js';
import { StatelessMcpRoute } from './mcp-stateless.js';
import type { ApiKeyAuthenticator, WebhookEventLog } from './ports.js';
import { registerOperatorRoutes } from './operator-routes.js';
import { registerRestRoutes } from './rest.js';
import { hideContentType } from './content-type.js';
import { registerHealth } from './health.js';
import { RoutesDirectory } from './routes-directory.js';
import { registerStripeWebhook, STRIPE_WEBHOOK_PATH } from './webhooks.js';
import { registerDashboard, type DashboardDeps } from '../web/dashboard.js';
import { HTTP_STATUS } from './errors.js';

export interface HttpServerOptions {
  service: RefundService;
  apiKeys: ApiKeyAuthenticator;
  webhookEvents: WebhookEventLog;
  /** Throws (or rejects) when the database does not answer (for /healthz). */
  checkHealth: () => unknown;
  host: string;
  port: number;
  readOnly: boolean;
  maxBodyBytes: number;
  /** Reads Stripe's webhook deliveries (the Stripe processor's, with STRIPE_WEBHOOK_SECRET); undefined when no secret is set. */
  stripeWebhookReader: WebhookReader | undefined;
  /** REFUNDKIT_HTTP_ALLOWED_HOSTS: names /mcp answers to besides the bound host. */
  allowedHosts: readonly string[];
  logger?: Logger;
  /** One debug line per request (method, path, status, ms); off unless the log level is debug. */
  logRequests?: boolean;
  clock?: Clock;
  /** /mcp session limits (REFUNDKIT_MCP_*); the defaults are config.ts's. */
  mcpSessionIdleMs?: number;
  mcpMaxSessions?: number;
  mcpMaxSessionsPerOrg?: number;
  mcpMaxSessionsPerKey?: number;
  /** /mcp without sessions (REFUNDKIT_MCP_STATELESS): for several processes behind a balancer. */
  mcpStateless?: boolean;
  /** How long close() lets requests in flight finish before cutting their connections. */
  shutdownGraceMs?: number;
  /** The operator dashboard's stores (/dashboard); without them it is not served. */
  dashboard?: Omit<DashboardDeps, 'service' | 'readOnly' | 'clock' | 'logger' | 'httpStatus'>;
}

export interface RunningHttpServer {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops accepting, ends MCP sessions, lets requests in flight finish (up to the grace time). */
  close(): Promise<void>;
}

/**
 * The request target as today's routes read it: a '#' is part of the path (clients never send a
 * fragment), and a path whose escapes do not decode is routed as the text it is, so that a
 * malformed id reaches the id's own validation message instead of a bad-URL answer.
 */
function targetAsSent(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.includes('%') && !path.includes('#')) return url;
  const routed = (decodes(path) ? path : path.replaceAll('%', '%25')).replaceAll('#', '%23');
  return q === -1 ? routed : routed + url.slice(q);
}

/** Whether decodeURI takes the path. Its answer is used: a bundler drops a call whose result is not. */
function decodes(path: string): boolean {
  try {
    return decodeURI(path) !== '';
  } catch {
    return false;
  }
}


export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const logger = options.logger ?? silentLogger;
  const connections = new Connections();
  const routes = new RoutesDirectory();
  let hostRules: readonly HostRule[] = [];
  const app = Fastify({
    serverFactory: (handler) => {
      // No Host header is refused by refuseWithoutHost, with the error body node:http's own check leaves out.
      const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000, requireHostHeader: false }, (req, res) => {
        connections.onRequest(req, res);
        if (!refuseWithoutHost(req, res)) handler(req, res);
      });
      server.on('checkExpectation', checkExpectation);
      server.on('connect', refuseConnect);
      // Longer than the usual load balancer idle timeout (60 s), so that it closes first.
      server.keepAliveTimeout = 65_000;
      connections.attach(server);
      return server;
    },
    logger: false,
    // Requests that come during shutdown are served, with Connection: close.
    return503OnClosing: false,
    rewriteUrl: targetAsSent,
    // No parameter is cut short by the router: the request line's own limit is the limit.
    routerOptions: { maxParamLength: maxHeaderSize },
    clientErrorHandler: clientErrorHandler(logger, connections.answering),
    // What the router itself refuses gets the reference's error body too.
    frameworkErrors: errorHandler(logger, routes),
  });
  const mcp: McpHandler = options.mcpStateless === true
    ? new StatelessMcpRoute({ service: options.service, readOnly: options.readOnly, logger, maxBodyBytes: options.maxBodyBytes })
    : new McpRoute({
    service: options.service,
    readOnly: options.readOnly,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    sessionIdleMs: options.mcpSessionIdleMs ?? DEFAULT_MCP_SESSION_IDLE_SECONDS * 1000,
    maxSessions: options.mcpMaxSessions ?? DEFAULT_MCP_MAX_SESSIONS,
    maxSessionsPerOrg: options.mcpMaxSessionsPerOrg ?? DEFAULT_MCP_MAX_SESSIONS_PER_ORG,
    maxSessionsPerKey: options.mcpMaxSessionsPerKey ?? DEFAULT_MCP_MAX_SESSIONS_PER_KEY,
    clock: options.clock ?? systemClock,
  });
  app.setErrorHandler(errorHandler(logger, routes));
  // A 404 or 405 never reads the body; its Content-Type must not turn it into a 415 either. The
  // hook that hides it sits in the not-found handler's own scope, so that no route pays for it.
  app.removeAllContentTypeParsers();
  await app.register((scope: FastifyInstance, _options, done) => {
    scope.addHook('onRequest', hideContentType);
    scope.setNotFoundHandler(notFoundHandler(routes));
    done();
  });
  if (options.logRequests === true) {
    app.addHook('onResponse', (request, reply, done) => {
      logger.debug('http', {
        method: request.method,
        ...routes.logFields(request.originalUrl),
        status: reply.raw.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      });
      done();
    });
  }
  // The API in a scope of its own: its body handling does not reach scopes registered beside it.
  await app.register((api: FastifyInstance, _options, done) => {
    // The routes read their bodies themselves (body.ts); Fastify leaves them unread.
    api.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    registerRestRoutes(api, allOperations, { ...options, routes });
    registerOperatorRoutes(api, { ...options, routes });
    registerStripeWebhook(api, {
      service: options.service,
      events: options.webhookEvents,
      read: options.stripeWebhookReader,
      readOnly: options.readOnly,
      maxBodyBytes: options.maxBodyBytes,
      clock: options.clock ?? systemClock,
      logger,
    });
    routes.add(STRIPE_WEBHOOK_PATH, options.readOnly ? [] : ['POST'], `POST ${STRIPE_WEBHOOK_PATH}`);
    registerMcpRoute(api, mcp, { apiKeys: options.apiKeys, hostRules: () => hostRules, logger });
    routes.add(MCP_PATH, MCP_METHOD_LIST, `${MCP_METHOD_LIST.join('|')} ${MCP_PATH}`);
    registerHealth(api, options.checkHealth, routes, logger);
    done();
  });
  if (options.dashboard !== undefined) {
    await registerDashboard(app, {
      ...options.dashboard,
      service: options.service,
      readOnly: options.readOnly,
      clock: options.clock ?? systemClock,
      logger,
      httpStatus: (code) => HTTP_STATUS[code],
    });
  }
  await app.ready();
  const server = app.server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Once the port is known (port 0 picks one), the names /mcp answers to follow from it.
  hostRules = allowedHostRules(options.host, address.port, options.allowedHosts);
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    server,
    close: () => {
      closing ??= (async () => {
        // Fastify's own close first: from then on, answers say Connection: close.
        const stopping = app.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await mcp.close();
        await Promise.all([stopping, connections.drain(closed, options.shutdownGraceMs ?? 10_000)]);
      })();
      return closing;
    },
  };
}
