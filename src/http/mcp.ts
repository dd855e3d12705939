/**
 * /mcp: the MCP tools over Streamable HTTP, for agent frameworks that reach the server over the
 * network. Every request carries the same bearer key as the REST API; the key's organization is
 * the one the session's tools see, and what they create or cancel is stamped `mcp`.
 *
 * Sessions are kept in this process (Mcp-Session-Id), each with its own McpServer built by the
 * same factory as stdio; a session belongs to the organization that opened it, and a request with
 * another organization's key is told the session does not exist. Behind a load balancer with
 * several processes, either route a session to the process that opened it (sticky sessions) or
 * run /mcp without sessions (mcp-stateless.ts, REFUNDKIT_MCP_STATELESS, the PostgreSQL default).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../domain/ports.js';
import type { RefundService } from '../domain/refund-service.js';
import type { Logger } from '../logger.js';
import type { Server as McpServer, StreamableHTTPServerTransport } from '../mcp/sdk.js';
import { connectTransport } from './mcp-connect.js';
import { ceilingRefusal, perKeyRefusal, perOrgRefusal, Tally, type Refusal } from './mcp-caps.js';
import { loadModules, sendRpcError } from './mcp-modules.js';
import type { Identity } from './ports.js';

export const MCP_METHODS = 'GET, POST, DELETE';

interface McpRouteOptions {
  service: RefundService;
  readOnly: boolean;
  logger: Logger;
  maxBodyBytes: number;
  /** A session with no request for this long is ended, its open GET stream included. */
  sessionIdleMs: number;
  /** Ceiling on sessions in this process: past it a new session is refused, nobody's is ended. */
  maxSessions: number;
  /** Sessions one organization may hold. */
  maxSessionsPerOrg: number;
  /** Sessions opened with one key. */
  maxSessionsPerKey: number;
  /** What idle time is measured with (the sweep itself runs on a timer). */
  clock: Clock;
}

interface Session {
  id: string;
  organizationId: string;
  /** The key that opened it: the per-key cap counts it there. */
  keyId: string;
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  /** When a request last began or ended on it (an open GET stream is not a request). */
  lastSeen: number;
  /** POST and DELETE requests still being answered: such a session is neither idle nor evicted. */
  requests: number;
}

/**
 * Sessions are bounded three ways, so that memory is bounded by construction and no tenant can
 * end another's session: per key, per organization, and a ceiling for the process. A key or an
 * organization at its cap has its own key's least recently used idle session ended to make room:
 * agent frameworks commonly open a session per run and never send DELETE (the SDK client's close()
 * does not), and refusing them would lock such a client out until its old sessions expire. A
 * session with a request in progress is never ended that way; when none of the key's own is idle,
 * the new session is refused (429). At the ceiling, a new session is refused (503): nobody else's
 * session is ever ended to make room for it.
 */
