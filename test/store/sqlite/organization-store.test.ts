import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { cleanupAll, createTestApp } from '../../support/fixtures.js';

let app: App;

beforeEach(() => {
  app = createTestApp();
});

afterEach(() => {
  cleanupAll();
});

describe('SqliteOrganizationStore', () => {
  it('creates an organization with a generated id and finds it', () => {
    const org = app.organizations.create('Acme');
    expect(org.id).toMatch(/^org_[a-z0-9]{12}$/);
    expect(org.name).toBe('Acme');
    expect(Number.isNaN(Date.parse(org.createdAt))).toBe(false);
    expect(app.organizations.findById(org.id)).toEqual(org);
  });

  it('accepts a chosen id and time', () => {
    const org = app.organizations.create('Demo', { id: 'org_demo00000000', at: '2026-01-01T00:00:00.000Z' });
    expect(app.organizations.findById('org_demo00000000')).toEqual({
      id: 'org_demo00000000',
      name: 'Demo',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(org.id).toBe('org_demo00000000');
  });

  it('an unknown id is null', () => {
    expect(app.organizations.findById('org_nosuchorgxxx')).toBeNull();
  });

  it('lists organizations oldest first', () => {
    const b = app.organizations.create('B', { at: '2026-01-02T00:00:00.000Z' });
    const a = app.organizations.create('A', { at: '2026-01-01T00:00:00.000Z' });
    expect(app.organizations.list()).toEqual([a, b]);
  });

  it('refuses a duplicate id, a malformed id and an empty or overlong name', () => {
    app.organizations.create('One', { id: 'org_aaaaaaaaaaaa' });
    expect(() => app.organizations.create('Two', { id: 'org_aaaaaaaaaaaa' })).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => app.organizations.create('Bad', { id: 'org_SHOUTING0000' })).toThrow(/CHECK constraint failed/);
    expect(() => app.organizations.create('Bad', { id: 'acme' })).toThrow(/CHECK constraint failed/);
    expect(() => app.organizations.create('')).toThrow(/CHECK constraint failed/);
    expect(() => app.organizations.create('x'.repeat(201))).toThrow(/CHECK constraint failed/);
    expect(app.organizations.list()).toHaveLength(1);
  });
});
