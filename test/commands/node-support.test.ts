import { describe, expect, it } from 'vitest';
import { main } from '../../src/commands/main.js';
import { unsupportedNodeWarning } from '../../src/commands/node-support.js';

describe('unsupportedNodeWarning', () => {
  it('is silent on the releases package.json engines allows', () => {
    for (const version of ['v20.9.0', 'v20.20.2', 'v22.0.0', 'v22.23.2', 'v24.0.0', 'v24.18.1']) {
      expect(unsupportedNodeWarning(version)).toBeUndefined();
    }
  });

  it('names the SQLite driver abort on Node 24.19 and later', () => {
    expect(unsupportedNodeWarning('v24.19.0')).toMatch(/aborts under better-sqlite3 12.*Node\.js 22, or 24 up to 24\.18/);
    expect(unsupportedNodeWarning('v24.21.0')).toMatch(/aborts/);
  });

  it('calls odd and later majors unsupported', () => {
    for (const version of ['v18.20.0', 'v21.7.0', 'v23.1.0', 'v25.0.0']) expect(unsupportedNodeWarning(version)).toMatch(/not a supported release/);
  });

  it('is written once on stderr by the CLI, and the command still runs', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };
    expect(await main(['--version'], {}, io, 'v24.20.0')).toBe(0);
    expect(err).toEqual([expect.stringMatching(/^refundkit-mcp: warning: Node\.js v24\.20\.0 aborts/)]);
    expect(out.length).toBe(1);
    err.length = 0;
    expect(await main(['--version'], {}, io, 'v20.20.2')).toBe(0);
    expect(err).toEqual([]);
  });
});
