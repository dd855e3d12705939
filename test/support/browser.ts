/**
 * Browser tests drive Debian's Chromium (/usr/bin/chromium, installed by .ci/run) with
 * playwright-core: never a browser download. In CI (CI set) a missing Chromium fails the suite;
 * locally the suite is skipped with a message saying how to install it. A failed test leaves a
 * screenshot in test-results/ (gitignored).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { CLI_PATH, ROOT, type Env } from './cli.js';

export const CHROMIUM_PATH = process.env.REFUNDKIT_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser suite runs here; throws in CI when Chromium is missing. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error(`${CHROMIUM_PATH} is missing: CI must install it (apt-get install -y chromium), the browser tests never skip in CI`);
  }
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set REFUNDKIT_CHROMIUM)`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // playwright-core itself passes --headless and a fresh --user-data-dir (a temporary profile it
    // removes on close; it refuses one in args); these are what root on a machine without a network needs.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    headless: true,
  });
}

export async function closeChromium(browser: Browser | undefined): Promise<void> {
  await browser?.close();
}

/** Saves a screenshot of `page` into test-results/ when the current test fails. */
export function screenshotOnFailure(page: () => Page | undefined, name: string): void {
  onTestFailed(async () => {
    const current = page();
    if (current === undefined || current.isClosed()) return;
    const dir = join(ROOT, 'test-results');
    mkdirSync(dir, { recursive: true });
    await current.screenshot({ path: join(dir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`), fullPage: true }).catch(() => undefined);
  });
}

export interface SpawnedHttp {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  stop(): Promise<void>;
}

/** `refundkit-mcp http --port 0` on 127.0.0.1; resolves with the URL it prints. */
export function spawnDashboardServer(env: Env): Promise<SpawnedHttp> {
  const child = spawn(process.execPath, [CLI_PATH, 'http', '--port', '0', '--host', '127.0.0.1'], { env, cwd: ROOT, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the http server printed no URL\nstderr: ${stderr}`));
    }, 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = /^(http:\/\/\S+)\n/.exec(stdout);
      if (line?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ url: line[1], child, stderr: () => stderr, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the http server exited (${code})\nstderr: ${stderr}`));
    });
  });
}
