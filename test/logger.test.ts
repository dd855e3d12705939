import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, redact, silentLogger } from '../src/logger.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('redact', () => {
  it.each([
    'rk_live_' + 'AbCdEfGh1234567890abcdefABCDEF12',
    'rk_test_' + 'demoLocalOnlyNotASecret000000000',
    'sk_test_' + '51Hxyz0000FAKEFAKEFAKE',
    'sk_live_' + '51Hxyz0000FAKEFAKEFAKE',
    'rk_live_' + 'restricted_FAKE_0000',
    'whsec_' + 'FAKE+webhook/secret=0000',
  ])('masks %s wherever it appears', (secret) => {
    const line = `key=${secret} and "${secret}", (${secret})`;
    const out = redact(line);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(secret.slice(10));
    expect(out).toContain('[redacted]');
    // The prefix is kept to tell what kind of credential it was, and nothing of the secret itself.
    const kind = /^(?:(?:rk|sk)_(?:live|test)_|whsec_)/.exec(secret)?.[0] ?? '';
    expect(out).toContain(`${kind}…[redacted]`);
  });

  it('leaves ordinary text alone', () => {
    const text = 'refund ref_abc123def456 for org_abc123def456: 2500 usd, rk_live_ prefix docs, sk_test_ (short)';
    expect(redact(text)).toBe(text);
  });

  const KEY = 'rk_live_' + 'AbCdEfGh1234567890abcdefABCDEF12';
  const WHSEC = 'whsec_' + 'FAKEwebhookSecret0000+/=';

  it.each([
    ['after a letter', `x${KEY}`],
    ['after a digit', `/v1/refunds/9${KEY}`],
    ['after an underscore', `api_${KEY}`],
    ['after a percent-encoded space', `/v1/x%20${KEY}`],
    ['after a percent-encoded slash', `/v1/%2F${WHSEC}`],
    ['inside a query name', `?x%3D${KEY}=1`],
    ['in a Host name', `x${KEY}.example:3000`],
    ['split by a percent-escape in its body', `/v1/refunds/${KEY.slice(0, 10)}%${KEY.charCodeAt(10).toString(16)}${KEY.slice(11)}`],
    ['split by a lowercase percent-escape', `/v1/${KEY.slice(0, 12)}%${KEY.charCodeAt(12).toString(16).toLowerCase()}${KEY.slice(13)}`],
    ['with its prefix percent-encoded', `/v1/rk%5Flive%5F${KEY.slice(8)}`],
    ['percent-encoded twice', `/v1/${KEY.slice(0, 9)}%25${KEY.charCodeAt(9).toString(16)}${KEY.slice(10)}`],
    ['every character percent-encoded', `/v1/${KEY.replace(/./g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`],
    ['straight after a webhook secret (one kind does not hide the other)', `${WHSEC.slice(0, 14)}${KEY}`],
  ])('masks a secret %s, whole and tail', (_label, text) => {
    const out = redact(text);
    for (const secret of [KEY, WHSEC]) {
      expect(out).not.toContain(secret.slice(-16));
      expect(out).not.toContain(secret.slice(8, 24));
    }
    expect(out).toMatch(/(rk_live_|whsec_)…\[redacted\]/);
    // Applied twice, it changes nothing more: the masked form is not a secret.
    expect(redact(out)).toBe(out);
  });

  it('keeps the text around a masked secret as it was, escapes included', () => {
    expect(redact(`/v1/x%20${KEY}/y?z=%41`)).toBe('/v1/x%20rk_live_…[redacted]/y?z=%41');
    expect(redact(`/v1/${KEY.slice(0, 10)}%${KEY.charCodeAt(10).toString(16)}${KEY.slice(11)}%2Fnext`)).toBe('/v1/rk_live_…[redacted]%2Fnext');
    expect(redact('100%25 of /v1/refunds?limit=%31%30')).toBe('100%25 of /v1/refunds?limit=%31%30');
  });

  it('masks several secrets in one line', () => {
    const a = 'rk_test_' + 'x'.repeat(32);
    const b = 'sk_test_' + 'y'.repeat(24);
    const out = redact(`${a} ${b}`);
    expect(out).not.toContain(a);
    expect(out).not.toContain(b);
    expect(out.match(/\[redacted\]/g)).toHaveLength(2);
  });
});

describe('createLogger', () => {
  it('writes one line per call through the given writer, redacted, with JSON fields', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line));
    const key = 'rk_live_' + 'Z'.repeat(32);
    logger.info('key used', { key, count: 2 });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info key used /);
    expect(line).not.toContain(key);
    expect(line).toContain('"count":2');
  });

  it('serialises errors by name and message, redacted', () => {
    const lines: string[] = [];
    createLogger('debug', (l) => lines.push(l)).error('failed', {
      error: new TypeError('bad key sk_test_' + 'q'.repeat(20)),
    });
    expect(lines[0]).toContain('"name":"TypeError"');
    expect(lines[0]).toContain('bad key');
    expect(lines[0]).not.toContain('q'.repeat(20));
  });

  it('survives fields that cannot be serialised', () => {
    const lines: string[] = [];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    createLogger('debug', (l) => lines.push(l)).warn('odd', circular);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('warn odd {}');
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ] as const)('level %s writes %j', (level, expected) => {
    const written: string[] = [];
    const logger = createLogger(level, (line) => written.push(line.split(' ')[1]!));
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(written).toEqual(expected);
  });

  it('never touches stdout (and with a writer, not stderr either)', () => {
    const stdout = vi.spyOn(process.stdout, 'write');
    const stderr = vi.spyOn(process.stderr, 'write');
    const log = vi.spyOn(console, 'log');
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line));
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    silentLogger.error('nothing');
    expect(lines).toHaveLength(4);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('defaults to stderr, never stdout', () => {
    const stdout = vi.spyOn(process.stdout, 'write');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    createLogger('info').info('to stderr');
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0]![0])).toContain('info to stderr');
    expect(stdout).not.toHaveBeenCalled();
  });
});

describe('redact: PostgreSQL URLs (REFUNDKIT_DATABASE_URL)', () => {
  const PASSWORD = 'pw-Not-A-Secret_0042';

  it.each([
    `postgres://refundkit:${PASSWORD}@db.internal:5432/refundkit`,
    `postgresql://refundkit:${PASSWORD}@10.0.0.5/refundkit?sslmode=require`,
    `connect failed for postgres://rk:${PASSWORD}@db:5432/x: ECONNREFUSED`,
  ])('masks the password and keeps the rest: %s', (text) => {
    const out = redact(text);
    expect(out).not.toContain(PASSWORD);
    expect(out).toMatch(/postgres(ql)?:\/\/(refundkit|rk):…\[redacted\]@/);
  });

  it('leaves a URL without a password alone', () => {
    const text = 'postgres://refundkit@db.internal:5432/refundkit and postgres://db.internal/refundkit';
    expect(redact(text)).toBe(text);
  });
});
