/**
 * The one reader of the environment. Everything configurable is here, validated once at start,
 * with messages that say how to fix a bad value.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** SQLite file; created with its folders on first use. */
  dbPath: string;
  /** The key the stdio server acts with; its organization is the only one it sees. */
  apiKey: string | undefined;
  /** Leaves every tool that changes something unregistered. */
  readOnly: boolean;
  logLevel: LogLevel;
  stripe: {
    secretKey: string | undefined;
  };
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

export function loadConfig(env: Env): Readonly<Config> {
  const config: Config = {
    dbPath: resolve(nonEmpty(env.REFUNDKIT_DB_PATH) ?? defaultDbPath(env)),
    apiKey: nonEmpty(env.REFUNDKIT_API_KEY),
    readOnly: parseBoolean('REFUNDKIT_READ_ONLY', env.REFUNDKIT_READ_ONLY),
    logLevel: parseLogLevel(env.REFUNDKIT_LOG_LEVEL),
    stripe: {
      secretKey: parseStripeKey(env.STRIPE_SECRET_KEY),
    },
  };
  return Object.freeze({ ...config, stripe: Object.freeze(config.stripe) });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
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

function parseStripeKey(raw: string | undefined): string | undefined {
  const value = nonEmpty(raw);
  if (value === undefined) return undefined;
  // Never echo the value: it is a secret even when it is malformed.
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(value)) {
    throw new ConfigError('STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…)');
  }
  return value;
}
