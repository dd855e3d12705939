/**
 * `refundkit-mcp setup` as a user runs it, against temporary client files (HOME is a temp folder,
 * never the real one): for each client it prints what the client needs, merges into the file the
 * user already has, keeps a backup, refuses to clobber a different `refundkit` entry without
 * --force, and what it writes starts a server that an MCP client can use.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../src/demo.js';
import { CLIENT_NAMES, type ClientName } from '../../src/commands/setup-clients.js';
import { assertBuilt, cleanupCli, CLI_PATH, connectCommand, createDemoHome, disconnect, runCli, type TestHome } from '../support/cli.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupCli());

interface Entry {
  type?: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

const SERVERS_KEY: Record<ClientName, string> = { 'claude-desktop': 'mcpServers', 'claude-code': 'mcpServers', cursor: 'mcpServers', vscode: 'servers' };

/** Where each client's file is under the temp HOME (Linux paths: the tests run on Linux or macOS). */
function clientFile(home: TestHome, client: ClientName): string {
  switch (client) {
    case 'claude-desktop':
      return process.platform === 'darwin'
        ? join(home.dir, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json')
        : join(home.dir, '.config', 'Claude', 'claude_desktop_config.json');
    case 'claude-code':
      return join(home.dir, '.claude.json');
    case 'cursor':
      return join(home.dir, '.cursor', 'mcp.json');
    case 'vscode':
      return join(home.dir, '.vscode', 'mcp.json');
  }
}

function readJson(path: string): Record<string, Record<string, Entry>> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, Entry>>;
}

function backups(path: string): string[] {
  const name = path.split('/').at(-1) ?? '';
  return readdirSync(dirname(path)).filter((file) => file.startsWith(`${name}.`) && file.endsWith('.bak'));
}

let home: TestHome;
/** The demo key, through REFUNDKIT_API_KEY; the CLI runs in the temp home (VS Code's file is per folder). */
const setup = (args: string[], extra: Record<string, string> = {}) =>
  runCli(['setup', ...args], home.env({ REFUNDKIT_API_KEY: DEMO_API_KEY, ...extra }), { cwd: home.dir });

beforeAll(async () => {
  home = await createDemoHome();
});

