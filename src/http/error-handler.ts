/**
 * The one place errors become answers: whatever a route, a hook or Fastify itself throws is
 * written as the reference's error body, with the status from errors.ts. Also the not-found
 * handler (404 route_not_found, or 405 with Allow for a known path), and the answer to what
 * node:http's parser refuses, written on the raw socket.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asRefundKitError, RefundKitError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { HTTP_STATUS } from './errors.js';
import { CONTENT_TYPE, errorAnswer, errorJson, methodNotAllowed } from './respond.js';
import type { RoutesDirectory } from './routes-directory.js';

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('FST_');
}

/** Fastify's own refusals in our vocabulary; its messages are not passed on (some echo input). */
function fromFastify(error: FastifyError): RefundKitError {
  switch (error.statusCode) {
    case 413:
      return new RefundKitError('payload_too_large', 'Request body is too large');
    case 415:
      return new RefundKitError('unsupported_media_type', 'Content-Type must be application/json');
    default:
      return error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
        ? new RefundKitError('validation_error', 'Request could not be read as HTTP')
        : asRefundKitError(error);
  }
}

export function errorHandler(logger: Logger, routes: RoutesDirectory) {
  return (thrown: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const req = request.raw;
    if (req.destroyed && !req.complete) {
      // The client went away mid-request (reading its body failed): nobody to answer.
      logger.debug('http request aborted by the client', { method: req.method, ...routes.logFields(request.originalUrl) });
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    const error = isFastifyError(thrown) ? fromFastify(thrown) : asRefundKitError(thrown);
    if (error.code === 'internal_error') {
      logger.error('http request failed', { method: req.method, ...routes.logFields(request.originalUrl), error: thrown });
    }
    if (reply.raw.headersSent) {
      // Too late for an error body: end the connection.
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    const answer = errorAnswer(error);
    // An unread body would be read as the next request: close instead.
    if (error.code === 'payload_too_large' || !req.complete) answer.headers.connection = 'close';
    void reply.code(answer.status).headers(answer.headers).send(answer.payload);
  };
}

/** No route for this method and path: 405 with Allow when another method has one, else 404. */
export function notFoundHandler(routes: RoutesDirectory) {
  return (request: FastifyRequest): never => {
    const allow = routes.allowFor(request.url);
    if (allow !== null) throw methodNotAllowed(request.method, allow);
    throw routes.notFound(request.method);
  };
}

/**
 * A request node:http could not parse (a control character in a header, a request line that is
 * not HTTP, headers past the size limit) gets the same error body as every other refusal, where
 * the parser's own answer would be a bare status with no body. The connection closes after it.
 */
export function clientErrorHandler(logger: Logger, answering: WeakSet<object>) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || !socket.writable || answering.has(socket)) {
      socket.destroy();
      return;
    }
    logger.debug('http request refused by the HTTP parser', { code: error.code });
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // The client was too slow to send its request: node:http's own answer, nobody reads a body.
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', () => socket.destroy());
      return;
    }
    const refusal =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new RefundKitError('payload_too_large', `Request line and headers are larger than ${maxHeaderSize} bytes`)
        : new RefundKitError('validation_error', 'Request is not valid HTTP/1.1: a malformed request line or header');
    const status = HTTP_STATUS[refusal.code];
    const body = errorJson(refusal);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${CONTENT_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  };
}
