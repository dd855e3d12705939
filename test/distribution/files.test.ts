/**
 * manifest.json (the MCP bundle) and server.json (the MCP registry) against the code and the
 * published formats: the version is package.json's, the bundle's tools are the operation table's,
 * every variable the manifest passes is one the server reads and is always given a value, and
 * both validate (`mcpb validate`, and the registry schema's requirements).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISTRIBUTION_FILES } from '../../scripts/distribution.js';
import { VARIABLES } from '../../src/config-variables.js';
import { allOperations } from '../../src/operations/index.js';
import { cleanEnv, ROOT, runProcess } from '../support/cli.js';
import { serverJsonProblems } from '../support/registry-server-schema.js';

const readJson = (file: string): unknown => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

interface UserConfigOption {
  type: string;
  sensitive?: boolean;
  required?: boolean;
  default?: unknown;
}

interface Manifest {
  version: string;
  name: string;
  tools: { name: string; description: string }[];
  server: { entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  user_config: Record<string, UserConfigOption>;
  compatibility: { platforms: string[]; runtimes: { node: string } };
}

interface ServerJson {
  name: string;
  version: string;
  packages: { registryType: string; identifier: string; version: string; transport: { type: string }; environmentVariables: { name: string; isSecret?: boolean }[] }[];
  remotes: { type: string; url: string }[];
}

const pkg = readJson('package.json') as { name: string; version: string; mcpName: string; engines: { node: string } };
const manifest = readJson('manifest.json') as Manifest;
const server = readJson('server.json') as ServerJson;

describe('generated parts', () => {
  for (const [file, update] of Object.entries(DISTRIBUTION_FILES)) {
    it(`${file} holds the version and tools the code knows (run npm run docs after a change)`, () => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(update(text)).toBe(text);
    });
  }
});

describe('manifest.json', () => {
  it("has package.json's name and version, and one tool per operation", () => {
    expect(manifest.name).toBe(pkg.name);
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.tools.map((tool) => tool.name)).toEqual(allOperations.map((operation) => operation.name));
    for (const tool of manifest.tools) expect(tool.description.length, tool.name).toBeGreaterThan(20);
  });

  it('passes every user_config value to a variable the server reads; secrets are sensitive; optional ones have a default', () => {
    const { env, args, command } = manifest.server.mcp_config;
    expect(command).toBe('node');
    expect(args).toEqual([`\${__dirname}/${manifest.server.entry_point}`]);
    for (const name of Object.keys(env)) expect(Object.keys(VARIABLES), name).toContain(name);
    const used = Object.values(env).map((value) => /^\$\{user_config\.([a-z_]+)\}$/.exec(value)?.[1]);
    expect(used.sort()).toEqual(Object.keys(manifest.user_config).sort());
    expect(manifest.user_config.api_key).toMatchObject({ type: 'string', sensitive: true, required: true });
    expect(manifest.user_config.stripe_secret_key).toMatchObject({ type: 'string', sensitive: true, required: false });
    expect(manifest.user_config.database_path).toMatchObject({ type: 'string', required: false });
    expect(manifest.user_config.read_only).toMatchObject({ type: 'boolean', required: false, default: false });
    // The host substitutes nothing for an optional value left unset without a default: the
    // server would get the literal `${user_config.…}` and refuse it.
    for (const [key, option] of Object.entries(manifest.user_config)) {
      if (option.required !== true) expect(option.default, key).toBeDefined();
    }
  });

  it('declares the Node versions package.json does', () => {
    expect(manifest.compatibility.runtimes.node).toBe(pkg.engines.node);
  });

  it('passes mcpb validate', async () => {
    const result = await runProcess(join(ROOT, 'node_modules', '.bin', 'mcpb'), ['validate', join(ROOT, 'manifest.json')], cleanEnv(ROOT));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/validation passes/);
  });
});

describe('server.json', () => {
  it('names the npm package of package.json, at its version, with its mcpName', () => {
    expect(server.name).toBe(pkg.mcpName);
    expect(server.version).toBe(pkg.version);
    const [npm, ...others] = server.packages;
    expect(others).toEqual([]);
    expect(npm).toMatchObject({ registryType: 'npm', identifier: pkg.name, version: pkg.version, transport: { type: 'stdio' } });
    const variables = npm?.environmentVariables ?? [];
    for (const variable of variables) expect(Object.keys(VARIABLES), variable.name).toContain(variable.name);
    expect(variables.filter((variable) => variable.isSecret === true).map((variable) => variable.name).sort()).toEqual([
      'REFUNDKIT_API_KEY',
      'STRIPE_SECRET_KEY',
    ]);
    expect(server.remotes).toEqual([expect.objectContaining({ type: 'streamable-http', url: expect.stringMatching(/\/mcp$/) })]);
  });

  it("meets the registry schema's requirements", () => {
    expect(serverJsonProblems(server)).toEqual([]);
  });

  it('the schema check refuses what the registry refuses', () => {
    const broken = (change: (copy: Record<string, unknown>) => void): string[] => {
      const copy = JSON.parse(JSON.stringify(server)) as Record<string, unknown>;
      change(copy);
      return serverJsonProblems(copy);
    };
    expect(broken((copy) => delete copy.name)).toEqual([expect.stringMatching(/^name/)]);
    expect(broken((copy) => (copy.name = 'no-slash'))).toEqual([expect.stringMatching(/^name/)]);
    expect(broken((copy) => (copy.description = 'x'.repeat(101)))).toEqual([expect.stringMatching(/^description/)]);
    expect(broken((copy) => (copy.version = '^0.1.0'))).toEqual([expect.stringMatching(/^version must be one exact version/)]);
    const packages = (copy: Record<string, unknown>) => copy.packages as Record<string, unknown>[];
    expect(broken((copy) => (packages(copy)[0] = { ...packages(copy)[0], version: 'latest' }))).toEqual([expect.stringMatching(/^packages\[0\]\.version/)]);
    expect(broken((copy) => delete packages(copy)[0]?.transport)).toEqual(['packages[0].transport is required']);
    expect(broken((copy) => (packages(copy)[0] = { ...packages(copy)[0], environment_variables: [] }))).toEqual([
      'packages[0].environment_variables is not a package field',
    ]);
    expect(broken((copy) => ((copy.remotes as Record<string, unknown>[])[0] = { type: 'stdio' }))).toEqual([expect.stringMatching(/^remotes\[0\]\.type/)]);
  });
});
