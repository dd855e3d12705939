/**
 * A plain round-robin HTTP balancer for tests, as nginx's `upstream` does it without sticky
 * sessions: each request goes to the next upstream in turn, whatever it carries (an
 * Mcp-Session-Id included), with its body streamed up and the answer streamed back. It counts
 * what each upstream got, so that a test can show consecutive requests landed on different
 * processes. An upstream that refuses the connection (a killed process) is skipped for the next,
 * as nginx's proxy_next_upstream does for a connect error; a request already sent is never
 * resent (it may have been applied), and its caller gets a 502.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  url: string;
  /** Requests each upstream was sent, in the order the upstreams were given. */
  counts(): number[];
  /** Which upstream (index) took each request, in order. */
  sequence(): readonly number[];
  close(): Promise<void>;
}

export async function startBalancer(upstreams: readonly string[]): Promise<Balancer> {
  const targets = upstreams.map((url) => new URL(url));
  const counts = targets.map(() => 0);
  const sequence: number[] = [];
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, tries: number): void => {
    const index = next;
    next = (next + 1) % targets.length;
    const target = targets[index];
    if (target === undefined) throw new Error('a balancer needs upstreams');
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        counts[index] = (counts[index] ?? 0) + 1;
        sequence.push(index);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      // Refused: nothing reached that process, so the next may take it.
      if (error.code === 'ECONNREFUSED' && tries < targets.length) {
        forward(req, res, tries + 1);
        return;
      }
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
    });
    // Closing the client's side (an SSE stream given up) closes the upstream's too.
    res.once('close', () => upstream.destroy());
    if (tries === 1) req.pipe(upstream);
    else void bodies.get(req)?.then((body) => upstream.end(body));
  };

  // A copy of each body, so that a refused connection can send it to the next upstream.
  const bodies = new WeakMap<IncomingMessage, Promise<Buffer>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    bodies.set(req, new Promise((resolve) => req.once('end', () => resolve(Buffer.concat(chunks)))));
    forward(req, res, 1);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => [...counts],
    sequence: () => sequence,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
