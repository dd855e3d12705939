/**
 * When the PostgreSQL suites run: always where there is a server; without one, a local run skips
 * them (with the reason), and CI fails them, never skips.
 */
import { describe, expect, it } from 'vitest';
import { postgresSuiteMode } from './postgres.js';

describe('postgresSuiteMode', () => {
  it.each([
    ['postgres://u:p@127.0.0.1:5432/postgres', undefined, 'run'],
    ['postgres://u:p@127.0.0.1:5432/postgres', '1', 'run'],
    [null, '1', 'fail'],
    [null, 'true', 'fail'],
    [null, undefined, 'skip'],
    [null, '', 'skip'],
  ] as const)('server %s, CI=%s: %s', (url, ci, mode) => {
    expect(postgresSuiteMode(url, ci)).toBe(mode);
  });
});
