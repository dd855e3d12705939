/**
 * Connects an McpServer to its Streamable HTTP transport, with the one correction both /mcp routes
 * (sessions, stateless) need.
 */
import type { invalidParams as InvalidParams } from '../mcp/params-check.js';
import type { Server as McpServer, StreamableHTTPServerTransport } from '../mcp/sdk.js';

export async function connectTransport(server: McpServer, transport: StreamableHTTPServerTransport, invalidParams: typeof InvalidParams): Promise<void> {
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
}
