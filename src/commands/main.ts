/**
 * argv → command. Exit codes: 0 done, 1 the command failed (one line on stderr), 2 the command
 * was misused (unknown command or flag, missing value).
 */
import { DISCREPANCIES_HELP, runDiscrepancies } from './discrepancies.js';
import { DISPATCH_HELP, runDispatch } from './dispatch.js';
import { HTTP_HELP, runHttp, type HttpCommandOptions } from './http.js';
import { INIT_HELP, runInit } from './init.js';
import { KEYS_HELP, runKeysCreate, runKeysList, runKeysRevoke } from './keys.js';
import { ORGS_HELP, runOrgsCreate, runOrgsList } from './orgs.js';
import { STDIO_HELP, runStdio } from './stdio.js';
import { APPROVALS_HELP, runApprovals } from './approvals.js';
import { CommandError, flags, processIo, required, UsageError, type Io } from './common.js';
import { POLICY_HELP, runPolicy } from './policy.js';
import { OPERATORS_HELP, runOperators } from './operators.js';
import { isClientName, CLIENT_NAMES } from './setup-clients.js';
import { SETUP_HELP, runSetup } from './setup.js';
import { parseScopes } from '../domain/guardrails/scopes.js';
import { parseKeyName } from '../domain/key-name.js';
import { clientFolders, ConfigError, loadConfig, type Config } from '../config.js';
import { redact } from '../logger.js';
import { unsupportedNodeWarning } from './node-support.js';
import { VERSION } from '../version.js';

const HELP = `refundkit-mcp ${VERSION}: refunds for AI agents, over MCP.

Usage: refundkit-mcp [command] [options]

Commands:
  stdio                  serve MCP over stdio (the default when no command is given)
  http [--port N] [--host H]
                         serve the REST API, Stripe webhooks, MCP over Streamable HTTP and the
                         operator dashboard (/dashboard)
  init [--demo]          create or migrate the database; --demo adds a demo organization
  dispatch               submit due refunds and read back due statuses once, then exit
  discrepancies [--org ID]
                         refunds a processor holds as paid that we hold as cancelled or failed
  orgs create --name N   create an organization
  orgs list              list organizations
  keys create --org ID --name NAME
                         create an API key  (--mode live|test, default live)
  keys revoke --id ID    revoke an API key  (or --key API_KEY)
  keys list --org ID     list an organization's keys
  policy show|set --org ID
                         show or set the organization's agent policy
  approvals list|approve|reject --org ID
                         agents' refunds waiting for a person; approve or reject one
  operators create|list|disable
                         the people who sign in to the dashboard (served by http at /dashboard)
  setup [--client NAME] [--write]
                         print (or merge into the client's file) the configuration for Claude
                         Desktop, Claude Code, Cursor and VS Code

Options: --help (for any command), --version

Environment (see README.md): REFUNDKIT_DB_PATH, REFUNDKIT_API_KEY, REFUNDKIT_READ_ONLY,
REFUNDKIT_LOG_LEVEL, REFUNDKIT_PROCESSOR, REFUNDKIT_HOLD_SECONDS, REFUNDKIT_DISPATCH_INTERVAL_SECONDS,
REFUNDKIT_DISPATCH_CONCURRENCY, REFUNDKIT_SYNC_INTERVAL_SECONDS, REFUNDKIT_REFRESH_AFTER_SECONDS,
REFUNDKIT_RETRY_BASE_SECONDS, REFUNDKIT_CALL_DEADLINE_SECONDS, STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_TIMEOUT_MS,
STRIPE_MAX_NETWORK_RETRIES, STRIPE_WEBHOOK_SECRET, REFUNDKIT_HTTP_HOST, REFUNDKIT_HTTP_PORT,
REFUNDKIT_HTTP_MAX_BODY_BYTES, REFUNDKIT_HTTP_ALLOWED_HOSTS, REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS.`;

function portFlag(value: string | boolean): number {
  const text = typeof value === 'string' ? value : '';
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65_535)) throw new UsageError(`--port must be a port number from 0 to 65535, not '${text}'`);
  return port;
}

