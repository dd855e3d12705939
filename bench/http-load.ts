/**
 * A small HTTP/1.1 load generator in the manner of autocannon: N keep-alive connections, one
 * request in flight on each, requests written from prebuilt bytes and answers framed by
 * Content-Length (or chunked encoding) without a full HTTP parser. It needs no dependency, and
 * the client work per request is a few microseconds, so that on a 2-core machine the server
 * under test, not the load generator, sets the pace.
 */
import { connect, type Socket } from 'node:net';
import { quantile, sleep } from './common.js';

export interface LoadOptions {
  port: number;
  /** Request paths, used in turn (so that, e.g., every id of a sample is asked for). */
  paths: readonly string[];
  headers?: Readonly<Record<string, string>>;
  connections: number;
  durationMs: number;
  warmupMs?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Answers by status code. */
  statuses: Record<number, number>;
  errors: number;
  /** Body size of the first answer, in bytes. */
  bodyBytes: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Parses one answer at the start of `data`; returns its length and status, or null if incomplete. */
export function frameResponse(data: Buffer): { length: number; status: number; bodyBytes: number } | null {
  const headerEnd = data.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = data.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const bodyStart = headerEnd + 4;
  if (lengthMatch?.[1] !== undefined) {
    const bodyBytes = Number(lengthMatch[1]);
    return data.length >= bodyStart + bodyBytes ? { length: bodyStart + bodyBytes, status, bodyBytes } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    let at = bodyStart;
    let bodyBytes = 0;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd < 0) return null;
      const size = parseInt(data.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size in answer');
      const next = lineEnd + 2 + size + 2;
      if (data.length < next) return null;
      bodyBytes += size;
      at = next;
      if (size === 0) return { length: at, status, bodyBytes };
    }
  }
  // No body framing: only valid for answers without a body.
  return { length: bodyStart, status, bodyBytes: 0 };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const headerLines = Object.entries({ host: `127.0.0.1:${options.port}`, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const requests = options.paths.map((path) => Buffer.from(`GET ${path} HTTP/1.1\r\n${headerLines}\r\n`, 'latin1'));
  const statuses: Record<number, number> = {};
  const latencies: number[] = [];
  let counting = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  let bodyBytes = -1;
  let next = 0;

  const sockets: Socket[] = [];
  const connections = Array.from({ length: options.connections }, () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: options.port, noDelay: true });
      sockets.push(socket);
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = (): void => {
        if (stopped) {
          socket.end();
          return;
        }
        const request = requests[next % requests.length];
        next += 1;
        sentAt = performance.now();
        if (request !== undefined) socket.write(request);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        for (;;) {
          const frame = frameResponse(pending);
          if (frame === null) return;
          pending = pending.subarray(frame.length);
          if (bodyBytes < 0) bodyBytes = frame.bodyBytes;
          if (counting) {
            completed += 1;
            statuses[frame.status] = (statuses[frame.status] ?? 0) + 1;
            if (completed % 4 === 0) latencies.push(performance.now() - sentAt);
          }
          send();
        }
      });
      socket.on('error', () => {
        errors += 1;
        resolve();
      });
      socket.on('close', () => resolve());
    }),
  );

  await sleep(options.warmupMs ?? 1_000);
  counting = true;
  const started = performance.now();
  await sleep(options.durationMs);
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  stopped = true;
  const closing = setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, 2_000);
  await Promise.all(connections);
  clearTimeout(closing);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => quantile(latencies, q);
  return {
    requests: completed,
    seconds,
    requestsPerSecond: completed / seconds,
    statuses,
    errors,
    bodyBytes,
    latencyP50Ms: at(0.5),
    latencyP99Ms: at(0.99),
  };
}

/** One GET, for looking at an answer (status, body) before loading the server. */
export async function getOnce(port: number, path: string, headers: Readonly<Record<string, string>> = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: response.status, body: await response.text() };
}
