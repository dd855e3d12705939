/**
 * Builds the MCP server for one caller (one organization). No side effects: the transport is
 * connected by the entry point, so the same factory serves stdio, HTTP and in-memory tests.
 *
 * The SDK's low-level Server does the protocol (initialize, ping, transports); we answer
 * tools/list and tools/call ourselves from the operation table, so that a bad call gets our
 * validation_error body naming the field, and the schemas are converted once, not per list.
 */
import { z } from 'zod';
import { asRefundKitError, ERROR_CODES, errors } from '../domain/errors.js';
import type { Scope } from '../domain/guardrails/scopes.js';
import type { Caller, RefundService } from '../domain/refund-service.js';
import { clip, parseInput } from '../domain/schemas.js';
import { redact, silentLogger, type Logger } from '../logger.js';
import type { Operation, OperationContext } from '../operations/operation.js';
import { SERVER_NAME, VERSION } from '../version.js';
import type { InFlightCalls } from './in-flight.js';
import { elicitationConfirmation } from './confirm.js';
import { paramsProblem } from './params-check.js';
import { errorResult, successResult } from './results.js';
import { ErrorCode, McpError, Server, type CallToolResult } from './sdk.js';
import { toolsFor } from './tools.js';

export interface McpServerOptions {
  service: RefundService;
  caller: Caller;
  readOnly: boolean;
  /** The session key's scopes: tools/list shows, and tools/call runs, only what they allow (all when absent). */
  scopes?: readonly Scope[];
  logger?: Logger;
  /** Tracks tool calls in progress, so that a shutdown can wait for them. */
  inFlight?: InFlightCalls;
  /**
   * Runs before every tool call and throws a RefundKitError (invalid_api_key) when the caller may
   * no longer act: a key revoked while a session is open stops working at its next call.
   */
  checkAccess?: () => void | Promise<void>;
  /**
   * False where no answer to an elicitation could come back to this server (stateless HTTP): its
   * writes are then treated as from a client that cannot ask. Default: ask when the client can.
   */
  canConfirm?: boolean;
}

/**
 * The two requests we answer, with params left open: the SDK parses a request with the schema it
 * is registered with, and a mismatch there would reach the caller as Internal error (-32603).
 * Params are checked in the handler instead (Invalid params, naming the param), and the
 * arguments reach the tool as sent: a parse would drop a '__proto__' key our schemas must refuse.
 */
const ListToolsRequest = z.object({ method: z.literal('tools/list'), params: z.unknown().optional() });
const CallToolRequest = z.object({ method: z.literal('tools/call'), params: z.unknown().optional() });

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

export function createMcpServer(options: McpServerOptions): Server {
  const logger = options.logger ?? silentLogger;
  const tools = toolsFor(options.readOnly, options.scopes);
  // What read-only mode offers but the key's scopes do not: refused as forbidden, not unknown.
  const beyondScopes = new Map(toolsFor(options.readOnly).filter((tool) => !tools.includes(tool)).map((tool) => [tool.operation.name, tool.operation]));
  const listed = { tools: tools.map((tool) => tool.definition) };
  const byName = new Map(tools.map((tool) => [tool.operation.name, tool.operation]));
  const server = new Server(
    { name: SERVER_NAME, title: 'RefundKit', version: VERSION },
    // listChanged as the SDK's McpServer declared it: the list never changes, so no notification is ever due.
    { capabilities: { tools: { listChanged: true } }, instructions: instructions(options.readOnly) },
  );

  server.setRequestHandler(ListToolsRequest, (request) => {
    checkParams('tools/list', request);
    return listed;
  });

  server.setRequestHandler(CallToolRequest, (request, extra) => {
    checkParams('tools/call', request);
    const name = toolNameOf(request.params);
    const operation = byName.get(name);
    const needs = beyondScopes.get(name);
    if (needs !== undefined) {
      return errorResult(errors.forbidden(`This API key lacks the '${needs.scope}' scope that ${name} needs; an operator can create a key with it (keys create --scopes)`));
    }
    if (operation === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool '${redact(clip(name))}'; available: ${[...byName.keys()].join(', ')}`);
    }
    // Where the client can show a form, the person at it can be asked to confirm this call's write.
    const confirmation = options.canConfirm === false ? undefined : elicitationConfirmation(server, extra.requestId, logger);
    const caller = confirmation === undefined ? options.caller : { ...options.caller, confirmation };
    const context: OperationContext = { service: options.service, caller };
    const call = invokeTool(operation, argumentsAsSent(request.params) ?? {}, context, logger, options.checkAccess);
    return options.inFlight === undefined ? call : options.inFlight.track(call);
  });

  return server;
}

function checkParams(method: string, request: unknown): void {
  const problem = paramsProblem(method, request);
  if (problem !== null) throw new McpError(ErrorCode.InvalidParams, problem);
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
  operation: Operation,
  args: unknown,
  context: OperationContext,
  logger: Logger,
  checkAccess?: () => void | Promise<void>,
): Promise<CallToolResult> {
  const started = performance.now();
  try {
    await checkAccess?.();
    const input = parseInput(operation.input, args);
    const output = await operation.run(input, context);
    logger.debug('tool call', { tool: operation.name, ms: Math.round(performance.now() - started) });
    return successResult(output, await operation.note?.(output, context));
  } catch (thrown) {
    const error = asRefundKitError(thrown);
    if (error.code === 'internal_error') {
      logger.error('tool call failed', { tool: operation.name, error: thrown });
    } else {
      logger.debug('tool call refused', { tool: operation.name, code: error.code });
    }
    return errorResult(error);
  }
}
