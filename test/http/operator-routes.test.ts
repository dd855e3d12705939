/**
 * The operator routes (policy and approvals), which no MCP tool mirrors: each refuses an agent key
 * (read, write) with 403 and changes nothing; an approver key decides approvals, never one its own
 * agent requested; an admin key sets the policy; an invalid policy is validation_error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import type { Scope } from '../../src/domain/guardrails/scopes.js';
import { OPERATOR_ROUTES } from '../../src/http/operator-routes.js';
import { countRows, createOrg, storedStatus } from '../support/fixtures.js';
import { bearer, cleanupHttp, JSON_HEADERS, raw, startTestServer, type TestServer } from '../support/http-server.js';

/** The demo's thresholds with budgets the many held refunds here never spend. */
const POLICY = { ...DEMO_AGENT_POLICY, currencies: { usd: { maxPerRefund: 10_000, approvalAbove: 2500, dailyCount: 1000, dailyAmount: 10_000_000 } } };
let s: TestServer;
let transactions = 0;
let org: string;

beforeAll(async () => {
  s = await startTestServer();
  org = createOrg(s.app).id;
  await s.app.guardrails.setPolicy(org, POLICY, 'operator:test', new Date().toISOString());
});
afterAll(() => cleanupHttp());

async function keyWith(scopes: readonly Scope[]): Promise<{ key: string; keyId: string }> {
  const { key, record } = await s.app.apiKeys.create(org, 'test', { scopes });
  return { key, keyId: record.id };
}

/** A refund created by the agent of `keyId` and held for approval; its approval's id. */
async function heldBy(keyId: string): Promise<{ refundId: string; approvalId: string }> {
  const refund = await s.app.service.create({ organizationId: org, actor: 'mcp', keyId }, { transactionId: `ch_ops${++transactions}`, amount: 5000, currency: 'usd', reason: 'other' });
  const approval = await s.app.guardrails.approvalForRefund(org, refund.id);
  if (approval === null) throw new Error('not held');
  return { refundId: refund.id, approvalId: approval.id };
}

