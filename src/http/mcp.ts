/**
 * /mcp: the MCP tools over Streamable HTTP, for agent frameworks that reach the server over the
 * network. Every request carries the same bearer key as the REST API; the key's organization is
 * the one the session's tools see, and what they create or cancel is stamped `mcp`.
 *
 * Sessions are kept in this process (Mcp-Session-Id), each with its own McpServer built by the
 * same factory as stdio; a session belongs to the organization that opened it, and a request with
 * another organization's key is told the session does not exist. Behind a load balancer with
 * several processes, route a session to the process that opened it (sticky sessions).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RefundService } from '../domain/refund-service.js';
import type { Logger } from '../logger.js';
import type { invalidParams as InvalidParams } from '../mcp/params-check.js';
import type { Server as McpServer, StreamableHTTPServerTransport } from '../mcp/sdk.js';
import type { createMcpServer as CreateMcpServer } from '../mcp/server.js';
import { sendJson } from './respond.js';

export const MCP_METHODS = 'GET, POST, DELETE';

interface McpRouteOptions {
  service: RefundService;
  readOnly: boolean;
  logger: Logger;
  maxBodyBytes: number;
  /** A session with no request for this long is closed. */
  sessionIdleMs: number;
  /** Past this many sessions, the least recently used idle one is closed to make room. */
  maxSessions: number;
}

interface Session {
  id: string;
  organizationId: string;
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** Requests (and SSE streams) still open on it: such a session is never idle. */
  open: number;
}

interface Modules {
  Transport: typeof StreamableHTTPServerTransport;
  createMcpServer: typeof CreateMcpServer;
  invalidParams: typeof InvalidParams;
}

let modules: Promise<Modules> | undefined;

/** The MCP SDK's HTTP transport and our tools are loaded on the first /mcp request. */
function loadModules(): Promise<Modules> {
  modules ??= Promise.all([
    import('../mcp/sdk.js').then((sdk) => sdk.loadStreamableHttpTransport()),
    import('../mcp/server.js'),
    import('../mcp/params-check.js'),
  ]).then(([Transport, server, params]) => ({
    Transport,
    createMcpServer: server.createMcpServer,
    invalidParams: params.invalidParams,
  }));
  return modules;
}

/** The JSON-RPC error body the MCP transport itself uses for problems below the protocol. */
function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

export class McpRoute {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: McpRouteOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1_000, options.sessionIdleMs / 2)));
    this.sweeper.unref();
  }

  /** Called once the request's Host, Origin and key were accepted. */
  async handle(req: IncomingMessage, res: ServerResponse, organizationId: string): Promise<void> {
    if (this.closed) {
      sendRpcError(res, 503, -32000, 'Server is shutting down');
      return;
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const session = this.sessions.get(sessionId);
      // Another organization's session does not exist for this caller.
      if (session === undefined || session.organizationId !== organizationId) {
        sendRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      await this.serve(session, req, res);
      return;
    }
    if (req.method !== 'POST') {
      sendRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return;
    }
    await this.open(req, res, organizationId);
  }

  /** A POST without a session: an initialize request opens one (the transport checks that). */
  private async open(req: IncomingMessage, res: ServerResponse, organizationId: string): Promise<void> {
    const { Transport, createMcpServer, invalidParams } = await loadModules();
    const server = createMcpServer({
      service: this.options.service,
      caller: { organizationId, actor: 'mcp' },
      readOnly: this.options.readOnly,
      logger: this.options.logger,
    });
    let session: Session | undefined;
    const transport = new Transport({
      sessionIdGenerator: () => randomUUID(),
      maxRequestBodySize: this.options.maxBodyBytes,
      onsessioninitialized: (id) => {
        session = { id, organizationId, transport, server, lastSeen: Date.now(), open: 1 };
        this.makeRoom();
        this.sessions.set(id, session);
        this.options.logger.debug('mcp session opened', { sessionId: id, organizationId });
      },
    });
    // Set before connect, which chains its own handler after this one.
    transport.onclose = () => {
      if (session !== undefined && this.sessions.get(session.id) === session) {
        this.sessions.delete(session.id);
        this.options.logger.debug('mcp session closed', { sessionId: session.id });
      }
    };
    await server.connect(transport);
    // A request whose params do not fit its method is answered Invalid params (-32602) here: the
    // SDK would answer Internal error (-32603), as if the fault were ours (stdio does the same).
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const problem = invalidParams(message);
      if (problem === null) {
        deliver?.(message, extra);
        return;
      }
      transport.send({ jsonrpc: '2.0', id: problem.id, error: { code: -32602, message: problem.message } }).catch(() => undefined);
    };
    try {
      await transport.handleRequest(req, res);
    } finally {
      if (session === undefined) {
        // Not an initialize request (the transport has answered 400): nothing to keep.
        await server.close().catch(() => undefined);
      } else {
        this.release(session, res);
      }
    }
  }

  private async serve(session: Session, req: IncomingMessage, res: ServerResponse): Promise<void> {
    session.open += 1;
    session.lastSeen = Date.now();
    try {
      await session.transport.handleRequest(req, res);
    } finally {
      this.release(session, res);
    }
  }

  /** The request is done once its response is (an SSE stream may outlive handleRequest). */
  private release(session: Session, res: ServerResponse): void {
    const done = (): void => {
      session.open -= 1;
      session.lastSeen = Date.now();
    };
    if (res.writableFinished || res.destroyed) done();
    else res.once('close', done);
  }

  private makeRoom(): void {
    if (this.sessions.size < this.options.maxSessions) return;
    let oldest: Session | undefined;
    for (const session of this.sessions.values()) {
      if (session.open === 0 && (oldest === undefined || session.lastSeen < oldest.lastSeen)) oldest = session;
    }
    if (oldest !== undefined) void this.end(oldest, 'too many sessions');
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.sessionIdleMs;
    for (const session of this.sessions.values()) {
      if (session.open === 0 && session.lastSeen < cutoff) void this.end(session, 'idle');
    }
  }

  private async end(session: Session, why: string): Promise<void> {
    this.sessions.delete(session.id);
    this.options.logger.debug('mcp session ended', { sessionId: session.id, why });
    await session.server.close().catch(() => undefined);
  }

  /** Ends every session (and its open SSE streams), so that the HTTP server can close. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((session) => this.end(session, 'shutdown')));
  }
}
