import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { frameResponse, runLoad } from '../../bench/http-load.js';

describe('frameResponse', () => {
  it('frames an answer by Content-Length and waits for all of its body', () => {
    const answer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    expect(frameResponse(answer)).toEqual({ length: answer.length, status: 200, bodyBytes: 5 });
    expect(frameResponse(answer.subarray(0, answer.length - 1))).toBeNull();
    expect(frameResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Len'))).toBeNull();
  });

  it('frames only the first of two pipelined answers', () => {
    const one = 'HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}';
    expect(frameResponse(Buffer.from(one + one))).toEqual({ length: one.length, status: 404, bodyBytes: 2 });
  });

  it('frames a chunked answer at its last chunk', () => {
    const answer = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    expect(frameResponse(Buffer.from(answer))).toEqual({ length: answer.length, status: 200, bodyBytes: 11 });
    expect(frameResponse(Buffer.from(answer.slice(0, -4)))).toBeNull();
  });
});

describe('runLoad', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  it('keeps N connections busy and counts every answer by status', async () => {
    const seen = new Set<string>();
    const sockets = new Set<unknown>();
    server = createServer((req, res) => {
      seen.add(req.url ?? '');
      sockets.add(req.socket);
      const body = req.url === '/missing' ? '{"error":{}}' : '{"data":1}';
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const result = await runLoad({ port, paths: ['/a', '/b', '/missing'], connections: 4, durationMs: 300, warmupMs: 100 });
    expect(result.requests).toBeGreaterThan(30);
    expect(result.requestsPerSecond).toBeCloseTo(result.requests / result.seconds);
    expect((result.statuses[200] ?? 0) + (result.statuses[404] ?? 0)).toBe(result.requests);
    expect(result.statuses[404]).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(seen).toEqual(new Set(['/a', '/b', '/missing']));
    expect(sockets.size).toBe(4);
  });
});
