/**
 * Writing answers: every body is JSON, `{"data": …}` on success and the reference's
 * `{"error": {"message", "code"}}` on failure, with the status from errors.ts and the headers a
 * client acts on (Allow, Retry-After, WWW-Authenticate).
 */
import type { ServerResponse } from 'node:http';
import { toErrorBody, RefundKitError } from '../domain/errors.js';
import { clip } from '../domain/schemas.js';
import { redact } from '../logger.js';
import { WWW_AUTHENTICATE } from './auth.js';
import { HTTP_STATUS, RETRY_AFTER_SECONDS } from './errors.js';

export type Headers = Record<string, string | number>;

export const CONTENT_TYPE = 'application/json; charset=utf-8';

/** The Allow header each 405 answers with. */
const ALLOW = new WeakMap<RefundKitError, string>();

export function methodNotAllowed(method: string, allow: string, why?: string): RefundKitError {
  const error = new RefundKitError(
    'method_not_allowed',
    why ?? `Method ${clip(method, 20)} is not allowed here; allowed: ${allow === '' ? 'none' : allow}`,
  );
  ALLOW.set(error, allow);
  return error;
}

/** Raw node:http answers, for the routes that write the response themselves (/mcp). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Headers): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** The error body as sent, with any credential its message echoes masked. */
export function errorJson(error: RefundKitError): string {
  const body = toErrorBody(error);
  // A message may echo the caller's own text (a path, a field name, a header): a credential sent
  // where it does not belong is masked, as in the logs, so that no error body repeats one.
  body.error.message = redact(body.error.message);
  return JSON.stringify(body);
}

export interface ErrorAnswer {
  status: number;
  headers: Headers;
  payload: string;
}

/** Status, headers and body of the answer to `error`. */
export function errorAnswer(error: RefundKitError): ErrorAnswer {
  const headers: Headers = { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' };
  const retryAfter = error.retryAfterSeconds ?? RETRY_AFTER_SECONDS[error.code];
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  if (error.code === 'invalid_api_key') Object.assign(headers, WWW_AUTHENTICATE);
  const allow = ALLOW.get(error);
  if (allow !== undefined) headers.allow = allow;
  return { status: HTTP_STATUS[error.code], headers, payload: errorJson(error) };
}

export function sendError(res: ServerResponse, error: RefundKitError, headers?: Headers): void {
  const answer = errorAnswer(error);
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.payload), ...headers });
  res.end(answer.payload);
}
