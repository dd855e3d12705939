/**
 * The server's connections, for a shutdown that neither cuts a request in flight nor waits on a
 * connection that carries none. node:http's closeIdleConnections() leaves alone a connection that
 * was opened and has sent nothing yet (node counts it as busy, so that its headers timeout runs),
 * and HTTP clients open exactly that: after aborting an SSE stream, the AI SDK, the OpenAI Agents
 * SDK and LangChain all leave a fresh keep-alive connection behind. Left alone, it held the
 * process until the client gave up on it or the grace time ran out.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export class Connections {
  private readonly sockets = new Set<Socket>();
  private readonly servers: Server[] = [];
  /** Connections with a response under way, and its request: a parse error there is answered through it, or not at all. */
  readonly answering = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>();

  attach(server: Server): void {
    this.servers.push(server);
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Called for every request before Fastify sees it. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    this.answering.set(socket, { req, res });
    res.once('close', () => {
      if (this.answering.get(socket)?.res === res) this.answering.delete(socket);
    });
  };

  /** Ends the connections that carry no request: idle keep-alive ones, and those never used. */
  closeIdle(): void {
    for (const server of this.servers) server.closeIdleConnections();
    for (const socket of this.sockets) {
      if (socket.bytesRead === 0 && !this.answering.has(socket)) socket.destroy();
    }
  }

  /**
   * Once the server stopped listening: ends idle connections now and as requests finish, and
   * every connection once `graceMs` has passed. Resolves when `closed` does.
   */
  async drain(closed: Promise<void>, graceMs: number): Promise<void> {
    this.closeIdle();
    const sweep = setInterval(() => this.closeIdle(), 50);
    const deadline = setTimeout(() => {
      for (const server of this.servers) server.closeAllConnections();
    }, graceMs);
    try {
      await closed;
    } finally {
      clearInterval(sweep);
      clearTimeout(deadline);
    }
  }
}
