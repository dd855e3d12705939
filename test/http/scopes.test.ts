/**
 * Key scopes on REST: every route refuses a key without the scope its operation needs, with 403
 * forbidden and nothing done; MCP over HTTP lists only the tools the session key may call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/domain/guardrails/scopes.js';
import { allOperations } from '../../src/operations/index.js';
import { countRows, createOrg, insertRefund } from '../support/fixtures.js';
import { bearer, cleanupHttp, JSON_HEADERS, raw, startTestServer, type TestServer } from '../support/http-server.js';

let s: TestServer;
let org: string;

beforeAll(async () => {
  s = await startTestServer();
  org = createOrg(s.app).id;
});
afterAll(() => cleanupHttp());

async function keyWith(scopes: readonly Scope[]): Promise<string> {
  return (await s.app.apiKeys.create(org, 'test', { scopes })).key;
}

describe('REST routes by scope', () => {
  for (const operation of allOperations) {
    const rest = operation.rest;
    if (rest === null) continue;
    it(`${rest.method} ${rest.path} needs '${operation.scope}': 403 forbidden without it, nothing done`, async () => {
      const refund = insertRefund(s.app, org, { status: 'pending' });
      const key = await keyWith((['read', 'write', 'approve', 'admin'] as const).filter((scope) => scope !== operation.scope));
      const path = rest.path.replace(':refundId', refund.id);
      const body = rest.method === 'POST' && !path.endsWith('/cancel') ? JSON.stringify({ transactionId: 'ch_scope1', amount: 1000, reason: 'other' }) : undefined;
      const refunds = countRows(s.app, 'refunds');
      const events = countRows(s.app, 'refund_events');
      const response = await raw(`${s.url}${path}`, {
        method: rest.method,
        headers: { ...bearer(key), ...(body === undefined ? {} : JSON_HEADERS) },
        ...(body === undefined ? {} : { body }),
      });
      expect(response.status).toBe(403);
      expect(response.json()).toEqual({
        error: { code: 'forbidden', message: `This API key lacks the '${operation.scope}' scope that ${rest.method} ${rest.path} needs` },
      });
      expect(countRows(s.app, 'refunds')).toBe(refunds);
      expect(countRows(s.app, 'refund_events')).toBe(events);
    });
  }

  it('a key with the scope is served', async () => {
    const refund = insertRefund(s.app, org, { status: 'pending' });
    const response = await raw(`${s.url}/v1/refunds/${refund.id}`, { headers: bearer(await keyWith(['read'])) });
    expect(response.status).toBe(200);
  });
});
