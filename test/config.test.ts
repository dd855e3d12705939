import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, databaseLocation, defaultDbPath, LOG_LEVELS, loadConfig, type Env } from '../src/config.js';

const HOME = '/home/tester';

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('defaults', () => {
  it('an empty environment gives the documented defaults', () => {
    const config = loadConfig({ HOME });
    expect(config).toMatchObject({
      dbPath: join(HOME, '.refundkit', 'refundkit.db'),
      apiKey: undefined,
      readOnly: false,
      logLevel: 'info',
    });
    expect(config.stripe.secretKey).toBeUndefined();
    expect(defaultDbPath({ HOME })).toBe(join(HOME, '.refundkit', 'refundkit.db'));
  });

  it('blank values count as unset', () => {
    const config = loadConfig({
      HOME,
      REFUNDKIT_DB_PATH: '  ',
      REFUNDKIT_API_KEY: '',
      REFUNDKIT_READ_ONLY: ' ',
      REFUNDKIT_LOG_LEVEL: '',
      STRIPE_SECRET_KEY: '   ',
    });
    expect(config).toMatchObject({
      dbPath: join(HOME, '.refundkit', 'refundkit.db'),
      apiKey: undefined,
      readOnly: false,
      logLevel: 'info',
    });
    expect(config.stripe.secretKey).toBeUndefined();
  });

  it('is frozen', () => {
    const config = loadConfig({ HOME });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.stripe)).toBe(true);
  });
});

describe('values', () => {
  it('takes the database path (made absolute) and the API key (trimmed)', () => {
    const config = loadConfig({ HOME, REFUNDKIT_DB_PATH: 'data/rk.db', REFUNDKIT_API_KEY: ' rk_test_abc \n' });
    expect(config.dbPath).toBe(resolve('data/rk.db'));
    expect(config.apiKey).toBe('rk_test_abc');
    expect(loadConfig({ REFUNDKIT_DB_PATH: '/tmp/x/y.db' }).dbPath).toBe('/tmp/x/y.db');
  });

  it.each([
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    [' 1 ', true],
    ['0', false],
    ['false', false],
    ['no', false],
    ['No', false],
  ])('REFUNDKIT_READ_ONLY=%j -> %s', (raw, expected) => {
    expect(loadConfig({ HOME, REFUNDKIT_READ_ONLY: raw }).readOnly).toBe(expected);
  });

  it.each(['2', 'on', 'maybe', 'y'])('REFUNDKIT_READ_ONLY=%j is refused with how to fix it', (raw) => {
    const error = configError({ HOME, REFUNDKIT_READ_ONLY: raw });
    expect(error.message).toContain('REFUNDKIT_READ_ONLY');
    expect(error.message).toMatch(/1 or 0/);
    expect(error.name).toBe('ConfigError');
  });

  it.each(LOG_LEVELS)('REFUNDKIT_LOG_LEVEL=%s', (level) => {
    expect(loadConfig({ HOME, REFUNDKIT_LOG_LEVEL: level }).logLevel).toBe(level);
    expect(loadConfig({ HOME, REFUNDKIT_LOG_LEVEL: level.toUpperCase() }).logLevel).toBe(level);
  });

  it('an unknown log level lists the allowed ones', () => {
    const error = configError({ HOME, REFUNDKIT_LOG_LEVEL: 'verbose' });
    expect(error.message).toContain('REFUNDKIT_LOG_LEVEL');
    for (const level of LOG_LEVELS) expect(error.message).toContain(level);
  });
});

describe('REFUNDKIT_STDIO_MAX_MESSAGE_BYTES', () => {
  it('defaults to 1 MiB and takes a whole number of bytes from 1024 to 10 MiB', () => {
    expect(loadConfig({ HOME }).stdioMaxMessageBytes).toBe(1_048_576);
    expect(loadConfig({ HOME, REFUNDKIT_STDIO_MAX_MESSAGE_BYTES: '65536' }).stdioMaxMessageBytes).toBe(65_536);
    expect(loadConfig({ HOME, REFUNDKIT_STDIO_MAX_MESSAGE_BYTES: '10485760' }).stdioMaxMessageBytes).toBe(10_485_760);
  });

  it.each(['1023', '10485761', '1.5', 'big'])('refuses %j, naming the variable', (raw) => {
    expect(configError({ HOME, REFUNDKIT_STDIO_MAX_MESSAGE_BYTES: raw }).message).toContain('REFUNDKIT_STDIO_MAX_MESSAGE_BYTES');
  });
});

describe('REFUNDKIT_DISPATCH_CONCURRENCY', () => {
  it('defaults to 4 and takes a whole number from 1 to 32', () => {
    expect(loadConfig({ HOME }).dispatchConcurrency).toBe(4);
    expect(loadConfig({ HOME, REFUNDKIT_DISPATCH_CONCURRENCY: '1' }).dispatchConcurrency).toBe(1);
    expect(loadConfig({ HOME, REFUNDKIT_DISPATCH_CONCURRENCY: '32' }).dispatchConcurrency).toBe(32);
  });

  it.each(['0', '33', '2.5', 'many', '-1'])('refuses %j, naming the variable', (raw) => {
    expect(configError({ HOME, REFUNDKIT_DISPATCH_CONCURRENCY: raw }).message).toContain('REFUNDKIT_DISPATCH_CONCURRENCY');
  });
});

