/**
 * The SDK seam: src/mcp/sdk.ts is the one module of src/ that imports @modelcontextprotocol/sdk
 * (the ESLint rule enforces it on every lint; this says so where tests are read too), the SDK is
 * pinned to one exact version, and the lazily loaded HTTP transport loads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStreamableHttpTransport } from '../../src/mcp/sdk.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SDK = '@modelcontextprotocol/sdk';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;
}

describe('the MCP SDK seam', () => {
  it('no module of src/ but src/mcp/sdk.ts names the SDK in an import', () => {
    const importing = sourceFiles(join(ROOT, 'src'))
      .filter((file) => new RegExp(`(from|import\\()\\s*['"]${SDK}`).test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(importing).toEqual(['src/mcp/sdk.ts']);
  });

  // A devDependency: rolldown bundles it into dist/cli.js, so the installed package does not need it.
  it('pins the SDK to the exact version installed, in package.json and package-lock.json alike', () => {
    const wanted = (readJson('package.json').devDependencies as Record<string, string>)[SDK];
    expect(wanted).toMatch(/^\d+\.\d+\.\d+$/);
    const lock = readJson('package-lock.json').packages as Record<string, { version?: string; devDependencies?: Record<string, string> }>;
    expect(lock['']?.devDependencies?.[SDK]).toBe(wanted);
    expect(lock[`node_modules/${SDK}`]?.version).toBe(wanted);
    expect(readJson(`node_modules/${SDK}/package.json`).version).toBe(wanted);
  });

  it('loads the Streamable HTTP transport on demand', async () => {
    const Transport = await loadStreamableHttpTransport();
    expect(typeof Transport).toBe('function');
    expect(new Transport({ sessionIdGenerator: () => 'session' })).toHaveProperty('handleRequest');
  });
});
