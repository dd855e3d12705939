import { describe, expect, it } from 'vitest';
import {
  generatePassword,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblem,
  SCRYPT_PARAMS,
  verifyPassword,
} from '../../../src/domain/operators/password.js';

describe('operator passwords', () => {
  it('hashes with scrypt, a fresh salt each time, the parameters stored with the hash', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse battery'), hashPassword('correct horse battery')]);
    expect(a).toMatch(new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$${SCRYPT_PARAMS.r}\\$${SCRYPT_PARAMS.p}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
  });

  it('verifies the right password only', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('verifies with the parameters stored, and matches nothing with a malformed hash', async () => {
    const stored = await hashPassword('correct horse battery');
    const weaker = stored.replace(`$${SCRYPT_PARAMS.N}$`, '$1024$');
    expect(await verifyPassword('correct horse battery', weaker)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'plain')).toBe(false);
    expect(await verifyPassword('correct horse battery', stored.slice(0, -2))).toBe(false);
  });

  it('refuses a short or overlong password and generates a long random one', () => {
    expect(passwordProblem('short')).toBe('Password must be at least 12 characters');
    expect(passwordProblem('x'.repeat(201))).toBe('Password must be at most 200 characters');
    expect(passwordProblem('twelve chars')).toBeNull();
    const generated = new Set(Array.from({ length: 50 }, generatePassword));
    expect(generated.size).toBe(50);
    for (const password of generated) expect(password).toMatch(/^[A-Za-z2-9]{20}$/);
  });
});

describe('password length, at its edges', () => {
  it('12 to 200 characters', () => {
    expect(passwordProblem('x'.repeat(PASSWORD_MIN_LENGTH))).toBeNull();
    expect(passwordProblem('x'.repeat(PASSWORD_MIN_LENGTH - 1))).toBe('Password must be at least 12 characters');
    expect(passwordProblem('x'.repeat(PASSWORD_MAX_LENGTH))).toBeNull();
    expect(passwordProblem('x'.repeat(PASSWORD_MAX_LENGTH + 1))).toBe('Password must be at most 200 characters');
  });

  it('a generated password is 20 characters of its alphabet, every time', () => {
    for (let i = 0; i < 200; i += 1) expect(generatePassword()).toMatch(/^[A-HJ-NP-Za-km-z2-9]{20}$/);
  });
});

describe('a stored hash scrypt cannot use', () => {
  it('matches nothing, like any malformed hash, instead of throwing: N not a power of two, N of 1, r of 0', async () => {
    const stored = await hashPassword('correct horse battery');
    for (const params of ['$3$8$1$', '$1$8$1$', '$32768$0$1$']) {
      const broken = stored.replace(`$${SCRYPT_PARAMS.N}$${SCRYPT_PARAMS.r}$${SCRYPT_PARAMS.p}$`, params);
      expect(broken, params).not.toBe(stored);
      expect(await verifyPassword('correct horse battery', broken), params).toBe(false);
    }
  });
});
