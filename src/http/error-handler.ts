/**
 * The one place errors become answers: whatever a route, a hook or Fastify itself throws is
 * written as the reference's error body, with the status from errors.ts. Also the not-found
 * handler (404 route_not_found, or 405 with Allow for a known path). What never reaches routing
 * is answered in below-routing.ts.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asRefundKitError, RefundKitError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { errorAnswer, methodNotAllowed } from './respond.js';
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
      // Already answered when the HTTP parser refused the rest of the body: let that answer go out.
      if (!reply.raw.writableEnded) reply.raw.destroy();
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
