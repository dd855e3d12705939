/**
 * Serves MCP over stdin/stdout as the organization of REFUNDKIT_API_KEY. stdout carries only
 * protocol messages: every log line goes to stderr, and so does any stray console output.
 */
import { existsSync } from 'node:fs';
import { createApp } from '../app.js';
import { startBackgroundWork, type BackgroundWork } from '../background.js';
import type { Config } from '../config.js';
import { errors } from '../domain/errors.js';
import { createLogger } from '../logger.js';
import { InFlightCalls } from '../mcp/in-flight.js';
import { createMcpServer } from '../mcp/server.js';
import { LineStdioServerTransport } from '../mcp/stdio-transport.js';
import { CommandError } from './common.js';

export const STDIO_HELP = `Usage: refundkit-mcp [stdio]

Serves the MCP tools over stdin/stdout for the organization of REFUNDKIT_API_KEY. This is what
Claude Desktop and other MCP clients launch (\`refundkit-mcp setup\` prints their configuration).
Logs go to stderr.`;

export async function runStdio(config: Readonly<Config>): Promise<void> {
  keepStdoutForProtocol();
  // Log lines (a migration, say) are held back until the key is accepted, so that a refused
  // start is one line on stderr.
  let heldLines: string[] | null = [];
  const logger = createLogger(config.logLevel, (line) => {
    if (heldLines === null) process.stderr.write(line);
    else heldLines.push(line);
  });
  if (config.apiKey === undefined) {
    throw new CommandError(
      'REFUNDKIT_API_KEY is not set: create a key with `refundkit-mcp keys create --org ORG_ID --name NAME`, or use the demo key printed by `refundkit-mcp init --demo`',
    );
  }
  // A key can only be valid in a database that exists: a mistyped path must not create a new one.
  if (config.databaseUrl === undefined && !existsSync(config.dbPath)) {
    throw new CommandError(
      `no database at ${config.dbPath}: run \`refundkit-mcp init\` (or init --demo) first, or set REFUNDKIT_DB_PATH`,
    );
  }
  const apiKey = config.apiKey;
  const app = await createApp(config, { logger, readOnlyDatabase: config.readOnly });
  const identity = await app.apiKeys.authenticate(apiKey);
  if (identity === null) {
    await app.close();
    throw new CommandError('REFUNDKIT_API_KEY is unknown or revoked (invalid_api_key): check the key and REFUNDKIT_DB_PATH');
  }
  const held = heldLines;
  heldLines = null;
  for (const line of held) process.stderr.write(line);
  const inFlight = new InFlightCalls();
  const server = createMcpServer({
    service: app.service,
    caller: { organizationId: identity.organizationId, actor: 'mcp', keyId: identity.keyId },
    readOnly: config.readOnly,
    scopes: identity.scopes,
    logger,
    inFlight,
    // The key is checked again at every call: revoking it ends the session's access, as over HTTP.
    checkAccess: async () => {
      if (!(await app.apiKeys.isLive(identity.keyId))) throw errors.invalidApiKey();
    },
  });
  const transport = new LineStdioServerTransport({ maxMessageBytes: config.stdioMaxMessageBytes });

  const running: { background?: BackgroundWork } = {};
  let closing = false;
  const shutdown = (why: string): void => {
    if (closing) return;
    closing = true;
    logger.info('shutting down', { why });
    // Answer the calls already made, and let a submission in flight record its outcome, before
    // the database closes.
    void inFlight
      .drain(30_000)
      .then(() => running.background?.stop())
      .then(() => server.close())
      .finally(() => app.close())
      .finally(() => process.exit(0));
  };
  // The client closing our stdin (or going away while we answer) is the normal end of a session.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdout.on('error', () => shutdown('stdout closed'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  await server.connect(transport);
  // Started after connect, so the client's first messages never wait behind it. A read-only
  // server starts none: every pass writes (claims, submissions, statuses, sync schedules).
  if (!config.readOnly) running.background = startBackgroundWork(app.service, logger, config.dispatchIntervalSeconds * 1000);
  logger.info('serving MCP over stdio', {
    organizationId: identity.organizationId,
    database: config.dbPath,
    readOnly: config.readOnly,
    processors: app.processors.names(),
  });
}

/** A dependency that calls console.log must not corrupt the protocol stream. */
function keepStdoutForProtocol(): void {
  const toStderr = (...args: unknown[]): void => {
    process.stderr.write(`${args.map(String).join(' ')}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}
