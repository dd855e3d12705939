/**
 * The HTTP server of `refundkit-mcp http`, on node:http with no framework: REST (/v1/refunds…),
 * Stripe webhooks (/webhooks/stripe), MCP over Streamable HTTP (/mcp) and a health check
 * (/healthz), all on one port and one refund domain. The REST path stays lean: a string switch
 * on the path, one key lookup, one service call, one JSON.stringify.
 */
import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_MCP_MAX_SESSIONS,
  DEFAULT_MCP_MAX_SESSIONS_PER_KEY,
  DEFAULT_MCP_MAX_SESSIONS_PER_ORG,
  DEFAULT_MCP_SESSION_IDLE_SECONDS,
} from '../config.js';
import { asRefundKitError, RefundKitError } from '../domain/errors.js';
import type { Caller, RefundService } from '../domain/refund-service.js';
import { systemClock, type Clock } from '../domain/ports.js';
import { silentLogger, type Logger } from '../logger.js';
import type { SqliteWebhookEventStore } from '../store/sqlite/webhook-event-store.js';
import { authenticate, WWW_AUTHENTICATE, type ApiKeyAuthenticator } from './auth.js';
import { clip, REFUND_ID_PATTERN } from '../domain/schemas.js';
import { allowedHostRules, isAllowedHost, isAllowedOrigin, type HostRule } from './host-check.js';
import { MCP_METHODS, McpRoute } from './mcp.js';
import { RefundRoutes } from './refunds.js';
import { CONTENT_TYPE, errorJson, sendError, sendJson, type Headers } from './respond.js';
import { StripeWebhookRoute } from './webhooks.js';

export interface HttpServerOptions {
  service: RefundService;
  apiKeys: ApiKeyAuthenticator;
  webhookEvents: SqliteWebhookEventStore;
  /** Throws when the database does not answer (for /healthz). */
  checkHealth: () => void;
  host: string;
  port: number;
  readOnly: boolean;
  maxBodyBytes: number;
  webhookSecret: string | undefined;
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
  /** How long close() lets requests in flight finish before cutting their connections. */
  shutdownGraceMs?: number;
}

export interface RunningHttpServer {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops accepting, ends MCP sessions, lets requests in flight finish (up to the grace time). */
  close(): Promise<void>;
}

const ROUTES =
  'GET /v1/refunds, POST /v1/refunds, GET /v1/refunds/{id}, POST /v1/refunds/{id}/cancel, POST /webhooks/stripe, GET|POST|DELETE /mcp, GET /healthz';
const REFUNDS_PREFIX = '/v1/refunds/';
const CANCEL_SUFFIX = '/cancel';

const UNMATCHED = '(no route)';

/**
 * What a log line says of a request's target: the route it matched (a template, never the path
 * as sent, which may carry anything, a credential pasted into it included) and the refund id when
 * the path holds a well-formed one.
 */
function routeOf(url: string | undefined): { route: string; refundId?: string } {
  const target = url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (path === '/v1/refunds' || path === '/healthz' || path === '/webhooks/stripe' || path === '/mcp') return { route: path };
  if (path.startsWith(REFUNDS_PREFIX)) {
    const rest = path.slice(REFUNDS_PREFIX.length);
    const slash = rest.indexOf('/');
    const id = slash === -1 ? rest : rest.slice(0, slash);
    const route =
      slash === -1 && rest !== ''
        ? '/v1/refunds/{id}'
        : slash > 0 && rest.length === slash + CANCEL_SUFFIX.length && rest.endsWith(CANCEL_SUFFIX)
          ? '/v1/refunds/{id}/cancel'
          : UNMATCHED;
    return route !== UNMATCHED && REFUND_ID_PATTERN.test(id) ? { route, refundId: id } : { route };
  }
  return { route: UNMATCHED };
}

/** The Allow header each 405 answers with. */
const ALLOW = new WeakMap<RefundKitError, string>();

