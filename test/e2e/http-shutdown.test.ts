/**
 * `refundkit-mcp http` stops at once on SIGTERM when nothing is in flight, whatever connections
 * clients hold open. What agent frameworks leave behind when they close an MCP client (the AI SDK,
 * the OpenAI Agents SDK and LangChain alike): the GET /mcp stream aborted, and a fresh keep-alive
 * connection that has sent nothing yet. The grace time is made far longer than the test may take,
 * so that a server waiting on that connection fails the test instead of exiting late.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../src/demo.js';
import { assertBuilt, cleanupCli, CLI_PATH, createDemoHome, ROOT } from '../support/cli.js';

const sockets: Socket[] = [];
let child: ChildProcessWithoutNullStreams | undefined;

beforeAll(() => assertBuilt());
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  child?.kill('SIGKILL');
  await cleanupCli();
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

/** Writes a request and resolves with the response head (status line and headers). */
function head(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      resolve(text.slice(0, end));
    };
    socket.on('data', onData);
    socket.write(request);
  });
}

/** Writes a request and resolves once its whole answer (Content-Length) has come. */
function whole(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end === -1 || length === undefined || text.length < end + 4 + Number(length)) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.write(request);
  });
}

describe('SIGTERM', () => {
  it('exits at once after a client aborted its GET /mcp stream and left a fresh connection that sends nothing', async () => {
    const home = await createDemoHome();
    const env = home.env({ REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS: '3600', REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' });
    const server = spawn(process.execPath, [CLI_PATH, 'http', '--port', '0'], { env, cwd: ROOT, stdio: 'pipe' });
    child = server;
    let stderr = '';
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const url = await new Promise<URL>((resolve) => {
      let stdout = '';
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(new URL(stdout.split('\n')[0] ?? ''));
      });
    });
    const port = Number(url.port);
    const host = `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${DEMO_API_KEY}\r\n`;

    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'shutdown-test', version: '0' } },
    });
    const posted = await head(
      await open(port),
      `POST /mcp HTTP/1.1\r\n${host}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
        `Content-Length: ${Buffer.byteLength(initialize)}\r\n\r\n${initialize}`,
    );
    expect(posted).toMatch(/^HTTP\/1\.1 200/);
    const sessionId = /^mcp-session-id: (\S+)$/im.exec(posted)?.[1];
    expect(sessionId).toBeDefined();

    // The client's standalone stream, opened and then aborted.
    const stream = await open(port);
    const streamed = await head(
      stream,
      `GET /mcp HTTP/1.1\r\n${host}Accept: text/event-stream\r\nMcp-Session-Id: ${sessionId}\r\nMcp-Protocol-Version: 2025-06-18\r\n\r\n`,
    );
    expect(streamed).toMatch(/^HTTP\/1\.1 200/);
    stream.destroy();

    // The fresh keep-alive connection, which sends nothing.
    const fresh = await open(port);
    const freshClosed = new Promise<void>((resolve) => fresh.once('close', () => resolve()));
    // A full answer on yet another connection: the server has accepted the fresh one by then.
    expect(await whole(await open(port), `GET /healthz HTTP/1.1\r\n${host}\r\n`)).toMatch(/^HTTP\/1\.1 200/);

    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    await freshClosed;
    expect(stderr).toMatch(/shutting down.*SIGTERM/);
    expect(stderr).toMatch(/ info stopped/);
  }, 60_000);
});
