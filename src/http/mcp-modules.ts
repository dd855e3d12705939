/**
 * What /mcp loads on its first request, not at start: the SDK's HTTP transport and our MCP server.
 * A server that never sees /mcp never loads them.
 */
import type { ServerResponse } from 'node:http';
import type { invalidParams as InvalidParams } from '../mcp/params-check.js';
import type { StreamableHTTPServerTransport } from '../mcp/sdk.js';
import type { createMcpServer as CreateMcpServer } from '../mcp/server.js';
import { sendJson, type Headers } from './respond.js';

export interface Modules {
  Transport: typeof StreamableHTTPServerTransport;
  createMcpServer: typeof CreateMcpServer;
  invalidParams: typeof InvalidParams;
}

let modules: Promise<Modules> | undefined;

/** The MCP SDK's HTTP transport and our tools are loaded on the first /mcp request. */
export function loadModules(): Promise<Modules> {
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
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, headers?: Headers): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

