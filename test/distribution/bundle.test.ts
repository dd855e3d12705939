/**
 * The MCP bundle as Claude Desktop gets it: scripts/bundle.js packs it with `mcpb pack`, `mcpb
 * unpack` opens it, and the server is started exactly as the host starts it, from the unpacked
 * manifest's mcp_config with the user's settings substituted by mcpb's own getMcpConfigForManifest
 * (the code Claude Desktop uses), then driven by an MCP client over stdio.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMcpConfigForManifest, type McpbManifestAny } from '@anthropic-ai/mcpb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../src/demo.js';
import { assertBuilt, callTool, cleanEnv, cleanupCli, connectCommand, lastLine, makeTempDir, ROOT, runProcess, toolJson } from '../support/cli.js';

const MCPB = join(ROOT, 'node_modules', '.bin', 'mcpb');
const nodeMajor = Number(process.versions.node.split('.')[0]);

let unpacked: string;
let bundleFile: string;
let manifest: McpbManifestAny;
let home: string;

beforeAll(async () => {
  assertBuilt();
  const out = makeTempDir('refundkit-mcpb-out-');
  // Not `npm run bundle`: that builds again, under the feet of the other tests running dist/.
  const packed = await runProcess(process.execPath, [join(ROOT, 'scripts', 'bundle.js'), out], cleanEnv(process.env.HOME ?? ''), { timeoutMs: 240_000 });
  expect(packed.code, packed.stderr + packed.stdout).toBe(0);
  bundleFile = lastLine(packed.stdout).trim();
  unpacked = makeTempDir('refundkit-mcpb-unpacked-');
  const opened = await runProcess(MCPB, ['unpack', bundleFile, unpacked], cleanEnv(ROOT), { timeoutMs: 60_000 });
  expect(opened.code, opened.stderr + opened.stdout).toBe(0);
  manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as McpbManifestAny;
  home = makeTempDir('refundkit-mcpb-home-');
}, 300_000);

afterAll(() => cleanupCli());

/** The command line the host runs for these settings, as mcpb computes it. */
async function hostLaunch(userConfig: Record<string, string | boolean>) {
  const config = await getMcpConfigForManifest({ manifest, extensionPath: unpacked, systemDirs: { HOME: home }, userConfig, pathSeparator: '/' });
  if (config === undefined) throw new Error('mcpb found required settings missing');
  const env: Record<string, string> = { HOME: home, ...config.env };
  return { command: config.command, args: config.args ?? [], env, cwd: home };
}

describe('the .mcpb file', () => {
  it('is named for the platform, CPU and Node major it was built for, and its manifest says so', () => {
    expect(bundleFile).toMatch(new RegExp(`refundkit-mcp-\\d+\\.\\d+\\.\\d+-${process.platform}-${process.arch}-node${nodeMajor}\\.mcpb$`));
    expect(manifest.compatibility?.platforms).toEqual([process.platform]);
    // The one alternative of package.json's engines for this Node major.
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const runtime = manifest.compatibility?.runtimes?.node ?? '';
    expect(engines.split('||').map((range) => range.trim())).toContain(runtime);
    expect(runtime).toMatch(new RegExp(`^(\\^|>=)${nodeMajor}\\.`));
    const source = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as McpbManifestAny;
    expect({ ...manifest, compatibility: source.compatibility }).toEqual(source);
  });

  it('holds the program, the native addon built here and the runtime dependencies, and no tests or sources', () => {
    expect(existsSync(join(unpacked, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(join(unpacked, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    expect(existsSync(join(unpacked, 'node_modules', 'stripe', 'package.json'))).toBe(true);
    expect(readdirSync(unpacked).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'manifest.json', 'node_modules', 'package.json']);
    expect(readdirSync(join(unpacked, 'node_modules'))).not.toContain('fastify');
  });

  it('passes mcpb validate', async () => {
    const result = await runProcess(MCPB, ['validate', join(unpacked, 'manifest.json')], cleanEnv(ROOT));
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe('the server started from the unpacked bundle, as the host starts it', () => {
  it('with the API key and a database path set: tools/list has the manifest tools, and a call answers', async () => {
    const dbPath = join(home, 'bundle.db');
    const launch = await hostLaunch({ api_key: DEMO_API_KEY, database_path: dbPath });
    expect(launch.args).toEqual([join(unpacked, 'dist', 'cli.js')]);
    // The database is the operator's job: the bundle's own program creates it.
    const init = await runProcess(launch.command, [...launch.args, 'init', '--demo'], cleanEnv(home, { REFUNDKIT_DB_PATH: dbPath }));
    expect(init.code, init.stderr).toBe(0);

    const server = await connectCommand(launch, 'mcpb-host');
    const { tools } = await server.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(manifest.tools?.map((tool) => tool.name));
    const result = await callTool(server, 'list_refunds', { limit: 2 });
    expect(result.isError ?? false).toBe(false);
    expect((toolJson(result) as { refunds: unknown[] }).refunds).toHaveLength(2);
  });

  it('read-only mode offers only the tools that read; the default database is ~/.refundkit/refundkit.db', async () => {
    const init = await runProcess(process.execPath, [join(unpacked, 'dist', 'cli.js'), 'init', '--demo'], cleanEnv(home));
    expect(init.code, init.stderr).toBe(0);
    expect(existsSync(join(home, '.refundkit', 'refundkit.db'))).toBe(true);
    const launch = await hostLaunch({ api_key: DEMO_API_KEY, read_only: true });
    expect(launch.env.REFUNDKIT_DB_PATH).toBe('');
    const server = await connectCommand(launch, 'mcpb-host-read-only');
    const names = (await server.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('get_refund');
    expect(names).not.toContain('create_refund');
    expect(names).not.toContain('cancel_refund');
  });

  it('without the required API key, the host does not start it at all', async () => {
    await expect(hostLaunch({})).rejects.toThrow(/required settings missing/);
  });
});
