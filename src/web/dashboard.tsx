/**
 * The operator dashboard, served by `refundkit-mcp http` under /dashboard in a Fastify scope of its
 * own: form bodies, HTML error pages and security headers here never reach /v1 or /mcp. Every page
 * but sign-in needs a session; every form post passes the CSRF check (security.ts) before its
 * route runs, and nothing is changed by a GET.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RefundKitError } from '../domain/errors.js';
import { SESSION_RULES } from '../domain/operators/rules.js';
import { cookie, formOf, formRefusal, requestIsHttps, SESSION_COOKIE, SIGN_IN_COOKIE, signedIn, toSignIn, type DashboardDeps } from './context.js';
import { ErrorPage } from './pages/error.js';
import { SignInPage } from './pages/signin.js';
import { DASHBOARD_PATH } from './paths.js';
import { redirect, sendPage } from './render.js';
import { ADMIN_ROUTES } from './routes/admin.js';
import { APPROVAL_ROUTES } from './routes/approvals.js';
import { INDEX_PATH, REFUND_ROUTES } from './routes/refunds.js';
import { queryOf, type DashboardRoute } from './routes/route.js';
import { cookieName, csrfRefusal, SECURITY_HEADERS, serializeCookie } from './security.js';
import { STYLESHEET } from './style.js';

export type { DashboardDeps } from './context.js';

const SIGNED_ROUTES: readonly DashboardRoute[] = [...REFUND_ROUTES, ...APPROVAL_ROUTES, ...ADMIN_ROUTES];
const FORM_BODY_LIMIT = 64 * 1024;

/** The dashboard's routes as docs/http.md lists them. */
export const DASHBOARD_ROUTE_DOCS: ReadonlyArray<{ method: string; path: string; summary: string }> = [
  { method: 'GET', path: '/sign-in', summary: 'The sign-in form' },
  { method: 'POST', path: '/sign-in', summary: 'Sign in (`email`, `password`); rate-limited per email and per client address' },
  { method: 'POST', path: '/sign-out', summary: 'Sign out: the session is deleted' },
  ...SIGNED_ROUTES.map((route) => ({ method: route.method, path: route.path, summary: route.summary })),
  { method: 'GET', path: '/style.css', summary: 'The stylesheet' },
].map((route) => ({ ...route, path: `${DASHBOARD_PATH}${route.path}` }));

function setCookie(reply: FastifyReply, request: FastifyRequest, base: string, value: string, maxAgeSeconds: number): void {
  const https = requestIsHttps(request);
  reply.header('set-cookie', serializeCookie(cookieName(base, https), value, { https, maxAgeSeconds }));
}

function signInPage(request: FastifyRequest, reply: FastifyReply, status: number, extra: { email?: string; error?: string } = {}): FastifyReply {
  const token = randomBytes(32).toString('base64url');
  setCookie(reply, request, SIGN_IN_COOKIE, token, 3600);
  return sendPage(reply, status, <SignInPage token={token} {...extra} />);
}

function errorPage(reply: FastifyReply, status: number, message: string): FastifyReply {
  const titles: Record<number, string> = { 400: 'Bad request', 403: 'Refused', 404: 'Not found', 405: 'Not allowed', 413: 'Too large', 415: 'Unsupported form', 429: 'Too many attempts' };
  return sendPage(reply, status, <ErrorPage status={status} title={titles[status] ?? 'Something went wrong'} message={message} />);
}

