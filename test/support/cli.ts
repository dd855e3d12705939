/**
 * Helpers for tests that drive the BUILT program (dist/cli.js) the way an operator or an MCP
 * client does: a temp folder per test with its own database, an environment that inherits nothing
 * of RefundKit's or Stripe's from the parent, `runCli` for one-shot commands, and spawned stdio
 * servers (through the SDK's StdioClientTransport or as a raw child process).
 *
 * Everything started or created here is tracked: call `cleanupCli()` in afterEach/afterAll and it
 * closes clients, kills every process still alive and removes every temp folder.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, type CallToolResult, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import Database from 'better-sqlite3';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(ROOT, 'dist', 'cli.js');
export const INSPECTOR_BIN = join(ROOT, 'node_modules', '.bin', 'mcp-inspector');

/** Fails early, with the fix, when the tests are run without a build (`npm test` builds first). */
export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` (or \`npm test\`, which builds first)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Temp folders and environments

const tempDirs: string[] = [];

export function makeTempDir(prefix = 'refundkit-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export type Env = Record<string, string>;

/**
 * The parent's environment minus every REFUNDKIT_* and STRIPE_* variable, with HOME pointed at
 * `home` so that nothing can ever reach the default database under the real home folder.
 */
export function cleanEnv(home: string, extra: Env = {}): Env {
  const env: Env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(REFUNDKIT_|STRIPE_)/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, HOME: home, USERPROFILE: home, ...extra };
}

/** One test's world: its own folder, database path and environment. */
export interface TestHome {
  dir: string;
  dbPath: string;
  /** cleanEnv with REFUNDKIT_DB_PATH set to this home's database, plus `extra`. */
  env(extra?: Env): Env;
}

export function createTestHome(dbName = 'refundkit.db'): TestHome {
  const dir = makeTempDir();
  const dbPath = join(dir, dbName);
  return { dir, dbPath, env: (extra = {}) => cleanEnv(dir, { REFUNDKIT_DB_PATH: dbPath, ...extra }) };
}

let demoTemplate: { dir: string; ready: Promise<string> } | undefined;

/**
 * A home whose database went through `init --demo`. The command runs once per test file; each
 * call then gets its own copy of that file, so tests can change their data freely.
 */
export async function createDemoHome(): Promise<TestHome> {
  if (demoTemplate === undefined) {
    // Not in tempDirs: it outlives each test and goes with cleanupCli() without keepDemoTemplate.
    const dir = mkdtempSync(join(tmpdir(), 'refundkit-demo-'));
    const dbPath = join(dir, 'refundkit.db');
    const ready = runCli(['init', '--demo'], cleanEnv(dir, { REFUNDKIT_DB_PATH: dbPath })).then((result) => {
      if (result.code !== 0) throw new Error(`init --demo failed (${result.code}): ${result.stderr}`);
      return dbPath;
    });
    demoTemplate = { dir, ready };
  }
  const source = await demoTemplate.ready;
  const home = createTestHome();
  copyFileSync(source, home.dbPath);
  // A closed better-sqlite3 connection checkpoints its WAL; copy any leftover all the same.
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(source + suffix)) copyFileSync(source + suffix, home.dbPath + suffix);
  }
  return home;
}

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcessWithoutNullStreams>();

function track(child: ChildProcessWithoutNullStreams): ChildProcessWithoutNullStreams {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Written to stdin, which is then closed. Default: stdin is closed at once. */
  input?: string;
  /** Keep stdin open (never write, never close) until the process exits by itself. */
  keepStdinOpen?: boolean;
  /** The working folder (default: the repository). */
  cwd?: string;
}

/** Runs any program to completion, collecting its output; killed if it outlives the timeout. */
export function runProcess(command: string, args: string[], env: Env, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const child = track(spawn(command, args, { env, cwd: options.cwd ?? ROOT, stdio: 'pipe' }));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined); // the child may exit before reading its input
  if (options.input !== undefined) child.stdin.end(options.input);
  else if (options.keepStdinOpen !== true) child.stdin.end();
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** `node dist/cli.js ...args` with exactly the given environment. */
export function runCli(args: string[], env: Env, options: RunOptions = {}): Promise<RunResult> {
  return runProcess(process.execPath, [CLI_PATH, ...args], env, options);
}

/** Lines of a command's output, without the empty one after the final newline. */
export function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}

export function lastLine(text: string): string {
  return lines(text).at(-1) ?? '';
}

/** The stdio server as a plain child process, for tests that speak JSON-RPC by hand. */
export function spawnServer(env: Env, args: string[] = []): ChildProcessWithoutNullStreams {
  return track(spawn(process.execPath, [CLI_PATH, ...args], { env, cwd: ROOT, stdio: 'pipe' }));
}

// ---------------------------------------------------------------------------------------------
// MCP clients over stdio

export interface ConnectedServer {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  pid: number;
}

const connections = new Set<ConnectedServer>();

/**
 * Spawns `node dist/cli.js` with the SDK's StdioClientTransport and connects a Client to it.
 * `setup` gets the client before it connects, with `capabilities` declared (e.g. elicitation):
 * the place to install its request handlers.
 */
export async function connectServer(
  env: Env,
  name = 'refundkit-e2e',
  options: { capabilities?: ClientCapabilities; setup?: (client: Client) => void } = {},
): Promise<ConnectedServer> {
  return connectCommand({ command: process.execPath, args: [CLI_PATH], env, cwd: ROOT }, name, options);
}

/**
 * Like connectServer, for any command line: an installed package's bin, a bundle's manifest
 * command, a client configuration's entry.
 */
export async function connectCommand(
  launch: { command: string; args: string[]; env: Env; cwd: string },
  name = 'refundkit-e2e',
  options: { capabilities?: ClientCapabilities; setup?: (client: Client) => void } = {},
): Promise<ConnectedServer> {
  const transport = new StdioClientTransport({ ...launch, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
  const client = new Client({ name, version: '0.0.0' }, options.capabilities === undefined ? {} : { capabilities: options.capabilities });
  options.setup?.(client);
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close().catch(() => undefined);
    throw new Error(`could not connect to the stdio server: ${String(error)}\nstderr: ${stderr}`, { cause: error });
  }
  const pid = transport.pid;
  if (pid === null) throw new Error('the stdio transport reports no pid');
  const connected: ConnectedServer = { client, transport, stderr: () => stderr, pid };
  connections.add(connected);
  return connected;
}

/** Closes the client (which ends the server's stdin) and makes sure the process is gone. */
export async function disconnect(server: ConnectedServer): Promise<void> {
  connections.delete(server);
  await server.client.close().catch(() => undefined);
  killIfAlive(server.pid);
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 0);
  } catch {
    return;
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited in between
  }
}

/** Calls a tool and returns the result validated as a CallToolResult. */
export async function callTool(server: ConnectedServer, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return CallToolResultSchema.parse(await server.client.callTool({ name, arguments: args }));
}

/** The JSON in a tool result's first text block. */
export function toolJson(result: CallToolResult): unknown {
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error(`expected a text block, got ${JSON.stringify(result.content)}`);
  return JSON.parse(first.text);
}

// ---------------------------------------------------------------------------------------------
// Looking at the database from outside the program

/** Reads a database file with its own short-lived read-only connection. */
export function queryAll<T>(path: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function count(path: string, sql: string, ...params: unknown[]): number {
  const [row] = queryAll<{ n: number }>(path, sql, ...params);
  if (row === undefined) throw new Error(`no row from ${sql}`);
  return row.n;
}

// ---------------------------------------------------------------------------------------------

/**
 * Closes clients, kills every process still running and removes temp folders. Use
 * `keepDemoTemplate` in afterEach so that the next test's createDemoHome() needs no new init.
 */
export async function cleanupCli(options: { keepDemoTemplate?: boolean } = {}): Promise<void> {
  await Promise.all([...connections].map((server) => disconnect(server)));
  for (const child of children) {
    child.kill('SIGKILL');
    children.delete(child);
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (options.keepDemoTemplate !== true && demoTemplate !== undefined) {
    rmSync(demoTemplate.dir, { recursive: true, force: true });
    demoTemplate = undefined;
  }
}
