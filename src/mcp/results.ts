/**
 * Tool results. Data goes out twice: as structuredContent for clients that read it, and as the
 * same JSON in a text block for those that do not. Errors carry the REST API's error body, so an
 * agent sees the same code and message whichever way it reaches us.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toErrorBody, type RefundKitError } from '../domain/errors.js';
import { redact } from '../logger.js';

export function successResult(data: Record<string, unknown>, note?: string): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify(data) }];
  // After the data, so that a client reading the first block still finds the JSON there.
  if (note !== undefined) content.push({ type: 'text', text: note });
  return { content, structuredContent: data };
}

export function errorResult(error: RefundKitError): CallToolResult {
  const body = toErrorBody(error);
  // A message may echo the caller's own text (a field name): a credential there is masked.
  body.error.message = redact(body.error.message);
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }] };
}