function registerRoutes(scope: FastifyInstance, deps: DashboardDeps): void {
  scope.get('/style.css', (_request, reply) => reply.headers(SECURITY_HEADERS).header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET));
  scope.get('/', async (request, reply) => redirect(reply, (await signedIn(request, deps)) === null ? `${DASHBOARD_PATH}/sign-in` : INDEX_PATH));
  scope.get('/sign-in', async (request, reply) => ((await signedIn(request, deps)) === null ? signInPage(request, reply, 200) : redirect(reply, INDEX_PATH)));
  scope.post('/sign-in', async (request, reply) => {
    const form = formOf(request);
    const refusal = csrfRefusal(
      { origin: headerOf(request, 'origin'), fetchSite: headerOf(request, 'sec-fetch-site'), self: `${requestIsHttps(request) ? 'https' : 'http'}://${request.headers.host ?? ''}` },
      cookie(request, SIGN_IN_COOKIE) ?? '',
      form.get('_csrf') ?? undefined,
    );
    if (refusal !== null) return errorPage(reply, 403, `Refused: ${refusal}.`);
    const email = (form.get('email') ?? '').slice(0, 254);
    const result = await deps.auth.signIn(email, form.get('password') ?? '', request.ip);
    if (!result.ok) {
      if (result.reason === 'rate_limited') {
        reply.header('retry-after', String(result.retryAfterSeconds));
        return signInPage(request, reply, 429, { email, error: `Too many failed sign-ins; try again in ${result.retryAfterSeconds / 60} minutes.` });
      }
      return signInPage(request, reply, 401, { email, error: 'Wrong email or password.' });
    }
    setCookie(reply, request, SESSION_COOKIE, result.sessionId, SESSION_RULES.absoluteMs / 1000);
    return redirect(reply, INDEX_PATH);
  });
  scope.post('/sign-out', async (request, reply) => {
    const signed = await signedIn(request, deps);
    if (signed === null) return toSignIn(reply);
    const refusal = formRefusal(request, signed.session.csrfToken, formOf(request));
    if (refusal !== null) return errorPage(reply, 403, `Refused: ${refusal}.`);
    await deps.auth.signOut(signed.sessionId);
    setCookie(reply, request, SESSION_COOKIE, '', 0);
    return redirect(reply, `${DASHBOARD_PATH}/sign-in`);
  });
  for (const route of SIGNED_ROUTES) {
    scope.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        const signed = await signedIn(request, deps);
        if (signed === null) return toSignIn(reply);
        const form = route.method === 'POST' ? formOf(request) : new URLSearchParams();
        if (route.method === 'POST') {
          const refusal = formRefusal(request, signed.session.csrfToken, form);
          if (refusal !== null) return errorPage(reply, 403, `Refused: ${refusal}. Nothing was changed.`);
        }
        return route.handle({ request, reply, deps, signed, form, params: request.params as Record<string, string>, query: queryOf(request) });
      },
    });
  }
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(
    (scope: FastifyInstance, _options, done) => {
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, parsed) => {
        parsed(null, new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8')));
      });
      scope.setErrorHandler((error: FastifyError | RefundKitError, _request, reply) => {
        if (error instanceof RefundKitError) {
          const status = deps.httpStatus(error.code);
          if (status >= 500) deps.logger.error('dashboard request failed', { error });
          return errorPage(reply, status, status >= 500 ? 'Something went wrong on our side; it is in the server log.' : error.message);
        }
        const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
        if (status === 500) deps.logger.error('dashboard request failed', { error });
        const message =
          status === 415 ? 'Forms are posted as application/x-www-form-urlencoded.' : status === 413 ? 'The form is too large.' : status === 500 ? 'Something went wrong on our side; it is in the server log.' : 'The request could not be read.';
        return errorPage(reply, status, message);
      });
      scope.setNotFoundHandler((_request, reply) => errorPage(reply, 404, 'There is no such page.'));
      if (deps.readOnly) {
        // Sign-in writes a session: a read-only server cannot hold one.
        const refuse = (_request: FastifyRequest, reply: FastifyReply): FastifyReply =>
          errorPage(reply, 503, 'This server is read-only (REFUNDKIT_READ_ONLY=1): the dashboard needs a server that can record sessions.');
        scope.get('/', refuse);
        scope.all('/*', refuse);
      } else {
        registerRoutes(scope, deps);
      }
      done();
    },
    { prefix: DASHBOARD_PATH },
  );
}