async function run(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') return io.out(VERSION);
  if (command === '--help' || command === '-h' || command === 'help') return io.out(HELP);
  const config = (): Readonly<Config> => loadConfig(env);

  switch (command) {
    case undefined:
    case 'stdio': {
      if (flags(rest, {}).help === true) return io.out(STDIO_HELP);
      return runStdio(config());
    }
    case 'init': {
      const values = flags(rest, { demo: { type: 'boolean' } });
      if (values.help === true) return io.out(INIT_HELP);
      return runInit(config(), { demo: values.demo === true }, io);
    }
    case 'http': {
      const values = flags(rest, { port: { type: 'string' }, host: { type: 'string' } });
      if (values.help === true) return io.out(HTTP_HELP);
      const options: HttpCommandOptions = {};
      if (values.port !== undefined) options.port = portFlag(values.port);
      if (values.host !== undefined) options.host = required(values.host, '--host');
      return runHttp(config(), options, io);
    }
    case 'dispatch': {
      if (flags(rest, {}).help === true) return io.out(DISPATCH_HELP);
      return runDispatch(config(), io);
    }
    case 'discrepancies': {
      const values = flags(rest, { org: { type: 'string' } });
      if (values.help === true) return io.out(DISCREPANCIES_HELP);
      return runDiscrepancies(config(), values.org === undefined ? undefined : required(values.org, '--org'), io);
    }
    case 'orgs': {
      const [sub, ...subArgs] = rest;
      if (sub === undefined || sub === '--help' || sub === '-h') return io.out(ORGS_HELP);
      if (sub === 'create') {
        const values = flags(subArgs, { name: { type: 'string' } });
        if (values.help === true) return io.out(ORGS_HELP);
        return runOrgsCreate(config(), required(values.name, '--name'), io);
      }
      if (sub === 'list') {
        if (flags(subArgs, {}).help === true) return io.out(ORGS_HELP);
        return runOrgsList(config(), io);
      }
      throw new UsageError(`unknown orgs command '${sub}'\n\n${ORGS_HELP}`);
    }
    case 'keys': {
      const [sub, ...subArgs] = rest;
      if (sub === undefined || sub === '--help' || sub === '-h') return io.out(KEYS_HELP);
      if (sub === 'create') {
        const values = flags(subArgs, { org: { type: 'string' }, name: { type: 'string' }, mode: { type: 'string' }, scopes: { type: 'string' } });
        if (values.help === true) return io.out(KEYS_HELP);
        const org = required(values.org, '--org');
        // Every new key is named: a key nobody can tell apart in the approvals inbox is one nobody can answer for.
        const name = parseKeyName(required(values.name, '--name'));
        if (!name.ok) throw new UsageError(`--name: ${name.message}`);
        const mode = values.mode ?? 'live';
        if (mode !== 'live' && mode !== 'test') throw new UsageError(`--mode must be live or test, not '${mode}'`);
        const scopes = values.scopes === undefined ? undefined : parseScopes(values.scopes);
        if (scopes !== undefined && !scopes.ok) throw new UsageError(`--scopes: ${scopes.message}`);
        return runKeysCreate(config(), org, mode, io, { name: name.name, ...(scopes === undefined ? {} : { scopes: scopes.scopes }) });
      }
      if (sub === 'revoke') {
        const values = flags(subArgs, { id: { type: 'string' }, key: { type: 'string' } });
        if (values.help === true) return io.out(KEYS_HELP);
        const id = typeof values.id === 'string' ? values.id : undefined;
        const key = typeof values.key === 'string' ? values.key : undefined;
        if ((id === undefined) === (key === undefined)) throw new UsageError('give exactly one of --id KEY_ID or --key API_KEY');
        return runKeysRevoke(config(), id !== undefined ? { id } : { key: key ?? '' }, io);
      }
      if (sub === 'list') {
        const values = flags(subArgs, { org: { type: 'string' } });
        if (values.help === true) return io.out(KEYS_HELP);
        return runKeysList(config(), required(values.org, '--org'), io);
      }
      throw new UsageError(`unknown keys command '${sub}'\n\n${KEYS_HELP}`);
    }
    case 'policy': {
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') return io.out(POLICY_HELP);
      return runPolicy(rest, config, io);
    }
    case 'approvals': {
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') return io.out(APPROVALS_HELP);
      return runApprovals(rest, config, io);
    }
    case 'operators': {
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') return io.out(OPERATORS_HELP);
      return runOperators(rest, config, io);
    }
    case 'setup': {
      const values = flags(rest, {
        client: { type: 'string' },
        write: { type: 'boolean' },
        force: { type: 'boolean' },
        'config-path': { type: 'string' },
        'api-key': { type: 'string' },
        npx: { type: 'boolean' },
      });
      if (values.help === true) return io.out(SETUP_HELP);
      const client = values.client === undefined ? undefined : required(values.client, '--client');
      if (client !== undefined && !isClientName(client)) {
        throw new UsageError(`--client must be one of ${CLIENT_NAMES.join(', ')}, not '${client}'`);
      }
      const options = {
        client,
        write: values.write === true,
        force: values.force === true,
        configPath: values['config-path'] === undefined ? undefined : required(values['config-path'], '--config-path'),
        apiKey: values['api-key'] === undefined ? undefined : required(values['api-key'], '--api-key'),
        npx: values.npx === true,
      };
      return runSetup(config(), options, { ...clientFolders(env), cwd: process.cwd(), platform: process.platform }, io);
    }
    default:
      throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io = processIo, nodeVersion: string = process.version): Promise<number> {
  const warning = unsupportedNodeWarning(nodeVersion);
  if (warning !== undefined) io.err(`refundkit-mcp: warning: ${warning}`);
  try {
    await run(argv, env, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`refundkit-mcp: ${error.message}`);
      return 2;
    }
    if (error instanceof CommandError || error instanceof ConfigError) {
      io.err(`refundkit-mcp: ${error.message}`);
      return 1;
    }
    io.err(redact(`refundkit-mcp: unexpected failure: ${error instanceof Error ? error.message : String(error)}`));
    return 1;
  }
}