function methodNotAllowed(method: string, allow: string, why?: string): RefundKitError {
  const error = new RefundKitError(
    'method_not_allowed',
    why ?? `Method ${clip(method, 20)} is not allowed here; allowed: ${allow === '' ? 'none' : allow}`,
  );
  ALLOW.set(error, allow);
  return error;
}

class HttpApp {
  private readonly refunds: RefundRoutes;
  private readonly webhook: StripeWebhookRoute;
  readonly mcp: McpRoute;
  private readonly logger: Logger;
  private hostRules: HostRule[] = [];
  /** Set once shutdown begins: answers then ask clients to close their connection. */
  closing = false;
  /** Connections with a response under way, and its request: a parse error there is answered through it, or not at all. */
  private readonly answering = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>();

  constructor(private readonly options: HttpServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.refunds = new RefundRoutes({ service: options.service, maxBodyBytes: options.maxBodyBytes });
    this.webhook = new StripeWebhookRoute({
      service: options.service,
      events: options.webhookEvents,
      secret: options.webhookSecret,
      maxBodyBytes: options.maxBodyBytes,
      clock: options.clock ?? systemClock,
      logger: this.logger,
    });
    this.mcp = new McpRoute({
      service: options.service,
      readOnly: options.readOnly,
      logger: this.logger,
      maxBodyBytes: options.maxBodyBytes,
      sessionIdleMs: options.mcpSessionIdleMs ?? DEFAULT_MCP_SESSION_IDLE_SECONDS * 1000,
      maxSessions: options.mcpMaxSessions ?? DEFAULT_MCP_MAX_SESSIONS,
      maxSessionsPerOrg: options.mcpMaxSessionsPerOrg ?? DEFAULT_MCP_MAX_SESSIONS_PER_ORG,
      maxSessionsPerKey: options.mcpMaxSessionsPerKey ?? DEFAULT_MCP_MAX_SESSIONS_PER_KEY,
      clock: options.clock ?? systemClock,
    });
  }

