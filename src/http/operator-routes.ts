/**
 * The REST routes for operators, which no MCP tool mirrors: the agent policy (scope admin) and
 * the approval queue (scope approve). A key decides approvals as itself (`key:KEY_ID`), and never
 * one its own agent requested (checkDecision, in the domain). An agent key (read, write) gets 403.
 * A read-only server keeps the routes that change something and refuses them with 405.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errors } from '../domain/errors.js';
import { NOTE_MAX_LENGTH, type ApprovalVerdict } from '../domain/guardrails/approval.js';
import { agentPolicySchema, parseAgentPolicy } from '../domain/guardrails/policy.js';
import type { Scope } from '../domain/guardrails/scopes.js';
import type { RefundService } from '../domain/refund-service.js';
import { limitSchema, LIST_LIMIT, parseInput } from '../domain/schemas.js';
import { approvalView } from '../operations/approval-schema.js';
import { integerParam } from '../operations/list-refunds.js';
import { authenticate } from './auth.js';
import { jsonBody, readBody } from './body.js';
import type { ApiKeyAuthenticator, Identity } from './ports.js';
import { methodNotAllowed } from './respond.js';
import { parseQuery } from './rest.js';
import { displayPath, type RoutesDirectory } from './routes-directory.js';

interface OperatorDeps {
  service: RefundService;
  apiKeys: ApiKeyAuthenticator;
  readOnly: boolean;
  maxBodyBytes: number;
  routes: RoutesDirectory;
}

interface Handled {
  identity: Identity;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  body: unknown;
}

interface OperatorRoute {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  scope: Extract<Scope, 'approve' | 'admin'>;
  /** Whether it changes something (refused by a read-only server). */
  writes: boolean;
  query?: readonly string[];
  summary: string;
  handle(request: Handled, service: RefundService): Promise<unknown>;
}

const APPROVAL_ID = /^apr_[a-z0-9]{12}$/;
const decisionBodySchema = z.strictObject({
  note: z
    .string({ error: 'note must be a string' })
    .max(NOTE_MAX_LENGTH, { error: `note must be at most ${NOTE_MAX_LENGTH} characters` })
    .optional(),
});
const approvalsQuerySchema = z.strictObject({ limit: limitSchema.optional() });

function approvalIdOf(params: Readonly<Record<string, string>>): string {
  const id = params.approvalId ?? '';
  if (!APPROVAL_ID.test(id)) throw errors.validation("id must be an approval id: 'apr_' followed by 12 lowercase letters or digits");
  return id;
}

function decide(verdict: ApprovalVerdict): OperatorRoute['handle'] {
  return async ({ identity, params, body }, service) => {
    const approvalId = approvalIdOf(params);
    const { note } = parseInput(decisionBodySchema, body ?? {});
    const decider = { kind: 'key' as const, keyId: identity.keyId, name: identity.keyId };
    const { approval, refund } = await service.decideApproval(identity.organizationId, approvalId, verdict, decider, note);
    return { approval: approvalView(approval), refund };
  };
}

/** In the order docs/http.md lists them. */
export const OPERATOR_ROUTES: readonly OperatorRoute[] = [
  {
    method: 'GET',
    path: '/v1/policy',
    scope: 'admin',
    writes: false,
    summary: 'Scope `admin`. The agent policy: `{"data": {"policy", "isDefault", "updatedAt", "updatedBy"}}`',
    handle: ({ identity }, service) => service.policy(identity.organizationId),
  },
  {
    method: 'PUT',
    path: '/v1/policy',
    scope: 'admin',
    writes: true,
    summary: 'Scope `admin`. Replace the agent policy. Body: the whole policy (`currencies`, `reasons`, `cancelOthers`, `confirmWrites`, `approvalHours`)',
    handle: ({ identity, body }, service) => {
      const policy = parseAgentPolicy(parseInput(agentPolicySchema, body));
      return service.setPolicy(identity.organizationId, policy, `key:${identity.keyId}`);
    },
  },
  {
    method: 'GET',
    path: '/v1/approvals',
    scope: 'approve',
    writes: false,
    query: ['limit'],
    summary: `Scope \`approve\`. Open approval requests, oldest first: \`{"data": [approval, …]}\`. Query: \`limit\` (1–100, default ${LIST_LIMIT.default})`,
    handle: async ({ identity, query }, service) => {
      const { limit } = parseInput(approvalsQuerySchema, { limit: integerParam(query.limit) });
      return (await service.openApprovals(identity.organizationId, limit ?? LIST_LIMIT.default)).map(approvalView);
    },
  },
  {
    method: 'POST',
    path: '/v1/approvals/:approvalId/approve',
    scope: 'approve',
    writes: true,
    summary: 'Scope `approve`. Approve: the refund is submitted as usual. Body: none, or `{"note"}`. Never a request of the same key',
    handle: decide('approve'),
  },
  {
    method: 'POST',
    path: '/v1/approvals/:approvalId/reject',
    scope: 'approve',
    writes: true,
    summary: 'Scope `approve`. Reject: the refund is cancelled, never submitted. Body: none, or `{"note"}`. Never a request of the same key',
    handle: decide('reject'),
  },
];

function allowOf(routes: readonly OperatorRoute[]): string[] {
  return routes.flatMap((route) => (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]));
}

export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const served = (route: OperatorRoute): boolean => !deps.readOnly || !route.writes;
  for (const route of OPERATOR_ROUTES) {
    deps.routes.add(route.path, served(route) ? allowOf([route]) : [], `${route.method} ${displayPath(route.path)}`);
    const onPath = OPERATOR_ROUTES.filter((other) => other.path === route.path && served(other));
    const refusal = served(route) ? null : allowOf(onPath).join(', ');
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const params = request.params as Record<string, string>;
        for (const name in params) if (params[name] === '') throw deps.routes.notFound(request.method);
        if (refusal !== null) throw methodNotAllowed(route.method, refusal, 'This server is read-only (REFUNDKIT_READ_ONLY=1): policies and approvals cannot be changed through it');
        const req = request.raw;
        const identity = await authenticate(req.headers, deps.apiKeys);
        if (!identity.scopes.includes(route.scope)) {
          throw errors.forbidden(`This API key lacks the '${route.scope}' scope that ${route.method} ${route.path} needs`);
        }
        const q = (req.url ?? '').indexOf('?');
        const query = parseQuery(q === -1 ? '' : (req.url ?? '').slice(q + 1), route.query ?? []);
        const body = route.method === 'GET' ? undefined : jsonBody(await readBody(req, deps.maxBodyBytes), req.headers['content-type']);
        const data = await route.handle({ identity, params, query, body }, deps.service);
        return reply.header('cache-control', 'no-store').send({ data });
      },
    });
  }
}
