/**
 * The line-delimited stdio transport on in-memory streams: messages across chunk boundaries,
 * CRLF, blank lines, and an answer for every line that is not a message (JSON-RPC 2.0's Parse
 * error, Invalid Request, Invalid params), including one over the size limit, after which the
 * transport keeps reading.
 */
import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LineStdioServerTransport } from '../../src/mcp/stdio-transport.js';

async function harness(maxMessageBytes?: number) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let written = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (written += chunk));
  const transport = new LineStdioServerTransport({ stdin, stdout, ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }) });
  const received: JSONRPCMessage[] = [];
  const errors: string[] = [];
  transport.onmessage = (message) => received.push(message);
  transport.onerror = (error) => errors.push(error.message);
  await transport.start();
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return {
    transport,
    stdin,
    received,
    errors,
    async feed(...chunks: (string | Buffer)[]) {
      for (const chunk of chunks) stdin.write(chunk);
      await flush();
    },
    answers: () =>
      written
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { id?: unknown; error?: { code: number; message: string } }),
  };
}

const ping = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' });

describe('LineStdioServerTransport', () => {
  it('delivers messages split across chunks, several per chunk, with CRLF, and skips blank lines', async () => {
    const h = await harness();
    const two = `${ping(1)}\r\n\n   \n${ping(2)}\n`;
    await h.feed(two.slice(0, 7), two.slice(7, 30), two.slice(30), Buffer.from(`${ping(3)}\n`));
    expect(h.received.map((m) => ('id' in m ? m.id : null))).toEqual([1, 2, 3]);
    expect(h.answers()).toEqual([]);
  });

  it('answers a line that is not JSON with a Parse error without an id, and goes on', async () => {
    const h = await harness();
    await h.feed('not json\n', Buffer.from([0xff, 0xfe, 0x0a]), `${ping(4)}\n`);
    expect(h.answers()).toEqual([
      { jsonrpc: '2.0', error: { code: -32700, message: expect.stringContaining('Parse error') } },
      { jsonrpc: '2.0', error: { code: -32700, message: expect.stringContaining('Parse error') } },
    ]);
    expect(h.received).toHaveLength(1);
  });

  it('answers JSON that is not a message with Invalid Request, echoing a request id it can read', async () => {
    const h = await harness();
    await h.feed(
      `${JSON.stringify({ jsonrpc: '1.0', id: 7, method: 'ping' })}\n`,
      `${JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping', params: 'x' })}\n`,
      '[]\n',
      `${JSON.stringify({ jsonrpc: '2.0', id: 9, result: 'not an object' })}\n`,
    );
    expect(h.answers().map((a) => [a.id, a.error?.code])).toEqual([
      [7, -32600],
      [8, -32600],
      [undefined, -32600],
      // A malformed response: its id is ours, so it is not echoed.
      [undefined, -32600],
    ]);
    expect(h.received).toEqual([]);
  });

  it('answers a known request with params that do not fit with Invalid params naming the field', async () => {
    const h = await harness();
    await h.feed(`${JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'get_refund', arguments: 'x' } })}\n`);
    expect(h.answers()).toEqual([{ jsonrpc: '2.0', id: 10, error: { code: -32602, message: expect.stringContaining('params.arguments') } }]);
    expect(h.received).toEqual([]);
  });

  it('passes unknown methods on (the server answers Method not found)', async () => {
    const h = await harness();
    await h.feed(`${JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'no/such' })}\n`);
    expect(h.received).toHaveLength(1);
  });

  it('discards a line over the limit, however it arrives, answers it, and reads the next one', async () => {
    const h = await harness(1_000);
    await h.feed('{"jsonrpc":"2.0","id":12,"method":"ping","params":{"p":"', 'x'.repeat(600), 'y'.repeat(600), '"}}\n', `${ping(13)}\n`);
    expect(h.answers()).toEqual([{ jsonrpc: '2.0', error: { code: -32600, message: expect.stringContaining('limited to 1000 bytes') } }]);
    expect(h.received.map((m) => ('id' in m ? m.id : null))).toEqual([13]);
  });

  it('by default refuses a line past 1 MiB as it streams in, and answers the next request', async () => {
    const h = await harness();
    const big = JSON.stringify({ jsonrpc: '2.0', id: 15, method: 'ping', params: { _meta: { pad: 'p'.repeat(1_048_576) } } });
    // In 64 KiB pieces, as a pipe delivers it.
    const pieces: string[] = [];
    for (let at = 0; at < big.length; at += 65_536) pieces.push(big.slice(at, at + 65_536));
    await h.feed(...pieces, '\n', `${ping(16)}\n`);
    expect(h.answers()).toEqual([{ jsonrpc: '2.0', error: { code: -32600, message: expect.stringContaining('limited to 1048576 bytes') } }]);
    expect(h.received.map((m) => ('id' in m ? m.id : null))).toEqual([16]);
  });

  it('close stops reading and reports it', async () => {
    const h = await harness();
    let closed = false;
    h.transport.onclose = () => (closed = true);
    await h.transport.close();
    await h.feed(`${ping(14)}\n`);
    expect(closed).toBe(true);
    expect(h.received).toEqual([]);
  });
});