  /** Once the port is known (port 0 picks one), the names /mcp answers to follow from it. */
  bound(port: number): void {
    this.hostRules = allowedHostRules(this.options.host, port, this.options.allowedHosts);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.closing) res.shouldKeepAlive = false;
    const socket = req.socket;
    this.answering.set(socket, { req, res });
    res.once('close', () => {
      if (this.answering.get(socket)?.res === res) this.answering.delete(socket);
    });
    const logged = this.options.logRequests === true;
    const started = logged ? performance.now() : 0;
    const handled = this.route(req, res).catch((thrown: unknown) => this.fail(req, res, thrown));
    if (!logged) return;
    void handled.finally(() => {
      this.logger.debug('http', {
        method: req.method,
        ...routeOf(req.url),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    });
  };

  /**
   * A request node:http could not parse (a control character in a header, a request line that is
   * not HTTP, headers past the size limit, a body whose chunked encoding is broken, one too slow to
   * arrive) gets the same error body as every other refusal, where node:http's own answer would be
   * a bare status with no body, or none at all. The connection closes after it.
   */
  readonly clientError = (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const inFlight = this.answering.get(socket);
    // A response is under way on this connection. If its own request is the one that broke (in
    // its body) and nothing was sent yet, the refusal is that response; a request pipelined
    // behind a complete one must not write into another's answer.
    if (inFlight !== undefined && (inFlight.req.complete || inFlight.res.headersSent)) {
      socket.destroy();
      return;
    }
    this.logger.debug('http request refused by the HTTP parser', { code: error.code });
    const { status, refusal } = parserRefusal(error.code);
    if (inFlight !== undefined) {
      sendRefusal(inFlight.res, status, refusal);
      return;
    }
    socket.end(rawRefusal(status, refusal), () => socket.destroy());
  };

  /** An Expect header other than 100-continue: node:http would answer a bare 417. */
  readonly checkExpectation = (req: IncomingMessage, res: ServerResponse): void => {
    const expect = clip(req.headers.expect ?? '', 100);
    sendRefusal(res, 417, new RefundKitError('validation_error', `Expect: ${expect} is not supported; only Expect: 100-continue is`));
  };

  /** CONNECT (a proxy tunnel): node:http would drop the connection without a word. */
  readonly connect = (_req: IncomingMessage, socket: Duplex): void => {
    socket.on('error', () => socket.destroy());
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = new RefundKitError('method_not_allowed', 'Method CONNECT is not allowed: this server is not a proxy');
    socket.end(rawRefusal(405, refusal, 'allow: \r\n'), () => socket.destroy());
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // node:http's own check (requireHostHeader) answers a bare 400: this one has the error body.
    if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
      sendRefusal(res, 400, new RefundKitError('validation_error', 'Request has no Host header: HTTP/1.1 requires one'));
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';

    if (path === '/v1/refunds') {
      if (method === 'GET' || method === 'HEAD') {
        await this.refunds.list(res, await this.caller(req), query);
        return;
      }
      if (method === 'POST') {
        if (this.options.readOnly) throw this.readOnly('GET, HEAD');
        await this.refunds.create(req, res, await this.caller(req), query);
        return;
      }
      throw methodNotAllowed(method, this.options.readOnly ? 'GET, HEAD' : 'GET, HEAD, POST');
    }
    if (path.startsWith(REFUNDS_PREFIX)) {
      const rest = path.slice(REFUNDS_PREFIX.length);
      const slash = rest.indexOf('/');
      if (slash === -1 && rest !== '') {
        if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, 'GET, HEAD');
        await this.refunds.get(res, await this.caller(req), rest, query);
        return;
      }
      if (slash > 0 && rest.length === slash + CANCEL_SUFFIX.length && rest.endsWith(CANCEL_SUFFIX)) {
        if (method !== 'POST') throw methodNotAllowed(method, this.options.readOnly ? '' : 'POST');
        if (this.options.readOnly) throw this.readOnly('');
        await this.refunds.cancel(req, res, await this.caller(req), rest.slice(0, slash), query);
        return;
      }
      throw this.notFound(method);
    }
    if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, 'GET, HEAD');
      this.health(res);
      return;
    }
    if (path === '/webhooks/stripe') {
      if (method !== 'POST') throw methodNotAllowed(method, this.options.readOnly ? '' : 'POST');
      // Recording a delivery writes. Refused, it is not lost: Stripe retries it for three days.
      if (this.options.readOnly) {
        throw methodNotAllowed(
          'POST',
          '',
          'This server is read-only (REFUNDKIT_READ_ONLY=1): it records no webhook deliveries; send them to a server without it',
        );
      }
      await this.webhook.handle(req, res);
      return;
    }
    if (path === '/mcp') {
      // DNS-rebinding protection comes first: a page that rebound a name to us learns nothing.
      // The refusals do not repeat the header: the caller knows what it sent, and a credential
      // pasted into it must not come back.
      if (!isAllowedHost(req.headers.host, this.hostRules)) {
        throw new RefundKitError(
          'host_not_allowed',
          'The Host header names a host this server does not serve: add the name to REFUNDKIT_HTTP_ALLOWED_HOSTS to allow it',
        );
      }
      if (!isAllowedOrigin(req.headers.origin, this.hostRules)) {
        throw new RefundKitError(
          'host_not_allowed',
          'The Origin header names a host this server does not serve: add its host to REFUNDKIT_HTTP_ALLOWED_HOSTS to allow it',
        );
      }
      if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') throw methodNotAllowed(method, MCP_METHODS);
      await this.mcp.handle(req, res, await authenticate(req, this.options.apiKeys));
      return;
    }
    throw this.notFound(method);
  }

  private async caller(req: IncomingMessage): Promise<Caller> {
    return { organizationId: (await authenticate(req, this.options.apiKeys)).organizationId, actor: 'api' };
  }

  private readOnly(allow: string): RefundKitError {
    return methodNotAllowed(
      'POST',
      allow,
      'This server is read-only (REFUNDKIT_READ_ONLY=1): refunds cannot be created or cancelled through it',
    );
  }

  /** The path is not repeated (the caller has it, and it may carry a credential pasted into it). */
  private notFound(method: string): RefundKitError {
    return new RefundKitError('route_not_found', `No route for ${clip(method, 20)} at this path; routes: ${ROUTES}`);
  }

  private health(res: ServerResponse): void {
    try {
      this.options.checkHealth();
    } catch (error) {
      this.logger.error('health check failed', { error });
      sendJson(res, 503, { status: 'unavailable' });
      return;
    }
    sendJson(res, 200, { status: 'ok' });
  }

  private fail(req: IncomingMessage, res: ServerResponse, thrown: unknown): void {
    if (req.destroyed && !req.complete) {
      // The client went away mid-request (reading its body failed): nobody to answer.
      this.logger.debug('http request aborted by the client', { method: req.method, ...routeOf(req.url) });
      // Already answered when the HTTP parser refused the rest of the body: let that answer go out.
      if (!res.writableEnded) res.destroy();
      return;
    }
    const error = asRefundKitError(thrown);
    if (error.code === 'internal_error') {
      this.logger.error('http request failed', { method: req.method, ...routeOf(req.url), error: thrown });
    }
    if (res.headersSent) {
      // Too late for an error body (an SSE stream was under way): end the connection.
      res.destroy();
      return;
    }
    const headers: Headers = {};
    if (error.code === 'invalid_api_key') Object.assign(headers, WWW_AUTHENTICATE);
    const allow = ALLOW.get(error);
    if (allow !== undefined) headers.allow = allow;
    // An unread body would be read as the next request: close instead.
    if (error.code === 'payload_too_large' || !req.complete) headers.connection = 'close';
    sendError(res, error, headers);
  }
}