describe('REFUNDKIT_REFRESH_AFTER_SECONDS', () => {
  it('defaults to 10; 0 turns the read on request off; a negative or non-number is refused', () => {
    expect(loadConfig({ HOME }).refreshAfterSeconds).toBe(10);
    expect(loadConfig({ HOME, REFUNDKIT_REFRESH_AFTER_SECONDS: '0' }).refreshAfterSeconds).toBe(0);
    expect(loadConfig({ HOME, REFUNDKIT_REFRESH_AFTER_SECONDS: '2.5' }).refreshAfterSeconds).toBe(2.5);
    for (const raw of ['-1', 'soon']) {
      expect(configError({ HOME, REFUNDKIT_REFRESH_AFTER_SECONDS: raw }).message).toContain('REFUNDKIT_REFRESH_AFTER_SECONDS');
    }
  });
});

describe('REFUNDKIT_CALL_DEADLINE_SECONDS', () => {
  it('defaults to 15 and takes 1 to 50 seconds, decimals allowed', () => {
    expect(loadConfig({ HOME }).callDeadlineSeconds).toBe(15);
    expect(loadConfig({ HOME, REFUNDKIT_CALL_DEADLINE_SECONDS: '1' }).callDeadlineSeconds).toBe(1);
    expect(loadConfig({ HOME, REFUNDKIT_CALL_DEADLINE_SECONDS: '7.5' }).callDeadlineSeconds).toBe(7.5);
    expect(loadConfig({ HOME, REFUNDKIT_CALL_DEADLINE_SECONDS: '50' }).callDeadlineSeconds).toBe(50);
  });

  it.each(['0', '0.5', '51', '60', '-1', 'soon'])('refuses %j, saying the range and why', (raw) => {
    const message = configError({ HOME, REFUNDKIT_CALL_DEADLINE_SECONDS: raw }).message;
    expect(message).toBe(
      `REFUNDKIT_CALL_DEADLINE_SECONDS must be a number from 1 to 50, not '${raw}' (MCP clients give up on a call after 60 s by default, and a call must answer well before)`,
    );
  });
});

describe('STRIPE_SECRET_KEY', () => {
  it.each(['sk_test_' + 'a'.repeat(24), 'sk_live_' + 'B1'.repeat(12), 'rk_test_' + 'c'.repeat(24)])('accepts %s', (key) => {
    expect(loadConfig({ HOME, STRIPE_SECRET_KEY: key }).stripe.secretKey).toBe(key);
  });

  it.each([
    'pk_test_FAKEpublishablekey00000000',
    'sk_test_has spaces inside00000',
    'sk_prod_FAKEkey000000000000000',
    'whsec_FAKEwebhooksecret000000000',
    'sk_test_FAKE!@#$000000000000000',
  ])('refuses %s without ever echoing the value', (key) => {
    const error = configError({ HOME, STRIPE_SECRET_KEY: key });
    expect(error.message).toContain('STRIPE_SECRET_KEY');
    expect(error.message).toMatch(/sk_test_/);
    expect(error.message).not.toContain(key);
    expect(error.message).not.toContain(key.slice(8, 20));
    expect(String(error.stack)).not.toContain(key);
  });
});

describe('isolation from process.env', () => {
  const saved = process.env.REFUNDKIT_READ_ONLY;
  afterEach(() => {
    if (saved === undefined) delete process.env.REFUNDKIT_READ_ONLY;
    else process.env.REFUNDKIT_READ_ONLY = saved;
  });

  it('reads only the environment it is given', () => {
    process.env.REFUNDKIT_READ_ONLY = '1';
    expect(loadConfig({ HOME }).readOnly).toBe(false);
  });
});

describe('REFUNDKIT_DATABASE_URL', () => {
  const PASSWORD = 'pw-not-a-secret-42';

  it('unset or blank keeps SQLite; a postgres:// or postgresql:// URL selects PostgreSQL', () => {
    expect(loadConfig({ HOME }).databaseUrl).toBeUndefined();
    expect(loadConfig({ HOME, REFUNDKIT_DATABASE_URL: '  ' }).databaseUrl).toBeUndefined();
    const url = `postgres://rk:${PASSWORD}@db.internal:5432/refundkit`;
    expect(loadConfig({ HOME, REFUNDKIT_DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(loadConfig({ HOME, REFUNDKIT_DATABASE_URL: 'postgresql://db.internal/refundkit' }).databaseUrl).toBe('postgresql://db.internal/refundkit');
  });

  it.each([
    [`mysql://rk:${PASSWORD}@db/refundkit`, /must start with postgres:\/\/ or postgresql:\/\//],
    [`postgres://rk:${PASSWORD}@db.internal:port/refundkit`, /must be a PostgreSQL URL/],
    [`rk:${PASSWORD}@db/refundkit`, /must start with postgres:\/\/ or postgresql:\/\//],
    [`postgres://rk:${PASSWORD}@db.internal:5432`, /names no database/],
    [`postgres://rk:${PASSWORD}@db.internal:5432/`, /names no database/],
  ])('refuses %s with how to write it, never echoing the value', (value, message) => {
    const error = configError({ HOME, REFUNDKIT_DATABASE_URL: value });
    expect(error.message).toMatch(message);
    expect(error.message).toContain('postgres://USER:PASSWORD@HOST:5432/DATABASE');
    expect(error.message).not.toContain(PASSWORD);
  });

  it('databaseLocation names the file, or the URL without its password', () => {
    expect(databaseLocation(loadConfig({ HOME }))).toBe(join(HOME, '.refundkit', 'refundkit.db'));
    const location = databaseLocation(loadConfig({ HOME, REFUNDKIT_DATABASE_URL: `postgres://rk:${PASSWORD}@db.internal:5432/refundkit` }));
    expect(location).toBe('postgres://rk:…[redacted]@db.internal:5432/refundkit');
  });
});
