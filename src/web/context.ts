/**
 * Who is asking: the session behind the request's cookie, resolved once per request, and what a
 * dashboard route needs to act for that operator (their organization, their CSRF token).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../domain/context.js';
import type { OperatorAuth } from '../domain/operators/auth.js';
import { operatorLabel } from '../domain/operators/rules.js';
import type { ApiKeyStore, Clock, OperatorSession, OperatorStore, OrganizationStore } from '../domain/ports.js';
import type { RefundService } from '../domain/refund-service.js';
import type { ErrorCode } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import type { Viewer } from './pages/layout.js';
import { DASHBOARD_PATH } from './paths.js';
import { cookieName, csrfRefusal, isHttps, parseCookies } from './security.js';

export interface DashboardDeps {
  service: RefundService;
  auth: OperatorAuth;
  organizations: Pick<OrganizationStore, 'findById'>;
  apiKeys: Pick<ApiKeyStore, 'create' | 'listForOrganization' | 'findById' | 'revoke'>;
  actions: Pick<OperatorStore, 'recordAction'>;
  /** The processors the refunds filter offers. */
  processors: readonly string[];
  readOnly: boolean;
  clock: Clock;
  logger: Logger;
  /** The HTTP status of an error code (the HTTP adapter's one map). */
  httpStatus: (code: ErrorCode) => number;
}

export const SESSION_COOKIE = 'rk_session';
/** Before sign-in there is no session to hold a CSRF token: this cookie holds the sign-in form's. */
export const SIGN_IN_COOKIE = 'rk_signin';

export function requestIsHttps(request: FastifyRequest): boolean {
  return isHttps(request.protocol, request.headers['x-forwarded-proto']);
}

export function cookie(request: FastifyRequest, base: string): string | undefined {
  return parseCookies(request.headers.cookie).get(cookieName(base, requestIsHttps(request)));
}

export interface Signed {
  session: OperatorSession;
  sessionId: string;
  viewer: Viewer;
  caller: Caller;
  organizationId: string;
  /** operator:EMAIL, as audit records name the operator. */
  label: string;
}

export async function signedIn(request: FastifyRequest, deps: DashboardDeps): Promise<Signed | null> {
  const sessionId = cookie(request, SESSION_COOKIE);
  if (sessionId === undefined) return null;
  const session = await deps.auth.session(sessionId);
  if (session === null) return null;
  const { operator } = session;
  const organization = await deps.organizations.findById(operator.organizationId);
  const label = operatorLabel(operator);
  return {
    session,
    sessionId,
    organizationId: operator.organizationId,
    label,
    viewer: { name: operator.name, email: operator.email, organizationName: organization?.name ?? operator.organizationId, csrfToken: session.csrfToken },
    caller: { organizationId: operator.organizationId, actor: 'dashboard', operator: label },
  };
}

export function selfOrigin(request: FastifyRequest): string {
  return `${requestIsHttps(request) ? 'https' : 'http'}://${request.headers.host ?? ''}`;
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Why a form post is refused (a forged or stale form), or null. */
export function formRefusal(request: FastifyRequest, expectedToken: string, form: URLSearchParams): string | null {
  return csrfRefusal(
    { origin: header(request, 'origin'), fetchSite: header(request, 'sec-fetch-site'), self: selfOrigin(request) },
    expectedToken,
    form.get('_csrf') ?? undefined,
  );
}

export function formOf(request: FastifyRequest): URLSearchParams {
  return request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
}

export const SIGN_IN_PATH = `${DASHBOARD_PATH}/sign-in`;

export function toSignIn(reply: FastifyReply): FastifyReply {
  return reply.code(303).header('location', SIGN_IN_PATH).header('cache-control', 'no-store').send();
}
