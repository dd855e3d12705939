/**
 * Requests whose params do not fit their method. The SDK checks params inside its request
 * handlers, and a mismatch there reaches the caller as Internal error (-32603) with the
 * validator's dump for a message, as if the fault were ours. Every transport checks first and
 * answers Invalid params (-32602), naming the param.
 */
import { ClientRequestSchema, isJSONRPCRequest, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';

/** The protocol's requests by method. */
const REQUEST_SCHEMAS = new Map<string, z.ZodType>();
for (const schema of ClientRequestSchema.options) REQUEST_SCHEMAS.set(schema.shape.method.value, schema);

/**
 * A known request whose params do not fit: its id and the Invalid params message that names the
 * param. Null for anything else (fitting params, an unknown method, a notification, a response).
 */
export function invalidParams(message: JSONRPCMessage): { id: RequestId; message: string } | null {
  if (!isJSONRPCRequest(message)) return null;
  const check = REQUEST_SCHEMAS.get(message.method)?.safeParse(message);
  if (check === undefined || check.success) return null;
  return { id: message.id, message: `Invalid params for ${message.method}: ${describeIssue(check.error)}` };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'the params do not match the method';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
