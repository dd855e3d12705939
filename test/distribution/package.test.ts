/**
 * The npm package as a user gets it: `npm pack`, the tarball installed into an empty folder as
 * `npx` or `npm install` would (better-sqlite3 builds there), and the installed `refundkit-mcp`
 * driven over stdio with an MCP client, plus its HTTP server. The install is the slow part (a
 * native build, about two minutes on CI's 2 cores): it runs once for the file.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../src/demo.js';
import { assertBuilt, callTool, cleanEnv, cleanupCli, connectCommand, lastLine, makeTempDir, ROOT, runProcess, toolJson } from '../support/cli.js';

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  mcpName?: string;
  private?: boolean;
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let packDir: string;
let tarball: string;
let installDir: string;

/**
 * npm with the parent's environment (its cache and registry settings), nothing of RefundKit's,
 * and nothing of the `npm test` that may be running us (its package and folder).
 */
function npm(args: string[], cwd: string, timeoutMs = 60_000) {
  const env = Object.fromEntries(
    Object.entries(cleanEnv(process.env.HOME ?? '')).filter(([name]) => !/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$)/.test(name)),
  );
  return runProcess(NPM, args, env, { cwd, timeoutMs });
}

beforeAll(async () => {
  assertBuilt();
  packDir = makeTempDir('refundkit-pack-');
  // The build is fresh (npm test builds first); --ignore-scripts skips prepack's second build.
  const packed = await npm(['pack', '--ignore-scripts', '--pack-destination', packDir], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  tarball = join(packDir, lastLine(packed.stdout).trim());
  installDir = makeTempDir('refundkit-install-');
  writeFileSync(join(installDir, 'package.json'), '{ "name": "empty-folder", "private": true }\n');
  // --prefer-offline: npm ci already put every dependency in the cache.
  const installed = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], installDir, 540_000);
  expect(installed.code, installed.stderr).toBe(0);
}, 600_000);

afterAll(() => cleanupCli());

describe('package.json', () => {
  it('is publishable: no private flag, a license, engines for the Node 20, 22 and 24 that work, a bin, a registry name', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('MIT');
    expect(existsSync(join(ROOT, 'LICENSE'))).toBe(true);
    // 24.19 and later abort under better-sqlite3 12 (docs/distribution.md#nodejs-versions).
    expect(pkg.engines?.node).toBe('^20.9.0 || ^22.0.0 || >=24.0.0 <24.19.0');
    expect(pkg.bin).toEqual({ 'refundkit-mcp': 'dist/cli.js' });
    expect(pkg.mcpName).toBe('io.github.refundkit/refundkit-mcp');
  });

  it('the tarball holds the program, the README and the license only: no tests, sources, maps or databases', async () => {
    const listed = await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    const [report] = JSON.parse(listed.stdout) as { files: { path: string }[] }[];
    const files = (report?.files ?? []).map((file) => file.path).sort();
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    expect(files).toContain('package.json');
    const unexpected = files.filter((path) => !/^(dist\/cli\.js|dist\/chunks\/[^/]+\.js|README\.md|LICENSE|package\.json)$/.test(path));
    expect(unexpected).toEqual([]);
  });

  it('every package the bundle still imports is a dependency (the rest is bundled into dist/)', () => {
    const dist = join(ROOT, 'dist');
    const bundled = ['cli.js', ...readdirSync(join(dist, 'chunks')).filter((f) => f.endsWith('.js')).map((f) => `chunks/${f}`)];
    const imported = new Set<string>();
    for (const file of bundled) {
      const code = readFileSync(join(dist, file), 'utf8');
      // rolldown's own output: import statements at the start of a line, import("…") and the
      // require("…") it keeps for node's modules, all double-quoted (comments quote with ').
      for (const match of code.matchAll(/^import\s[^;]*?from\s*"([^"./][^"]*)"|^import\s*"([^"./][^"]*)"|\b(?:import|require)\("([^"./][^"]*)"\)/gm)) {
        const specifier = match[1] ?? match[2] ?? match[3] ?? '';
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
        if (!name.startsWith('node:') && !builtinModules.includes(name)) imported.add(name);
      }
    }
    // ajv's code generator mentions these in strings for standalone output; they are never loaded.
    imported.delete('ajv');
    imported.delete('ajv-formats');
    expect([...imported].sort()).toEqual(Object.keys(pkg.dependencies ?? {}).sort());
  });
});

describe('the installed package', () => {
  const bin = (): string => join(installDir, 'node_modules', '.bin', 'refundkit-mcp');

  it('installs only what the bundle needs at run time', () => {
    const top = readdirSync(join(installDir, 'node_modules'));
    expect(top).toEqual(expect.arrayContaining(['refundkit-mcp', 'better-sqlite3', 'stripe']));
    for (const bundled of ['fastify', 'zod', '@modelcontextprotocol']) expect(top).not.toContain(bundled);
    const installed = readdirSync(join(installDir, 'node_modules', 'refundkit-mcp'));
    expect(installed.sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
  });

  it('in an empty folder: init --demo, then an MCP client over stdio lists the tools and calls one', async () => {
    const home = makeTempDir('refundkit-npx-home-');
    const env = cleanEnv(home);
    const init = await runProcess(bin(), ['init', '--demo'], env, { cwd: home });
    expect(init.code, init.stderr).toBe(0);
    expect(lastLine(init.stdout)).toBe(DEMO_API_KEY);
    expect(existsSync(join(home, '.refundkit', 'refundkit.db'))).toBe(true);

    const server = await connectCommand({ command: bin(), args: [], env: { ...env, REFUNDKIT_API_KEY: DEMO_API_KEY }, cwd: home }, 'installed');
    const { tools } = await server.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['get_refund', 'list_refunds', 'create_refund', 'cancel_refund']));
    const listed = await callTool(server, 'list_refunds', { limit: 3 });
    expect(listed.isError ?? false).toBe(false);
    expect((toolJson(listed) as { refunds: unknown[] }).refunds).toHaveLength(3);
    const version = server.client.getServerVersion();
    expect(version?.version).toBe(pkg.version);
  });

  it('serves HTTP too (fastify comes bundled)', async () => {
    const home = makeTempDir('refundkit-npx-http-');
    const env = cleanEnv(home);
    expect((await runProcess(bin(), ['init', '--demo'], env, { cwd: home })).code).toBe(0);
    const child = spawn(bin(), ['http', '--port', '0'], { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('no URL on stdout within 20 s')), 20_000);
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const newline = out.indexOf('\n');
          if (newline !== -1) {
            clearTimeout(timer);
            resolveUrl(out.slice(0, newline).trim());
          }
        });
        child.once('exit', (code) => reject(new Error(`http exited with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${url}/v1/refunds?limit=1`, { headers: { authorization: `Bearer ${DEMO_API_KEY}` } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
