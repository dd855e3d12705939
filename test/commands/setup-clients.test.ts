/**
 * The merge behind `refundkit-mcp setup --write`, and where each client keeps its file. The
 * command itself, against real temp files, is test/e2e/setup.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/commands/common.js';
import { CLIENT_NAMES, configSnippet, defaultConfigPath, mergeEntry, serverEntry, type ClientName, type Launch } from '../../src/commands/setup-clients.js';

const launch: Launch = {
  command: '/opt/node/bin/node',
  args: ['/opt/refundkit/dist/cli.js'],
  env: { REFUNDKIT_API_KEY: 'rk_test_fakeKeyForTheMergeTests000000000', REFUNDKIT_DB_PATH: '/data/refundkit.db' },
};

const other = { command: 'npx', args: ['-y', 'some-other-server'], env: { TOKEN: 'x' } };

function merged(text: string | undefined, client: ClientName = 'cursor', force = false): unknown {
  const outcome = mergeEntry(text, client, serverEntry(client, launch), '/cfg/mcp.json', force);
  if (outcome.kind === 'unchanged') return 'unchanged';
  return JSON.parse(outcome.text);
}

describe('where each client keeps its file', () => {
  const folders = { home: '/home/ana', appData: 'C:\\Users\\ana\\AppData\\Roaming', cwd: '/work/shop' };

  it('Claude Desktop: per operating system', () => {
    expect(defaultConfigPath('claude-desktop', { ...folders, platform: 'darwin' })).toBe(
      '/home/ana/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(defaultConfigPath('claude-desktop', { ...folders, platform: 'linux' })).toBe('/home/ana/.config/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('claude-desktop', { ...folders, platform: 'win32' })).toContain('AppData');
    expect(defaultConfigPath('claude-desktop', { ...folders, platform: 'win32' })).toMatch(/Claude.claude_desktop_config\.json$/);
  });

  it('Claude Code (user scope), Cursor (user) and VS Code (workspace)', () => {
    const linux = { ...folders, platform: 'linux' as const };
    expect(defaultConfigPath('claude-code', linux)).toBe('/home/ana/.claude.json');
    expect(defaultConfigPath('cursor', linux)).toBe('/home/ana/.cursor/mcp.json');
    expect(defaultConfigPath('vscode', linux)).toBe('/work/shop/.vscode/mcp.json');
  });
});

describe('the entry each client reads', () => {
  it('mcpServers without a type for Claude Desktop and Cursor; with type stdio for Claude Code; servers for VS Code', () => {
    expect(configSnippet('claude-desktop', launch)).toEqual({ mcpServers: { refundkit: launch } });
    expect(configSnippet('cursor', launch)).toEqual({ mcpServers: { refundkit: launch } });
    expect(configSnippet('claude-code', launch)).toEqual({ mcpServers: { refundkit: { type: 'stdio', ...launch } } });
    expect(configSnippet('vscode', launch)).toEqual({ servers: { refundkit: { type: 'stdio', ...launch } } });
    expect(CLIENT_NAMES).toEqual(['claude-desktop', 'claude-code', 'cursor', 'vscode']);
  });
});

describe('mergeEntry', () => {
  it('creates the file when there is none, or when it is empty', () => {
    expect(merged(undefined)).toEqual({ mcpServers: { refundkit: launch } });
    expect(merged('  \n')).toEqual({ mcpServers: { refundkit: launch } });
  });

  it("keeps the user's other servers and other settings", () => {
    const text = JSON.stringify({ theme: 'dark', mcpServers: { other }, projects: { '/x': { mcpServers: {} } } });
    expect(merged(text)).toEqual({ theme: 'dark', mcpServers: { other, refundkit: launch }, projects: { '/x': { mcpServers: {} } } });
  });

  it("VS Code's servers object, and its inputs, are kept", () => {
    const text = JSON.stringify({ inputs: [{ id: 'tok', type: 'promptString' }], servers: { other: { type: 'stdio', ...other } } });
    expect(merged(text, 'vscode')).toEqual({
      inputs: [{ id: 'tok', type: 'promptString' }],
      servers: { other: { type: 'stdio', ...other }, refundkit: { type: 'stdio', ...launch } },
    });
  });

  it("keeps the file's indentation", () => {
    const outcome = mergeEntry('{\n\t"mcpServers": {}\n}\n', 'cursor', serverEntry('cursor', launch), '/cfg/mcp.json', false);
    expect(outcome.kind === 'unchanged' ? '' : outcome.text).toMatch(/^\{\n\t"mcpServers": \{\n\t\t"refundkit"/);
  });

  it('an identical entry (in any key order) changes nothing', () => {
    const reordered = { env: launch.env, args: launch.args, command: launch.command };
    expect(merged(JSON.stringify({ mcpServers: { refundkit: reordered, other } }))).toBe('unchanged');
  });

  it('a different refundkit entry is refused without force, and replaced with it', () => {
    const text = JSON.stringify({ mcpServers: { refundkit: { command: 'node', args: ['/old/cli.js'] }, other } });
    expect(() => merged(text)).toThrow(CommandError);
    expect(() => merged(text)).toThrow(/already has a different "refundkit" server; nothing was written.*--force/);
    expect(merged(text, 'cursor', true)).toEqual({ mcpServers: { refundkit: launch, other } });
  });

  it('invalid JSON, a non-object file or a non-object servers key is a clear error', () => {
    expect(() => merged('{ "mcpServers": { // my servers\n } }')).toThrow(/\/cfg\/mcp\.json is not valid JSON .*nothing was written/);
    expect(() => merged('[]')).toThrow(/does not hold a JSON object/);
    expect(() => merged('{"mcpServers": []}')).toThrow(/"mcpServers" in \/cfg\/mcp\.json is not an object/);
  });
});
