/**
 * Builds the MCP server for one caller (one organization). No side effects: the transport is
 * connected by the entry point, so the same factory serves stdio, HTTP and in-memory tests.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { CallToolRequestSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { asRefundKitError, ERROR_CODES } from '../domain/errors.js';
import type { Caller, RefundService } from '../domain/refund-service.js';
import { clip, parseInput } from '../domain/schemas.js';
import { redact, silentLogger, type Logger } from '../logger.js';
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
  /**
   * Runs before every tool call and throws a RefundKitError (invalid_api_key) when the caller may
   * no longer act: a key revoked while a session is open stops working at its next call.
   */
  checkAccess?: () => void | Promise<void>;
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
      (args: unknown) => invokeTool(tool, args, context, logger, options.checkAccess),
    );
  }

  // McpServer lists the tools (JSON Schema from our zod schemas) but we answer tools/call
  // ourselves: its built-in validation answers bad input with generic SDK text, while an agent
  // needs our validation_error body naming the field and the rule.
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  // Registered with params left open: the SDK then checks a tools/call itself and answers a
  // malformed one (arguments that are not an object, a name that is not a string) with Invalid
  // params (-32602). Registered with the strict schema, that check throws first and the caller
  // is told Internal error (-32603), as if the fault were ours.
  // The SDK's tools/call wrapper has validated the request against CallToolRequestSchema before
  // this runs (a malformed one never gets here), so the name is read, not parsed a second time.
  server.server.setRequestHandler(CallToolRequestSchema.extend({ params: z.unknown() }), async (raw) => {
    const name = toolNameOf(raw.params);
    const tool = byName.get(name);
    if (tool === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool '${redact(clip(name))}'; available: ${[...byName.keys()].join(', ')}`,
      );
    }
    // The arguments as sent: the parse above silently drops a '__proto__' key, which our schemas
    // must see (and refuse as an unknown field).
    const call = invokeTool(tool, argumentsAsSent(raw.params) ?? {}, context, logger, options.checkAccess);
    return options.inFlight === undefined ? call : options.inFlight.track(call);
  });

  return server;
}

function toolNameOf(params: unknown): string {
  const name = typeof params === 'object' && params !== null && 'name' in params ? params.name : undefined;
  if (typeof name !== 'string') throw new McpError(ErrorCode.InvalidParams, 'Invalid params for tools/call: name must be a string');
  return name;
}

function argumentsAsSent(params: unknown): unknown {
  return typeof params === 'object' && params !== null && 'arguments' in params ? params.arguments : undefined;
}

async function invokeTool(
  tool: ToolDefinition,
  args: unknown,
  context: ToolContext,
  logger: Logger,
  checkAccess?: () => void | Promise<void>,
): Promise<CallToolResult> {
  const started = performance.now();
  try {
    await checkAccess?.();
    const input = parseInput(tool.inputSchema, args);
    const output = (await tool.handler(input, context));
    logger.debug('tool call', { tool: tool.name, ms: Math.round(performance.now() - started) });
    return successResult(output, tool.note?.(output));
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
