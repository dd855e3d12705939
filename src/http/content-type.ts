import type { FastifyRequest } from 'fastify';

/**
 * Fastify refuses a Content-Type it cannot parse (415) before a route sees the body. The API's
 * routes judge the body themselves (its size first, an empty body whatever its type), so the
 * header is hidden from Fastify there; the route reads it from the raw request. It is a route hook
 * of the routes that take a body (and of the not-found handler), never of a GET: a hook costs every
 * request it runs on.
 */
const HIDDEN_CONTENT_TYPE = { 'content-type': undefined };
export function hideContentType(request: FastifyRequest, _reply: unknown, done: () => void): void {
  if (request.raw.headers['content-type'] !== undefined) request.headers = HIDDEN_CONTENT_TYPE;
  done();
}
