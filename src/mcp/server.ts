/**
 * Builds the MCP server for one caller (one organization). No side effects: the transport is
 * connected by the entry point, so the same factory serves stdio, HTTP and in-memory tests.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { asRefundKitError, ERROR_CODES } from '../domain/errors.js';
import type { Caller, RefundService } from '../domain/refund-service.js';
import { parseInput } from '../domain/schemas.js';
import { silentLogger, type Logger } from '../logger.js';
import { SERVER_NAME, VERSION } from '../version.js';
import type { InFlightCalls } from './in-flight.js';
import { errorResult, successResult } from './results.js';
import type { ToolContext, ToolDefinition } from './tool.js';
import { allTools } from './tools/index.js';

export interface McpServerOptions {
  service: RefundService;
  caller: Caller;
  readOnly: boolean;
  logger?: Logger;
  /** Tracks tool calls in progress, so that a shutdown can wait for them. */
  inFlight?: InFlightCalls;
}

function instructions(readOnly: boolean): string {
  return [
    readOnly
      ? 'RefundKit (read-only): look up and list the refunds of one organization (the one the API key belongs to).'
      : 'RefundKit: look up, list, create and cancel the refunds of one organization (the one the API key belongs to).',
    'Amounts are integers in the smallest currency unit (2500 = $25.00 for usd).',
    'A failed call returns isError with text {"error":{"message","code"}};',
    `codes: ${Object.keys(ERROR_CODES).join(', ')}. Only ${retryableCodes().join(' and ')} are worth retrying as is (for create_refund, with the same idempotencyKey).`,
  ].join(' ');
}

function retryableCodes(): string[] {
  return Object.entries(ERROR_CODES)
    .filter(([, info]) => info.retryable)
    .map(([code]) => code);
}

export function createMcpServer(options: McpServerOptions): McpServer {
  const logger = options.logger ?? silentLogger;
  const context: ToolContext = { service: options.service, caller: options.caller };
  const tools = allTools.filter((tool) => !(options.readOnly && tool.writes));
  const server = new McpServer(
    { name: SERVER_NAME, title: 'RefundKit', version: VERSION },
    { capabilities: { tools: {} }, instructions: instructions(options.readOnly) },
  );

  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
      },
      (args: unknown) => invokeTool(tool, args, context, logger),
    );
  }

  // McpServer lists the tools (JSON Schema from our zod schemas) but we answer tools/call
  // ourselves: its built-in validation answers bad input with generic SDK text, while an agent
  // needs our validation_error body naming the field and the rule.
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = byName.get(request.params.name);
    if (tool === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool '${request.params.name}'; available: ${[...byName.keys()].join(', ')}`,
      );
    }
    const call = invokeTool(tool, request.params.arguments ?? {}, context, logger);
    return options.inFlight === undefined ? call : options.inFlight.track(call);
  });

  return server;
}

async function invokeTool(
  tool: ToolDefinition,
  args: unknown,
  context: ToolContext,
  logger: Logger,
): Promise<CallToolResult> {
  const started = performance.now();
  try {
    const input = parseInput(tool.inputSchema, args);
    const output = (await tool.handler(input, context));
    logger.debug('tool call', { tool: tool.name, ms: Math.round(performance.now() - started) });
    return successResult(output);
  } catch (thrown) {
    const error = asRefundKitError(thrown);
    if (error.code === 'internal_error') {
      logger.error('tool call failed', { tool: tool.name, error: thrown });
    } else {
      logger.debug('tool call refused', { tool: tool.name, code: error.code });
    }
    return errorResult(error);
  }
}
