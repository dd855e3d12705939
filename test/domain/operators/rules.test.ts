import { describe, expect, it } from 'vitest';
import {
  idleExpiryAfterUse,
  isSessionLive,
  newSessionTimes,
  normalizeEmail,
  operatorLabel,
  SESSION_RULES,
  SIGN_IN_LIMITS,
  signInBlocked,
} from '../../../src/domain/operators/rules.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const later = (ms: number): Date => new Date(NOW.getTime() + ms);

describe('session rules', () => {
  it('a new session ends at the idle time unless used, and at the absolute time regardless', () => {
    const times = newSessionTimes(NOW);
    expect(times.idleExpiresAt).toBe(later(SESSION_RULES.idleMs).toISOString());
    expect(times.expiresAt).toBe(later(SESSION_RULES.absoluteMs).toISOString());
    expect(isSessionLive(times, later(SESSION_RULES.idleMs - 1))).toBe(true);
    expect(isSessionLive(times, later(SESSION_RULES.idleMs))).toBe(false);
    const used = { ...times, idleExpiresAt: idleExpiryAfterUse(later(SESSION_RULES.absoluteMs - 1000)) };
    expect(isSessionLive(used, later(SESSION_RULES.absoluteMs - 1))).toBe(true);
    expect(isSessionLive(used, later(SESSION_RULES.absoluteMs))).toBe(false);
  });
});

describe('sign-in limits', () => {
  it('blocks at the per-email or per-address limit, not before', () => {
    expect(signInBlocked({ byEmail: SIGN_IN_LIMITS.perEmail - 1, byAddress: SIGN_IN_LIMITS.perAddress - 1 })).toBe(false);
    expect(signInBlocked({ byEmail: SIGN_IN_LIMITS.perEmail, byAddress: 0 })).toBe(true);
    expect(signInBlocked({ byEmail: 0, byAddress: SIGN_IN_LIMITS.perAddress })).toBe(true);
  });
});

describe('emails', () => {
  it('are trimmed and lowercased; what is not one is null', () => {
    expect(normalizeEmail('  Ana@Example.COM ')).toBe('ana@example.com');
    expect(normalizeEmail('ana')).toBeNull();
    expect(normalizeEmail('a b@example.com')).toBeNull();
    expect(operatorLabel({ email: 'ana@example.com' })).toBe('operator:ana@example.com');
  });
});