/** What node:http's parser refused, as our error and the status node:http itself would send. */
function parserRefusal(code: string | undefined): { status: number; refusal: RefundKitError } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, refusal: new RefundKitError('payload_too_large', `Request line and headers are larger than ${maxHeaderSize} bytes`) };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, refusal: new RefundKitError('payload_too_large', 'Request body has chunk extensions larger than this server accepts') };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, refusal: new RefundKitError('validation_error', 'Request was not received in time: send the whole request without pausing') };
    case 'HPE_INVALID_CHUNK_SIZE':
      return { status: 400, refusal: new RefundKitError('validation_error', 'Request body is not valid chunked transfer encoding') };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return {
        status: 400,
        refusal: new RefundKitError('validation_error', 'Request has an invalid Content-Length header, or one alongside Transfer-Encoding'),
      };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, refusal: new RefundKitError('validation_error', 'Request has an invalid Transfer-Encoding header') };
    default:
      return { status: 400, refusal: new RefundKitError('validation_error', 'Request is not valid HTTP/1.1: a malformed request line or header') };
  }
}

/** A refusal below routing, whose status is not its code's usual one; the connection closes after it. */
function sendRefusal(res: ServerResponse, status: number, refusal: RefundKitError): void {
  const body = errorJson(refusal);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', connection: 'close' });
  res.end(body);
}

/** The same, written on a connection node:http has no response object for. */
function rawRefusal(status: number, refusal: RefundKitError, extraHeaders = ''): string {
  const body = errorJson(refusal);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${CONTENT_TYPE}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n${extraHeaders}\r\n${body}`
  );
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const app = new HttpApp(options);
  // No Host header is refused in route(), with the error body node:http's own check leaves out.
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000, requireHostHeader: false }, app.handle);
  server.on('clientError', app.clientError);
  server.on('checkExpectation', app.checkExpectation);
  server.on('connect', app.connect);
  // Longer than the usual load balancer idle timeout (60 s), so that it closes first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  app.bound(address.port);
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    server,
    close: () => {
      closing ??= closeServer(server, app, options.shutdownGraceMs ?? 10_000);
      return closing;
    },
  };
}

async function closeServer(server: Server, app: HttpApp, graceMs: number): Promise<void> {
  app.closing = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await app.mcp.close();
  // Keep-alive connections go as soon as they are idle; those with a request in flight finish
  // it first (its answer says Connection: close), up to the grace time.
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
