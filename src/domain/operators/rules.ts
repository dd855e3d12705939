/**
 * The timing rules of operator sign-in: how long a session lives, and how many failed sign-ins
 * are allowed before further attempts wait. One home for each, read by the use cases and the docs.
 */

export const SESSION_RULES = {
  /** A session ends this long after sign-in, however busy. */
  absoluteMs: 12 * 3_600_000,
  /** …or this long after its last use. */
  idleMs: 30 * 60_000,
} as const;

export const SIGN_IN_LIMITS = {
  windowMs: 15 * 60_000,
  /** Failed attempts for one email (from any address) within the window. */
  perEmail: 5,
  /** Failed attempts from one client address (for any email) within the window. */
  perAddress: 20,
} as const;

/**
 * What a failed sign-in is kept and counted by: the email and the client address as typed, cut to
 * what the sign_in_failures columns hold (254 and 64 characters). Recording and counting must cut
 * alike, or an overlong one matches none of its own failures and is never rate-limited.
 */
export function failedSignInKey(email: string, address: string): { email: string; address: string } {
  return { email: email.slice(0, 254), address: address.slice(0, 64) };
}

export interface SessionTimes {
  expiresAt: string;
  idleExpiresAt: string;
}

export function newSessionTimes(now: Date): SessionTimes {
  const expires = now.getTime() + SESSION_RULES.absoluteMs;
  return { expiresAt: new Date(expires).toISOString(), idleExpiresAt: new Date(Math.min(expires, now.getTime() + SESSION_RULES.idleMs)).toISOString() };
}

/** The idle expiry a use at `now` sets. */
export function idleExpiryAfterUse(now: Date): string {
  return new Date(now.getTime() + SESSION_RULES.idleMs).toISOString();
}

export function isSessionLive(session: SessionTimes, now: Date): boolean {
  const t = now.getTime();
  return t < Date.parse(session.expiresAt) && t < Date.parse(session.idleExpiresAt);
}

export function signInBlocked(failures: { byEmail: number; byAddress: number }): boolean {
  return failures.byEmail >= SIGN_IN_LIMITS.perEmail || failures.byAddress >= SIGN_IN_LIMITS.perAddress;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

/** Emails are compared as lowercase; null when it is not one. */
export function normalizeEmail(email: string): string | null {
  const trimmed = email.trim().toLowerCase();
  return EMAIL.test(trimmed) ? trimmed : null;
}

export function operatorLabel(operator: { email: string }): string {
  return `operator:${operator.email}`;
}
