/**
 * The one reader of the environment. Everything configurable is here, validated once at start,
 * with messages that say how to fix a bad value.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { VARIABLES, type NumericVariable } from './config-variables.js';
import { redact } from './redact.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Defaults the adapters fall back on when built without a Config (tests), from the one table. */
export const DEFAULT_STDIO_MAX_MESSAGE_BYTES = VARIABLES.REFUNDKIT_STDIO_MAX_MESSAGE_BYTES.default;
export const DEFAULT_MCP_MAX_SESSIONS = VARIABLES.REFUNDKIT_MCP_MAX_SESSIONS.default;
export const DEFAULT_MCP_MAX_SESSIONS_PER_ORG = VARIABLES.REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG.default;
export const DEFAULT_MCP_MAX_SESSIONS_PER_KEY = VARIABLES.REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY.default;
export const DEFAULT_MCP_SESSION_IDLE_SECONDS = VARIABLES.REFUNDKIT_MCP_SESSION_IDLE_SECONDS.default;

export interface Config {
  /** SQLite file; created with its folders on first use. */
  dbPath: string;
  /** A PostgreSQL URL: when set, the stores are there and dbPath is not used. */
  databaseUrl: string | undefined;
  /** The key the stdio server acts with; its organization is the only one it sees. */
  apiKey: string | undefined;
  /** Leaves every tool that changes something unregistered. */
  readOnly: boolean;
  /** Largest stdin line the stdio server reads; a longer one is discarded unread and refused. */
  stdioMaxMessageBytes: number;
  logLevel: LogLevel;
  /** The processor new refunds go to: stripe when a Stripe key is set, else the sandbox. */
  processor: 'stripe' | 'sandbox';
  stripe: {
    secretKey: string | undefined;
    /** Another Stripe base URL, e.g. http://127.0.0.1:12111 for a Stripe imitation in tests. */
    apiBase: string | undefined;
    timeoutMs: number;
    maxNetworkRetries: number;
    /** Signing secret of the webhook endpoint (whsec_…): turns on POST /webhooks/stripe. */
    webhookSecret: string | undefined;
  };
  /** The `http` command: REST API, Stripe webhooks and MCP over Streamable HTTP. */
  http: {
    /** Interface to listen on; the default serves this machine only. */
    host: string;
    /** 0 picks a free port (the command prints the URL it got). */
    port: number;
    /** Largest request body accepted (REST, webhooks, /mcp), in bytes; more is 413. */
    maxBodyBytes: number;
    /**
     * Extra Host names /mcp answers to (DNS-rebinding protection), each `name` (any port) or
     * `name:port`. The bound host and port are always allowed.
     */
    allowedHosts: readonly string[];
    /** Ceiling on /mcp sessions in this process: past it a new session is refused (503). */
    mcpMaxSessions: number;
    /** Sessions one organization may hold; past it its own key's oldest idle one makes room, or 429. */
    mcpMaxSessionsPerOrg: number;
    /** Sessions opened with one key; past it that key's oldest idle one makes room, or 429. */
    mcpMaxSessionsPerKey: number;
    /** A session with no request for this long is ended, an open GET stream included. */
    mcpSessionIdleSeconds: number;
    /** /mcp without sessions: any request may reach any process (always so on PostgreSQL). */
    mcpStateless: boolean;
  };
  /** Review window between creation and submission, in seconds (0: submit inside the create call). */
  holdSeconds: number;
  /** How often the background loop submits due refunds and reads statuses back (0: never). */
  dispatchIntervalSeconds: number;
  /** How many submissions or status reads a background pass has in flight at once. */
  dispatchConcurrency: number;
  /** How often a processing refund's status is read back from its processor. */
  syncIntervalSeconds: number;
  /** get_refund reads a processing refund's status first when this process has not for this long (0: never). */
  refreshAfterSeconds: number;
  /** First retry delay after a processor outage; it triples per attempt, up to 15 minutes. */
  retryBaseSeconds: number;
  /** How long `http` lets requests in flight finish on SIGTERM before cutting their connections. */
  httpShutdownGraceSeconds: number;
  /**
   * The longest any tool call or REST call waits on the processor; past it the refund is answered
   * as it stands (a create's refund pending and queued). Well inside the 60 s MCP clients wait.
   */
  callDeadlineSeconds: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export function defaultDbPath(env: Env): string {
  return join(env.HOME ?? homedir(), '.refundkit', 'refundkit.db');
}

/**
 * Where `setup` finds MCP clients' configuration files: the home folder and, on Windows, the
 * roaming application data folder (%APPDATA%). Read here, like every other variable.
 */
export function clientFolders(env: Env): { home: string; appData: string | undefined } {
  const home = nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? homedir();
  return { home, appData: nonEmpty(env.APPDATA) };
}

export function loadConfig(env: Env): Readonly<Config> {
  const secretKey = parseStripeKey(env.STRIPE_SECRET_KEY);
  const databaseUrl = parseDatabaseUrl(env.REFUNDKIT_DATABASE_URL);
  const config: Config = {
    dbPath: resolve(nonEmpty(env.REFUNDKIT_DB_PATH) ?? defaultDbPath(env)),
    databaseUrl,
    apiKey: nonEmpty(env.REFUNDKIT_API_KEY),
    readOnly: parseBoolean('REFUNDKIT_READ_ONLY', env.REFUNDKIT_READ_ONLY),
    stdioMaxMessageBytes: parseNumber(env, 'REFUNDKIT_STDIO_MAX_MESSAGE_BYTES'),
    logLevel: parseLogLevel(env.REFUNDKIT_LOG_LEVEL),
    processor: parseProcessor(env.REFUNDKIT_PROCESSOR, secretKey !== undefined),
    stripe: {
      secretKey,
      apiBase: parseUrl('STRIPE_API_BASE', env.STRIPE_API_BASE),
      timeoutMs: parseNumber(env, 'STRIPE_TIMEOUT_MS'),
      maxNetworkRetries: parseNumber(env, 'STRIPE_MAX_NETWORK_RETRIES'),
      webhookSecret: parseWebhookSecret(env.STRIPE_WEBHOOK_SECRET),
    },
    http: {
      host: nonEmpty(env.REFUNDKIT_HTTP_HOST) ?? '127.0.0.1',
      port: parseNumber(env, 'REFUNDKIT_HTTP_PORT'),
      maxBodyBytes: parseNumber(env, 'REFUNDKIT_HTTP_MAX_BODY_BYTES'),
      allowedHosts: parseAllowedHosts(env.REFUNDKIT_HTTP_ALLOWED_HOSTS),
      mcpMaxSessions: parseNumber(env, 'REFUNDKIT_MCP_MAX_SESSIONS'),
      mcpMaxSessionsPerOrg: parseNumber(env, 'REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG'),
      mcpMaxSessionsPerKey: parseNumber(env, 'REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY'),
      mcpSessionIdleSeconds: parseNumber(env, 'REFUNDKIT_MCP_SESSION_IDLE_SECONDS'),
      // Processes sharing a PostgreSQL database are meant to sit behind a balancer: no sessions.
      mcpStateless: parseBoolean('REFUNDKIT_MCP_STATELESS', env.REFUNDKIT_MCP_STATELESS) || databaseUrl !== undefined,
    },
    holdSeconds: parseNumber(env, 'REFUNDKIT_HOLD_SECONDS'),
    dispatchIntervalSeconds: parseNumber(env, 'REFUNDKIT_DISPATCH_INTERVAL_SECONDS'),
    dispatchConcurrency: parseNumber(env, 'REFUNDKIT_DISPATCH_CONCURRENCY'),
    syncIntervalSeconds: parseNumber(env, 'REFUNDKIT_SYNC_INTERVAL_SECONDS'),
    refreshAfterSeconds: parseNumber(env, 'REFUNDKIT_REFRESH_AFTER_SECONDS'),
    retryBaseSeconds: parseNumber(env, 'REFUNDKIT_RETRY_BASE_SECONDS'),
    httpShutdownGraceSeconds: parseNumber(env, 'REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS'),
    callDeadlineSeconds: parseNumber(env, 'REFUNDKIT_CALL_DEADLINE_SECONDS'),
  };
  if (config.processor === 'stripe' && secretKey === undefined) {
    throw new ConfigError('REFUNDKIT_PROCESSOR=stripe needs STRIPE_SECRET_KEY (a Stripe secret key, sk_test_… or sk_live_…)');
  }
  return Object.freeze({
    ...config,
    stripe: Object.freeze(config.stripe),
    http: Object.freeze({ ...config.http, allowedHosts: Object.freeze([...config.http.allowedHosts]) }),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function parseNumber(env: Env, name: NumericVariable): number {
  const { default: fallback, rule } = VARIABLES[name];
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;
  const value = Number(text);
  const integer = 'integer' in rule && rule.integer;
  if (!Number.isFinite(value) || value < rule.min || value > rule.max || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'an integer' : 'a number';
    const why = 'why' in rule ? ` (${rule.why})` : '';
    throw new ConfigError(`${name} must be ${kind} from ${rule.min} to ${rule.max}, not '${text}'${why}`);
  }
  return value;
}

function parseUrl(name: string, raw: string | undefined): string | undefined {
  const text = nonEmpty(raw);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be a URL such as http://127.0.0.1:12111, not '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http:// or https:// URL, not '${text}'`);
  }
  return url.origin;
}

function parseProcessor(raw: string | undefined, hasStripeKey: boolean): 'stripe' | 'sandbox' {
  const value = nonEmpty(raw)?.toLowerCase();
  if (value === undefined) return hasStripeKey ? 'stripe' : 'sandbox';
  if (value === 'stripe' || value === 'sandbox') return value;
  throw new ConfigError(`REFUNDKIT_PROCESSOR must be stripe or sandbox, not '${raw ?? ''}'`);
}

function parseBoolean(name: string, raw: string | undefined): boolean {
  const value = nonEmpty(raw)?.toLowerCase();
  if (value === undefined || value === '0' || value === 'false' || value === 'no') return false;
  if (value === '1' || value === 'true' || value === 'yes') return true;
  throw new ConfigError(`${name} must be 1 or 0 (true/false), not '${raw ?? ''}'`);
}

function parseLogLevel(raw: string | undefined): LogLevel {
  const value = nonEmpty(raw)?.toLowerCase() ?? 'info';
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) throw new ConfigError(`REFUNDKIT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

const DATABASE_URL_SHAPE = 'postgres://USER:PASSWORD@HOST:5432/DATABASE';

/** Checked at start, never echoed: a URL may hold a password even when it is malformed. */
function parseDatabaseUrl(raw: string | undefined): string | undefined {
  const value = nonEmpty(raw);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`REFUNDKIT_DATABASE_URL must be a PostgreSQL URL such as ${DATABASE_URL_SHAPE} (the value is not shown: it may hold a password)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(
      `REFUNDKIT_DATABASE_URL must start with postgres:// or postgresql://, as in ${DATABASE_URL_SHAPE}; unset it to use the SQLite file at REFUNDKIT_DB_PATH`,
    );
  }
  if (url.hostname === '') throw new ConfigError(`REFUNDKIT_DATABASE_URL names no host: write it as ${DATABASE_URL_SHAPE}`);
  if (url.pathname.length <= 1) throw new ConfigError(`REFUNDKIT_DATABASE_URL names no database: write it as ${DATABASE_URL_SHAPE}`);
  return value;
}

/** Where the data is, for logs and operators: the file, or the database URL without its password. */
export function databaseLocation(config: Pick<Config, 'dbPath' | 'databaseUrl'>): string {
  return config.databaseUrl === undefined ? config.dbPath : redact(config.databaseUrl);
}

function parseWebhookSecret(raw: string | undefined): string | undefined {
  const value = nonEmpty(raw);
  if (value === undefined) return undefined;
  // Never echo the value: it is a secret even when it is malformed.
  if (!/^whsec_[A-Za-z0-9+/=]{8,}$/.test(value)) {
    throw new ConfigError(
      "STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_…, shown in the Stripe Dashboard or by `stripe listen`)",
    );
  }
  return value;
}

/** `name` or `name:port`, comma-separated; names are compared without case. */
function parseAllowedHosts(raw: string | undefined): string[] {
  const text = nonEmpty(raw);
  if (text === undefined) return [];
  return text.split(',').map((entry) => {
    const value = entry.trim().toLowerCase();
    let url: URL | undefined;
    try {
      url = new URL(`http://${value}`);
    } catch {
      url = undefined;
    }
    if (value === '' || url === undefined || url.host !== value.replace(/:80$/, '') || url.pathname !== '/') {
      throw new ConfigError(
        `REFUNDKIT_HTTP_ALLOWED_HOSTS must be a comma-separated list of host names, each optionally with :port (e.g. refunds.example.com,localhost:8080), not '${entry.trim()}'`,
      );
    }
    return value;
  });
}

function parseStripeKey(raw: string | undefined): string | undefined {
  const value = nonEmpty(raw);
  if (value === undefined) return undefined;
  // Never echo the value: it is a secret even when it is malformed.
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(value)) {
    throw new ConfigError('STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…)');
  }
  return value;
}
