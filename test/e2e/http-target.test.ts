/**
 * The request target as the BUILT `refundkit-mcp http` routes it (the bundle, not the sources the
 * in-process tests load): a malformed escape or a '#' in a refund id reaches the id's own
 * validation message, never the router's bad-URL answer or another refund.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../src/demo.js';
import { assertBuilt, cleanupCli, CLI_PATH, createDemoHome, ROOT } from '../support/cli.js';

const ID_MESSAGE = "id must be a RefundKit refund id: 'ref_' followed by 12 lowercase letters or digits, e.g. ref_abc123def456";

let child: ChildProcessWithoutNullStreams | undefined;
let port = 0;

beforeAll(async () => {
  assertBuilt();
  const home = await createDemoHome();
  child = spawn(process.execPath, [CLI_PATH, 'http', '--port', '0'], { env: home.env({ REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' }), cwd: ROOT, stdio: 'pipe' });
  const url = await new Promise<URL>((resolve) => {
    let stdout = '';
    child?.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(new URL(stdout.split('\n')[0] ?? ''));
    });
  });
  port = Number(url.port);
}, 30_000);
afterAll(async () => {
  child?.kill('SIGKILL');
  await cleanupCli();
});

/** One request line sent as is, on its own connection; the answer's status line and body. */
function send(target: string): Promise<{ status: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${DEMO_API_KEY}\r\nConnection: close\r\n\r\n`),
    );
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve({ status: text.split('\r\n')[0] ?? '', body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
    socket.on('error', reject);
  });
}

describe('the request target', () => {
  it.each(['/v1/refunds/%E0%A4%A', '/v1/refunds/ref_abc%zz', '/v1/refunds/ref_demo00000001#x', '/v1/refunds/ref_demo%2300000001'])(
    '%s is a malformed id (400), not a bad URL and not a refund',
    async (target) => {
      const res = await send(target);
      expect(res.status).toBe('HTTP/1.1 400 Bad Request');
      expect(JSON.parse(res.body)).toEqual({ error: { message: ID_MESSAGE, code: 'validation_error' } });
    },
  );
});
