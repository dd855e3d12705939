/**
 * The store bundle each adapter opens for an app (`openSqliteStores`, `openPostgresStores`): the
 * schema migrated on the first open and left alone on the next, a read-only open that reads but
 * never writes, health, the schema version, and a close that ends every connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreBundle } from '../../../src/domain/ports.js';

export interface BundleTarget {
  /** Opens the adapter's bundle on this target's database, as an app would. */
  open(options?: { readonly?: boolean }): Promise<{ stores: StoreBundle; applied: number[] }>;
  /** Releases the database itself (the bundles opened are closed by the suite). */
  dispose(): Promise<void>;
  /** Runs SQL on this target's database outside any bundle, as another program sharing it would. */
  exec(sql: string): Promise<void>;
}

/** `versions`: the adapter's migration versions, in order. */
export function storeBundleContract(newTarget: () => Promise<BundleTarget>, versions: readonly number[]): void {
  const latestVersion = versions.at(-1) ?? 0;
  const opened: StoreBundle[] = [];
  const targets: BundleTarget[] = [];
  async function target(): Promise<BundleTarget> {
    const made = await newTarget();
    targets.push(made);
    return made;
  }
  async function open(on: BundleTarget, options?: { readonly?: boolean }): Promise<{ stores: StoreBundle; applied: number[] }> {
    const result = await on.open(options);
    opened.push(result.stores);
    return result;
  }
  afterEach(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    for (const made of targets.splice(0)) await made.dispose();
  });

  describe('the store bundle', () => {
    it('migrates a new database on its first open, and applies nothing on the next', async () => {
      const on = await target();
      const first = await open(on);
      expect(first.applied).toEqual(versions);
      expect(await first.stores.schemaVersion()).toBe(latestVersion);
      const second = await open(on);
      expect(second.applied).toEqual([]);
      expect(await second.stores.schemaVersion()).toBe(latestVersion);
    });

    it('is healthy while open; once closed, health fails, and closing again is harmless', async () => {
      const { stores } = await open(await target());
      await expect(stores.health()).resolves.toBeUndefined();
      await stores.close();
      await expect(stores.health()).rejects.toThrow();
      await expect(stores.close()).resolves.toBeUndefined();
    });

    it('a read-only open migrates, reads what others wrote, and refuses to write', async () => {
      const on = await target();
      const { stores: writer } = await open(on);
      const organization = await writer.organizations.create('Read me');
      const { stores: reader, applied } = await open(on, { readonly: true });
      expect(applied).toEqual([]);
      expect(await reader.organizations.findById(organization.id)).toEqual(organization);
      await expect(reader.organizations.create('Not me')).rejects.toThrow(/readonly|read-only/i);
      expect((await writer.organizations.list()).map((o) => o.name)).toEqual(['Read me']);
    });

    it('a read-only open of a new database still brings the schema to this build', async () => {
      const { stores, applied } = await open(await target(), { readonly: true });
      expect(applied).toEqual(versions);
      expect(await stores.schemaVersion()).toBe(latestVersion);
      await expect(stores.organizations.create('Not me')).rejects.toThrow(/readonly|read-only/i);
    });

    it('an open whose migration fails (a table of that name is already there) rejects with the reason', async () => {
      const on = await target();
      await on.exec('CREATE TABLE refunds (note text)');
      await expect(open(on)).rejects.toThrow(/"?refunds"? already exists/);
    });
  });
}