describe('printing', () => {
  it('prints an entry for each of the four clients, with absolute paths, the database and the key', async () => {
    const result = await setup([]);
    expect(result.code, result.stderr).toBe(0);
    for (const client of CLIENT_NAMES) expect(result.stdout).toContain(clientFile(home, client));
    const vscode = await setup(['--client', 'vscode']);
    const json = JSON.parse(vscode.stdout.slice(vscode.stdout.indexOf('{'))) as Record<string, Record<string, Entry>>;
    expect(json.servers?.refundkit).toEqual({
      type: 'stdio',
      command: process.execPath,
      args: [CLI_PATH],
      env: { REFUNDKIT_API_KEY: DEMO_API_KEY, REFUNDKIT_DB_PATH: home.dbPath },
    });
    // Printing writes nothing.
    for (const client of CLIENT_NAMES) expect(existsSync(clientFile(home, client)), client).toBe(false);
  });

  it('--npx names the published package; read-only mode is carried over', async () => {
    const result = await setup(['--client', 'cursor', '--npx'], { REFUNDKIT_READ_ONLY: '1' });
    const json = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as Record<string, Record<string, Entry>>;
    const entry = json.mcpServers?.refundkit;
    expect(entry?.command).toBe('npx');
    expect(entry?.args).toEqual(['-y', expect.stringMatching(/^refundkit-mcp@\d+\.\d+\.\d+/)]);
    expect(entry?.env.REFUNDKIT_READ_ONLY).toBe('1');
  });

  it('refuses a key the database does not accept, or no key at all, and writes nothing', async () => {
    const unknown = await setup(['--client', 'cursor', '--write'], { REFUNDKIT_API_KEY: 'rk_test_notAKeyOfThisDatabase0000000000' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not a key of the database/);
    expect(unknown.stderr).not.toContain('rk_test_notAKeyOfThisDatabase');
    const none = await runCli(['setup'], home.env(), { cwd: home.dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/an API key is required/);
    expect(existsSync(clientFile(home, 'cursor'))).toBe(false);
    const misuse = await setup(['--write']);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toMatch(/--write needs --client/);
    const noWrite = await setup(['--client', 'cursor', '--force']);
    expect(noWrite.code).toBe(2);
    expect(noWrite.stderr).toMatch(/--force and --config-path go with --write/);
    const unknownClient = await setup(['--client', 'emacs']);
    expect(unknownClient.code).toBe(2);
    expect(unknownClient.stderr).toMatch(/--client must be one of claude-desktop, claude-code, cursor, vscode/);
  });
});

describe.each(CLIENT_NAMES)('--write for %s', (client) => {
  it('merges into an existing file, keeps a backup, is a no-op the second time, refuses a different entry, replaces it with --force', async () => {
    const path = clientFile(home, client);
    const key = SERVERS_KEY[client];
    const other = { command: 'npx', args: ['-y', 'another-server'] };
    mkdirSync(dirname(path), { recursive: true });
    const original = `${JSON.stringify({ someSetting: true, [key]: { other } }, null, 2)}\n`;
    writeFileSync(path, original, { mode: 0o640 });

    const first = await setup(['--client', client, '--write']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).not.toContain(DEMO_API_KEY);
    const written = readJson(path);
    expect(written.someSetting).toBe(true);
    expect(written[key]?.other).toEqual(other);
    expect(written[key]?.refundkit?.args).toEqual([CLI_PATH]);
    expect(written[key]?.refundkit?.type).toBe(client === 'vscode' || client === 'claude-code' ? 'stdio' : undefined);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const [backup, ...more] = backups(path);
    expect(more).toEqual([]);
    expect(readFileSync(join(dirname(path), backup ?? ''), 'utf8')).toBe(original);

    const again = await setup(['--client', client, '--write']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing changed/);
    expect(backups(path)).toHaveLength(1);

    // A different refundkit entry (here: another database) is refused, and the file is untouched.
    const before = readFileSync(path, 'utf8');
    const refused = await setup(['--client', client, '--write'], { REFUNDKIT_READ_ONLY: 'yes' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already has a different "refundkit" server; nothing was written/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(backups(path)).toHaveLength(1);

    const forced = await setup(['--client', client, '--write', '--force'], { REFUNDKIT_READ_ONLY: 'yes' });
    expect(forced.code, forced.stderr).toBe(0);
    expect(readJson(path)[key]?.refundkit?.env.REFUNDKIT_READ_ONLY).toBe('1');
    expect(readJson(path)[key]?.other).toEqual(other);
    expect(backups(path)).toHaveLength(2);
  });
});

describe('--config-path and bad files', () => {
  it('creates a new file (owner-only) where --config-path says, and what it holds starts a working server', async () => {
    const path = join(home.dir, 'elsewhere', 'claude.json');
    const result = await setup(['--client', 'claude-desktop', '--write', '--config-path', path]);
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(backups(path)).toEqual([]);
    const entry = readJson(path).mcpServers?.refundkit;
    if (entry === undefined) throw new Error('no entry written');
    // Start it as the client would: exactly the entry's command, args and env, from another folder.
    const server = await connectCommand({ command: entry.command, args: entry.args, env: entry.env, cwd: home.dir }, 'setup-check');
    const { tools } = await server.client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('get_refund');
    await disconnect(server);
  });

  it('a file behind a symlink is changed where it lives, and the link stays', async () => {
    const real = join(home.dir, 'dotfiles', 'cursor-mcp.json');
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, '{ "mcpServers": {} }\n');
    const link = join(home.dir, 'linked', 'mcp.json');
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(real, link);
    const result = await setup(['--client', 'cursor', '--write', '--config-path', link]);
    expect(result.code, result.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readJson(real).mcpServers?.refundkit?.command).toBe(process.execPath);
    expect(backups(real)).toHaveLength(1);
  });

  it('invalid JSON in the user file is a clear error and nothing is written', async () => {
    const path = join(home.dir, 'broken', 'mcp.json');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{ "mcpServers": { // a comment\n } }');
    const result = await setup(['--client', 'cursor', '--write', '--config-path', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not valid JSON .*nothing was written/);
    expect(readFileSync(path, 'utf8')).toBe('{ "mcpServers": { // a comment\n } }');
    expect(backups(path)).toEqual([]);
  });
});