function send(method: string, path: string, key: string, body?: unknown) {
  return raw(`${s.url}${path}`, {
    method,
    headers: { ...bearer(key), ...(body === undefined ? {} : JSON_HEADERS) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('operator routes refuse an agent key', () => {
  for (const route of OPERATOR_ROUTES) {
    it(`${route.method} ${route.path}: an agent key (read, write) gets 403 forbidden, nothing changes`, async () => {
      const agent = await keyWith(['read', 'write']);
      const { approvalId } = await heldBy((await keyWith(['read', 'write'])).keyId);
      const path = route.path.replace(':approvalId', approvalId);
      const before = [countRows(s.app, 'approval_requests'), countRows(s.app, 'refund_events'), countRows(s.app, 'agent_policies')];
      const body = route.method === 'PUT' ? DEMO_AGENT_POLICY : route.method === 'POST' ? { note: 'x' } : undefined;
      const response = await send(route.method, path, agent.key, body);
      expect(response.status).toBe(403);
      expect(response.json()).toEqual({ error: { code: 'forbidden', message: `This API key lacks the '${route.scope}' scope that ${route.method} ${route.path} needs` } });
      expect([countRows(s.app, 'approval_requests'), countRows(s.app, 'refund_events'), countRows(s.app, 'agent_policies')]).toEqual(before);
      expect((await s.app.guardrails.findApproval(org, approvalId))?.status).toBe('requested');
    });
  }
});

describe('approvals over REST', () => {
  it('GET /v1/approvals lists open requests oldest first, to an approver key', async () => {
    const agent = await keyWith(['read', 'write']);
    const first = await heldBy(agent.keyId);
    const second = await heldBy(agent.keyId);
    const response = await send('GET', '/v1/approvals?limit=100', (await keyWith(['approve'])).key);
    expect(response.status).toBe(200);
    const data = (response.json() as { data: Array<{ id: string; createdAt: string }> }).data;
    expect(data.map((a) => a.id)).toEqual(expect.arrayContaining([first.approvalId, second.approvalId]));
    // Oldest first; two requests of the same millisecond are equally old and go by id.
    const order = (a: { id: string; createdAt: string }, b: { id: string; createdAt: string }): number =>
      a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
    expect(data).toEqual([...data].sort(order));
    expect(new Set(data.map((a) => a.createdAt)).size).toBeGreaterThan(1);
  });

  it('an approver key approves: the decision names the key, the refund becomes due', async () => {
    const { approvalId, refundId } = await heldBy((await keyWith(['read', 'write'])).keyId);
    const approver = await keyWith(['approve']);
    const response = await send('POST', `/v1/approvals/${approvalId}/approve`, approver.key, { note: 'checked' });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ data: { approval: { id: approvalId, status: 'approved', decidedBy: `key:${approver.keyId}`, note: 'checked' }, refund: { id: refundId, status: 'pending' } } });
    const again = await send('POST', `/v1/approvals/${approvalId}/reject`, approver.key);
    expect(again.status).toBe(409);
    expect((again.json() as { error: { code: string } }).error.code).toBe('approval_not_open');
  });

  it('an approver key rejects with no body: the refund is cancelled', async () => {
    const { approvalId, refundId } = await heldBy((await keyWith(['read', 'write'])).keyId);
    const response = await send('POST', `/v1/approvals/${approvalId}/reject`, (await keyWith(['approve'])).key);
    expect(response.status).toBe(200);
    expect(storedStatus(s.app, refundId)).toBe('cancelled');
  });

  it('a key never decides what its own agent requested, even with the approve scope', async () => {
    const both = await keyWith(['read', 'write', 'approve']);
    const { approvalId } = await heldBy(both.keyId);
    const response = await send('POST', `/v1/approvals/${approvalId}/approve`, both.key);
    expect(response.status).toBe(403);
    expect(response.json()).toEqual({ error: { code: 'forbidden', message: `A key cannot decide an approval its own agent requested (${approvalId})` } });
    expect((await s.app.guardrails.findApproval(org, approvalId))?.status).toBe('requested');
  });

  it('a malformed or unknown approval id, and an unknown body field, are refused', async () => {
    const approver = (await keyWith(['approve'])).key;
    expect((await send('POST', '/v1/approvals/nope/approve', approver)).status).toBe(400);
    expect((await send('POST', '/v1/approvals/apr_nosuchthing0/approve', approver)).status).toBe(404);
    const { approvalId } = await heldBy((await keyWith(['read', 'write'])).keyId);
    const extra = await send('POST', `/v1/approvals/${approvalId}/approve`, approver, { verdict: 'yes' });
    expect(extra.status).toBe(400);
    expect((extra.json() as { error: { code: string } }).error.code).toBe('validation_error');
  });

  it("another organization's approver cannot see or decide this organization's requests", async () => {
    const { approvalId } = await heldBy((await keyWith(['read', 'write'])).keyId);
    const otherOrg = createOrg(s.app).id;
    const { key } = await s.app.apiKeys.create(otherOrg, 'test', { scopes: ['approve'] });
    expect((await send('POST', `/v1/approvals/${approvalId}/approve`, key)).status).toBe(404);
    expect((await send('GET', '/v1/approvals', key)).json()).toEqual({ data: [] });
  });
});

describe('policy over REST', () => {
  it('an admin key reads and sets the policy, recorded as set by the key', async () => {
    const admin = await keyWith(['admin']);
    const read = await send('GET', '/v1/policy', admin.key);
    expect(read.status).toBe(200);
    expect(read.json()).toMatchObject({ data: { policy: POLICY, isDefault: false, updatedBy: 'operator:test' } });
    const next = { ...POLICY, cancelOthers: false, approvalHours: 12 };
    const set = await send('PUT', '/v1/policy', admin.key, next);
    expect(set.status).toBe(200);
    expect(set.json()).toMatchObject({ data: { policy: next, isDefault: false, updatedBy: `key:${admin.keyId}` } });
    expect((await s.app.guardrails.policy(org))?.policy).toEqual(next);
    await s.app.guardrails.setPolicy(org, POLICY, 'operator:test', new Date().toISOString());
  });

  it('an invalid policy is validation_error, naming the field, and nothing changes', async () => {
    const admin = (await keyWith(['admin'])).key;
    const bad = [
      { ...DEMO_AGENT_POLICY, approvalHours: 0 },
      { ...DEMO_AGENT_POLICY, currencies: { usd: { maxPerRefund: 100, approvalAbove: 200, dailyCount: 1, dailyAmount: 1 } } },
      { ...DEMO_AGENT_POLICY, unknown: true },
      { ...DEMO_AGENT_POLICY, currencies: { USD: DEMO_AGENT_POLICY.currencies.usd } },
    ];
    for (const body of bad) {
      const response = await send('PUT', '/v1/policy', admin, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((response.json() as { error: { code: string } }).error.code).toBe('validation_error');
    }
    expect((await send('PUT', '/v1/policy', admin)).status).toBe(400);
    expect((await s.app.guardrails.policy(org))?.policy).toEqual(POLICY);
  });

  it('an approver key cannot set the policy', async () => {
    const response = await send('PUT', '/v1/policy', (await keyWith(['approve'])).key, DEMO_AGENT_POLICY);
    expect(response.status).toBe(403);
  });
});

describe('a read-only server', () => {
  it('reads the policy and the queue, and refuses the routes that change them with 405', async () => {
    const ro = await startTestServer({ REFUNDKIT_READ_ONLY: '1' });
    const roOrg = createOrg(ro.app).id;
    const { key } = await ro.app.apiKeys.create(roOrg, 'test', { scopes: ['approve', 'admin'] });
    const get = await raw(`${ro.url}/v1/policy`, { headers: bearer(key) });
    expect(get.status).toBe(200);
    expect(get.json()).toMatchObject({ data: { isDefault: true, updatedBy: null } });
    const put = await raw(`${ro.url}/v1/policy`, { method: 'PUT', headers: { ...bearer(key), ...JSON_HEADERS }, body: JSON.stringify(DEMO_AGENT_POLICY) });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD');
    expect((await raw(`${ro.url}/v1/approvals/apr_abc123def456/approve`, { method: 'POST', headers: bearer(key) })).status).toBe(405);
  });
});
