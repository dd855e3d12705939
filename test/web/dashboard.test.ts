/**
 * The dashboard's routes on the in-process server: what reaches the browser (status codes,
 * cookies, security headers, escaped HTML, no secret), what a request without a session or with a
 * bad form gets, and that /v1 keeps its JSON answers beside it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/security.js';
import { cleanupHttp, orgWithKey, raw, startTestServer, type RawResponse, type TestServer } from '../support/http-server.js';
import { insertRefund } from '../support/fixtures.js';

const PASSWORD = 'a long enough password';
let server: TestServer;
let org: { organizationId: string; key: string; keyId: string };

beforeEach(async () => {
  server = await startTestServer();
  org = orgWithKey(server.app, 'Shop <b>&amp;</b>');
  await server.app.operatorAuth.createOperator(org.organizationId, 'ana@example.com', 'Ana', PASSWORD);
});
afterEach(() => cleanupHttp());

function setCookies(response: RawResponse): string[] {
  const value = response.headers['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function cookiePair(response: RawResponse, name: string): string {
  const found = setCookies(response).find((c) => c.startsWith(`${name}=`));
  return (found ?? '').split(';')[0] ?? '';
}

function hiddenToken(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

const FORM = 'application/x-www-form-urlencoded';

async function signIn(): Promise<{ cookie: string; token: string }> {
  const page = await raw(`${server.url}/dashboard/sign-in`);
  const signinCookie = cookiePair(page, 'rk_signin');
  const body = new URLSearchParams({ _csrf: hiddenToken(page.text), email: 'ana@example.com', password: PASSWORD }).toString();
  const posted = await raw(`${server.url}/dashboard/sign-in`, { method: 'POST', headers: { 'content-type': FORM, cookie: signinCookie, origin: server.url }, body });
  expect(posted.status).toBe(303);
  const cookie = cookiePair(posted, 'rk_session');
  const refunds = await raw(`${server.url}/dashboard/refunds`, { headers: { cookie } });
  return { cookie, token: hiddenToken(refunds.text) };
}

describe('dashboard routes', () => {
  it('the sign-in page carries the strict CSP and security headers, and no page is cached', async () => {
    const page = await raw(`${server.url}/dashboard/sign-in`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).not.toMatch(/<script|style=/);
    expect(setCookies(page)[0]).toMatch(/^rk_signin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const css = await raw(`${server.url}/dashboard/style.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('without a session every page sends the browser to sign in', async () => {
    for (const path of ['/dashboard/refunds', '/dashboard/approvals', '/dashboard/keys', '/dashboard/policy', '/dashboard/']) {
      const response = await raw(`${server.url}${path}`);
      expect(response.status, path).toBe(303);
      expect(response.headers.location).toBe('/dashboard/sign-in');
    }
    const forged = await raw(`${server.url}/dashboard/policy`, { method: 'POST', headers: { 'content-type': FORM, cookie: 'rk_session=forgedforgedforged' }, body: 'policy={}' });
    expect(forged.status).toBe(303);
  });

  it('signs in with a session cookie (HttpOnly, SameSite) whose value appears in no page; over HTTPS it is __Host- and Secure', async () => {
    const { cookie, token } = await signIn();
    expect(cookie).toMatch(/^rk_session=[A-Za-z0-9_-]{43}$/);
    const page = await raw(`${server.url}/dashboard/keys`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(cookie.split('=')[1]);
    expect(page.text).not.toContain(org.key);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const https = await raw(`${server.url}/dashboard/sign-in`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(setCookies(https)[0]).toMatch(/^__Host-rk_signin=.*; Secure$/);
  });

  it('a wrong password is 401 with the form again; the organization name is escaped, never markup', async () => {
    const page = await raw(`${server.url}/dashboard/sign-in`);
    const body = new URLSearchParams({ _csrf: hiddenToken(page.text), email: 'ana@example.com', password: 'wrong password!' }).toString();
    const posted = await raw(`${server.url}/dashboard/sign-in`, { method: 'POST', headers: { 'content-type': FORM, cookie: cookiePair(page, 'rk_signin') }, body });
    expect(posted.status).toBe(401);
    expect(posted.text).toContain('Wrong email or password.');
    const { cookie } = await signIn();
    const refunds = await raw(`${server.url}/dashboard/refunds`, { headers: { cookie } });
    expect(refunds.text).toContain('Shop &lt;b>&amp;amp;&lt;/b>');
    expect(refunds.text).not.toContain('<b>&amp;</b>');
  });

  it('a refund with markup in its metadata is shown as text', async () => {
    const refund = insertRefund(server.app, org.organizationId, { metadata: { note: '<script>alert(1)</script>' } });
    const { cookie } = await signIn();
    const page = await raw(`${server.url}/dashboard/refunds/${refund.id}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script>');
  });

  it('a form post without the token, or from another origin, is 403 and changes nothing', async () => {
    const refund = insertRefund(server.app, org.organizationId, { status: 'pending' });
    const { cookie, token } = await signIn();
    const url = `${server.url}/dashboard/refunds/${refund.id}/cancel`;
    const noToken = await raw(url, { method: 'POST', headers: { 'content-type': FORM, cookie }, body: '' });
    expect(noToken.status).toBe(403);
    const crossSite = await raw(url, { method: 'POST', headers: { 'content-type': FORM, cookie, 'sec-fetch-site': 'cross-site' }, body: `_csrf=${token}` });
    expect(crossSite.status).toBe(403);
    const otherOrigin = await raw(url, { method: 'POST', headers: { 'content-type': FORM, cookie, origin: 'http://evil.example' }, body: `_csrf=${token}` });
    expect(otherOrigin.status).toBe(403);
    expect((await server.app.refunds.findById(org.organizationId, refund.id))?.status).toBe('pending');
    const accepted = await raw(url, { method: 'POST', headers: { 'content-type': FORM, cookie, origin: server.url }, body: `_csrf=${token}` });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.location).toBe(`/dashboard/refunds/${refund.id}?done=cancelled`);
    expect((await server.app.refunds.findById(org.organizationId, refund.id))?.status).toBe('cancelled');
  });

  it("a cancel the processor refuses shows its answer and the status the refund really has", async () => {
    // The sandbox has settled a processing refund whose amount ends in 99: it refuses to cancel it.
    const refund = insertRefund(server.app, org.organizationId, { status: 'processing', processor: 'sandbox', amount: 1099, externalRefundId: 'sbx_re_refused' });
    const { cookie, token } = await signIn();
    const refused = await raw(`${server.url}/dashboard/refunds/${refund.id}/cancel`, { method: 'POST', headers: { 'content-type': FORM, cookie }, body: `_csrf=${token}` });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain("Not cancelled: Refund cannot be cancelled — the processor refused the cancellation; status is 'completed'");
    expect((await server.app.refunds.findById(org.organizationId, refund.id))?.status).toBe('completed');
    expect(refused.text).toContain('<dt>status</dt><dd>completed</dd>');
  });

  it('a key is created with a name, shown escaped in the keys page, the approvals inbox and the refund detail; never its secret', async () => {
    const { cookie, token } = await signIn();
    const post = (fields: Record<string, string>) =>
      raw(`${server.url}/dashboard/keys`, { method: 'POST', headers: { 'content-type': FORM, cookie }, body: new URLSearchParams({ _csrf: token, mode: 'test', scopes: 'write', ...fields }).toString() });
    const before = (await server.app.apiKeys.listForOrganization(org.organizationId)).length;
    for (const [name, reason] of [
      ['', 'must not be empty'],
      ['   ', 'must not be empty'],
      ['x'.repeat(101), 'at most 100 characters'],
      ['two\nlines', 'control characters'],
    ] as const) {
      const refused = await post({ name });
      expect(refused.status, name).toBe(400);
      expect(refused.text).toContain(reason);
      expect(refused.text).not.toMatch(/rk_test_[A-Za-z0-9]{32}/);
    }
    expect(await server.app.apiKeys.listForOrganization(org.organizationId)).toHaveLength(before);

    const markup = '<img src=x onerror=alert(1)> & "Bot"';
    const created = await post({ name: `  ${markup} ` });
    expect(created.status).toBe(201);
    const record = (await server.app.apiKeys.listForOrganization(org.organizationId)).find((key) => key.name === markup);
    expect(record).toMatchObject({ name: markup, mode: 'test' });
    const id = record?.id ?? '';
    const escaped = '&lt;img src=x onerror=alert(1)> &amp; &quot;Bot&quot;';
    expect(created.text).toContain(`New key ${escaped} (${id} / ${record?.displayPrefix ?? ''}…)`);
    expect(created.text).not.toContain('<img');
    const secret = /id="created-key">([^<]+)</.exec(created.text)?.[1] ?? '';
    expect(secret).toMatch(/^rk_test_[A-Za-z0-9]{32}$/);

    const keys = await raw(`${server.url}/dashboard/keys`, { headers: { cookie } });
    expect(keys.text).toContain(`<td>${escaped}</td><td>${id}</td>`);
    // The key made without a name (before keys had names) is shown as such.
    expect(keys.text).toContain(`<td><em>unnamed</em></td><td>${org.keyId}</td>`);
    expect(keys.text).not.toContain('<img');
    expect(keys.text).not.toContain(secret);

    // The new key's agent asks for more than the policy lets through alone.
    await server.app.guardrails.setPolicy(
      org.organizationId,
      { ...DEMO_AGENT_POLICY, currencies: { usd: { maxPerRefund: 10_000, approvalAbove: 2500, dailyCount: 100, dailyAmount: 1_000_000 } } },
      'operator:test',
      new Date().toISOString(),
    );
    const refund = await server.app.service.create(
      { organizationId: org.organizationId, actor: 'mcp', keyId: id },
      { transactionId: 'ch_named_key', amount: 5000, currency: 'usd', reason: 'other' },
    );
    const label = `${escaped} (${id} / ${record?.displayPrefix ?? ''}…)`;
    for (const path of ['/dashboard/approvals', `/dashboard/refunds/${refund.id}`]) {
      const page = await raw(`${server.url}${path}`, { headers: { cookie } });
      expect(page.text, path).toContain(`<dt>requested by key</dt><dd>${label}</dd>`);
      expect(page.text, path).not.toContain('<img');
      expect(page.text, path).not.toContain(secret);
    }
  });

  it('a policy the domain refuses is 400 with the reason, and the policy stays', async () => {
    const { cookie, token } = await signIn();
    const before = await server.app.service.policy(org.organizationId);
    const bad = await raw(`${server.url}/dashboard/policy`, {
      method: 'POST',
      headers: { 'content-type': FORM, cookie },
      body: new URLSearchParams({ _csrf: token, policy: JSON.stringify({ ...before.policy, approvalHours: 0 }) }).toString(),
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('nothing was changed');
    expect(await server.app.service.policy(org.organizationId)).toEqual(before);
    const good = await raw(`${server.url}/dashboard/policy`, {
      method: 'POST',
      headers: { 'content-type': FORM, cookie },
      body: new URLSearchParams({ _csrf: token, policy: JSON.stringify({ ...before.policy, approvalHours: 24 }) }).toString(),
    });
    expect(good.status).toBe(200);
    expect(await server.app.service.policy(org.organizationId)).toMatchObject({ policy: { approvalHours: 24 }, updatedBy: 'operator:ana@example.com' });
  });

  it('errors are HTML pages under /dashboard, and /v1 keeps its JSON error bodies', async () => {
    const { cookie } = await signIn();
    const missing = await raw(`${server.url}/dashboard/nope`, { headers: { cookie } });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('text/html; charset=utf-8');
    const unknownRefund = await raw(`${server.url}/dashboard/refunds/ref_nosuchrefund`, { headers: { cookie } });
    expect(unknownRefund.status).toBe(404);
    const json = await raw(`${server.url}/dashboard/policy`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: '{}' });
    expect(json.status).toBe(415);
    expect(json.headers['content-type']).toBe('text/html; charset=utf-8');
    const api = await raw(`${server.url}/v1/nope`);
    expect(api.status).toBe(404);
    expect(api.json()).toEqual({ error: { code: 'route_not_found', message: expect.any(String) } });
  });

  it('a read-only server answers the dashboard with 503', async () => {
    const readOnly = await startTestServer({ REFUNDKIT_READ_ONLY: '1' });
    const page = await raw(`${readOnly.url}/dashboard/sign-in`);
    expect(page.status).toBe(503);
    expect(page.text).toContain('read-only');
  });
});
