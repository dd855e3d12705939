/**
 * The OrganizationStore and ApiKeyStore contracts: what any adapter must do, told through the
 * ports alone. Run by each adapter's test files with its own factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_PATTERN } from '../../../src/domain/ids.js';
import type { ApiKeyStore, OrganizationStore } from '../../../src/domain/ports.js';
import type { StoreFactory, StoreHarness } from './harness.js';

export function organizationStoreContract(factory: StoreFactory): void {
  describe('OrganizationStore contract', () => {
    let stores: StoreHarness;
    let organizations: OrganizationStore;
    beforeEach(async () => {
      stores = await factory();
      organizations = stores.organizations;
    });
    afterEach(() => stores.close());

    it('creates an organization with a generated id and finds it', async () => {
      const org = await organizations.create('Acme');
      expect(org.id).toMatch(/^org_[a-z0-9]{12}$/);
      expect(org.name).toBe('Acme');
      expect(Number.isNaN(Date.parse(org.createdAt))).toBe(false);
      expect(await organizations.findById(org.id)).toEqual(org);
    });

    it('accepts a chosen id and time', async () => {
      const org = await organizations.create('Demo', { id: 'org_demo00000000', at: '2026-01-01T00:00:00.000Z' });
      expect(await organizations.findById('org_demo00000000')).toEqual({
        id: 'org_demo00000000',
        name: 'Demo',
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      expect(org.id).toBe('org_demo00000000');
    });

    it('an unknown id is null', async () => {
      expect(await organizations.findById('org_nosuchorgxxx')).toBeNull();
    });

    it('lists organizations oldest first', async () => {
      const b = await organizations.create('B', { at: '2026-01-02T00:00:00.000Z' });
      const a = await organizations.create('A', { at: '2026-01-01T00:00:00.000Z' });
      expect(await organizations.list()).toEqual([a, b]);
    });

    it('refuses a duplicate id, a malformed id and an empty or overlong name', async () => {
      await organizations.create('One', { id: 'org_aaaaaaaaaaaa' });
      await expect(organizations.create('Two', { id: 'org_aaaaaaaaaaaa' })).rejects.toThrow();
      await expect(organizations.create('Bad', { id: 'org_SHOUTING0000' })).rejects.toThrow();
      await expect(organizations.create('Bad', { id: 'acme' })).rejects.toThrow();
      await expect(organizations.create('')).rejects.toThrow();
      await expect(organizations.create('x'.repeat(201))).rejects.toThrow();
      expect(await organizations.list()).toHaveLength(1);
    });
  });
}

export function apiKeyStoreContract(factory: StoreFactory): void {
  describe('ApiKeyStore contract', () => {
    let stores: StoreHarness;
    let apiKeys: ApiKeyStore;
    let org: string;
    beforeEach(async () => {
      stores = await factory();
      apiKeys = stores.apiKeys;
      org = (await stores.organizations.create('Org')).id;
    });
    afterEach(() => stores.close());

    describe('create', () => {
      it.each(['live', 'test'] as const)('makes a %s key in the documented format, shown once', async (mode) => {
        const { key, record } = await apiKeys.create(org, mode);
        expect(key).toMatch(new RegExp(`^rk_${mode}_[A-Za-z0-9]{32}$`));
        expect(API_KEY_PATTERN.test(key)).toBe(true);
        expect(record).toMatchObject({ organizationId: org, mode, revokedAt: null });
        expect(record.id).toMatch(/^key_[a-z0-9]{12}$/);
        expect(record.displayPrefix).toBe(key.slice(0, record.displayPrefix.length));
        expect(record.displayPrefix.length).toBeLessThanOrEqual(12);
      });

      it('a new key gets read and write unless told its scopes, kept in the canonical order', async () => {
        expect((await apiKeys.create(org, 'test')).record.scopes).toEqual(['read', 'write']);
        const { key, record } = await apiKeys.create(org, 'test', { scopes: ['approve', 'read', 'approve'] });
        expect(record.scopes).toEqual(['read', 'approve']);
        expect(await apiKeys.findById(record.id)).toEqual(record);
        expect((await apiKeys.authenticate(key))?.scopes).toEqual(['read', 'approve']);
      });

      it('keeps the name it is given, and null for a key made without one', async () => {
        const { record } = await apiKeys.create(org, 'test', { name: 'Support agent <b>&' });
        expect(record.name).toBe('Support agent <b>&');
        expect(await apiKeys.findById(record.id)).toEqual(record);
        // 100 characters, each two bytes in UTF-8 and one UTF-16 unit: the limit counts characters.
        const long = (await apiKeys.create(org, 'test', { name: 'é'.repeat(100) })).record;
        const emoji = (await apiKeys.create(org, 'test', { name: '🤖'.repeat(100) })).record;
        const unnamed = (await apiKeys.create(org, 'test')).record;
        expect(unnamed.name).toBeNull();
        expect((await apiKeys.listForOrganization(org)).map((key) => key.name)).toEqual(
          expect.arrayContaining(['Support agent <b>&', 'é'.repeat(100), '🤖'.repeat(100), null]),
        );
        expect(await apiKeys.findById(long.id)).toEqual(long);
        expect(await apiKeys.findById(emoji.id)).toEqual(emoji);
      });

      it.each(['', ' padded', 'padded ', 'x'.repeat(101), 'tab\there', 'new\nline', 'bell\u0007', 'del\u007f'])(
        'refuses the name %j and keeps nothing',
        async (name) => {
          await expect(apiKeys.create(org, 'test', { name })).rejects.toThrow();
          expect(await apiKeys.listForOrganization(org)).toEqual([]);
        },
      );

      it('two keys are different', async () => {
        const a = (await apiKeys.create(org, 'test')).key;
        const b = (await apiKeys.create(org, 'test')).key;
        expect(a).not.toBe(b);
      });

      it('refuses a key for an organization that does not exist, and the same key twice', async () => {
        await expect(apiKeys.create('org_nosuchorgxxx', 'live')).rejects.toThrow();
        const secret = `rk_test_${'q'.repeat(32)}`;
        await apiKeys.create(org, 'test', { secret });
        await expect(apiKeys.create(org, 'test', { secret })).rejects.toThrow();
      });
    });

    describe('authenticate', () => {
      it('returns the organization of a live key', async () => {
        const { key, record } = await apiKeys.create(org, 'live');
        expect(await apiKeys.authenticate(key)).toEqual({ organizationId: org, keyId: record.id, scopes: ['read', 'write'] });
      });

      it('keys of two organizations authenticate to their own organization', async () => {
        const other = (await stores.organizations.create('Other')).id;
        const mine = (await apiKeys.create(org, 'test')).key;
        const theirs = (await apiKeys.create(other, 'test')).key;
        expect((await apiKeys.authenticate(mine))?.organizationId).toBe(org);
        expect((await apiKeys.authenticate(theirs))?.organizationId).toBe(other);
      });

      it('an unknown well-formed key is null', async () => {
        await apiKeys.create(org, 'live');
        expect(await apiKeys.authenticate(`rk_live_${'A'.repeat(32)}`)).toBeNull();
      });

      it('a key that differs by one character is null', async () => {
        const { key } = await apiKeys.create(org, 'live');
        const last = key.at(-1) === 'a' ? 'b' : 'a';
        expect(await apiKeys.authenticate(key.slice(0, -1) + last)).toBeNull();
      });

      it.each(['', 'rk_live_', 'rk_live_short', 'sk_live_' + 'a'.repeat(32), 'rk_prod_' + 'a'.repeat(32), 'rk_live_' + 'a'.repeat(31) + '!'])(
        'a malformed key %j is null',
        async (key) => {
          expect(await apiKeys.authenticate(key)).toBeNull();
        },
      );

      it('a malformed key is refused even when its hash is stored (e.g. via the secret option)', async () => {
        await apiKeys.create(org, 'test', { secret: 'not-a-key' });
        expect(await apiKeys.authenticate('not-a-key')).toBeNull();
      });

      it('the key with surrounding whitespace is refused', async () => {
        const { key } = await apiKeys.create(org, 'live');
        expect(await apiKeys.authenticate(` ${key}`)).toBeNull();
        expect(await apiKeys.authenticate(`${key}\n`)).toBeNull();
      });
    });

    describe('revoke', () => {
      it('a revoked key no longer authenticates; others still do', async () => {
        const a = await apiKeys.create(org, 'live');
        const b = await apiKeys.create(org, 'live');
        expect(await apiKeys.revoke(a.record.id, '2026-04-04T00:00:00.000Z')).toBe(true);
        expect(await apiKeys.authenticate(a.key)).toBeNull();
        expect(await apiKeys.authenticate(b.key)).not.toBeNull();
        expect((await apiKeys.findById(a.record.id))?.revokedAt).toBe('2026-04-04T00:00:00.000Z');
      });

      it('a key verified before it was revoked here stops at the next call', async () => {
        const { key, record } = await apiKeys.create(org, 'live');
        expect(await apiKeys.authenticate(key)).not.toBeNull();
        expect(await apiKeys.authenticate(key)).not.toBeNull();
        await apiKeys.revoke(record.id);
        expect(await apiKeys.authenticate(key)).toBeNull();
      });

      it('a revocation another connection commits (the CLI, another server) is seen at the next call', async () => {
        const { key, record } = await apiKeys.create(org, 'live');
        const other = await stores.another();
        expect(await apiKeys.authenticate(key)).toMatchObject({ organizationId: org });
        expect(await other.apiKeys.revoke(record.id)).toBe(true);
        expect(await apiKeys.authenticate(key)).toBeNull();
        // And a key another connection creates works at once: only live keys are remembered.
        const fresh = await other.apiKeys.create(org, 'test');
        expect(await apiKeys.authenticate(fresh.key)).toMatchObject({ organizationId: org, keyId: fresh.record.id });
      });

      it('isLive: true for a live key, false once revoked here or by another connection, false for an unknown id', async () => {
        const a = await apiKeys.create(org, 'live');
        const b = await apiKeys.create(org, 'live');
        const other = await stores.another();
        // Asked before and after the key was seen by authenticate.
        expect(await apiKeys.isLive(a.record.id)).toBe(true);
        expect(await apiKeys.authenticate(a.key)).not.toBeNull();
        expect(await apiKeys.isLive(a.record.id)).toBe(true);
        await apiKeys.revoke(a.record.id);
        expect(await apiKeys.isLive(a.record.id)).toBe(false);
        expect(await apiKeys.authenticate(b.key)).not.toBeNull();
        expect(await other.apiKeys.revoke(b.record.id)).toBe(true);
        expect(await apiKeys.isLive(b.record.id)).toBe(false);
        expect(await apiKeys.isLive('key_nosuchkeyxxx')).toBe(false);
      });

      it('revoking twice or an unknown id returns false and keeps the first revocation time', async () => {
        const { record } = await apiKeys.create(org, 'live');
        expect(await apiKeys.revoke(record.id, '2026-04-04T00:00:00.000Z')).toBe(true);
        expect(await apiKeys.revoke(record.id, '2026-05-05T00:00:00.000Z')).toBe(false);
        expect((await apiKeys.findById(record.id))?.revokedAt).toBe('2026-04-04T00:00:00.000Z');
        expect(await apiKeys.revoke('key_nosuchkeyxxx')).toBe(false);
      });
    });

    describe('lookups', () => {
      it('findByKey and findById return the record without the key', async () => {
        const { key, record } = await apiKeys.create(org, 'test', { at: '2026-01-01T00:00:00.000Z' });
        expect(await apiKeys.findByKey(key)).toEqual(record);
        expect(await apiKeys.findById(record.id)).toEqual(record);
        expect(JSON.stringify(record)).not.toContain(key.slice(12));
        expect(await apiKeys.findByKey(`rk_test_${'Z'.repeat(32)}`)).toBeNull();
        expect(await apiKeys.findById('key_nosuchkeyxxx')).toBeNull();
      });

      it('listForOrganization lists only that organization, oldest first', async () => {
        const other = (await stores.organizations.create('Other')).id;
        const first = (await apiKeys.create(org, 'live', { at: '2026-01-01T00:00:00.000Z' })).record;
        const second = (await apiKeys.create(org, 'test', { at: '2026-01-02T00:00:00.000Z' })).record;
        await apiKeys.create(other, 'live');
        expect(await apiKeys.listForOrganization(org)).toEqual([first, second]);
      });
    });

    it('isLive answers for the key asked about, whichever other key was verified since', async () => {
      const revoked = await apiKeys.create(org, 'live');
      const live = await apiKeys.create(org, 'live');
      expect(await apiKeys.revoke(revoked.record.id)).toBe(true);
      expect(await apiKeys.authenticate(live.key)).toMatchObject({ keyId: live.record.id });
      expect(await apiKeys.isLive(revoked.record.id)).toBe(false);
      expect(await apiKeys.isLive('key_nosuchkeyxxx')).toBe(false);
      expect(await apiKeys.isLive(live.record.id)).toBe(true);
    });
  });
}
