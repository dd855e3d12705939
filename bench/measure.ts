/**
 * What the bench's measurements share: undoing on interrupt, logging, calls paired with a
 * baseline in alternating blocks, spawning a server and reading its port, and merging loads.
 */
import { spawn } from 'node:child_process';
import { median } from './common.js';
import type { LoadResult } from './http-load.js';
import type { StdioSession, ToolResult } from './stdio-client.js';

/** Calls per block when ours and a baseline alternate. */
export const BLOCK = 100;

/**
 * What to undo if the run is interrupted: the HTTP servers (their stdin is not ours, so they would
 * outlive us) and the temp folder. Stdio servers end by themselves when our end of their stdin
 * closes.
 */
export const onInterrupt = new Set<() => void>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const undo of onInterrupt) undo();
    process.exit(130);
  });
}

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export interface Series {
  ours: number[];
  trivial: number[];
}

/**
 * Runs `count` calls of ours and as many trivial calls, in alternating blocks of BLOCK, so that
 * both see the same machine. `call(i)` makes ours' i-th call and returns its time.
 */
export async function paired(trivialSession: StdioSession, count: number, call: (i: number) => Promise<number>): Promise<Series> {
  const series: Series = { ours: [], trivial: [] };
  for (let done = 0; done < count; done += BLOCK) {
    const n = Math.min(BLOCK, count - done);
    for (let i = 0; i < n; i += 1) series.ours.push(await call(done + i));
    for (let i = 0; i < n; i += 1) series.trivial.push(await trivialCall(trivialSession));
  }
  return series;
}

export async function trivialCall(session: StdioSession): Promise<number> {
  const { ms, result } = await session.callTool('ping', {});
  if (result.isError === true) throw new Error('the trivial tool failed');
  return ms;
}

export function checkOk(result: ToolResult, what: string): Record<string, unknown> {
  if (result.isError === true || result.structuredContent === undefined) {
    throw new Error(`${what} failed: ${result.content[0]?.text ?? 'no content'}`);
  }
  return result.structuredContent;
}

export async function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  onInterrupt.add(kill);
  void exited.then(() => onInterrupt.delete(kill));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  let timer: NodeJS.Timeout | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const match = /(?:listening |http:\/\/127\.0\.0\.1:)(\d+)/.exec(out);
      if (match?.[1] !== undefined) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code ?? 'signal'}): ${stderr}`)));
    timer = setTimeout(() => {
      kill();
      reject(new Error(`${args.join(' ')} did not start within 30 s: ${stderr}`));
    }, 30_000);
  }).finally(() => clearTimeout(timer));
  return {
    pid: child.pid ?? -1,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Slices of one load, as one: totals add up; the latency quantiles are the slices' medians. */
export function mergeLoads(slices: readonly LoadResult[]): LoadResult {
  const requests = slices.reduce((sum, r) => sum + r.requests, 0);
  const seconds = slices.reduce((sum, r) => sum + r.seconds, 0);
  const statuses: Record<number, number> = {};
  for (const slice of slices) for (const [code, n] of Object.entries(slice.statuses)) statuses[Number(code)] = (statuses[Number(code)] ?? 0) + n;
  return {
    requests,
    seconds,
    requestsPerSecond: requests / seconds,
    statuses,
    errors: slices.reduce((sum, r) => sum + r.errors, 0),
    bodyBytes: slices[0]?.bodyBytes ?? -1,
    latencyP50Ms: median(slices.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(slices.map((r) => r.latencyP99Ms)),
  };
}
