/**
 * Requests whose params do not fit their method. The SDK checks params inside its request
 * handlers, and a mismatch there reaches the caller as Internal error (-32603) with the
 * validator's dump for a message, as if the fault were ours. Every transport checks first and
 * answers Invalid params (-32602), naming the param.
 *
 * Only the methods this server serves are checked; any other gets Method not found from the
 * server, whatever its params.
 */
import type { z } from 'zod';
import {
  CallToolRequestSchema,
  InitializeRequestSchema,
  isJSONRPCRequest,
  ListToolsRequestSchema,
  PingRequestSchema,
  type JSONRPCMessage,
  type RequestId,
} from './sdk.js';

/** The requests we serve, by method, each with the protocol's schema of the whole request. */
const REQUEST_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ['initialize', InitializeRequestSchema],
  ['ping', PingRequestSchema],
  ['tools/list', ListToolsRequestSchema],
  ['tools/call', CallToolRequestSchema],
]);

/** The message, naming the param, for a request to a method we serve whose params do not fit it. */
export function paramsProblem(method: string, request: unknown): string | null {
  const check = REQUEST_SCHEMAS.get(method)?.safeParse(request);
  if (check === undefined || check.success) return null;
  return `Invalid params for ${method}: ${describeIssue(check.error)}`;
}

/**
 * A known request whose params do not fit: its id and the Invalid params message that names the
 * param. Null for anything else (fitting params, an unknown method, a notification, a response).
 */
export function invalidParams(message: JSONRPCMessage): { id: RequestId; message: string } | null {
  if (!isJSONRPCRequest(message)) return null;
  const problem = paramsProblem(message.method, message);
  return problem === null ? null : { id: message.id, message: problem };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'the params do not match the method';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
