/**
 * Sign-in as a use case, on a real SQLite store and a clock moved by hand: sessions and their two
 * expiries, sign-out, disabled operators, and the rate limit (per email, per address, shared by
 * another process on the same file).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../../src/app.js';
import { OperatorAuth, sessionIdHash } from '../../../src/domain/operators/auth.js';
import { SESSION_RULES, SIGN_IN_LIMITS } from '../../../src/domain/operators/rules.js';
import { SqliteOperatorStore } from '../../../src/store/sqlite/operator-store.js';
import { openDatabase } from '../../../src/store/sqlite/database.js';
import { cleanupAll, createOrg, createTestApp, FakeClock } from '../../support/fixtures.js';

const PASSWORD = 'a long enough password';
let app: SqliteApp;
let clock: FakeClock;
let auth: OperatorAuth;

beforeEach(async () => {
  clock = new FakeClock();
  app = createTestApp({}, { clock });
  auth = app.operatorAuth;
  await auth.createOperator(createOrg(app).id, 'Ana@Example.com', 'Ana', PASSWORD);
});
afterEach(() => cleanupAll());

describe('operators', () => {
  it('are created with a normalized email, and a bad email, name or password is refused', async () => {
    const org = createOrg(app, 'Other').id;
    expect((await app.operators.credentials('ana@example.com'))?.operator.email).toBe('ana@example.com');
    await expect(auth.createOperator(org, 'ana@example.com', 'Again', PASSWORD)).rejects.toThrow('An operator with email ana@example.com already exists');
    await expect(auth.createOperator(org, 'not an email', 'X', PASSWORD)).rejects.toThrow('email must be an email address');
    await expect(auth.createOperator(org, 'x@example.com', '  ', PASSWORD)).rejects.toThrow('name must be 1 to 200 characters');
    await expect(auth.createOperator(org, 'x@example.com', 'X', 'short')).rejects.toThrow('at least 12 characters');
    expect(await auth.listOperators(org)).toEqual([]);
  });

  it('takes a name of 200 characters (trimmed), not 201', async () => {
    const org = createOrg(app, 'Names').id;
    await expect(auth.createOperator(org, 'long@example.com', 'n'.repeat(201), PASSWORD)).rejects.toThrow('name must be 1 to 200 characters');
    const made = await auth.createOperator(org, 'long@example.com', ` ${'n'.repeat(200)} `, PASSWORD);
    expect(made.name).toBe('n'.repeat(200));
  });
});

describe('sign-in', () => {
  it('opens a session whose id is stored only as a hash', async () => {
    const result = await auth.signIn('ANA@example.com ', PASSWORD, '10.0.0.1');
    if (!result.ok) throw new Error('expected a session');
    expect(result.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.session.operator.email).toBe('ana@example.com');
    const rows = app.db.prepare('SELECT id_hash FROM operator_sessions').all() as Array<{ id_hash: string }>;
    expect(rows).toEqual([{ id_hash: sessionIdHash(result.sessionId) }]);
    expect(JSON.stringify(rows)).not.toContain(result.sessionId);
    expect((await auth.session(result.sessionId))?.operator.email).toBe('ana@example.com');
  });

  it('refuses a wrong password, an unknown email and a disabled operator with one answer', async () => {
    expect(await auth.signIn('ana@example.com', 'wrong password!', '10.0.0.1')).toEqual({ ok: false, reason: 'invalid' });
    expect(await auth.signIn('nobody@example.com', PASSWORD, '10.0.0.1')).toEqual({ ok: false, reason: 'invalid' });
    const [operator] = await auth.listOperators();
    const open = await auth.signIn('ana@example.com', PASSWORD, '10.0.0.1');
    expect(await auth.disableOperator(operator?.id ?? '')).toBe(true);
    expect(await auth.signIn('ana@example.com', PASSWORD, '10.0.0.1')).toEqual({ ok: false, reason: 'invalid' });
    expect(open.ok && (await auth.session(open.sessionId))).toBeNull();
  });

  it('a session ends after the idle time without use, and at the absolute expiry however busy', async () => {
    const idle = await auth.signIn('ana@example.com', PASSWORD, '10.0.0.1');
    if (!idle.ok) throw new Error('expected a session');
    clock.advance(SESSION_RULES.idleMs - 1000);
    expect(await auth.session(idle.sessionId)).not.toBeNull();
    clock.advance(SESSION_RULES.idleMs - 1000);
    expect(await auth.session(idle.sessionId)).not.toBeNull();
    clock.advance(SESSION_RULES.idleMs);
    expect(await auth.session(idle.sessionId)).toBeNull();

    const busy = await auth.signIn('ana@example.com', PASSWORD, '10.0.0.1');
    if (!busy.ok) throw new Error('expected a session');
    for (let t = 0; t < SESSION_RULES.absoluteMs - 60_000; t += SESSION_RULES.idleMs / 2) {
      expect(await auth.session(busy.sessionId)).not.toBeNull();
      clock.advance(SESSION_RULES.idleMs / 2);
    }
    clock.advance(60_000);
    expect(await auth.session(busy.sessionId)).toBeNull();
  });

  it('sign-out deletes the session', async () => {
    const result = await auth.signIn('ana@example.com', PASSWORD, '10.0.0.1');
    if (!result.ok) throw new Error('expected a session');
    await auth.signOut(result.sessionId);
    expect(await auth.session(result.sessionId)).toBeNull();
    expect(app.db.prepare('SELECT count(*) AS n FROM operator_sessions').get()).toEqual({ n: 0 });
  });

  it('after the failures allowed for an email, even the right password waits until the window passes', async () => {
    for (let i = 0; i < SIGN_IN_LIMITS.perEmail; i += 1) expect((await auth.signIn('ana@example.com', 'wrong password!', `10.0.0.${i}`)).ok).toBe(false);
    expect(await auth.signIn('ana@example.com', PASSWORD, '10.0.0.99')).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: SIGN_IN_LIMITS.windowMs / 1000 });
    // Another process on the same file counts the same failures.
    const connection = openDatabase(app.config.dbPath);
    const other = new OperatorAuth(new SqliteOperatorStore(connection), clock);
    expect((await other.signIn('ana@example.com', PASSWORD, '10.0.0.98')).ok).toBe(false);
    connection.close();
    clock.advance(SIGN_IN_LIMITS.windowMs + 1);
    expect((await auth.signIn('ana@example.com', PASSWORD, '10.0.0.99')).ok).toBe(true);
  });

  it('after the failures allowed from one address, any email from it waits', async () => {
    for (let i = 0; i < SIGN_IN_LIMITS.perAddress; i += 1) await auth.signIn(`guess${i}@example.com`, 'wrong password!', '10.9.9.9');
    expect((await auth.signIn('ana@example.com', PASSWORD, '10.9.9.9')).ok).toBe(false);
    expect((await auth.signIn('ana@example.com', PASSWORD, '10.0.0.1')).ok).toBe(true);
  });

  it('an email that is not one is still counted as typed, trimmed, any case, cut at 254: after the failures allowed, it waits', async () => {
    // No operator can have such an email; the answer must still be the same as for any unknown
    // email (never an error), and its failures must add up like any other email's.
    const typed = `Not-An-Email-${'x'.repeat(300)}`;
    for (let i = 0; i < SIGN_IN_LIMITS.perEmail; i += 1) {
      const variant = i % 2 === 0 ? typed : `  ${typed.toUpperCase()} `;
      expect(await auth.signIn(variant, 'wrong password!', `10.1.0.${i}`)).toEqual({ ok: false, reason: 'invalid' });
    }
    expect(await auth.signIn(typed, 'wrong password!', '10.1.0.99')).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: SIGN_IN_LIMITS.windowMs / 1000 });
  });

  it("a string that is not an email never signs in as the operator whose email begins it, even past 254 characters", async () => {
    // 64 + 1 + 189 = 254 characters, the longest an operator's email is kept whole.
    const email = `${'a'.repeat(64)}@${'d'.repeat(185)}.com`;
    await auth.createOperator(createOrg(app, 'Long').id, email, 'Long', PASSWORD);
    expect((await auth.signIn(email, PASSWORD, '10.3.0.1')).ok).toBe(true);
    // Two more characters make the domain 191 long: no longer an email. Cut at 254 for the lookup,
    // it used to be the operator's email again, and the right password opened their session.
    expect(await auth.signIn(`${email}xx`, PASSWORD, '10.3.0.2')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('pruning forgets failures only once they leave the window: before that, the limit still holds', async () => {
    for (let i = 0; i < SIGN_IN_LIMITS.perEmail; i += 1) await auth.signIn('ana@example.com', 'wrong password!', `10.2.0.${i}`);
    clock.advance(SIGN_IN_LIMITS.windowMs - 1);
    expect(await auth.prune()).toBe(0);
    expect(await auth.signIn('ana@example.com', PASSWORD, '10.2.0.99')).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: SIGN_IN_LIMITS.windowMs / 1000 });
    clock.advance(2);
    expect(await auth.prune()).toBe(SIGN_IN_LIMITS.perEmail);
    expect(app.db.prepare('SELECT count(*) AS n FROM sign_in_failures').get()).toEqual({ n: 0 });
    expect((await auth.signIn('ana@example.com', PASSWORD, '10.2.0.99')).ok).toBe(true);
  });
});
