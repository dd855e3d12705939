/**
 * What `refundkit-mcp setup` knows about MCP clients: where each keeps its configuration file, the
 * shape of a server entry there, and how to merge our entry into a file the user already has
 * without touching anything else in it.
 */
import { join } from 'node:path';
import { CommandError } from './common.js';

export const CLIENT_NAMES = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

/** The entry's name in every client's file. */
export const SERVER_NAME = 'refundkit';

export interface ClientFormat {
  label: string;
  /** The object of the file that holds the servers by name. */
  serversKey: 'mcpServers' | 'servers';
  /** VS Code and Claude Code name the transport; Claude Desktop and Cursor take none. */
  withType: boolean;
  /** Where the client reads it: the user's file, or a file of the project in the current folder. */
  where: string;
}

export const CLIENTS: Readonly<Record<ClientName, ClientFormat>> = {
  'claude-desktop': { label: 'Claude Desktop', serversKey: 'mcpServers', withType: false, where: 'your user (restart Claude Desktop after)' },
  'claude-code': { label: 'Claude Code', serversKey: 'mcpServers', withType: true, where: 'your user, in every project (user scope)' },
  cursor: { label: 'Cursor', serversKey: 'mcpServers', withType: false, where: 'your user, in every project' },
  vscode: { label: 'VS Code', serversKey: 'servers', withType: true, where: 'the workspace in the current folder' },
};

export function isClientName(value: string): value is ClientName {
  return (CLIENT_NAMES as readonly string[]).includes(value);
}

export interface Folders {
  home: string;
  appData: string | undefined;
  cwd: string;
  platform: NodeJS.Platform;
}

/** The file each client reads, as the client documents it. */
export function defaultConfigPath(client: ClientName, folders: Folders): string {
  switch (client) {
    case 'claude-desktop':
      if (folders.platform === 'darwin') return join(folders.home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json');
      if (folders.platform === 'win32') {
        return join(folders.appData ?? join(folders.home, 'AppData', 'Roaming'), 'Claude', 'claude_desktop_config.json');
      }
      return join(folders.home, '.config', 'Claude', 'claude_desktop_config.json');
    case 'claude-code':
      // User scope: private to this user, so the key never lands in a project's repository.
      return join(folders.home, '.claude.json');
    case 'cursor':
      return join(folders.home, '.cursor', 'mcp.json');
    case 'vscode':
      return join(folders.cwd, '.vscode', 'mcp.json');
  }
}

/** How the client starts the server: a program, its arguments and its environment. */
export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export type ServerEntry = { type?: 'stdio' } & Launch;

export function serverEntry(client: ClientName, launch: Launch): ServerEntry {
  const entry = { command: launch.command, args: [...launch.args], env: { ...launch.env } };
  return CLIENTS[client].withType ? { type: 'stdio', ...entry } : entry;
}

/** The smallest file that holds the entry: what `setup` prints. */
export function configSnippet(client: ClientName, launch: Launch): Record<string, Record<string, ServerEntry>> {
  return { [CLIENTS[client].serversKey]: { [SERVER_NAME]: serverEntry(client, launch) } };
}

export type MergeOutcome =
  | { kind: 'unchanged' }
  | { kind: 'added' | 'replaced'; text: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Same JSON value, whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameJson(a[key], b[key]));
  }
  return a === b;
}

/**
 * The file's new text with our entry set, every other key and server kept as it was. `existing`
 * is the file's text, or undefined when there is no file. Throws a CommandError, and so changes
 * nothing, when the file is not a JSON object or holds a different `refundkit` entry (unless
 * `force`).
 */
export function mergeEntry(existing: string | undefined, client: ClientName, entry: ServerEntry, path: string, force: boolean): MergeOutcome {
  const serversKey = CLIENTS[client].serversKey;
  let document: JsonObject = {};
  if (existing !== undefined && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CommandError(
        `${path} is not valid JSON (${reason}); nothing was written. Fix the file (comments are not supported here), or add the entry that \`refundkit-mcp setup --client ${client}\` prints by hand`,
      );
    }
    if (!isObject(parsed)) throw new CommandError(`${path} does not hold a JSON object; nothing was written`);
    document = parsed;
  }
  const servers = document[serversKey] ?? {};
  if (!isObject(servers)) throw new CommandError(`"${serversKey}" in ${path} is not an object; nothing was written`);
  const current = servers[SERVER_NAME];
  if (current !== undefined && sameJson(current, entry)) return { kind: 'unchanged' };
  if (current !== undefined && !force) {
    throw new CommandError(
      `${path} already has a different "${SERVER_NAME}" server; nothing was written. Run again with --force to replace it (the old file is kept as a backup)`,
    );
  }
  const next = { ...document, [serversKey]: { ...servers, [SERVER_NAME]: entry } };
  // Keep the file's own indentation (tabs, four spaces…), so the user's diff shows only our entry.
  const indent = existing === undefined ? undefined : /\n([ \t]+)"/.exec(existing)?.[1];
  return { kind: current === undefined ? 'added' : 'replaced', text: `${JSON.stringify(next, null, indent ?? 2)}\n` };
}
