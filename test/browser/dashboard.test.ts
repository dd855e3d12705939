/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core), against the built
 * `refundkit-mcp http` on the demo database, with an MCP client (stdio, same database file) as the
 * agent: sign in and out, filters and pages, approve and reject what an agent asked for, cancel,
 * a forged cross-site form, another organization's operator, and a key made in the page.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_OPERATOR } from '../../src/demo.js';
import { chromiumAvailable, closeChromium, launchChromium, screenshotOnFailure, spawnDashboardServer, type SpawnedHttp } from '../support/browser.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  createDemoHome,
  lastLine,
  queryAll,
  runCli,
  toolJson,
  type ConnectedServer,
  type TestHome,
} from '../support/cli.js';

const run = chromiumAvailable();

let home: TestHome;
let server: SpawnedHttp;
let browser: Browser;
let agent: ConnectedServer;

beforeAll(async () => {
  if (!run) return;
  assertBuilt();
  home = await createDemoHome();
  // The http server's own background pass submits an approved refund within a second.
  server = await spawnDashboardServer(home.env({ REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '1' }));
  [browser, agent] = await Promise.all([launchChromium(), connectServer(home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' }))]);
}, 60_000);

afterAll(async () => {
  await closeChromium(browser);
  await (server as SpawnedHttp | undefined)?.stop();
  await cleanupCli();
});

/** A new browser context (its own cookies) and page, screenshotted if the test fails. */
async function freshPage(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  screenshotOnFailure(() => page, name);
  return { context, page };
}

async function signIn(page: Page, email: string = DEMO_OPERATOR.email, password: string = DEMO_OPERATOR.password): Promise<void> {
  await page.goto(`${server.url}/dashboard/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function refundStatus(id: string): string | undefined {
  return queryAll<{ status: string }>(home.dbPath, 'SELECT status FROM refunds WHERE id = ?', id)[0]?.status;
}

async function agentCreates(amount: number, key: string): Promise<{ id: string; status: string }> {
  const result = await callTool(agent, 'create_refund', { transactionId: 'ch_sbx_demo000015', amount, reason: 'requested_by_customer', idempotencyKey: key });
  expect(result.isError).not.toBe(true);
  return (toolJson(result) as { refund: { id: string; status: string } }).refund;
}

async function agentSees(id: string): Promise<{ status: string; externalRefundId: string | null }> {
  return (toolJson(await callTool(agent, 'get_refund', { refundId: id })) as { refund: { status: string; externalRefundId: string | null } }).refund;
}

describe.skipIf(!run)('the dashboard in Chromium', () => {
  it('signs in (a wrong password is refused), shows the organization, and signs out', async () => {
    const { context, page } = await freshPage('sign-in-and-out');
    await page.goto(`${server.url}/dashboard/refunds`);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await signIn(page, DEMO_OPERATOR.email, 'not-the-password');
    expect(await page.getByRole('alert').textContent()).toBe('Wrong email or password.');
    await signIn(page);
    expect(new URL(page.url()).pathname).toBe('/dashboard/refunds');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Refunds');
    expect(await page.locator('.who').textContent()).toContain('RefundKit Demo Store');
    const cookie = (await context.cookies()).find((c) => c.name === 'rk_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
    // No secret in a page: neither the session id nor the demo API key.
    expect(await page.content()).not.toContain(cookie?.value ?? 'missing');
    expect(await page.content()).not.toContain(DEMO_API_KEY);

    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    // The old cookie opens nothing: its session row is gone.
    await context.addCookies([{ name: 'rk_session', value: cookie?.value ?? '', url: server.url }]);
    await page.goto(`${server.url}/dashboard/approvals`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await context.close();
  });

  it('filters refunds by status and processor and pages through them, newest first, amounts with their currency', async () => {
    const { context, page } = await freshPage('filter-and-page');
    await signIn(page);
    await page.getByLabel('Per page').selectOption('10');
    await page.getByRole('button', { name: 'Filter' }).click();
    const ids = async (): Promise<string[]> => page.locator('tbody tr td:first-child a').allTextContents();
    const first = await ids();
    expect(first).toHaveLength(10);
    expect(first[0]).toBe('ref_demo00000001');
    expect(await page.locator('tbody tr').first().locator('td.num').textContent()).toBe('$49.99 (4999 usd)');
    await page.getByRole('link', { name: 'Older →' }).click();
    const second = await ids();
    expect(second).toHaveLength(10);
    expect(second[0]).toBe('ref_demo00000011');
    expect(await page.getByRole('link', { name: 'Older →' }).count()).toBe(0);
    await page.getByRole('link', { name: '← Newer' }).click();
    expect(await ids()).toEqual(first);

    await page.getByLabel('Status').selectOption('completed');
    await page.getByLabel('Processor').selectOption('stripe');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(4);
    for (const text of await rows.allTextContents()) {
      expect(text).toContain('completed');
      expect(text).toContain('stripe');
    }
    expect(await ids()).toEqual(['ref_demo00000006', 'ref_demo00000011', 'ref_demo00000017', 'ref_demo00000020']);
    await context.close();
  });

  it('an agent refund above the threshold waits; approved in the dashboard, the agent then sees it submitted', async () => {
    const held = await agentCreates(5000, 'browser-approve');
    expect(held.status).toBe('pending');
    const { context, page } = await freshPage('approve');
    await signIn(page);
    await page.getByRole('link', { name: 'Approvals' }).click();
    const card = page.locator('section.card', { hasText: held.id });
    const text = await card.textContent();
    expect(text).toContain('$50.00 (5000 usd)');
    expect(text).toContain('requested_by_customer');
    expect(text).toContain('ch_sbx_demo000015');
    expect(text).toContain('approval_threshold');
    expect(text).toMatch(/Demo agent \(key_[a-z0-9]{12} \/ rk_test_demo…\)/);
    await card.getByLabel('Note (optional)').fill('checked the order');
    await card.getByRole('button', { name: /^Approve/ }).click();
    expect(await page.getByRole('status').textContent()).toContain(`refund ${held.id} goes to its processor`);
    expect(await page.locator('dl.fields').nth(1).textContent()).toContain(`operator:${DEMO_OPERATOR.email}`);
    await expect.poll(async () => (await agentSees(held.id)).status, { timeout: 15_000, interval: 250 }).toBe('processing');
    expect((await agentSees(held.id)).externalRefundId).not.toBeNull();
    await page.reload();
    expect(await page.locator('tbody').textContent()).toContain(`approved by operator:${DEMO_OPERATOR.email}: checked the order`);
    await context.close();
  });

  it('a rejection cancels the held refund, and the decided list says who decided', async () => {
    const held = await agentCreates(6000, 'browser-reject');
    const { context, page } = await freshPage('reject');
    await signIn(page);
    await page.goto(`${server.url}/dashboard/approvals`);
    await page.locator('section.card', { hasText: held.id }).getByRole('button', { name: /^Reject/ }).click();
    expect(await page.getByRole('status').textContent()).toContain('is cancelled and never sent');
    expect((await agentSees(held.id)).status).toBe('cancelled');
    await page.goto(`${server.url}/dashboard/approvals`);
    const row = page.locator('tbody tr', { hasText: held.id });
    expect(await row.textContent()).toContain('rejected');
    expect(await row.textContent()).toContain(`operator:${DEMO_OPERATOR.email}`);
    await context.close();
  });

  it('cancels a pending refund after a confirmation step, and the timeline names the operator', async () => {
    const { context, page } = await freshPage('cancel');
    await signIn(page);
    await page.goto(`${server.url}/dashboard/refunds/ref_demo00000002`);
    await page.getByRole('link', { name: 'Cancel this refund…' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Cancel refund ref_demo00000002?');
    expect(refundStatus('ref_demo00000002')).toBe('pending');
    await page.getByRole('button', { name: 'Yes, cancel ref_demo00000002' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Cancelled: refund ref_demo00000002 is cancelled.');
    expect(refundStatus('ref_demo00000002')).toBe('cancelled');
    const last = await page.locator('tbody tr').last().textContent();
    expect(last).toContain('dashboard');
    expect(last).toContain(`by operator:${DEMO_OPERATOR.email}`);
    // A completed refund offers no cancel, and a forced visit says why.
    await page.goto(`${server.url}/dashboard/refunds/ref_demo00000006/cancel`);
    expect(await page.getByRole('alert').textContent()).toContain("Refund cannot be cancelled — status is 'completed'");
    await context.close();
  });

  it('refuses a forged form posted from another origin, and nothing changes', async () => {
    // The attacker's page: another origin (another port), a form aimed at the dashboard.
    const evil: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        `<!doctype html><form method="post" action="${server.url}/dashboard/refunds/ref_demo00000016/cancel"><input type="hidden" name="_csrf" value="guess"><button>Win a prize</button></form>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const { context, page } = await freshPage('forged-post');
    try {
      await signIn(page);
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/cancel')), page.getByRole('button', { name: 'Win a prize' }).click()]);
      expect(response.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toContain('Nothing was changed');
      expect(refundStatus('ref_demo00000016')).toBe('pending');
    } finally {
      await context.close();
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it("an operator of another organization sees none of the demo's refunds, approvals or keys", async () => {
    const org = await runCli(['orgs', 'create', '--name', 'Other Shop'], home.env());
    const orgId = lastLine(org.stdout);
    const made = await runCli(['operators', 'create', '--org', orgId, '--email', 'olga@other.invalid', '--name', 'Olga', '--password-stdin'], home.env(), {
      input: 'other-shop-password\n',
    });
    expect(made.code).toBe(0);
    const { context, page } = await freshPage('other-organization');
    await signIn(page, 'olga@other.invalid', 'other-shop-password');
    expect(await page.locator('.who').textContent()).toContain('Other Shop');
    expect(await page.locator('tbody tr').count()).toBe(0);
    const detail = await page.goto(`${server.url}/dashboard/refunds/ref_demo00000001`);
    expect(detail?.status()).toBe(404);
    await page.goto(`${server.url}/dashboard/approvals`);
    expect(await page.locator('section.card').count()).toBe(0);
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.goto(`${server.url}/dashboard/keys`);
    expect(await page.locator('tbody tr').count()).toBe(0);
    // Even a well-formed form of her own session cannot cancel the demo's refund.
    const token = await page.locator('input[name="_csrf"]').first().getAttribute('value');
    const posted = await context.request.post(`${server.url}/dashboard/refunds/ref_demo00000010/cancel`, { form: { _csrf: token ?? '' }, maxRedirects: 0 });
    expect(posted.status()).toBe(404);
    expect(refundStatus('ref_demo00000010')).toBe('pending');
    await context.close();
  });

  it('a key created in the page works once shown, and is refused after it is revoked there', async () => {
    const { context, page } = await freshPage('keys');
    await signIn(page);
    await page.getByRole('link', { name: 'API keys' }).click();
    // A name is user text: markup in it stays text.
    const name = 'Reporting <i>bot</i>';
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('write').uncheck();
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('#created-key').textContent()) ?? '';
    expect(key).toMatch(/^rk_live_[A-Za-z0-9]{32}$/);
    expect(page.url()).not.toContain(key);
    const heading = (await page.getByRole('heading', { name: /^New key/ }).textContent()) ?? '';
    expect(heading).toMatch(/^New key Reporting <i>bot<\/i> \(key_[a-z0-9]{12} \/ rk_live_[A-Za-z0-9]{4}…\)$/);
    expect(await page.locator('i').count()).toBe(0);
    const keyId = /key_[a-z0-9]{12}/.exec(heading)?.[0] ?? '';
    const list = (): Promise<Response> => fetch(`${server.url}/v1/refunds?limit=1`, { headers: { authorization: `Bearer ${key}` } });
    expect((await list()).status).toBe(200);
    // Shown once: the list page never shows it again.
    await page.goto(`${server.url}/dashboard/keys`);
    expect(await page.content()).not.toContain(key);
    const row = await page.locator('tbody tr', { hasText: keyId }).textContent();
    expect(row).toContain('read');
    expect(row).toContain(name);
    await page.getByRole('button', { name: `Revoke ${name} (${keyId})` }).click();
    expect(await page.getByRole('status').textContent()).toContain(`Revoked ${keyId}`);
    expect((await list()).status).toBe(401);
    expect(queryAll<{ action: string }>(home.dbPath, 'SELECT action FROM operator_actions WHERE subject = ? ORDER BY seq', keyId).map((r) => r.action)).toEqual([
      'key_created',
      'key_revoked',
    ]);
    await context.close();
  });
});
