/**
 * Operators and their sessions, as use cases: create one (CLI), sign in (rate-limited, every
 * failure the same answer), read a session (sliding idle expiry), sign out. A session id is 256
 * random bits given to the browser once; the store keeps only its SHA-256, so a copy of the
 * database opens no session.
 */
import { createHash, randomBytes } from 'node:crypto';
import { errors } from '../errors.js';
import { newOperatorId } from '../ids.js';
import type { Clock, Operator, OperatorSession, OperatorStore } from '../ports.js';
import { hashPassword, passwordProblem, verifyPassword } from './password.js';
import { idleExpiryAfterUse, newSessionTimes, normalizeEmail, SIGN_IN_LIMITS, signInBlocked } from './rules.js';

export type SignInResult =
  | { ok: true; sessionId: string; session: OperatorSession }
  /** Wrong email or password, or a disabled operator: one answer, so nothing is learnt about accounts. */
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

export function sessionIdHash(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

const NAME_MAX = 200;

/** Verified against when the email is unknown, so that a miss takes as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

export class OperatorAuth {
  constructor(
    private readonly store: OperatorStore,
    private readonly clock: Clock,
  ) {}

  async createOperator(organizationId: string, email: string, name: string, password: string): Promise<Operator> {
    const normalized = normalizeEmail(email);
    if (normalized === null) throw errors.validation('email must be an email address');
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > NAME_MAX) throw errors.validation(`name must be 1 to ${NAME_MAX} characters`);
    const problem = passwordProblem(password);
    if (problem !== null) throw errors.validation(problem);
    if ((await this.store.credentials(normalized)) !== null) throw errors.validation(`An operator with email ${normalized} already exists`);
    return this.store.createOperator({
      id: newOperatorId(),
      organizationId,
      email: normalized,
      name: trimmed,
      passwordHash: await hashPassword(password),
      at: this.clock.now().toISOString(),
    });
  }

  listOperators(organizationId?: string): Promise<Operator[]> {
    return this.store.listOperators(organizationId);
  }

  disableOperator(operatorId: string): Promise<boolean> {
    return this.store.disableOperator(operatorId, this.clock.now().toISOString());
  }

  /**
   * Checks the rate limit first (failures of this email, and from this address, in the window),
   * then the password; a failure is recorded in the store, so restarts and other processes count it.
   */
  async signIn(email: string, password: string, address: string): Promise<SignInResult> {
    const now = this.clock.now();
    // Not an email: counted as typed. Never cut here: a cut string could be an operator's email
    // (the stores cut what they keep of a failure, and count the same way).
    const normalized = normalizeEmail(email) ?? email.trim().toLowerCase();
    const since = new Date(now.getTime() - SIGN_IN_LIMITS.windowMs).toISOString();
    if (signInBlocked(await this.store.failedSignIns(normalized, address, since))) {
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: SIGN_IN_LIMITS.windowMs / 1000 };
    }
    const found = await this.store.credentials(normalized);
    decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const matches = await verifyPassword(password, found?.passwordHash ?? (await decoyHash));
    if (found === null || !matches || found.operator.disabledAt !== null) {
      await this.store.recordFailedSignIn(normalized, address, now.toISOString());
      return { ok: false, reason: 'invalid' };
    }
    const sessionId = randomBytes(32).toString('base64url');
    const times = newSessionTimes(now);
    const csrfToken = randomBytes(32).toString('base64url');
    await this.store.createSession({ idHash: sessionIdHash(sessionId), operatorId: found.operator.id, csrfToken, createdAt: now.toISOString(), ...times });
    return { ok: true, sessionId, session: { operator: found.operator, csrfToken, createdAt: now.toISOString(), ...times } };
  }

  /** The live session this id opens, its idle expiry moved forward; null when none. */
  session(sessionId: string): Promise<OperatorSession | null> {
    const now = this.clock.now();
    return this.store.useSession(sessionIdHash(sessionId), now.toISOString(), idleExpiryAfterUse(now));
  }

  async signOut(sessionId: string): Promise<void> {
    await this.store.deleteSession(sessionIdHash(sessionId));
  }

  prune(): Promise<number> {
    const now = this.clock.now();
    return this.store.prune(now.toISOString(), new Date(now.getTime() - SIGN_IN_LIMITS.windowMs).toISOString());
  }
}
