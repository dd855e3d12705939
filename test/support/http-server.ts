/**
 * In-process HTTP servers for the tests in test/http: the product's SqliteApp on a temporary database
 * (createTestApp), served by startHttpServer on 127.0.0.1 with an ephemeral port, plus a raw
 * HTTP client that can send any header (Host included) and any body. Everything started here is
 * stopped by cleanupHttp() (call it in afterEach/afterAll).
 */
import { request } from 'node:http';
import type { SqliteApp } from '../../src/app.js';
import type { Env } from '../../src/config.js';
import { httpServerOptions } from '../../src/commands/http-options.js';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/logger.js';
import { cleanupAll, createKey, createOrg, createTestApp } from './fixtures.js';

export interface TestServer {
  app: SqliteApp;
  url: string;
  port: number;
  running: RunningHttpServer;
}

const servers = new Set<RunningHttpServer>();

/** A server on a new database; `env` goes to loadConfig (e.g. STRIPE_WEBHOOK_SECRET). */
export async function startTestServer(env: Env = {}, overrides: Partial<HttpServerOptions> = {}): Promise<TestServer> {
  const app = createTestApp({ REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0', ...env });
  return serveApp(app, overrides);
}

export async function serveApp(app: SqliteApp, overrides: Partial<HttpServerOptions> = {}): Promise<TestServer> {
  const running = await startHttpServer({
    ...httpServerOptions(app, silentLogger),
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 2_000,
    ...overrides,
  });
  servers.add(running);
  return { app, url: running.url, port: running.port, running };
}

export async function cleanupHttp(): Promise<void> {
  await Promise.all([...servers].map((server) => server.close()));
  servers.clear();
  cleanupAll();
}

/** A new organization with a live key. */
export function orgWithKey(app: SqliteApp, name = 'Test Org'): { organizationId: string; key: string; keyId: string } {
  const org = createOrg(app, name);
  const { key, keyId } = createKey(app, org.id, 'test');
  return { organizationId: org.id, key, keyId };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (throws if it is not). */
  json(): unknown;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sent without a Content-Length: chunked. */
  chunked?: boolean;
}

/** One request on its own connection, exactly as given (no header added but Host if absent). */
export function raw(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined && options.chunked !== true && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: `${target.pathname}${target.search}`,
        headers,
        agent: false,
        setHost: !Object.keys(headers).some((h) => h.toLowerCase() === 'host'),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as unknown,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

export function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** A refund's fields, in the reference's order: what every `data` refund must have, exactly. */
export const REFUND_FIELDS = [
  'id',
  'organizationId',
  'externalRefundId',
  'transactionId',
  'amount',
  'currency',
  'reason',
  'status',
  'processor',
  'metadata',
  'initiatedBy',
  'createdAt',
  'updatedAt',
];
