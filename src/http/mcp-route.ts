/**
 * /mcp in Fastify, on every method, so that a request is judged in one order: Host and Origin
 * first (DNS-rebinding protection: a page that rebound a name to us learns nothing), then the
 * method, then the key. The session logic is McpRoute's (mcp.ts), or
 * StatelessMcpRoute's (mcp-stateless.ts) when there are no sessions. The SDK's transport reads the
 * body and writes the answer itself, so the request leaves Fastify's lifecycle in onRequest,
 * before Fastify would read the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { asRefundKitError, RefundKitError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { authenticate } from './auth.js';
import { isAllowedHost, isAllowedOrigin, type HostRule } from './host-check.js';
import type { Identity } from './ports.js';
import type { ApiKeyAuthenticator } from './ports.js';
import { methodNotAllowed, sendError } from './respond.js';

export const MCP_PATH = '/mcp';
export const MCP_METHOD_LIST: readonly string[] = ['GET', 'POST', 'DELETE'];

interface McpGuard {
  apiKeys: ApiKeyAuthenticator;
  /** The names this server answers to; known once it listens (port 0 picks the port). */
  hostRules: () => readonly HostRule[];
  logger: Logger;
}

/** What answers /mcp once the guard let a request through: with sessions (mcp.ts) or without (mcp-stateless.ts). */
export interface McpHandler {
  handle(req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void>;
  close(): Promise<void>;
}

export function registerMcpRoute(app: FastifyInstance, route: McpHandler, guard: McpGuard): void {
  app.all(MCP_PATH, {
    onRequest: async (request, reply) => {
      const { headers } = request.raw;
      const rules = guard.hostRules();
      // The refusals do not repeat the header: the caller knows what it sent, and a credential
      // pasted into it must not come back.
      if (!isAllowedHost(headers.host, rules)) {
        throw new RefundKitError(
          'host_not_allowed',
          'The Host header names a host this server does not serve: add the name to REFUNDKIT_HTTP_ALLOWED_HOSTS to allow it',
        );
      }
      if (!isAllowedOrigin(headers.origin, rules)) {
        throw new RefundKitError(
          'host_not_allowed',
          'The Origin header names a host this server does not serve: add its host to REFUNDKIT_HTTP_ALLOWED_HOSTS to allow it',
        );
      }
      if (!MCP_METHOD_LIST.includes(request.method)) throw methodNotAllowed(request.method, MCP_METHOD_LIST.join(', '));
      const identity = await authenticate(headers, guard.apiKeys);
      reply.hijack();
      try {
        await route.handle(request.raw, reply.raw, identity);
      } catch (thrown) {
        const error = asRefundKitError(thrown);
        if (error.code === 'internal_error') guard.logger.error('mcp request failed', { method: request.method, error: thrown });
        // Too late for an error body once an answer (an SSE stream) is under way: end the connection.
        if (reply.raw.headersSent) reply.raw.destroy();
        else sendError(reply.raw, error, request.raw.complete ? {} : { connection: 'close' });
      }
    },
    // Never reached: onRequest has answered.
    handler: () => Promise.resolve(),
  });
}
