/**
 * The OperatorStore contract: operators, sessions (by id hash, with both expiries), failed
 * sign-ins and operator actions, told through the port alone. Run by each adapter's test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OperatorStore, OrganizationStore } from '../../../src/domain/ports.js';
import type { StoreHarness } from './harness.js';

export type OperatorStoreFactory = () => Promise<StoreHarness & { operators: OperatorStore; anotherOperators(): Promise<OperatorStore> }>;

const HASH = 'scrypt$32768$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
const T0 = '2026-03-01T12:00:00.000Z';
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

export function operatorStoreContract(factory: OperatorStoreFactory): void {
  describe('OperatorStore contract', () => {
    let stores: Awaited<ReturnType<OperatorStoreFactory>>;
    let operators: OperatorStore;
    let organizations: OrganizationStore;
    let orgId: string;
    beforeEach(async () => {
      stores = await factory();
      operators = stores.operators;
      organizations = stores.organizations;
      orgId = (await organizations.create('Acme')).id;
    });
    afterEach(() => stores.close());

    const ana = (overrides: Partial<{ id: string; email: string; organizationId: string }> = {}) => ({
      id: 'op_aaaaaaaaaaaa',
      organizationId: orgId,
      email: 'ana@example.com',
      name: 'Ana',
      passwordHash: HASH,
      at: T0,
      ...overrides,
    });

    it('creates an operator, finds its credentials by email, lists it', async () => {
      const created = await operators.createOperator(ana());
      expect(created).toEqual({ id: 'op_aaaaaaaaaaaa', organizationId: orgId, email: 'ana@example.com', name: 'Ana', createdAt: T0, disabledAt: null });
      expect(await operators.credentials('ana@example.com')).toEqual({ operator: created, passwordHash: HASH });
      expect(await operators.credentials('bo@example.com')).toBeNull();
      expect(await operators.listOperators(orgId)).toEqual([created]);
      expect(await operators.listOperators('org_nosuchorgxxx')).toEqual([]);
    });

    it('refuses a second operator with the same email, in any organization, and an unknown organization', async () => {
      await operators.createOperator(ana());
      const other = (await organizations.create('Other')).id;
      await expect(operators.createOperator(ana({ id: 'op_bbbbbbbbbbbb', organizationId: other }))).rejects.toThrow();
      await expect(operators.createOperator(ana({ id: 'op_cccccccccccc', email: 'c@example.com', organizationId: 'org_nosuchorgxxx' }))).rejects.toThrow();
      expect(await operators.listOperators()).toHaveLength(1);
    });

    it('a session is found by its id hash while both expiries are ahead, and moves its idle expiry', async () => {
      const op = await operators.createOperator(ana());
      await operators.createSession({ idHash: 'a'.repeat(64), operatorId: op.id, csrfToken: 't'.repeat(43), createdAt: T0, expiresAt: at(720), idleExpiresAt: at(30) });
      const used = await operators.useSession('a'.repeat(64), at(20), at(50));
      expect(used).toEqual({ operator: op, csrfToken: 't'.repeat(43), createdAt: T0, expiresAt: at(720), idleExpiresAt: at(50) });
      // Idle past the moved expiry: gone.
      expect(await operators.useSession('a'.repeat(64), at(50), at(80))).toBeNull();
      expect(await operators.useSession('b'.repeat(64), at(21), at(51))).toBeNull();
    });

    it('never moves the idle expiry past the absolute one, and ends at the absolute one', async () => {
      const op = await operators.createOperator(ana());
      await operators.createSession({ idHash: 'a'.repeat(64), operatorId: op.id, csrfToken: 't'.repeat(43), createdAt: T0, expiresAt: at(60), idleExpiresAt: at(30) });
      expect((await operators.useSession('a'.repeat(64), at(29), at(59)))?.idleExpiresAt).toBe(at(59));
      expect((await operators.useSession('a'.repeat(64), at(58), at(88)))?.idleExpiresAt).toBe(at(60));
      expect(await operators.useSession('a'.repeat(64), at(60), at(90))).toBeNull();
    });

    it('sign-out deletes the session; disabling the operator ends all of its sessions, seen by another connection', async () => {
      const op = await operators.createOperator(ana());
      const session = (h: string) => ({ idHash: h.repeat(64), operatorId: op.id, csrfToken: 't'.repeat(43), createdAt: T0, expiresAt: at(720), idleExpiresAt: at(30) });
      await operators.createSession(session('a'));
      await operators.createSession(session('b'));
      await operators.createSession(session('c'));
      expect(await operators.deleteSession('a'.repeat(64))).toBe(true);
      expect(await operators.deleteSession('a'.repeat(64))).toBe(false);
      expect(await operators.useSession('a'.repeat(64), at(1), at(31))).toBeNull();
      const other = await stores.anotherOperators();
      expect(await other.disableOperator(op.id, at(2))).toBe(true);
      expect(await other.disableOperator(op.id, at(3))).toBe(false);
      expect(await operators.useSession('b'.repeat(64), at(4), at(34))).toBeNull();
      expect((await operators.credentials('ana@example.com'))?.operator.disabledAt).toBe(at(2));
    });

    it('counts failed sign-ins per email and per address since a moment, and prunes old ones', async () => {
      await operators.recordFailedSignIn('ana@example.com', '10.0.0.1', at(0));
      await operators.recordFailedSignIn('ana@example.com', '10.0.0.2', at(5));
      await operators.recordFailedSignIn('bo@example.com', '10.0.0.1', at(6));
      expect(await operators.failedSignIns('ana@example.com', '10.0.0.1', at(0))).toEqual({ byEmail: 2, byAddress: 2 });
      expect(await operators.failedSignIns('ana@example.com', '10.0.0.1', at(1))).toEqual({ byEmail: 1, byAddress: 1 });
      expect(await (await stores.anotherOperators()).failedSignIns('bo@example.com', '10.0.0.9', at(0))).toEqual({ byEmail: 1, byAddress: 0 });
      expect(await operators.prune(at(10), at(5))).toBe(1);
      expect(await operators.failedSignIns('ana@example.com', '10.0.0.1', at(0))).toEqual({ byEmail: 1, byAddress: 1 });
    });

    it('keeps operator actions, newest first, per organization', async () => {
      await operators.recordAction({ organizationId: orgId, actor: 'operator:ana@example.com', action: 'key_created', subject: 'key_aaaaaaaaaaaa', at: at(1) });
      await operators.recordAction({ organizationId: orgId, actor: 'operator:ana@example.com', action: 'key_revoked', subject: 'key_aaaaaaaaaaaa', at: at(2) });
      expect((await operators.listActions(orgId, 10)).map((a) => a.action)).toEqual(['key_revoked', 'key_created']);
      expect(await operators.listActions((await organizations.create('Other')).id, 10)).toEqual([]);
    });

    it('disabling an operator deletes its sessions, and only its own', async () => {
      const op = await operators.createOperator(ana());
      const bo = await operators.createOperator(ana({ id: 'op_bbbbbbbbbbbb', email: 'bo@example.com' }));
      const session = (h: string, operatorId: string) => ({ idHash: h.repeat(64), operatorId, csrfToken: 't'.repeat(43), createdAt: T0, expiresAt: at(720), idleExpiresAt: at(30) });
      await operators.createSession(session('a', op.id));
      await operators.createSession(session('b', op.id));
      await operators.createSession(session('c', bo.id));
      expect(await operators.disableOperator(op.id, at(1))).toBe(true);
      expect(await operators.deleteSession('a'.repeat(64))).toBe(false);
      expect(await operators.deleteSession('b'.repeat(64))).toBe(false);
      expect((await operators.useSession('c'.repeat(64), at(2), at(32)))?.operator).toEqual(bo);
    });

    it('prune deletes sessions past either expiry and failures older than the window, and counts both', async () => {
      const op = await operators.createOperator(ana());
      const session = (h: string, expiresAt: string, idleExpiresAt: string) => ({ idHash: h.repeat(64), operatorId: op.id, csrfToken: 't'.repeat(43), createdAt: T0, expiresAt, idleExpiresAt });
      await operators.createSession(session('a', at(60), at(10)));
      await operators.createSession(session('b', at(10), at(10)));
      await operators.createSession(session('c', at(720), at(30)));
      await operators.recordFailedSignIn('ana@example.com', '10.0.0.1', at(0));
      await operators.recordFailedSignIn('ana@example.com', '10.0.0.1', at(8));
      expect(await operators.prune(at(10), at(5))).toBe(3);
      expect(await operators.deleteSession('a'.repeat(64))).toBe(false);
      expect(await operators.deleteSession('b'.repeat(64))).toBe(false);
      expect((await operators.useSession('c'.repeat(64), at(11), at(41)))?.idleExpiresAt).toBe(at(41));
      expect(await operators.failedSignIns('ana@example.com', '10.0.0.1', at(0))).toEqual({ byEmail: 1, byAddress: 1 });
      expect(await operators.prune(at(10), at(5))).toBe(0);
    });

    it('counts failed sign-ins of an overlong email or address as it keeps them: cut to 254 and 64 characters', async () => {
      const email = `${'a'.repeat(300)}@example.com`;
      const address = `fe80::1%${'x'.repeat(80)}`;
      await operators.recordFailedSignIn(email, address, at(0));
      await operators.recordFailedSignIn(email, address, at(1));
      expect(await operators.failedSignIns(email, address, at(0))).toEqual({ byEmail: 2, byAddress: 2 });
      // What lies past the limits is not kept, so varying it does not dodge the count either.
      expect(await operators.failedSignIns(`${email}.org`, `${address}y`, at(0))).toEqual({ byEmail: 2, byAddress: 2 });
      expect(await operators.failedSignIns('a'.repeat(253), address.slice(0, 63), at(0))).toEqual({ byEmail: 0, byAddress: 0 });
    });
  });
}
