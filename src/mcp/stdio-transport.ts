/**
 * MCP over stdin/stdout: one JSON-RPC message per line. It does what the SDK's own stdio
 * transport does, and answers what that one drops without a word, as JSON-RPC 2.0 requires: a
 * line that is not JSON gets a Parse error (-32700); JSON that is not a JSON-RPC 2.0 message (a
 * wrong version, params that are not an object, a batch) gets an Invalid Request (-32600)
 * carrying the request's id when it has one, so a client waiting on that id is not left hanging;
 * a known request whose params do not fit its method gets Invalid params (-32602). Blank lines
 * are skipped. A line longer than the limit is discarded, answered with an Invalid Request, and
 * the session goes on: the SDK's transport closes itself instead, and the process exits.
 *
 * An error whose request id cannot be read carries no id, as MCP's schema has it (JSON-RPC 2.0
 * would write `"id": null`, which MCP clients' validators refuse).
 */
import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_STDIO_MAX_MESSAGE_BYTES } from '../config.js';
import { invalidParams } from './params-check.js';


const NEWLINE = 0x0a;

export interface LineStdioTransportOptions {
  stdin?: Readable;
  stdout?: Writable;
  /**
   * REFUNDKIT_STDIO_MAX_MESSAGE_BYTES. A line costs many times its size while it is parsed and
   * checked (a 6.5 MB one took the process past 300 MB), so the limit is what bounds one message's
   * memory: past it the line is dropped as it streams in, never held whole.
   */
  maxMessageBytes?: number;
}

export class LineStdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private readonly maxMessageBytes: number;
  private started = false;
  private parts: Buffer[] = [];
  private size = 0;
  /** The line being read is over the limit: skip to its end. */
  private discarding = false;

  constructor(options: LineStdioTransportOptions = {}) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_STDIO_MAX_MESSAGE_BYTES;
  }

  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error('LineStdioServerTransport already started'));
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStdinError);
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(JSON.stringify(message));
  }

  close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStdinError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.parts = [];
    this.size = 0;
    this.onclose?.();
    return Promise.resolve();
  }

  private readonly onStdinError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onData = (chunk: Buffer | string): void => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (;;) {
      const end = data.indexOf(NEWLINE);
      if (end === -1) {
        this.collect(data);
        return;
      }
      this.collect(data.subarray(0, end));
      this.endOfLine();
      data = data.subarray(end + 1);
    }
  };

  private collect(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.size + part.length > this.maxMessageBytes) {
      this.discarding = true;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(part);
    this.size += part.length;
  }

  private endOfLine(): void {
    if (this.discarding) {
      this.discarding = false;
      this.refuse(
        null,
        ErrorCode.InvalidRequest,
        `Invalid Request: a message is limited to ${this.maxMessageBytes} bytes (REFUNDKIT_STDIO_MAX_MESSAGE_BYTES); it was discarded`,
      );
      return;
    }
    const line = Buffer.concat(this.parts, this.size).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.size = 0;
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      this.refuse(null, ErrorCode.ParseError, 'Parse error: a line on stdin was not valid JSON');
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.refuse(
        requestIdOf(json),
        ErrorCode.InvalidRequest,
        'Invalid Request: expected one JSON-RPC 2.0 message per line: {"jsonrpc":"2.0","id":…,"method":"…","params":{…}} (batches are not supported)',
      );
      return;
    }
    const message = parsed.data;
    // A known request with params of the wrong shape is Invalid params (-32602). The SDK answers
    // it Internal error (-32603), with the validator's dump as the message.
    const problem = invalidParams(message);
    if (problem !== null) {
      this.refuse(problem.id, ErrorCode.InvalidParams, problem.message);
      return;
    }
    try {
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private write(json: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${json}\n`)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  private refuse(id: RequestId | null, code: number, message: string): void {
    this.onerror?.(new Error(message));
    void this.send(id === null ? { jsonrpc: '2.0', error: { code, message } } : { jsonrpc: '2.0', id, error: { code, message } });
  }
}

/**
 * The id of something shaped like a request (it names a method), so the error reaches the caller
 * waiting on it. A malformed response (no method) gets null: its id is one of ours, and echoing
 * it would look like the answer to our own request.
 */
function requestIdOf(json: unknown): RequestId | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  if (!('method' in json) || typeof json.method !== 'string' || !('id' in json)) return null;
  const id = json.id;
  return (typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id))) ? id : null;
}
