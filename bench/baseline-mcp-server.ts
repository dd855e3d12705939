/**
 * The baseline: the smallest useful MCP server on the same SDK version as RefundKit, with one
 * trivial tool, served over stdio. Cold start, per-call latency and throughput of RefundKit are
 * measured against this, in the same run.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const server = new McpServer({ name: 'bench-baseline', version: '1.0.0' });
server.registerTool(
  'ping',
  { title: 'Ping', description: 'Answers pong. Takes no arguments.', annotations: { readOnlyHint: true } },
  () => ({ content: [{ type: 'text', text: 'pong' }] }),
);
process.stdin.on('end', () => process.exit(0));
await server.connect(new StdioServerTransport());
