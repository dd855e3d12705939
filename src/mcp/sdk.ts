/**
 * The one module of ours that imports the MCP SDK (an ESLint rule keeps it so). Everything else
 * in src/ takes what it needs from here, so that a move to another SDK line (v2) is made here.
 *
 * What we use: the low-level `Server` (we own tools/list and tools/call, and ask the person at
 * the client with its elicitInput), the JSON-RPC message
 * schema and request schemas (through their public parse API only), the protocol's error codes,
 * a few types, and the Streamable HTTP transport, loaded on first use.
 */
// The SDK marks its low-level Server deprecated to steer users to McpServer, and keeps it for
// "advanced use cases": owning tools/list and tools/call is one. The alias is its only use.
import { Server as SdkServer } from '@modelcontextprotocol/sdk/server/index.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** The SDK's low-level MCP server: the protocol (initialize, ping, transports), no tools of its own. */
// eslint-disable-next-line @typescript-eslint/no-deprecated
export const Server = SdkServer;
// eslint-disable-next-line @typescript-eslint/no-deprecated
export type Server = SdkServer;
export type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
export {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  isJSONRPCRequest,
  JSONRPCMessageSchema,
  ListToolsRequestSchema,
  McpError,
  PingRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
export type { CallToolResult, ElicitResult, JSONRPCMessage, RequestId, Tool } from '@modelcontextprotocol/sdk/types.js';
export type { StreamableHTTPServerTransport };

/**
 * The Streamable HTTP transport class. A server that never gets an /mcp request (stdio, REST
 * only) never loads it.
 */
export async function loadStreamableHttpTransport(): Promise<typeof StreamableHTTPServerTransport> {
  return (await import('@modelcontextprotocol/sdk/server/streamableHttp.js')).StreamableHTTPServerTransport;
}
