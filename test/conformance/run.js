#!/usr/bin/env node
/**
 * Runs the MCP conformance suite (@modelcontextprotocol/conformance, server mode) against /mcp of
 * the built server, and compares the outcome with expected-failures.yml beside this file.
 *
 *   npm run conformance          (builds first)
 *   node test/conformance/run.js [--scenario NAME] [--verbose] [--keep-results]
 *
 * What it does: a demo database in a temp folder (`init --demo`), `refundkit-mcp http --port 0`
 * on it, then the suite. The suite has no way to send an Authorization header, and /mcp refuses
 * requests without a key, so a small proxy in this script adds the demo key and forwards every
 * request untouched otherwise (Host and Origin included, so the DNS-rebinding checks are real:
 * the server is told, through REFUNDKIT_HTTP_ALLOWED_HOSTS, that the proxy's address is one of
 * its names). The suite needs Node 22; `npx -p node@22` provides it without touching this
 * project's dependencies. Exit code: the suite's (0 when only baseline scenarios fail, 1 on an
 * unexpected failure or a stale baseline entry).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';

const CONFORMANCE = '@modelcontextprotocol/conformance@0.1.16';
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const BASELINE = join(HERE, 'expected-failures.yml');

const { values } = parseArgs({
  options: { scenario: { type: 'string' }, verbose: { type: 'boolean' }, 'keep-results': { type: 'boolean' } },
});

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'refundkit-conformance-'));
const env = { ...cleanEnv(), HOME: dir, REFUNDKIT_DB_PATH: join(dir, 'refundkit.db'), REFUNDKIT_LOG_LEVEL: 'warn' };
const children = new Set();
let proxy;

function cleanEnv() {
  const out = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(REFUNDKIT_|STRIPE_)/i.test(name)) out[name] = value;
  }
  return out;
}

function log(line) {
  process.stderr.write(`[conformance] ${line}\n`);
}

function run(command, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, cwd: ROOT, stdio: options.stdio ?? ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolvePromise({ code, stdout });
    });
  });
}

/** Starts `refundkit-mcp http --port 0` and resolves with its URL (its first stdout line). */
function startServer(extraEnv) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, 'http', '--port', '0'], { env: { ...env, ...extraEnv }, cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    child.once('exit', (code) => {
      children.delete(child);
      reject(new Error(`the server exited early (${code})`));
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline !== -1) resolvePromise({ child, url: out.slice(0, newline).trim() });
    });
  });
}

/** Adds the API key to every request and forwards it, streaming both ways (SSE included). */
function startProxy(key) {
  let target;
  const server = createServer((req, res) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${key}` } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolvePromise) =>
    server.listen(0, '127.0.0.1', () =>
      resolvePromise({ server, port: server.address().port, setTarget: (url) => (target = new URL(url)) }),
    ),
  );
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit'); // the "exited early" handler
  const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main() {
  const init = await run(process.execPath, [CLI, 'init', '--demo']);
  if (init.code !== 0) throw new Error(`init --demo failed (${init.code})`);
  const key = init.stdout.trim().split('\n').at(-1);
  proxy = await startProxy(key);
  const proxyHost = `127.0.0.1:${proxy.port}`;
  const { child, url } = await startServer({ REFUNDKIT_HTTP_ALLOWED_HOSTS: `${proxyHost},localhost:${proxy.port}` });
  proxy.setTarget(url);
  log(`server ${url}, suite against http://${proxyHost}/mcp (through the key-adding proxy)`);
  const args = [
    '-y', '-p', 'node@22', '-p', CONFORMANCE, 'conformance', 'server',
    '--url', `http://${proxyHost}/mcp`,
    '--expected-failures', BASELINE,
    '-o', join(dir, 'results'),
  ];
  if (values.scenario !== undefined) args.push('--scenario', values.scenario);
  if (values.verbose === true) args.push('--verbose');
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const suite = await run(npx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  await stop(child);
  return suite.code ?? 1;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const child of children) child.kill('SIGKILL');
  proxy?.server.close();
  proxy?.server.closeAllConnections();
  if (values['keep-results'] === true) log(`results kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  log(`exit ${exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(exitCode);
