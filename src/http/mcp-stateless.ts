/**
 * /mcp without sessions (stateless Streamable HTTP), for several processes behind a plain
 * round-robin balancer: any request may reach any process, so no process may remember one. Each
 * POST gets its own transport and McpServer, built for the caller its key names, answers (one JSON
 * body) and is closed; the next POST, wherever it lands, starts afresh.
 *
 * What that costs: there is no stream for the server to speak on after the answer, so GET (the
 * server-to-client stream) and DELETE (ending a session) are 405, and the session caps do not apply
 * (nothing outlives its request). Nor can a tool call wait for the person's answer to an
 * elicitation: the answer would come as another POST, to any process. So no tool call here is
 * given the capability to ask, and a write the policy wants confirmed degrades as it does for a
 * client that cannot ask: a create waits for a person's approval, a cancel is refused.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RefundService } from '../domain/refund-service.js';
import type { Logger } from '../logger.js';
import type { Server as McpServer } from '../mcp/sdk.js';
import { connectTransport } from './mcp-connect.js';
import { loadModules, sendRpcError } from './mcp-modules.js';
import type { Identity } from './ports.js';

interface StatelessOptions {
  service: RefundService;
  readOnly: boolean;
  logger: Logger;
  maxBodyBytes: number;
}

const NO_STREAM = 'Method not allowed: this server runs /mcp without sessions (stateless), so there is no stream to open or session to end; send each request as a POST';

export class StatelessMcpRoute {
  /** Servers answering a request now: a shutdown closes them. */
  private readonly open = new Set<McpServer>();
  private closed = false;

  constructor(private readonly options: StatelessOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    if (this.closed) {
      sendRpcError(res, 503, -32000, 'Server is shutting down');
      return;
    }
    if (req.method !== 'POST') {
      sendRpcError(res, 405, -32000, NO_STREAM, { allow: 'POST' });
      return;
    }
    const { Transport, createMcpServer, invalidParams } = await loadModules();
    const server = createMcpServer({
      service: this.options.service,
      caller: { organizationId: identity.organizationId, actor: 'mcp', keyId: identity.keyId },
      readOnly: this.options.readOnly,
      scopes: identity.scopes,
      logger: this.options.logger,
      // The answer to a question would reach another process: never ask (see above).
      canConfirm: false,
    });
    this.open.add(server);
    try {
      // No sessionIdGenerator: the SDK's stateless mode (no Mcp-Session-Id, any request on its own).
      const transport = new Transport({ enableJsonResponse: true, maxRequestBodySize: this.options.maxBodyBytes });
      await connectTransport(server, transport, invalidParams);
      await transport.handleRequest(req, res);
    } finally {
      const done = (): void => {
        this.open.delete(server);
        void server.close().catch(() => undefined);
      };
      if (res.writableFinished || res.destroyed) done();
      else res.once('close', done);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.open].map((server) => server.close().catch(() => undefined)));
    this.open.clear();
  }
}
