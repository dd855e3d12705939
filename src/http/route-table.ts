/**
 * Every route the HTTP server serves, as docs/http.md lists them: the operations' REST bindings
 * (from the operation table) and the server's own routes. `npm run docs` renders this table, so the
 * routes documented are the routes registered.
 */
import type { Operation } from '../operations/operation.js';
import { MCP_METHOD_LIST, MCP_PATH } from './mcp-route.js';
import { OPERATOR_ROUTES } from './operator-routes.js';
import { displayPath } from './routes-directory.js';
import { HEALTH_PATH } from './health.js';
import { STRIPE_WEBHOOK_PATH } from './webhooks.js';
import { DASHBOARD_ROUTE_DOCS } from '../web/dashboard.js';

export interface RouteDoc {
  methods: readonly string[];
  /** As the reference writes it: `{id}` for a refund id. */
  path: string;
  auth: 'API key' | 'Stripe signature' | 'operator session' | 'none';
  /** The MCP tool of the same operation, if any. */
  tool: string | null;
  summary: string;
}

const SERVER_ROUTES: readonly RouteDoc[] = [
  {
    methods: ['POST'],
    path: STRIPE_WEBHOOK_PATH,
    auth: 'Stripe signature',
    tool: null,
    summary: 'Stripe webhook endpoint (needs `STRIPE_WEBHOOK_SECRET`); refused with 405 by a read-only server',
  },
  { methods: MCP_METHOD_LIST, path: MCP_PATH, auth: 'API key', tool: null, summary: 'The MCP tools over Streamable HTTP' },
  {
    methods: ['GET'],
    path: HEALTH_PATH,
    auth: 'none',
    tool: null,
    summary: '`200 {"status":"ok"}` when the database answers, `503 {"status":"unavailable"}` when not',
  },
];

export function routeTable(operations: readonly Operation[]): RouteDoc[] {
  const rest = operations.flatMap((op) =>
    op.rest === null ? [] : [{ methods: [op.rest.method], path: displayPath(op.rest.path), auth: 'API key' as const, tool: op.name, summary: op.rest.summary }],
  );
  const operator = OPERATOR_ROUTES.map((route) => ({ methods: [route.method], path: displayPath(route.path), auth: 'API key' as const, tool: null, summary: route.summary }));
  const dashboard = DASHBOARD_ROUTE_DOCS.map((route) => ({
    methods: [route.method],
    path: displayPath(route.path),
    auth: route.path.endsWith('/sign-in') || route.path.endsWith('.css') ? ('none' as const) : ('operator session' as const),
    tool: null,
    summary: route.summary,
  }));
  return [...rest, ...operator, ...SERVER_ROUTES, ...dashboard];
}
