/**
 * Operator passwords where node:crypto decides: what a generated password's characters are worth
 * (uniformity, and the rare draw that runs out of usable bytes), and what a failure of scrypt
 * itself does. node:crypto is wrapped so that one call can be scripted; every other call is real.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from '../../../src/domain/operators/password.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, randomBytes: vi.fn(actual.randomBytes), scrypt: vi.fn(actual.scrypt) };
});

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

describe('generated passwords', () => {
  it('use every character of the alphabet equally often (chi-square over a million characters)', () => {
    const counts = new Map<string, number>(Array.from(ALPHABET, (c) => [c, 0]));
    const passwords = 50_000;
    for (let i = 0; i < passwords; i += 1) {
      for (const c of generatePassword()) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].join('')).toBe(ALPHABET);
    const expected = (passwords * 20) / ALPHABET.length;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // 56 degrees of freedom: a uniform source exceeds 200 with probability 4.7e-18, so this test
    // does not fail by chance. Keeping the 28 bytes above 227 (256 % 57) that rejection sampling
    // drops would give about 12,400; keeping only byte 228 (one character 25 % more likely)
    // about 1,100.
    expect(chiSquare).toBeLessThan(200);
  });

  it('draw again when 40 random bytes give fewer than 20 usable ones, keeping those they gave', () => {
    const usable = Buffer.from([...Array.from({ length: 10 }, (_, i) => i), ...Array.from<number>({ length: 30 }).fill(255)]);
    vi.mocked(randomBytes).mockImplementationOnce(((size: number) => (size === 40 ? usable : Buffer.alloc(size))));
    expect(generatePassword()).toMatch(/^ABCDEFGHJK[A-HJ-NP-Za-km-z2-9]{10}$/);
  });
});

describe('a failure of scrypt itself (it calls back with an error, e.g. when it cannot allocate)', () => {
  function failNextScrypt(): void {
    vi.mocked(scrypt).mockImplementationOnce(((...args: unknown[]) => {
      const callback = args.at(-1);
      if (typeof callback === 'function') Reflect.apply(callback, undefined, [new Error('digital envelope routines::malloc failure')]);
    }));
  }

  it('verifying: the password matches nothing', async () => {
    const stored = await hashPassword('correct horse battery');
    failNextScrypt();
    expect(await verifyPassword('correct horse battery', stored)).toBe(false);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
  });

  it('hashing: the error is thrown, not a hash of nothing', async () => {
    failNextScrypt();
    await expect(hashPassword('correct horse battery')).rejects.toThrow('digital envelope routines::malloc failure');
  });
});
