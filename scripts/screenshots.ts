/**
 * `npm run screenshots`: serves a fresh demo database with the built server, lets an agent (the
 * stdio server, through the MCP SDK client) ask for two refunds above the approval threshold,
 * signs in as the demo operator in Debian's Chromium, approves one, and writes a PNG of each page
 * to docs/screenshots/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { chromium } from 'playwright-core';

const root = process.cwd();
const cli = join(root, 'dist', 'cli.js');
const out = join(root, 'docs', 'screenshots');
const dir = mkdtempSync(join(tmpdir(), 'refundkit-screenshots-'));
const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, REFUNDKIT_DB_PATH: join(dir, 'demo.db'), REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '1' };
const EMAIL = 'demo@refundkit.invalid';
const PASSWORD = 'demo-operator-local-only';
const KEY = 'rk_test_demoLocalOnlyNotASecret000000000';

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

async function main(): Promise<void> {
  await run(['init', '--demo']);
  const agent = new Client({ name: 'screenshots', version: '0.0.0' });
  await agent.connect(new StdioClientTransport({ command: process.execPath, args: [cli], env: { ...env, REFUNDKIT_API_KEY: KEY, REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' } }));
  for (const [i, amount] of [5000, 7500].entries()) {
    await agent.callTool({ name: 'create_refund', arguments: { transactionId: `ch_sbx_demo00000${i + 4}`, amount, reason: 'product_not_received', idempotencyKey: `screenshots-${i}` } });
  }
  await agent.close();

  const server = spawn(process.execPath, [cli, 'http', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => server.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim().split('\n')[0] ?? '')));
  const browser = await chromium.launch({
    executablePath: process.env.REFUNDKIT_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    mkdirSync(out, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    await page.goto(`${url}/dashboard/sign-in`);
    await shot('sign-in');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${url}/dashboard/approvals`);
    const first = page.locator('section.card').first();
    await first.getByLabel('Note (optional)').fill('order checked with the carrier');
    await first.getByRole('button', { name: /^Approve/ }).click();
    await page.waitForTimeout(1500);
    await page.reload();
    await shot('refund');
    await page.goto(`${url}/dashboard/approvals`);
    await shot('approvals');
    await page.goto(`${url}/dashboard/refunds?limit=10`);
    await shot('refunds');
    await page.goto(`${url}/dashboard/refunds/ref_demo00000002/cancel`);
    await shot('cancel');
    await page.goto(`${url}/dashboard/policy`);
    await shot('policy');
    await page.goto(`${url}/dashboard/keys`);
    await shot('keys');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/dashboard/refunds?limit=10`);
    await shot('refunds-phone');
    console.log(`wrote ${out}/*.png`);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
