/**
 * A minimal MCP client over a child's stdin/stdout: newline-delimited JSON-RPC, nothing else.
 * The SDK's Client would validate every answer with zod in this process, which on a 2-core
 * machine takes CPU from the server under test; here a call's time runs from writing the request
 * to the arrival of the newline that ends its answer, and parsing happens after the clock stops.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Answer {
  /** Milliseconds from writing the request to receiving the end of its answer. */
  ms: number;
  /** The raw JSON-RPC message. */
  line: string;
}

export interface ServerCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

const PROTOCOL_VERSION = '2025-06-18';
const REQUEST_TIMEOUT_MS = 60_000;

export class StdioSession {
  private readonly waiting = new Map<number, { sentAt: number; resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  private buffered = '';
  private nextId = 1;
  private stderr = '';
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    // A server that stops answering fails the run instead of hanging it.
    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const [id, pending] of this.waiting) {
        if (now - pending.sentAt < REQUEST_TIMEOUT_MS) continue;
        this.waiting.delete(id);
        pending.reject(new Error(`no answer to request ${id} within ${REQUEST_TIMEOUT_MS / 1000} s: ${this.stderr.trim()}`));
      }
    }, 1_000);
    watchdog.unref();
    child.on('exit', () => clearInterval(watchdog));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk, performance.now()));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        for (const pending of this.waiting.values()) pending.reject(new Error(`server exited (${code ?? 'signal'}): ${this.stderr.trim()}`));
        this.waiting.clear();
        resolve(code);
      });
    });
  }

  static spawn(server: ServerCommand): StdioSession {
    const child = spawn(server.command, server.args, { env: server.env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new StdioSession(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get lastStderr(): string {
    return this.stderr.trim();
  }

  request(method: string, params?: Record<string, unknown>): Promise<Answer> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<Answer>((resolve, reject) => {
      const message = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
      this.waiting.set(id, { sentAt: performance.now(), resolve, reject });
      this.child.stdin.write(`${message}\n`);
    });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) })}\n`);
  }

  /** initialize → notifications/initialized, as every client starts. */
  async initialize(): Promise<Answer> {
    const answer = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'refundkit-bench', version: '1.0.0' },
    });
    expectResult(answer, 'initialize');
    this.notify('notifications/initialized');
    return answer;
  }

  /** Calls a tool; resolves with the timing and the parsed result (rejects on a JSON-RPC error). */
  async callTool(name: string, args: Record<string, unknown>): Promise<{ ms: number; result: ToolResult }> {
    const answer = await this.request('tools/call', { name, arguments: args });
    return { ms: answer.ms, result: expectResult(answer, `tools/call ${name}`) as unknown as ToolResult };
  }

  /** Closes stdin (the normal end of a session) and waits for the process to exit. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private receive(chunk: string, at: number): void {
    this.buffered += chunk;
    let newline = this.buffered.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      newline = this.buffered.indexOf('\n');
      if (line.trim() === '') continue;
      const id = answerId(line);
      const pending = id === undefined ? undefined : this.waiting.get(id);
      if (id === undefined || pending === undefined) continue; // a notification or a log message
      this.waiting.delete(id);
      pending.resolve({ ms: at - pending.sentAt, line });
    }
  }
}

/**
 * The id of an answer. The SDK writes it last, so it is read from the tail without parsing a
 * large message; anything else is parsed.
 */
function answerId(line: string): number | undefined {
  const tail = /"id":(\d+)\}$/.exec(line.slice(-32));
  if (tail?.[1] !== undefined) return Number(tail[1]);
  try {
    const message = JSON.parse(line) as { id?: unknown };
    return typeof message.id === 'number' ? message.id : undefined;
  } catch {
    return undefined;
  }
}

export interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

/** The result of a JSON-RPC answer; throws with the error when there is one. */
export function expectResult(answer: Answer, what: string): Record<string, unknown> {
  const message = JSON.parse(answer.line) as { result?: Record<string, unknown>; error?: { message: string } };
  if (message.result === undefined) throw new Error(`${what} failed: ${message.error?.message ?? answer.line.slice(0, 300)}`);
  return message.result;
}

/**
 * Spawns the server and times it until `initialize` and then `tools/list` have both been answered
 * (what a client waits for before the model can use any tool), then ends it.
 */
export async function coldStart(server: ServerCommand): Promise<{ ms: number; tools: number }> {
  const started = performance.now();
  const session = StdioSession.spawn(server);
  try {
    await session.initialize();
    const listed = await session.request('tools/list');
    const ms = performance.now() - started;
    const tools = (expectResult(listed, 'tools/list').tools as unknown[]).length;
    return { ms, tools };
  } finally {
    await session.close();
  }
}
