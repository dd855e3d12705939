/**
 * `refundkit-mcp setup`: the client configuration for this install, printed, or merged into the
 * client's own file. The entry names the absolute paths of this Node.js and this program (or the
 * npx form), the absolute database path and a key that the database accepts, so that a client
 * starts a server that works instead of one that stops at once ("Connection closed").
 */
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { VERSION } from '../version.js';
import { CommandError, UsageError, type Io } from './common.js';
import {
  CLIENT_NAMES,
  CLIENTS,
  configSnippet,
  defaultConfigPath,
  mergeEntry,
  SERVER_NAME,
  serverEntry,
  type ClientName,
  type Folders,
  type Launch,
} from './setup-clients.js';

export const SETUP_HELP = `Usage: refundkit-mcp setup [--client NAME] [--write [--force] [--config-path FILE]] [--api-key KEY] [--npx]

Prints the configuration that starts this server from an MCP client, for each client or for
--client ${CLIENT_NAMES.join('|')}. The entry runs this Node.js and this
installation by absolute path (--npx: \`npx -y refundkit-mcp@${VERSION}\` instead), with
REFUNDKIT_API_KEY, the absolute REFUNDKIT_DB_PATH, and REFUNDKIT_READ_ONLY=1 when it is set here.

  --client NAME       one client only (required with --write)
  --write             merge the entry into the client's file: other servers and settings are kept,
                      the old file is kept beside it as FILE.<time>.bak, an identical entry
                      changes nothing, and a different "${SERVER_NAME}" entry is refused
  --force             with --write, replace a different "${SERVER_NAME}" entry
  --config-path FILE  with --write, the file to change instead of the client's usual one
  --api-key KEY       the key to configure (default: REFUNDKIT_API_KEY); it must be active in the
                      database, or the client would start a server that stops at once
  --npx               run the published package through npx instead of this installation

The printed configuration shows the key: it is printed for you to paste, on your own terminal.
Written files hold the key too: treat them as secrets.`;

export interface SetupOptions {
  client: ClientName | undefined;
  write: boolean;
  force: boolean;
  configPath: string | undefined;
  apiKey: string | undefined;
  npx: boolean;
  /** This Node.js and this program's entry file; found from the running process by default. */
  launcher?: { node: string; entry: string };
}

function currentLauncher(): { node: string; entry: string } {
  const script = process.argv[1];
  if (script === undefined) throw new CommandError('cannot tell which file runs this program; use --npx');
  // npx and global installs start us through a symlink in a .bin folder: name the real file.
  return { node: process.execPath, entry: realpathSync(script) };
}

/** The key must open an organization in this database, or the client's server would stop at start. */
async function checkKey(config: Readonly<Config>, key: string): Promise<void> {
  if (!existsSync(config.dbPath)) {
    throw new CommandError(`no database at ${config.dbPath}: run \`refundkit-mcp init\` (or init --demo) first, or set REFUNDKIT_DB_PATH`);
  }
  const app = await createApp(config);
  try {
    const found = await app.apiKeys.findByKey(key);
    if (found === null) throw new CommandError(`the API key is not a key of the database at ${config.dbPath}: check the key and REFUNDKIT_DB_PATH`);
    if (found.revokedAt !== null) throw new CommandError(`the API key ${found.id} was revoked at ${found.revokedAt}: create another with \`refundkit-mcp keys create --org ORG_ID --name NAME\``);
  } finally {
    await app.close();
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CommandError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Writes through a temporary file and a rename, so that a crash leaves the old file or the new one. */
function writeConfigFile(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

export async function runSetup(config: Readonly<Config>, options: SetupOptions, folders: Folders, io: Io): Promise<void> {
  if (options.write && options.client === undefined) throw new UsageError(`--write needs --client (${CLIENT_NAMES.join(', ')})`);
  if (!options.write && (options.force || options.configPath !== undefined)) throw new UsageError('--force and --config-path go with --write');
  const key = options.apiKey ?? config.apiKey;
  if (key === undefined || key === '') {
    throw new UsageError('an API key is required: --api-key KEY or REFUNDKIT_API_KEY (`refundkit-mcp init --demo` prints the demo key)');
  }
  await checkKey(config, key);

  const env: Record<string, string> = { REFUNDKIT_API_KEY: key, REFUNDKIT_DB_PATH: config.dbPath };
  if (config.readOnly) env.REFUNDKIT_READ_ONLY = '1';
  let launch: Launch;
  if (options.npx) launch = { command: 'npx', args: ['-y', `refundkit-mcp@${VERSION}`], env };
  else {
    const launcher = options.launcher ?? currentLauncher();
    launch = { command: launcher.node, args: [launcher.entry], env };
  }

  if (options.client === undefined || !options.write) {
    const clients = options.client === undefined ? CLIENT_NAMES : [options.client];
    for (const client of clients) {
      const format = CLIENTS[client];
      io.out(`# ${format.label}: merge into "${format.serversKey}" of ${defaultConfigPath(client, folders)} (for ${format.where})`);
      io.out(JSON.stringify(configSnippet(client, launch), null, 2));
    }
    io.err('To write one into its file (merged, with a backup): refundkit-mcp setup --client NAME --write');
    return;
  }

  const client = options.client;
  const given = resolve(folders.cwd, options.configPath ?? defaultConfigPath(client, folders));
  const existing = readIfPresent(given);
  // A file kept elsewhere behind a symlink (dotfiles) is changed where it is; the link stays.
  const path = existing === undefined ? given : realpathSync(given);
  const outcome = mergeEntry(existing, client, serverEntry(client, launch), path, options.force);
  const label = CLIENTS[client].label;
  if (outcome.kind === 'unchanged') {
    io.out(`${label}: ${path} already has this "${SERVER_NAME}" server; nothing changed`);
    return;
  }
  let backup: string | undefined;
  let mode = 0o600; // a new file holds a key: readable by its owner only
  if (existing !== undefined) {
    mode = statSync(path).mode & 0o777;
    backup = `${path}.${new Date().toISOString().replace(/[:.]/g, '-')}.bak`;
    copyFileSync(path, backup, constants.COPYFILE_EXCL);
  }
  writeConfigFile(path, outcome.text, mode);
  io.out(`${label}: ${outcome.kind} "${SERVER_NAME}" in ${path}${backup === undefined ? '' : ` (backup: ${backup})`}`);
}