export class McpRoute {
  private readonly sessions = new Map<string, Session>();
  /** Sessions, and initialize requests being answered, counted against the caps. */
  private total = 0;
  private readonly perOrg = new Tally();
  private readonly perKey = new Tally();
  private readonly sweepMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: McpRouteOptions) {
    // A session outlives its idle time by at most half of it, and by a minute at most.
    this.sweepMs = Math.min(60_000, Math.max(50, options.sessionIdleMs / 2));
    this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
    this.sweeper.unref();
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }

  /** Called once the request's Host, Origin and key were accepted. */
  async handle(req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    if (this.closed) {
      sendRpcError(res, 503, -32000, 'Server is shutting down');
      return;
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const session = this.sessions.get(sessionId);
      // Another organization's session does not exist for this caller.
      if (session === undefined || session.organizationId !== identity.organizationId) {
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
    await this.open(req, res, identity);
  }

  /** A POST without a session: an initialize request opens one (the transport checks that). */
  private async open(req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    const refusal = this.admit(identity);
    if (refusal !== null) {
      sendRpcError(res, refusal.status, -32000, refusal.message, { 'retry-after': Math.ceil(this.sweepMs / 1000) });
      return;
    }
    // The slot is taken before the first await, so that initialize requests arriving together
    // cannot overshoot a cap; it becomes the session's, or is given back below.
    this.count(identity, 1);
    const { organizationId, keyId, scopes } = identity;
    let server: McpServer | undefined;
    let session: Session | undefined;
    try {
      const { Transport, createMcpServer, invalidParams } = await loadModules();
      const opened = createMcpServer({
        service: this.options.service,
        caller: { organizationId, actor: 'mcp', keyId },
        readOnly: this.options.readOnly,
        scopes,
        logger: this.options.logger,
      });
      server = opened;
      const transport = new Transport({
        sessionIdGenerator: () => randomUUID(),
        maxRequestBodySize: this.options.maxBodyBytes,
        onsessioninitialized: (id) => {
          session = { id, organizationId, keyId, transport, server: opened, lastSeen: this.now(), requests: 1 };
          this.sessions.set(id, session);
          this.options.logger.debug('mcp session opened', { sessionId: id, organizationId });
        },
      });
      // Set before connect, which chains its own handler after this one.
      transport.onclose = () => {
        if (session !== undefined && this.forget(session)) {
          this.options.logger.debug('mcp session closed', { sessionId: session.id });
        }
      };
      await connectTransport(opened, transport, invalidParams);
      await transport.handleRequest(req, res);
    } finally {
      if (session === undefined) {
        // Not an initialize request (the transport has answered 400): nothing to keep.
        this.count(identity, -1);
        await server?.close().catch(() => undefined);
      } else {
        this.release(session, res, true);
        // Opened while the server was shutting down: close() did not see it.
        if (this.closed) void this.end(session, 'shutdown');
      }
    }
  }

  /**
   * Whether a new session may be opened for this key now. At the key's or the organization's cap,
   * the key's own least recently used idle session is ended to make room (it frees a slot under
   * the ceiling too); never anyone else's.
   */
  private admit(identity: Identity): Refusal | null {
    const { maxSessions, maxSessionsPerOrg, maxSessionsPerKey } = this.options;
    const keyFull = this.perKey.get(identity.keyId) >= maxSessionsPerKey;
    const orgFull = this.perOrg.get(identity.organizationId) >= maxSessionsPerOrg;
    if (keyFull || orgFull) {
      const oldest = this.oldestIdle(identity.keyId);
      if (oldest !== undefined) {
        void this.end(oldest, keyFull ? 'replaced by a new session of its key (per-key cap)' : 'replaced by a new session of its key (per-organization cap)');
        return null;
      }
      this.options.logger.debug('mcp session refused', { organizationId: identity.organizationId, keyId: identity.keyId, cap: keyFull ? 'key' : 'organization' });
      return keyFull ? perKeyRefusal(maxSessionsPerKey) : perOrgRefusal(maxSessionsPerOrg);
    }
    if (this.total >= maxSessions) {
      this.options.logger.warn('mcp session refused: the server holds its maximum of sessions', { maxSessions });
      return ceilingRefusal(maxSessions);
    }
    return null;
  }

  private oldestIdle(keyId: string): Session | undefined {
    let oldest: Session | undefined;
    for (const session of this.sessions.values()) {
      if (session.keyId === keyId && session.requests === 0 && (oldest === undefined || session.lastSeen < oldest.lastSeen)) oldest = session;
    }
    return oldest;
  }

  private count(owner: { organizationId: string; keyId: string }, delta: 1 | -1): void {
    this.total += delta;
    this.perOrg.add(owner.organizationId, delta);
    this.perKey.add(owner.keyId, delta);
  }

  private async serve(session: Session, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A GET is the stream server messages would come down: holding one open is not activity.
    const counted = req.method !== 'GET';
    if (counted) session.requests += 1;
    session.lastSeen = this.now();
    try {
      await session.transport.handleRequest(req, res);
    } finally {
      this.release(session, res, counted);
    }
  }

  /** The request is done once its response is (an SSE stream may outlive handleRequest). */
  private release(session: Session, res: ServerResponse, counted: boolean): void {
    const done = (): void => {
      if (counted) session.requests -= 1;
      session.lastSeen = this.now();
    };
    if (res.writableFinished || res.destroyed) done();
    else res.once('close', done);
  }

  /** Ends sessions with no request for the idle time; closing one closes its GET stream too. */
  private sweep(): void {
    const cutoff = this.now() - this.options.sessionIdleMs;
    for (const session of this.sessions.values()) {
      if (session.requests === 0 && session.lastSeen < cutoff) void this.end(session, 'idle');
    }
  }

  /** Takes the session out of the table and the counts, once. */
  private forget(session: Session): boolean {
    if (this.sessions.get(session.id) !== session) return false;
    this.sessions.delete(session.id);
    this.count(session, -1);
    return true;
  }

  private async end(session: Session, why: string): Promise<void> {
    if (!this.forget(session)) return;
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
