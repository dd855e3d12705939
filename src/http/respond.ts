/**
 * Writing responses: every body is JSON, `{"data": …}` on success and the reference's
 * `{"error": {"message", "code"}}` on failure, with the status from errors.ts.
 */
import type { ServerResponse } from 'node:http';
import { toErrorBody, type RefundKitError } from '../domain/errors.js';
import { redact } from '../logger.js';
import { HTTP_STATUS, RETRY_AFTER_SECONDS } from './errors.js';

export type Headers = Record<string, string | number>;

export const CONTENT_TYPE = 'application/json; charset=utf-8';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Headers): void {
  sendPayload(res, status, JSON.stringify(body), headers);
}

function sendPayload(res: ServerResponse, status: number, payload: string, headers?: Headers): void {
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

export function sendData(res: ServerResponse, data: unknown, status = 200): void {
  sendJson(res, status, { data });
}

/** The error body as sent, with any credential its message echoes masked. */
export function errorJson(error: RefundKitError): string {
  const body = toErrorBody(error);
  // A message may echo the caller's own text (a path, a field name, a header): a credential sent
  // where it does not belong is masked, as in the logs, so that no error body repeats one.
  body.error.message = redact(body.error.message);
  return JSON.stringify(body);
}

export function sendError(res: ServerResponse, error: RefundKitError, headers?: Headers): void {
  const retryAfter = error.retryAfterSeconds ?? RETRY_AFTER_SECONDS[error.code];
  const extra: Headers = retryAfter === undefined ? { ...headers } : { 'retry-after': retryAfter, ...headers };
  sendPayload(res, HTTP_STATUS[error.code], errorJson(error), extra);
}
