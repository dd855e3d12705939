/**
 * The REST API, built from the operation table: each operation with a REST binding is one route.
 * A request is judged in one order for all of them: the key (the organization, acting as `api`),
 * the query parameters the binding names (each at most once), the JSON body, then the binding's
 * input and the operation's schema; one use case runs and the answer is `{"data": …}`.
 */
import { hideContentType } from './content-type.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, type RefundKitError } from '../domain/errors.js';
import type { RefundService } from '../domain/refund-service.js';
import { clip, parseInput } from '../domain/schemas.js';
import type { Operation, RestBinding } from '../operations/operation.js';
import { authenticate } from './auth.js';
import { jsonBody, readBody } from './body.js';
import type { ApiKeyAuthenticator } from './ports.js';
import { methodNotAllowed } from './respond.js';
import { displayPath, type RoutesDirectory } from './routes-directory.js';

interface RestDeps {
  service: RefundService;
  apiKeys: ApiKeyAuthenticator;
  readOnly: boolean;
  maxBodyBytes: number;
  routes: RoutesDirectory;
}

/** Query parameters as given, each at most once; anything not in `allowed` is refused. */
export function parseQuery(query: string, allowed: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  if (query === '') return values;
  for (const [name, value] of new URLSearchParams(query)) {
    if (!allowed.includes(name)) {
      throw errors.validation(
        allowed.length === 0
          ? `Unknown query parameter '${clip(name)}': this route takes none`
          : `Unknown query parameter '${clip(name)}'; allowed: ${allowed.join(', ')}`,
      );
    }
    if (Object.hasOwn(values, name)) throw errors.validation(`Query parameter '${name}' is given more than once`);
    values[name] = value;
  }
  return values;
}

/** The request target's query, exactly as sent (the router's copy is already decoded). */
function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

/** Header values as one string each (node keeps set-cookie as a list). */
function flatHeaders(headers: FastifyRequest['raw']['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

function readOnlyRefusal(allow: string): RefundKitError {
  return methodNotAllowed(
    'POST',
    allow,
    'This server is read-only (REFUNDKIT_READ_ONLY=1): refunds cannot be created or cancelled through it',
  );
}

/** The methods Allow names for a path: GET brings HEAD, which Fastify answers for every GET route. */
function allowOf(bindings: readonly RestBinding<unknown>[]): string[] {
  return bindings.flatMap((b) => (b.method === 'GET' ? ['GET', 'HEAD'] : [b.method]));
}

export function registerRestRoutes(app: FastifyInstance, operations: readonly Operation[], deps: RestDeps): void {
  const withRest = operations.flatMap((op) => (op.rest === null ? [] : [{ op, rest: op.rest }]));
  // By path, so that Allow and the 404 message list a path's methods together, shortest path first.
  withRest.sort((a, b) => (a.rest.path < b.rest.path ? -1 : a.rest.path > b.rest.path ? 1 : 0));
  // A read-only server keeps its write routes, which refuse with 405: the path is known.
  const served = (op: Operation): boolean => !deps.readOnly || op.annotations.readOnlyHint;
  for (const { op, rest } of withRest) {
    const onPath = withRest.filter((other) => other.rest.path === rest.path && served(other.op)).map((other) => other.rest);
    deps.routes.add(rest.path, served(op) ? allowOf([rest]) : [], `${rest.method} ${displayPath(rest.path)}`);
    const refusal = served(op) ? null : allowOf(onPath).join(', ');
    app.route({
      method: rest.method,
      url: rest.path,
      ...(rest.method === 'GET' ? {} : { onRequest: hideContentType }),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const params = request.params as Record<string, string>;
        // The router matches an empty segment (/v1/refunds/); no route has one.
        for (const name in params) if (params[name] === '') throw deps.routes.notFound(request.method);
        if (refusal !== null) throw readOnlyRefusal(refusal);
        const req = request.raw;
        const identity = await authenticate(req.headers, deps.apiKeys);
        if (!identity.scopes.includes(op.scope)) {
          throw errors.forbidden(`This API key lacks the '${op.scope}' scope that ${rest.method} ${rest.path} needs`);
        }
        const query = parseQuery(rawQuery(req.url ?? ''), rest.query ?? []);
        const body = rest.method === 'GET' ? undefined : jsonBody(await readBody(req, deps.maxBodyBytes), req.headers['content-type']);
        const input = parseInput(op.input, rest.input({ params, query, body, headers: flatHeaders(req.headers) }));
        const context = { service: deps.service, caller: { organizationId: identity.organizationId, actor: 'api' as const, keyId: identity.keyId } };
        const output = await (rest.run === undefined ? op.run(input, context) : rest.run(input, context));
        return reply.header('cache-control', 'no-store').send({ data: rest.data(output) });
      },
    });
  }
}
